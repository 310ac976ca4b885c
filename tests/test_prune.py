"""Retention: old non-incident texts dropped (URL, GUID, hash kept, never fetched again), incidents kept whole;
`incidents prune [--older-than DAYS] [--dry-run]` through the real entry point; once a day from the ingest job."""

from __future__ import annotations

import sqlite3
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from cliutil import cli  # noqa: E402  (tests/ is on sys.path, as for localserver)

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "ingest"))

from ingest_helpers import FIXTURE_DOCS, FIXTURE_INCIDENTS, StubExtractor, feeds_toml, install_site  # noqa: E402
from localserver import LocalServer  # noqa: E402

from extractor.fetch import FetchSettings, Fetcher  # noqa: E402
from extractor.retention import LAST_RUN_KEY, prune, prune_if_due  # noqa: E402
from extractor.store import Store, utcnow  # noqa: E402
from pipelines.feedlist import load_feed_list  # noqa: E402
from pipelines.ingest import Ingestor, daily_prune  # noqa: E402

LOCAL = FetchSettings(allow_private=True, per_host_delay=0.0, read_timeout=2.0, total_timeout=5.0)


def ingest(db, srv, tmp_path):
    path = tmp_path / "feeds.toml"
    path.write_text(feeds_toml(srv))
    with Store(db) as store, Fetcher(LOCAL) as fetcher:
        return Ingestor(store, load_feed_list(path), fetcher, StubExtractor, log=lambda m: None).run()


def query(db, sql):
    conn = sqlite3.connect(str(db))
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql)]
    finally:
        conn.close()


def age_documents(db, days):
    conn = sqlite3.connect(str(db))
    with conn:
        conn.execute(f"UPDATE documents SET fetched_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now', '-{int(days)} days')")
    conn.close()


DOCS = ("SELECT d.text, d.url, d.canonical_url, d.html_sha256, r.is_incident, i.guid FROM documents d "
        "JOIN reports r ON r.document_id = d.id LEFT JOIN items i ON i.id = d.item_id")


@pytest.fixture()
def site():
    with LocalServer() as srv:
        install_site(srv)
        yield srv


def test_prune_drops_old_non_incident_texts_and_keeps_what_identifies_them(tmp_path, site, capsys):
    db = tmp_path / "p.db"
    ingest(db, site, tmp_path)
    age_documents(db, 40)
    before = query(db, DOCS)
    others = FIXTURE_DOCS - FIXTURE_INCIDENTS
    code, out, err = cli(capsys, "prune", "--dry-run", "--db", str(db))
    assert code == 0 and f"the text of {others} documents" in err and "would be dropped" in err
    assert query(db, DOCS) == before  # a dry run changes nothing
    code, out, err = cli(capsys, "prune", "--db", str(db))
    assert code == 0 and f"the text of {others} documents" in err and " dropped" in err
    after = query(db, DOCS)
    assert len(after) == len(before) == FIXTURE_DOCS
    for b, a in zip(before, after):
        assert (a["url"], a["canonical_url"], a["html_sha256"], a["guid"]) == \
               (b["url"], b["canonical_url"], b["html_sha256"], b["guid"])
        assert a["text"] == (b["text"] if b["is_incident"] else "")
    assert all(a["text"] for a in after if a["is_incident"])
    # a second run finds nothing; a feed answering in full again fetches no page of a pruned document
    assert "the text of 0 documents" in cli(capsys, "prune", "--db", str(db))[2]
    conn = sqlite3.connect(str(db))
    with conn:
        conn.execute("UPDATE feeds SET etag = NULL, last_modified = NULL")
    conn.close()
    n = len(site.requests)
    summary = ingest(db, site, tmp_path)
    assert summary.new_items == 0 and summary.documents == 0
    assert all(r.path.startswith("/feeds/") for r in site.requests[n:])


def test_older_than_bounds_what_goes(tmp_path, site, capsys):
    db = tmp_path / "p.db"
    ingest(db, site, tmp_path)
    age_documents(db, 10)
    assert "the text of 0 documents" in cli(capsys, "prune", "--db", str(db))[2]  # default 30 days
    assert "the text of 0 documents" in cli(capsys, "prune", "--older-than", "11", "--db", str(db))[2]
    code, _, err = cli(capsys, "prune", "--older-than", "9", "--db", str(db))
    assert code == 0 and f"the text of {FIXTURE_DOCS - FIXTURE_INCIDENTS} documents" in err


def test_a_non_incident_report_held_by_an_incident_is_kept(tmp_path, site):
    db = tmp_path / "p.db"
    ingest(db, site, tmp_path)
    age_documents(db, 40)
    conn = sqlite3.connect(str(db))
    with conn:  # a person attached a report that is no incident to an incident (incidents merge)
        rid = conn.execute("SELECT id FROM reports WHERE is_incident = 0 ORDER BY id LIMIT 1").fetchone()[0]
        inc = conn.execute("SELECT id FROM incidents LIMIT 1").fetchone()[0]
        conn.execute("INSERT INTO incident_reports (incident_id, report_id, manual, attached_at) "
                     "VALUES (?, ?, 1, '2024-01-01T00:00:00Z')", (inc, rid))
    conn.close()
    with Store(db) as store, store.transaction() as c:
        result = prune(c)
    assert result["documents"] == FIXTURE_DOCS - FIXTURE_INCIDENTS - 1


def test_the_job_prunes_once_a_day(tmp_path, site):
    db = tmp_path / "p.db"
    ingest(db, site, tmp_path)
    age_documents(db, 40)
    logs = []
    with Store(db) as store:
        first = daily_prune(store, log=logs.append)
        assert first["documents"] == FIXTURE_DOCS - FIXTURE_INCIDENTS and "retention" in logs[-1]
        assert daily_prune(store) is None  # already ran today
        row = store.conn.execute("SELECT value FROM meta WHERE key = ?", (LAST_RUN_KEY,)).fetchone()
        assert row[0] == utcnow().strftime("%Y-%m-%d")
        tomorrow = prune_if_due(store, now=utcnow() + timedelta(days=1))
        assert tomorrow is not None and tomorrow["documents"] == 0


def test_prune_without_a_database_is_one_line(tmp_path, capsys):
    code, _, err = cli(capsys, "prune", "--db", str(tmp_path / "none.db"))
    assert code == 5 and err.count("\n") == 1 and err.startswith("incidents: error: ")
    assert not (tmp_path / "none.db").exists()
