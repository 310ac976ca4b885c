"""Mentions of authorities in a text: the gazetteer's names, anaphors, implicit complaints, provinces.

Names come from the bilingual gazetteer ``resources/shared/agencies.jsonl`` (both languages'
names are matched in every document: English articles quote the Sûreté du Québec), plus the
words of ``resources/<lang>/agencies.json``: anaphors of a regulator named before ("la
Commission", "the office"), complaints filed with no authority named (a complaint to the
police), and complaints filed under a law ("en vertu de la Loi sur la protection des renseignements
personnels": one to the authority whose gazetteer ``laws`` name it). A provincial commissioner
named without its province belongs to the province of the text (places near it, the dateline,
the places the text names most); so does a provincial
police named without its province ("provincial police are investigating": the Sûreté du Québec
in Québec, the OPP in Ontario), by the gazetteer's ``provincial_police_of``.
"""

from __future__ import annotations

import bisect
import json
import re
from dataclasses import dataclass
from functools import lru_cache

from ..cue_index import AlternationIndex, screen_text
from ..resources import LANGUAGES, ROOT, alternation, cue_regex, load_json
from ._util import iter_labelled, split_patterns

MAX_MENTIONS = 200  # mentions scored per document (a hostile text of 50,000 "police" stays linear)
_WRAP = (r"(?<![\w])(?=\w)", r"(?![\w])")  # split_patterns' head and tail around its alternation


def _screened(rx):
    """The name regex as an AlternationIndex (only the names whose literals occur run), or the regex itself."""
    if rx is None:
        return None
    try:
        return AlternationIndex(rx, *_WRAP)
    except ValueError:  # another shape of regex: run it whole
        return rx


@lru_cache(maxsize=None)
def gazetteer() -> tuple[dict, ...]:
    with open(ROOT / "shared" / "agencies.jsonl", encoding="utf-8") as fh:
        return tuple(json.loads(line) for line in fh if line.strip())


def names_of(row: dict) -> list[str]:
    """Every name of a gazetteer row, in every language the resources have (a row keys its names
    by language code: a new language folder adds its names under its own code)."""
    return [name for lang in LANGUAGES for name in row.get(lang, [])]



def _name_pattern(name: str) -> str:
    """A gazetteer name as a regex: either apostrophe, any run of spaces."""
    parts = re.split(r"['’]", name)
    pattern = "['’]?".join(re.escape(p).replace(r"\ ", r"\s+") for p in parts)
    # plurals of the title: "les commissaires à ...", "the commissioners of ..."
    pattern = re.sub(r"(?i)(commissaire)(?=\\s|$)", r"\1s?", pattern)
    # "Information and Privacy Commission(er)(s)": outlets shorten the title
    return re.sub(r"(?i)commissioner(?=\\s|$)", "Commission(?:er)?s?", pattern)



def _fold_law(name: str) -> str:
    """A law's name as the key of its authority: case, apostrophes and spaces folded."""
    return re.sub(r"\s+", " ", re.sub(r"['’]", "", name)).strip().lower()


@dataclass
class Mention:
    code: str
    start: int
    end: int
    kind: str  # "name", "generic", "anaphor", "implicit"



class AgencyRules:
    def __init__(self, lang: str):
        pairs, patterns = [], []
        self.info = {}
        for row in gazetteer():
            self.info[row["code"]] = row
            for name in names_of(row):
                label = row["code"] + ("|generic" if row.get("generic") and name[:1].islower() else "")
                pairs.append((_name_pattern(name), label))
            for acr in row["acronyms"]:
                pairs.append((re.escape(acr), row["code"]))
            for pattern in row.get("patterns", []):  # named forces of the generic codes: "police de Laval"
                patterns.append((pattern, row["code"]))
        sens, insens, self.labels = split_patterns(pairs)
        # regex patterns apart from the names, so that a name always beats a pattern at the same place
        p_sens, p_insens, self.pattern_labels = split_patterns(patterns)
        # the same regexes screened: one automaton pass over the text picks the names that can match.
        # What runs is the screen; the whole alternations (``sens``, ``insens``, ``pattern_res``: the
        # reference the screen equals) are kept inside it only, never run on a document: the
        # case-insensitive one tries its hundreds of names at every word start (about 1 s on a
        # 40,000-character "a-a-a-" text), the screen only where a name's literal occurs
        self.screened = tuple(_screened(rx) for rx in (sens, insens))
        self.pattern_screened = tuple(_screened(rx) for rx in (p_sens, p_insens))
        # "les commissaires ... de l'Ontario et de l'Alberta": one title, two authorities
        self.jurisdiction, self.city = {}, {}
        for row in gazetteer():
            for place in row.get("jurisdictions", []):
                self.jurisdiction[place.lower()] = row["code"]
            for place in row.get("places", []):
                self.city[place] = row["code"]
        conj_places = [p for p, c in self.jurisdiction.items() if c != "REGULATOR_OTHER"]
        places = "|".join(sorted((re.escape(p) for p in self.jurisdiction), key=len, reverse=True))
        self.place_re = re.compile(rf"(?<![\w])({places})(?![\w])", re.IGNORECASE)
        cities = "|".join(sorted((re.escape(p) for p in self.city), key=len, reverse=True))
        self.city_re = re.compile(rf"(?<![\w.])({cities})(?![\w])") if cities else None
        conj = "|".join(sorted((re.escape(p) for p in conj_places), key=len, reverse=True))
        self.conjoined = re.compile(rf"(?<!\s)\s{{0,3}}(?:,|et|and)\s{{1,3}}(?:de\s{{1,3}}(?:la\s{{1,3}}|l['’])?|du\s{{1,3}}|of\s{{1,3}}|for\s{{1,3}})?({conj})(?![\w])", re.IGNORECASE)
        # "privacy commissioners in B.C. and Ontario": a plural title, then its places
        self.after_plural = re.compile(rf"\s{{1,3}}(?:in|of|for|de|du|des|de\s+la|de\s+l['’])\s{{0,3}}({conj})(?![\w])", re.IGNORECASE)
        self.regulator_places = ((self.place_re, self.jurisdiction, 1.0, str.lower), (self.city_re, self.city, 0.5, str))
        self.lang = lang
        words = load_json(lang, "agencies.json")
        # "provincial police" with no province named: the force of the province the text is about
        self.provincial_re = alternation(tuple(words["provincial_police"]), re.IGNORECASE, True) if words.get("provincial_police") else None
        self.police_places = self._police_places()
        self.anaphor_re = alternation(tuple(words["anaphors"]), re.IGNORECASE, True) if words.get("anaphors") else None
        self.implicit_re = alternation(tuple(words["implicit_police"]), re.IGNORECASE, True) if words.get("implicit_police") else None
        self.coord_re = alternation(tuple(words["coordination"]), re.IGNORECASE, False)
        self.hyp_re = alternation(tuple(words["hypothetical"]), re.IGNORECASE, False)
        self.question_re = alternation(tuple(words["question"]), re.IGNORECASE, False)
        self.conjunct_re = alternation(tuple(words["conjoined_predicate"]), re.IGNORECASE, False)
        self.advice_re = alternation(tuple(words["advice"]), re.IGNORECASE, False)
        self.plural_re = alternation(tuple(words["plural_title"]), re.IGNORECASE, False)
        # "La SQ a avisé la CAI": the subject of an active notifying verb whose object is another
        # authority is the notifier; "à la GRC, au Commissariat et à la police": one list
        self.active_re = alternation(tuple(words["active_notify"]), re.IGNORECASE, False) if words.get("active_notify") else None
        # "150 de ses policiers", "its police officers": the organization's own staff, no authority
        self.possessive_re = alternation(tuple(words["possessive"]), re.IGNORECASE, False) if words.get("possessive") else None
        self.list_joiner_re = alternation(tuple(words["list_joiner"]), re.IGNORECASE, False) if words.get("list_joiner") else None
        # "Plainte déposée en vertu de la Loi sur la protection des renseignements personnels": a
        # complaint under a law is a complaint to the authority that administers it (gazetteer ``laws``)
        self.law_code = {}
        for row in gazetteer():
            for law in row.get("laws", []):
                self.law_code[_fold_law(law)] = row["code"]
        laws = sorted({_name_pattern(law) for row in gazetteer() for law in row.get("laws", [])}, key=len, reverse=True)
        self.law_re = re.compile(rf"(?:{'|'.join(laws)})(?![\w])", re.IGNORECASE) if laws else None
        self.complaint_under_re = alternation(tuple(words["complaint_under"]), re.IGNORECASE, False) \
            if words.get("complaint_under") and laws else None
        self.notified = cue_regex(lang, "agency_roles", "notified", word_bounded=False)
        self.investigating = cue_regex(lang, "agency_roles", "investigating", word_bounded=False)
        self.cue = {"notified": self.notified, "investigating": self.investigating}
        self.collab = cue_regex(lang, "agency_roles", "collaboration", word_bounded=False)
        self.negated = cue_regex(lang, "agency_roles", "negated", word_bounded=False)
        self.breaks = cue_regex(lang, "clause_break", word_bounded=False)


    @staticmethod
    def _whole(screened) -> tuple:
        return tuple(x.rx if isinstance(x, AlternationIndex) else x for x in screened)

    @property
    def sens(self):
        """The whole case-sensitive name alternation (what ``screened[0]`` matches exactly)."""
        return self._whole(self.screened)[0]

    @property
    def insens(self):
        """The whole case-insensitive name alternation (what ``screened[1]`` matches exactly)."""
        return self._whole(self.screened)[1]

    @property
    def pattern_res(self) -> tuple:
        """The whole pattern alternations (what ``pattern_screened`` matches exactly)."""
        return self._whole(self.pattern_screened)

    def _police_places(self):
        """The place tables of the provincial police forces: each force's provinces (``provincial_police_of``)
        and cities (its own ``places``, and those of the regulators of the same provinces)."""
        provinces, cities = {}, {}
        for row in gazetteer():
            of = row.get("provincial_police_of") or {}
            names = {n.lower() for n in of.get("jurisdictions", [])}
            provinces.update({n: row["code"] for n in names})
            places = list(of.get("places", []))
            for other in gazetteer():
                if names & {j.lower() for j in other.get("jurisdictions", [])}:
                    places += other.get("places", [])
            cities.update({c: row["code"] for p in places for c in (p, p.upper())})  # "SHERBROOKE —" datelines too

        def rx(table, flags, guard):
            alts = "|".join(sorted((re.escape(p) for p in table), key=len, reverse=True))
            return re.compile(rf"(?<!{guard})({alts})(?![\w])", flags) if alts else None

        return ((rx(provinces, re.IGNORECASE, r"[\w]"), provinces, 1.0, str.lower), (rx(cities, 0, r"[\w.]"), cities, 0.5, str))

    def display_name(self, code: str, surface: str) -> str:
        """The gazetteer's name in the document's language; for POLICE_OTHER/REGULATOR_OTHER, the text's."""
        row = self.info[code]
        if row.get("generic"):
            return surface
        return (row.get(self.lang) or names_of(row) or row["acronyms"])[0]


    def text_jurisdiction(self, text: str, meta: dict, tables=None) -> str | None:
        """The province the text is about (by the code the tables give it): its dateline, else the
        provinces and cities it names most. The tables default to the provincial regulators'."""
        counts: dict[str, float] = {}
        span = (meta or {}).get("dateline_span")
        for rx, table, weight, key in tables or self.regulator_places:
            if rx is None:
                continue
            for m in rx.finditer(text):
                code = table[key(m.group(1))]
                w = weight * (3.0 if span and span[0] <= m.start() < span[1] + 40 else 1.0)
                counts[code] = counts.get(code, 0.0) + w
        if not counts:
            return None
        return max(sorted(counts.items()), key=lambda kv: kv[1])[0]

    def resolve(self, text: str, s: int, e: int, label: str, titled: set, home: str | None) -> str:
        """A provincial commissioner named without its province ("the OIPC", "the Information and Privacy
        Commissioner", "the privacy commissioner") belongs to the province named around it, else to the
        one the text names in full, else to the province of the text."""
        r = self
        code, _, rest = label.partition("|")
        row = r.info[code]
        by_name = row.get("resolvable_names") and re.sub(r"\W+", " ", text[s:e]).strip().lower() in row["resolvable_names"]
        by_row = row.get("resolve_by_jurisdiction") and re.search(row.get("resolve_pattern", ""), text[s:e], re.IGNORECASE)
        if not (by_row or by_name):
            return label
        own = r.place_re.search(text, s, e)
        if own:  # "Office of the Information and Privacy Commissioner for Newfoundland and Labrador"
            return r.jurisdiction[own.group(1).lower()]
        near = [m.group(1).lower() for m in r.place_re.finditer(text, max(0, s - 120), min(len(text), e + 60))]
        if not near and len(titled) == 1:  # the text names the commissioner in full elsewhere
            return next(iter(titled))
        if not near:
            return home if home else label
        # the closest place name before the title wins
        before = [m for m in r.place_re.finditer(text, max(0, s - 120), s)]
        place = (before[-1].group(1) if before else near[0]).lower()
        return r.jurisdiction[place]

    def provincial(self, text: str, meta: dict | None, hits: list) -> list:
        """The hits with each "provincial police" that no longer name covers resolved to the force of the
        province the text is about (a generic police when the text names no province)."""
        found = [m for k, m in zip(range(MAX_MENTIONS), self.provincial_re.finditer(text))]
        if not found:
            return hits
        force = self.text_jurisdiction(text, meta, self.police_places) or "POLICE_OTHER|generic"
        starts = [m.start() for m in found]
        named, dropped = set(), set()  # found spans a longer name covers; hits that give way to a found span
        for h, (s, e, label) in enumerate(hits):
            j = bisect.bisect_left(starts, s)
            while j < len(found) and found[j].end() <= e:
                if e - s > found[j].end() - found[j].start():
                    if label.startswith("POLICE_OTHER"):
                        dropped.add(h)  # "Saturday. Provincial police": a capitalized word is no force's name
                    else:
                        named.add(j)  # "police provinciale du Québec", "Ontario Provincial Police": the name says it
                j += 1
            j = bisect.bisect_right(starts, s) - 1
            if j >= 0 and found[j].end() >= e:
                dropped.add(h)  # "police" inside "provincial police"
        kept = [x for h, x in enumerate(hits) if h not in dropped or any(
            found[j].start() <= x[0] and x[1] <= found[j].end() for j in named)]
        return kept + [(m.start(), m.end(), force) for j, m in enumerate(found) if j not in named]

    def mentions(self, text: str, meta: dict | None, low: str | None = None) -> list[Mention]:
        """Every mention of an authority in `text`, in order (at most MAX_MENTIONS). `low`: the text's
        ``cue_index.screen_text``, when the caller has it."""
        r = self
        low = screen_text(text) if low is None else low
        hits = list(iter_labelled(text, _for_text(r.screened, text, low), r.labels)) \
            + list(iter_labelled(text, _for_text(r.pattern_screened, text, low), r.pattern_labels))
        for s, e, label in list(hits):
            if label in r.jurisdiction.values():
                m = r.conjoined.match(text, e)
                if m:
                    hits.append((m.start(1), m.end(1), r.jurisdiction[m.group(1).lower()]))
            elif (r.info[label.partition("|")[0]].get("resolve_by_jurisdiction") or r.info[label.partition("|")[0]].get("resolvable_names")) \
                    and r.plural_re.search(text, s, e):
                m = r.after_plural.match(text, e)
                if m:  # "privacy commissioners in B.C. and Ontario"
                    hits.append((m.start(1), m.end(1), r.jurisdiction[m.group(1).lower()]))
                    c = r.conjoined.match(text, m.end(1))
                    if c:
                        hits.append((c.start(1), c.end(1), r.jurisdiction[c.group(1).lower()]))
        if r.provincial_re is not None:
            hits = self.provincial(text, meta, hits)
        hits.sort(key=lambda h: (h[0], -(h[1] - h[0])))
        titled = {label for s, e, label in hits
                  if label in r.jurisdiction.values() and r.info[label].get("provincial_regulator")}
        titled |= {r.jurisdiction[m.group(1).lower()] for s, e, label in hits
                   if r.info[label.partition("|")[0]].get("resolve_by_jurisdiction")
                   for m in [r.place_re.search(text, s, e)] if m}
        home = self.text_jurisdiction(text, meta)
        out: list[Mention] = []
        last = -1
        for s, e, label in hits[: MAX_MENTIONS * 4]:
            if s < last:
                continue
            last = e
            label = self.resolve(text, s, e, label, titled, home)
            code, _, generic = label.partition("|")
            if generic and r.possessive_re is not None and r.possessive_re.search(text[max(0, s - 25):s]):
                continue  # "de ses policiers": the organization's own staff
            out.append(Mention(code, s, e, "generic" if generic else "name"))
        if r.complaint_under_re is not None:
            for k, m in enumerate(r.complaint_under_re.finditer(text)):
                law = r.law_re.match(text, m.end()) if k < MAX_MENTIONS else None
                if law is not None and not any(x.start < law.end() and law.start() < x.end for x in out):
                    out.append(Mention(r.law_code[_fold_law(law.group(0))], law.start(), law.end(), "name"))
            out.sort(key=lambda x: x.start)
        taken = [(m.start, m.end) for m in out]

        taken.sort()
        taken_starts = [a for a, _ in taken]

        def free(s, e):
            j = bisect.bisect_left(taken_starts, e)
            return j == 0 or taken[j - 1][1] <= s

        # anaphors: "la Commission" after "la Commission d'accès à l'information"
        if r.anaphor_re is not None:
            regulators = [x for x in out if x.kind == "name" and not r.info[x.code].get("police")]
            ends = [x.end for x in regulators]
            for k, m in enumerate(r.anaphor_re.finditer(text)):
                if k >= MAX_MENTIONS or not free(m.start(), m.end()):
                    continue
                j = bisect.bisect_right(ends, m.start())
                if j == 0:
                    continue
                out.append(Mention(regulators[j - 1].code, m.start(), m.end(), "anaphor"))
        # "a porté plainte" with no authority named: a complaint to the police
        if r.implicit_re is not None:
            starts = sorted(x.start for x in out)
            for k, m in enumerate(r.implicit_re.finditer(text)):
                if k >= MAX_MENTIONS or not free(m.start(), m.end()):
                    continue
                j = bisect.bisect_left(starts, m.end())
                if j < len(starts) and starts[j] - m.end() < 40:
                    continue  # "plainte auprès du procureur" / "(auprès de la Cnil)": that authority's cue
                out.append(Mention("POLICE_OTHER", m.start(), m.end(), "implicit"))
        out.sort(key=lambda x: x.start)
        return out[:MAX_MENTIONS]


class _Found:
    """Matches found already, in the shape iter_labelled reads (``finditer``)."""

    def __init__(self, matches: list):
        self.matches = matches

    def finditer(self, text: str) -> list:
        return self.matches


def _for_text(screened, text: str, low: str) -> list:
    """The regexes to run on `text`: a screened one (AlternationIndex) has found its matches already."""
    return [_Found(x.finditer(text, low)) if isinstance(x, AlternationIndex) else x for x in screened]


@lru_cache(maxsize=None)
def rules_for(lang: str) -> AgencyRules:
    return AgencyRules(lang)
