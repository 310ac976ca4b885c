"""Retention: the text of old documents that are no incident is dropped; what identifies them stays.

A document whose report is not an incident (and that no incident holds, not even by hand) loses its text
``[retention] non_incident_text_days`` days after it was fetched. Its row stays with its URL, canonical URL and
page hash, and its item keeps its GUID, so it is never fetched again; its report (the record) stays too. A
dropped text is the empty string (``documents.text = ''``), which ``save_document`` never takes for new text.
Incident documents are kept whole. ``incidents prune`` runs it on demand; the ingest job once a day
(``prune_if_due``, the day remembered in ``meta``).
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from typing import Optional

from . import settings
from .store import iso, utcnow

LAST_RUN_KEY = "retention:last_run"  # meta: the UTC day of the last automatic prune

# Documents whose text may go: not empty yet, fetched before the cutoff, no incident report, in no incident.
_PRUNABLE = (
    "FROM documents d WHERE d.text != '' AND d.fetched_at < ? "
    "AND NOT EXISTS (SELECT 1 FROM reports r WHERE r.document_id = d.id AND r.is_incident = 1) "
    "AND NOT EXISTS (SELECT 1 FROM reports r JOIN incident_reports ir ON ir.report_id = r.id "
    "WHERE r.document_id = d.id)"
)


def default_days() -> int:
    return int(settings.get("retention", "non_incident_text_days"))


def prune(conn: sqlite3.Connection, older_than_days: Optional[float] = None, *, dry_run: bool = False,
          now: Optional[datetime] = None) -> dict:
    """Drop the text of non-incident documents fetched more than ``older_than_days`` ago (default: the setting).

    Call inside a write transaction (``with store.transaction() as conn``) unless ``dry_run``. Returns
    ``{"documents": n, "chars": total text length dropped (or that would be), "cutoff": ISO time}``.
    """
    days = default_days() if older_than_days is None else float(older_than_days)
    cutoff = iso((now or utcnow()) - timedelta(days=days))
    n, chars = conn.execute(f"SELECT COUNT(*), COALESCE(SUM(LENGTH(d.text)), 0) {_PRUNABLE}", (cutoff,)).fetchone()
    if n and not dry_run:
        conn.execute(f"UPDATE documents SET text = '' WHERE id IN (SELECT d.id {_PRUNABLE})", (cutoff,))
    return {"documents": int(n), "chars": int(chars), "cutoff": cutoff, "dry_run": dry_run}


def prune_if_due(store, *, now: Optional[datetime] = None) -> Optional[dict]:
    """Prune once per UTC day (the day kept in ``meta``); None when it already ran today."""
    now = now or utcnow()
    today = iso(now)[:10]
    with store.transaction() as conn:
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (LAST_RUN_KEY,)).fetchone()
        if row is not None and row[0] >= today:
            return None
        result = prune(conn, now=now)
        conn.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                     (LAST_RUN_KEY, today))
    return result


def last_run(conn: sqlite3.Connection) -> Optional[str]:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (LAST_RUN_KEY,)).fetchone()
    return row[0] if row else None
