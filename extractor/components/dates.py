"""`incident_dates`: when the breach happened, was discovered, contained and disclosed.

Date *phrases* are found first (``le 14 juin dernier``, ``samedi``, ``on Saturday``,
``June 14, 2024``, ``2024-06-14``, ``hier``), with month and weekday names from
``resources/<lang>/cues.json``; only then is each phrase resolved against the
publication date (explicit dates through dateparser, weekdays and "yesterday" by
counting back). A relative date with no known publication day stays unresolved.
The role comes from the nearest cue word of the phrase's clause (survenu/occurred,
détecté/discovered, maîtrisé/contained, annoncé/disclosed).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Optional

from spacy.language import Language
from spacy.tokens import Doc

from ..resources import alternation, cues
from ._util import clause_bounds, sentence_bounds

ROLES = ("incident", "discovered", "contained", "disclosed")
NOUN_CUES = {"discovery", "découverte", "détection", "incident", "breach", "attack", "attaque", "fuite", "leak",
             "theft", "vol", "intrusion", "cyberattaque", "violation", "brèche", "piratage", "hack"}

if not Doc.has_extension("dates"):
    Doc.set_extension("dates", default=None)
    Doc.set_extension("date_phrases", default=None)


@dataclass
class DatePhrase:
    start: int
    end: int
    value: Optional[date]
    role: Optional[str] = None


class DateRules:
    def __init__(self, lang: str):
        self.lang = lang
        d = cues(lang)["dates"]
        self.months = {k.lower(): v for k, v in d["months"].items()}
        self.weekdays = {k.lower(): v for k, v in d["weekdays"].items()}
        month = "|".join(sorted(map(re.escape, self.months), key=len, reverse=True))
        wd = "|".join(sorted(map(re.escape, self.weekdays), key=len, reverse=True))
        past = "|".join(sorted(map(re.escape, d["past_markers"]), key=len, reverse=True))
        first = "|".join(map(re.escape, d["first_day"])) or r"(?!x)x"
        day = rf"(?:{first}|[0-3]?\d)(?:st|nd|rd|th|er)?"
        year = r"(?:1[89]\d\d|20\d\d)"
        S = r"[\s\u00a0\u202f]+"
        forms = [
            rf"(?P<iso>{year}-[01]\d-[0-3]\d)",
            rf"(?:(?P<wd1>{wd}),?{S})?(?:the{S})?(?P<d1>{day}){S}(?:of{S})?(?P<m1>{month})\.?(?:,?{S}(?P<y1>{year}))?(?:{S}(?P<p1>{past}))?",
            rf"(?:(?P<wd2>{wd}),?{S})?(?P<m2>{month})\.?{S}(?P<d2>{day})(?![\d:])(?:,?{S}(?P<y2>{year}))?",
            rf"(?:(?P<p3a>{past}){S})?(?P<wd3>{wd})(?:{S}(?P<p3>{past}))?",
        ]
        rel = [(w, "yesterday") for w in d["yesterday"]] + [(w, "day_before") for w in d["day_before_yesterday"]]
        if rel:
            forms.append("(?P<rel>" + "|".join(w for w, _ in sorted(rel, key=lambda x: -len(x[0]))) + ")")
        self.rel_kind = {w.replace("['’]", "'"): k for w, k in rel}
        self.phrase_re = re.compile(r"(?<![\w-])(?:" + "|".join(forms) + r")(?![\w])", re.IGNORECASE)
        self.future = re.compile(rf"(?<![\w])(?:{'|'.join(d.get('future_markers', ['(?!x)x']))})(?![\w])[^.;\d]{{0,50}}$", re.IGNORECASE)
        self.role_res = {role: alternation(tuple(d["roles"][role]), re.IGNORECASE, False) for role in ROLES}
        self.breaks = alternation(tuple(cues(lang)["clause_break"]), re.IGNORECASE, False)
        self.range_join = re.compile(r"(?<!\s)\s{0,3}(?:et|and|au|to|à|–|-|—|through)\s{0,3}(?:le\s{1,3}|the\s{1,3})?", re.IGNORECASE)
        self.range_start = re.compile(
            r"(?:(?:\bentre|\bbetween)\s+(?:le\s+|the\s+)?|(?:\bdu|\bfrom|\bentre le|\bbetween)\s+\d{1,2}(?:er|st|nd|rd|th)?\s*(?:au|to|et|and|-|–)\s+)$",
            re.IGNORECASE)


@lru_cache(maxsize=None)
def rules_for(lang: str) -> DateRules:
    return DateRules(lang)


def _parse_explicit(lang: str, day: int, month: int, year: int) -> Optional[date]:
    """An explicit calendar day, resolved by dateparser (validates the day for its month)."""
    import dateparser

    phrase = f"{year:04d}-{month:02d}-{day:02d}"
    parsed = dateparser.parse(phrase, languages=[lang], settings={"DATE_ORDER": "YMD", "STRICT_PARSING": True})
    return parsed.date() if parsed else None


def resolve(rules: DateRules, m: re.Match, published: Optional[date], day_precision: bool) -> Optional[date]:
    g = m.groupdict()
    if g.get("iso"):
        y, mo, d = (int(x) for x in g["iso"].split("-"))
        return _parse_explicit(rules.lang, d, mo, y)
    for i in ("1", "2"):
        if g.get(f"m{i}"):
            raw_day = re.sub(r"(st|nd|rd|th|er)$", "", g[f"d{i}"].lower())
            dnum = 1 if raw_day in ("1er", "premier", "1") else int(raw_day) if raw_day.isdigit() else None
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
        kind = rules.rel_kind.get(g["rel"].lower().replace("’", "'"), "yesterday")
        return published - timedelta(days=2 if kind == "day_before" else 1)
    return None


@Language.factory("incident_dates", default_config={})
def make_dates(nlp: Language, name: str):
    return DatesComponent(nlp.lang)


class DatesComponent:
    def __init__(self, lang: str):
        self.rules = rules_for(lang)

    def role_of(self, text: str, s: int, e: int, lo: int, hi: int) -> Optional[str]:
        """The role of the nearest cue before the date in its clause; a cue after it only when none precedes."""
        r = self.rules
        cl, ch = clause_bounds(text, s, e, lo, hi, r.breaks)
        best, best_dist = None, 10**9
        for role, rx in r.role_res.items():
            # the incident cues are mostly nouns (attack, breach, incident) that also name the event a
            # discovery or disclosure verb is about: a verb cue wins over a nearer noun
            handicap = 40 if role == "incident" else 0
            for m in rx.finditer(text, max(cl, s - 160), s):
                dist = s - m.end() + handicap
                if dist < best_dist:
                    best, best_dist = role, dist
        if best is not None:
            return best
        for role, rx in r.role_res.items():
            # after the date: a discovery/containment/disclosure verb may come late ("c'est lundi que la
            # Ville a constaté..."), a breach noun only right after it ("le 3 mars, une intrusion...")
            for m in rx.finditer(text, e, min(ch, e + (40 if role == "incident" else 100))):
                if m.group(0).lower() in NOUN_CUES:
                    continue  # "on January 24 to address the discovery of...": a noun after the date names no role
                if m.start() - e < best_dist:
                    best, best_dist = role, m.start() - e
                break
        return best

    def is_future(self, text: str, s: int, lo: int) -> bool:
        """'d'ici le 30 juin', 'expects ... by June 30': a date announced, not one that happened."""
        return bool(self.rules.future.search(text[max(lo, s - 60):s]))

    def __call__(self, doc: Doc) -> Doc:
        text, r = doc.text, self.rules
        meta = doc._.meta or {}
        published: Optional[date] = meta.get("published")
        day_precision = meta.get("published_precision", "day") == "day"
        if published and not day_precision:  # "2006-06": any day of June 2006 may be before publication
            published = (published.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        skip_lo, skip_hi = meta.get("dateline_span") or (0, 0)
        sents = doc._.sent_bounds
        phrases = []
        matches = [m for m in r.phrase_re.finditer(text) if not (skip_lo <= m.start() < skip_hi)]
        in_range = set()
        for a, b in zip(matches, matches[1:]):
            between = text[a.end():b.start()]
            if len(between) <= 12 and r.range_join.fullmatch(between):
                in_range.update((a.start(), b.start()))  # "between Aug. 22 and 24", "du 3 au 5 mars": not one day
        for m in matches:
            if m.start() in in_range or r.range_start.search(text, max(0, m.start() - 20), m.start()):
                continue
            value = resolve(r, m, published, day_precision)
            if value is None:
                continue
            if published and value > published:
                continue
            lo, hi = sentence_bounds(sents, m.start())
            if self.is_future(text, m.start(), lo):
                continue
            role = self.role_of(text, m.start(), m.end(), lo, hi)
            phrases.append(DatePhrase(m.start(), m.end(), value, role))
        chosen: dict[str, DatePhrase] = {}
        for p in phrases:
            if p.role and p.role not in chosen:
                chosen[p.role] = p
        doc._.date_phrases = phrases
        doc._.dates = chosen
        return doc
