"""Feed ingestion against a local server: new items, conditional GET, 304/301/410/429, timeouts, broken feeds,
oversized and failing pages, retries, dedup by canonical URL, merge of incident reports, the CLI and the demo."""

from __future__ import annotations

import json
import sqlite3
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "ingest"))

from ingest_helpers import (  # noqa: E402
    FIXTURE_DOCS, FIXTURE_INCIDENTS, StubExtractor, feed_bytes, feeds_toml, install_site, snapshot,
)
from localserver import LocalServer  # noqa: E402

from extractor.fetch import FetchSettings, Fetcher  # noqa: E402
from extractor.store import Store  # noqa: E402
from pipelines.ingest import Ingestor, canonical_url, load_feed_list, parse_duration  # noqa: E402


@pytest.fixture()
def server():
    with LocalServer() as srv:
        install_site(srv)
        yield srv


def run(db, feeds, *, settings=None, force=False, extractor=None, log=None):
    settings = settings or FetchSettings(allow_private=True, per_host_delay=0.0, read_timeout=2.0, total_timeout=5.0)
    messages = []
    with Store(db) as store, Fetcher(settings) as fetcher:
        ing = Ingestor(store, feeds, fetcher, lambda: extractor or StubExtractor(), force=force,
                       log=log or messages.append)
        summary = ing.run()
    summary.log = messages
    return summary


def feeds_from(tmp_path, text):
    path = tmp_path / "feeds.toml"
    path.write_text(text)
    return load_feed_list(path)


def rows(db, sql, args=()):
    conn = sqlite3.connect(str(db))
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, args)]
    finally:
        conn.close()


def test_canonical_url_drops_tracking_and_fragment():
    assert canonical_url("HTTPS://News.Example.CA:443/a/b.html?utm_source=rss&id=7&fbclid=Z&gclid=1&mc_cid=x#top") == \
        "https://news.example.ca/a/b.html?id=7"
    assert canonical_url("http://example.org:8080/x?xtor=RSS-3&page=2") == "http://example.org:8080/x?page=2"
    assert canonical_url("https://example.org") == "https://example.org/"


def test_parse_duration():
    assert parse_duration("30m") == 1800
    assert parse_duration("2h30m") == 9000
    assert parse_duration("90s") == 90
    from extractor.errors import InputError

    with pytest.raises(InputError):
        parse_duration("soon")
    with pytest.raises(InputError):
        parse_duration("1s")


def test_new_items_are_ingested_then_a_second_run_adds_nothing(tmp_path, server):
    db = tmp_path / "incidents.db"
    feeds = feeds_from(tmp_path, feeds_toml(server))
    s1 = run(db, feeds)
    assert s1.feeds_polled == 3 and s1.feeds_failed == 0
    assert s1.new_items == FIXTURE_DOCS  # the article in two feeds (other tracking params) is one item
    assert s1.documents == FIXTURE_DOCS and s1.incident_reports == FIXTURE_INCIDENTS
    items = rows(db, "SELECT * FROM items")
    assert {i["status"] for i in items} == {"done"}
    maple = [i for i in items if "maple" in i["url"]]
    assert len(maple) == 1
    assert maple[0]["canonical_url"] == server.url("/news/maple-breach.html")
    assert maple[0]["published"] == "2024-03-05" and maple[0]["guid"] == "ledger-1001"
    docs = rows(db, "SELECT * FROM documents")
    assert all(d["text"] and d["html_sha256"] and len(d["html_sha256"]) == 64 for d in docs)
    # the language of the feed is the pages' hint
    assert {d["language"] for d in docs if "/fr/" in d["url"]} == {"fr"}
    # the text stored is the one the evidence offsets point into
    for r in rows(db, "SELECT r.record_json, d.text FROM reports r JOIN documents d ON d.id = r.document_id"):
        rec = json.loads(r["record_json"])
        if rec["organization"]:
            ev = rec["organization"]["evidence"]
            assert r["text"][ev["start"]:ev["end"]] == ev["text"]
    # every incident report was handed to the merge step in the same transaction
    assert len(rows(db, "SELECT * FROM incident_reports")) == FIXTURE_INCIDENTS
    feed_rows = rows(db, "SELECT * FROM feeds")
    assert all(f["etag"] and f["last_modified"] and f["last_status"] == 200 for f in feed_rows)

    before = snapshot(db)
    n_requests = len(server.requests)
    s2 = run(db, feeds)
    assert (s2.new_items, s2.documents, s2.feeds_not_modified) == (0, 0, 3)
    second = server.requests[n_requests:]
    assert sorted(r.path for r in second) == sorted(["/feeds/en.rss", "/feeds/fr.atom", "/feeds/cnw-fr.rss"])
    assert all(r.headers.get("if-none-match", "").startswith('"') for r in second)
    assert all(r.headers.get("if-modified-since") for r in second)
    after = snapshot(db)
    assert {k: v for k, v in after.items() if k != "feeds"} == {k: v for k, v in before.items() if k != "feeds"}
    assert {f["last_status"] for f in rows(db, "SELECT * FROM feeds")} == {304}


def test_feed_without_etag_gets_a_conditional_request_by_last_modified(tmp_path, server):
    body = feed_bytes("feed_en.rss", server.base_url)
    lm = "Sat, 09 Mar 2024 12:00:00 GMT"

    def handler(req):
        if req.headers.get("if-modified-since") == lm:
            return 304, {}, b""
        return 200, {"Content-Type": "application/rss+xml", "Last-Modified": lm}, body

    server.routes["/plain.rss"] = handler
    db = tmp_path / "i.db"
    feeds = feeds_from(tmp_path, f'[[feed]]\nurl = "{server.url("/plain.rss")}"\n')
    assert run(db, feeds).new_items == 3
    assert run(db, feeds).feeds_not_modified == 1
    assert server.requests_to("/plain.rss")[-1].headers["if-modified-since"] == lm
    assert "if-none-match" not in server.requests_to("/plain.rss")[-1].headers


def test_301_updates_the_stored_feed_url(tmp_path, server):
    server.routes["/old/en.rss"] = (301, {"Location": "/feeds/en.rss"}, b"")
    db = tmp_path / "i.db"
    feeds = feeds_from(tmp_path, f'[[feed]]\nname = "moved"\nurl = "{server.url("/old/en.rss")}"\n')
    s = run(db, feeds)
    assert s.new_items == 3
    feed_rows = rows(db, "SELECT * FROM feeds")
    assert len(feed_rows) == 1 and feed_rows[0]["url"] == server.url("/feeds/en.rss")
    # the next run (same config, old URL) polls the new URL directly and creates no second feed
    n = len(server.requests_to("/old/en.rss"))
    s2 = run(db, feeds)
    assert s2.feeds_not_modified == 1 and s2.new_items == 0
    assert len(server.requests_to("/old/en.rss")) == n
    assert len(rows(db, "SELECT * FROM feeds")) == 1


def test_410_retires_the_feed(tmp_path, server):
    server.routes["/gone.rss"] = (410, {"Content-Type": "text/plain"}, b"gone")
    db = tmp_path / "i.db"
    feeds = feeds_from(tmp_path, f'[[feed]]\nurl = "{server.url("/gone.rss")}"\n')
    s = run(db, feeds)
    assert s.feeds_failed == 1
    f = rows(db, "SELECT * FROM feeds")[0]
    assert f["retired"] == 1 and f["last_status"] == 410
    run(db, feeds, force=True)
    assert len(server.requests_to("/gone.rss")) == 1  # never polled again, even with --force


@pytest.mark.parametrize("status", [429, 503])
def test_429_and_503_store_retry_after(tmp_path, server, status):
    server.routes["/busy.rss"] = (status, {"Retry-After": "7200", "Content-Type": "text/plain"}, b"slow down")
    db = tmp_path / "i.db"
    feeds = feeds_from(tmp_path, f'[[feed]]\nurl = "{server.url("/busy.rss")}"\n')
    t0 = datetime.now(timezone.utc)
    run(db, feeds)
    f = rows(db, "SELECT * FROM feeds")[0]
    assert f["last_status"] == status and f["failures"] == 1 and "Retry-After" in f["last_error"]
    wait = (datetime.strptime(f["next_poll_after"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc) - t0).total_seconds()
    assert 7190 <= wait <= 7210
    s = run(db, feeds)  # honoured: not asked again before then
    assert s.feeds_skipped == 1 and len(server.requests_to("/busy.rss")) == 1


def test_timeout_backs_off_exponentially(tmp_path, server):
    def slow(req):
        time.sleep(1.5)
        return 200, {"Content-Type": "application/rss+xml"}, b"<rss/>"

    server.routes["/slow.rss"] = slow
    db = tmp_path / "i.db"
    feeds = feeds_from(tmp_path, f'[[feed]]\nurl = "{server.url("/slow.rss")}"\n')
    settings = FetchSettings(allow_private=True, per_host_delay=0.0, read_timeout=0.3, total_timeout=0.6)
    s = run(db, feeds, settings=settings)
    assert s.feeds_failed == 1
    f1 = rows(db, "SELECT * FROM feeds")[0]
    assert f1["failures"] == 1 and "timed out" in f1["last_error"] and f1["next_poll_after"]
    s = run(db, feeds, settings=settings)  # backed off: not hammered
    assert s.feeds_skipped == 1 and len(server.requests_to("/slow.rss")) == 1
    run(db, feeds, settings=settings, force=True)
    f2 = rows(db, "SELECT * FROM feeds")[0]
    assert f2["failures"] == 2 and f2["next_poll_after"] > f1["next_poll_after"]
    # recovery resets the failure count
    server.routes["/slow.rss"] = (200, {"Content-Type": "application/rss+xml"}, feed_bytes("feed_en.rss", server.base_url))
    run(db, feeds, force=True)
    f3 = rows(db, "SELECT * FROM feeds")[0]
    assert f3["failures"] == 0 and f3["next_poll_after"] is None and f3["last_error"] is None


def test_truncated_feed_uses_the_entries_it_has(tmp_path, server):
    body = feed_bytes("feed_en.rss", server.base_url)
    cut = body[: body.index(b"<item>", body.index(b"ledger-1002"))]  # two whole items, then cut mid-document
    server.routes["/cut.rss"] = (200, {"Content-Type": "application/rss+xml"}, cut + b"<item><title>Half")
    db = tmp_path / "i.db"
    feeds = feeds_from(tmp_path, f'[[feed]]\nurl = "{server.url("/cut.rss")}"\n')
    s = run(db, feeds)
    assert s.feeds_failed == 0 and s.new_items >= 2
    assert any("malformed feed" in m for m in s.log)
    f = rows(db, "SELECT * FROM feeds")[0]
    assert f["last_status"] == 200 and f["last_error"].startswith("malformed feed")
    assert {i["guid"] for i in rows(db, "SELECT guid FROM items")} >= {"ledger-1001", "ledger-1002"}


def test_garbage_feed_is_a_failure(tmp_path, server):
    server.routes["/junk.rss"] = (200, {"Content-Type": "text/html"}, b"<html><body>Maintenance</body></html>")
    db = tmp_path / "i.db"
    feeds = feeds_from(tmp_path, f'[[feed]]\nurl = "{server.url("/junk.rss")}"\n')
    s = run(db, feeds)
    assert s.feeds_failed == 1 and s.new_items == 0
    assert rows(db, "SELECT failures FROM feeds")[0]["failures"] == 1


def test_failed_pages_are_recorded_and_retried_when_due(tmp_path, server):
    big = b"<html><body><p>" + b"x" * 300_000 + b"</p></body></html>"
    server.routes["/news/northwind.html"] = (200, {"Content-Type": "text/html"}, big)  # oversized
    server.routes["/news/flooding.html"] = (500, {"Content-Type": "text/plain"}, b"oops")
    server.routes["/news/maple-breach.html"] = (404, {"Content-Type": "text/plain"}, b"no such page")
    db = tmp_path / "i.db"
    feeds = feeds_from(tmp_path, feeds_toml(server, ["/feeds/en.rss"]))
    settings = FetchSettings(allow_private=True, per_host_delay=0.0, max_bytes=100_000)
    s = run(db, feeds, settings=settings)
    assert s.new_items == 3 and s.documents == 0 and s.items_failed == 3
    items = {i["guid"]: i for i in rows(db, "SELECT * FROM items")}
    big_item, err_item, missing = items["ledger-1003"], items["ledger-1002"], items["ledger-1001"]
    assert big_item["status"] == "failed" and big_item["attempts"] == 1 and "larger than" in big_item["last_error"]
    assert big_item["next_retry"] and err_item["status"] == "failed" and "500" in err_item["last_error"]
    assert missing["status"] == "gone" and missing["next_retry"] is None  # 404: kept, not retried

    # not due yet: nothing is fetched again
    n = len(server.requests)
    s = run(db, feeds, settings=settings)
    assert s.documents == 0 and [r.path for r in server.requests[n:]] == ["/feeds/en.rss"]

    # once due, they are retried; the pages are fine now
    install_site(server)
    conn = sqlite3.connect(str(db))
    conn.execute("UPDATE items SET next_retry = '2000-01-01T00:00:00Z' WHERE status = 'failed'")
    conn.commit()
    conn.close()
    s = run(db, feeds, settings=settings)
    assert s.documents == 2
    items = {i["guid"]: i for i in rows(db, "SELECT * FROM items")}
    assert items["ledger-1003"]["status"] == "done" and items["ledger-1003"]["last_error"] is None
    assert items["ledger-1001"]["status"] == "gone"


def test_item_backoff_grows_and_gives_up(tmp_path, server):
    server.routes["/news/flooding.html"] = (500, {}, b"")
    db = tmp_path / "i.db"
    feeds = feeds_from(tmp_path, feeds_toml(server, ["/feeds/en.rss"]))
    retries = []
    for _ in range(3):
        run(db, feeds, force=True)
        item = rows(db, "SELECT * FROM items WHERE guid = 'ledger-1002'")[0]
        retries.append(item["next_retry"])
        conn = sqlite3.connect(str(db))
        conn.execute("UPDATE items SET next_retry = '2000-01-01T00:00:00Z' WHERE guid = 'ledger-1002'")
        conn.commit()
        conn.close()
    assert item["attempts"] == 3
    gaps = [datetime.strptime(r, "%Y-%m-%dT%H:%M:%SZ") for r in retries]
    assert gaps[0] < gaps[1] < gaps[2]
    with Store(db) as store, Fetcher(FetchSettings(allow_private=True, per_host_delay=0.0)) as f:
        Ingestor(store, feeds, f, StubExtractor, item_max_attempts=4, log=lambda m: None).run()
    item = rows(db, "SELECT * FROM items WHERE guid = 'ledger-1002'")[0]
    assert item["attempts"] == 4 and item["status"] == "failed" and item["next_retry"] is None  # given up, visible


def test_extraction_error_is_recorded_on_the_item(tmp_path, server):
    server.routes["/news/flooding.html"] = (200, {"Content-Type": "text/html"}, b"<p>EXTRACT-FAIL</p>")
    db = tmp_path / "i.db"
    s = run(db, feeds_from(tmp_path, feeds_toml(server, ["/feeds/en.rss"])))
    assert s.documents == 2
    item = rows(db, "SELECT * FROM items WHERE guid = 'ledger-1002'")[0]
    assert item["status"] == "failed" and "cannot extract" in item["last_error"]


def test_extractor_crash_fails_the_batch_items_not_the_run(tmp_path, server):
    class Broken:
        def extract_many(self, docs, batch_size=16):
            raise RuntimeError("model file missing")

    db = tmp_path / "i.db"
    s = run(db, feeds_from(tmp_path, feeds_toml(server, ["/feeds/en.rss"])), extractor=Broken())
    assert s.documents == 0 and s.items_failed == 3
    assert {i["status"] for i in rows(db, "SELECT status FROM items")} == {"failed"}


def test_merge_failure_does_not_lose_the_report(tmp_path, server, monkeypatch):
    import extractor.merge as merge

    def bad_attach(conn, report_id):
        conn.execute("INSERT INTO incidents (id, best_json, created_at, updated_at) VALUES ('half', '{}', 'x', 'x')")
        raise ValueError("merge bug")

    monkeypatch.setattr(merge, "attach_report", bad_attach)
    db = tmp_path / "i.db"
    s = run(db, feeds_from(tmp_path, feeds_toml(server, ["/feeds/en.rss"])))
    assert s.documents == 3 and s.errors == 2
    assert rows(db, "SELECT COUNT(*) AS n FROM incidents")[0]["n"] == 0  # the half-done merge was rolled back
    assert rows(db, "SELECT COUNT(*) AS n FROM reports WHERE is_incident = 1")[0]["n"] == 2


def test_stop_event_ends_after_the_current_item(tmp_path, server):
    import threading

    stop = threading.Event()

    class StopAfterFirst(StubExtractor):
        def extract_many(self, docs, batch_size=16):
            for rec in super().extract_many(docs, batch_size):
                yield rec

    db = tmp_path / "i.db"
    feeds = feeds_from(tmp_path, feeds_toml(server))
    with Store(db) as store, Fetcher(FetchSettings(allow_private=True, per_host_delay=0.0)) as fetcher:
        ing = Ingestor(store, feeds, fetcher, StopAfterFirst, stop=stop, batch_size=2, log=lambda m: None)
        original = ing._fetch_item
        seen = []

        def fetch_then_stop(item):
            seen.append(item["id"])
            if len(seen) == 3:
                stop.set()
            return original(item)

        ing._fetch_item = fetch_then_stop
        s = ing.run()
    assert s.stopped and s.documents == 3
    statuses = [i["status"] for i in rows(db, "SELECT status FROM items ORDER BY id")]
    assert statuses.count("done") == 3 and statuses.count("new") == FIXTURE_DOCS - 3
    # the next run picks up the rest
    s = run(db, feeds)
    assert s.documents == FIXTURE_DOCS - 3


def test_cli_ingest_export_status(tmp_path, server, monkeypatch, capsys):
    """The real command line, with the real Extractor (slowest test here: loads the spaCy pipelines)."""
    from extractor.cli import main

    monkeypatch.setenv("INCIDENTS_ALLOW_PRIVATE", "1")
    feeds = tmp_path / "feeds.toml"
    feeds.write_text(feeds_toml(server))
    first, second = tmp_path / "first.toml", tmp_path / "second.toml"  # --feeds given twice: the lists merged
    first.write_text(feeds_toml(server, ["/feeds/en.rss"]))
    second.write_text(feeds_toml(server, ["/feeds/fr.atom", "/feeds/cnw-fr.rss"]))
    db = tmp_path / "cli.db"

    def cli(*args):
        with pytest.raises(SystemExit) as exit_:
            main(list(args))
        out, err = capsys.readouterr()
        return exit_.value.code, out, err

    code, out, err = cli("ingest", "--feeds", str(first), "--feeds", str(second), "--db", str(db), "--delay", "0")
    assert code == 0, err
    summary = err.strip().splitlines()[-1]
    assert summary.startswith("ingest: 3 feeds polled") and f"{FIXTURE_DOCS} new items" in summary
    docs = rows(db, "SELECT d.text, r.record_json FROM documents d JOIN reports r ON r.document_id = d.id")
    assert len(docs) == FIXTURE_DOCS
    for d in docs:  # offsets point into the stored text
        rec = json.loads(d["record_json"])
        for dt in rec["data_types"]:
            assert d["text"][dt["evidence"]["start"]:dt["evidence"]["end"]] == dt["evidence"]["text"]
    code, out, err = cli("ingest", "--feeds", str(feeds), "--db", str(db))
    assert code == 0 and "0 new items" in err and "3 not modified" in err

    code, out, err = cli("export", "--db", str(db), "--output", "-", "--all-documents")
    assert code == 0 and len(out.splitlines()) == FIXTURE_DOCS
    code, out, err = cli("status", "--db", str(db))
    assert code == 0 and f"documents: {FIXTURE_DOCS}" in out and "feeds: 3" in out


def test_cli_errors_are_one_line(tmp_path, capsys):
    from extractor.cli import main

    bad = tmp_path / "bad.toml"
    bad.write_text("[[feed]]\nurl = 'ftp://example.org/x'\n")
    for args, code in (
        (["ingest", "--feeds", str(tmp_path / "none.toml"), "--db", str(tmp_path / "x.db")], 3),
        (["ingest", "--feeds", str(bad), "--db", str(tmp_path / "x.db")], 3),
        (["ingest", "--every", "soon", "--db", str(tmp_path / "x.db")], 3),
        (["status", "--db", str(tmp_path / "absent.db")], 5),
    ):
        with pytest.raises(SystemExit) as exit_:
            main(args)
        err = capsys.readouterr().err
        assert exit_.value.code == code, (args, err)
        assert len(err.strip().splitlines()) == 1 and err.startswith("incidents: error: ")


def test_demo_runs_offline_and_twice_adds_nothing(tmp_path, capsys, monkeypatch):
    demo = Path(__file__).parents[1] / "pipelines" / "demo" / "feeds.toml"
    from extractor.cli import main

    monkeypatch.delenv("INCIDENTS_ALLOW_PRIVATE", raising=False)
    db = tmp_path / "demo.db"
    for expect_new in (True, False):
        with pytest.raises(SystemExit) as exit_:
            main(["ingest", "--demo", "--db", str(db)])
        err = capsys.readouterr().err
        assert exit_.value.code == 0, err
        line = err.strip().splitlines()[-1]
        assert line.startswith("ingest: ") and ("0 new items" not in line) == expect_new, line
    expected = json.loads((demo.parent / "expected.json").read_text())
    # the release linked from two feeds (once with utm_* parameters) is one document
    assert rows(db, "SELECT COUNT(*) AS n FROM documents")[0]["n"] == expected["documents"]
    assert rows(db, "SELECT COUNT(*) AS n FROM items WHERE status != 'done'")[0]["n"] == 0


def test_ingest_docs_stores_extracts_embeds_and_attaches_like_a_feed_item(tmp_path, capsys):
    """`incidents ingest --docs` (the `extract --docs` format): the same path as a feed item (real Extractor)."""
    from extractor.cli import main

    docs = tmp_path / "docs.jsonl"
    lines = [
        {"id": "d-fr", "language": "fr", "published": "2024-05-02",
         "text": "La Banque Laurentienne du Canada avise 2 300 clients qu'une cyberattaque a exposé leurs numéros de "
                 "compte bancaire. La Commission d'accès à l'information a été avisée."},
        {"id": "d-en", "language": "en", "published": "2024-05-03",
         "text": "Laurentian Bank of Canada says a cyberattack exposed the bank account numbers of 2,300 clients. "
                 "The bank notified Quebec's access to information commission."},
        {"id": "d-neg", "language": "en", "published": "2024-05-03",
         "text": "Five tips to choose a strong password for your online banking this spring."},
    ]
    docs.write_text("\n".join(json.dumps(d) for d in lines) + "\nnot json\n", encoding="utf-8")
    db = tmp_path / "docs.db"
    with pytest.raises(SystemExit) as exit_:
        main(["ingest", "--docs", str(docs), "--db", str(db), "--quiet"])
    err = capsys.readouterr().err
    assert exit_.value.code == 0, err
    assert err.strip().splitlines()[-1].startswith("ingest: 3 documents stored")
    stored = {r["source_id"]: r for r in rows(db, "SELECT source_id, text, published FROM documents")}
    assert set(stored) == {"d-fr", "d-en", "d-neg"}
    assert stored["d-en"]["text"].startswith("Laurentian Bank") and stored["d-fr"]["published"] == "2024-05-02"
    incident_reports = rows(db, "SELECT r.id FROM reports r WHERE r.is_incident = 1")
    assert rows(db, "SELECT COUNT(*) AS n FROM embeddings")[0]["n"] == len(incident_reports) >= 1
    attached = rows(db, "SELECT incident_id FROM incident_reports")
    assert len(attached) == len(incident_reports)


def test_ingest_docs_fails_when_every_document_failed_and_keeps_the_store(tmp_path, capsys):
    """As `extract --docs`: a file none of whose lines is a document exits non-zero, in one line; the store keeps
    what it had, and an empty file is no failure."""
    from extractor.cli import main

    db = tmp_path / "docs.db"
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps({"id": "d-1", "language": "en", "published": "2024-05-03",
                                "text": "Five tips to choose a strong password for your online banking."}) + "\n")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "d-2", "text": "cut\nnot json\n', encoding="utf-8")
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    codes = []
    for path in (good, bad, empty):
        with pytest.raises(SystemExit) as exit_:
            main(["ingest", "--docs", str(path), "--db", str(db), "--quiet"])
        codes.append(exit_.value.code)
        err = capsys.readouterr().err
        if path is bad:
            assert err.strip().splitlines()[-1] == "incidents: error: every document failed (2 of 2): nothing was stored"
            assert "Traceback" not in err
    assert codes[0] == 0 and codes[1] != 0 and codes[2] == 0, codes
    assert [r["source_id"] for r in rows(db, "SELECT source_id FROM documents")] == ["d-1"]
