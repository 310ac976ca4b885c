"""The incident record: the one model that other tools read.

`Record` is the single source of the published JSON Schema (`incidents schema`).
Every extracted value carries an `Evidence` span whose offsets point into
`Record.text_sha256`'s text, the document text the record was extracted from:
``text[evidence.start:evidence.end] == evidence.text``.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, create_model

from .resources import LANGUAGES

SCHEMA_VERSION = "1.0.0"
SCHEMA_ID = "https://github.com/incidents-extractor/schema/record-1.0.0.json"

# The languages of the resource folders (extractor/resources/<lang>/): the schema's enum follows them.
Language = Literal[LANGUAGES]  # type: ignore[valid-type]
SourceKind = Literal["news", "press_release", "regulator", "other"]
Qualifier = Literal["exact", "approx", "at_least", "up_to"]
AgencyRole = Literal["notified", "investigating", "both"]

DATA_TYPE_CODES = (
    "name", "date_of_birth", "address", "email", "phone", "sin",
    "health_insurance_number", "drivers_license", "passport",
    "birth_certificate_number", "other_government_id", "bank_account",
    "payment_card", "financial_other", "medical", "employment_hr", "education",
    "credentials", "biometric_photo", "gender", "account_metadata",
    "unspecified_personal_information",
)
DataTypeCode = Literal[DATA_TYPE_CODES]  # type: ignore[valid-type]

AGENCY_CODES = (
    "SQ", "CAI", "OPC", "CGCD", "CCCS", "RCMP", "SPVM", "SPVQ", "OPP", "IPC_ON",
    "OIPC_BC", "OIPC_AB", "AMF", "POLICE_OTHER", "REGULATOR_OTHER",
)
AgencyCode = Literal[AGENCY_CODES]  # type: ignore[valid-type]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Evidence(_Model):
    """A span of the document text: ``text[start:end] == evidence.text``."""

    text: str
    start: int = Field(ge=0)
    end: int = Field(ge=0)


class Source(_Model):
    id: Optional[str] = Field(None, description="The document's id (from --docs), or a hash of its URL or text")
    url: Optional[str] = None
    title: Optional[str] = None
    publisher: Optional[str] = None
    language: Optional[Language] = None
    published: Optional[date] = Field(None, description="Publication day; a month-only date is kept in published_precision")
    published_precision: Optional[Literal["day", "month"]] = None
    kind: SourceKind = "other"
    place: Optional[str] = Field(None, description="Place of a CNW-style dateline")


class Organization(_Model):
    name: str
    acronym: Optional[str] = None
    aliases: list[str] = Field(default_factory=list)
    evidence: Evidence


class Victims(_Model):
    count: Optional[int] = Field(None, ge=0)
    qualifier: Optional[Qualifier] = None
    unit: Optional[str] = Field(None, description="people, employees, customers, children, students, patients, members, accounts, records...")
    evidence: Optional[Evidence] = None


class DataType(_Model):
    code: DataTypeCode  # type: ignore[valid-type]
    evidence: Evidence


class DateValue(_Model):
    date: date
    evidence: Evidence


DATE_ROLES = ("incident", "discovered", "contained", "disclosed")


def date_roles_model(name: str, value: type, base: type, module: str) -> type:
    """A model with one optional ``value`` per date role (the record's dates and the incident's best dates)."""
    return create_model(name, __base__=base, __module__=module,
                        **{role: (Optional[value], None) for role in DATE_ROLES})


Dates = date_roles_model("Dates", DateValue, _Model, __name__)


class Agency(_Model):
    code: AgencyCode  # type: ignore[valid-type]
    name: str
    role: AgencyRole
    evidence: Evidence


class Record(_Model):
    """One extracted record for one document."""

    schema_version: str = SCHEMA_VERSION
    source: Source
    is_incident: bool = False
    relevance: float = Field(0.0, ge=0.0, le=1.0)
    organization: Optional[Organization] = None
    victims: Victims = Field(default_factory=Victims)
    data_types: list[DataType] = Field(default_factory=list)
    dates: Dates = Field(default_factory=Dates)
    agencies: list[Agency] = Field(default_factory=list)
    text_sha256: Optional[str] = Field(None, description="sha256 of the text the evidence offsets point into")
    error: Optional[str] = Field(None, description="Why this document could not be extracted (batch mode); null when it was")
    extractor_version: Optional[str] = None

    # The exact text the evidence offsets point into (not serialized; the store keeps it).
    _text: Optional[str] = PrivateAttr(default=None)

    def to_json(self, **kw) -> str:
        return self.model_dump_json(exclude_none=False, **kw)


def _describe_codes(schema: dict) -> None:
    """Each data-type and agency code of the schema carries its labels and one-line description
    (resources/shared/codes.json, the same text as the store's `codes` table): ``oneOf`` of
    ``const`` + ``title`` + ``description`` in place of a bare ``enum``."""
    from .views import code_rows

    described = {(kind, code): (f"{en} / {fr}", f"{den} / {dfr}") for kind, code, fr, en, dfr, den in code_rows()}
    for model, kind in (("DataType", "data_type"), ("Agency", "agency")):
        prop = schema.get("$defs", {}).get(model, {}).get("properties", {}).get("code")
        if not prop or "enum" not in prop:
            continue
        prop["oneOf"] = [{"const": code, "title": described[(kind, code)][0], "description": described[(kind, code)][1]}
                         if (kind, code) in described else {"const": code} for code in prop.pop("enum")]


def json_schema() -> dict:
    schema = Record.model_json_schema()
    _describe_codes(schema)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = SCHEMA_ID
    schema["title"] = "Incident record"
    schema["version"] = SCHEMA_VERSION
    return schema


def schema_json(indent: int = 2) -> str:
    return json.dumps(json_schema(), indent=indent, ensure_ascii=False)
