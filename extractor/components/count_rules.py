"""The language rules of `incident_counts`: numbers (digits, scale words, spelled out), unit nouns and the cue families, compiled from ``resources/<lang>/numbers.json``, ``counts.json`` and ``count_units.jsonl``.

No word is written here: every word family comes from the language's files, and the regexes built around
a family (``CUE_PATTERNS``) only say where it must stand (right before the number, in its clause...).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Optional

from ..cue_index import AlternationIndex, CueIndex
from ..resources import alternation, cue_regex, cues, load_json, load_jsonl

SEP = "[ \u00a0\u202f\u2009\u2007]"

# Regexes over the word families of counts.json ("{family}": the family's alternation), by attribute of CountRules.
CUE_PATTERNS = {
    "all_re": r"{all_before}\s+$",
    "whole_re": r"{whole_before}\s+$",
    "pair_re": r"[^.;\d]{{0,40}}?{pair_joiners}\s+(?:\w+\s+)?\d",
    "data_of": r"{data_of_before}\s{{0,3}}(?:{determiners}\s+)?$",
    "affected_after": r"^[^.;\d]{{0,40}}?{affected_after}",
    "affected_before": r"{affected_before}[^.;\d]{{0,30}}$",
    "actor_before": r"{actor_before}[^.;\d]{{0,25}}$",
    "actor_after": r"^[^.;\d]{{0,50}}?{actor_after}",
    "population_before": r"{population_before}\s+(?:[^\s.;\d]{{1,20}}\s+){{0,3}}$",
    "population_after": r"^\s{{0,3}}{population_after}",
    "statistic": r"{statistic_cues}",
    "period": r"{statistic_periods}",
    "recipient_verb": r"{recipient_verbs}",
    # "e-mailed 40 students a spreadsheet": a sending verb right before a count of people
    "recipient_direct": r"{recipient_direct_verbs}\s+$",
    "recipient_prep": r"{recipient_prepositions}\s+(?:{determiners}\s+)?$",
    "precaution": r"{precaution_before}[^.;\d]{{0,30}}$",
}


def _alt(items, bounded: bool = True) -> str:
    body = "|".join(sorted(items, key=len, reverse=True)) or "(?!x)x"
    return rf"(?<![\w])(?:{body})(?![\w])" if bounded else f"(?:{body})"


class _Families(dict):
    """``{family}`` in a CUE_PATTERNS entry: the word-bounded alternation of that family of counts.json."""

    def __init__(self, words: dict):
        super().__init__()
        self.words = words

    def __missing__(self, key: str) -> str:
        return _alt(self.words[key])


class CountRules:
    """Compiled per-language rules from the data files."""

    def __init__(self, lang: str):
        self.lang = lang
        nums = load_json(lang, "numbers.json")
        cw = load_json(lang, "counts.json")
        self.cw = cw
        self.nums = nums
        self.digit_scales = nums["digit_scales"]
        scale_alt = "|".join(sorted((re.escape(k) for k in self.digit_scales), key=len, reverse=True))
        joiners = "|".join(cw["scale_joiners"])
        joiner = rf"(?:(?:{joiners}){SEP}?)?" if joiners else ""
        self.scale_re = re.compile(rf"{SEP}?{joiner}({scale_alt})(?![\w$])")
        words = list(nums["units"]) + nums["hundreds"] + list(nums["scales"])
        word_alt = "|".join(sorted((re.escape(w) for w in words), key=len, reverse=True))
        njoin = "|".join(re.escape(j) for j in nums["joiners"] if j != "-")
        words_tail = rf"(?:(?:[\s-]+|\s+(?:{njoin})\s+)(?:{word_alt}))*(?![\w-])"
        self.words_re = re.compile(rf"(?<![\w-])(?:{word_alt}){words_tail}", re.IGNORECASE)
        # the same matches, each number word tried only where its literal occurs
        self.words_index = AlternationIndex(self.words_re, r"(?<![\w-])", words_tail)
        self.one_words = {w.lower() for w in cw["one_words"]}
        units = load_jsonl(lang, "count_units.jsonl")
        self.unit_of = {}
        self.unit_case = {}  # units written with a capital (Canadiens, Quebecers) may be capitalized
        for row in units:
            self.unit_of[row["pattern"].lower()] = (row["unit"], row["class"])
            self.unit_case[row["pattern"].lower()] = row["pattern"][:1].isupper()
        unit_alt = alternation(tuple(re.escape(r["pattern"]) for r in units), re.IGNORECASE, False).pattern
        self.unit_only = re.compile(rf"({unit_alt})(?![\w])", re.IGNORECASE)
        # "about 2,300 of them", "2 300 d'entre eux": a figure whose unit is the group named before it
        of_them = cw.get("of_them") or []
        self.of_them = re.compile(rf"\s{{0,2}}{_alt(of_them)}", re.IGNORECASE) if of_them else None
        fillers = "|".join(sorted((re.escape(f) for f in nums["fillers"]), key=len, reverse=True))
        self.after_re = re.compile(
            rf"(?<!\s)\s{{0,3}}(?:(?:{fillers})(?:\s{{1,3}}|(?<=['’])))?((?:(?:{fillers}|(?-i:[A-ZÉ])[\w’'-]{{1,30}}|\((?-i:[A-Z]{{2,6}})\)|(?-i:[a-zàâçéèêëîïôûù][\w’'-]{{0,30}}))\s{{1,3}}){{0,4}}?)({unit_alt})(?![\w])",
            re.IGNORECASE,
        )
        self.filler_set = {f.lower() for f in nums["fillers"]}
        self.before_re = re.compile(
            rf"{_alt(cw['number_of'])}\s+(?:{'|'.join(cw['number_of_joiners'])})\s*(?:\w+\s+){{0,2}}?({unit_alt})\b[^.;]{{0,80}}$",
            re.IGNORECASE,
        )
        # "des clients (3 962)": a bracketed figure right after its unit noun
        self.unit_before_bracket = re.compile(rf"(?<![\w])({unit_alt})(?:\s{{1,3}}[\w’'-]{{1,20}}){{0,2}}\s{{0,2}}[(\[]\s{{0,2}}$", re.IGNORECASE)
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
        self.or_more = re.compile(rf"(?<!\s)\s{{0,3}}{_alt(cw['or_more'])}", re.IGNORECASE)
        self.revision = cue_regex(lang, "revision")
        self.context = cue_regex(lang, "incident_terms")
        self.breach = cue_regex(lang, "breach_terms")
        self.clause_break = re.compile("|".join(c["clause_break"]) + r"|[,()«»“”\"]", re.IGNORECASE)
        self.sent_break = re.compile("|".join(c["clause_break"]), re.IGNORECASE)
        vague = c.get("vague_counts") or nums.get("vague_quantities", [])
        self.vague = re.compile(rf"{_alt(vague)}\s+(?:{'|'.join(cw['scale_joiners'] + cw['number_of_joiners'])}\s*)?(?:\w+\s+){{0,2}}?({unit_alt})(?![\w])", re.IGNORECASE) if vague else None
        months = c["dates"]["months"]
        self.month_re = re.compile(rf"^{SEP}*(?:{'|'.join(sorted(months, key=len, reverse=True))})\b", re.IGNORECASE)
        self.month_before = re.compile(rf"\b(?:{'|'.join(sorted(months, key=len, reverse=True))})\.?{SEP}*$", re.IGNORECASE)
        self.not_before = re.compile(rf"(?:{'|'.join(nums['not_victims_before'])})\s+(?:{_alt(cw['determiners'])}\s+)?$", re.IGNORECASE)
        self.not_after = re.compile(rf"(?<!\s)\s{{0,3}}(?:{'|'.join(nums['not_victims_after'])})", re.IGNORECASE)
        self.total_re = re.compile(rf"(?<![\d\s\u00a0\u202f.,])\d[\d\s\u00a0\u202f.,]{{0,15}}(?:\s?(?:{scale_alt}))?(?:\s\w{{1,20}})?\s{{1,3}}(?:{'|'.join(nums['total_markers'])})\s{{1,3}}$", re.IGNORECASE)
        approx = nums.get("approx_words", {})
        self.approx_words = {k.lower(): v for k, v in approx.items()}
        self.approx_re = re.compile(
            rf"{_alt(cw['approx_articles'])}\s+({'|'.join(sorted(approx, key=len, reverse=True))})(?:s)?(?![\w])",
            re.IGNORECASE) if approx else None
        families = _Families(cw)
        for attr, pattern in CUE_PATTERNS.items():
            setattr(self, attr, re.compile(pattern.format_map(families), re.IGNORECASE))
        self.non_victims = {n.lower() for n in c.get("non_victims", [])}
        # the whole-text regexes of the candidates: one that none of its literals' occurrences allows does not run
        self.text_index = CueIndex((k, getattr(self, k).pattern, getattr(self, k).flags)
                                   for k in ("approx_re", "vague") if getattr(self, k) is not None)

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
