"""`incident_relevance`: does the text report one specific breach at a named organization?

A small linear score over signals the other components already computed (breach
vocabulary, a victim organization with cues, a count of people, data types,
authorities) minus signals of the hard negatives (statistics, law, advice, phishing
warnings, lists of many incidents), squashed to [0, 1]. Weights live in
``resources/shared/relevance.json`` so they can be tuned without touching code.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache

from spacy.language import Language
from spacy.tokens import Doc

from ..resources import ROOT, cue_regex

if not Doc.has_extension("relevance"):
    Doc.set_extension("relevance", default=0.0)
    Doc.set_extension("relevance_features", default=None)


@lru_cache(maxsize=None)
def weights() -> dict:
    with open(ROOT / "shared" / "relevance.json", encoding="utf-8") as fh:
        return json.load(fh)


@Language.factory("incident_relevance", default_config={})
def make_relevance(nlp: Language, name: str):
    return RelevanceComponent(nlp.lang)


class RelevanceComponent:
    def __init__(self, lang: str):
        self.strong = cue_regex(lang, "strong_breach_terms")
        self.breach = cue_regex(lang, "breach_terms")
        self.negative = cue_regex(lang, "negative_terms")
        self.incident = cue_regex(lang, "incident_terms")
        self.generic = cue_regex(lang, "relevance", "generic_terms")
        self.plural = cue_regex(lang, "relevance", "plural_breach")
        self.singular = cue_regex(lang, "relevance", "singular_breach")
        self.percent = cue_regex(lang, "relevance", "percent", word_bounded=False)
        self.second_person = cue_regex(lang, "relevance", "second_person")

    def features(self, doc: Doc) -> dict:
        text = doc.text
        org = doc._.organization
        dts = doc._.data_types or []
        rivals, dominance, mentions = 0, 0.0, 0
        if org:
            best = org["score"]
            rivals = sum(1 for g in org["groups"] if g.score >= max(3.0, 0.5 * best)) - 1
            counted = [g for g in org["groups"] if g.penalty < 4.0]
            total = sum(len(g.mentions) for g in counted) or 1
            top = max(counted, key=lambda g: g.score, default=None)
            mentions = len(top.mentions) if top else 0
            dominance = mentions / total
        words = max(len(text.split()), 50) / 100.0
        strong = min(len(self.strong.findall(text)), 6)
        singular = min(len(self.singular.findall(text)), 8)
        return {
            "breach_event": 1.0 if strong + singular > 0 else 0.0,
            "second_person": min(len(self.second_person.findall(text)) / words, 5.0),
            "rival_organizations": min(rivals, 5),
            "organization_dominance": round(dominance, 3),
            "organization_mentions": min(mentions, 10),
            "generic_terms": min(len(self.generic.findall(text)) / words, 5.0),
            "plural_breach": min(len(self.plural.findall(text)), 8),
            "singular_breach": singular,
            "percent": min(len(self.percent.findall(text)), 5),
            "strong_terms": strong,
            "breach_terms": min(len(self.breach.findall(text)), 10),
            "incident_terms": min(len(self.incident.findall(text)), 6),
            "negative_terms": min(len(self.negative.findall(text)), 8),
            "organization": 1.0 if org else 0.0,
            "organization_score": min(org["score"], 15.0) if org else 0.0,
            "victims": 1.0 if doc._.victims else 0.0,
            "data_types": min(len([d for d in dts if d.code != "unspecified_personal_information"]), 4),
            "agencies": min(len(doc._.agencies or []), 3),
        }

    def __call__(self, doc: Doc) -> Doc:
        w = weights()
        f = self.features(doc)
        z = w["bias"] + sum(w["features"].get(k, 0.0) * v for k, v in f.items())
        doc._.relevance_features = f
        doc._.relevance = 1.0 / (1.0 + math.exp(-z))
        return doc
