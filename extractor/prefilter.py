"""A cheap bilingual prefilter: a text with no breach vocabulary at all is not an incident.

It runs before the spaCy pipeline, so ordinary news (most of a feed) costs a regex
search instead of NER. Its vocabulary is the union of both languages' breach terms
(``resources/<lang>/cues.json``), so a mislabelled or mixed-language text still passes.

Incidents that are not attacks (a lost USB key, a stolen laptop, files in a trash can,
statements on a sidewalk, a letter sent to the wrong address, staff snooping in records)
rarely use that vocabulary; they pass when a mishap word (``resources/<lang>/prefilter.json``,
"mishap") stands within ``WINDOW`` characters of a word for what holds personal data
("records": medical files, a laptop, backup tapes, bank statements...).
"""

from __future__ import annotations

from bisect import bisect_right
from functools import lru_cache
from typing import Iterable, Optional

from .resources import LANGUAGES, alternation, cues, has_file, load_json

SHORT_TEXT = 1200  # characters
WINDOW = 250  # characters between a mishap word and a records word


@lru_cache(maxsize=None)
def _vocabulary():
    terms: list[str] = []
    for lang in LANGUAGES:
        terms += cues(lang)["breach_terms"] + cues(lang)["strong_breach_terms"]
    return alternation(tuple(terms))


@lru_cache(maxsize=None)
def _strong():
    terms: list[str] = []
    for lang in LANGUAGES:
        terms += cues(lang)["strong_breach_terms"]
    return alternation(tuple(terms))


def _family(lang: str, name: str) -> list[str]:
    if not has_file(lang, "prefilter.json"):
        return []
    return list(load_json(lang, "prefilter.json").get(name, []))


@lru_cache(maxsize=None)
def _mishap_regexes(languages: tuple):
    mishap = [t for lang in languages for t in _family(lang, "mishap")]
    records = [t for lang in languages for t in _family(lang, "records")]
    if not mishap or not records:
        return None
    return alternation(tuple(mishap)), alternation(tuple(records))


class SpanIndex:
    """Character spans, sorted, to ask in logarithmic time whether a span lies near (or inside) one."""

    def __init__(self, spans):
        spans = sorted(spans)
        self.starts = [s for s, _ in spans]
        self.reach = []  # the furthest end among the spans up to each index (spans may overlap)
        furthest = -1
        for _, e in spans:
            furthest = max(furthest, e)
            self.reach.append(furthest)
        self.ends = [e for _, e in spans]

    def __bool__(self) -> bool:
        return bool(self.starts)

    def near(self, start: int, end: int, window: int) -> bool:
        """Some span starts before end + window and ends after start - window."""
        i = bisect_right(self.starts, end + window) - 1
        return i >= 0 and self.reach[i] >= start - window

    def inside(self, start: int, end: int) -> bool:
        """[start, end) lies within one span (spans that do not overlap, as NER entities)."""
        i = bisect_right(self.starts, start) - 1
        return i >= 0 and self.ends[i] >= end


def mishaps(text: str, languages: Optional[Iterable[str]] = None, limit: int = 0) -> int:
    """How many mishap words (loss, theft, disposal, misdirection, snooping) stand within WINDOW
    characters of a records word; counting stops at `limit` when it is positive."""
    regexes = _mishap_regexes(tuple(languages) if languages is not None else LANGUAGES)
    if regexes is None:
        return 0
    mishap, records = regexes
    spans = SpanIndex((m.start(), m.end()) for m in records.finditer(text))
    if not spans:
        return 0
    n = 0
    for m in mishap.finditer(text):
        if spans.near(m.start(), m.end(), WINDOW):
            n += 1
            if limit and n >= limit:
                break
    return n


def passes(text: str, language: str | None = None) -> bool:
    """True when the text may report a breach and deserves the full pipeline: one strong term
    ("fuite de données", "data breach", "cyberattaque"...), at least two weaker ones, or a mishap
    beside personal records ("une clé USB perdue", "files found in a dumpster")."""
    if _strong().search(text) is not None:
        return True
    found = _vocabulary().finditer(text)
    first = next(found, None)
    # a short text (a lead, a brief) with one breach word is cheap to look at; a long article with
    # a single weak word ("leaked draft", "attaque" in sports) is ordinary news
    if first is not None and (len(text) < SHORT_TEXT or next(found, None) is not None):
        return True
    return mishaps(text, limit=1) > 0
