"""A cheap bilingual prefilter: a text with no breach vocabulary at all is not an incident.

It runs before the spaCy pipeline, so ordinary news (most of a feed) costs a regex
search instead of NER. Its vocabulary is the union of both languages' breach terms
(``resources/<lang>/cues.json``), so a mislabelled or mixed-language text still passes.

Incidents that are not attacks (a lost USB key, a stolen laptop, files in a trash can,
statements on a sidewalk, a letter sent to the wrong address, staff snooping in records)
rarely use that vocabulary; they pass when a mishap word (``resources/<lang>/prefilter.json``,
"mishap") stands within ``WINDOW`` characters of a word for what holds personal data
("records": medical files, a laptop, backup tapes, bank statements...).

Literal screen first: each term's longest run of literal characters that every match must contain
(``fuite`` for ``fuites? de (?:données|...)``; one per alternative where a term branches) is looked
for in the lowercased text by one Aho-Corasick automaton per family (pyahocorasick), and a family's
regex runs only when one of its literals is there (``extractor/cue_index.py``). Most ordinary news
contains none, so it costs one automaton pass, not a sweep of large case-insensitive alternations;
the regexes still decide, so the answer is the same as without the screen.
"""

from __future__ import annotations

from bisect import bisect_right
from functools import lru_cache
from typing import Iterable, Optional

from .cue_index import Screen, screen_text

from .resources import LANGUAGES, alternation, cues, has_file, load_json

SHORT_TEXT = 1200  # characters
WINDOW = 250  # characters between a mishap word and a records word

def _terms(*families: str) -> tuple:
    return tuple(t for lang in LANGUAGES for name in families for t in cues(lang)[name])


@lru_cache(maxsize=None)
def _vocabulary():
    return alternation(_terms("breach_terms", "strong_breach_terms"))


@lru_cache(maxsize=None)
def _strong():
    return alternation(_terms("strong_breach_terms"))


@lru_cache(maxsize=None)
def _vocabulary_screen() -> Screen:
    return Screen(_terms("breach_terms", "strong_breach_terms"))


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
    return alternation(tuple(mishap)), alternation(tuple(records)), Screen(mishap), Screen(records)


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


def mishaps(text: str, languages: Optional[Iterable[str]] = None, limit: int = 0, low: Optional[str] = None) -> int:
    """How many mishap words (loss, theft, disposal, misdirection, snooping) stand within WINDOW
    characters of a records word; counting stops at `limit` when it is positive. `low`: the text's
    screen_text when the caller has it already."""
    regexes = _mishap_regexes(tuple(languages) if languages is not None else LANGUAGES)
    if regexes is None:
        return 0
    mishap, records, mishap_screen, records_screen = regexes
    low = screen_text(text) if low is None else low
    if not (records_screen.may_match(low) and mishap_screen.may_match(low)):
        return 0
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
    low = screen_text(text)
    if _vocabulary_screen().may_match(low):  # the strong terms are among the vocabulary's
        if _strong().search(text) is not None:
            return True
        found = _vocabulary().finditer(text)
        first = next(found, None)
        # a short text (a lead, a brief) with one breach word is cheap to look at; a long article with
        # a single weak word ("leaked draft", "attaque" in sports) is ordinary news
        if first is not None and (len(text) < SHORT_TEXT or next(found, None) is not None):
            return True
    return mishaps(text, limit=1, low=low) > 0
