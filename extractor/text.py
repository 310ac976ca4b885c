"""Small text helpers shared by the components: folding, clauses, windows."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"[\s\u00a0\u202f\u2009\u2007]+")
_ARTICLES = {"le", "la", "les", "l", "the", "du", "de", "des", "d", "of", "a", "an", "un", "une"}
_LEGAL = {"inc", "ltd", "ltee", "limitee", "limited", "corp", "corporation", "co", "llc", "lp", "ulc", "plc", "senc", "sa"}


def strip_accents(s: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))


def fold(s: str, *, drop_articles: bool = True, drop_legal: bool = False) -> str:
    """Case, accents, punctuation and (optionally) articles and legal suffixes folded away."""
    s = strip_accents(s).lower().replace("’", "'")
    s = re.sub(r"[^\w\s]", " ", s)
    words = s.split()
    if drop_articles:
        words = [w for w in words if w not in _ARTICLES]
    if drop_legal:
        words = [w for w in words if w not in _LEGAL]
    return " ".join(words)


def squeeze(s: str) -> str:
    return _SPACES.sub(" ", s).strip()
