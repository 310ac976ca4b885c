"""A cheap bilingual prefilter: a text with no breach vocabulary at all is not an incident.

It runs before the spaCy pipeline, so ordinary news (most of a feed) costs a regex
search instead of NER. Its vocabulary is the union of both languages' breach terms
(``resources/<lang>/cues.json``), so a mislabelled or mixed-language text still passes.
"""

from __future__ import annotations

from functools import lru_cache

from .resources import LANGUAGES, alternation, cues


@lru_cache(maxsize=None)
def _vocabulary():
    terms: list[str] = []
    for lang in LANGUAGES:
        terms += cues(lang)["breach_terms"] + cues(lang)["strong_breach_terms"]
    return alternation(tuple(terms))


SHORT_TEXT = 1200  # characters


@lru_cache(maxsize=None)
def _strong():
    terms: list[str] = []
    for lang in LANGUAGES:
        terms += cues(lang)["strong_breach_terms"]
    return alternation(tuple(terms))


def passes(text: str, language: str | None = None) -> bool:
    """True when the text may report a breach and deserves the full pipeline: one strong term
    ("fuite de données", "data breach", "cyberattaque"...) or at least two weaker ones."""
    if _strong().search(text) is not None:
        return True
    found = _vocabulary().finditer(text)
    if next(found, None) is None:
        return False
    # a short text (a lead, a brief) with one breach word is cheap to look at; a long article with
    # a single weak word ("leaked draft", "attaque" in sports) is ordinary news
    return len(text) < SHORT_TEXT or next(found, None) is not None
