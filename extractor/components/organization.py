"""`incident_organization`: the organization the breach happened to.

Candidates are spaCy's ORG entities, institutional names from
``resources/<lang>/org_patterns.jsonl`` (ministères, school service centres, CISSS,
"X District School Board"...), and acronym definitions (``Nom complet (ACR)``).
Mentions of one organization are grouped (folded names, containment, acronyms), then
each group is scored: how often and how early it is named, whether a victim cue
surrounds it (``X a été victime``, ``breach at X``, ``X confirmed``), whether it issued
the press release; authorities, news outlets, governments and attacker groups are
penalised. Suppliers, clients, parents and operators named beside the winner become
its aliases.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Optional

from spacy.language import Language
from spacy.tokens import Doc

from ..resources import alternation, cue_regex, cues, load_jsonl
from ..text import fold, strip_accents
from ._util import sentence_bounds
from .agencies import gazetteer

if not Doc.has_extension("organization"):
    Doc.set_extension("organization", default=None)

_ACR_DEF = re.compile(r"([A-ZÉÈÀ][\w’'&.\- ]{2,90}?)\s*\(\s*([A-ZÉ][A-Za-zÉ0-9&.\-]{1,9})\s*\)")
_LEAD_ART = re.compile(r"^(?:(?:le|la|les|the|du|des|de la|au|aux)\s+|(?:l|de l)['’]\s*)+", re.IGNORECASE)
_TRAIL = re.compile(r"(?:['’]s|['’])$|[\s,.;:]+$")
_STOP_WORDS = {"de", "du", "des", "la", "le", "les", "l", "d", "et", "of", "the", "and", "for", "à", "a", "en"}


@dataclass
class Mention:
    text: str
    start: int
    end: int
    source: str  # ner | pattern | acronym | definition | gazetteer | repeat
    weight: float = 1.0  # how organization-like the NER label is
    defines: Optional[str] = None  # for an acronym: the long name it was defined with


# How much an entity label speaks for an organization (spaCy's labels vary across mentions)
LABEL_WEIGHT = {"ORG": 1.0, "MISC": 0.7, "PRODUCT": 0.7, "NORP": 0.4, "FAC": 0.5, "WORK_OF_ART": 0.3,
                "LOC": 0.3, "GPE": 0.3, "PER": 0.25, "PERSON": 0.25}


@lru_cache(maxsize=None)
def bodies_regex() -> re.Pattern | None:
    """Names of public bodies from the bilingual gazetteer (resources/shared/bodies.jsonl), if shipped."""
    import json

    from ..resources import ROOT

    path = ROOT / "shared" / "bodies.jsonl"
    if not path.exists():
        return None
    names = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            names += [n for n in row.get("fr", []) + row.get("en", []) if len(n) > 3]
    return alternation(tuple(re.escape(n) for n in names), re.IGNORECASE, True)


@dataclass
class Group:
    key: str
    mentions: list = field(default_factory=list)
    acronym: Optional[str] = None
    score: float = 0.0
    penalty: float = 0.0

    def best_name(self) -> str:
        names = [m.text for m in self.mentions if m.source != "acronym" and m.text != self.acronym]
        if not names:
            return self.mentions[0].text
        # the most complete name: most words, then earliest
        return max(names, key=lambda n: (len(n.split()), -self.first_index(n)))

    def first_index(self, name: str) -> int:
        return min(m.start for m in self.mentions if m.text == name)

    @property
    def first(self) -> int:
        return min(m.start for m in self.mentions)


def initials(name: str) -> str:
    words = re.split(r"[\s\-–]+", re.sub(r"[’']", " ", strip_accents(name)))
    return "".join(w[0] for w in words if w and w.lower() not in _STOP_WORDS and w[0].isalpha()).upper()


class OrgRules:
    def __init__(self, lang: str):
        self.lang = lang
        c = cues(lang)
        # both languages' institutional patterns: English articles name Québec bodies in French
        other = "en" if lang == "fr" else "fr"
        rows = list(load_jsonl(lang, "org_patterns.jsonl")) + list(load_jsonl(other, "org_patterns.jsonl"))
        self.patterns = [re.compile(p) for p in dict.fromkeys(r["pattern"] for r in rows)]
        org = c["organization"]
        self.left = re.compile(rf"(?:{'|'.join(sorted(org['left_cues'], key=len, reverse=True))})\s*(?:(?:le|la|les|l['’]|the|du|des|de la|de l['’])\s*)?$", re.IGNORECASE)
        self.right = re.compile(rf"^\s*(?:,[^,]{{0,60}},\s*)?(?:{'|'.join(sorted(org['right_cues'], key=len, reverse=True))})\b", re.IGNORECASE)
        self.relation = {
            k: alternation(tuple(org[k]), re.IGNORECASE, True) for k in ("supplier", "parent", "operator")
        }
        name = r"(?-i:[A-ZÉÈÀÂÎÔ][\w’'&.\-]*)"
        link = r"(?:de|du|des|de la|d['’]|of|and|et|&|for|pour)"
        run = rf"{name}(?:\s+(?:{link}\s+)?{name}){{0,5}}"
        self.name_run = re.compile(run)
        self.after_cue = re.compile(
            rf"(?<![\w])(?:{'|'.join(sorted(org['left_cues'], key=len, reverse=True))})\s+(?:(?:le|la|les|l['’]|the)\s*)?({run})(?![\w])", re.IGNORECASE)
        self.before_cue = re.compile(
            rf"(?<![\w’'&.\-])({run})\s+(?:{'|'.join(sorted(org['right_cues'], key=len, reverse=True))})\b", re.IGNORECASE)
        self.apposition = re.compile(rf"(?:{'|'.join(sorted(org['supplier_apposition'], key=len, reverse=True))})(?:\s+\w+)?\s*,?\s*$", re.IGNORECASE)
        self.apposition_after = re.compile(rf"(?<!\s)\s{{0,2}},\s{{1,3}}(?:a|an|un|une|le|la)\s{{1,3}}(?:[\w-]{{1,30}}\s{{1,3}}){{0,3}}?(?:{'|'.join(sorted(org['supplier_apposition'], key=len, reverse=True))})\b", re.IGNORECASE)
        self.custody = re.compile(rf"(?:{'|'.join(sorted(org['custody_cues'], key=len, reverse=True))})\s*(?:(?:le|la|les|l['’]|the|du|des|de la|de l['’])\s*)?$", re.IGNORECASE)
        self.subject = re.compile(rf"(?:{'|'.join(org['regulator_subject'])})\s*(?:(?:le|la|les|l['’]|the|du|des|de la|de l['’])\s*)?$", re.IGNORECASE)
        self.strong = cue_regex(lang, "strong_breach_terms")
        self.breach = cue_regex(lang, "breach_terms")
        self.media = {fold(m) for m in c["media"]} | {fold(m) for m in cues("en" if lang == "fr" else "fr")["media"]}
        self.non_victims = {fold(m) for m in c["non_victims"]}
        self.agency_keys = set()
        for row in gazetteer():
            for n in row["fr"] + row["en"] + row["acronyms"]:
                self.agency_keys.add(fold(n))
        self.agency_like = re.compile(org["agency_like"], re.IGNORECASE)
        self.not_org = re.compile(org["not_organization"])  # laws, bills, programmes, reports
        d = c["dates"]
        self.calendar = {fold(w) for w in list(d["months"]) + list(d["weekdays"])}


@lru_cache(maxsize=None)
def rules_for(lang: str) -> OrgRules:
    return OrgRules(lang)


@Language.factory("incident_organization", default_config={})
def make_organization(nlp: Language, name: str):
    return OrganizationComponent(nlp.lang)


def _clean(text: str, start: int, end: int) -> Optional[tuple[str, int, int]]:
    surface = text[start:end]
    m = _LEAD_ART.match(surface)
    # a capitalized article inside a sentence belongs to the name ("La Place 0-5", "Le Devoir")
    sentence_start = start == 0 or text[max(0, start - 2):start].strip() in ("", ".", "»", '"', ":", "-", "–")
    if m and m.end() < len(surface) and (surface[:1].islower() or sentence_start):
        start += m.end()
    while end > start and (text[end - 1] in " ,.;:’'" or text[start:end].endswith(("’s", "'s"))):
        end -= 2 if text[start:end].endswith(("’s", "'s")) else 1
    s = text[start:end]
    if len(s) < 2 or "\n" in s or not any(ch.isupper() for ch in s[:3] + s) or re.search(r"[a-zé]{2}\. [A-Z]", s):
        return None  # a span running over a sentence end is two names, not one
    return s, start, end


class OrganizationComponent:
    def __init__(self, lang: str):
        self.rules = rules_for(lang)

    def mentions(self, doc: Doc) -> list[Mention]:
        text, r = doc.text, self.rules
        out: list[Mention] = []
        for ent in doc.ents:
            weight = LABEL_WEIGHT.get(ent.label_)
            if weight is None:
                continue
            c = _clean(text, ent.start_char, ent.end_char)
            if c:
                out.append(Mention(c[0], c[1], c[2], "ner", weight))
        body_re = bodies_regex()
        if body_re is not None:
            for m in body_re.finditer(text):
                c = _clean(text, m.start(), m.end())
                if c:
                    out.append(Mention(c[0], c[1], c[2], "gazetteer"))
        for rx in r.patterns:
            for m in rx.finditer(text):
                c = _clean(text, m.start(), m.end())
                if c:
                    out.append(Mention(c[0], c[1], c[2], "pattern"))
        out.extend(self._cue_mentions(doc))
        # brand names NER often misses: CamelCase words named at least twice (LifeLabs, PowerSchool)
        for word, spots in _camel_words(text).items():
            if len(spots) >= 2:
                out.extend(Mention(word, s_, s_ + len(word), "camel", 0.8) for s_ in spots)
        named_ends = {x.end: x for x in out}
        for m in _ACR_DEF.finditer(text):
            acr = m.group(2).strip(".")
            long = m.group(1)
            # keep the tail of the long name that spells the acronym
            words = long.split()
            found = False
            for i in range(len(words)):
                cand = " ".join(words[i:])
                if initials(cand) == acr.upper().replace("-", "").replace(".", ""):
                    s = m.start(1) + long.index(cand, len(" ".join(words[:i])))
                    c = _clean(text, s, s + len(cand))
                    if c:
                        out.extend(self._defined(text, m, c, acr))
                        found = True
                    break
            if found or not acr.isupper():
                continue
            before = next((named_ends[k] for k in (m.start(2) - 1, m.start(2) - 2, m.start(2) - 3) if k in named_ends), None)
            if before is not None:
                # "the Treasury Board Secretariat (SCT)": an acronym in another language follows a known name
                out.extend(self._defined(text, m, (before.text, before.start, before.end), acr))
        return out

    def _cue_mentions(self, doc: Doc) -> list[Mention]:
        """Names NER missed, read off the cues around them: "breach at LifeLabs", "X a été victime",
        and the issuer right after a CNW dateline."""
        text, r = doc.text, self.rules
        out = []
        for m in r.after_cue.finditer(text):
            c = _clean(text, m.start(1), m.end(1))
            if c:
                out.append(Mention(c[0], c[1], c[2], "cue", 0.8))
        for m in r.before_cue.finditer(text):
            c = _clean(text, m.start(1), m.end(1))
            if c and not (c[1] == 0 or text[c[1] - 1] == "\n") or (c and len(c[0].split()) > 1):
                out.append(Mention(c[0], c[1], c[2], "cue", 0.8))
        issuer_at = (doc._.meta or {}).get("dateline_end")
        if issuer_at is not None:
            m = r.name_run.match(text, issuer_at)
            if m:
                c = _clean(text, m.start(), m.end())
                if c:
                    out.append(Mention(c[0], c[1], c[2], "issuer"))
        return out

    @staticmethod
    def _defined(text: str, m: re.Match, long: tuple, acr: str) -> list:
        """A definition "Nom complet (ACR)" (and "Nom (ACR) du Canada": the name goes on after the acronym)."""
        name, start, end = long
        out = [Mention(name, start, end, "definition"), Mention(acr, m.start(2), m.start(2) + len(acr), "acronym", defines=name)]
        tail = re.match(r"\s*\)?\s*(du Canada|du Québec|of Canada|of Quebec|de l['’]Ontario|of Ontario)\b", text[m.end():m.end() + 30])
        if tail:
            full = f"{name} {tail.group(1)}"
            out.append(Mention(full, start, m.end() + tail.end(), "definition"))
            out[1].defines = full
        return out

    def _cued(self, text: str, s: int, e: int) -> bool:
        r = self.rules
        return bool(r.left.search(text[max(0, s - 40):s]) or r.right.match(text[e:e + 80]))

    def group(self, mentions: list[Mention]) -> list[Group]:
        groups: dict[str, Group] = {}
        defs: dict[str, str] = {}
        for m in mentions:
            if m.source == "definition":
                defs[initials(m.text)] = fold(m.text, drop_legal=True)
            if m.defines:
                defs[m.text.upper().replace(".", "")] = fold(m.defines, drop_legal=True)
        # full names first, so that short forms and acronyms join an existing group
        for m in sorted(mentions, key=lambda m: (-len(m.text.split()), m.start)):
            key = fold(m.text, drop_legal=True)
            if not key:
                continue
            target = groups.get(key)
            if target is None and m.text.isupper() and len(m.text) <= 8:
                target_key = defs.get(m.text.upper().replace(".", ""))
                target = groups.get(target_key) if target_key else None
                if target is None:
                    for g in groups.values():
                        if initials(g.best_name()) == m.text.upper() and len(m.text) >= 2:
                            target = g
                            break
                if target is not None:
                    target.acronym = target.acronym or m.text
            if target is None:
                words = key.split()
                for g in groups.values():
                    gw = g.key.split()
                    if len(words) < len(gw) and _contains(gw, words) and not (len(words) == 1 and len(words[0]) <= 3):
                        target = g
                        break
            if target is None:
                target = groups[key] = Group(key)
            target.mentions.append(m)
        return list(groups.values())

    def add_repeats(self, text: str, groups: list[Group]) -> None:
        """Mentions NER missed: every other occurrence of a group's names in the text."""
        for g in groups:
            have = {m.start for m in g.mentions}
            # positions inside a mention (a set, not a scan of all mentions per match: that was quadratic)
            covered = {i for x in g.mentions for i in range(x.start, x.end)}
            names = {m.text for m in g.mentions if len(m.text) >= 3 or m.text.isupper()}
            for name in sorted(names, key=len, reverse=True):
                for m in re.finditer(rf"(?<![\w]){re.escape(name)}(?![\w])", text):
                    if m.start() not in have and m.start() not in covered:
                        g.mentions.append(Mention(name, m.start(), m.end(), "repeat", 0.0))
                        have.add(m.start())
                        covered.update(range(m.start(), m.end()))

    def label_weight(self, g: Group) -> float:
        ner = [m.weight for m in g.mentions if m.source in ("ner", "cue", "camel", "issuer")]
        if any(m.source in ("pattern", "gazetteer", "definition") for m in g.mentions):
            return 1.0
        return sum(ner) / len(ner) if ner else 0.5

    def score(self, doc: Doc, groups: list[Group]) -> None:
        text, r = doc.text, self.rules
        sents = doc._.sent_bounds or [(0, len(text))]
        meta = doc._.meta or {}
        title_end = meta.get("title_end", 0)
        lead_end = sents[min(1, len(sents) - 1)][1]
        issuer_at = meta.get("dateline_end")
        breach_sentence: dict = {}
        for g in groups:
            seen = set()
            mentions = [m for m in g.mentions if not (m.start in seen or seen.add(m.start))]
            s = min(len(mentions), 6) * 1.0
            first = g.first
            if first < max(title_end, lead_end):
                s += 2.0
            elif first < sents[min(3, len(sents) - 1)][1]:
                s += 1.0
            cue_bonus = strong_bonus = 0.0
            # the data was held by, or the attack hit, this organization: the strongest sign of the victim
            if any(r.custody.search(text[max(0, m.start - 50):m.start]) for m in mentions):
                cue_bonus += 4.0
            if any(r.apposition.search(text[max(0, m.start - 40):m.start]) or r.apposition_after.match(text, m.end)
                   for m in mentions if m.source != "acronym"):
                cue_bonus += 2.0  # "le fournisseur X", "X, a payroll provider": the supplier named as such
            for m in mentions:
                if r.left.search(text[max(0, m.start - 40):m.start]) or r.right.match(text[m.end:m.end + 80]):
                    cue_bonus += 2.0
                if r.subject.search(text[max(0, m.start - 40):m.start]):
                    cue_bonus += 1.5
                b = sentence_bounds(sents, m.start)
                if b not in breach_sentence:  # once per sentence, not once per mention (quadratic on long sentences)
                    breach_sentence[b] = bool(r.strong.search(text, *b) or r.breach.search(text, *b))
                if breach_sentence[b]:
                    strong_bonus += 0.75
            s += min(cue_bonus, 8.0) + min(strong_bonus, 3.0)
            if issuer_at is not None and any(issuer_at <= m.start < issuer_at + 200 for m in mentions):
                s += 3.0
            keys = {fold(m.text) for m in mentions} | {g.key}
            g.penalty += (1.0 - self.label_weight(g)) * 4.0
            if any(r.agency_like.search(m.text) for m in mentions):
                g.penalty += 4.0
            elif keys & r.agency_keys:
                g.penalty += 4.0
            if keys & r.media or any(_starts_with(k, r.media) for k in keys):
                g.penalty += 5.0
            if keys & r.non_victims:
                g.penalty += 3.0
            if any(r.not_org.search(m.text) for m in mentions if m.source != "acronym"):
                g.penalty += 6.0
            if keys & r.calendar:
                g.penalty += 10.0
            g.score = s - g.penalty

    def aliases(self, doc: Doc, best: Group, groups: list[Group]) -> list[str]:
        """Other organizations tied to the winner in one sentence by a supplier/parent/operator cue."""
        text, r = doc.text, self.rules
        sents = doc._.sent_bounds or [(0, len(text))]
        best_sents = {sentence_bounds(sents, m.start) for m in best.mentions}
        out = []
        for g in groups:
            if g is best or g.penalty >= 4.0:
                continue
            for m in g.mentions:
                b = sentence_bounds(sents, m.start)
                if b in best_sents and any(rx.search(text, *b) for rx in r.relation.values()):
                    name = g.best_name()
                    if name not in out:
                        out.append(name)
                    break
        return out

    def __call__(self, doc: Doc) -> Doc:
        groups = self.group(self.mentions(doc))
        if not groups:
            doc._.organization = None
            return doc
        self.add_repeats(doc.text, groups)
        self.score(doc, groups)
        # on a tie, the more organization-like candidate (institutional pattern, gazetteer, ORG label)
        best = max(groups, key=lambda g: (g.score, self.label_weight(g), -g.first))
        if best.score <= 0:
            doc._.organization = None
            return doc
        name = best.best_name()
        names, seen = [], {fold(name, drop_articles=False)}
        for m in sorted(best.mentions, key=lambda m: m.start):
            key = fold(m.text, drop_articles=False)
            if key not in seen and m.text != best.acronym and not m.text.isupper():
                seen.add(key)
                names.append(m.text)
        if best.acronym is None:
            for m in best.mentions:
                if m.text.isupper() and 2 <= len(m.text) <= 8:
                    best.acronym = m.text
                    break
        first_full = min((m for m in best.mentions if m.text == name), key=lambda m: m.start)
        doc._.organization = {
            "name": name,
            "acronym": best.acronym,
            "aliases": names + self.aliases(doc, best, groups),
            "start": first_full.start,
            "end": first_full.end,
            "score": best.score,
            "groups": groups,
        }
        return doc


_CAMEL = re.compile(r"(?<![\w’'&.-])[A-Z][a-z]+(?:[A-Z][a-z]+)+(?![\w’'&-])")


def _camel_words(text: str) -> dict:
    spots: dict = {}
    for m in _CAMEL.finditer(text):
        spots.setdefault(m.group(0), []).append(m.start())
    return spots


def _starts_with(key: str, names: set) -> bool:
    """'tva gatineau' starts with the outlet 'tva'."""
    words = key.split()
    return any(" ".join(words[:n]) in names for n in range(1, len(words)))


def _contains(haystack: list[str], needle: list[str]) -> bool:
    n = len(needle)
    return any(haystack[i:i + n] == needle for i in range(len(haystack) - n + 1))
