"""Two ingests on one database: the second is refused with the holder's pid, or waits with --wait; readers
(export, status) work while an ingest writes; nothing is ever corrupted or duplicated."""

from __future__ import annotations

import os
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


def env():
    return dict(os.environ, PYTHONPATH=str(HERE.parent) + os.pathsep + os.environ.get("PYTHONPATH", ""))


def child(db, feeds, *extra):
    return subprocess.Popen([sys.executable, str(CHILD), str(db), str(feeds), *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env())


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    with LocalServer() as srv:
        install_site(srv, page_delay=0.03, bulk=9)
        feeds = tmp_path_factory.mktemp("feeds") / "feeds.toml"
        feeds.write_text(feeds_toml(srv, bulk=True))
        ref = tmp_path_factory.mktemp("ref") / "ref.db"
        p = child(ref, feeds)
        assert p.wait(120) == 0
        yield srv, feeds, snapshot(ref)


def wait_for_lock_holder(db, timeout=30.0):
    lock = Path(str(db) + ".lock")
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if lock.exists() and lock.read_text().strip():
            return int(lock.read_text())
        time.sleep(0.01)
    raise AssertionError("the first ingest never took the lock")


def test_second_ingest_is_refused_with_the_holders_pid(site, tmp_path):
    _, feeds, ref = site
    db = tmp_path / "incidents.db"
    first = child(db, feeds)
    holder = wait_for_lock_holder(db)
    assert holder == first.pid
    second = child(db, feeds)
    _, err = second.communicate(timeout=60)
    assert second.returncode == 5
    assert err.decode().strip() == f"incidents: error: another ingest is running on incidents.db (pid {first.pid}): " \
                                   "wait for it, or pass --wait"
    assert first.wait(120) == 0
    assert integrity(db) == "ok"
    got = snapshot(db)
    assert got["documents"] == ref["documents"] and got["items"] == ref["items"]


def test_concurrent_ingests_with_wait_never_corrupt_or_duplicate(site, tmp_path):
    _, feeds, ref = site
    db = tmp_path / "incidents.db"
    procs = [child(db, feeds, "--wait") for _ in range(3)]
    errs = []
    for p in procs:
        _, err = p.communicate(timeout=180)
        errs.append(err.decode())
        assert p.returncode == 0, err.decode()
    assert integrity(db) == "ok"
    got = snapshot(db)
    for table in ("items", "documents", "reports", "incident_reports", "document_items"):
        assert got[table] == ref[table], table
    # exactly one of them found the new items, the others found the feeds not modified
    assert sum("0 new items" not in e for e in errs) == 1


def test_export_and_status_read_while_an_ingest_writes(site, tmp_path):
    _, feeds, ref = site
    db = tmp_path / "incidents.db"
    out = tmp_path / "incidents.jsonl"
    first = child(db, feeds, "--stub-delay-ms", "20")
    wait_for_lock_holder(db)
    cli = [sys.executable, "-c", "from extractor.cli import main; main()"]
    sizes = []
    while first.poll() is None:
        r = subprocess.run(cli + ["export", "--db", str(db), "--output", str(out), "--all-documents"],
                           capture_output=True, env=env(), timeout=60)
        assert r.returncode == 0, r.stderr.decode()
        sizes.append(len(out.read_text().splitlines()))
        s = subprocess.run(cli + ["status", "--db", str(db)], capture_output=True, env=env(), timeout=60)
        assert s.returncode == 0 and b"documents:" in s.stdout, s.stderr.decode()
    assert first.returncode == 0
    assert sizes and sizes == sorted(sizes)  # each export is a consistent snapshot of a growing store
    assert integrity(db) == "ok" and snapshot(db)["documents"] == ref["documents"]
