"""`incident_agency_filter`: the breached organization is never its own agency.

Runs after `incident_organization` (which chooses the organization after the agencies are
found): an authority whose name, acronym or gazetteer names are the organization's (a police
force that leaked its own data, a regulator that lost a device) is dropped from ``doc._.agencies``,
unless the organization is that very mention of the authority (the organization stage found
nothing else to name) or the authority is a regulator that investigates (a regulator does not
investigate its own breach: the organization stage took the regulator that ruled).
"""

from __future__ import annotations

import re
import unicodedata

from spacy.language import Language
from spacy.tokens import Doc

from .agencies import gazetteer, names_of
from ._util import doc_text


def _fold(s: str | None) -> str:
    s = unicodedata.normalize("NFKD", s or "")
    s = "".join(c for c in s if not unicodedata.combining(c)).lower()
    return re.sub(r"\W+", " ", s).strip()


@Language.factory("incident_agency_filter", default_config={})
def make_agency_filter(nlp: Language, name: str):
    return AgencyFilter()


class AgencyFilter:
    def __init__(self):
        self.names = {row["code"]: {_fold(n) for n in names_of(row) + row["acronyms"]}
                      for row in gazetteer() if not row.get("generic")}
        self.police = {row["code"]: bool(row.get("police")) for row in gazetteer()}

    def __call__(self, doc: Doc) -> Doc:
        org = doc._.organization if Doc.has_extension("organization") else None
        if not org or not doc._.agencies:
            return doc
        own = {_fold(n) for n in [org.get("name"), org.get("acronym"), *(org.get("aliases") or [])] if n}
        own.discard("")
        if not own:
            return doc
        kept = []
        for hit in doc._.agencies:
            names = self.names.get(hit.code, set()) | {_fold(hit.name), _fold(doc_text(doc)[hit.start:hit.end])}
            # the organization stage fell back on the authority's very mention (nothing else named):
            # that says nothing of the breached organization, keep the authority
            same_mention = org.get("start") == hit.start and org.get("end") == hit.end
            # a regulator does not investigate its own breach: one that investigates is the
            # organization stage's mistake (the regulator that ruled), not a self-report
            regulator_at_work = not self.police.get(hit.code) and "investigating" in hit.roles
            if names & own and not same_mention and not regulator_at_work:
                continue
            kept.append(hit)
        doc._.agencies = kept
        return doc
