"""The incident export: one real breach assembled from its reports (see docs/INCIDENTS.md).

`Incident` is the single source of the exported JSON's shape; `INCIDENT_SCHEMA_VERSION`
follows semantic versioning like the record's `SCHEMA_VERSION`.
Every best value names the report it came from (``source_id``, the record's ``source.id``,
stable across stores, and ``report_id``, the row in this store).
"""

from __future__ import annotations

import json
from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

INCIDENT_SCHEMA_VERSION = "1.0.0"
INCIDENT_SCHEMA_ID = "https://github.com/incidents-extractor/schema/incident-1.0.0.json"

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


class BestDates(_Model):
    incident: Optional[BestDate] = None
    discovered: Optional[BestDate] = None
    contained: Optional[BestDate] = None
    disclosed: Optional[BestDate] = None


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


def incident_json_schema() -> dict:
    schema = Incident.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = INCIDENT_SCHEMA_ID
    schema["title"] = "Incident"
    schema["version"] = INCIDENT_SCHEMA_VERSION
    return schema


def incident_schema_json(indent: int = 2) -> str:
    return json.dumps(incident_json_schema(), indent=indent, ensure_ascii=False)
