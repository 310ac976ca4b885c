"""`incident_data_types`: which kinds of personal information were exposed.

Terms come from ``resources/<lang>/data_types.jsonl`` (one regex per line with its code
from the shared taxonomy). A term counts when its clause is not negated ("aucune donnée
bancaire", "no banking information") and its sentence speaks of exposed data.
``unspecified_personal_information`` is kept only when nothing more precise is named.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from spacy.language import Language
from spacy.tokens import Doc

from ..resources import cue_regex, load_jsonl
from ._util import clause_bounds, iter_labelled, sentence_bounds, split_patterns

UNSPECIFIED = "unspecified_personal_information"

if not Doc.has_extension("data_types"):
    Doc.set_extension("data_types", default=None)


@dataclass
class DataTypeHit:
    code: str
    start: int
    end: int


class DataTypeRules:
    def __init__(self, lang: str):
        rows = load_jsonl(lang, "data_types.jsonl")
        self.sens, self.insens, self.labels = split_patterns([(r["pattern"], r["code"]) for r in rows])
        self.negation = cue_regex(lang, "negation", word_bounded=False)
        self.breaks = cue_regex(lang, "clause_break", word_bounded=False)
        self.context = cue_regex(lang, "data_context", word_bounded=False)


@lru_cache(maxsize=None)
def rules_for(lang: str) -> DataTypeRules:
    return DataTypeRules(lang)


@Language.factory("incident_data_types", default_config={})
def make_data_types(nlp: Language, name: str):
    return DataTypesComponent(nlp.lang)


class DataTypesComponent:
    def __init__(self, lang: str):
        self.rules = rules_for(lang)

    def __call__(self, doc: Doc) -> Doc:
        text, r = doc.text, self.rules
        sents = doc._.sent_bounds
        hits = list(iter_labelled(text, (r.sens, r.insens), r.labels))
        per_sentence: dict[tuple[int, int], int] = {}
        for s, e, _ in hits:
            b = sentence_bounds(sents, s)
            per_sentence[b] = per_sentence.get(b, 0) + 1
        found: dict[str, DataTypeHit] = {}
        for s, e, code in hits:
            lo, hi = sentence_bounds(sents, s)
            cl, ch = clause_bounds(text, s, e, lo, hi, r.breaks)
            if r.negation.search(text, cl, ch):
                continue
            sentence = text[lo:hi]
            if per_sentence[(lo, hi)] < 2 and not r.context.search(sentence.replace(text[s:e], " ")):
                continue
            if code not in found:
                found[code] = DataTypeHit(code, s, e)
        if len(found) > 1:
            found.pop(UNSPECIFIED, None)
        doc._.data_types = sorted(found.values(), key=lambda h: h.start)
        return doc
