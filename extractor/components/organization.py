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

The mentions and their groups come from ``org_candidates.py``, the compiled language rules from
``org_rules.py``; this module computes the features, scores the groups and makes the choice.
"""

from __future__ import annotations

import re
from functools import lru_cache

from spacy.tokens import Doc

from ..resources import load_json
from ..cue_index import doc_low
from ._util import doc_text, register, sentence_bounds
from .org_candidates import Candidates, Group, Mention, fold
from .org_rules import rules_for

if not Doc.has_extension("organization"):
    Doc.set_extension("organization", default=None)


@lru_cache(maxsize=None)
def weights() -> dict:
    """The scoring weights (resources/shared/organization_weights.json), fitted by eval/fit_organization.py."""
    return load_json("shared", "organization_weights.json")


# The features of a candidate (`OrganizationComponent.features`); JUNK: those that say it is not the victim
FEATURES = ("mentions", "title_lede", "early", "title_only", "victim_cue", "regulator_subject", "breach_sentence",
            "recipient", "person", "custody", "supplier_apposition", "issuer", "not_org_label", "institutional",
            "acronym", "agency", "media", "non_victim", "not_organization", "calendar", "data_item", "product",
            "generic", "credit", "masthead", "caps_phrase", "law_firm", "court", "government", "headline")
JUNK = frozenset({"recipient", "person", "not_org_label", "agency", "media", "non_victim", "not_organization",
                  "calendar", "data_item", "product", "generic", "credit", "masthead", "caps_phrase", "law_firm",
                  "court", "government", "title_only", "headline"})


make_organization = register("incident_organization", lambda lang: OrganizationComponent(lang))


class OrganizationComponent(Candidates):
    def __init__(self, lang: str):
        self.rules = rules_for(lang)

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
        spots = r.windows.spots(doc_low(doc, text))  # where each windowed regex's literals occur
        may = spots.may

        def before(key: str, rx: re.Pattern, at: int, width: int, lo: int = 0) -> bool:
            """`rx` searched in the `width` characters before `at` (none before `lo`), run only when one of its
            literals lies there."""
            a = max(lo, at - width)
            return may(key, a, at) and rx.search(text[a:at]) is not None

        def after(key: str, rx: re.Pattern, at: int, width: int) -> bool:
            """`rx` matched at the start of the `width` characters from `at`, run only when one of its literals lies there."""
            return may(key, at, at + width) and rx.match(text[at:at + width]) is not None

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
                if before("left", r.left, m.start, 40) or after("right", r.right, m.end, 80):
                    cued += 1
                if before("subject", r.subject, m.start, 40):
                    subject += 1
                b = sentence_bounds(sents, m.start)
                if b not in breach_sentence:  # once per sentence, not once per mention (quadratic on long sentences)
                    breach_sentence[b] = bool((may("strong", *b) and r.strong.search(text, *b))
                                              or (may("breach", *b) and r.breach.search(text, *b)))
                in_breach += breach_sentence[b]
                if before("recipient", r.recipient, m.start, 110, b[0]):
                    recipient += 1
                if (before("person_before", r.person_before, m.start, 25) or r.person_inside.match(m.text)
                        or after("person_after", r.person_after, m.end, 30)):
                    person += 1
            f["victim_cue"] = float(min(cued, 4))
            f["regulator_subject"] = float(min(subject, 3))
            f["breach_sentence"] = float(min(in_breach, 4))
            f["recipient"] = recipient / len(mentions)
            f["person"] = float(person > 0)
            # the data was held by, or the attack hit, this organization: the strongest sign of the victim
            f["custody"] = float(any(before("custody", r.custody, m.start, 50) for m in mentions))
            f["supplier_apposition"] = float(any(before("apposition", r.apposition, m.start, 40)
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
            f["data_item"] = float(any(before("data_item_before", r.data_item_before, m.start, 30)
                                       or r.data_item_words.search(m.text)
                                       or r.data_item_words.match(text, m.end + 1) for m in named))
            f["product"] = float(any(before("product_before", r.product_before, m.start, 30) for m in named))
            f["generic"] = float(self._generic(name, g.acronym is not None))
            f["credit"] = float(any(self._credit(text, m, may) for m in mentions))
            f["masthead"] = float(any(self._alone_on_line(text, m) for m in mentions)
                                  or bool(keys & r.sections))
            f["caps_phrase"] = float(len(name.split()) > 1 and name.isupper() and g.acronym != name)
            f["law_firm"] = float(any(r.law_firm.search(m.text) or before("law_firm_before", r.law_firm_before, m.start, 30)
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

    def _credit(self, text: str, m: Mention, may=None) -> bool:
        """A photo credit or image agency: "Photo : X", "(Photo: X/Getty Images)". `may`: a `Spots.may` of the
        text (WindowScreen of the rules) that says where a regex cannot match; without it, every regex runs."""
        r = self.rules
        line_start = text.rfind("\n", 0, m.start) + 1
        lo = max(line_start, m.start - 50)
        if (may is None or may("credit_before", lo, m.start)) and r.credit_before.search(text[lo:m.start]):
            return True
        return (may is None or may("credit_after", m.end, m.end + 40)) and bool(r.credit_after.match(text[m.end:m.end + 40]))

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
        names, seen = [], {fold(name, drop_articles=False)} | {fold(n, drop_articles=False) for n in best.run_ons()}
        for m in sorted(best.mentions, key=lambda m: m.start):
            key = fold(m.text, drop_articles=False)
            if key not in seen and m.text != best.acronym and not m.text.isupper() and not self._generic(m.text):
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
