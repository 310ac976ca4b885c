"""`incident_dates`: when the breach happened, was discovered, contained and disclosed.

The date phrases and their days come from ``date_phrases.py`` (ranges, bounds, future dates and
page headers are no candidates).
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
from functools import lru_cache

from spacy.language import Language
from spacy.tokens import Doc

from ..cue_index import doc_low
from ..resources import ROOT
from ._util import clause_bounds, doc_text, sentence_bounds
from .date_phrases import ROLES, DatePhrase, DateRules, find_phrases, precision_of, rules_for

BEFORE, AFTER = 160, 120  # how far (characters, inside the clause) a cue is looked for around a date
SCALE = 30.0  # closeness of a cue d characters away: 1 / (1 + d / SCALE)
FEATURES = (
    "own_verb_before", "own_noun_before", "own_verb_after", "own_nearest_before",
    "own_nearest_after", "own_sentence", "other_before", "other_after", "procedure", "report", "caption",
    "header", "cross_reference", "approx", "is_published_day", "near_published", "explicit_year", "weekday_or_relative",
    "past_marker", "lede", "position", "earliest", "latest", "repeated", "initial", "own_clause", "own_noun_adjacent",
    "own_same_day",
)
CLAIM = 30  # a cue this close before a date (characters) dates that phrase, not an earlier one
SAME_DAY_NEAR = 80  # how far (characters) a role cue makes a same-day marker that role's ("noticed within minutes")
META_NEAR = 40  # a cross-reference cue this close before a date (characters) makes it the date of no event
QUOTE_NEAR = 12  # a reporting word this close to a date (characters) makes it the date of a statement only
SAME_DAY_REACH = 700  # how far after a date (characters, no other date between) a same-day marker refers to it
NONE = "none"
SPAN_ROLES = ("incident",)  # the roles a stated range spans: a day that ends the range is no day of theirs

if not Doc.has_extension("dates"):
    Doc.set_extension("dates", default=None)
    Doc.set_extension("date_phrases", default=None)


@lru_cache(maxsize=None)
def weights() -> dict:
    with open(ROOT / "shared" / "date_weights.json", encoding="utf-8") as fh:
        data = json.load(fh)
    return {role: data["roles"][role]["features"] for role in ROLES}



def _claimed(text: str, starts: list[int], cue_end: int, own: int, limit: int) -> bool:
    """Whether a date phrase other than the one at `own` begins within CLAIM characters after a cue, or before
    `limit` (the end of the clause after the date at `own`) with no comma or quote between: "survenue le 18
    février, a été détectée par l'équipe trois jours plus tard" dates the detection by the later phrase."""
    i = bisect.bisect_left(starts, cue_end)
    if i >= len(starts) or starts[i] == own:
        return False
    return starts[i] - cue_end <= CLAIM or (starts[i] < limit and not _CLAUSE_MARK.search(text, cue_end, starts[i]))


_CLAUSE_MARK = re.compile(r"[,;:«»\"“”()]")


def _closeness(d: int) -> float:
    return 1.0 / (1.0 + max(d, 0) / SCALE)


class _Cues:
    """Every cue of a document, found once: role cues (longest match wins across roles) and word families.

    Each family's regex runs as an AlternationIndex over the document's screened text (`low`): only the
    alternatives whose literals occur are tried, and the matches are those of the whole regex."""

    def __init__(self, text: str, low: str, rules: DateRules):
        found = []
        for role, rx in rules.role_index.items():
            for m in rx.finditer(text, low):
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
        for name, rx in rules.family_index.items():
            spans = [(m.start(), m.end()) for m in rx.finditer(text, low) if m.end() > m.start()]
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
        # same-day markers of a role ("noticed within minutes", "détectée le jour même"): only beside a cue of that role
        self.same_day = {}
        for role, rx in rules.same_day_index.items():
            spans = []
            for m in rx.finditer(text, low):
                lo, hi = max(0, m.start() - SAME_DAY_NEAR), m.end() + SAME_DAY_NEAR
                if any(c[2] == role for c in self.roles_in(lo, hi)):
                    spans.append(m.start())
            self.same_day[role] = spans

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

    def candidates(self, doc: Doc) -> list[tuple[DatePhrase, re.Match]]:
        text = doc_text(doc)
        return find_phrases(text, self.rules, doc._.meta or {}, doc._.sent_bounds or [(0, len(text))], doc_low(doc, text))

    # -- features --------------------------------------------------------------------------

    def features(self, doc: Doc, cands: list[tuple[DatePhrase, re.Match]]) -> None:
        text, r = doc_text(doc), self.rules
        meta = doc._.meta or {}
        published = meta.get("published") if meta.get("published_precision", "day") == "day" else None
        sents = doc._.sent_bounds or [(0, len(text))]
        if not cands:  # no date phrase: no feature to compute, no cue to find
            return
        cues_ = _Cues(text, doc_low(doc, text), r)
        values = Counter(p.value for p, _ in cands)
        starts = sorted(p.start for p, _ in cands)
        # the dates of events: a cross-reference's or a caption's date ("first reported on Oct. 3") dates none, nor
        # does a date that only dates a quote ("the registrar said Tuesday", "a-t-il déclaré lundi"), so a same-day
        # marker after it ("detected within hours", "aware of it on the day it happened") refers to the event before
        events = sorted(p.start for p, _ in cands if not self._meta(text, cues_, p) and not self._quoted(text, cues_, p))
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
            # a cue right before another date is that date's ("survenue le 2 mai et a été détectée le 6 mai")
            after = [c for c in cues_.roles_in(e, after_hi) if not _claimed(text, starts, c[1], s, after_hi)]
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

            # "l'action collective ... à la suite de la cyberattaque du 21 juin": an event noun right before the
            # date names the day of that event, whatever court or reporting words the sentence has
            named = any(c[3] and s - c[1] <= 6 for c in before)
            common = {
                # reporting and court words before the date ("said Tuesday", "filed on May 4"); after it only
                # right after ("Monday said"): "occurred on May 2, the city said" dates the occurrence
                "procedure": 0.0 if named else fam("procedure", 100, 25),
                "report": 0.0 if named else fam("report", 60, 15),
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
            # a same-day marker after the date with no other date between ("It was noticed within minutes"):
            # it refers to the last event the text dated
            i_next = bisect.bisect_right(events, s)
            upto = min(e + SAME_DAY_REACH, events[i_next]) if i_next < len(events) else e + SAME_DAY_REACH
            if s not in events:
                upto = e  # a date that names no event has no same-day marker of its own
            for role in ROLES:
                f = dict(common)
                marks = cues_.same_day.get(role, ())
                j = bisect.bisect_left(marks, e)
                f["own_same_day"] = float(j < len(marks) and marks[j] < upto)
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

    @staticmethod
    def _meta(text: str, cues_: "_Cues", p: DatePhrase) -> bool:
        """Whether a date phrase is a cross-reference's ("first reported by this outlet on Oct. 3") or sits on a
        caption's line ("FILE - ... on Aug. 2, 2022. THE CANADIAN PRESS"): a date of no event."""
        s, e = p.start, p.end
        if next(cues_.family_in("cross_reference", max(0, s - META_NEAR), s), None) is not None:
            return True
        line_lo = text.rfind("\n", max(0, s - 700), s) + 1 or max(0, s - 700)
        line_hi = text.find("\n", e, e + 700)
        line_hi = min(len(text), e + 700) if line_hi < 0 else line_hi
        return line_hi - line_lo < 700 and next(cues_.family_in("caption", line_lo, line_hi), None) is not None

    @staticmethod
    def _quoted(text: str, cues_: "_Cues", p: DatePhrase) -> bool:
        """Whether a date phrase dates a statement and nothing else: a reporting word right before it ("said
        Tuesday", "said on Tuesday", "a déclaré lundi") or right after it ("Monday said")."""
        s, e = p.start, p.end
        if any(text[fe:s].strip(" ,").lower() in ("", "on", "le", "ce")
               for _, fe in cues_.family_in("report", max(0, s - QUOTE_NEAR), s)):
            return True
        return next(cues_.family_in("report", e, min(len(text), e + QUOTE_NEAR)), (None, None))[0] in (e, e + 1)

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
                if p.range_day and role in SPAN_ROLES:
                    continue
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
