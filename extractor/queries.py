"""Read-only queries over the store for the command line: export lines, health report, incident ids.

The CLI holds no SQL: its verbs call these functions with a connection from ``Store``. Writes stay in
``store`` (documents, reports) and ``incident_repo`` (incidents).
"""

from __future__ import annotations

import contextlib
import sqlite3
from typing import Iterator, Optional

# The day a document counts on: its publication day, else the day it was fetched.
_DAY = "COALESCE(d.published, substr(d.fetched_at, 1, 10))"


@contextlib.contextmanager
def read_snapshot(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One consistent read snapshot for the whole block, even while an ingest writes."""
    conn.execute("BEGIN")
    try:
        yield conn
    finally:
        if conn.in_transaction:
            conn.execute("COMMIT")


def record_json_lines(conn: sqlite3.Connection, since: Optional[str], all_documents: bool) -> Iterator[str]:
    """Stored records as JSON text, by document day then report id: incident reports only unless
    `all_documents`; only documents of `since` (YYYY-MM-DD) or later when given."""
    sql = (
        f"SELECT r.record_json FROM reports r JOIN documents d ON d.id = r.document_id "
        f"WHERE (? = 1 OR r.is_incident = 1) AND (? IS NULL OR {_DAY} >= ?) ORDER BY {_DAY}, r.id"
    )
    for (record_json,) in conn.execute(sql, (1 if all_documents else 0, since, since)):
        yield record_json


def feed_health(conn: sqlite3.Connection) -> list[dict]:
    """Every feed with its last poll, status, error, failures, backoff and item count (failing feeds first)."""
    return [dict(r) for r in conn.execute(
        "SELECT f.id, f.url, f.name, f.language, f.last_polled, f.last_status, f.last_error, f.failures, "
        "f.next_poll_after, f.retired, (SELECT COUNT(*) FROM items i WHERE i.feed_id = f.id) AS items "
        "FROM feeds f ORDER BY f.retired, f.failures DESC, f.id")]


def failed_items(conn: sqlite3.Connection, limit: int) -> list[dict]:
    """Up to `limit` items that failed or are gone, the next retry first."""
    return [dict(r) for r in conn.execute(
        "SELECT url, status, attempts, next_retry, last_error FROM items WHERE status IN ('failed', 'gone') "
        "ORDER BY next_retry IS NULL, next_retry, id LIMIT ?", (limit,))]


def incident_ids(conn: sqlite3.Connection) -> set[str]:
    """The ids of every incident in the database."""
    return {r[0] for r in conn.execute("SELECT id FROM incidents")}
