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
regex runs only when one of its literals is there. Most ordinary news contains none, so it
costs a few substring searches, not a sweep of large case-insensitive alternations; the regexes
still decide, so the answer is the same as without the screen. A term without such a literal
(shorter than ``MIN_LITERAL``) makes its family always run its regex.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from functools import lru_cache
from typing import Iterable, Optional

try:  # the regex parser of the standard library (re._parser since 3.11)
    from re import _parser as _sre_parse
except ImportError:  # pragma: no cover
    import sre_parse as _sre_parse  # type: ignore[no-redef]

from .resources import LANGUAGES, alternation, cues, has_file, load_json

SHORT_TEXT = 1200  # characters
WINDOW = 250  # characters between a mishap word and a records word
MIN_LITERAL = 3  # a literal shorter than this screens out too little: the family's regex always runs

# characters that re.IGNORECASE matches with an ASCII letter but str.lower() does not turn into it
_CASE_EXTRAS = {"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k", "\u212b": "\u00e5"}
_EXTRAS_RX = re.compile("[" + "".join(_CASE_EXTRAS) + "]")


def screen_text(text: str) -> str:
    """The text the literal screen searches: lowercased, IGNORECASE's extra equivalences folded."""
    if _EXTRAS_RX.search(text) is not None:
        text = _EXTRAS_RX.sub(lambda m: _CASE_EXTRAS[m.group(0)], text)
    return text.lower()


def _best(options: list) -> frozenset:
    """Among sets of literals (each set: one of them is in every match), the one whose shortest is longest."""
    return max(options, key=lambda o: (min(map(len, o)), -len(o)), default=frozenset({""}))


def _needed(items) -> frozenset:
    """Literals of which every match of the parsed sequence `items` contains at least one."""
    options: list = []
    run = ""
    for op, av in items:
        if op is _sre_parse.LITERAL:
            run += chr(av)
            continue
        if run:
            options.append(frozenset({run}))
            run = ""
        if op is _sre_parse.SUBPATTERN:
            options.append(_needed(av[-1]))
        elif op is _sre_parse.BRANCH:
            alternatives = [_needed(alt) for alt in av[1]]
            options.append(frozenset().union(*alternatives))
        elif op in (_sre_parse.MAX_REPEAT, _sre_parse.MIN_REPEAT) and av[0] >= 1:
            options.append(_needed(av[2]))
    if run:
        options.append(frozenset({run}))
    return _best(options)


def literal_core(fragment: str) -> frozenset:
    """Literals, lowercased, of which every match of the regex `fragment` contains one: the longest runs of
    literal characters, one per alternative where the fragment branches ({""} when it has none)."""
    return frozenset(screen_text(c) for c in _needed(_sre_parse.parse(fragment, re.IGNORECASE)))


class Screen:
    """The literals of a family of terms: `may_match(screened text)` is False only when no term can match."""

    def __init__(self, terms: Iterable[str]):
        import ahocorasick

        cores = set().union(*(literal_core(t) for t in terms))
        self.always = any(len(c) < MIN_LITERAL for c in cores)
        self.cores = tuple(sorted(cores, key=lambda c: (-len(c), c)))
        self._automaton = ahocorasick.Automaton()
        for core in self.cores:
            self._automaton.add_word(core, core)
        if self.cores:
            self._automaton.make_automaton()

    def may_match(self, low: str) -> bool:
        if self.always:
            return True
        if not self.cores:
            return False
        for _ in self._automaton.iter(low):
            return True
        return False


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
