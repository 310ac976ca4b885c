"""Reports -> incidents: the entry points that store a report and attach it to its incident.

One real breach is one incident, across outlets and languages (docs/INCIDENTS.md). The work is done by:

- extractor/names.py: name keys (folding, legal suffixes, generic words and places, the bilingual lexicon,
  acronyms, the gazetteer);
- extractor/matching.py: the matching policy, pure functions over reports (conflicts, link scores);
- extractor/clustering.py: reports into incidents from those pairwise decisions (average linkage per link group);
- extractor/incident_repo.py: the incident tables (components, clusters written back, former ids, manual decisions);
- extractor/store.py: documents and reports, written in one place.

Public API (used by the ingest job, ``incidents ingest --docs``, ``incidents import`` and the CLI):

  add_report(conn, record, **document) -> (report id, incident id or None)   store + embed + attach
  import_record(conn, record, text=None) -> incident id or None
  attach_report(conn, report_id) -> incident id      (inside the caller's transaction)
  export_incidents(conn, since=None), get_incident(conn, id)   (a former id works too)
  merge_incidents(conn, a, b), split_report(conn, incident_id, report), rematch(conn)
"""

from __future__ import annotations

from typing import Optional, Union

from . import store as _store
from .errors import InputError
from .incident import INCIDENT_SCHEMA_VERSION, Incident  # noqa: F401  (re-exported)
from .incident_repo import (  # noqa: F401  (re-exported)
    detach_report, export_incidents, get_incident, merge_incidents, recluster, resolve_incident, split_report,
)
from .clustering import cluster  # noqa: F401  (re-exported)
from .matching import conflict, incident_id_for, link_score  # noqa: F401  (re-exported)
from .names import fold, gazetteer, org_keys  # noqa: F401  (re-exported)


def attach_report(conn, report_id: int) -> str:
    """Attach one stored report (an incident) to its incident; returns the incident id.

    Runs inside the caller's transaction. Re-clusters only the component the report touches.
    A report that is not an incident is left alone (returns "").
    """
    row = conn.execute("SELECT is_incident FROM reports WHERE id=?", (int(report_id),)).fetchone()
    if row is None:
        raise InputError(f"no report {report_id} in the store")
    if not row[0]:
        return ""
    return recluster(conn, {int(report_id)})[int(report_id)]


def rematch(conn) -> int:
    """Re-run automatic matching over every incident report (manual decisions are kept). Returns the incident count."""
    ids = [r[0] for r in conn.execute("SELECT id FROM reports WHERE is_incident=1 ORDER BY id")]
    done: set[int] = set()
    for rid in ids:
        if rid not in done:
            done.update(recluster(conn, {rid}, everything=True))
    return conn.execute("SELECT COUNT(*) FROM incidents").fetchone()[0]


def _as_record(record):
    from .record import Record

    if isinstance(record, Record):
        return record
    try:
        return Record.model_validate(record)
    except Exception as err:
        raise InputError(f"not a valid record: {str(err).splitlines()[0]}") from None


def store_record(conn, record, text: Optional[str] = None, now: Optional[str] = None, **document) -> int:
    """Store one Record (a dict or a `Record`) as its document and report rows; returns the report id.

    A record whose source.id is already stored replaces the old report (same document row). ``text`` is the
    document text when known (records do not carry it); ``document`` may add url, canonical_url, title,
    published, item_id, html_sha256 (the ingest job's fields).
    """
    record = _as_record(record)
    if text is None:
        text = getattr(record, "_text", None) or ""
    src = record.source
    fields = {"url": src.url, "title": src.title, "publisher": src.publisher,
              "published": _store.published_text(record), "language": src.language}
    fields.update({k: v for k, v in document.items() if v is not None})
    doc_id = _store.save_document(conn, _store.record_source_id(record), text=text, fetched_at=now, **fields)
    return _store.save_report(conn, doc_id, record, created_at=now)


def add_report(conn, record, text: Optional[str] = None, now: Optional[str] = None,
               **document) -> tuple[int, Optional[str]]:
    """Store a record with its document, compute its embedding and attach it: the one path of every report.

    Returns (report id, incident id); the incident id is None for a report that is not an incident (a stored
    report that was one and is no more leaves its incident).
    """
    rid = store_record(conn, record, text, now, **document)
    if not _store.is_incident_report(conn, rid):
        detach_report(conn, rid)
        return rid, None
    return rid, attach_report(conn, rid)


def import_record(conn, record, text: Optional[str] = None) -> Optional[str]:
    """Store a record and, when it is an incident, attach it. Returns the incident id (None if not an incident)."""
    return add_report(conn, record, text)[1]


def resolve(conn, incident_id: Union[str, int]) -> str:
    """The current id of an incident from its id or a former id."""
    return resolve_incident(conn, str(incident_id))
