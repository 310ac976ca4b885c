"""Read queries of the daily verbs (`list`, `export`, `show`, `import`): filtered incidents and records, ids.

One filter (``Filters``) serves both shapes of output. On incidents it reads the incident's best values
(the ``v_incidents`` view, extractor/views.py); on report lines it reads each report's own record, so that
every exported line passes the filter by its own content. Dates:

- ``since``/``until`` (YYYY-MM-DD) filter on the publication day of a document (its fetch day when it has
  none); an incident passes when one of its reports was published in the window;
- ``updated_since`` (a day or an ISO timestamp) filters on store time: when the report was stored, when the
  incident last changed.

The CLI holds no SQL: it builds a ``Filters`` and calls these functions with a connection from ``Store``.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Iterator, Optional

from .errors import InputError

# The day a document counts on: its publication day, else the day it was fetched.
_DAY = "COALESCE(d.published, substr(d.fetched_at, 1, 10))"
_FOLD = "incidents_fold"  # SQL function: names.fold, registered on the connection by `_with_fold`


@dataclass(frozen=True)
class Filters:
    """What `list` and `export` keep. ``None`` (or 0 for ``limit``) means no constraint."""

    since: Optional[str] = None
    until: Optional[str] = None
    updated_since: Optional[str] = None
    organization: Optional[str] = None
    data_type: Optional[str] = None
    agency: Optional[str] = None
    min_victims: Optional[int] = None
    language: Optional[str] = None
    limit: int = 0


def _with_fold(conn: sqlite3.Connection) -> sqlite3.Connection:
    from .names import fold

    conn.create_function(_FOLD, 1, lambda s: fold(s) if s else "", deterministic=True)
    return conn


def _org_clause(name_sql: str, acronym_sql: str, aliases_sql: str, org: str) -> tuple[str, list]:
    """Folded name contains the folded query, or the folded acronym or an alias equals it."""
    from .names import fold

    want = fold(org)
    if not want:
        raise InputError(f"--org {org!r}: nothing left to match once folded (give a name)")
    sql = (f" AND (instr({_FOLD}({name_sql}), ?) > 0 OR {_FOLD}({acronym_sql}) = ?"
           f" OR EXISTS (SELECT 1 FROM json_each(COALESCE({aliases_sql}, '[]')) a WHERE instr({_FOLD}(a.value), ?) > 0))")
    return sql, [want, want, want]


def _limit(sql: str, args: list, limit: int) -> tuple[str, list]:
    return (sql + " LIMIT ?", args + [limit]) if limit else (sql, args)


# -- incidents --------------------------------------------------------------------------------------------------
INCIDENT_COLUMNS = ("id", "organization", "acronym", "victims", "victims_qualifier", "victims_unit", "first_seen",
                    "last_seen", "report_count", "languages", "data_types", "agencies", "updated_at")


def _conditions(f: Filters, clauses: dict, sql: str, args: list) -> tuple[str, list]:
    """One SQL condition per filter of `clauses` that is set; the filter's value fills each of its `?`."""
    for name, clause in clauses.items():
        value = getattr(f, name)
        if value is not None and value != "":
            sql, args = sql + clause, args + [value] * clause.count("?")
    return sql, args


def _incident_where(f: Filters) -> tuple[str, list]:
    sql, args = " WHERE 1=1", []
    if f.since or f.until:
        sql += (f" AND EXISTS (SELECT 1 FROM incident_reports ir JOIN reports r ON r.id = ir.report_id"
                f" JOIN documents d ON d.id = r.document_id WHERE ir.incident_id = v.id"
                f" AND (? IS NULL OR {_DAY} >= ?) AND (? IS NULL OR {_DAY} <= ?))")
        args += [f.since, f.since, f.until, f.until]
    if f.organization:
        clause, more = _org_clause("v.organization", "v.acronym", "json_extract(i.best_json, '$.organization.aliases')",
                                   f.organization)
        sql, args = sql + clause, args + more
    return _conditions(f, {
        "updated_since": " AND v.updated_at >= ?",
        "data_type": " AND v.id IN (SELECT incident_id FROM v_incident_data_types WHERE code = ?)",
        "agency": " AND v.id IN (SELECT incident_id FROM v_incident_agencies WHERE code = ?)",
        "min_victims": " AND v.victims >= ?",
        "language": " AND EXISTS (SELECT 1 FROM json_each(v.language_codes) WHERE value = ?)",
    }, sql, args)


def incident_rows(conn: sqlite3.Connection, f: Filters) -> list[dict]:
    """The incidents that pass `f`, newest first (by first seen, then id): flat rows of INCIDENT_COLUMNS,
    ``languages``, ``data_types`` and ``agencies`` as lists of codes."""
    where, args = _incident_where(f)
    sql = ("SELECT v.id, v.organization, v.acronym, v.victims, v.victims_qualifier, v.victims_unit, v.first_seen,"
           " v.last_seen, v.report_count, v.language_codes, v.data_type_codes, v.agency_codes, v.updated_at"
           " FROM v_incidents v JOIN incidents i ON i.id = v.id" + where
           + " ORDER BY v.first_seen IS NULL, v.first_seen DESC, v.id")
    sql, args = _limit(sql, args, f.limit)
    rows = []
    for row in _with_fold(conn).execute(sql, args):
        item = dict(zip(INCIDENT_COLUMNS, row))
        for key in ("languages", "data_types", "agencies"):
            item[key] = sorted(set(json.loads(item[key] or "[]")))
        rows.append(item)
    return rows


def count_incidents(conn: sqlite3.Connection, f: Filters) -> int:
    """How many incidents pass `f`, whatever its limit."""
    where, args = _incident_where(f)
    return _with_fold(conn).execute("SELECT COUNT(*) FROM v_incidents v JOIN incidents i ON i.id = v.id" + where,
                                    args).fetchone()[0]


# -- report lines -----------------------------------------------------------------------------------------------
RECORD_COLUMNS = ("source_id", "incident_id", "is_incident", "published", "language", "organization", "victims",
                  "data_types", "agencies", "title", "url")


def _record_where(f: Filters, all_documents: bool) -> tuple[str, list]:
    sql, args = " WHERE (? = 1 OR r.is_incident = 1)", [1 if all_documents else 0]
    if f.organization:
        clause, more = _org_clause("json_extract(r.record_json, '$.organization.name')",
                                   "json_extract(r.record_json, '$.organization.acronym')",
                                   "json_extract(r.record_json, '$.organization.aliases')", f.organization)
        sql, args = sql + clause, args + more
    code_in = " AND EXISTS (SELECT 1 FROM json_each(r.record_json, '$.{}') c WHERE json_extract(c.value, '$.code') = ?)"
    return _conditions(f, {
        "since": f" AND {_DAY} >= ?",
        "until": f" AND {_DAY} <= ?",
        "updated_since": " AND r.created_at >= ?",
        "data_type": code_in.format("data_types"),
        "agency": code_in.format("agencies"),
        "min_victims": " AND json_extract(r.record_json, '$.victims.count') >= ?",
        "language": " AND COALESCE(json_extract(r.record_json, '$.source.language'), d.language) = ?",
    }, sql, args)


def record_rows(conn: sqlite3.Connection, f: Filters, all_documents: bool = False) -> Iterator[tuple[str, dict]]:
    """(record JSON text, flat row of RECORD_COLUMNS) of the reports that pass `f`, by document day then report
    id; incident reports only unless `all_documents`."""
    where, args = _record_where(f, all_documents)
    sql = ("SELECT r.record_json, r.source_id, ir.incident_id, r.is_incident, d.published, d.language, d.title, d.url"
           " FROM reports r JOIN documents d ON d.id = r.document_id"
           " LEFT JOIN incident_reports ir ON ir.report_id = r.id" + where + f" ORDER BY {_DAY}, r.id")
    sql, args = _limit(sql, args, f.limit)
    for record_json, sid, iid, is_inc, published, language, title, url in _with_fold(conn).execute(sql, args):
        rec = json.loads(record_json)
        src, org = rec.get("source") or {}, rec.get("organization") or {}
        yield record_json, {
            "source_id": sid, "incident_id": iid, "is_incident": bool(is_inc),
            "published": src.get("published") or published, "language": src.get("language") or language,
            "organization": org.get("name"), "victims": (rec.get("victims") or {}).get("count"),
            "data_types": sorted({d["code"] for d in rec.get("data_types") or []}),
            "agencies": sorted({a["code"] for a in rec.get("agencies") or []}),
            "title": src.get("title") or title, "url": src.get("url") or url,
        }


# -- ids ----------------------------------------------------------------------------------------------------------
def resolve_id_prefix(conn: sqlite3.Connection, text: str) -> str:
    """The current id of the incident named by `text`: its id, a former id, or a prefix of exactly one of them
    (with or without the ``inc-``: the part after the dash counts too).

    An unknown id or prefix, or a prefix shared by several incidents (named in the message), is an InputError.
    """
    from .incident_repo import resolve_incident

    wanted = str(text).strip()
    try:
        return resolve_incident(conn, wanted)
    except InputError:
        if not wanted:
            raise
    pattern = wanted.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    # the whole id ("inc-0a1b...") or its part after the dash ("0a1b...") starts with the prefix
    starts = "({0} LIKE :p ESCAPE '\\' OR substr({0}, instr({0}, '-') + 1) LIKE :p ESCAPE '\\')"
    found = {r[0] for r in conn.execute(
        f"SELECT id FROM incidents WHERE {starts.format('id')} UNION "
        f"SELECT a.incident_id FROM incident_aliases a JOIN incidents i ON i.id = a.incident_id "
        f"WHERE {starts.format('a.old_id')}", {"p": pattern})}
    if len(found) == 1:
        return found.pop()
    if not found:
        raise InputError(f"no incident {wanted!r} in the store (see `incidents list`)")
    shown = sorted(found)
    more = f" and {len(shown) - 5} more" if len(shown) > 5 else ""
    raise InputError(f"incident id prefix {wanted!r} is ambiguous: {', '.join(shown[:5])}{more} (give more characters)")


def max_report_id(conn: sqlite3.Connection) -> int:
    """The highest report id so far (0 for none): reports stored later get higher ids."""
    return conn.execute("SELECT COALESCE(MAX(id), 0) FROM reports").fetchone()[0]
