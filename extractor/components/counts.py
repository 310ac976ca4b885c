"""`incident_counts`: the number of people affected, with its qualifier and unit.

Candidates are numbers written with any thousands separator (``5,000``, ``31 450`` with
normal, non-breaking or narrow spaces), decimals with a scale word (``1,2 million``,
``2.5 million``, ``2,7 M``), spelled-out numbers (``six million``, ``deux millions de``),
approximate nouns (``une vingtaine``) and figures in brackets (``des clients (3 962)``,
``deux mille (2 000) clients``), each followed by a unit noun from
``resources/<lang>/count_units.jsonl``. Years, money, ages, percentages, phone numbers,
times, dates and counts of files or organizations are no candidates.

Which candidate is the victim count is a scored choice: every candidate gets features
computed from the text around it (unit class, qualifier, cue words of the affected group,
of recipients, insiders, a whole population or a statistic, another organization named in
its clause, a rounded figure restated exactly elsewhere, revision markers, position,
repetition...), a linear score with the weights of ``resources/shared/count_weights.json``
(fitted by ``eval/fit_counts.py``), and competes with a "none" candidate: when "none" wins,
no count is given. Word families live in ``resources/<lang>/counts.json`` and ``numbers.json``,
compiled by ``count_rules.py``; this module finds the candidates, computes their features and chooses.
"""

from __future__ import annotations

import json
import math
import re
from bisect import bisect_right
from collections import namedtuple
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Optional

from spacy.tokens import Doc

from ..resources import ROOT
from ..cue_index import doc_low
from ._util import clause_bounds, doc_text, register, sentence_bounds
from .count_rules import SEP, rules_for

_DIGITS = re.compile(
    rf"(?<![\w.,/-])(\d{{1,3}}(?:(?:{SEP}|,(?=\d{{3}}(?!\d))|\.(?=\d{{3}}(?!\d)))\d{{3}})+|\d+)(?:[.,](\d{{1,2}})(?!\d))?"
)
_BRACKET_OPEN = re.compile(r"[(\[]\s{0,2}$")
_BRACKET_CLOSE = re.compile(r"\s{0,2}[)\]]")

# Candidate features, in the order of the weight vector. "none_*" belong to the "none" row.
FEATURES = (
    "people", "unit_accounts", "records_no_people",
    "qual_approx", "qual_at_least", "qual_up_to",
    "breach_sentence", "in_title", "in_lead", "position", "freq",
    "old_figure", "new_marker",
    "small", "rounded", "rounded_of_other", "precise_of_other",
    "wrong_group", "other_org", "victim_cue", "spelled",
    "none", "none_vague", "none_people_cands",
)
# The cues of a count of some other group (recipients, insiders, a whole population, a statistic,
# accounts reset as a precaution) are pooled into one feature, "wrong_group": each alone is too
# rare in a training corpus for its own weight, and all of them mean the same thing for the choice.
WRONG_GROUP = ("not_victims", "actor", "population", "statistic", "precaution", "whole")
NONE_FEATURES = ("none", "none_vague", "none_people_cands")


@dataclass
class CountCandidate:
    value: int
    start: int           # evidence start (qualifier included)
    end: int             # evidence end (unit included)
    num_start: int
    num_end: int
    unit: Optional[str]
    unit_class: str
    qualifier: str
    score: float = 0.0
    kind: str = "digits"  # digits | words | approx_noun
    gap: int = 0           # words between the number and its unit
    features: dict = field(default_factory=dict)


_Ent = namedtuple("_Ent", "label_ text start_char")


def _ents(doc: Doc) -> list:
    """The entities' label, text and start, read once (a Span's text joins its tokens anew at each access)."""
    text = doc_text(doc)
    return [_Ent(e.label_, text[e.start_char:e.end_char], e.start_char) for e in doc.ents]


@lru_cache(maxsize=None)
def weights() -> dict:
    with open(ROOT / "shared" / "count_weights.json", encoding="utf-8") as fh:
        return json.load(fh)


def significant_digits(value: int) -> int:
    s = str(value).rstrip("0")
    return max(len(s), 1)


def rounds_to(rounded: int, precise: int) -> bool:
    """`rounded` is `precise` rounded (nearest, down or up) at `rounded`'s significant digits."""
    if rounded == precise or precise <= 0:
        return False
    sig = significant_digits(rounded)
    if significant_digits(precise) <= sig:
        return False
    if abs(rounded - precise) > 0.15 * precise:
        return False
    step = 10 ** (len(str(rounded)) - sig)
    return rounded in (round(precise / step) * step, (precise // step) * step, -(-precise // step) * step)


make_counts = register("incident_counts", lambda lang: CountsComponent(lang))


class CountsComponent:
    def __init__(self, lang: str):
        self.lang = lang
        self.rules = rules_for(lang)
        if not Doc.has_extension("victims"):
            Doc.set_extension("victims", default=None)
            Doc.set_extension("count_candidates", default=None)
            Doc.set_extension("count_none_features", default=None)

    # -- candidates --------------------------------------------------------------
    def candidates(self, doc: Doc) -> list[CountCandidate]:
        text, r = doc_text(doc), self.rules
        low = doc_low(doc, text)
        spans: list[tuple[int, int, float, int, str]] = []  # num_start, num_end(after scale), value, raw_end, kind
        taken_starts, taken_reach = [], []  # the figures' starts (ascending) and the furthest end of those so far

        def taken(pos: int) -> bool:
            """Inside a figure in digits (some start <= pos < its end)?"""
            i = bisect_right(taken_starts, pos)
            return i > 0 and taken_reach[i - 1] > pos

        for m in _DIGITS.finditer(text):
            value, end = r.digits_value(m, text)
            if value is None:
                continue
            spans.append((m.start(), end, value, m.end(), "digits"))
            taken_starts.append(m.start())
            taken_reach.append(max(end, taken_reach[-1]) if taken_reach else end)
        may = r.text_index.candidates(low)
        for m in r.words_index.finditer(text, low):
            if taken(m.start()):
                continue
            phrase = m.group(0)
            low = phrase.lower().split()
            if len(low) == 1 and low[0] in r.one_words:
                continue
            if all(w.lower() in r.nums["scales"] for w in low):
                continue  # "des millions de" alone is vague, not a figure
            value = r.words_value(phrase)
            if value is None or value < 2:
                continue
            spans.append((m.start(), m.end(), float(value), m.end(), "words"))
        if r.approx_re is not None and "approx_re" in may:
            for m in r.approx_re.finditer(text):
                if taken(m.start()):
                    continue
                spans.append((m.start(), m.end(), float(r.approx_words[m.group(1).lower()]), m.end(), "approx_noun"))
        out = []
        sents = doc._.sent_bounds
        for num_start, num_end, value, raw_end, kind in spans:
            if value != int(value) or value < 1:
                continue
            value = int(value)
            after = text[num_end:num_end + 80]
            before = text[max(0, num_start - 40):num_start]
            if r.excl_after.match(after) or r.excl_before.search(before):
                continue
            if r.month_re.match(after) or r.month_before.search(before):
                continue
            bracketed = bool(_BRACKET_OPEN.search(before)) and bool(_BRACKET_CLOSE.match(after))
            if re.match(r"^[-–./:]\d", after) or re.search(r"\+\d*\s*$", before) or re.match(r"^\s*h\s*\d", after):
                continue
            if re.search(r"[(]\d*\s*$", before) and not bracketed:
                continue  # "(514) 555-...": an area code
            if re.match(r"^(?:e|er|ère|re|ème|st|nd|rd|th)\b", after):
                continue
            lo, hi = sentence_bounds(sents, num_start)
            unit_from = num_end
            if bracketed:
                unit_from = _BRACKET_CLOSE.match(text, num_end).end()
            um = r.after_re.match(text, unit_from)
            unit, unit_class, end, gap = None, None, num_end, 0
            if um:
                key = um.group(2).lower()
                unit, unit_class = r.unit_of.get(key, (None, None))
                end = um.end()
                gap = len([w for w in um.group(1).split() if w.lower() not in r.filler_set])
                if um.group(2)[:1].isupper() and not r.unit_case.get(key, False):
                    unit_class = None  # "4 Kids", "Les 7 Employés": a name, not a unit
            elif bracketed:
                bm = r.unit_before_bracket.search(text[max(lo, num_start - 60):num_start])
                if bm:
                    unit, unit_class = r.unit_of.get(bm.group(1).lower(), (None, None))
                    end = _BRACKET_CLOSE.match(text, num_end).end()
            of_them = None if unit_class is not None or um or bracketed or r.of_them is None else r.of_them.match(text, num_end)
            if of_them:
                group = self._group_before(text, lo, num_start)
                if group is not None:
                    unit, unit_class = r.unit_of.get(group.lower(), (None, None))
                    end = of_them.end()
            if unit_class is None and not um:
                bm = r.before_re.search(text[max(lo, num_start - 120):num_start])
                if bm:
                    unit, unit_class = r.unit_of.get(bm.group(1).lower(), (None, None))
            if unit_class in (None, "excluded"):
                continue
            if 1900 <= value <= 2100 and re.fullmatch(r"\d{4}", text[num_start:raw_end]) and (not um or gap > 0):
                continue  # a year ("2004 – 2010 and included patients"), not a count
            if (unit == "accounts" and r.reset_re.search(text[num_start:min(hi, end + 60)])) or r.reset_before.search(text[max(lo, num_start - 40):num_start]):
                continue  # "a réinitialisé 20 000 comptes", "required all users to reset": a precaution, not victims
            if r.not_before.search(text[max(lo, num_start - 50):num_start]) or r.not_after.match(text, end):
                continue  # named roles that are not the people affected: "sent to", complainants, suspects, a workforce
            clo, chi = clause_bounds(text, num_start, end, lo, hi, r.sent_break)
            if r.period.search(text, clo, chi):
                continue  # "over the past year, 28 million Canadians...": a count per period is a statistic
            qualifier, qstart = "exact", num_start
            pre = text[max(lo, num_start - 40):num_start]
            for q, rx in r.qual.items():
                qm = rx.search(pre)
                if qm:
                    qualifier, qstart = q, num_start - (len(pre) - qm.start())
                    break
            if qualifier != "exact" and r.data_of.search(text[max(lo, num_start - 45):num_start]):
                qualifier, qstart = "exact", num_start  # "information about 1,900 clients": the cue's own word, no qualifier
            if qualifier == "exact" and r.or_more.match(text, end):
                qualifier = "at_least"
            if kind == "approx_noun":
                qualifier = "approx" if qualifier == "exact" else qualifier
            c = CountCandidate(value, qstart, end, num_start, num_end, unit, unit_class, qualifier, kind=kind, gap=gap)
            c.features["bracketed"] = 1.0 if bracketed else 0.0
            out.append(c)
        out.sort(key=lambda c: c.num_start)
        out = self._dedupe(out)
        return out

    def _group_before(self, text: str, lo: int, at: int) -> Optional[str]:
        """The last unit noun standing as a word between `lo` and `at`: the group "of them" refers to."""
        last = None
        for u in self.rules.unit_only.finditer(text, lo, at):
            if u.start() == 0 or not (text[u.start() - 1].isalnum() or text[u.start() - 1] == "_"):
                last = u
        return None if last is None else last.group(1)

    def _dedupe(self, cands: list[CountCandidate]) -> list[CountCandidate]:
        """A bracketed figure restating the one before it ("deux mille (2 000) clients") is one mention."""
        keep: list[CountCandidate] = []
        for c in cands:
            prev = keep[-1] if keep else None
            if prev is not None and c.features.get("bracketed") and prev.value == c.value and c.num_start - prev.num_end <= 4:
                prev.end = max(prev.end, c.end)
                continue
            keep.append(c)
        return keep

    # -- features ----------------------------------------------------------------
    def _main_orgs(self, doc: Doc, ents: Optional[list] = None) -> list[set]:
        """Word sets of the organizations the text is most about (named in the title, or most often).
        `ents`: the document's entities as `_ents` gives them (read from the Doc when not given)."""
        title_end = (doc._.meta or {}).get("title_end", 0) or 0
        sents = doc._.sent_bounds or [(0, len(doc_text(doc)))]
        lead_end = max(title_end, sents[min(1, len(sents) - 1)][1])
        freq: dict[str, int] = {}
        lead = []
        for e in (_ents(doc) if ents is None else ents):
            if e.label_ != "ORG" or e.text.lower() in self.rules.non_victims:
                continue
            freq[e.text] = freq.get(e.text, 0) + 1
            if e.start_char < lead_end:
                lead.append(e.text)
        top = sorted(freq, key=lambda k: -freq[k])[:1]
        return [self._words(n) for n in set(lead) | set(top)]

    @staticmethod
    def _words(name: str) -> set:
        return {w for w in re.findall(r"\w+", name.lower()) if len(w) >= 3}

    def features(self, doc: Doc, cands: list[CountCandidate]) -> dict:
        text, r = doc_text(doc), self.rules
        sents = doc._.sent_bounds or [(0, len(text))]
        lead_end = sents[min(2, len(sents) - 1)][1]
        title_end = (doc._.meta or {}).get("title_end", 0) or 0
        n = max(len(text), 1)
        freq: dict[int, int] = {}
        for c in cands:
            freq[c.value] = freq.get(c.value, 0) + 1
        ents = _ents(doc)
        main = self._main_orgs(doc, ents)
        orgs = [e for e in ents if e.label_ == "ORG" and e.text.lower() not in r.non_victims]
        any_people = any(c.unit_class == "people" for c in cands)
        lead_text = text[:max(lead_end, title_end)]
        for c in cands:
            f = c.features
            lo, hi = sentence_bounds(sents, c.num_start)
            sentence = text[lo:hi]
            clo, chi = clause_bounds(text, c.num_start, c.end, lo, hi, r.sent_break)
            before = text[max(lo, c.start - 60):c.start]
            after = text[c.end:min(hi, c.end + 80)]
            f["people"] = 1.0 if c.unit_class == "people" else 0.0
            f["unit_employees"] = 1.0 if c.unit == "employees" else 0.0
            f["unit_accounts"] = 1.0 if c.unit == "accounts" else 0.0
            for q in ("approx", "at_least", "up_to"):
                f[f"qual_{q}"] = 1.0 if c.qualifier == q else 0.0
            f["breach_sentence"] = 1.0 if (r.context.search(sentence) or r.breach.search(sentence)) else 0.0
            f["in_title"] = 1.0 if c.num_start < title_end else 0.0
            f["in_lead"] = 1.0 if c.num_start < max(lead_end, title_end) else 0.0
            f["position"] = round(c.num_start / n, 3)
            f["old_marker"] = 1.0 if r.old_re.search(text[max(lo, c.start - 60):c.start]) else 0.0
            f["pair_first"] = 1.0 if r.pair_re.match(text, c.num_end) else 0.0
            f["new_marker"] = 1.0 if (r.new_re.search(text[max(lo, c.start - 60):c.start]) or r.revision.search(sentence)) else 0.0
            whole = bool(r.total_re.search(before) or r.all_re.search(text[max(lo, c.start - 30):c.start]))
            if not whole and r.whole_re.search(text[max(lo, c.start - 15):c.start]):
                # "of 62,000 customers, about 100 accounts": the first figure is the whole
                whole = any(o is not c and c.end <= o.num_start <= c.end + 40 and o.num_start < hi for o in cands)
            f["whole"] = 1.0 if whole else 0.0
            f["freq"] = float(min(freq[c.value] - 1, 3))
            f["log_value"] = round(math.log10(max(c.value, 1)), 3)
            f["small"] = 1.0 if c.value < 10 else 0.0
            f["rounded"] = 1.0 if c.value >= 100 and significant_digits(c.value) <= 2 else 0.0
            f["rounded_of_other"] = 1.0 if any(rounds_to(c.value, o.value) for o in cands) else 0.0
            f["precise_of_other"] = 1.0 if any(rounds_to(o.value, c.value) for o in cands) else 0.0
            clause_before = text[clo:c.start]
            recipient = bool(r.recipient_prep.search(text[max(clo, c.start - 20):c.start]) and r.recipient_verb.search(clause_before))
            recipient = recipient or (c.unit_class == "people" and bool(r.recipient_direct.search(text[max(clo, c.start - 20):c.start])))
            f["not_victims"] = 1.0 if recipient else 0.0
            f["actor"] = 1.0 if (r.actor_before.search(text[max(clo, c.start - 40):c.start]) or r.actor_after.match(text[c.end:chi])) else 0.0
            f["population"] = 1.0 if (whole or r.population_before.search(text[max(clo, c.start - 50):c.start])
                                      or r.population_after.match(text[c.end:chi])) else 0.0
            f["statistic"] = 1.0 if r.statistic.search(text[clo:chi]) else 0.0
            f["precaution"] = 1.0 if ((c.unit == "accounts" and r.reset_re.search(text[c.num_start:min(hi, c.end + 60)]))
                                      or r.precaution.search(text[max(lo, c.start - 40):c.start])) else 0.0
            other = False
            for e in orgs:
                if clo <= e.start_char < chi and not (c.start <= e.start_char < c.end):
                    words = self._words(e.text)
                    acronym = e.text.isupper() and e.text in lead_text
                    if words and not acronym and not any(words & m for m in main):
                        other = True
                        break
            f["other_org"] = 1.0 if other else 0.0
            f["data_of"] = 1.0 if r.data_of.search(text[max(lo, c.start - 45):c.start]) else 0.0
            f["affected"] = 1.0 if (r.affected_after.match(after) or r.affected_before.search(text[max(lo, c.start - 45):c.start])) else 0.0
            f["year_like"] = 1.0 if 1900 <= c.value <= 2100 else 0.0
            f["gap_words"] = float(min(c.gap, 3))
            f["spelled"] = 1.0 if c.kind in ("words", "approx_noun") else 0.0
            f.setdefault("bracketed", 0.0)
            f["records_no_people"] = 1.0 if c.unit_class == "records" and not any_people else 0.0
            f["wrong_group"] = max(f[k] for k in WRONG_GROUP)
            f["old_figure"] = max(f["old_marker"], f["pair_first"])
            f["victim_cue"] = max(f["data_of"], f["affected"])
            for k in NONE_FEATURES:
                f[k] = 0.0
        vague = 0.0
        if r.vague is not None and "vague" in r.text_index.candidates(doc_low(doc, text)):
            for m in r.vague.finditer(text):
                if r.unit_of.get(m.group(1).lower(), (None, None))[1] == "people":
                    vague = 1.0
                    break
        return {"none": 1.0, "none_vague": vague,
                "none_people_cands": 1.0 if any(c.unit_class == "people" for c in cands) else 0.0}

    def score(self, doc: Doc, cands: list[CountCandidate]) -> float:
        """Score every candidate; return the score of "none"."""
        w = weights()["features"]
        none_f = self.features(doc, cands)
        doc._.count_none_features = none_f
        for c in cands:
            c.score = round(sum(w.get(k, 0.0) * c.features.get(k, 0.0) for k in FEATURES), 4)
        return sum(w.get(k, 0.0) * none_f.get(k, 0.0) for k in FEATURES)

    def __call__(self, doc: Doc) -> Doc:
        cands = self.candidates(doc)
        none_score = self.score(doc, cands)
        doc._.count_candidates = cands
        best = None
        for c in cands:
            if c.score > none_score and (best is None or c.score > best.score):
                best = c
        if best is not None:
            # a qualifier stated on another mention of the same figure ("about 5,000") counts
            qual = best.qualifier
            if qual == "exact":
                for c in cands:
                    if c.value == best.value and c.qualifier != "exact":
                        qual = c.qualifier
                        break
            best.qualifier = qual
        doc._.victims = best
        return doc
