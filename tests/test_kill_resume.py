"""SIGKILL an ingest at random moments: the db stays intact, and a rerun ends equal to an uninterrupted run.

The child is tests/fixtures/ingest/ingest_helpers.py (the real Ingestor, Store, Fetcher and merge step, with the
stub extractor so a run takes seconds), against a local server whose pages answer slowly.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE / "fixtures" / "ingest"))

from ingest_helpers import feeds_toml, install_site, integrity, snapshot  # noqa: E402
from localserver import LocalServer  # noqa: E402

CHILD = HERE / "fixtures" / "ingest" / "ingest_helpers.py"
BULK = 21


def start(db, feeds):
    env = dict(os.environ, PYTHONPATH=str(HERE.parent) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.Popen([sys.executable, str(CHILD), str(db), str(feeds), "--stub-delay-ms", "5"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)


def finish(db, feeds) -> str:
    p = start(db, feeds)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 0, err.decode()
    return err.decode()


def progress(db) -> tuple[int, int]:
    if not Path(db).exists():
        return 0, 0
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            items = conn.execute("SELECT COUNT(*) FROM items").fetchone()[0]
            docs = conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
            return items, docs
        finally:
            conn.close()
    except sqlite3.Error:
        return 0, 0


def kill_at(db, feeds, *, after_ms=None, after_docs=None) -> tuple[int, int]:
    """Start a child and SIGKILL it after some milliseconds, or as soon as ``after_docs`` documents are stored."""
    p = start(db, feeds)
    t0 = time.monotonic()
    try:
        while p.poll() is None:
            if after_ms is not None and (time.monotonic() - t0) * 1000 >= after_ms:
                break
            if after_docs is not None and progress(db)[1] >= after_docs:
                break
            if time.monotonic() - t0 > 60:
                break
            time.sleep(0.002)
        if p.poll() is None:
            os.kill(p.pid, signal.SIGKILL)
    finally:
        p.communicate(timeout=30)
    return progress(db)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with LocalServer() as srv:
        install_site(srv, page_delay=0.01, bulk=BULK)
        feeds = tmp_path_factory.mktemp("feeds") / "feeds.toml"
        feeds.write_text(feeds_toml(srv, bulk=True))
        ref_db = tmp_path_factory.mktemp("ref") / "ref.db"
        t0 = time.monotonic()
        finish(ref_db, feeds)
        duration = time.monotonic() - t0
        yield srv, feeds, snapshot(ref_db), duration


def test_reference_run_is_complete(site):
    _, _, ref, _ = site
    assert len(ref["documents"]) == 7 + BULK and len(ref["reports"]) == 7 + BULK
    assert {row[6] for row in ref["items"]} == {"done"}
    assert len(ref["incident_reports"]) == 4 + len(range(0, BULK, 3))


def test_sigkill_at_random_points_loses_and_duplicates_nothing(site, tmp_path):
    srv, feeds, ref, duration = site
    rng = random.Random(20240807)
    total_docs = len(ref["documents"])
    # kill points: random milliseconds over the whole run (startup, feed polls, pages, extraction, commits),
    # plus points chosen by progress (right after the n-th stored document), several kills in a row per db
    plans = [
        [("ms", rng.uniform(0.1, 0.5) * duration * 1000)],
        [("ms", rng.uniform(0.5, 0.95) * duration * 1000)],
        [("docs", rng.randint(1, total_docs // 2)), ("ms", rng.uniform(0.2, 0.9) * duration * 1000)],
        [("docs", rng.randint(total_docs // 2, total_docs - 2))],
        [("ms", rng.uniform(0.3, 0.8) * duration * 1000), ("docs", 1), ("docs", 3)],
    ]
    killed_mid_run = 0
    for i, plan in enumerate(plans):
        db = tmp_path / f"run{i}.db"
        for kind, value in plan:
            items, docs = kill_at(db, feeds, after_ms=value if kind == "ms" else None,
                                  after_docs=value if kind == "docs" else None)
            if db.exists():
                assert integrity(db) == "ok", (plan, kind, value)
            if 0 < docs < total_docs:
                killed_mid_run += 1
        finish(db, feeds)
        assert integrity(db) == "ok"
        got = snapshot(db)
        for table in ("items", "documents", "reports", "incident_reports", "document_items"):
            assert got[table] == ref[table], (plan, table)
        assert len(got["incidents"]) == len(ref["incidents"])
    assert killed_mid_run >= 3  # most kills landed while documents were being stored


def test_sigterm_stops_cleanly_after_the_current_item(tmp_path):
    """The real CLI with --every: SIGTERM ends it with exit 0 and a summary, nothing half-written."""
    with LocalServer() as srv:
        install_site(srv, page_delay=0.05)
        feeds = tmp_path / "feeds.toml"
        feeds.write_text(feeds_toml(srv))
        db = tmp_path / "cli.db"
        env = dict(os.environ, INCIDENTS_ALLOW_PRIVATE="1",
                   PYTHONPATH=str(HERE.parent) + os.pathsep + os.environ.get("PYTHONPATH", ""))
        p = subprocess.Popen([sys.executable, "-c", "from extractor.cli import main; main()", "ingest", "--feeds",
                              str(feeds), "--db", str(db), "--every", "1h", "--delay", "0"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        t0 = time.monotonic()
        while progress(db)[0] == 0 and time.monotonic() - t0 < 60 and p.poll() is None:
            time.sleep(0.02)
        p.send_signal(signal.SIGTERM)
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()
        assert "ingest: " in err.decode()
        assert integrity(db) == "ok"
        conn = sqlite3.connect(str(db))
        done = conn.execute("SELECT COUNT(*) FROM items WHERE status = 'done'").fetchone()[0]
        docs = conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
        conn.close()
        assert done == docs
