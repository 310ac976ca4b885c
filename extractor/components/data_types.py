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

import re

from ..resources import cue_regex, cues, load_jsonl
from ._util import clause_bounds, iter_labelled, sentence_bounds, split_patterns

UNSPECIFIED = "unspecified_personal_information"
CHANNEL_CODES = {"email", "phone", "address"}

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
        neg = cues(lang)["data_type_negation"]
        self.neg_before = re.compile(rf"(?<![\w])(?:{'|'.join(neg['negation_before'])})\b[^.;:]{{0,80}}$", re.IGNORECASE)
        self.neg_after = re.compile(rf"[^.;:]{{0,40}}?(?<![\w])(?:{'|'.join(neg['negation_after'])})(?![\w])", re.IGNORECASE)
        self.advice = re.compile(rf"(?<![\w])(?:{'|'.join(neg['advice'])})", re.IGNORECASE)
        self.caption = re.compile(r"(?<!\s)\s{0,3}[:/|]\s{0,3}\S")
        self.channel = re.compile(rf"(?<![\w])(?:{'|'.join(neg['channel_before'])})\s+(?:\w+\s+)?$", re.IGNORECASE)
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
        names = [(ent.start_char, ent.end_char) for ent in doc.ents]
        for s, e, code in hits:
            if text[s:s + 1].isupper() and s > 0 and text[s - 1] not in "\n-•:" and (
                    any(a <= s < b for a, b in names) or re.match(r" (?-i:[A-ZÉ])", text[e:e + 2])):
                continue  # "Revenu Québec", "Nom de l'entreprise": part of a name, not a data type
            lo, hi = sentence_bounds(sents, s)
            if text[s:s + 1].isupper() and r.caption.match(text, e) and (s == 0 or text[s - 1] in "\n (["):
                continue  # "Photo : Radio-Canada", "Nom de l'entreprise : ...": a caption or a form label
            cl, ch = clause_bounds(text, s, e, lo, hi, r.breaks)
            if r.advice.search(text, cl, ch):
                continue  # "changez vos mots de passe", "monitor their credit card statements": advice, not exposed data
            if r.neg_before.search(text[cl:s]) or r.neg_after.match(text, e, ch):
                continue  # "aucune donnée bancaire", "card data was not affected", "... sont cryptées et protégées"
            if code in CHANNEL_CODES and r.channel.search(text[max(lo, s - 30):s]):
                continue  # "informé par courriel", "sent to his personal email": a channel, not exposed data
            # the sentence (or the one introducing a list) must speak of data
            plo = sentence_bounds(sents, lo - 1)[0] if lo > 0 else lo
            window = text[plo:hi].replace(text[s:e], " ")
            if per_sentence[(lo, hi)] < 2 and not r.context.search(window):
                continue
            if code not in found:
                found[code] = DataTypeHit(code, s, e)
        if len(found) > 1:
            found.pop(UNSPECIFIED, None)
        doc._.data_types = sorted(found.values(), key=lambda h: h.start)
        return doc
