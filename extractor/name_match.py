"""The scorer's organization-name matching: two names of one organization after folding (case, accents, articles, punctuation).

``names_match`` / ``fold_name`` are the rules ``incidents eval`` scores organizations by, reusable elsewhere
(the golden cases, the demo's expected values).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Iterable, Optional, Sequence

from .record import Record


#: Words dropped when folding a name: articles and the little words around them, French and English.
NAME_STOPWORDS = frozenset(
    "le la les l un une des du de d au aux et the a an of and".split()
)
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "`": "'", "´": "'", "′": "'", "＇": "'"})
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss"})
_ELISION = re.compile(r"\b([ld])'", re.IGNORECASE)          # l'Ungava, d'Air Canada
_POSSESSIVE = re.compile(r"'s\b", re.IGNORECASE)             # Montreal's
_DOTTED = re.compile(r"(?<=\w)\.(?=\w)")                     # U.S. -> US., S.A.Q. -> SAQ.
_NON_WORD = re.compile(r"[\W_]+")


def fold_words(name: Optional[str]) -> tuple[str, ...]:
    """The words of a name after folding case, accents, punctuation and articles.

    ``"Centre de santé Tulattavik de l’Ungava"`` -> ``("centre", "sante", "tulattavik", "ungava")``.
    """
    if not name:
        return ()
    s = name.translate(_APOSTROPHES).translate(_LIGATURES)
    s = unicodedata.normalize("NFKD", s)
    s = "".join(c for c in s if not unicodedata.combining(c)).lower()
    s = _ELISION.sub(r"\1 ", s)
    s = _POSSESSIVE.sub("", s)
    s = _DOTTED.sub("", s)
    s = _NON_WORD.sub(" ", s)
    return tuple(w for w in s.split() if w not in NAME_STOPWORDS)


def fold_name(name: Optional[str]) -> str:
    """`fold_words` joined by spaces: the comparable form of a name."""
    return " ".join(fold_words(name))


def _contains(longer: Sequence[str], shorter: Sequence[str]) -> bool:
    n = len(shorter)
    return any(tuple(longer[i:i + n]) == tuple(shorter) for i in range(len(longer) - n + 1))


def names_match(a: Optional[str], b: Optional[str]) -> bool:
    """Two names of one organization: equal after folding, or one contains the other's words
    (as a run of whole words) and the shorter has at least half the words of the longer.

    ``"Mouvement Desjardins"`` ~ ``"Desjardins"`` (1 of 2 words); ``"Fédération des caisses
    Desjardins du Québec"`` !~ ``"Desjardins"`` (1 of 4).
    """
    wa, wb = fold_words(a), fold_words(b)
    if not wa or not wb:
        return False
    if wa == wb:
        return True
    short, long_ = (wa, wb) if len(wa) <= len(wb) else (wb, wa)
    return 2 * len(short) >= len(long_) and _contains(long_, short)


def any_name_matches(candidates: Iterable[Optional[str]], targets: Iterable[Optional[str]]) -> bool:
    targets = [t for t in targets if t]
    return any(names_match(c, t) for c in candidates if c for t in targets)


def record_names(record: Record) -> list[str]:
    """The names a record gives its organization: name, acronym, aliases."""
    org = record.organization
    if org is None:
        return []
    return [n for n in [org.name, org.acronym, *org.aliases] if n]
