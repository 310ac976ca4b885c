"""`incidents status` (health at a glance, exit 7 when a person is needed) and `incidents feeds list|check`,
through the real entry point, against servers on 127.0.0.1."""

from __future__ import annotations

import json
import re
import sqlite3
import sys
from pathlib import Path

import pytest

from cliutil import cli  # noqa: E402  (tests/ is on sys.path, as for localserver)

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "ingest"))

from ingest_helpers import FIXTURE_DOCS, StubExtractor, feeds_toml, install_site  # noqa: E402
from localserver import LocalServer  # noqa: E402

from extractor.fetch import FetchSettings, Fetcher  # noqa: E402
from extractor.store import Store  # noqa: E402
from pipelines.feedlist import load_feed_list  # noqa: E402
from pipelines.ingest import Ingestor  # noqa: E402

LOCAL = FetchSettings(allow_private=True, per_host_delay=0.0, read_timeout=2.0, total_timeout=5.0)


def ingest(db, feeds_path):
    with Store(db) as store, Fetcher(LOCAL) as fetcher:
        return Ingestor(store, load_feed_list(feeds_path), fetcher, StubExtractor, log=lambda m: None,
                        force=True).run()


def sql(db, statement, args=()):
    conn = sqlite3.connect(str(db))
    with conn:
        conn.execute(statement, args)
    conn.close()


@pytest.fixture()
def site(tmp_path):
    with LocalServer() as srv:
        install_site(srv)
        path = tmp_path / "feeds.toml"
        path.write_text(feeds_toml(srv))
        yield srv, path


def test_status_is_healthy_after_a_good_run(tmp_path, site, capsys):
    srv, feeds = site
    db = tmp_path / "s.db"
    ingest(db, feeds)
    code, out, err = cli(capsys, "status", "--db", str(db))
    assert code == 0, out
    assert "health: OK" in out and f"documents: {FIXTURE_DOCS}" in out and "feeds: 3" in out
    assert re.search(r"^last successful poll: \d+s ago \(20\d\d-", out, re.M)
    assert "last incident stored:" in out and "none yet" not in out and " MB)" in out
    data = json.loads(cli(capsys, "status", "--db", str(db), "--json")[1])
    health = data["health"]
    assert health["problems"] == [] and health["store_bytes"] > 0 and health["last_incident_age_s"] < 600
    assert all(f["last_success"] for f in health["feeds"])


def test_a_feed_failing_for_more_than_a_day_needs_a_person(tmp_path, site, capsys):
    srv, feeds = site
    db = tmp_path / "s.db"
    ingest(db, feeds)
    srv.routes["/feeds/fr.atom"] = (500, {"Content-Type": "text/plain"}, b"down")
    ingest(db, feeds)
    code, out, _ = cli(capsys, "status", "--db", str(db))
    assert code == 0 and "failing since" in out  # failing, but not for a day yet
    sql(db, "UPDATE meta SET value = '2020-01-01T00:00:00Z' WHERE key LIKE 'feed_failing_since:%'")
    code, out, _ = cli(capsys, "status", "--db", str(db))
    assert code == 7 and "needs attention:" in out and "has failed for" in out and "HTTP 500" in out
    srv.routes.pop("/feeds/fr.atom")
    install_site(srv)
    ingest(db, feeds)  # it answers again: healthy
    assert cli(capsys, "status", "--db", str(db))[0] == 0


def test_no_successful_poll_for_a_day_needs_a_person(tmp_path, site, capsys):
    srv, feeds = site
    db = tmp_path / "s.db"
    ingest(db, feeds)
    sql(db, "UPDATE meta SET value = '2020-01-01T00:00:00Z' WHERE key LIKE 'feed_last_success:%'")
    code, out, _ = cli(capsys, "status", "--db", str(db))
    assert code == 7 and "no feed polled successfully for" in out


def test_items_waiting_for_a_retry_are_counted(tmp_path, site, capsys):
    srv, feeds = site
    srv.routes["/news/flooding.html"] = (503, {"Content-Type": "text/plain"}, b"busy")
    db = tmp_path / "s.db"
    ingest(db, feeds)
    data = json.loads(cli(capsys, "status", "--db", str(db), "--json")[1])
    assert data["health"]["items_waiting_retry"] == 1 and data["health"]["problems"] == []


def test_status_help_documents_the_exit_codes(capsys):
    code, out, _ = cli(capsys, "status", "--help")
    assert code == 0 and "7 something needs a person" in " ".join(out.split())


def test_feeds_list_shows_the_effective_list_with_health(tmp_path, site, capsys):
    srv, feeds = site
    extra = tmp_path / "extra.toml"
    extra.write_text(f'[[feed]]\nname = "off one"\nurl = "{srv.url("/feeds/off.rss")}"\nenabled = false\n'
                     f'[[feed]]\nname = "mine"\nurl = "{srv.url("/feeds/mine.rss")}"\nrobots = false\n')
    db = tmp_path / "s.db"
    code, out, err = cli(capsys, "feeds", "list", "--feeds", str(feeds), "--feeds", str(extra), "--db", str(db))
    assert code == 0 and "no health" in err and not db.exists()  # listing never creates a database
    assert len(out.splitlines()) == 1 + 4 and "off one" not in out and "never" in out
    ingest(db, feeds)
    code, out, err = cli(capsys, "feeds", "list", "--feeds", str(feeds), "--feeds", str(extra), "--db", str(db),
                         "--all", "--json")
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and len(rows) == 5
    by_name = {r["name"]: r for r in rows}
    assert by_name["off one"]["enabled"] is False and by_name["mine"]["robots"] is False
    assert by_name["mine"]["last_success"] is None
    assert all(by_name[f"test {p}"]["last_success"] for p in ("/feeds/en.rss", "/feeds/fr.atom"))


def test_feeds_check_polls_once_and_stores_nothing(tmp_path, site, capsys, monkeypatch):
    srv, feeds = site
    monkeypatch.setenv("INCIDENTS_ALLOW_PRIVATE", "1")
    monkeypatch.chdir(tmp_path)
    srv.routes["/robots.txt"] = (200, {"Content-Type": "text/plain"}, b"User-agent: *\nDisallow: /news/\n")
    code, out, err = cli(capsys, "feeds", "check", "--feeds", str(feeds))
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 3 and all(line.startswith("OK ") for line in lines)
    en = next(line for line in lines if "/feeds/en.rss" in line)
    assert "entries" in en and "newest:" in en and "robots.txt DISALLOWS its pages" in en
    assert "nothing stored" in err and not list(tmp_path.glob("*.db"))
    assert not any(r.path.startswith(("/news/", "/fr/")) for r in srv.requests)  # no page fetched
    code, out, err = cli(capsys, "feeds", "check", srv.url("/nothing.rss"))
    assert code == 4 and out.startswith("FAIL") and "HTTP 404" in out
    assert err.strip().splitlines()[-1].startswith("incidents: error: 1 of 1 feeds failed")


def test_a_database_from_before_the_bookkeeping_counts_its_last_good_poll(tmp_path, site, capsys):
    srv, feeds = site
    db = tmp_path / "s.db"
    ingest(db, feeds)
    sql(db, "DELETE FROM meta WHERE key LIKE 'feed_last_success:%'")
    code, out, _ = cli(capsys, "status", "--db", str(db))
    assert code == 0 and "health: OK" in out
