"""`incident_agencies`: authorities notified of the breach or investigating it.

Names and acronyms come from the bilingual gazetteer ``resources/shared/agencies.jsonl``
(both languages' names are matched in every document: English articles quote the
Sûreté du Québec). The role comes from the words of the mention's sentence
(``resources/<lang>/cues.json`` → ``agency_roles``); a mention with no role cue, or one
that says the authority was *not* informed, does not make it an agency of the incident.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from spacy.language import Language
from spacy.tokens import Doc

from ..resources import ROOT, cue_regex
from ._util import clause_bounds, iter_labelled, sentence_bounds, split_patterns

import json

if not Doc.has_extension("agencies"):
    Doc.set_extension("agencies", default=None)

SPECIFIC_POLICE = {"SQ", "SPVM", "SPVQ", "RCMP", "OPP"}


@lru_cache(maxsize=None)
def gazetteer() -> tuple[dict, ...]:
    with open(ROOT / "shared" / "agencies.jsonl", encoding="utf-8") as fh:
        return tuple(json.loads(line) for line in fh if line.strip())


def _name_pattern(name: str) -> str:
    """A gazetteer name as a regex: either apostrophe, any run of spaces."""
    parts = re.split(r"['’]", name)
    pattern = "['’]?".join(re.escape(p).replace(r"\ ", r"\s+") for p in parts)
    # plurals of the title: "les commissaires à ...", "the commissioners of ..."
    pattern = re.sub(r"(?i)(commissaire)(?=\\s|$)", r"\1s?", pattern)
    # "Information and Privacy Commission(er)(s)": outlets shorten the title
    return re.sub(r"(?i)commissioner(?=\\s|$)", "Commission(?:er)?s?", pattern)


@dataclass
class AgencyHit:
    code: str
    name: str
    start: int
    end: int
    roles: set = field(default_factory=set)
    generic: bool = False


class AgencyRules:
    def __init__(self, lang: str):
        pairs, patterns = [], []
        self.info = {}
        for row in gazetteer():
            self.info[row["code"]] = row
            for name in row["fr"] + row["en"]:
                label = row["code"] + ("|generic" if row.get("generic") and name[:1].islower() else "")
                pairs.append((_name_pattern(name), label))
            for acr in row["acronyms"]:
                pairs.append((re.escape(acr), row["code"]))
            for pattern in row.get("patterns", []):  # named forces of the generic codes: "police de Laval"
                patterns.append((pattern, row["code"]))
        self.sens, self.insens, self.labels = split_patterns(pairs)
        # regex patterns apart from the names, so that a name always beats a pattern at the same place
        p_sens, p_insens, self.pattern_labels = split_patterns(patterns)
        self.pattern_res = (p_sens, p_insens)
        # "les commissaires ... de l'Ontario et de l'Alberta": one title, two authorities
        self.jurisdiction = {}
        for row in gazetteer():
            for place in row.get("jurisdictions", []):
                self.jurisdiction[place.lower()] = row["code"]
        conj_places = [p for p, c in self.jurisdiction.items() if c != "REGULATOR_OTHER"]
        places = "|".join(sorted((re.escape(p) for p in self.jurisdiction), key=len, reverse=True))
        self.place_re = re.compile(rf"(?<![\w])({places})(?![\w])", re.IGNORECASE)
        conj = "|".join(sorted((re.escape(p) for p in conj_places), key=len, reverse=True))
        self.conjoined = re.compile(rf"(?<!\s)\s{{0,3}}(?:,|et|and)\s{{1,3}}(?:de\s{{1,3}}(?:la\s{{1,3}}|l['’])?|du\s{{1,3}}|of\s{{1,3}}|for\s{{1,3}})?({conj})(?![\w])", re.IGNORECASE)
        self.lang = lang
        self.notified = cue_regex(lang, "agency_roles", "notified", word_bounded=False)
        self.investigating = cue_regex(lang, "agency_roles", "investigating", word_bounded=False)
        self.collab = cue_regex(lang, "agency_roles", "collaboration", word_bounded=False)
        self.negated = cue_regex(lang, "agency_roles", "negated", word_bounded=False)
        self.breaks = cue_regex(lang, "clause_break", word_bounded=False)

    def display_name(self, code: str, surface: str) -> str:
        """The gazetteer's name in the document's language; for POLICE_OTHER/REGULATOR_OTHER, the text's."""
        row = self.info[code]
        if row.get("generic"):
            return surface
        return (row[self.lang] or row["fr"] or row["en"])[0]


@lru_cache(maxsize=None)
def rules_for(lang: str) -> AgencyRules:
    return AgencyRules(lang)


@Language.factory("incident_agencies", default_config={})
def make_agencies(nlp: Language, name: str):
    return AgenciesComponent(nlp.lang)


class AgenciesComponent:
    def __init__(self, lang: str):
        self.rules = rules_for(lang)

    def resolve(self, text: str, s: int, e: int, label: str, titled: set) -> str:
        """A provincial commissioner named without its province ("the OIPC", "the Information and Privacy
        Commissioner") belongs to the province named around it, else to the one the text names most."""
        r = self.rules
        code, _, rest = label.partition("|")
        if not r.info[code].get("resolve_by_jurisdiction"):
            return label
        own = r.place_re.search(text, s, e)
        if own:  # "Office of the Information and Privacy Commissioner for Newfoundland and Labrador"
            return r.jurisdiction[own.group(1).lower()]
        near = [m.group(1).lower() for m in r.place_re.finditer(text, max(0, s - 120), min(len(text), e + 60))]
        if not near and len(titled) == 1:  # the text names the commissioner in full elsewhere
            return next(iter(titled))
        if not near:
            counts: dict[str, int] = {}
            for m in r.place_re.finditer(text):
                counts[r.jurisdiction[m.group(1).lower()]] = counts.get(r.jurisdiction[m.group(1).lower()], 0) + 1
            best = max(counts.items(), key=lambda kv: kv[1])[0] if counts else None
            return best if best else label
        # the closest place name before the title wins
        before = [m for m in r.place_re.finditer(text, max(0, s - 120), s)]
        place = (before[-1].group(1) if before else near[0]).lower()
        return r.jurisdiction[place]

    def roles_at(self, text: str, s: int, e: int, lo: int, hi: int, police: bool) -> tuple[set, bool]:
        r = self.rules
        sentence = text[lo:hi]
        cl, ch = clause_bounds(text, s, e, lo, hi, r.breaks)
        if r.negated.search(text, cl, ch) or r.negated.search(sentence):
            # the negation may speak of another authority of the sentence: only its clause decides
            if r.negated.search(text, cl, ch):
                return set(), True
        roles = set()
        if r.notified.search(sentence):
            roles.add("notified")
        if r.investigating.search(sentence):
            roles.add("investigating")
        if not roles and r.collab.search(sentence):
            roles.add("investigating" if police else "notified")
        return roles, False

    def __call__(self, doc: Doc) -> Doc:
        text, r = doc.text, self.rules
        sents = doc._.sent_bounds
        found: dict[str, AgencyHit] = {}
        negated: set[str] = set()
        hits = list(iter_labelled(text, (r.sens, r.insens), r.labels)) + list(iter_labelled(text, r.pattern_res, r.pattern_labels))
        for s, e, label in list(hits):
            if label in r.jurisdiction.values():
                m = r.conjoined.match(text, e)
                if m:
                    hits.append((m.start(1), m.end(1), r.jurisdiction[m.group(1).lower()]))
        hits.sort(key=lambda h: (h[0], -(h[1] - h[0])))
        titled = {label for s, e, label in hits
                  if not r.info[label.partition("|")[0]].get("resolve_by_jurisdiction") and re.search(r"(?i)commissi", text[s:e])
                  and label in r.jurisdiction.values()}
        titled |= {r.jurisdiction[m.group(1).lower()] for s, e, label in hits
                   if r.info[label.partition("|")[0]].get("resolve_by_jurisdiction")
                   for m in [r.place_re.search(text, s, e)] if m}
        hits = [(s, e, self.resolve(text, s, e, label, titled)) for s, e, label in hits]
        last = -1
        for s, e, label in hits:
            if s < last:
                continue
            last = e
            code, _, generic = label.partition("|")
            lo, hi = sentence_bounds(sents, s)
            police = bool(r.info[code].get("police"))
            roles, neg = self.roles_at(text, s, e, lo, hi, police)
            if neg:
                negated.add(code)
                continue
            if not roles:  # the role is often in the next sentence ("The SQ was called in. It is investigating.")
                nlo, nhi = sentence_bounds(sents, hi + 1) if hi < len(text) else (lo, hi)
                if (nlo, nhi) != (lo, hi) and nhi - nlo < 400:
                    roles, neg = self.roles_at(text, nlo, nlo, nlo, nhi, police)
                    if neg:
                        roles = set()
            if not roles:
                continue
            hit = found.get(code)
            if hit is None:
                hit = found[code] = AgencyHit(code, r.display_name(code, text[s:e]), s, e, set(), bool(generic))
            elif hit.generic and not generic:
                hit.start, hit.end, hit.generic = s, e, False
                hit.name = r.display_name(code, text[s:e])
            hit.roles |= roles
        # generic "police" said of a force the text names elsewhere is that force, not another one
        if "POLICE_OTHER" in found and found["POLICE_OTHER"].generic and SPECIFIC_POLICE & set(found):
            del found["POLICE_OTHER"]
        doc._.agencies = sorted(found.values(), key=lambda h: h.start)
        return doc
