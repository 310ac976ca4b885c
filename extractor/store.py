"""The SQLite store: one database file, WAL mode, foreign keys, every write in a transaction.

``Store(path)`` opens (or creates) the database, checks it is ours, migrates an older schema and refuses a
newer one without touching the file. The schema itself is documented in docs/STORE.md (versions 1, 2 and 4; 3 in docs/VIEW.md).
Documents and reports are written here and nowhere else (``save_document``, ``save_report``): the feed ingest,
``incidents ingest --docs`` and ``incidents import`` all call them.

    with Store("incidents.db") as store:
        with store.transaction() as conn:
            conn.execute("INSERT INTO ...")

An ingest run also takes ``store.ingest_lock()``: an ``fcntl`` lock on ``<db>.lock`` (released by the kernel
when the process dies, even on SIGKILL), so two ingests never interleave on one database.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable, Iterator, Optional, Union

from .errors import StoreError
from .safe_io import atomic_output, ingest_lock, ingest_running  # noqa: F401  (the store's public helpers)

from .schema_sql import SCHEMA_V1, SCHEMA_V2, SCHEMA_V4  # noqa: E402  the SQL of versions 1, 2 and 4 (docs/STORE.md)

Migration = Union[str, Callable[[sqlite3.Connection], None]]

# Ordered: MIGRATIONS[i] takes a database from version i to version i + 1 (version 0: an empty file).
# Each runs inside one transaction together with the bump of meta.schema_version.
MIGRATIONS: list[Migration] = [SCHEMA_V1, SCHEMA_V2]
from .views import migrate_v3 as _v3  # noqa: E402  version 3: views, codes, FTS, FK indexes, alerts (docs/VIEW.md)
MIGRATIONS += [_v3, SCHEMA_V4]

BUSY_TIMEOUT_MS = 30_000
# The tables that make a database ours (an SQLite file without them and with other tables is refused).
_OUR_TABLES = {"meta", "feeds", "items", "documents", "reports"}


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def iso(dt: Optional[datetime] = None) -> str:
    """UTC timestamps as ``2024-08-07T14:03:00Z``: sortable as text, so SQL can compare them."""
    return (dt or utcnow()).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_in(seconds: float, now: Optional[datetime] = None) -> str:
    return iso((now or utcnow()) + timedelta(seconds=seconds))


def current_version() -> int:
    return len(MIGRATIONS)


def _inspect(path: Path) -> tuple[int, set[str]]:
    """Read the schema version without writing anything (read-only connection). Raises StoreError."""
    # Without a -wal file every committed page is in the main file: read it as immutable (no -shm/-wal created,
    # nothing written). With one, read-only mode (SQLite needs the WAL index to read the latest commit).
    wal = path.with_name(path.name + "-wal")
    mode = "mode=ro" if wal.exists() else "mode=ro&immutable=1"
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?{mode}", uri=True, timeout=BUSY_TIMEOUT_MS / 1000)
    except sqlite3.Error as err:
        raise StoreError(f"cannot open {path}: {err}") from None
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "meta" not in tables:
            return 0, tables
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if row is None:
            return 0, tables
        try:
            return int(row[0]), tables
        except ValueError:
            raise StoreError(f"{path} has an unreadable schema version {row[0]!r}") from None
    except sqlite3.DatabaseError as err:
        raise StoreError(f"{path} is not an incidents database ({err})") from None
    finally:
        conn.close()


class Store:
    """An open incidents database. Use as a context manager, or call ``close()``."""

    def __init__(self, path: Union[str, os.PathLike], *, create: bool = True, readonly: bool = False):
        self.path = Path(path)
        if self.path.is_dir():
            raise StoreError(f"{self.path} is a directory, not a database file")
        exists = self.path.exists() and self.path.stat().st_size > 0
        if not exists and not create:
            raise StoreError(f"no database at {self.path} (run `incidents ingest` first, or pass --db FILE)")
        if not exists and readonly:
            raise StoreError(f"no database at {self.path}")
        if exists:
            version, tables = _inspect(self.path)
            if version > current_version():
                raise StoreError(
                    f"{self.path} has schema version {version}, newer than this program knows ({current_version()}): "
                    "upgrade incidents-extractor; the file was not changed"
                )
            if version == 0 and tables and not (tables & _OUR_TABLES):
                raise StoreError(f"{self.path} is an SQLite database of another program (tables: {', '.join(sorted(tables)[:5])})")
            if readonly and version < current_version():
                raise StoreError(f"{self.path} has schema version {version}: run `incidents ingest` once to migrate it")
        elif not self.path.parent.exists():
            raise StoreError(f"cannot create {self.path}: folder {self.path.parent} does not exist")
        try:
            if readonly:
                self.conn = sqlite3.connect(
                    f"{self.path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000,
                    isolation_level=None, check_same_thread=False,
                )
            else:
                self.conn = sqlite3.connect(
                    str(self.path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False,
                )
            self.conn.row_factory = sqlite3.Row
            self.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self.conn.execute("PRAGMA foreign_keys = ON")
            if not readonly:
                mode = self.conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if str(mode).lower() != "wal":
                    raise StoreError(f"cannot switch {self.path} to WAL mode (got {mode})")
                self.conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.DatabaseError as err:
            raise StoreError(f"{self.path} is not an incidents database ({err})") from None
        except sqlite3.Error as err:
            raise StoreError(f"cannot open {self.path}: {err}") from None
        self.readonly = readonly
        if not readonly:
            self.migrate()

    # -- schema -----------------------------------------------------------------------------------------------
    @property
    def schema_version(self) -> int:
        try:
            row = self.conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        except sqlite3.OperationalError:
            return 0
        return int(row[0]) if row else 0

    def migrate(self) -> int:
        """Apply the missing migrations, each in one transaction. Returns the number applied."""
        applied = 0
        while True:
            with self.transaction() as conn:  # BEGIN IMMEDIATE: a concurrent opener waits, then sees the result
                version = self.schema_version
                if version > current_version():
                    raise StoreError(f"{self.path} has schema version {version}, newer than this program knows")
                if version == current_version():
                    return applied
                step = MIGRATIONS[version]
                if callable(step):
                    step(conn)
                else:
                    for statement in _split_sql(step):
                        conn.execute(statement)
                conn.execute(
                    "INSERT INTO meta (key, value) VALUES ('schema_version', ?) "
                    "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    (str(version + 1),),
                )
                conn.execute(f"PRAGMA user_version = {version + 1:d}")  # what standard SQLite tools read
                applied += 1

    # -- transactions -----------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE): committed on success, rolled back on any exception."""
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as err:
            raise StoreError(f"{self.path}: {err}") from None
        try:
            yield self.conn
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise
        else:
            try:
                self.conn.execute("COMMIT")
            except sqlite3.Error as err:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise StoreError(f"{self.path}: cannot commit: {err}") from None

    # -- the ingest lock --------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def ingest_lock(self, wait: bool = False) -> Iterator[None]:
        """Exclusive lock for one ingest run on this database (``<db>.lock``, fcntl, released on death)."""
        with ingest_lock(self.path, wait=wait):
            yield

    # -- lifecycle --------------------------------------------------------------------------------------------
    def close(self) -> None:
        conn = getattr(self, "conn", None)
        if conn is not None:
            try:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                if not self.readonly:
                    with contextlib.suppress(sqlite3.Error):
                        conn.execute("PRAGMA optimize")
            finally:
                conn.close()
                self.conn = None  # type: ignore[assignment]

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- small helpers used by several commands ---------------------------------------------------------------
    def counts(self) -> dict:
        c = self.conn
        one = lambda sql: c.execute(sql).fetchone()[0]  # noqa: E731
        return {
            "feeds": one("SELECT COUNT(*) FROM feeds"),
            "feeds_retired": one("SELECT COUNT(*) FROM feeds WHERE retired = 1"),
            "items": one("SELECT COUNT(*) FROM items"),
            "items_done": one("SELECT COUNT(*) FROM items WHERE status = 'done'"),
            "items_new": one("SELECT COUNT(*) FROM items WHERE status = 'new'"),
            "items_failed": one("SELECT COUNT(*) FROM items WHERE status = 'failed'"),
            "items_failed_retry": one("SELECT COUNT(*) FROM items WHERE status = 'failed' AND next_retry IS NOT NULL"),
            "items_gone": one("SELECT COUNT(*) FROM items WHERE status = 'gone'"),
            "documents": one("SELECT COUNT(*) FROM documents"),
            "reports": one("SELECT COUNT(*) FROM reports"),
            "reports_incident": one("SELECT COUNT(*) FROM reports WHERE is_incident = 1"),
            "incidents": one("SELECT COUNT(*) FROM incidents"),
        }


def _split_sql(script: str) -> list[str]:
    """Split a migration script into statements (ours have no ';' inside literals or triggers)."""
    return [s.strip() for s in script.split(";") if s.strip() and not all(
        line.strip().startswith("--") or not line.strip() for line in s.strip().splitlines())]


# -- documents and reports: written in one place ----------------------------------------------------------
def document_id_of(conn: sqlite3.Connection, source_id: str) -> Optional[int]:
    row = conn.execute("SELECT id FROM documents WHERE source_id = ?", (source_id,)).fetchone()
    return row[0] if row else None


def save_document(conn: sqlite3.Connection, source_id: str, *, text: str = "", url: Optional[str] = None,
                  canonical_url: Optional[str] = None, title: Optional[str] = None, publisher: Optional[str] = None,
                  published: Optional[str] = None, language: Optional[str] = None, item_id: Optional[int] = None,
                  html_sha256: Optional[str] = None, fetched_at: Optional[str] = None) -> int:
    """Insert or update the document of ``source_id``; an empty ``text`` never replaces a stored one. Returns its id."""
    doc_id = document_id_of(conn, source_id)
    if doc_id is not None:
        conn.execute(
            "UPDATE documents SET url=COALESCE(?, url), canonical_url=COALESCE(?, canonical_url), title=COALESCE(?, title), "
            "publisher=COALESCE(?, publisher), published=COALESCE(?, published), language=COALESCE(?, language), "
            "item_id=COALESCE(?, item_id), html_sha256=COALESCE(?, html_sha256), "
            "text=CASE WHEN ?='' THEN text ELSE ? END WHERE id=?",
            (url, canonical_url or url, title, publisher, published, language, item_id, html_sha256,
             text or "", text or "", doc_id))
        return doc_id
    cur = conn.execute(
        "INSERT INTO documents (source_id, item_id, url, canonical_url, title, publisher, published, language, text, "
        "html_sha256, fetched_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (source_id, item_id, url, canonical_url or url, title, publisher, published, language, text or "",
         html_sha256, fetched_at or iso()))
    return cur.lastrowid


def record_source_id(record) -> str:
    """The record's ``source.id``, or a stable hash of its URL (or its text hash, or its JSON) when it has none."""
    src = record.source
    if src.id:
        return src.id
    basis = src.url or record.text_sha256 or record.to_json()
    return hashlib.sha256(basis.encode("utf-8")).hexdigest()[:16]


def published_text(record) -> Optional[str]:
    """The record's publication day as stored (``YYYY-MM`` when only the month is known)."""
    src = record.source
    if not src.published:
        return None
    return src.published.isoformat()[:7] if src.published_precision == "month" else src.published.isoformat()


def save_report(conn: sqlite3.Connection, document_id: int, record, *, created_at: Optional[str] = None) -> int:
    """Insert or replace the report (the record) of a document; a replaced report loses its embeddings."""
    from .record import SCHEMA_VERSION

    sid = record_source_id(record)
    rj = record.to_json()
    version = record.schema_version or SCHEMA_VERSION
    row = conn.execute("SELECT id FROM reports WHERE document_id = ?", (document_id,)).fetchone()
    if row:
        conn.execute("UPDATE reports SET source_id=?, is_incident=?, record_json=?, schema_version=? WHERE id=?",
                     (sid, int(record.is_incident), rj, version, row[0]))
        conn.execute("DELETE FROM embeddings WHERE report_id = ?", (row[0],))
        return row[0]
    cur = conn.execute(
        "INSERT INTO reports (document_id, source_id, is_incident, record_json, schema_version, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?)", (document_id, sid, int(record.is_incident), rj, version, created_at or iso()))
    return cur.lastrowid


def is_incident_report(conn: sqlite3.Connection, report_id: int) -> bool:
    row = conn.execute("SELECT is_incident FROM reports WHERE id = ?", (int(report_id),)).fetchone()
    return bool(row and row[0])
