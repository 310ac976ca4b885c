"""Date phrases of a text and their days: the language's date forms, resolved against the publication day.

A phrase is ``le 14 juin dernier``, ``samedi``, ``on Saturday``, ``June 14, 2024``, ``2024-06-14`` or
``hier``, with month and weekday names from ``resources/<lang>/cues.json`` and the forms' words from
``resources/<lang>/dates.json``. Explicit days are checked by the calendar (datetime); weekdays and "yesterday" are
counted back from the publication day, and so are "three days ago" / "il y a deux semaines" (``ago_forms``: n units
of k days, at most AGO_MAX_DAYS; a relative date with no known publication day stays unresolved).
A range ("between Aug. 22 and 24", "du 3 au 5 mars", "June 14 or 15"), a bound ("on or before", "the week
of", "depuis le"), a date announced for the future and a page header's date ("date 2024-08-29",
"Publié le ...") name no single day of an event and are no candidates; a day that the text also gives
as an end of a range is marked ``range_day``: it is no incident day (the incident spans the range).
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import Optional

from ..cue_index import AlternationIndex, Screen, _automaton, _sre_parse, literal_core, screen_text
from ..resources import alternation, cues, load_json
from ._util import sentence_bounds

ROLES = ("incident", "discovered", "contained", "disclosed")

@dataclass
class DatePhrase:
    start: int
    end: int
    value: Optional[date]
    role: Optional[str] = None  # the first slot this phrase fills, if any
    features: dict = field(default_factory=dict, repr=False)  # role -> {feature: value}
    scores: dict = field(default_factory=dict, repr=False)  # role -> linear score
    range_day: bool = False  # the day also ends a range the text states (see find_phrases)


_WORD_START = r"(?<![\w])"


def _alt(patterns, word_start: bool = True) -> re.Pattern:
    """Regex fragments matched at a word start (a fragment may match the start of a longer word)."""
    pats = tuple(p for p in patterns if p)
    if not pats:
        return re.compile(r"(?!x)x")
    rx = alternation(pats, re.IGNORECASE, False)
    return re.compile(_WORD_START + "(?:" + rx.pattern + ")", re.IGNORECASE) if word_start else rx


def _suffix_alt(patterns) -> re.Pattern:
    """Markers that end right before a date phrase ("on or before ", "la semaine du ")."""
    pats = [p for p in patterns if p]
    if not pats:
        return re.compile(r"(?!x)x")
    body = "|".join(f"(?:{p})" for p in sorted(set(pats), key=lambda p: (-len(p), p)))
    return re.compile(rf"(?<![\w])(?:{body})[\s\u00a0]{{0,3}}$", re.IGNORECASE)


class _Whole:
    """A regex that is no word-start alternation, with AlternationIndex's `finditer(text, low)`."""

    def __init__(self, rx: re.Pattern):
        self.rx = rx

    def finditer(self, text: str, low: str):
        return self.rx.finditer(text)


def _indexed(rx: re.Pattern):
    """`rx` (made by _alt) as an AlternationIndex: the same matches, only the alternatives that can occur tried."""
    try:
        return AlternationIndex(rx, _WORD_START, "")
    except ValueError:  # the empty family's never-matching regex
        return _Whole(rx)


class DateRules:
    def __init__(self, lang: str):
        self.lang = lang
        d = cues(lang)["dates"]
        x = load_json(lang, "dates.json")
        self.months = {k.lower(): v for k, v in d["months"].items()}
        self.weekdays = {k.lower(): v for k, v in d["weekdays"].items()}
        month = "|".join(sorted(map(re.escape, self.months), key=len, reverse=True))
        wd = "|".join(sorted(map(re.escape, self.weekdays), key=len, reverse=True))
        past = "|".join(sorted(map(re.escape, d["past_markers"]), key=len, reverse=True))
        self.first_day = {w.lower() for w in d["first_day"]}
        first = "|".join(map(re.escape, d["first_day"])) or r"(?!x)x"
        suffixes = x.get("ordinal_suffixes") or []
        self.suffix_re = re.compile("(?:" + "|".join(map(re.escape, suffixes)) + ")$" if suffixes else r"(?!x)x", re.I)
        suf = ("(?:" + "|".join(map(re.escape, sorted(suffixes, key=len, reverse=True))) + ")?") if suffixes else ""
        day = rf"(?:{first}|[0-3]?\d){suf}"
        year = r"(?:1[89]\d\d|20\d\d)"
        S = r"[\s\u00a0\u202f]{1,3}"
        prefixes = "|".join(map(re.escape, x.get("day_prefixes", [])))
        links = "|".join(map(re.escape, x.get("day_month_links", [])))
        pre = rf"(?:(?:{prefixes}){S})?" if prefixes else ""
        link = rf"(?:(?:{links}){S})?" if links else ""
        forms = [
            rf"(?P<iso>{year}-[01]\d-[0-3]\d)",
            rf"(?:(?P<wd1>{wd}),?{S})?{pre}(?P<d1>{day}){S}{link}(?P<m1>{month})\.?(?:,?{S}(?P<y1>{year}))?(?:{S}(?P<p1>{past}))?",
            rf"(?:(?P<wd2>{wd}),?{S})?(?P<m2>{month})\.?{S}(?P<d2>{day})(?![\d:])(?:,?{S}(?P<y2>{year}))?",
            rf"(?:(?P<p3a>{past}){S})?(?P<wd3>{wd})(?:{S}(?P<p3>{past}))?",
        ]
        rel = ([(w, "yesterday") for w in d["yesterday"]] + [(w, "day_before") for w in d["day_before_yesterday"]]
               + [(w, "today") for w in d.get("today", [])])
        if rel:
            forms.append("(?P<rel>" + "|".join(w for w, _ in sorted(rel, key=lambda r: -len(r[0]))) + ")")
        self.rel_res = [(re.compile(w + "$", re.I), k) for w, k in sorted(rel, key=lambda r: -len(r[0]))]
        self.phrase_re = re.compile(r"(?<![\w-])(?:" + "|".join(forms) + r")(?![\w])", re.IGNORECASE)
        # every phrase holds a digit or a weekday, first-day or relative word: the full pattern is searched only
        # within its longest width before one of those anchors (found by one automaton pass over the screened text)
        width = _sre_parse.parse(self.phrase_re.pattern, self.phrase_re.flags).getwidth()[1]
        words = [re.escape(w) for w in self.weekdays] + [re.escape(w) for w in d["first_day"]] + [w for w, _ in rel]
        cores = set().union(*(literal_core(w) for w in words)) if words else set()
        self.phrase_width = width if width < _sre_parse.MAXREPEAT and all(cores) else None
        self.phrase_anchor = _automaton(cores) if cores else None
        self.digit_run = re.compile(r"(?<!\d)\d")
        # "three days later", "the following morning", "le lendemain": a day counted from the date phrase before
        units = {k.lower(): v for k, v in load_json(lang, "numbers.json").get("units", {}).items() if 1 <= v <= 31}
        self.number_words = units
        n_alt = "|".join([r"\d{1,2}"] + sorted(map(re.escape, units), key=len, reverse=True))
        # ... and "the previous day", "la veille", "deux jours plus tôt" (day_offsets_before): counted back from it
        offsets, signs = [], []
        for key, sign in (("day_offsets", 1), ("day_offsets_before", -1)):
            for pattern, days in x.get(key, []):
                offsets.append(("(?:" + pattern.replace("{n}", f"(?P<n{len(offsets)}>{n_alt})") + ")", days))
                signs.append(sign)
        self.offset_days = [days for _, days in offsets]
        self.offset_signs = signs
        self.offset_screen = Screen([p for p, _ in offsets]) if offsets else None  # their literals, in one automaton pass
        self.offset_re = (re.compile(r"(?<![\w-])(?:" + "|".join(f"(?P<o{i}>{p})" for i, (p, _) in enumerate(offsets))
                                     + r")(?![\w])", re.IGNORECASE) if offsets else None)
        # "three days ago", "il y a deux semaines": a day counted back from the publication day (n units of k days)
        agos = []
        for pattern, unit in x.get("ago_forms", []):
            agos.append(("(?:" + pattern.replace("{n}", f"(?P<a{len(agos)}>{n_alt})") + ")", unit))
        self.ago_units = [unit for _, unit in agos]
        self.ago_has_n = ["{n}" in pattern for pattern, _ in x.get("ago_forms", [])]
        self.ago_screen = Screen([p for p, _ in agos]) if agos else None
        self.ago_re = (re.compile(r"(?<![\w-])(?:" + "|".join(f"(?P<g{i}>{p})" for i, (p, _) in enumerate(agos))
                                  + r")(?![\w])", re.IGNORECASE) if agos else None)
        # future verbs anywhere shortly before the date ("expects ... by June 30", "prévoit ... d'ici le 30 juin");
        # future prepositions only right before it ("by June 30", not "hit by a cyberattack on May 8")
        preps = set(x.get("future_prepositions", []))
        verbs = [m for m in d.get("future_markers", []) if m not in preps] or ["(?!x)x"]
        self.future = re.compile(rf"(?<![\w])(?:{'|'.join(verbs)})(?![\w])[^.;\d]{{0,50}}$", re.IGNORECASE)
        self.future_prep = _suffix_alt(sorted(preps | {m for m in d.get("future_markers", []) if m in preps}))
        self.complementizer = _alt(x.get("complementizers", []))
        self.cleft = _suffix_alt(x.get("cleft_openers", []))
        coords = "|".join(f"(?:{c})" for c in x.get("coordinators", [])) or r"(?!x)x"
        self.coordination = re.compile(rf"[\s,]{{0,3}}(?:{coords})[\s]{{1,3}}(?:[\w’']{{1,12}}[\s]{{1,3}}){{0,2}}", re.IGNORECASE)
        role_cues = x.get("role_cues", {})
        self.role_res = {role: _alt(tuple(d["roles"][role]) + tuple(role_cues.get(role, ()))) for role in ROLES}
        self.noun_re = re.compile(r"(?:" + _alt(x.get("noun_cues", [])).pattern + r")$", re.IGNORECASE)
        # "it was noticed within minutes", "constatée le jour même": a role's event on the day of the date before it
        same_day = x.get("same_day_cues", {})
        self.same_day = {role: _alt(same_day.get(role, ())) for role in ROLES if same_day.get(role)}
        self.families = {name: _alt(x.get(f"{name}_cues", [])) for name in
                         ("procedure", "report", "caption", "header", "cross_reference")}
        # a page header's date at the start of its line ("date 2024-08-29", "Published: ...", "Mis à jour le")
        header = "|".join(f"(?:{h})" for h in x.get("header_cues", [])) or r"(?!x)x"
        self.header_lead = re.compile(rf"[\s\u00a0]{{0,8}}(?:{header})[\s\u00a0:]{{0,4}}", re.IGNORECASE)
        # the same regexes, each run as an index over the screened text (only alternatives whose literals occur)
        self.role_index = {role: _indexed(rx) for role, rx in self.role_res.items()}
        self.family_index = {name: _indexed(rx) for name, rx in self.families.items()}
        self.same_day_index = {role: _indexed(rx) for role, rx in self.same_day.items()}
        self.breaks = alternation(tuple(cues(lang)["clause_break"]), re.IGNORECASE, False)
        self.approx = _suffix_alt(x.get("approx_markers", []))
        self.bound = _suffix_alt(x.get("bound_markers", []))
        joiners = "|".join(f"(?:{j})" for j in sorted(x.get("range_joiners", []), key=len, reverse=True)) or r"(?!x)x"
        arts = "|".join(re.escape(a) for a in x.get("range_articles", [])) or r"(?!x)x"
        self.range_join = re.compile(rf",?\s{{0,3}}(?:{joiners})\s{{0,3}}(?:(?:{arts})\s{{1,3}})?", re.IGNORECASE)
        openers = "|".join(f"(?:{o})" for o in x.get("range_openers", [])) or r"(?!x)x"
        froms = "|".join(f"(?:{o})" for o in x.get("range_from", [])) or r"(?!x)x"
        sufs = "|".join(map(re.escape, suffixes)) or r"(?!x)x"
        self.range_start = re.compile(
            rf"(?<![\w])(?:(?:{openers})\s{{1,3}}(?:(?:{arts})\s{{1,3}})?|(?:{openers}|{froms})\s{{1,3}}(?:(?:{arts})\s{{1,3}})?"
            rf"\d{{1,2}}(?:{sufs})?\s{{0,3}}(?:{joiners})\s{{1,3}}(?:(?:{arts})\s{{1,3}})?)$", re.IGNORECASE)
        # "June 14 or 15", "May 8-9", "April 17, 18 and 23": the phrase is the first of several days
        self.range_tail = re.compile(rf"(?:,\s{{0,2}}\d{{1,2}}(?!\d))*,?\s{{0,3}}(?:{joiners})\s{{0,3}}\d{{1,2}}(?![\d:,.]\d)(?!\s{{0,3}}(?:%|h\b))", re.IGNORECASE)


@lru_cache(maxsize=None)
def rules_for(lang: str) -> DateRules:
    return DateRules(lang)


def _calendar_day(day: int, month: int, year: int) -> Optional[date]:
    """An explicit calendar day, or None when the month has no such day (or the month is no month)."""
    try:
        return date(year, month, day)
    except ValueError:
        return None


OFFSET_REACH = 400  # how far (characters) before "two days later" the date it counts from may be


class OffsetMatch:
    """A day counted from an earlier date phrase ("two days later"), with the part of re.Match's interface the
    features read: its span, and no date-form group (its precision is 'relative')."""

    def __init__(self, m: re.Match):
        self._m = m

    def start(self) -> int:
        return self._m.start()

    def end(self) -> int:
        return self._m.end()

    def group(self, name=0):
        return self._m.group(0) if name == 0 else None

    def groupdict(self) -> dict:
        return {}


class AgoMatch(OffsetMatch):
    """A day counted back from the publication day ("three days ago", "il y a deux semaines"): its span, and its
    number of days as the one date-form group (its precision is 'relative')."""

    def __init__(self, m: re.Match, days: int):
        super().__init__(m)
        self.days = days

    def groupdict(self) -> dict:
        return {"ago_days": self.days}


AGO_MAX_DAYS = 62  # "il y a deux mois" is no day: counted back further than this, a phrase names none


def _ago_phrases(r: DateRules, text: str, low: Optional[str]) -> list[AgoMatch]:
    if r.ago_re is None or not r.ago_screen.may_match(screen_text(text) if low is None else low):
        return []
    out = []
    for m in r.ago_re.finditer(text):
        for i, unit in enumerate(r.ago_units):
            if m.group(f"g{i}") is None:
                continue
            n = 1
            if r.ago_has_n[i]:
                raw = (m.group(f"a{i}") or "").lower()
                n = int(raw) if raw.isdigit() else r.number_words.get(raw)
            if n and 1 <= n * unit <= AGO_MAX_DAYS:
                out.append(AgoMatch(m, n * unit))
            break
    return out


def _offset_days(r: DateRules, m: re.Match) -> Optional[int]:
    for i, days in enumerate(r.offset_days):
        if m.group(f"o{i}") is None:
            continue
        if days is not None:
            return days * r.offset_signs[i]
        raw = (m.groupdict().get(f"n{i}") or "").lower()
        n = int(raw) if raw.isdigit() else r.number_words.get(raw)
        return n * r.offset_signs[i] if n and 1 <= n <= 31 else None
    return None


def precision_of(m: re.Match) -> str:
    """'year' (a year is written), 'day_month', 'weekday' or 'relative' (hier, yesterday)."""
    g = m.groupdict()
    if g.get("iso") or g.get("y1") or g.get("y2"):
        return "year"
    if g.get("m1") or g.get("m2"):
        return "day_month"
    return "weekday" if g.get("wd3") else "relative"


def resolve(rules: DateRules, m: re.Match, published: Optional[date], day_precision: bool) -> Optional[date]:
    g = m.groupdict()
    if g.get("ago_days"):
        return published - timedelta(days=g["ago_days"]) if published and day_precision else None
    if g.get("iso"):
        y, mo, d = (int(x) for x in g["iso"].split("-"))
        return _calendar_day(d, mo, y)
    for i in ("1", "2"):
        if g.get(f"m{i}"):
            raw_day = rules.suffix_re.sub("", g[f"d{i}"].lower()) if not g[f"d{i}"].lower() in rules.first_day else "1"
            dnum = int(raw_day) if raw_day.isdigit() else None
            if dnum is None or not 1 <= dnum <= 31:
                return None
            month = rules.months[g[f"m{i}"].lower().rstrip(".")]
            if g.get(f"y{i}"):
                return _calendar_day(dnum, month, int(g[f"y{i}"]))
            if published is None:
                return None
            value = _calendar_day(dnum, month, published.year)
            if value and value > published + timedelta(days=1):
                value = _calendar_day(dnum, month, published.year - 1)
            return value
    if not (published and day_precision):
        return None
    if g.get("wd3"):
        wd = rules.weekdays[g["wd3"].lower()]
        delta = (published.weekday() - wd) % 7
        if delta == 0 and (g.get("p3") or g.get("p3a")):
            delta = 7
        return published - timedelta(days=delta)
    if g.get("rel"):
        kind = next((k for rx, k in rules.rel_res if rx.fullmatch(g["rel"])), "yesterday")
        return published - timedelta(days={"day_before": 2, "yesterday": 1, "today": 0}[kind])
    return None


def is_future(r: DateRules, text: str, s: int, lo: int) -> bool:
    """'d'ici le 30 juin', 'expects ... by June 30': a date announced, not one that happened."""
    return bool(r.future.search(text[max(lo, s - 60):s]) or r.future_prep.search(text, max(lo, s - 30), s))


def _phrases(r: DateRules, text: str, low: Optional[str] = None) -> list[re.Match]:
    """The matches of ``r.phrase_re.finditer(text)``, searched only near their anchors (`low`: the screened text).

    A match starting at s holds an anchor (a digit run's first digit, a weekday, first-day or relative word) at
    some a < s + width, so s >= a - width; an attempt at s reads no character past s + width + 1. Anchors whose
    stretches [a - width, a] touch form one cluster, first a0 to last ak: a scan of [a0 - width, ak + width + 2)
    finds, among the starts up to ak, the matches the whole-text scan finds, and no match starts between two
    clusters. Each character is scanned about once, as in the whole-text scan."""
    width, auto = r.phrase_width, r.phrase_anchor
    if width is None or auto is None:
        return list(r.phrase_re.finditer(text))
    low = screen_text(text) if low is None else low
    anchors = {m.start() for m in r.digit_run.finditer(text)}
    if len(auto):
        anchors.update(end - len(lit) + 1 for end, lit in auto.iter(low))
    clusters: list[list[int]] = []
    for a in sorted(anchors):
        if clusters and a - width <= clusters[-1][1] + width + 2:  # the stretches scanned would overlap
            clusters[-1][1] = a
        else:
            clusters.append([a, a])
    out, pos, n = [], 0, len(text)
    for first, last in clusters:
        for m in r.phrase_re.finditer(text, max(pos, first - width), min(n, last + width + 2)):
            if m.start() > last:
                break
            out.append(m)
            pos = m.end() if m.end() > m.start() else m.start() + 1
    return out


def find_phrases(text: str, r: DateRules, meta: dict, sents: list[tuple[int, int]],
                 low: Optional[str] = None) -> list[tuple[DatePhrase, re.Match]]:
    """The single-day date phrases of `text` with their days (ranges, bounds, future dates and page headers left out).
    `low`: the text's ``cue_index.screen_text`` when the caller has it."""
    published: Optional[date] = meta.get("published")
    day_precision = meta.get("published_precision", "day") == "day"
    if published and not day_precision:  # "2006-06": any day of June 2006 may be before publication
        published = (published.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    skip_lo, skip_hi = meta.get("dateline_span") or (0, 0)
    matches = _phrases(r, text, low)
    agos = _ago_phrases(r, text, low)
    if agos:  # "il y a trois jours": a phrase of its own, unless a date phrase already holds it
        spans = [(m.start(), m.end()) for m in matches]
        agos = [a for a in agos if not any(s < a.end() and a.start() < e for s, e in spans)]
        matches = sorted(matches + agos, key=lambda m: m.start())
    matches = [m for m in matches if not (skip_lo <= m.start() < skip_hi)]
    in_range, ranged = set(), []
    for a, b in zip(matches, matches[1:]):
        between = text[a.end():b.start()]
        if len(between) <= 14 and r.range_join.fullmatch(between):
            in_range.update((a.start(), b.start()))  # "between Aug. 22 and 24", "du 3 au 5 mars": not one day
            ranged.extend((a, b))
    for m in matches:
        if r.range_start.search(text, max(0, m.start() - 24), m.start()) or r.range_tail.match(text, m.end()):
            in_range.add(m.start())
            ranged.append(m)
        elif r.bound.search(text, max(0, m.start() - 40), m.start()):
            in_range.add(m.start())
    changed = True
    while changed:  # "between last Thursday, Jan. 5, and ...": an apposition shares its neighbour's range
        changed = False
        for a, b in zip(matches, matches[1:]):
            if (a.start() in in_range) != (b.start() in in_range) and re.fullmatch(r"[\s,()]{1,3}", text[a.end():b.start()]):
                in_range.update((a.start(), b.start()))
                changed = True
    range_days = {resolve(r, m, published, day_precision) for m in ranged} - {None}
    out = []
    for m in matches:
        if m.start() in in_range:
            continue
        line_lo = text.rfind("\n", 0, m.start()) + 1
        if r.header_lead.fullmatch(text, line_lo, m.start()):
            continue
        value = resolve(r, m, published, day_precision)
        if value is None or (published and value > published):
            continue
        lo, _ = sentence_bounds(sents, m.start())
        if is_future(r, text, m.start(), lo):
            continue
        # a day that also ends a range the text states ("between Dec. 20 and Jan. 5" ... "on Jan. 5"): the incident
        # spans the range, the day alone is no single day of it (it may still be the day it was detected)
        out.append((DatePhrase(m.start(), m.end(), value, range_day=value in range_days), m))
    if r.offset_re is not None and out and r.offset_screen.may_match(screen_text(text) if low is None else low):
        out = _with_offsets(text, r, matches, out, published)
    return out


def _with_offsets(text: str, r: DateRules, matches: list, out: list, published: Optional[date]) -> list:
    """Add the days counted from the date phrase right before them ("survenue le 18 février ... détectée trois jours
    plus tard"): only when that phrase is a candidate (no range, bound, header or future date) within OFFSET_REACH."""
    kept = {p.start: p for p, _ in out}
    starts = [m.start() for m in matches]
    added = []
    for o in r.offset_re.finditer(text):
        i = bisect.bisect_left(starts, o.start()) - 1
        if i < 0 or matches[i].end() > o.start() or o.start() - matches[i].end() > OFFSET_REACH:
            continue
        base = kept.get(starts[i])
        days = _offset_days(r, o)
        if base is None or days is None:
            continue
        value = base.value + timedelta(days=days)
        if published and value > published:
            continue
        added.append((DatePhrase(o.start(), o.end(), value), OffsetMatch(o)))
    return sorted(out + added, key=lambda c: c[0].start) if added else out
