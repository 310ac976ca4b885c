"""The SQLite store: creation, WAL/foreign keys, migrations, refusal of newer or foreign files, the ingest lock."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
import time

import pytest

from extractor import store as store_mod
from extractor.errors import StoreError
from extractor.store import MIGRATIONS, Store, atomic_output, ingest_lock, ingest_running


def sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tables(path) -> set[str]:
    conn = sqlite3.connect(str(path))
    try:
        return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        conn.close()


def test_new_database_has_the_current_schema_wal_and_foreign_keys(tmp_path):
    db = tmp_path / "incidents.db"
    with Store(db) as store:
        assert store.schema_version == len(MIGRATIONS) == 4
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert store.conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000
        with pytest.raises(sqlite3.IntegrityError):  # foreign keys are enforced
            with store.transaction() as conn:
                conn.execute("INSERT INTO reports (document_id, source_id, is_incident, record_json, schema_version, "
                             "created_at) VALUES (999, 'x', 0, '{}', '1.0.0', 'now')")
    assert {"meta", "feeds", "items", "documents", "reports", "incidents", "incident_keys", "incident_reports",
            "timeline", "embeddings", "incident_aliases"} <= tables(db)
    # reopening is a no-op
    with Store(db) as store:
        assert store.migrate() == 0
        assert store.conn.execute("SELECT COUNT(*) FROM reports").fetchone()[0] == 0


def test_transaction_rolls_back_on_error(tmp_path):
    with Store(tmp_path / "a.db") as store:
        with pytest.raises(RuntimeError):
            with store.transaction() as conn:
                conn.execute("INSERT INTO feeds (url) VALUES ('https://example.org/feed')")
                raise RuntimeError("boom")
        assert store.conn.execute("SELECT COUNT(*) FROM feeds").fetchone()[0] == 0
        assert not store.conn.in_transaction


def test_older_schema_is_migrated(tmp_path, monkeypatch):
    db = tmp_path / "old.db"
    with Store(db) as store:
        with store.transaction() as conn:
            conn.execute("INSERT INTO feeds (url, name) VALUES ('https://example.org/rss', 'kept')")
    # a version 3 appears: the v2 file is migrated, its data kept
    v3 = "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);\nCREATE INDEX notes_body ON notes(body)"
    monkeypatch.setattr(store_mod, "MIGRATIONS", MIGRATIONS + [v3])
    with Store(db) as store:
        assert store.schema_version == len(MIGRATIONS) + 1
        assert store.conn.execute("SELECT name FROM feeds").fetchone()[0] == "kept"
        store.conn.execute("INSERT INTO notes (body) VALUES ('x')")
    assert "notes" in tables(db)


def test_failed_migration_leaves_the_old_version(tmp_path, monkeypatch):
    db = tmp_path / "old.db"
    Store(db).close()

    def broken(conn):
        conn.execute("CREATE TABLE half (x)")
        raise sqlite3.OperationalError("migration bug")

    monkeypatch.setattr(store_mod, "MIGRATIONS", MIGRATIONS + [broken])
    with pytest.raises(sqlite3.OperationalError):
        Store(db)
    monkeypatch.setattr(store_mod, "MIGRATIONS", MIGRATIONS)
    with Store(db) as store:
        assert store.schema_version == len(MIGRATIONS)
    assert "half" not in tables(db)


def test_newer_schema_is_refused_and_untouched(tmp_path):
    db = tmp_path / "new.db"
    with Store(db) as store:
        with store.transaction() as conn:
            conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    before = sha(db)
    files_before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(StoreError) as err:
        Store(db)
    msg = str(err.value)
    assert "schema version 99" in msg and "newer" in msg and "\n" not in msg
    assert sha(db) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == files_before


def test_not_a_database_is_refused_in_one_line(tmp_path):
    junk = tmp_path / "notes.db"
    junk.write_bytes(b"this is a text file, not SQLite\n" * 200)
    before = sha(junk)
    with pytest.raises(StoreError) as err:
        Store(junk)
    assert "not an incidents database" in str(err.value) and "\n" not in str(err.value)
    assert sha(junk) == before


def test_database_of_another_program_is_refused(tmp_path):
    other = tmp_path / "other.db"
    conn = sqlite3.connect(str(other))
    conn.execute("CREATE TABLE customers (id INTEGER)")
    conn.commit()
    conn.close()
    before = sha(other)
    with pytest.raises(StoreError, match="another program"):
        Store(other)
    assert sha(other) == before


def test_empty_file_becomes_a_database(tmp_path):
    db = tmp_path / "empty.db"
    db.write_bytes(b"")
    with Store(db) as store:
        assert store.schema_version == len(MIGRATIONS)


def test_a_version_1_database_gains_incident_aliases(tmp_path, monkeypatch):
    db = tmp_path / "v1.db"
    monkeypatch.setattr(store_mod, "MIGRATIONS", MIGRATIONS[:1])
    Store(db).close()
    assert "incident_aliases" not in tables(db)
    monkeypatch.setattr(store_mod, "MIGRATIONS", MIGRATIONS)
    with Store(db) as store:
        assert store.schema_version == len(MIGRATIONS)
    assert "incident_aliases" in tables(db)


def test_documents_and_reports_are_written_in_one_place(tmp_path):
    from extractor.record import Record

    rec = Record.model_validate({"source": {"id": "doc-1", "url": "https://example.org/a", "language": "en",
                                            "published": "2024-03-02", "title": "A breach"}, "is_incident": True})
    with Store(tmp_path / "w.db") as store:
        with store.transaction() as conn:
            doc = store_mod.save_document(conn, "doc-1", text="Our own text.", url="https://example.org/a",
                                          published="2024-03-02", language="en")
            rid = store_mod.save_report(conn, doc, rec)
            # a second write of the same document keeps the text when none is given, and replaces the report
            assert store_mod.save_document(conn, "doc-1", text="", title="A breach") == doc
            assert store_mod.save_report(conn, doc, rec) == rid
        row = store.conn.execute("SELECT text, title, published FROM documents").fetchone()
        assert tuple(row) == ("Our own text.", "A breach", "2024-03-02")
        assert store.conn.execute("SELECT COUNT(*) FROM reports").fetchone()[0] == 1
        assert store_mod.is_incident_report(store.conn, rid)


def test_missing_database_when_create_false(tmp_path):
    with pytest.raises(StoreError, match="no database"):
        Store(tmp_path / "absent.db", create=False)
    assert not (tmp_path / "absent.db").exists()


def test_ingest_lock_names_the_holder_and_can_wait(tmp_path):
    db = tmp_path / "incidents.db"
    released = threading.Event()
    with ingest_lock(db):
        with pytest.raises(StoreError) as err:
            with ingest_lock(db):
                pass
        assert f"another ingest is running on incidents.db (pid {os.getpid()})" in str(err.value)
        assert ingest_running(db) == os.getpid()

        got = []

        def waiter():
            with ingest_lock(db, wait=True):
                got.append(released.is_set())

        t = threading.Thread(target=waiter)
        t.start()
        time.sleep(0.3)
        assert got == []  # still waiting
        released.set()
    t.join(5)
    assert got == [True]
    assert ingest_running(db) is None


def test_atomic_output_keeps_the_old_file_on_failure(tmp_path):
    out = tmp_path / "out.jsonl"
    out.write_text("old\n")
    with pytest.raises(RuntimeError):
        with atomic_output(out) as fh:
            fh.write("half of a new fi")
            raise RuntimeError("disk gone")
    assert out.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]  # no temp file left behind
    with atomic_output(out) as fh:
        fh.write("new\n")
    assert out.read_text() == "new\n"


def _report(i: int, count: int, day: str, event: str) -> dict:
    org, ev = f"Ridge Payroll {i}", lambda text, at: {"text": text, "start": at, "end": at + len(text)}
    return {"schema_version": "1.0.0",
            "source": {"id": f"v4-{i}", "url": f"https://news.example/v4/{i}", "title": None, "publisher": None,
                       "language": "en", "published": day, "published_precision": "day", "kind": "news",
                       "place": None},
            "is_incident": True, "relevance": 0.9,
            "organization": {"name": org, "acronym": None, "aliases": [], "evidence": ev(org, 0)},
            "victims": {"count": count, "qualifier": "exact", "unit": "customers", "evidence": ev(str(count), 40)},
            "data_types": [], "agencies": [], "dates": {"incident": {"date": event, "evidence": ev(event, 80)}},
            "text_sha256": "0" * 64, "error": None, "extractor_version": "test"}


def test_a_version_3_file_gains_the_attach_indexes_and_finds_the_same_keyless_candidates(tmp_path, monkeypatch):
    from extractor import merge
    from extractor.incident_component import _lookups, keyless_neighbours, load_reps

    db = tmp_path / "v3.db"
    monkeypatch.setattr(store_mod, "MIGRATIONS", MIGRATIONS[:3])
    # three organizations without a shared key: 1 and 2 share a count, 1 and 3 an incident day two days apart,
    # 4 has both but was published far outside keyless_days
    rows = [(1, 1200, "2024-03-01", "2024-02-20"), (2, 1200, "2024-03-10", "2023-01-01"),
            (3, 77, "2024-03-05", "2024-02-22"), (4, 1200, "2025-06-01", "2024-02-20")]
    with Store(db) as store:
        with store.transaction() as conn:
            for i, count, day, event in rows:
                merge.import_record(conn, _report(i, count, day, event))
        ids = dict(conn.execute("SELECT source_id, id FROM reports"))
        before = keyless_neighbours(conn, load_reps(conn, [ids["v4-1"]]).values(), None)
        assert "INDEXED BY" not in _lookups(conn)[0]
    monkeypatch.setattr(store_mod, "MIGRATIONS", MIGRATIONS)
    with Store(db) as store:
        conn = store.conn
        assert store.schema_version == 4
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert {"reports_victims_count", "reports_incident_day", "reports_discovered_day"} <= names
        by_count, by_day = _lookups(conn)
        plan = " ".join(str(tuple(r)) for r in conn.execute("EXPLAIN QUERY PLAN " + by_count, ("", "~", 1200)))
        assert "reports_victims_count" in plan
        plan = " ".join(str(tuple(r)) for r in conn.execute(
            "EXPLAIN QUERY PLAN " + by_day.format("?"), ("", "~", "2024-02-20", "", "~", "2024-02-20")))
        assert "reports_incident_day" in plan and "reports_discovered_day" in plan
        after = keyless_neighbours(conn, load_reps(conn, [ids["v4-1"]]).values(), None)
    assert before == after == {ids["v4-2"], ids["v4-3"]}
