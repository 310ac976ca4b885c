"""Read-only queries over the store for the command line: read snapshots, health report, incident ids.

The lines of `export` and `list` are read by extractor/incident_queries.py.

The CLI holds no SQL: its verbs call these functions with a connection from ``Store``. Writes stay in
``store`` (documents, reports) and ``incident_repo`` (incidents).
"""

from __future__ import annotations

import contextlib
import sqlite3
from typing import Iterator

@contextlib.contextmanager
def read_snapshot(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One consistent read snapshot for the whole block, even while an ingest writes."""
    conn.execute("BEGIN")
    try:
        yield conn
    finally:
        if conn.in_transaction:
            conn.execute("COMMIT")


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
