"""`incident_organization`: the organization the breach happened to.

Candidates are spaCy's ORG entities, institutional names from
``resources/<lang>/org_patterns.jsonl`` (ministères, school service centres, CISSS,
"X District School Board"...), and acronym definitions (``Nom complet (ACR)``).
Mentions of one organization are grouped (folded names, containment, acronyms), then
each group gets features computed from the text (`features`): how often and how early
it is named, whether a victim cue surrounds it (``X a été victime``, ``breach at X``,
``X confirmed``), whether it issued the press release, and whether it looks like junk:
an authority, a news outlet or photo credit, a person (a title before the name, a
signatory), a data item (``numéro de sécurité sociale``), a programme, a generic word,
a masthead or section label, a law firm or court, the recipient of a notification.
The winner is the group of highest linear score; the weights are data
(``resources/shared/organization_weights.json``), fitted on train by
``eval/fit_organization.py``. Suppliers, clients, parents and operators named beside the
winner become its aliases.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Optional

from spacy.tokens import Doc

from ..resources import ROOT as RESOURCES, alternation, cue_regex, cues, load_json, load_jsonl
from ..text import fold, strip_accents
from ._util import doc_text, register, sentence_bounds
from .agencies import gazetteer

if not Doc.has_extension("organization"):
    Doc.set_extension("organization", default=None)

_ACR_DEF = re.compile(r"([A-ZÉÈÀ][\w’'&.\- ]{2,90}?)\s*\(\s*([A-ZÉ][A-Za-zÉ0-9&.\-]{1,9})\s*\)")


def languages() -> tuple:
    """Every language folder that ships organization words (a new language is a new folder)."""
    return tuple(sorted(d.name for d in RESOURCES.iterdir() if (d / "organization.json").exists()))


def words(lang: str) -> dict:
    return load_json(lang, "organization.json")


def all_words(key: str) -> list:
    """One word family of every language (English articles name French bodies and vice versa)."""
    return [w for lang in languages() for w in words(lang).get(key, [])]


@lru_cache(maxsize=None)
def lead_articles() -> re.Pattern:
    arts = sorted(set(all_words("articles")), key=len, reverse=True)
    elided = [a for a in arts if a.endswith("['’]")]
    plain = [a for a in arts if a not in elided]
    return re.compile(rf"^(?:(?:{'|'.join(plain)})\s+|(?:{'|'.join(elided)})\s*)+", re.IGNORECASE)


@lru_cache(maxsize=None)
def stop_words() -> frozenset:
    return frozenset(all_words("stop_words"))


@lru_cache(maxsize=None)
def name_tails() -> re.Pattern:
    """"Nom (ACR) du Canada": the words that carry a name on after its acronym."""
    return re.compile(rf"\s*\)?\s*({'|'.join(sorted(set(all_words('name_tails')), key=len, reverse=True))})\b")


@lru_cache(maxsize=None)
def weights() -> dict:
    """The scoring weights (resources/shared/organization_weights.json), fitted by eval/fit_organization.py."""
    return load_json("shared", "organization_weights.json")


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


# The features of a candidate (`OrganizationComponent.features`); JUNK: those that say it is not the victim
FEATURES = ("mentions", "title_lede", "early", "title_only", "victim_cue", "regulator_subject", "breach_sentence",
            "recipient", "person", "custody", "supplier_apposition", "issuer", "not_org_label", "institutional",
            "acronym", "agency", "media", "non_victim", "not_organization", "calendar", "data_item", "product",
            "generic", "credit", "masthead", "caps_phrase", "law_firm", "court", "government", "headline")
JUNK = frozenset({"recipient", "person", "not_org_label", "agency", "media", "non_victim", "not_organization",
                  "calendar", "data_item", "product", "generic", "credit", "masthead", "caps_phrase", "law_firm",
                  "court", "government", "title_only", "headline"})


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
            names += [n for code in languages() for n in row.get(code, []) if len(n) > 3]
    return alternation(tuple(re.escape(n) for n in names), re.IGNORECASE, True)


@dataclass
class Group:
    key: str
    mentions: list = field(default_factory=list)
    acronym: Optional[str] = None
    score: float = 0.0
    penalty: float = 0.0
    features: dict = field(default_factory=dict)

    def best_name(self) -> str:
        first: dict[str, int] = {}  # each name's earliest start, in one pass (a name may recur thousands of times)
        for m in self.mentions:
            if m.source != "acronym" and m.text != self.acronym:
                first[m.text] = min(first.get(m.text, m.start), m.start)
        if not first:
            return self.mentions[0].text
        # the most complete name: most words, then earliest
        return max(first, key=lambda n: (len(n.split()), -first[n]))

    def first_index(self, name: str) -> int:
        return min(m.start for m in self.mentions if m.text == name)

    @property
    def first(self) -> int:
        return min(m.start for m in self.mentions)


def initials(name: str) -> str:
    words = re.split(r"[\s\-–]+", re.sub(r"[’']", " ", strip_accents(name)))
    stops = stop_words()
    return "".join(w[0] for w in words if w and w.lower() not in stops and w[0].isalpha()).upper()


class OrgRules:
    def __init__(self, lang: str):
        self.lang = lang
        c = cues(lang)
        # every language's institutional patterns: English articles name Québec bodies in French
        rows = [row for code in (lang, *[x for x in languages() if x != lang]) for row in load_jsonl(code, "org_patterns.jsonl")]
        self.patterns = [re.compile(p) for p in dict.fromkeys(r["pattern"] for r in rows)]
        org = c["organization"]
        arts = "|".join(sorted(set(all_words("articles")), key=len, reverse=True))
        self.left = re.compile(rf"(?:{'|'.join(sorted(org['left_cues'], key=len, reverse=True))})\s*(?:(?:{arts})\s*)?$", re.IGNORECASE)
        self.right = re.compile(rf"^\s*(?:,[^,]{{0,60}},\s*)?(?:{'|'.join(sorted(org['right_cues'], key=len, reverse=True))})\b", re.IGNORECASE)
        self.relation = {
            k: alternation(tuple(org[k]), re.IGNORECASE, True) for k in ("supplier", "parent", "operator")
        }
        name = r"(?-i:[A-ZÉÈÀÂÎÔ][\w’'&.\-]*)"
        link = f"(?:{'|'.join(sorted(set(all_words('name_links')), key=len, reverse=True))})"
        run = rf"{name}(?:\s+(?:{link}\s+)?{name}){{0,5}}"
        self.name_run = re.compile(run)
        self.after_cue = re.compile(
            rf"(?<![\w])(?:{'|'.join(sorted(org['left_cues'], key=len, reverse=True))})\s+(?:(?:{arts})\s*)?({run})(?![\w])", re.IGNORECASE)
        self.before_cue = re.compile(
            rf"(?<![\w’'&.\-])({run})\s+(?:{'|'.join(sorted(org['right_cues'], key=len, reverse=True))})\b", re.IGNORECASE)
        self.apposition = re.compile(rf"(?:{'|'.join(sorted(org['supplier_apposition'], key=len, reverse=True))})(?:\s+\w+)?\s*,?\s*$", re.IGNORECASE)
        self.apposition_after = re.compile(rf"(?<!\s)\s{{0,2}},\s{{1,3}}(?:a|an|un|une|le|la)\s{{1,3}}(?:[\w-]{{1,30}}\s{{1,3}}){{0,3}}?(?:{'|'.join(sorted(org['supplier_apposition'], key=len, reverse=True))})\b", re.IGNORECASE)
        # "gérés par l'entreprise d'intérim X", "held by the payroll firm X": a descriptor may sit between
        descriptor = "|".join(sorted(words(lang)["descriptor_nouns"], key=len, reverse=True))
        self.custody = re.compile(
            rf"(?:{'|'.join(sorted(org['custody_cues'], key=len, reverse=True))})\s{{0,3}}(?:(?:{arts})\s{{0,3}})?"
            rf"(?:(?:[\w-]{{1,20}}\s{{1,3}})?(?:{descriptor})(?:\s{{1,3}}[\w’'-]{{1,25}}){{0,2}}\s{{1,3}})?$", re.IGNORECASE)
        self.subject = re.compile(rf"(?:{'|'.join(org['regulator_subject'])})\s*(?:(?:{arts})\s*)?$", re.IGNORECASE)
        self.strong = cue_regex(lang, "strong_breach_terms")
        self.breach = cue_regex(lang, "breach_terms")
        self.media = {fold(m) for code in languages() for m in cues(code)["media"]}
        self.non_victims = {fold(m) for m in c["non_victims"]}
        self.agency_keys, self.agency_squeezed = set(), set()
        for row in gazetteer():
            for n in [x for code in languages() for x in row.get(code, [])] + row["acronyms"]:
                self.agency_keys.add(fold(n))
                if len(n) > 8:  # full names, typed without apostrophes too ("Commission daccès à linformation")
                    self.agency_squeezed.add(fold(n, drop_articles=False).replace(" ", ""))
        self.agency_like = re.compile(org["agency_like"], re.IGNORECASE)
        self.not_org = re.compile(org["not_organization"])  # laws, bills, programmes, reports
        d = c["dates"]
        self.calendar = {fold(w) for w in list(d["months"]) + list(d["weekdays"])}
        w = words(lang)

        def tail(key, flags=0):  # words right before a mention
            return re.compile(rf"(?<![\w])(?:{'|'.join(sorted(w[key], key=len, reverse=True))})\s{{0,3}}$", flags)

        self.person_before = tail("person_titles")  # case kept: "Me", "Par" are titles, "me", "par" words
        self.person_inside = re.compile(rf"^(?:{'|'.join(sorted(w['person_titles'], key=len, reverse=True))})\.?\s")
        self.person_after = re.compile(rf"^(?:{'|'.join(sorted(w['person_after'], key=len, reverse=True))})\b")
        self.data_item_before = tail("data_item_before", re.IGNORECASE)
        self.data_item_words = alternation(tuple(dict.fromkeys(all_words("data_item_words"))), re.IGNORECASE, True)
        self.product_before = tail("product_before", re.IGNORECASE)
        self.generic = {fold(x) for x in all_words("generic_words")}
        self.credit_before = re.compile(rf"(?:{'|'.join(sorted(set(all_words('credit_before')), key=len, reverse=True))})[^\n.]{{0,40}}$", re.IGNORECASE)
        self.credit_after = re.compile(rf"^(?:{'|'.join(sorted(set(all_words('credit_after')), key=len, reverse=True))})", re.IGNORECASE | re.MULTILINE)
        self.recipient = re.compile(rf"(?<![\w])(?:{'|'.join(sorted(w['recipient_before'], key=len, reverse=True))})\b[^.;:!?\n]{{0,90}}$", re.IGNORECASE)
        self.law_firm = re.compile(w["law_firm"])
        self.law_firm_before = tail("law_firm_before")
        self.court = re.compile(w["court_like"])
        self.government = alternation(tuple(all_words("government_words")), re.IGNORECASE, True)
        self.sections = {fold(x) for x in all_words("section_labels")}


@lru_cache(maxsize=None)
def rules_for(lang: str) -> OrgRules:
    return OrgRules(lang)


make_organization = register("incident_organization", lambda lang: OrganizationComponent(lang))


def _clean(text: str, start: int, end: int) -> Optional[tuple[str, int, int]]:
    surface = text[start:end]
    m = lead_articles().match(surface)
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
        text, r = doc_text(doc), self.rules
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
                if m.end() < len(text) and text[m.end()].isalnum():
                    continue  # a pattern that stops inside a word ("Commission" of "Commissioner's Office")
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
        text, r = doc_text(doc), self.rules
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
        tail = name_tails().match(text[m.end():m.end() + 40])
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

    def features(self, doc: Doc, groups: list[Group]) -> None:
        """Each group's features (``g.features``), read off the text around its mentions."""
        text, r = doc_text(doc), self.rules
        sents = doc._.sent_bounds or [(0, len(text))]
        meta = doc._.meta or {}
        title_end = meta.get("title_end", 0)
        lead_end = sents[min(1, len(sents) - 1)][1]
        early_end = sents[min(3, len(sents) - 1)][1]
        issuer_at = meta.get("dateline_end")
        breach_sentence: dict = {}
        for g in groups:
            mentions = _distinct(g.mentions)
            named = [m for m in mentions if m.source != "acronym"] or mentions
            first = g.first
            f = dict.fromkeys(FEATURES, 0.0)
            f["mentions"] = float(min(len(mentions), 6))
            f["title_lede"] = float(first < max(title_end, lead_end))
            f["early"] = float(not f["title_lede"] and first < early_end)
            f["title_only"] = float(title_end > 0 and all(m.start < title_end for m in mentions))
            cued = subject = in_breach = recipient = person = 0
            for m in mentions:
                before = text[max(0, m.start - 40):m.start]
                if r.left.search(before) or r.right.match(text[m.end:m.end + 80]):
                    cued += 1
                if r.subject.search(before):
                    subject += 1
                b = sentence_bounds(sents, m.start)
                if b not in breach_sentence:  # once per sentence, not once per mention (quadratic on long sentences)
                    breach_sentence[b] = bool(r.strong.search(text, *b) or r.breach.search(text, *b))
                in_breach += breach_sentence[b]
                if r.recipient.search(text[max(b[0], m.start - 110):m.start]):
                    recipient += 1
                if (r.person_before.search(text[max(0, m.start - 25):m.start]) or r.person_inside.match(m.text)
                        or r.person_after.match(text[m.end:m.end + 30])):
                    person += 1
            f["victim_cue"] = float(min(cued, 4))
            f["regulator_subject"] = float(min(subject, 3))
            f["breach_sentence"] = float(min(in_breach, 4))
            f["recipient"] = recipient / len(mentions)
            f["person"] = float(person > 0)
            # the data was held by, or the attack hit, this organization: the strongest sign of the victim
            f["custody"] = float(any(r.custody.search(text[max(0, m.start - 50):m.start]) for m in mentions))
            f["supplier_apposition"] = float(any(r.apposition.search(text[max(0, m.start - 40):m.start])
                                                 or r.apposition_after.match(text, m.end) for m in named))
            f["issuer"] = float(issuer_at is not None and any(issuer_at <= m.start < issuer_at + 200 for m in mentions))
            lw = self.label_weight(g)
            f["not_org_label"] = 1.0 - lw
            f["institutional"] = float(any(m.source in ("pattern", "gazetteer", "definition") for m in mentions))
            f["acronym"] = float(g.acronym is not None)
            keys = {fold(m.text) for m in mentions} | {g.key}
            squeezed = {fold(m.text, drop_articles=False).replace(" ", "") for m in mentions}
            # the word after counts too: "B.C. Privacy" + "Commissioner"
            f["agency"] = float(any(r.agency_like.search(m.text + _next_word(text, m.end)) for m in mentions)
                                or bool(keys & r.agency_keys) or bool(squeezed & r.agency_squeezed))
            f["media"] = float(bool(keys & r.media) or any(_starts_with(k, r.media) for k in keys))
            f["non_victim"] = float(bool(keys & r.non_victims))
            f["not_organization"] = float(any(r.not_org.search(m.text) for m in named))
            f["calendar"] = float(bool(keys & r.calendar))
            name = g.best_name()
            f["data_item"] = float(any(r.data_item_before.search(text[max(0, m.start - 30):m.start])
                                       or r.data_item_words.search(m.text)
                                       or r.data_item_words.match(text, m.end + 1) for m in named))
            f["product"] = float(any(r.product_before.search(text[max(0, m.start - 30):m.start]) for m in named))
            f["generic"] = float(self._generic(name, g.acronym is not None))
            f["credit"] = float(any(self._credit(text, m) for m in mentions))
            f["masthead"] = float(any(self._alone_on_line(text, m) for m in mentions)
                                  or bool(keys & r.sections))
            f["caps_phrase"] = float(len(name.split()) > 1 and name.isupper() and g.acronym != name)
            f["law_firm"] = float(any(r.law_firm.search(m.text) or r.law_firm_before.search(text[max(0, m.start - 30):m.start])
                                      for m in named))
            f["court"] = float(any(r.court.search(m.text) for m in named))
            f["government"] = float(bool(r.government.search(name)))
            # a headline fragment: "Privacy Breach Affecting Clients of X" names an event, not an organization
            f["headline"] = float(any(r.strong.search(m.text) or r.breach.search(m.text) for m in named))
            g.features = f

    def _generic(self, name: str, has_acronym: bool = False) -> bool:
        """A common noun, not a name: "Ville", "Office", "Centre", "Company", or a short head with no proper word
        after it ("Institut d'enseignement collégial"; a long official name with an acronym is a name)."""
        r = self.rules
        key = fold(name)
        if key in r.generic:
            return True
        ws = [w for w in re.split(r"[\s\-’']+", name) if w]
        if has_acronym or not 2 <= len(ws) <= 4 or fold(ws[0]) not in r.generic:
            return False
        return not any(w[:1].isupper() or w[:1].isdigit() for w in ws[1:])

    def _credit(self, text: str, m: Mention) -> bool:
        """A photo credit or image agency: "Photo : X", "(Photo: X/Getty Images)"."""
        r = self.rules
        line_start = text.rfind("\n", 0, m.start) + 1
        before = text[max(line_start, m.start - 50):m.start]
        return bool(r.credit_before.search(before)) or bool(r.credit_after.match(text[m.end:m.end + 40]))

    @staticmethod
    def _alone_on_line(text: str, m: Mention) -> bool:
        """A line that is only this name: a site name, a desk, a section label, a signature."""
        line_start = text.rfind("\n", 0, m.start) + 1
        line_end = text.find("\n", m.end)
        line_end = len(text) if line_end < 0 else line_end
        return 0 < line_end - line_start and text[line_start:line_end].strip(" .,:-–|•*\t") == m.text

    def score(self, doc: Doc, groups: list[Group]) -> None:
        """A linear score over the features; ``g.penalty`` is the part the junk features take away."""
        self.features(doc, groups)
        w = weights()["features"]
        for g in groups:
            parts = {k: w.get(k, 0.0) * v for k, v in g.features.items()}
            g.score = sum(parts.values())
            g.penalty = -sum(p for k, p in parts.items() if p < 0 and k in JUNK)

    def aliases(self, doc: Doc, best: Group, groups: list[Group]) -> list[str]:
        """Other organizations tied to the winner in one sentence by a supplier/parent/operator cue."""
        text, r = doc_text(doc), self.rules
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
        self.add_repeats(doc_text(doc), groups)
        self.score(doc, groups)
        # on a tie, the more organization-like candidate (institutional pattern, gazetteer, ORG label)
        best = max(groups, key=lambda g: (g.score, self.label_weight(g), -g.first))
        if best.score <= weights()["min_score"]:
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


_NEXT_WORD = re.compile(r"[ \t]{1,3}[\w’'.\-]{1,30}")


def _next_word(text: str, at: int) -> str:
    m = _NEXT_WORD.match(text, at)
    return m.group(0) if m else ""


def _distinct(mentions: list) -> list:
    """One mention per place in the text: a name inside a longer mention of the same group is not named again."""
    out: list = []
    for m in sorted(mentions, key=lambda m: (m.start, -(m.end - m.start))):
        if out and m.start < out[-1].end:
            continue
        out.append(m)
    return out


def _starts_with(key: str, names: set) -> bool:
    """'tva gatineau' starts with the outlet 'tva'."""
    words = key.split()
    return any(" ".join(words[:n]) in names for n in range(1, len(words)))


def _contains(haystack: list[str], needle: list[str]) -> bool:
    n = len(needle)
    return any(haystack[i:i + n] == needle for i in range(len(haystack) - n + 1))
