"""The language rules of `incident_organization`: every language's organization words and patterns, compiled.

Words come from each language folder's ``organization.json``, ``org_patterns.jsonl`` and ``cues.json`` (every
language's at once where a text in one names bodies of the other) and from the gazetteers of ``resources/shared/``.
"""

from __future__ import annotations

import re
from functools import lru_cache

from ..cue_index import AlternationIndex, CueIndex, WindowScreen
from ..resources import ROOT as RESOURCES, alternation, cue_regex, cues, load_json, load_jsonl
from ..text import fold, strip_accents
from .agencies import gazetteer


def languages() -> tuple:
    """Every language folder that ships organization words (a new language is a new folder)."""
    return tuple(sorted(d.name for d in RESOURCES.iterdir() if (d / "organization.json").exists()))


def words(lang: str) -> dict:
    return load_json(lang, "organization.json")


def all_words(key: str) -> list:
    """One word family of every language (English articles name French bodies and vice versa)."""
    return [w for lang in languages() for w in words(lang).get(key, [])]


def _longest_first(items: list) -> list:
    """The distinct words, longest first, ties in a fixed order (the same regex, so the same cache entry, in every process)."""
    return sorted(set(items), key=lambda w: (-len(w), w))


@lru_cache(maxsize=None)
def lead_articles() -> re.Pattern:
    arts = _longest_first(all_words("articles"))
    elided = [a for a in arts if a.endswith("['’]")]
    plain = [a for a in arts if a not in elided]
    return re.compile(rf"^(?:(?:{'|'.join(plain)})\s+|(?:{'|'.join(elided)})\s*)+", re.IGNORECASE)


@lru_cache(maxsize=None)
def stop_words() -> frozenset:
    return frozenset(all_words("stop_words"))


@lru_cache(maxsize=None)
def name_tails() -> re.Pattern:
    """"Nom (ACR) du Canada": the words that carry a name on after its acronym."""
    return re.compile(rf"\s*\)?\s*({'|'.join(_longest_first(all_words('name_tails')))})\b")


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


_BOUNDS = (r"(?<![\w])", r"(?![\w])")  # alternation()'s head and tail around a word-bounded alternation


@lru_cache(maxsize=None)
def bodies_index() -> AlternationIndex | None:
    """`bodies_regex` as an AlternationIndex: each name tried only where its literal occurs, the same matches."""
    rx = bodies_regex()
    return None if rx is None else AlternationIndex(rx, *_BOUNDS)


# OrgRules regexes searched in windows around each mention (organization.features), by attribute
WINDOWED = ("left", "right", "subject", "strong", "breach", "recipient", "person_before", "person_after", "custody",
            "apposition", "data_item_before", "product_before", "law_firm_before", "credit_before", "credit_after")


@lru_cache(maxsize=16384)
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
        # which patterns can match a text (their literals occur): most of them never run on a document
        self.pattern_index = CueIndex((k, rx.pattern, rx.flags) for k, rx in enumerate(self.patterns))
        # cues.json's organization cues, plus those of the language's organization.json ("more_left_cues", "more_right_cues")
        org = dict(c["organization"])
        for side in ("left_cues", "right_cues"):
            org[side] = list(org[side]) + list(words(lang).get(f"more_{side}", []))
        arts = "|".join(_longest_first(all_words("articles")))
        self.left = re.compile(rf"(?:{'|'.join(sorted(org['left_cues'], key=len, reverse=True))})\s*(?:(?:{arts})\s*)?$", re.IGNORECASE)
        self.right = re.compile(rf"^\s*(?:,[^,]{{0,60}},\s*)?(?:{'|'.join(sorted(org['right_cues'], key=len, reverse=True))})\b", re.IGNORECASE)
        self.relation = {
            k: alternation(tuple(org[k]), re.IGNORECASE, True) for k in ("supplier", "parent", "operator")
        }
        name = r"(?-i:[A-ZÉÈÀÂÎÔ][\w’'&.\-]*)"
        link = f"(?:{'|'.join(_longest_first(all_words('name_links')))})"
        run = rf"{name}(?:\s+(?:{link}\s+)?{name}){{0,5}}"
        self.name_run = re.compile(run)
        cue_tail = rf"\s+(?:(?:{arts})\s*)?({run})(?![\w])"
        self.after_cue = re.compile(
            rf"(?<![\w])(?:{'|'.join(sorted(org['left_cues'], key=len, reverse=True))}){cue_tail}", re.IGNORECASE)
        # the same matches, each cue tried where its literal occurs (a cue with a group of its own would renumber the name's)
        self.after_cue_index = AlternationIndex(self.after_cue, r"(?<![\w])", cue_tail)
        if any(re.compile(alt, re.IGNORECASE).groups for alt in self.after_cue_index.alts):
            self.after_cue_index = None
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
        self.credit_before = re.compile(rf"(?:{'|'.join(_longest_first(all_words('credit_before')))})[^\n.]{{0,40}}$", re.IGNORECASE)
        self.credit_after = re.compile(rf"^(?:{'|'.join(_longest_first(all_words('credit_after')))})", re.IGNORECASE | re.MULTILINE)
        self.recipient = re.compile(rf"(?<![\w])(?:{'|'.join(sorted(w['recipient_before'], key=len, reverse=True))})\b[^.;:!?\n]{{0,90}}$", re.IGNORECASE)
        self.law_firm = re.compile(w["law_firm"])
        self.law_firm_before = tail("law_firm_before")
        self.court = re.compile(w["court_like"])
        self.government = alternation(tuple(all_words("government_words")), re.IGNORECASE, True)
        self.sections = {fold(x) for x in all_words("section_labels")}
        # the regexes searched in a window around every mention, screened by where their literals occur
        self.cue_screen = CueIndex([("before_cue", self.before_cue.pattern, self.before_cue.flags)])  # any right cue at all?
        self.windows = WindowScreen((key, getattr(self, key).pattern, getattr(self, key).flags) for key in WINDOWED)


@lru_cache(maxsize=None)
def rules_for(lang: str) -> OrgRules:
    return OrgRules(lang)
