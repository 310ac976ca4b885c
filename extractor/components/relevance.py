"""`incident_relevance`: does the text report one specific breach at a named organization?

A small linear score over signals the other components already computed (breach
vocabulary, a victim organization with cues, a count of people, data types,
authorities, a mishap beside personal records for incidents that are not attacks,
proceedings about one breach) minus signals of the hard negatives (statistics, law,
advice, phishing warnings in a company's name, lists of many incidents, an attack that
took no data, a ruling that found no breach, breaches counted in figures or as separate events,
a breach under a conditional: what happens in general), squashed to [0, 1]. Word families live in
``resources/<lang>/cues.json`` and ``resources/<lang>/relevance.json``; the weights in
``resources/shared/relevance.json``, fitted by ``eval/fit_relevance.py``.
"""

from __future__ import annotations

import json
import math
import re
from functools import lru_cache

from spacy.tokens import Doc

from ..cue_index import AlternationIndex, Screen, doc_low, literal_core
from ..prefilter import WINDOW as MISHAP_WINDOW, SpanIndex, _mishap_regexes
from ..resources import ROOT, alternation, cue_regex, has_file, load_json
from ._util import doc_text, register

if not Doc.has_extension("relevance"):
    Doc.set_extension("relevance", default=0.0)
    Doc.set_extension("relevance_features", default=None)


@lru_cache(maxsize=None)
def weights() -> dict:
    with open(ROOT / "shared" / "relevance.json", encoding="utf-8") as fh:
        return json.load(fh)


BREACH_WINDOW = 150  # characters between a finding word and a breach word
FAMILIES = ("no_data_taken", "impersonation", "legal", "finding", "unfounded", "counted_breaches", "hypothetical")


def family_terms(lang: str, name: str) -> tuple:
    """The terms of one word family of ``resources/<lang>/relevance.json`` (empty when it has none)."""
    if not has_file(lang, "relevance.json"):
        return ()
    return tuple(load_json(lang, "relevance.json").get(name) or ())


def family_regex(lang: str, name: str):
    """The regex of one word family of ``resources/<lang>/relevance.json`` (None when it has none)."""
    terms = family_terms(lang, name)
    return alternation(terms) if terms else None


def one_of_regex(lang: str):
    """What ranks one breach among others, read right before a plural ("one of the largest breaches",
    "l'une des pires fuites"): the phrases of ``one_of`` then up to three words, ending where the plural
    starts (None when the language has none)."""
    phrases = load_json(lang, "relevance.json").get("one_of") if has_file(lang, "relevance.json") else None
    if not phrases:
        return None
    return re.compile(r"(?<![\w])(?:" + "|".join(f"(?:{p})" for p in phrases) + r")(?:\s{1,3}[\w’'-]{1,20}){0,3}\s{1,3}$",
                      re.IGNORECASE)


def alternation_index(rx):
    """An AlternationIndex of a word-bounded ``alternation`` (the same matches, only the alternatives whose
    literal occurs tried); None for a regex of another shape."""
    if rx is None:
        return None
    try:
        return AlternationIndex(rx, r"(?<![\w])", r"(?![\w])")
    except ValueError:
        return None


class Finder:
    """The matches of one cue regex in a text, as ``rx.finditer`` gives them: through an AlternationIndex
    when the regex is a word-bounded alternation; otherwise the regex runs only when one of its
    ``literal_core`` literals is in the screened text (a literal of any length: a substring test)."""

    def __init__(self, rx):
        self.rx = rx
        self.index = alternation_index(rx)
        cores = literal_core(rx.pattern, rx.flags) if self.index is None else frozenset()
        self.cores = None if "" in cores else tuple(sorted(cores))

    def matches(self, text: str, low: str) -> list:
        if self.index is not None:
            return self.index.finditer(text, low)
        if self.cores is not None and not any(c in low for c in self.cores):
            return []
        return list(self.rx.finditer(text))


make_relevance = register("incident_relevance", lambda lang: RelevanceComponent(lang))


class RelevanceComponent:
    def __init__(self, lang: str):
        self.lang = lang
        self.families = {name: family_regex(lang, name) for name in FAMILIES}
        # most families match in few texts: their literals, screened first, spare the regex scan elsewhere
        self.screens = {name: Screen(family_terms(lang, name)) for name in FAMILIES if self.families[name] is not None}
        self.strong = cue_regex(lang, "strong_breach_terms")
        self.breach = cue_regex(lang, "breach_terms")
        self.negative = cue_regex(lang, "negative_terms")
        self.incident = cue_regex(lang, "incident_terms")
        self.generic = cue_regex(lang, "relevance", "generic_terms")
        self.plural = cue_regex(lang, "relevance", "plural_breach")
        self.singular = cue_regex(lang, "relevance", "singular_breach")
        self.percent = cue_regex(lang, "relevance", "percent", word_bounded=False)
        self.second_person = cue_regex(lang, "relevance", "second_person")
        self.one_of = one_of_regex(lang)
        self.data_nouns = family_regex(lang, "data_nouns")
        # each cue's matches found by its Finder (the same matches as a scan of the whole regex)
        self.find = {name: Finder(rx) for name, rx in (
            ("strong", self.strong), ("breach", self.breach), ("singular", self.singular), ("plural", self.plural),
            ("generic", self.generic), ("negative", self.negative), ("incident", self.incident),
            ("percent", self.percent), ("second_person", self.second_person))}
        # the families the literal screen above spares most often keep it (their index costs more than it saves)
        self.family_find = {name: Finder(rx) for name, rx in self.families.items()
                            if rx is not None and name not in ("finding", "hypothetical")}
        # the prefilter's mishap test (prefilter.mishaps) with its two regexes through Finders
        regexes = _mishap_regexes((lang,))
        self.mishap = None if regexes is None else (Finder(regexes[0]), Finder(regexes[1]), regexes[2], regexes[3])

    def _mishaps(self, text: str, low: str, limit: int) -> int:
        """prefilter.mishaps(text, (lang,), limit, low): mishap words within its WINDOW of a records word,
        counted up to `limit`; the same count, the matches found by the Finders."""
        if self.mishap is None:
            return 0
        mishap, records, mishap_screen, records_screen = self.mishap
        if not (records_screen.may_match(low) and mishap_screen.may_match(low)):
            return 0
        spans = SpanIndex((m.start(), m.end()) for m in records.matches(text, low))
        if not spans:
            return 0
        n = 0
        for m in mishap.matches(text, low):
            if spans.near(m.start(), m.end(), MISHAP_WINDOW):
                n += 1
                if n >= limit:
                    break
        return n

    @staticmethod
    def _outside_names(matches: list, names: SpanIndex) -> int:
        """Of `matches`, those not inside an organization's name ("Conseil scolaire", "Legislative
        Assembly"): a cue word of statistics, law or advice in a name says nothing about the text."""
        return sum(1 for m in matches if not names.inside(m.start(), m.end()))

    def _not_ranked(self, text: str, matches: list) -> int:
        """Of `matches`, those not ranked as one among others: "one of the largest breaches" is one breach."""
        return sum(1 for m in matches
                   if self.one_of is None or not self.one_of.search(text, max(0, m.start() - 80), m.start()))

    def _near_breach(self, matches: list, breach_matches: tuple) -> int:
        """Of `matches`, those within BREACH_WINDOW characters of breach vocabulary (`breach_matches`: the
        matches of the strong, breach and singular cues, each scanned once by `features`)."""
        if not matches:
            return 0
        # "personal information" is what a breach is about, not a breach: a ruling on an access request is near it too
        data = self.data_nouns
        spans = SpanIndex((m.start(), m.end()) for ms in breach_matches for m in ms
                          if data is None or not data.fullmatch(m.group(0)))
        return sum(1 for m in matches if spans.near(m.start(), m.end(), BREACH_WINDOW))

    def features(self, doc: Doc) -> dict:
        text = doc_text(doc)
        org = doc._.organization
        dts = doc._.data_types or []
        rivals, dominance, mentions, victim = 0, 0.0, 0, None
        if org:
            best = org["score"]
            victim = next((g for g in org["groups"] if g.score == best), None)
            rivals = sum(1 for g in org["groups"] if g.score >= max(3.0, 0.5 * best)) - 1
            counted = [g for g in org["groups"] if g.penalty < 4.0]
            total = sum(len(g.mentions) for g in counted) or 1
            top = max(counted, key=lambda g: g.score, default=None)
            mentions = len(top.mentions) if top else 0
            dominance = mentions / total
        words = max(len(text.split()), 50) / 100.0
        # each cue scanned once: the strong, breach and singular matches are counted and are also where
        # a finding must stand; the finding matches are counted and tested near them
        low = doc_low(doc, text)
        find = self.find
        strong_m, breach_m, singular_m = (find[k].matches(text, low) for k in ("strong", "breach", "singular"))
        strong = min(len(strong_m), 6)
        singular = min(len(singular_m), 8)
        plural = min(self._not_ranked(text, find["plural"].matches(text, low)), 8)
        finding_rx = self.families["finding"]
        finding_m = list(finding_rx.finditer(text)) if finding_rx is not None and self.screens["finding"].may_match(low) else []
        # proceedings count only where one breach outnumbers many: the legal words are not scanned otherwise
        fam = {name: (len(finding_m) if name == "finding"
                      else 0 if rx is None or (name == "legal" and singular <= plural)
                      else len(self.family_find[name].matches(text, low)) if name in self.family_find
                      else len(rx.findall(text)) if self.screens[name].may_match(low) else 0)
               for name, rx in self.families.items()}
        names = SpanIndex((e.start_char, e.end_char) for e in doc.ents if e.label_ == "ORG")
        return {
            "breach_event": 1.0 if strong + singular > 0 else 0.0,
            "second_person": min(len(find["second_person"].matches(text, low)) / words, 5.0),
            "rival_organizations": min(rivals, 5),
            "organization_dominance": round(dominance, 3),
            "organization_mentions": min(mentions, 10),
            "generic_terms": min(self._outside_names(find["generic"].matches(text, low), names) / words, 5.0),
            "plural_breach": plural,
            "singular_breach": singular,
            "percent": min(len(find["percent"].matches(text, low)), 5),
            "strong_terms": strong,
            "breach_terms": min(len(breach_m), 10),
            "incident_terms": min(len(find["incident"].matches(text, low)), 6),
            "negative_terms": min(self._outside_names(find["negative"].matches(text, low), names), 8),
            "organization_score": min(org["score"], 15.0) if org else 0.0,
            # a resolvable day of the breach or of its discovery: one event, not a trend or a law
            "dated": 1.0 if any(r in (doc._.dates or {}) for r in ("incident", "discovered")) else 0.0,
            "data_types": min(len([d for d in dts if d.code != "unspecified_personal_information"]), 4),
            # incidents that are not attacks: a loss, theft, disposal, misdirection or snooping word
            # beside what holds personal data (the prefilter's own test)
            "mishap": self._mishaps(text, low, limit=6),
            "no_data_taken": min(fam["no_data_taken"], 1),
            "impersonation": min(fam["impersonation"], 6),
            # proceedings (a class action, a ruling, a fine) about one breach, not about many
            "legal_one_breach": min(fam["legal"], 4) if singular > plural else 0,
            # a regulator's or a court's finding next to the breach it is about
            "finding_on_breach": min(self._near_breach(finding_m, (strong_m, breach_m, singular_m)), 4),
            "unfounded": min(fam["unfounded"], 2),
            # breaches counted in figures ("212 incidents", "25 bris de confidentialité"): statistics of many
            "counted_breaches": min(fam["counted_breaches"], 3),
            # a breach under "if", "when", "in the event of", "en cas de", "lorsqu'un": what happens in general
            # (a law's or an advice piece's breach), not one that happened
            "hypothetical": min(fam["hypothetical"], 2),
            # the chosen organization named in sentences with breach vocabulary: the victim of the breach clause
            "victim_in_breach": min(victim.features.get("breach_sentence", 0.0), 4.0) if victim else 0.0,
        }

    def __call__(self, doc: Doc) -> Doc:
        w = weights()
        f = self.features(doc)
        z = w["bias"] + sum(w["features"].get(k, 0.0) * v for k, v in f.items())
        doc._.relevance_features = f
        doc._.relevance = 1.0 / (1.0 + math.exp(-z))
        return doc
