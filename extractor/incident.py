"""The incident export: one real breach assembled from its reports (see docs/INCIDENTS.md).

`Incident` is the single source of the exported JSON's shape; `INCIDENT_SCHEMA_VERSION`
follows semantic versioning like the record's `SCHEMA_VERSION`. `best_values` and `timeline`
assemble an incident's values and events from its reports (`extractor.matching.Rep`).
Every best value names the report it came from (``source_id``, the record's ``source.id``,
stable across stores, and ``report_id``, the row in this store).
"""

from __future__ import annotations

import json
from datetime import date
from functools import lru_cache
from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

from .record import DATE_ROLES, date_roles_model

INCIDENT_SCHEMA_VERSION = "1.1.0"
INCIDENT_SCHEMA_ID = "https://github.com/incidents-extractor/schema/incident-1.1.0.json"

KIND_RANK = {"press_release": 0, "regulator": 1, "news": 2, "other": 3}

TimelineKind = Literal[
    "first_seen", "report_added", "count_revised", "agency_added", "data_type_added", "merged", "split",
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Support(_Model):
    report_id: Optional[int] = None
    source_id: Optional[str] = None


class BestOrganization(Support):
    name: str
    acronym: Optional[str] = None
    aliases: list[str] = Field(default_factory=list, description="Every other name, acronym and alias the reports give")
    keys: list[str] = Field(default_factory=list, description="Normalized organization keys used for matching")


class BestVictims(Support):
    count: Optional[int] = None
    qualifier: Optional[str] = None
    unit: Optional[str] = None


class BestDate(Support):
    date: str


BestDates = date_roles_model("BestDates", BestDate, _Model, __name__)


class SupportedCode(_Model):
    code: str
    source_ids: list[str] = Field(default_factory=list)
    report_ids: list[int] = Field(default_factory=list)


class SupportedAgency(SupportedCode):
    role: Optional[str] = None


class IncidentReport(_Model):
    report_id: int
    source_id: str
    language: Optional[str] = None
    published: Optional[str] = None
    url: Optional[str] = None
    title: Optional[str] = None
    kind: Optional[str] = None
    manual: bool = False


class TimelineEvent(_Model):
    at: Optional[str] = Field(None, description="Publication day of the report that brought the change (or the day of a manual decision)")
    kind: TimelineKind
    detail: dict[str, Any] = Field(default_factory=dict)
    report_id: Optional[int] = None
    source_id: Optional[str] = None


class Incident(_Model):
    schema_version: str = INCIDENT_SCHEMA_VERSION
    id: str = Field(description="inc-<16 hex>: sha256 of the source.id of the incident's earliest report")
    previous_ids: list[str] = Field(default_factory=list, description="Former ids of this incident (before an earlier report arrived, a merge or a split); each still resolves")
    organization: Optional[BestOrganization] = None
    victims: BestVictims = Field(default_factory=BestVictims)
    data_types: list[SupportedCode] = Field(default_factory=list)
    agencies: list[SupportedAgency] = Field(default_factory=list)
    dates: BestDates = Field(default_factory=BestDates)
    first_seen: Optional[str] = None
    last_seen: Optional[str] = None
    reports: list[IncidentReport] = Field(default_factory=list)
    timeline: list[TimelineEvent] = Field(default_factory=list)
    created_at: Optional[str] = None
    updated_at: Optional[str] = None


@lru_cache(maxsize=65536)  # the best values are computed again at every attach of a component: its names folded once
def _fold(name: str) -> str:
    from .names import fold

    return fold(name)


def _org(rep) -> dict:
    return rep.rec.get("organization") or {}


def best_values(reps: list) -> dict:
    """The incident's best values from its reports (docs/INCIDENTS.md, \"The incident\")."""
    reps = sorted(reps, key=lambda r: r.sort_key)
    best: dict = {"organization": None, "victims": {}, "data_types": [], "agencies": [], "dates": {}}
    named = [r for r in reps if _org(r).get("name")]
    if named:
        freq: dict[str, int] = {}
        for r in named:
            f = _fold(_org(r)["name"])
            freq[f] = freq.get(f, 0) + 1
        top = min(named, key=lambda r: (KIND_RANK.get(r.kind, 3), -freq[_fold(_org(r)["name"])], r.sort_key))
        o = _org(top)
        others: list[str] = []
        seen = {_fold(o["name"])}
        for r in named:
            oo = _org(r)
            for s in [oo.get("name"), oo.get("acronym"), *(oo.get("aliases") or [])]:
                if s and _fold(s) not in seen:
                    seen.add(_fold(s))
                    others.append(s)
        acronym = o.get("acronym") or next((_org(r).get("acronym") for r in named if _org(r).get("acronym")), None)
        keys = sorted(set().union(*(r.all_keys for r in reps)))
        best["organization"] = {"name": o["name"], "acronym": acronym, "aliases": others, "keys": keys,
                                "report_id": top.rid, "source_id": top.source_id}
    counted = [r for r in reps if r.count is not None]
    if counted:
        dated = [r for r in counted if r.published] or counted
        latest = max(dated, key=lambda r: (r.published or date.min, r.count, r.source_id))
        v = latest.rec.get("victims") or {}
        best["victims"] = {"count": latest.count, "qualifier": v.get("qualifier"), "unit": v.get("unit"),
                           "report_id": latest.rid, "source_id": latest.source_id}
    codes: dict[str, list[Rep]] = {}
    agencies: dict[str, list[tuple[Rep, str]]] = {}
    for r in reps:
        for d in r.rec.get("data_types") or []:
            if d.get("code") and r not in codes.setdefault(d["code"], []):
                codes[d["code"]].append(r)
        for a in r.rec.get("agencies") or []:
            if a.get("code"):
                agencies.setdefault(a["code"], []).append((r, a.get("role") or "notified"))
    best["data_types"] = [{"code": c, "source_ids": [r.source_id for r in rs], "report_ids": [r.rid for r in rs]}
                          for c, rs in sorted(codes.items())]
    for c, pairs in sorted(agencies.items()):
        roles = {role for _, role in pairs}
        role = "both" if ("both" in roles or len(roles) > 1) else next(iter(roles))
        rs = []
        for r, _ in pairs:
            if r not in rs:
                rs.append(r)
        best["agencies"].append({"code": c, "role": role, "source_ids": [r.source_id for r in rs],
                                 "report_ids": [r.rid for r in rs]})
    for name in DATE_ROLES:
        cands = []
        for r in reps:
            v = (r.rec.get("dates") or {}).get(name)
            if isinstance(v, dict) and v.get("date"):
                cands.append((KIND_RANK.get(r.kind, 3), str(v["date"])[:10], r.source_id, r))
        if cands:
            _, d, _, r = min(cands, key=lambda x: x[:3])
            best["dates"][name] = {"date": d, "report_id": r.rid, "source_id": r.source_id}
    return best


def timeline(reps: list) -> list[dict]:
    """Events derived from the reports in publication order (undated reports last, ``at`` null)."""
    events: list[dict] = []
    count = None
    codes: set[str] = set()
    agencies: set[str] = set()
    for i, r in enumerate(sorted(reps, key=lambda r: r.sort_key)):
        at = r.published.isoformat() if r.published else None
        base = {"at": at, "report_id": r.rid, "source_id": r.source_id}
        rc = [d["code"] for d in (r.rec.get("data_types") or []) if d.get("code")]
        ra = [a["code"] for a in (r.rec.get("agencies") or []) if a.get("code")]
        if i == 0:
            events.append({**base, "kind": "first_seen", "detail": {
                "organization": _org(r).get("name"), "count": r.count,
                "data_types": sorted(set(rc)), "agencies": sorted(set(ra)),
                "language": (r.rec.get("source") or {}).get("language") or r.doc.get("language"),
            }})
            count = r.count
            codes.update(rc)
            agencies.update(ra)
            continue
        events.append({**base, "kind": "report_added", "detail": {
            "language": (r.rec.get("source") or {}).get("language") or r.doc.get("language"),
            "kind": r.kind, "url": (r.rec.get("source") or {}).get("url") or r.doc.get("url")}})
        if r.count is not None and r.count != count:
            if count is None:
                events.append({**base, "kind": "count_revised", "detail": {"from": None, "to": r.count}})
            else:
                events.append({**base, "kind": "count_revised", "detail": {"from": count, "to": r.count}})
            count = r.count
        for c in sorted(set(rc) - codes):
            events.append({**base, "kind": "data_type_added", "detail": {"code": c}})
        codes.update(rc)
        for c in sorted(set(ra) - agencies):
            events.append({**base, "kind": "agency_added", "detail": {"code": c}})
        agencies.update(ra)
    return events


def incident_json_schema() -> dict:
    schema = Incident.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = INCIDENT_SCHEMA_ID
    schema["title"] = "Incident"
    schema["version"] = INCIDENT_SCHEMA_VERSION
    return schema


def incident_schema_json(indent: int = 2) -> str:
    return json.dumps(incident_json_schema(), indent=indent, ensure_ascii=False)
