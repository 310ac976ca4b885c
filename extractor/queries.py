"""Read-only queries over the store for the command line: read snapshots, failed items, incident ids.

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


def failed_items(conn: sqlite3.Connection, limit: int) -> list[dict]:
    """Up to `limit` items that failed or are gone, the next retry first."""
    return [dict(r) for r in conn.execute(
        "SELECT url, status, attempts, next_retry, last_error FROM items WHERE status IN ('failed', 'gone') "
        "ORDER BY next_retry IS NULL, next_retry, id LIMIT ?", (limit,))]


def incident_ids(conn: sqlite3.Connection) -> set[str]:
    """The ids of every incident in the database."""
    return {r[0] for r in conn.execute("SELECT id FROM incidents")}
