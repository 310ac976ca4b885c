"""Literal screening of rule regexes: one automaton pass tells which regexes of a family can match a text.

Every match of a regex contains at least one of a few literals (``literal_core``: the longest run of
literal characters, one per alternative where the regex branches). An Aho-Corasick automaton
(pyahocorasick) over the literals of a family finds, in one pass over the lowercased text, which
literals occur; only the regexes with one of them present run, and they still decide, so matches
are exactly those of running every regex. A regex without a literal of ``MIN_LITERAL`` characters
always runs.

- ``Screen(terms)``: may any term of a family match? (the prefilter)
- ``CueIndex(keyed regexes)``: which keys' regexes may match? (a component with one regex per row:
  data types; agencies can build one over its gazetteer and cue families the same way)
- ``WindowScreen(keyed regexes)``: may a key's regex match inside a window ``[lo, hi)`` of the text?
  (regexes searched around every candidate: the organization and count features)
- ``doc_low(doc, text)``: the screened text of a spaCy ``Doc``, computed once per document and shared by
  the components that ask for it.

One pass per text for all of them: every index registers its literals in one automaton of the process
(``_SHARED``); the first index that reads a screened text walks it once, and every other index of every
component reads where its own literals occur from that pass (``shared_hits``) instead of walking the text
with an automaton of its own. Which literals occur where is the same either way, so are the answers.
"""

from __future__ import annotations

import re
import threading
from bisect import bisect_right
from typing import Hashable, Iterable

try:  # the regex parser of the standard library (re._parser since 3.11)
    from re import _parser as _sre_parse
except ImportError:  # pragma: no cover
    import sre_parse as _sre_parse  # type: ignore[no-redef]

MIN_LITERAL = 3  # a literal shorter than this screens out too little: its regex always runs

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


def literal_core(fragment: str, flags: int = re.IGNORECASE) -> frozenset:
    """Literals, lowercased, of which every match of the regex `fragment` contains one: the longest runs of
    literal characters, one per alternative where the fragment branches ({""} when it has none)."""
    return frozenset(screen_text(c) for c in _needed(_sre_parse.parse(fragment, flags)))


class Screen:
    """The literals of a family of terms: `may_match(screened text)` is False only when no term can match."""

    def __init__(self, terms: Iterable[str]):
        cores = set().union(*(literal_core(t) for t in terms))
        self.always = any(len(c) < MIN_LITERAL for c in cores)
        self.cores = tuple(sorted(cores, key=lambda c: (-len(c), c)))
        self._automaton = _automaton(self.cores)
        if not self.always:
            _SHARED.register(self.cores)

    def may_match(self, low: str) -> bool:
        if self.always:
            return True
        if not self.cores:
            return False
        hits = _SHARED.cached(low)  # the text walked already by the shared pass: read it
        if hits is not None:
            return any(c in hits for c in self.cores)
        for _ in self._automaton.iter(low):
            return True
        return False


def _automaton(words: Iterable[str]):
    import ahocorasick

    auto = ahocorasick.Automaton()
    for word in sorted(set(words)):
        auto.add_word(word, word)
    if len(auto):
        auto.make_automaton()
    return auto


class _SharedPass:
    """The literals of every index of this process in one automaton. `hits(low)`: {literal: the ends of its
    occurrences in `low`, ascending}, walked once for the last text asked (the same ``str`` object: the
    components share one screened text per document through ``doc_low``) and read by every index."""

    def __init__(self):
        self._words: set = set()
        self._auto = None
        self._last = None  # (low, automaton, hits) of the last text walked
        self._lock = threading.Lock()

    def register(self, words: Iterable[str]) -> None:
        with self._lock:
            new = {w for w in words if w} - self._words
            if new:
                self._words |= new
                self._auto = None  # rebuilt, with the new literals, on the next pass

    def _automaton(self):
        auto = self._auto
        if auto is None:
            with self._lock:
                if self._auto is None:
                    self._auto = _automaton(self._words)
                auto = self._auto
        return auto

    def cached(self, low: str):
        """The hits of `low` when it was walked already (None otherwise: nothing is walked)."""
        kept = getattr(low, "walked", None)  # a document's screened text (doc_low) keeps its own
        if kept is not None and kept[0] is self._auto:
            return kept[1]
        last = self._last
        if last is not None and last[0] is low and last[1] is self._auto:
            return last[2]
        return None

    def hits(self, low: str) -> dict:
        found = self.cached(low)
        if found is not None:
            return found
        auto = self._automaton()
        found: dict = {}
        if len(auto):
            get = found.get
            for end, lit in auto.iter(low):
                ends = get(lit)
                if ends is None:
                    found[lit] = [end]
                else:
                    ends.append(end)
        if isinstance(low, _Screened):
            low.walked = (auto, found)
        else:
            self._last = (low, auto, found)
        return found


_SHARED = _SharedPass()


def shared_hits(low: str) -> dict:
    """{literal: ends of its occurrences} in the screened text `low`, for every literal an index registered."""
    return _SHARED.hits(low)


def _present(hits: dict, mine) -> list:
    """(literal, ends) of the literals of `mine` (a dict or set) that occur in `hits`."""
    if len(mine) < len(hits):
        return [(lit, hits[lit]) for lit in mine if lit in hits]
    return [(lit, ends) for lit, ends in hits.items() if lit in mine]


def _keys_by_literal(regexes: Iterable[tuple[Hashable, str, int]]) -> tuple[set, dict[str, list]]:
    """The keys whose regex has no literal of MIN_LITERAL characters (always run), and each literal's keys."""
    always: set = set()
    keys_of: dict[str, list] = {}
    for key, pattern, flags in regexes:
        cores = literal_core(pattern, flags)
        if any(len(c) < MIN_LITERAL for c in cores):
            always.add(key)
            continue
        for core in cores:
            keys_of.setdefault(core, []).append(key)
    return always, keys_of


class CueIndex:
    """Keyed regexes (key, pattern, flags): `candidates(low)` is the set of keys whose regex may match."""

    def __init__(self, regexes: Iterable[tuple[Hashable, str, int]]):
        self.always, self.keys_of = _keys_by_literal(regexes)
        _SHARED.register(self.keys_of)

    def candidates(self, low: str) -> set:
        found = set(self.always)
        if self.keys_of:
            for core, _ in _present(_SHARED.hits(low), self.keys_of):
                found.update(self.keys_of[core])
        return found


class _Screened(str):
    """A document's screened text, which keeps the shared pass over it (``walked``: (automaton, hits))."""

    walked = None


def doc_low(doc, text: str) -> str:
    """screen_text of `text`, the document's text, once per spaCy Doc (kept in its user_data), with the
    shared pass over it once walked."""
    low = doc.user_data.get("cue_index.low")
    if low is None:
        low = doc.user_data["cue_index.low"] = _Screened(screen_text(text))
    return low


def split_alternatives(body: str) -> list[str]:
    """The top-level alternatives of a regex `body` ("a|(?:b|c)|[|]" -> ["a", "(?:b|c)", "[|]"])."""
    out, depth, start, i, n = [], 0, 0, 0, len(body)
    while i < n:
        ch = body[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "[":  # a character class: "]" right after "[" or "[^" is a member, escapes skip
            i += 1
            if i < n and body[i] == "^":
                i += 1
            if i < n and body[i] == "]":
                i += 1
            while i < n and body[i] != "]":
                i += 2 if body[i] == "\\" else 1
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            out.append(body[start:i])
            start = i + 1
        i += 1
    out.append(body[start:])
    return out


def literal_prefix(fragment: str, flags: int = re.IGNORECASE) -> str:
    """The run of literal characters every match of the regex `fragment` starts with, lowercased ("" when
    it starts otherwise: a class, a branch, a repeat, an assertion)."""

    def walk(items) -> tuple[str, bool]:
        out = ""
        for op, av in items:
            if op is _sre_parse.LITERAL:
                out += chr(av)
            elif op is _sre_parse.SUBPATTERN:
                inner, whole = walk(av[-1])
                out += inner
                if not whole:
                    return out, False
            else:
                return out, False
        return out, True

    return screen_text(walk(_sre_parse.parse(fragment, flags))[0])


class AlternationIndex:
    """A compiled ``head(?:alt0|alt1|...)tail`` regex whose `finditer(text, low)` gives exactly the
    matches of the whole regex, with their groups, trying only the alternatives that can match.

    The whole regex, at each position, takes the first alternative (followed by `tail`) that matches
    there, then goes on after the match. Here every alternative is its own regex
    ``head(?:alt)tail``: one whose every match starts with one of its ``literal_starts`` (``MIN_LITERAL``
    characters or more) is tried only where the shared pass over `low` finds one of them; another runs
    (searched at every position) only when one of its ``literal_core`` literals occurs, or always when
    it has none. At
    each start the first alternative that matches wins, and the starts are walked as the whole regex
    walks them. An alternative that cannot match at a position changes no attempt there, so the matches
    are the same."""

    def __init__(self, rx: re.Pattern, head: str, tail: str):
        p = rx.pattern
        if not (p.startswith(head + "(?:") and p.endswith(")" + tail)):
            raise ValueError("not a head(?:...)tail alternation")
        body = p[len(head) + 3: len(p) - len(tail) - 1]
        self.alts = split_alternatives(body)
        if "|".join(self.alts) != body:  # pragma: no cover - split_alternatives keeps every character
            raise ValueError("alternatives do not rebuild the pattern")
        self.rx, self.head, self.tail, self.flags = rx, head, tail, rx.flags
        self.anchored: dict[str, list[int]] = {}  # literal prefix -> the alternatives that start with it
        self.screened: dict[str, list[int]] = {}  # literal -> the alternatives searched when it occurs
        self.always: list[int] = []
        for k, alt in enumerate(self.alts):
            starts = literal_starts(alt, rx.flags, classes=True)  # the literals its matches start with
            if starts is not None:
                for start in sorted(starts):
                    self.anchored.setdefault(start, []).append(k)
                continue
            cores = literal_core(alt, rx.flags)
            if any(len(c) < MIN_LITERAL for c in cores):
                self.always.append(k)
            else:
                for core in cores:
                    self.screened.setdefault(core, []).append(k)
        self._lits = set(self.anchored) | set(self.screened)
        _SHARED.register(self._lits)
        self._one: dict[int, re.Pattern] = {}

    def one(self, k: int) -> re.Pattern:
        """Alternative `k` as a regex of its own (compiled on first use)."""
        rx = self._one.get(k)
        if rx is None:
            rx = self._one[k] = re.compile(self.head + "(?:" + self.alts[k] + ")" + self.tail, self.flags)
        return rx

    def finditer(self, text: str, low: str) -> list:
        """The matches of the whole regex in `text` (`low`: its ``screen_text``), in order."""
        at: dict[int, tuple[int, re.Match]] = {}  # start -> (first alternative matching there, its match)
        searched = set(self.always)
        if self._lits:
            # which alternative wins at a start does not depend on the order the starts are met in: the
            # lowest that matches there
            anchored, screened, one = self.anchored, self.screened, self._one
            for lit, ends in _present(_SHARED.hits(low), self._lits):
                ks = anchored.get(lit)
                if ks:
                    back = len(lit) - 1
                    for end in ends:
                        start = end - back
                        for k in ks:
                            if start in at and at[start][0] < k:
                                break
                            rx = one.get(k) or self.one(k)
                            m = rx.match(text, start)
                            if m is not None:
                                at[start] = (k, m)
                                break
                more = screened.get(lit)
                if more:
                    searched.update(more)
        for k in searched:
            rx, pos = self.one(k), 0
            while True:
                m = rx.search(text, pos)
                if m is None:
                    break
                start = m.start()
                if start not in at or k < at[start][0]:
                    at[start] = (k, m)
                pos = start + 1
        out, pos = [], 0
        for start in sorted(at):
            if start >= pos:
                m = at[start][1]
                out.append(m)
                pos = m.end()
        return out


class WindowScreen:
    """Keyed regexes that a component searches in many short windows of one text (the words right before
    a mention, one sentence). `spots(low)` reads the screened text once (one automaton pass over every
    key's literals); its `may(key, lo, hi)` is False only when no literal of the key's regex lies whole
    inside ``low[lo:hi]``, so that a search of that regex confined to the window cannot match there. A
    regex without a literal of ``MIN_LITERAL`` characters always may; a key not registered always may."""

    def __init__(self, regexes: Iterable[tuple[Hashable, str, int]]):
        self.always, self.keys_of = _keys_by_literal(regexes)
        self.keys = self.always | {k for ks in self.keys_of.values() for k in ks}
        _SHARED.register(self.keys_of)

    def spots(self, low: str) -> "Spots":
        found: dict = {}
        if self.keys_of:
            for core, ends in _present(_SHARED.hits(low), self.keys_of):
                n = len(core)
                places = [(last + 1, last + 1 - n) for last in ends]
                for key in self.keys_of[core]:
                    found.setdefault(key, []).extend(places)
        return Spots(self, found)


class Spots:
    """Where the literals of a WindowScreen's keys occur in one text (see `WindowScreen.spots`)."""

    def __init__(self, screen: WindowScreen, found: dict):
        self.screen = screen
        self.ends: dict = {}     # key -> the ends of its literals' occurrences, ascending
        self.latest: dict = {}   # key -> for each of those, the latest start among the occurrences ending there or before
        for key, spots in found.items():
            spots.sort()
            latest, best = [], -1
            for _, start in spots:
                best = max(best, start)
                latest.append(best)
            self.ends[key] = [end for end, _ in spots]
            self.latest[key] = latest

    def may(self, key: Hashable, lo: int, hi: int) -> bool:
        """May key's regex match inside text[lo:hi] (one of its literals lies whole there)?"""
        ends = self.ends.get(key)
        if ends is None:
            return key in self.screen.always or key not in self.screen.keys
        i = bisect_right(ends, hi)
        return i > 0 and self.latest[key][i - 1] >= max(lo, 0)


_STARTS_OPEN_LIMIT = 64  # open paths beyond this are cut where they are (a shorter start is still a start)
_STARTS_CLASS_LIMIT = 4  # a class of at most this many single characters is followed through, each as a start


def _starts(items, open_: set, classes: bool = False) -> tuple[set, set]:
    """The literal starts of the parsed sequence `items` after each of the strings `open_`: (the strings
    still growing at its end, the strings cut inside it). Every match starts with one of them. With
    `classes`, a class of at most _STARTS_CLASS_LIMIT single characters goes on as one start each."""
    closed: set = set()
    for op, av in items:
        if not open_:
            break
        if op is _sre_parse.LITERAL:
            open_ = {s + chr(av) for s in open_}
        elif op in (_sre_parse.AT, _sre_parse.ASSERT, _sre_parse.ASSERT_NOT):
            continue  # zero-width: the next character is still the next one of the match
        elif (classes and op is _sre_parse.IN and 0 < len(av) <= _STARTS_CLASS_LIMIT and all(o is _sre_parse.LITERAL for o, _ in av)):
            open_ = {s + chr(c) for s in open_ for _, c in av}  # a class of a few characters: one start each ([Ss], ['’])
        elif op is _sre_parse.SUBPATTERN:
            open_, cut = _starts(av[-1], open_, classes)
            closed |= cut
        elif op is _sre_parse.BRANCH:
            grown: set = set()
            for alt in av[1]:
                o, cut = _starts(alt, open_, classes)
                grown |= o
                closed |= cut
            open_ = grown
        elif op in (_sre_parse.MAX_REPEAT, _sre_parse.MIN_REPEAT):
            lo, hi, sub = av
            once, cut = _starts(sub, open_, classes)
            closed |= cut
            if hi == 1:  # x? or x{1}: skipped (when it may be) or once, then the sequence goes on
                open_ = once | (open_ if lo == 0 else set())
            else:  # a repeat: what follows its first pass is not known, the paths through it stop there
                closed |= once
                open_ = open_ if lo == 0 else set()
        else:  # a class, a backreference, any character...: the literal start ends here
            closed |= open_
            open_ = set()
        if len(open_) > _STARTS_OPEN_LIMIT:
            closed |= open_
            open_ = set()
    return open_, closed


def literal_starts(fragment: str, flags: int = re.IGNORECASE, classes: bool = False):
    """Literals, lowercased, of which every match of the regex `fragment` starts with one (zero-width
    assertions are looked through, optional parts give one start each way; none is the prefix of
    another), or None when some match may start with fewer than ``MIN_LITERAL`` literal characters.
    With `classes`, a small class of single characters gives one start each (``[Ss]ûreté``: "sûreté")."""
    open_, closed = _starts(_sre_parse.parse(fragment, flags), {""}, classes)
    starts = {screen_text(s) for s in open_ | closed}
    if not starts or any(len(s) < MIN_LITERAL for s in starts):
        return None
    out: list[str] = []
    for s in sorted(starts, key=len):
        if not any(s.startswith(p) for p in out):
            out.append(s)
    return frozenset(out)


class StartIndex:
    """Keyed compiled regexes searched over one whole text: `finditer(text, low)` gives, for each key
    whose regex matches, exactly the list of ``rx.finditer(text)``'s matches.

    A regex whose every match starts with one of its ``literal_starts`` is tried (``rx.match``) only
    where one automaton pass over `low` finds one of them, walked as finditer walks (the next try at or
    after the end of the last match); another runs whole when one of its ``literal_core`` literals
    occurs, or always when it has none. No match of a regex is ever empty where it starts with a
    literal, so finditer's rule for empty matches does not arise on the tried starts."""

    def __init__(self, regexes: Iterable[tuple[Hashable, re.Pattern]]):
        self.rx: dict = {}
        self.anchored: dict[str, list] = {}  # literal start -> the keys whose matches may start with it
        self.screened: dict[str, list] = {}  # literal -> the keys searched whole when it occurs
        self.always: list = []
        for key, rx in regexes:
            self.rx[key] = rx
            starts = literal_starts(rx.pattern, rx.flags)
            if starts is not None:
                for s in starts:
                    self.anchored.setdefault(s, []).append(key)
                continue
            cores = literal_core(rx.pattern, rx.flags)
            if any(len(c) < MIN_LITERAL for c in cores):
                self.always.append(key)
            else:
                for core in cores:
                    self.screened.setdefault(core, []).append(key)
        self._lits = set(self.anchored) | set(self.screened)
        _SHARED.register(self._lits)

    def finditer(self, text: str, low: str) -> dict:
        """{key: its regex's matches in `text`, in order} for the keys with a match (`low`: ``screen_text(text)``)."""
        tries: dict = {}
        searched = set(self.always)
        if self._lits:
            for lit, ends in _present(_SHARED.hits(low), self._lits):
                keys = self.anchored.get(lit)
                if keys:
                    back = len(lit) - 1
                    starts = [end - back for end in ends]
                    for key in keys:
                        tries.setdefault(key, []).extend(starts)
                more = self.screened.get(lit)
                if more:
                    searched.update(more)
        out: dict = {}
        for key, starts in tries.items():
            rx, pos, found = self.rx[key], 0, []
            for start in sorted(set(starts)):
                if start >= pos:
                    m = rx.match(text, start)
                    if m is not None:
                        found.append(m)
                        pos = m.end()
            if found:
                out[key] = found
        for key in searched:
            found = list(self.rx[key].finditer(text))
            if found:
                out[key] = found
        return out
