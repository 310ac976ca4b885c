"""`incident_counts`: the number of people affected, with its qualifier and unit.

Candidates are numbers written with any thousands separator (``5,000``, ``31 450`` with
normal, non-breaking or narrow spaces), decimals with a scale word (``1,2 million``,
``2.5 million``, ``2,7 M``) and spelled-out numbers (``six million``, ``deux mille``),
each followed by a unit noun from ``resources/<lang>/count_units.jsonl``. Years, money,
ages, percentages, phone numbers, times, dates and counts of files or organizations
are not victims. The headline figure wins: people over records, a breach context,
the title and lead, a revised ("désormais", "now") figure over the one it replaced.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Optional

from spacy.language import Language
from spacy.tokens import Doc

from ..resources import alternation, cue_regex, cues, load_json, load_jsonl
from ._util import sentence_bounds

SEP = "[ \u00a0\u202f\u2009\u2007]"
_DIGITS = re.compile(
    rf"(?<![\w.,/-])(\d{{1,3}}(?:(?:{SEP}|,(?=\d{{3}}(?!\d))|\.(?=\d{{3}}(?!\d)))\d{{3}})+|\d+)(?:[.,](\d{{1,2}})(?!\d))?"
)


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


class CountRules:
    """Compiled per-language rules from the data files."""

    def __init__(self, lang: str):
        self.lang = lang
        nums = load_json(lang, "numbers.json")
        self.nums = nums
        self.digit_scales = nums["digit_scales"]
        scale_alt = "|".join(sorted((re.escape(k) for k in self.digit_scales), key=len, reverse=True))
        self.scale_re = re.compile(rf"{SEP}?(?:de{SEP})?({scale_alt})(?![\w$])" if lang == "fr" else rf"{SEP}?({scale_alt})(?![\w$])")
        words = list(nums["units"]) + nums["hundreds"] + list(nums["scales"])
        word_alt = "|".join(sorted((re.escape(w) for w in words), key=len, reverse=True))
        joiners = "|".join(re.escape(j) for j in nums["joiners"] if j != "-")
        self.words_re = re.compile(
            rf"(?<![\w-])(?:{word_alt})(?:(?:[\s-]+|\s+(?:{joiners})\s+)(?:{word_alt}))*(?![\w-])", re.IGNORECASE
        )
        units = load_jsonl(lang, "count_units.jsonl")
        self.unit_of = {}
        self.unit_case = {}  # units written with a capital (Canadiens, Quebecers) may be capitalized
        for row in units:
            self.unit_of[row["pattern"].lower()] = (row["unit"], row["class"])
            self.unit_case[row["pattern"].lower()] = row["pattern"][:1].isupper()
        unit_alt = alternation(tuple(re.escape(r["pattern"]) for r in units), re.IGNORECASE, False).pattern
        fillers = "|".join(sorted((re.escape(f) for f in nums["fillers"]), key=len, reverse=True))
        self.after_re = re.compile(
            rf"(?<!\s)\s{{0,3}}(?:(?:{fillers})(?:\s{{1,3}}|(?<=['’])))?(?:(?:{fillers}|(?-i:[A-ZÉ])[\w’'-]{{1,30}}|\((?-i:[A-Z]{{2,6}})\)|(?-i:[a-zàâçéèêëîïôûù][\w’'-]{{0,30}}))\s{{1,3}}){{0,4}}?({unit_alt})(?![\w])",
            re.IGNORECASE,
        )
        self.before_re = re.compile(
            rf"(?:nombre|total|number)\s+(?:de\s+|d['’]\s*|of\s+)(?:\w+\s+){{0,2}}?({unit_alt})\b[^.;]{{0,80}}$",
            re.IGNORECASE,
        )
        self.excl_after = re.compile(rf"^{SEP}*(?:{'|'.join(nums['excluded_after'])})", re.IGNORECASE)
        self.excl_before = re.compile(rf"(?:{'|'.join(nums['excluded_before'])}){SEP}*$")
        self.reset_re = alternation(tuple(nums["reset_cues"]), re.IGNORECASE, False)
        self.reset_before = re.compile(rf"(?:{'|'.join(nums['reset_cues'])})\w*\s+(?:[^\d.;]{{0,25}}\s)?$", re.IGNORECASE)
        # a marker of the old or the new figure, up to a few words before it ("first said to affect 2.9 million")
        self.old_re = re.compile(rf"(?<![\w])(?:{'|'.join(nums['old_markers'])})(?![\w])[^\d.;,]{{0,40}}$", re.IGNORECASE)
        self.new_re = re.compile(rf"(?<![\w])(?:{'|'.join(nums['new_markers'])})(?![\w])[^\d.;]{{0,40}}$", re.IGNORECASE)
        c = cues(lang)
        self.qual = {
            q: re.compile(rf"(?<![\w])(?:{'|'.join(sorted(v, key=len, reverse=True))})\s*$", re.IGNORECASE)
            for q, v in c["qualifiers"].items()
        }
        self.or_more = re.compile(r"(?<!\s)\s{0,3}(?:ou plus|et plus|or more|and more|plus)\b", re.IGNORECASE)
        self.revision = cue_regex(lang, "revision")
        self.context = cue_regex(lang, "incident_terms")
        self.breach = cue_regex(lang, "breach_terms")
        months = cues(lang)["dates"]["months"]
        self.month_re = re.compile(rf"^{SEP}*(?:{'|'.join(sorted(months, key=len, reverse=True))})\b", re.IGNORECASE)
        self.month_before = re.compile(rf"\b(?:{'|'.join(sorted(months, key=len, reverse=True))})\.?{SEP}*$", re.IGNORECASE)
        self.not_before = re.compile(rf"(?:{'|'.join(nums['not_victims_before'])})\s+(?:les\s+|the\s+|ces\s+|these\s+)?$", re.IGNORECASE)
        self.not_after = re.compile(rf"(?<!\s)\s{{0,3}}(?:{'|'.join(nums['not_victims_after'])})", re.IGNORECASE)
        self.total_re = re.compile(rf"(?<![\d\s\u00a0\u202f.,])\d[\d\s\u00a0\u202f.,]{{0,15}}(?:\s?(?:million|millions|M))?(?:\s\w{{1,20}})?\s{{1,3}}(?:{'|'.join(nums['total_markers'])})\s{{1,3}}$", re.IGNORECASE)
        self.all_re = re.compile(r"(?:\ball|\btous les|\btoutes les|\bl['’]ensemble des|\bchacun des|\beach of(?: the)?|\bevery)\s+$", re.IGNORECASE)
        approx = nums.get("approx_words", {})
        self.approx_words = {k.lower(): v for k, v in approx.items()}
        self.approx_re = re.compile(
            rf"(?<![\w])(?:une?|a|about a|some|environ une?|près d['’]une?)\s+({'|'.join(sorted(approx, key=len, reverse=True))})(?:s)?(?![\w])",
            re.IGNORECASE) if approx else None
        self.pair_re = re.compile(r"[^.;\d]{0,40}?\b(?:à|to|pour|jusqu['’]à)\s+(?:\w+\s+)?\d", re.IGNORECASE)

    # -- numbers ---------------------------------------------------------------
    def digits_value(self, m: re.Match, text: str) -> tuple[Optional[float], int]:
        whole = re.sub(rf"{SEP}|[.,]", "", m.group(1))
        dec = m.group(2)
        end = m.end()
        sm = self.scale_re.match(text, end)
        if sm and not (sm.group(1) in ("M", "G", "B", "K", "k") and text[sm.end():sm.end() + 1] in "$€"):
            scale = self.digit_scales[sm.group(1)] if sm.group(1) in self.digit_scales else self.digit_scales[sm.group(1).lower()]
            value = float(f"{whole}.{dec}" if dec else whole) * scale
            return value, sm.end()
        if dec:
            return None, end  # a decimal without a scale word is not a count of people
        return float(whole), end

    def words_value(self, phrase: str) -> Optional[int]:
        nums = self.nums
        units = {k.lower(): v for k, v in nums["units"].items()}
        hundreds = set(nums["hundreds"])
        scales = {k.lower(): v for k, v in nums["scales"].items()}
        total, current = 0, 0
        tokens = [t for t in re.split(r"[\s-]+", phrase.lower()) if t and t not in nums["joiners"]]
        # French compounds written with hyphens: rebuild "dix-sept", "quatre-vingt-dix"
        merged, i = [], 0
        while i < len(tokens):
            for n in (3, 2):
                cand = "-".join(tokens[i:i + n])
                if len(tokens) - i >= n and cand in units:
                    merged.append(cand)
                    i += n
                    break
            else:
                merged.append(tokens[i])
                i += 1
        seen_number = False
        for t in merged:
            if t in units:
                current += units[t]
                seen_number = True
            elif t in hundreds:
                current = max(current, 1) * 100
                seen_number = True
            elif t in scales:
                current = max(current, 1) * scales[t]
                if scales[t] >= 1000:
                    total += current
                    current = 0
                seen_number = True
            else:
                return None
        if not seen_number:
            return None
        return total + current


@lru_cache(maxsize=None)
def rules_for(lang: str) -> CountRules:
    return CountRules(lang)


@Language.factory("incident_counts", default_config={})
def make_counts(nlp: Language, name: str):
    return CountsComponent(nlp.lang)


class CountsComponent:
    def __init__(self, lang: str):
        self.lang = lang
        self.rules = rules_for(lang)
        if not Doc.has_extension("victims"):
            Doc.set_extension("victims", default=None)
            Doc.set_extension("count_candidates", default=None)

    def candidates(self, doc: Doc) -> list[CountCandidate]:
        text, r = doc.text, self.rules
        spans: list[tuple[int, int, float, int]] = []  # num_start, num_end(after scale), value, raw_end
        taken = []
        for m in _DIGITS.finditer(text):
            value, end = r.digits_value(m, text)
            if value is None:
                continue
            spans.append((m.start(), end, value, m.end()))
            taken.append((m.start(), end))
        for m in r.words_re.finditer(text):
            if any(s <= m.start() < e for s, e in taken):
                continue
            phrase = m.group(0)
            low = phrase.lower().split()
            if low[0] in ("un", "une", "a", "one") and len(low) == 1:
                continue
            if all(w.lower() in r.nums["scales"] for w in low):
                continue  # "des millions de" alone is vague, not a figure
            value = r.words_value(phrase)
            if value is None or value < 2:
                continue
            spans.append((m.start(), m.end(), float(value), m.end()))
        approx_spans = set()
        if r.approx_re is not None:
            for m in r.approx_re.finditer(text):
                if any(s <= m.start() < e for s, e in taken):
                    continue
                spans.append((m.start(), m.end(), float(r.approx_words[m.group(1).lower()]), m.end()))
                approx_spans.add(m.start())
        out = []
        sents = doc._.sent_bounds
        for num_start, num_end, value, raw_end in spans:
            if value != int(value) or value < 1:
                continue
            value = int(value)
            after = text[num_end:num_end + 80]
            before = text[max(0, num_start - 40):num_start]
            if r.excl_after.match(after) or r.excl_before.search(before):
                continue
            if r.month_re.match(after) or r.month_before.search(before):
                continue
            if re.match(r"^[-–./:]\d", after) or re.search(r"[(+]\d*\s*$", before) or re.match(r"^\s*h\s*\d", after):
                continue
            if re.match(r"^(?:e|er|ère|re|ème|st|nd|rd|th)\b", after):
                continue
            lo, hi = sentence_bounds(sents, num_start)
            um = r.after_re.match(text, num_end)
            unit, unit_class, end = None, None, num_end
            if um:
                key = um.group(1).lower()
                unit, unit_class = r.unit_of.get(key, (None, None))
                end = um.end()
                if um.group(1)[:1].isupper() and not r.unit_case.get(key, False):
                    unit_class = None  # "4 Kids", "Les 7 Employés": a name, not a unit
            else:
                bm = r.before_re.search(text[max(lo, num_start - 120):num_start])
                if bm:
                    unit, unit_class = r.unit_of.get(bm.group(1).lower(), (None, None))
            if unit_class in (None, "excluded"):
                continue
            if 1900 <= value <= 2100 and re.fullmatch(r"\d{4}", text[num_start:raw_end]) and not um:
                continue
            if (unit == "accounts" and r.reset_re.search(text[num_start:min(hi, end + 60)])) or r.reset_before.search(text[max(lo, num_start - 40):num_start]):
                continue  # "a réinitialisé 20 000 comptes", "required all users to reset": a precaution, not victims
            if r.not_before.search(text[max(lo, num_start - 50):num_start]) or r.not_after.match(text, end):
                continue  # recipients, complainants, suspects, a workforce: not the people affected
            qualifier, qstart = "exact", num_start
            pre = text[max(lo, num_start - 40):num_start]
            for q, rx in r.qual.items():
                qm = rx.search(pre)
                if qm:
                    qualifier, qstart = q, num_start - (len(pre) - qm.start())
                    break
            if qualifier == "exact" and r.or_more.match(text, end):
                qualifier = "at_least"
            if num_start in approx_spans:
                qualifier = "approx"
            out.append(CountCandidate(value, qstart, end, num_start, num_end, unit, unit_class, qualifier))
        return out

    def score(self, doc: Doc, cands: list[CountCandidate]) -> None:
        text, r = doc.text, self.rules
        sents = doc._.sent_bounds
        lead_end = sents[min(2, len(sents) - 1)][1] if sents else 400
        title_end = doc._.meta.get("title_end", 0) if doc._.meta else 0
        freq: dict[int, int] = {}
        for c in cands:
            freq[c.value] = freq.get(c.value, 0) + 1
        for c in cands:
            lo, hi = sentence_bounds(sents, c.num_start)
            sentence = text[lo:hi]
            s = 3.0 if c.unit_class == "people" else 2.0
            if r.context.search(sentence) or r.breach.search(sentence):
                s += 1.5
            if c.num_start < max(lead_end, title_end):
                s += 1.0
            if r.old_re.search(text[max(lo, c.start - 60):c.start]):
                s -= 3.0
            elif r.pair_re.match(text, c.num_end):
                s -= 2.0  # "de 2,9 millions à 4,2 millions": the first figure is the old one
            if r.new_re.search(text[max(lo, c.start - 60):c.start]) or r.revision.search(sentence):
                s += 1.0
            if r.total_re.search(text[max(lo, c.start - 60):c.start]) or r.all_re.search(text[max(lo, c.start - 30):c.start]):
                s -= 3.0  # "20,000 of its 1.7 million users": the second figure is the whole population
            s += min(1.5, 0.5 * (freq[c.value] - 1))
            c.score = s

    def __call__(self, doc: Doc) -> Doc:
        cands = self.candidates(doc)
        self.score(doc, cands)
        doc._.count_candidates = cands
        best = None
        for c in cands:
            if c.score < 3.0:
                continue
            if best is None or c.score > best.score:
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
