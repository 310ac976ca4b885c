"""Organization candidates: the mentions of names in a text (entities, institutional patterns, the bodies'
gazetteer, cue phrases, CamelCase brands, acronym definitions), grouped into one candidate per organization.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Optional

from spacy.tokens import Doc

from ..cue_index import doc_low
from ..text import fold as _fold
from ._util import doc_text
from .org_rules import bodies_index, initials, lead_articles, name_tails

@lru_cache(maxsize=16384)
def fold(s: str, *, drop_articles: bool = True, drop_legal: bool = False) -> str:
    """text.fold, kept for the names seen again (one name is folded for its group, its keys and its features)."""
    return _fold(s, drop_articles=drop_articles, drop_legal=drop_legal)


_ACR_DEF = re.compile(r"([A-ZÉÈÀ][\w’'&.\- ]{2,90}?)\s*\(\s*([A-ZÉ][A-Za-zÉ0-9&.\-]{1,9})\s*\)")


@dataclass
class Mention:
    text: str
    start: int
    end: int
    source: str  # ner | pattern | acronym | definition | gazetteer | repeat
    weight: float = 1.0  # how organization-like the NER label is
    defines: Optional[str] = None  # for an acronym: the long name it was defined with
    headline: bool = False  # inside a Title Case headline line (`Headlines`): its end is no name boundary


# How much an entity label speaks for an organization (spaCy's labels vary across mentions)
LABEL_WEIGHT = {"ORG": 1.0, "MISC": 0.7, "PRODUCT": 0.7, "NORP": 0.4, "FAC": 0.5, "WORK_OF_ART": 0.3,
                "LOC": 0.3, "GPE": 0.3, "PER": 0.25, "PERSON": 0.25}


@dataclass
class Group:
    key: str
    mentions: list = field(default_factory=list)
    acronym: Optional[str] = None
    score: float = 0.0
    penalty: float = 0.0
    features: dict = field(default_factory=dict)

    def best_name(self) -> str:
        first: dict[str, int] = {}  # each name's earliest start, in one pass (a name may recur thousands of times)
        for m in self.mentions:
            if m.source != "acronym" and m.text != self.acronym:
                first[m.text] = min(first.get(m.text, m.start), m.start)
        if not first:
            return self.mentions[0].text
        run_on = self.run_ons()
        pool = [n for n in first if n not in run_on]
        # the most complete name: most words, then earliest
        return max(pool, key=lambda n: (len(n.split()), -first[n]))

    def run_ons(self) -> set:
        """Names seen only inside a Title Case headline that run on past a name the body gives, at either end
        ("City of Calgary Properly Responded", "Report Finds City of Calgary" over "City of Calgary"): the capitals
        of a headline mark no boundary, so they are no names."""
        names = {m.text for m in self.mentions if m.source != "acronym" and m.text != self.acronym}
        body = {m.text for m in self.mentions if not m.headline} & names
        return {n for n in names - body if any(f" {b} " in f" {n} " for b in body)}

    def first_index(self, name: str) -> int:
        return min(m.start for m in self.mentions if m.text == name)

    @property
    def first(self) -> int:
        return min(m.start for m in self.mentions)


_LONG_WORD = re.compile(r"[^\W\d_][^\W\d_'’-]{3,}")
HEADLINE_MIN_WORDS = 4  # a line with at least this many words of 4+ letters, all capitalized, is a Title Case headline


class Headlines:
    """Which spans of one text lie inside a Title Case line (every word of 4+ letters capitalized, as English
    headlines write them) that goes on beyond them: capitals there say nothing of where a name ends. Each line is
    read once (a text may hold thousands of mentions on one line)."""

    def __init__(self, text: str):
        self.text = text
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.lines: dict[int, tuple[int, bool]] = {}   # line start -> (line end, title case)

    def __call__(self, start: int, end: int) -> bool:
        text = self.text
        lo = self.starts[bisect_right(self.starts, start) - 1]
        line = self.lines.get(lo)
        if line is None:
            hi = text.find("\n", lo)
            hi = len(text) if hi < 0 else hi
            title = True
            n = 0
            for w in _LONG_WORD.finditer(text, lo, hi):
                n += 1
                if not w.group(0)[0].isupper():
                    title = False
                    break
            line = self.lines[lo] = (hi, title and n >= HEADLINE_MIN_WORDS)
        hi, title = line
        return title and end <= hi and bool(text[lo:start].strip() or text[end:hi].strip())


def _clean(text: str, start: int, end: int) -> Optional[tuple[str, int, int]]:
    surface = text[start:end]
    m = lead_articles().match(surface)
    # a capitalized article inside a sentence belongs to the name ("La Place 0-5", "Le Devoir")
    sentence_start = start == 0 or text[start - 1] == "\n" or text[max(0, start - 2):start].strip() in ("", ".", "»", '"', ":", "-", "–")
    if m and m.end() < len(surface) and (surface[:1].islower() or sentence_start):
        start += m.end()
    while end > start and (text[end - 1] in " ,.;:’'" or text[start:end].endswith(("’s", "'s"))):
        end -= 2 if text[start:end].endswith(("’s", "'s")) else 1
    s = text[start:end]
    if len(s) < 2 or "\n" in s or not any(ch.isupper() for ch in s[:3] + s) or re.search(r"[a-zé]{2}\. [A-Z]", s):
        return None  # a span running over a sentence end is two names, not one
    return s, start, end


def _proper_name(s: str) -> bool:
    """Two words or more, each capitalized or a short link word ("Lakeshore Transit", "Caisse de Lévis"); not a
    sentence's first words ("Vous avez perdu") nor a lone word ("Notification")."""
    ws = s.split()
    return len(ws) >= 2 and ws[0][:1].isupper() and ws[-1][:1].isupper() and all(
        w[:1].isupper() or w[:1].isdigit() or (w.islower() and len(w) <= 3) for w in ws)


class Candidates:
    """The candidate-finding half of `OrganizationComponent` (``self.rules``: the language's OrgRules)."""

    def mentions(self, doc: Doc) -> list[Mention]:
        text, r = doc_text(doc), self.rules
        out: list[Mention] = []
        for ent in doc.ents:
            weight = LABEL_WEIGHT.get(ent.label_)
            if weight is None:
                continue
            # an entity that runs over a line break ("CREDIT/Name\n\nAcme Corp": a caption's credit, then the
            # organization that opens the paragraph) keeps its last line when that line reads as a proper name
            start, end = ent.start_char, ent.end_char
            nl = text.rfind("\n", start, end)
            if nl >= 0:
                start = nl + 1
                if not _proper_name(text[start:end]):
                    continue
            c = _clean(text, start, end)
            if c:
                out.append(Mention(c[0], c[1], c[2], "ner", weight))
        low = doc_low(doc, text)
        bodies = bodies_index()
        if bodies is not None:
            for m in bodies.finditer(text, low):
                c = _clean(text, m.start(), m.end())
                if c:
                    out.append(Mention(c[0], c[1], c[2], "gazetteer"))
        may = r.pattern_index.candidates(low)
        for k, rx in enumerate(r.patterns):
            if k not in may:
                continue  # none of its literals occurs: it cannot match
            for m in rx.finditer(text):
                if m.end() < len(text) and text[m.end()].isalnum():
                    continue  # a pattern that stops inside a word ("Commission" of "Commissioner's Office")
                c = _clean(text, m.start(), m.end())
                if c:
                    out.append(Mention(c[0], c[1], c[2], "pattern"))
        out.extend(self._cue_mentions(doc))
        # brand names NER often misses: CamelCase words named at least twice (LifeLabs, PowerSchool)
        for word, spots in _camel_words(text).items():
            if len(spots) >= 2:
                out.extend(Mention(word, s_, s_ + len(word), "camel", 0.8) for s_ in spots)
        named_ends = {x.end: x for x in out}
        for m in _ACR_DEF.finditer(text):
            acr = m.group(2).strip(".")
            long = m.group(1)
            # keep the tail of the long name that spells the acronym
            words = long.split()
            found = False
            for i in range(len(words)):
                cand = " ".join(words[i:])
                if initials(cand) == acr.upper().replace("-", "").replace(".", ""):
                    s = m.start(1) + long.index(cand, len(" ".join(words[:i])))
                    c = _clean(text, s, s + len(cand))
                    if c:
                        out.extend(self._defined(text, m, c, acr))
                        found = True
                    break
            if found or not acr.isupper():
                continue
            before = next((named_ends[k] for k in (m.start(2) - 1, m.start(2) - 2, m.start(2) - 3) if k in named_ends), None)
            if before is not None:
                # "the Treasury Board Secretariat (SCT)": an acronym in another language follows a known name
                out.extend(self._defined(text, m, (before.text, before.start, before.end), acr))
        headline = Headlines(text)
        for x in out:
            x.headline = headline(x.start, x.end)
        return out

    def _cue_mentions(self, doc: Doc) -> list[Mention]:
        """Names NER missed, read off the cues around them: "breach at LifeLabs", "X a été victime",
        and the issuer right after a CNW dateline."""
        text, r = doc_text(doc), self.rules
        low = doc_low(doc, text)
        out = []
        after = r.after_cue.finditer(text) if r.after_cue_index is None else r.after_cue_index.finditer(text, low)
        for m in after:
            c = _clean(text, m.start(1), m.end(1))
            if c:
                out.append(Mention(c[0], c[1], c[2], "cue", 0.8))
        for m in (r.before_cue.finditer(text) if r.cue_screen.candidates(low) else ()):
            c = _clean(text, m.start(1), m.end(1))
            if c and not (c[1] == 0 or text[c[1] - 1] == "\n") or (c and len(c[0].split()) > 1):
                out.append(Mention(c[0], c[1], c[2], "cue", 0.8))
        issuer_at = (doc._.meta or {}).get("dateline_end")
        if issuer_at is not None:
            m = r.name_run.match(text, issuer_at)
            if m:
                c = _clean(text, m.start(), m.end())
                if c:
                    out.append(Mention(c[0], c[1], c[2], "issuer"))
        return out

    @staticmethod
    def _defined(text: str, m: re.Match, long: tuple, acr: str) -> list:
        """A definition "Nom complet (ACR)" (and "Nom (ACR) du Canada": the name goes on after the acronym)."""
        name, start, end = long
        out = [Mention(name, start, end, "definition"), Mention(acr, m.start(2), m.start(2) + len(acr), "acronym", defines=name)]
        tail = name_tails().match(text[m.end():m.end() + 40])
        if tail:
            full = f"{name} {tail.group(1)}"
            out.append(Mention(full, start, m.end() + tail.end(), "definition"))
            out[1].defines = full
        return out

    def _cued(self, text: str, s: int, e: int) -> bool:
        r = self.rules
        return bool(r.left.search(text[max(0, s - 40):s]) or r.right.match(text[e:e + 80]))

    def group(self, mentions: list[Mention]) -> list[Group]:
        groups: dict[str, Group] = {}
        defs: dict[str, str] = {}
        for m in mentions:
            if m.source == "definition":
                defs[initials(m.text)] = fold(m.text, drop_legal=True)
            if m.defines:
                defs[m.text.upper().replace(".", "")] = fold(m.defines, drop_legal=True)
        # full names first, so that short forms and acronyms join an existing group
        for m in sorted(mentions, key=lambda m: (-len(m.text.split()), m.start)):
            key = fold(m.text, drop_legal=True)
            if not key:
                continue
            target = groups.get(key)
            if target is None and m.text.isupper() and len(m.text) <= 8:
                target_key = defs.get(m.text.upper().replace(".", ""))
                target = groups.get(target_key) if target_key else None
                if target is None:
                    for g in groups.values():
                        if initials(g.best_name()) == m.text.upper() and len(m.text) >= 2:
                            target = g
                            break
                if target is not None:
                    target.acronym = target.acronym or m.text
            if target is None:
                words = key.split()
                if len(words) == 1 and words[0] in self.rules.generic:
                    continue  # a single generic word ("Centre", "Ville" on a line of its own) names no one
                for g in groups.values():
                    gw = g.key.split()
                    if len(words) < len(gw) and _contains(gw, words) and not (len(words) == 1 and len(words[0]) <= 3):
                        target = g
                        break
            if target is None:
                target = groups[key] = Group(key)
            target.mentions.append(m)
        return list(groups.values())

    def add_repeats(self, text: str, groups: list[Group]) -> None:
        """Mentions NER missed: every other occurrence of a group's names in the text."""
        headline = Headlines(text)
        for g in groups:
            have = {m.start for m in g.mentions}
            # positions inside a mention (a set, not a scan of all mentions per match: that was quadratic)
            covered = {i for x in g.mentions for i in range(x.start, x.end)}
            names = {m.text for m in g.mentions if len(m.text) >= 3 or m.text.isupper()}
            for name in sorted(names, key=len, reverse=True):
                for s in _occurrences(text, name):
                    if s not in have and s not in covered:
                        e = s + len(name)
                        g.mentions.append(Mention(name, s, e, "repeat", 0.0, headline=headline(s, e)))
                        have.add(s)
                        covered.update(range(s, e))

    def label_weight(self, g: Group) -> float:
        ner = [m.weight for m in g.mentions if m.source in ("ner", "cue", "camel", "issuer")]
        if any(m.source in ("pattern", "gazetteer", "definition") for m in g.mentions):
            return 1.0
        return sum(ner) / len(ner) if ner else 0.5

_CAMEL = re.compile(r"(?<![\w’'&.-])[A-Z][a-z]+(?:[A-Z][a-z]+)+(?![\w’'&-])")


def _camel_words(text: str) -> dict:
    spots: dict = {}
    for m in _CAMEL.finditer(text):
        spots.setdefault(m.group(0), []).append(m.start())
    return spots


def _is_word(ch: str) -> bool:
    """What the regex class ``\\w`` matches in a str pattern: an alphanumeric character or "_"."""
    return ch.isalnum() or ch == "_"


def _occurrences(text: str, name: str):
    """The starts of `name` standing as a word of its own in `text`, as ``re.finditer(rf"(?<![\\w]){re.escape(name)}(?![\\w])")``
    finds them (leftmost, not overlapping), by str.find: no regex compiled per name (re's cache of 512 thrashed)."""
    n, size = len(name), len(text)
    i = text.find(name)
    while i >= 0:
        if (i == 0 or not _is_word(text[i - 1])) and (i + n >= size or not _is_word(text[i + n])):
            yield i
            i = text.find(name, i + n)
        else:
            i = text.find(name, i + 1)


def _contains(haystack: list[str], needle: list[str]) -> bool:
    n = len(needle)
    return any(haystack[i:i + n] == needle for i in range(len(haystack) - n + 1))
