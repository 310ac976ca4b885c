"""`incident_data_types`: which kinds of personal information were exposed.

Every match of a term of ``resources/<lang>/data_types.jsonl`` (one regex per line with its
code from the shared taxonomy) is a *mention*. Whether a mention says what was exposed is a
scored decision: the component computes features of the mention from its text (is it in a
list of data items, after a list introducer or an exposure verb, negated with the whole list,
what fraudsters might do or the password used to get in, advice, a channel or an outage,
part of a name or a caption, law vocabulary...), with the
cue words in ``resources/<lang>/data_types_cues.json``, and a logistic score with the weights
of ``resources/shared/data_type_weights.json`` (fitted by ``eval/fit_data_types.py``).
A code is kept when its best mention scores at least the threshold;
A generic mention ("renseignements personnels", "the personal information of employees": rows
marked ``generic``) counts only when no specific code is kept; ``unspecified_personal_information``
only alone.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Optional

from spacy.tokens import Doc

from ..cue_index import CueIndex, StartIndex, doc_low, screen_text
from ..resources import ROOT, cue_regex, load_json, load_jsonl
from ._util import clause_bounds, doc_text, register, sentence_bounds, split_patterns

UNSPECIFIED = "unspecified_personal_information"
CHANNEL_CODES = {"email", "phone", "address"}  # also the means of a contact or an outage
QUOTES_OPEN = {"«", "“", '"', "‘"}
QUOTES_CLOSE = {"»", "”", '"', "’"}
VECTOR_CODES = {"credentials"}  # also the means of an attack
PRODUCT_CODES = {"payment_card", "bank_account", "financial_other", "account_metadata"}  # also what a firm sells
WEIGHTS = ROOT / "shared" / "data_type_weights.json"

for _name in ("data_types", "data_type_mentions"):
    if not Doc.has_extension(_name):
        Doc.set_extension(_name, default=None)


@dataclass
class DataTypeHit:
    code: str
    start: int
    end: int


@dataclass
class Mention:
    code: str
    start: int
    end: int
    features: dict = field(default_factory=dict)
    score: float = 0.0


@lru_cache(maxsize=None)
def weights() -> dict:
    with open(WEIGHTS, encoding="utf-8") as fh:
        return json.load(fh)


def _alt(words: list, before: str = r"(?<![\w])", after: str = r"(?![\w])") -> Optional[re.Pattern]:
    if not words:
        return None
    ordered = sorted(set(words), key=lambda p: (-len(p), p))
    return re.compile(before + "(?:" + "|".join(f"(?:{w})" for w in ordered) + ")" + after, re.IGNORECASE)


def _within(reach: int) -> str:
    """A cue that follows within `reach` characters of the same clause (no sentence or comma break before it)."""
    return rf"^[^.;:!?,]{{0,{reach}}}?(?<![\w])"


def _matches(text: str, regexes: list, index: Optional[CueIndex] = None, low: Optional[str] = None,
             starts: Optional[StartIndex] = None) -> list[tuple[int, int, int]]:
    """(start, end, row) of the term matches: the longest wins where several start, none overlap. With
    `index` (a CueIndex over the regexes' positions), only the regexes whose literals are in `low` run;
    with `starts` (a StartIndex over them), each row regex is tried only where its literal starts occur."""
    found = []
    if starts is not None:
        for k, ms in starts.finditer(text, screen_text(text) if low is None else low).items():
            row = regexes[k][1]
            found.extend((m.start(), m.end(), row) for m in ms)
    else:
        todo = range(len(regexes)) if index is None else sorted(index.candidates(screen_text(text) if low is None else low))
        for k in todo:
            rx, row = regexes[k]
            for m in rx.finditer(text):
                found.append((m.start(), m.end(), row))
    found.sort(key=lambda h: (h[0], -(h[1] - h[0]), h[2]))
    out, last = [], -1
    for s, e, row in found:
        if s >= last:
            out.append((s, e, row))
            last = e
    return out


def _negated_before(r: "DataTypeRules", text: str, cl: int, ls: int) -> bool:
    """A negation cue before the list, in its clause, at most 80 characters before it, and no
    exposure verb after a comma in between ("aucun NAS n'a été touché, qui a exposé les noms": the
    names are; "did not affect payment card information": the cards are not)."""
    if r.neg_before is None:
        return False
    lo = max(cl, ls - 80)
    chunk = _blank(r.neg_exceptions, text[lo:ls])
    for m in r.neg_before.finditer(chunk):
        rest = chunk[m.end():]
        if re.search(r"[.;:!?]", rest):
            continue
        tail = rest[rest.rfind(",") + 1:] if "," in rest else ""
        if not (r.exposure and tail and r.exposure.search(tail)):
            return True
    return False


def _negated_after_subject(r: "DataTypeRules", rest: str) -> bool:
    """A negated verb right after the comma that closes the list's subject, with no exposure verb
    before that comma ("..., ainsi que les numéros de registre, n'ont pas été consultées")."""
    m = r.neg_after_comma.match(rest) if r.neg_after_comma is not None else None
    return bool(m) and not (r.exposure and r.exposure.search(m.group(1)))


def _blank(rx: Optional[re.Pattern], chunk: str) -> str:
    """`chunk` with the matches of `rx` blanked out (same length): "not limited to" is no negation."""
    return chunk if rx is None else rx.sub(lambda m: " " * len(m.group(0)), chunk)


def _search(rx: Optional[re.Pattern], text: str, lo: int, hi: int) -> bool:
    return rx is not None and lo < hi and rx.search(text, lo, hi) is not None


class DataTypeRules:
    def __init__(self, lang: str):
        self.rows = load_jsonl(lang, "data_types.jsonl")
        # one regex a row, so that the longest match wins wherever it starts ("adresses postales et
        # électroniques" over "adresses postales", "numéro de compte chèques" over "numéro de compte")
        self.row_regexes = [(rx, i) for i, r in enumerate(self.rows) for rx in split_patterns([(r["pattern"], i)])[:2] if rx]
        # which rows can match: one automaton pass over the literals of every row (extractor/cue_index.py)
        self.row_index = CueIndex((k, rx.pattern, rx.flags) for k, (rx, _) in enumerate(self.row_regexes))
        # where each row can match: the literals its matches start with, tried only where they occur
        self.row_starts = StartIndex((k, rx) for k, (rx, _) in enumerate(self.row_regexes))
        c = load_json(lang, "data_types_cues.json")
        self.exposure = _alt(c["exposure"])
        self.introducer = _alt(c["introducer"])
        self.data_noun = _alt(c["data_noun"])
        self.neg_before = _alt(c["negation_before"], after=r"\b")
        self.neg_after_adverb = _alt(c["negation_after_adverb"], before=_within(60))
        self.neg_after = _alt(c["negation_after"], before=_within(60))
        # "des données comme les numéros de carte, les mots de passe, ainsi que X, n'ont pas été
        # consultées": the verb of a long list subject, after the comma that closes the subject
        self.neg_after_comma = _alt(c["negation_after"], before=r"^([^.;:!?]{0,100}?),\s{0,3}(?<![\w])")
        self.hypothetical = _alt(c["hypothetical"])
        self.uncertain = _alt(c["uncertain"])
        self.vector = _alt(c["vector"])
        self.neg_exceptions = _alt(c["negation_exceptions"])
        self.advice = _alt(c["advice"])
        self.channel_before = _alt(c["channel_before"], after=r"\s+(?:\w+\s+)?$")
        joiners = "|".join(sorted(c["list_joiner"], key=len, reverse=True))
        # one word may stand before the channel noun, not a joiner ("addresses and account types" is a list)
        self.channel_after = _alt(c["channel_after"], before=rf"^\s{{0,2}}(?:(?!(?:{joiners})(?![\w]))\w+\s+)?")
        self.outage = _alt(c["outage_after"], before=_within(40))
        link = "|".join(sorted(c["department_link"], key=len, reverse=True))
        self.dept_before = _alt(c["department_before"], after=rf"\s+(?:(?:{link})\s*)?$")
        self.dept_after = _alt(c["department_after"], before=r"^\s+")
        self.law = _alt(c["law"])
        self.definition = _alt(c.get("definition", []))
        self.second_person = _alt(c["second_person"])
        # "change their passwords", "surveillez vos relevés": the item is the object of advice
        self.advice_object = _alt(c.get("advice_object", []), after=r"\s+(?:[\w-]+\s+){0,2}$")
        self.advice_after = _alt(c.get("advice_after", []), before=_within(40))  # "...before passwords could be reset"
        # "which issues co-branded credit cards", "demandes de cartes de crédit": the product, no data
        self.product_before = _alt(c.get("product_before", []), after=r"\s+(?:[\w-]+\s+){0,2}$")
        self.product_after = _alt(c.get("product_after", []), before=r"^\s{0,2}(?<![\w])")
        # rows whose code depends on a nearby institution ("account numbers" at a bank are bank accounts)
        self.institution = _alt(c.get("institution", []))
        joiner = "|".join(sorted((j for j in c["list_joiner"]), key=len, reverse=True))
        filler = "|".join(sorted((f for f in c["list_filler"]), key=len, reverse=True))
        # what may stand between two items of one list: punctuation, bullets, a joiner, articles
        self.gap = re.compile(
            rf"^[\s,/()•\-–*·]*(?:(?:{joiner})(?![\w])[\s,]*)?(?:(?:{filler})(?![\w])[\s]*)*[\s,/()•\-–*·]*$", re.IGNORECASE)
        # or the rest of a bulleted line and the start of the next bullet ("– Phone numbers (home, cell)\n– Acme account numbers")
        self.bullet_gap = re.compile(r"^[^\n]{0,40}\n\s*[•\-–*·]\s*[^\n]{0,40}$")
        self.breaks = cue_regex(lang, "clause_break", word_bounded=False)
        self.caption = re.compile(r"(?<!\s)\s{0,3}[:/|]\s{0,3}\S")
        # elliptical coordination: the head noun said once for several items ("numéros de téléphone et
        # d'assurance sociale": a head that starts the first item; "social insurance and health card
        # numbers": a tail that ends the last one), with the joiners that may stand between
        heads = c.get("ellipsis_head", [])
        tails = c.get("ellipsis_tail", [])
        self.ellipsis_head = re.compile(rf"(?:{'|'.join(heads)})(?=\s)", re.IGNORECASE) if heads else None
        self.ellipsis_tail = re.compile(rf"(?<=\s)(?:{'|'.join(tails)})$", re.IGNORECASE) if tails else None
        self.ellipsis_after = re.compile(rf"^\s*(?:,\s*)?(?:(?:{joiners})(?![\w])\s*)?(?=\S)", re.IGNORECASE)
        self.ellipsis_before = re.compile(
            rf"(?<![\w’'-])((?:[\w’'-]+ ){{0,2}}[\w’'-]+)\s*(?:,\s*)?(?:(?:{joiners})(?![\w])\s*)?$", re.IGNORECASE)


@lru_cache(maxsize=None)
def rules_for(lang: str) -> DataTypeRules:
    return DataTypeRules(lang)


def _lists(text: str, hits: list, gap: re.Pattern, bullet: Optional[re.Pattern] = None) -> list[tuple[int, int]]:
    """Index ranges [i, j) of hits that form one list ("noms, adresses et numéros de téléphone")."""
    groups, i = [], 0
    while i < len(hits):
        j = i + 1
        while j < len(hits) and (
                (hits[j][0] - hits[j - 1][1] <= 60 and gap.match(text[hits[j - 1][1]:hits[j][0]]))
                or (bullet is not None and hits[j][0] - hits[j - 1][1] <= 90 and bullet.match(text[hits[j - 1][1]:hits[j][0]]))):
            j += 1
        groups.append((i, j))
        i = j
    return groups


def _row_match(r: "DataTypeRules", cand: str, full: bool):
    """(length, row) of the longest row that matches `cand` from its start (the whole of it when `full`)."""
    best = None
    for rx, row in r.row_regexes:
        m = rx.fullmatch(cand) if full else rx.match(cand)
        if m and (best is None or m.end() > best[0]):
            best = (m.end(), row)
    return best


def _free(hits: list, s: int, e: int) -> bool:
    return all(b <= s or a >= e for a, b, _ in hits)


def _ellipses(text: str, hits: list, r: "DataTypeRules") -> list:
    """`hits` with the items of an elliptical coordination added: the complement that shares the head
    of the item before it ("numéros de téléphone et d'assurance sociale": "d'assurance sociale" read
    as "numéros d'assurance sociale") or the modifier that shares the tail of the item after it
    ("social insurance and health card numbers": "social insurance" read as "social insurance numbers")."""
    if not hits or (r.ellipsis_head is None and r.ellipsis_tail is None):
        return hits
    out = list(hits)
    if r.ellipsis_head is not None:
        k = 0
        todo = [(s, e, row, None) for s, e, row in hits]
        while k < len(todo):
            s, e, row, head = todo[k]
            k += 1
            if head is None:
                m = r.ellipsis_head.match(text, s, e)
                if m is None:
                    continue
                head = m.group(0)
            a = r.ellipsis_after.match(text[e:e + 20])
            if a is None or a.end() == 0 or not re.search(r"[^\s]", text[e:e + a.end()]):
                continue
            p = e + a.end()
            got = _row_match(r, head + " " + text[p:p + 80], full=False)
            if got is None or got[0] <= len(head) + 1:
                continue
            q = p + got[0] - len(head) - 1
            if _free(out, p, q):
                out.append((p, q, got[1]))
                todo.append((p, q, got[1], head))
    if r.ellipsis_tail is not None:
        for s, e, row in list(out):
            m = r.ellipsis_tail.search(text, s, e)
            if m is None:
                continue
            b = r.ellipsis_before.search(text[max(0, s - 60):s])
            if b is None or b.end(1) == b.end():
                continue  # no joiner or comma between the modifier and the item
            base = max(0, s - 60)
            words = b.group(1).split(" ")
            for n in range(len(words), 0, -1):
                piece = " ".join(words[-n:])
                got = _row_match(r, piece + " " + m.group(0), full=True)
                if got is not None:
                    ps = base + b.end(1) - len(piece)
                    if _free(out, ps, base + b.end(1)):
                        out.append((ps, base + b.end(1), got[1]))
                    break
    out.sort(key=lambda h: (h[0], h[1]))
    return out


def mentions(text: str, sents: list, names: list, lang: str, low: Optional[str] = None) -> list[Mention]:
    """Every data-type mention of the text with its features (`low`: the text's screen_text, when known).
    Rows with no code are data items outside the taxonomy ("ages"): they hold a list together, no mention."""
    r = rules_for(lang)
    hits = _ellipses(text, _matches(text, r.row_regexes, low=low, starts=r.row_starts), r)
    out: list[Mention] = []
    lists = _lists(text, hits, r.gap, r.bullet_gap)
    codes_in_doc: dict[str, int] = {}
    for s, e, row in hits:
        for c in (r.rows[row]["code"], *r.rows[row].get("also", ())):
            if c is not None:
                codes_in_doc[c] = codes_in_doc.get(c, 0) + 1
    # sentences with an exposure verb, for the distance feature
    exposed_sents = [k for k, (a, b) in enumerate(sents) if _search(r.exposure, text, a, b)]
    prev_end, prev_negated = -1, False
    for gi, gj in lists:
        ls, le = hits[gi][0], hits[gj - 1][1]
        size = len({r.rows[hits[k][2]]["code"] for k in range(gi, gj)})
        lo, hi = sentence_bounds(sents, ls)
        _, hi2 = sentence_bounds(sents, max(le - 1, ls))
        hi = max(hi, hi2) if hi2 < 10**9 else hi
        if lo == 0 and hi == 10**9:
            lo, hi = 0, len(text)
        hi = min(hi, len(text))
        # the sentence before, when the list starts its line or the line before ends with ":"
        plo = lo
        prev = sentence_bounds(sents, lo - 1) if lo > 0 else None
        if prev and prev[1] < 10**9 and (text[prev[0]:prev[1]].rstrip().endswith(":") or ls - lo < 4):
            plo = prev[0]
        cl, ch = clause_bounds(text, ls, le, lo, hi, r.breaks)
        negated = _negated_before(r, text, cl, ls)
        if not negated:
            tail = _blank(r.neg_exceptions, text[le:ch])  # the clause after the item, "not limited to" blanked
            negated = bool(r.neg_after and r.neg_after.match(tail)) or _negated_after_subject(r, tail) or bool(
                # "ne seraient toutefois pas en cause": the adverb is no clause break here
                r.neg_after_adverb and r.neg_after_adverb.match(text[le:hi]))
        # "no financial information, such as credit card numbers": the examples share the negation
        if prev_negated and 0 <= ls - prev_end <= 40 and prev_end >= cl and _search(r.introducer, text, prev_end, ls):
            negated = True
        prev_end, prev_negated = le, negated
        before = text[plo:ls]
        introduced = _search(r.introducer, text, max(plo, ls - 160), ls) or before.rstrip().endswith(":")
        exposure_sent = _search(r.exposure, text, plo, hi)
        noun_sent = _search(r.data_noun, text, plo, ls) or _search(r.data_noun, text, le, hi)
        # what fraudsters might ask for, the password used to get in: said before the item, in its clause
        # ... and what a law or a policy defines as personal information ("such as a name"): no breach
        blocked = negated or _search(r.hypothetical, text, max(cl, ls - 80), ls) or _search(r.definition, text, max(cl, ls - 160), ls) or bool(
            r.advice_object and r.advice_object.search(text, max(cl, ls - 40), ls)) or bool(r.advice_after and r.advice_after.match(text[le:ch]))
        outage = bool(r.outage and r.outage.match(text[le:ch]))
        uncertain = _search(r.uncertain, text, cl, ch)
        advice = _search(r.advice, text, max(cl, ls - 80), ls)
        law = _search(r.law, text, lo, hi)
        second = _search(r.second_person, text, cl, ch)
        k_sent = next((k for k, (a, b) in enumerate(sents) if a <= ls < b), 0)
        dist = min((abs(k - k_sent) for k in exposed_sents), default=9)
        line_lo = text.rfind("\n", 0, ls) + 1
        line_hi = text.find("\n", le)
        line_hi = len(text) if line_hi < 0 else line_hi
        short_line = (line_hi - line_lo) < 60 and not exposure_sent
        for k in range(gi, gj):
            s, e, row = hits[k]
            code = r.rows[row]["code"]
            if code is None:
                continue
            alt = r.rows[row].get("institution_code")
            # ... unless the text names that code itself: "utility account numbers and bank account numbers"
            if alt and alt not in codes_in_doc and _search(r.institution, text, max(0, s - 400), min(len(text), e + 200)):
                code = alt
            weak = bool(r.rows[row].get("weak"))
            cap = text[s:s + 1].isupper() and (s == 0 or text[s - 1] not in "-•:")
            # "Human Resources Canada", "Direction des finances": a name that goes on past the term
            in_name = cap and (any(a <= s and e < b for a, b in names) or re.match(r" (?-i:[A-ZÉ])", text[e:e + 2]) is not None)
            label = text[s:s + 1].isupper() and (
                (r.caption.match(text, e) is not None and (s == 0 or text[s - 1] in "\n (["))
                # a quoted title: a folder or a section named « Ressources humaines », "Payroll"
                or (text[max(0, s - 2):s].strip() in QUOTES_OPEN and text[e:e + 2].strip()[:1] in QUOTES_CLOSE))
            product = code in PRODUCT_CODES and bool(
                (r.product_before and r.product_before.search(text, max(cl, s - 40), s))
                or (r.product_after and r.product_after.match(text[e:e + 30])))
            channel = code in CHANNEL_CODES and (
                bool(r.channel_before and r.channel_before.search(text[max(lo, s - 30):s]))
                or bool(r.channel_after and r.channel_after.match(text[e:e + 40])) or outage)
            # the password used to get in ("le mot de passe d'un employé", "a phished password")
            vector = code in VECTOR_CODES and (_search(r.vector, text, max(cl, s - 25), s) or _search(r.vector, text, e, min(ch, e + 25)))
            dept = bool(r.dept_before and r.dept_before.search(text[max(0, s - 40):s])) or bool(
                r.dept_after and r.dept_after.match(text[e:e + 20]))
            f = {
                "in_list": 1.0 if size >= 2 else 0.0,
                "list_size": min(size, 6) / 6.0,
                "introduced": 1.0 if introduced else 0.0,
                "exposure_sentence": 1.0 if exposure_sent else 0.0,
                "data_noun_sentence": 1.0 if noun_sent else 0.0,
                "exposure_distance": 1.0 / (1.0 + dist),
                "not_exposed": 1.0 if blocked or vector or product else 0.0,
                "uncertain": 1.0 if uncertain else 0.0,
                "advice": 1.0 if advice else 0.0,
                "second_person": 1.0 if second else 0.0,
                "law": 1.0 if law else 0.0,
                "in_name": 1.0 if in_name or dept else 0.0,  # "Human Resources Canada", "service de la paie"
                "label": 1.0 if label else 0.0,
                "channel": 1.0 if channel else 0.0,
                "short_line": 1.0 if short_line else 0.0,
                "weak_term": 1.0 if weak else 0.0,
                "weak_alone": 1.0 if weak and size < 2 else 0.0,
                "unspecified": 1.0 if code == UNSPECIFIED else 0.0,
                "generic": 1.0 if code == UNSPECIFIED or r.rows[row].get("generic") else 0.0,
                "repeated": min(codes_in_doc.get(code, 1) - 1, 3) / 3.0,
            }
            for c in (code, *r.rows[row].get("also", ())):
                out.append(Mention(c, s, e, dict(f, unspecified=1.0 if c == UNSPECIFIED else 0.0,
                                                 generic=1.0 if c == UNSPECIFIED or r.rows[row].get("generic") else 0.0)))
    return out


def score(f: dict, w: dict) -> float:
    z = w.get("bias", 0.0) + sum(w["features"].get(k, 0.0) * v for k, v in f.items())
    return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))


def keep_codes(scored: list[tuple[str, dict, float]], thr: float) -> set[str]:
    """The codes kept from (code, features, score) mentions: those with a mention at or over the
    threshold. Generic mentions ("personal information", "the personal information of employees")
    count only when no specific one is kept; the unspecified code only alone."""
    specific = {c for c, f, p in scored if p >= thr and not f.get("generic")}
    if specific:
        return specific
    kept = {c for c, f, p in scored if p >= thr}
    if len(kept) > 1:
        kept.discard(UNSPECIFIED)
    return kept


def select(ms: list[Mention], w: dict) -> list[DataTypeHit]:
    """One hit per kept code, on its best mention."""
    thr = float(w.get("threshold", 0.5))
    for m in ms:
        m.score = score(m.features, w)
    kept = keep_codes([(m.code, m.features, m.score) for m in ms], thr)
    best: dict[str, Mention] = {}
    for m in ms:
        if m.code in kept and (m.code not in best or m.score > best[m.code].score):
            best[m.code] = m
    return sorted((DataTypeHit(m.code, m.start, m.end) for m in best.values()), key=lambda h: h.start)


make_data_types = register("incident_data_types", lambda lang: DataTypesComponent(lang))


class DataTypesComponent:
    def __init__(self, lang: str):
        self.lang = lang
        rules_for(lang)

    def __call__(self, doc: Doc) -> Doc:
        names = [(ent.start_char, ent.end_char) for ent in doc.ents]
        text = doc_text(doc)
        ms = mentions(text, doc._.sent_bounds, names, self.lang, doc_low(doc, text))
        doc._.data_type_mentions = ms
        doc._.data_types = select(ms, weights())
        return doc
