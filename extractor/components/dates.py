"""`incident_dates`: when the breach happened, was discovered, contained and disclosed.

Date *phrases* are found first (``le 14 juin dernier``, ``samedi``, ``on Saturday``,
``June 14, 2024``, ``2024-06-14``, ``hier``), with month and weekday names from
``resources/<lang>/cues.json``; only then is each phrase resolved against the
publication date (explicit dates through dateparser, weekdays and "yesterday" by
counting back). A relative date with no known publication day stays unresolved.
A range ("between Aug. 22 and 24", "du 3 au 5 mars", "June 14 or 15") or a bound
("on or before", "the week of", "depuis le") names no single day and is no candidate.

Which phrase fills which slot is a scored choice: every candidate gets, for each role,
features computed from the text (cue words of that role and of the others in its clause
and their distance, verbs against nouns, reporting and court-procedure words, photo
captions, page headers and cross-references, precision of the phrase, its position, the
publication day); each slot takes the candidate of highest linear score, or nothing when
its "none" score is higher. The weights are data (``resources/shared/date_weights.json``),
fitted by ``eval/fit_dates.py``; the word families come from ``cues.json`` (``dates``)
and ``resources/<lang>/dates.json``.
"""

from __future__ import annotations

import bisect
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from typing import Optional

from spacy.language import Language
from spacy.tokens import Doc

from ..resources import ROOT, alternation, cues, load_json
from ._util import clause_bounds, doc_text, sentence_bounds

ROLES = ("incident", "discovered", "contained", "disclosed")
BEFORE, AFTER = 160, 120  # how far (characters, inside the clause) a cue is looked for around a date
SCALE = 30.0  # closeness of a cue d characters away: 1 / (1 + d / SCALE)
FEATURES = (
    "own_verb_before", "own_noun_before", "own_verb_after", "own_nearest_before",
    "own_nearest_after", "own_sentence", "other_before", "other_after", "procedure", "report", "caption",
    "header", "cross_reference", "approx", "is_published_day", "near_published", "explicit_year", "weekday_or_relative",
    "past_marker", "lede", "position", "earliest", "latest", "repeated", "initial", "own_clause", "own_noun_adjacent",
)
NONE = "none"

if not Doc.has_extension("dates"):
    Doc.set_extension("dates", default=None)
    Doc.set_extension("date_phrases", default=None)


@dataclass
class DatePhrase:
    start: int
    end: int
    value: Optional[date]
    role: Optional[str] = None  # the first slot this phrase fills, if any
    features: dict = field(default_factory=dict, repr=False)  # role -> {feature: value}
    scores: dict = field(default_factory=dict, repr=False)  # role -> linear score


def _alt(patterns, word_start: bool = True) -> re.Pattern:
    """Regex fragments matched at a word start (a fragment may match the start of a longer word)."""
    pats = tuple(p for p in patterns if p)
    if not pats:
        return re.compile(r"(?!x)x")
    rx = alternation(pats, re.IGNORECASE, False)
    return re.compile(r"(?<![\w])(?:" + rx.pattern + ")", re.IGNORECASE) if word_start else rx


def _suffix_alt(patterns) -> re.Pattern:
    """Markers that end right before a date phrase ("on or before ", "la semaine du ")."""
    pats = [p for p in patterns if p]
    if not pats:
        return re.compile(r"(?!x)x")
    body = "|".join(f"(?:{p})" for p in sorted(set(pats), key=lambda p: (-len(p), p)))
    return re.compile(rf"(?<![\w])(?:{body})[\s\u00a0]{{0,3}}$", re.IGNORECASE)


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
        self.families = {name: _alt(x.get(f"{name}_cues", [])) for name in
                         ("procedure", "report", "caption", "header", "cross_reference")}
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


@lru_cache(maxsize=None)
def weights() -> dict:
    with open(ROOT / "shared" / "date_weights.json", encoding="utf-8") as fh:
        data = json.load(fh)
    return {role: data["roles"][role]["features"] for role in ROLES}


@lru_cache(maxsize=4096)
def _parse_explicit(lang: str, day: int, month: int, year: int) -> Optional[date]:
    """An explicit calendar day, resolved by dateparser (validates the day for its month)."""
    import dateparser

    phrase = f"{year:04d}-{month:02d}-{day:02d}"
    parsed = dateparser.parse(phrase, languages=[lang], settings={"DATE_ORDER": "YMD", "STRICT_PARSING": True})
    return parsed.date() if parsed else None


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
    if g.get("iso"):
        y, mo, d = (int(x) for x in g["iso"].split("-"))
        return _parse_explicit(rules.lang, d, mo, y)
    for i in ("1", "2"):
        if g.get(f"m{i}"):
            raw_day = rules.suffix_re.sub("", g[f"d{i}"].lower()) if not g[f"d{i}"].lower() in rules.first_day else "1"
            dnum = int(raw_day) if raw_day.isdigit() else None
            if dnum is None or not 1 <= dnum <= 31:
                return None
            month = rules.months[g[f"m{i}"].lower().rstrip(".")]
            if g.get(f"y{i}"):
                return _parse_explicit(rules.lang, dnum, month, int(g[f"y{i}"]))
            if published is None:
                return None
            value = _parse_explicit(rules.lang, dnum, month, published.year)
            if value and value > published + timedelta(days=1):
                value = _parse_explicit(rules.lang, dnum, month, published.year - 1)
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


def _closeness(d: int) -> float:
    return 1.0 / (1.0 + max(d, 0) / SCALE)


class _Cues:
    """Every cue of a document, found once: role cues (longest match wins across roles) and word families."""

    def __init__(self, text: str, rules: DateRules):
        found = []
        for role, rx in rules.role_res.items():
            for m in rx.finditer(text):
                if m.end() > m.start():
                    found.append((m.start(), m.end(), role, bool(rules.noun_re.match(m.group(0)))))
        found.sort(key=lambda c: (-(c[1] - c[0]), c[0]))
        kept, taken = [], []
        for c in found:
            i = bisect.bisect_left(taken, (c[0], -1))
            # an overlap with a longer kept cue: the longer one ("were notified of" over "notified")
            if (i < len(taken) and taken[i][0] < c[1]) or (i > 0 and taken[i - 1][1] > c[0]):
                continue
            bisect.insort(taken, (c[0], c[1]))
            kept.append(c)
        self.family = {}
        for name, rx in rules.families.items():
            spans = [(m.start(), m.end()) for m in rx.finditer(text) if m.end() > m.start()]
            self.family[name] = (spans, [s for s, _ in spans])
        # a role word inside a header or cross-reference ("first published", "Publié le") names no event
        meta = sorted(self.family["header"][0] + self.family["cross_reference"][0])
        meta_starts = [a for a, _ in meta]

        def inside(c) -> bool:
            i = bisect.bisect_right(meta_starts, c[0]) - 1
            return i >= 0 and meta[i][1] >= c[1]

        kept = sorted(c for c in kept if not inside(c))
        self.roles = kept
        self.role_starts = [c[0] for c in kept]

    def roles_in(self, lo: int, hi: int):
        i = bisect.bisect_left(self.role_starts, lo)
        while i < len(self.roles) and self.roles[i][0] < hi:
            if self.roles[i][1] <= hi:
                yield self.roles[i]
            i += 1

    def family_in(self, name: str, lo: int, hi: int):
        spans, starts = self.family[name]
        i = bisect.bisect_left(starts, lo)
        while i < len(spans) and spans[i][0] < hi:
            if spans[i][1] <= hi:
                yield spans[i]
            i += 1


@Language.factory("incident_dates", default_config={})
def make_dates(nlp: Language, name: str):
    return DatesComponent(nlp.lang)


class DatesComponent:
    def __init__(self, lang: str):
        self.rules = rules_for(lang)
        self.weights = weights()

    def is_future(self, text: str, s: int, lo: int) -> bool:
        """'d'ici le 30 juin', 'expects ... by June 30': a date announced, not one that happened."""
        r = self.rules
        return bool(r.future.search(text[max(lo, s - 60):s]) or r.future_prep.search(text, max(lo, s - 30), s))

    # -- candidates ------------------------------------------------------------------------

    def candidates(self, doc: Doc) -> list[tuple[DatePhrase, re.Match]]:
        text, r = doc_text(doc), self.rules
        meta = doc._.meta or {}
        published: Optional[date] = meta.get("published")
        day_precision = meta.get("published_precision", "day") == "day"
        if published and not day_precision:  # "2006-06": any day of June 2006 may be before publication
            published = (published.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        skip_lo, skip_hi = meta.get("dateline_span") or (0, 0)
        sents = doc._.sent_bounds or [(0, len(text))]
        matches = [m for m in r.phrase_re.finditer(text) if not (skip_lo <= m.start() < skip_hi)]
        in_range = set()
        for a, b in zip(matches, matches[1:]):
            between = text[a.end():b.start()]
            if len(between) <= 14 and r.range_join.fullmatch(between):
                in_range.update((a.start(), b.start()))  # "between Aug. 22 and 24", "du 3 au 5 mars": not one day
        for m in matches:
            if (r.range_start.search(text, max(0, m.start() - 24), m.start())
                    or r.bound.search(text, max(0, m.start() - 40), m.start())
                    or r.range_tail.match(text, m.end())):
                in_range.add(m.start())
        changed = True
        while changed:  # "between last Thursday, Jan. 5, and ...": an apposition shares its neighbour's range
            changed = False
            for a, b in zip(matches, matches[1:]):
                if (a.start() in in_range) != (b.start() in in_range) and re.fullmatch(r"[\s,()]{1,3}", text[a.end():b.start()]):
                    in_range.update((a.start(), b.start()))
                    changed = True
        out = []
        for m in matches:
            if m.start() in in_range:
                continue
            value = resolve(r, m, published, day_precision)
            if value is None or (published and value > published):
                continue
            lo, _ = sentence_bounds(sents, m.start())
            if self.is_future(text, m.start(), lo):
                continue
            out.append((DatePhrase(m.start(), m.end(), value), m))
        return out

    # -- features --------------------------------------------------------------------------

    def features(self, doc: Doc, cands: list[tuple[DatePhrase, re.Match]]) -> None:
        text, r = doc_text(doc), self.rules
        meta = doc._.meta or {}
        published = meta.get("published") if meta.get("published_precision", "day") == "day" else None
        sents = doc._.sent_bounds or [(0, len(text))]
        cues_ = _Cues(text, r)
        values = Counter(p.value for p, _ in cands)
        distinct = sorted(values)
        n = max(len(text), 1)
        for p, m in cands:
            s, e = p.start, p.end
            lo, hi = sentence_bounds(sents, s)
            # only a window around the date matters: a sentence of 100,000 characters costs no more
            lo, hi = max(lo, s - 2 * BEFORE - 200), min(hi, len(text), e + 2 * AFTER + 200)
            cl, ch = clause_bounds(text, s, e, lo, hi, r.breaks)
            # "Le 26 août, le personnel a envoyé...", "On May 2, staff sent...": a date opening its sentence
            # dates the sentence's main verb, further away than a date inside a clause would
            initial = len(text[lo:s].strip()) <= 4 and text[e:e + 2].lstrip().startswith(",")
            reach = 2 if initial else 1
            # "...laissée sans surveillance durant des heures, dimanche.": a date closing its sentence likewise
            final = not text[e:hi].strip(" .!»\"”)") and bool(text[cl:s].rstrip().endswith(","))
            reach_b = 2 if final else 1
            before = list(cues_.roles_in(max(cl, s - BEFORE * reach_b), s))
            # after the date, its clause ends where a complement clause begins ("announced Tuesday that
            # hackers had accessed...": the access is not dated Tuesday)
            after_hi = min(ch, e + AFTER * reach)
            sub = r.complementizer.search(text, e, after_hi)
            if sub and not r.cleft.search(text, max(lo, s - 24), s):  # "C'est le 10 mars qu'Audi a appris...": cleft
                after_hi = sub.start()
            after = list(cues_.roles_in(e, after_hi))
            in_sentence = {c[2] for c in cues_.roles_in(lo, hi)}
            line_lo = text.rfind("\n", max(0, s - 700), s) + 1 or max(0, s - 700)
            line_hi = text.find("\n", e, e + 700)
            line_hi = min(len(text), e + 700) if line_hi < 0 else line_hi
            line = text[line_lo:line_hi]

            def fam(name, b, a, lo_=cl, hi_=ch):
                best = 0.0
                for fs, fe in cues_.family_in(name, max(lo_, s - b), s):
                    best = max(best, _closeness(s - fe))
                for fs, fe in cues_.family_in(name, e, min(hi_, e + a)):
                    if "," not in text[e:fs]:  # "Monday, the city said" / ", selon la ville": the whole sentence's source
                        best = max(best, _closeness(fs - e))
                return best

            common = {
                # reporting and court words before the date ("said Tuesday", "filed on May 4"); after it only
                # right after ("Monday said"): "occurred on May 2, the city said" dates the occurrence
                "procedure": fam("procedure", 100, 25),
                "report": fam("report", 60, 15),
                "caption": float(len(line) < 700 and next(cues_.family_in("caption", line_lo, line_hi), None) is not None),
                "header": float(next(cues_.family_in("header", max(line_lo, s - 30), s), None) is not None
                                or len(line.strip()) <= (e - s) + 25),
                "cross_reference": fam("cross_reference", 80, 40, lo, hi),
                "approx": float(bool(r.approx.search(text, max(0, s - 30), s))),
                "is_published_day": float(published is not None and p.value == published),
                "near_published": float(published is not None and 1 <= (published - p.value).days <= 7),
                "explicit_year": float(precision_of(m) == "year"),
                "weekday_or_relative": float(precision_of(m) in ("weekday", "relative")),
                "past_marker": float(bool(m.group("p1") or m.group("p3") or m.group("p3a"))),
                "lede": float(s < 400),
                "position": s / n,
                "earliest": float(len(distinct) > 1 and p.value == distinct[0]),
                "latest": float(len(distinct) > 1 and p.value == distinct[-1]),
                "repeated": min(values[p.value] - 1, 2) / 2.0,
                "initial": float(initial),
            }
            # the nearest cue before the date, a verb before a nearer noun; a reporting or court word nearer than
            # every role cue ("the employee was dismissed on April 23") leaves the date to no role
            nearest_before = min(before, key=lambda c: (s - c[1]) + (40 if c[3] else 0), default=None)
            if nearest_before is not None:
                gap = s - nearest_before[1]
                if any(list(cues_.family_in(name, max(nearest_before[1], s - gap), s)) for name in ("procedure", "report")):
                    nearest_before = None
            verbs_after = [c for c in after if not c[3]]
            nearest_after = verbs_after[0] if verbs_after else None
            # "occurred and was detected on March 5": verbs coordinated right before the date share it
            shared_before = set()
            if nearest_before is not None:
                for c in before:
                    if c[1] <= nearest_before[0] and not c[3] and r.coordination.fullmatch(text, c[1], nearest_before[0]):
                        shared_before.add(c[2])
            for role in ROLES:
                f = dict(common)
                f["own_verb_before"] = max((_closeness((s - c[1]) // reach_b) for c in before if c[2] == role and not c[3]),
                                           default=0.0)
                f["own_clause"] = float(any(c[2] == role and not c[3] for c in cues_.roles_in(cl, ch)))
                f["own_noun_before"] = max((_closeness(s - c[1]) for c in before if c[2] == role and c[3]), default=0.0)
                # "la cyberattaque du 21 juin", "the breach of May 2": the noun names the day's event
                f["own_noun_adjacent"] = float(any(c[2] == role and c[3] and s - c[1] <= 6 for c in before))
                # a noun after the date names no role ("on January 24 to address the discovery of...")
                f["own_verb_after"] = max((_closeness((c[0] - e) // reach) for c in after if c[2] == role and not c[3]),
                                          default=0.0)
                f["own_nearest_before"] = float(nearest_before is not None and (nearest_before[2] == role or role in shared_before))
                f["own_nearest_after"] = float(nearest_after is not None and nearest_after[2] == role)
                f["own_sentence"] = float(role in in_sentence)
                f["other_before"] = max((_closeness(s - c[1]) for c in before if c[2] != role and not c[3]), default=0.0)
                f["other_after"] = max((_closeness((c[0] - e) // reach) for c in after if c[2] != role and not c[3]),
                                       default=0.0)
                p.features[role] = f

    # -- choice ----------------------------------------------------------------------------

    @staticmethod
    def score(w: dict, f: dict) -> float:
        return sum(w.get(k, 0.0) * v for k, v in f.items())

    def choose(self, phrases: list[DatePhrase]) -> dict[str, DatePhrase]:
        chosen: dict[str, DatePhrase] = {}
        for role in ROLES:
            w = self.weights[role]
            best, best_score = None, w.get(NONE, 0.0)
            for p in phrases:
                sc = self.score(w, p.features[role])
                p.scores[role] = sc
                if sc > best_score:
                    best, best_score = p, sc
            if best is not None:
                chosen[role] = best
                if best.role is None:
                    best.role = role
        return chosen

    def __call__(self, doc: Doc) -> Doc:
        cands = self.candidates(doc)
        self.features(doc, cands)
        phrases = [p for p, _ in cands]
        doc._.date_phrases = phrases
        doc._.dates = self.choose(phrases)
        return doc
