"""Alerts: a webhook receiver on 127.0.0.1 gets each new or revised matching incident exactly once (by delivery
id) across restarts and a kill; a failing receiver gets retries, never a crash or a lost alert."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from extractor import merge
from extractor.errors import ExtractorError
from extractor.store import Store
from extractor.web import alerts
from test_views import EN_TEXT, en_record, fill

CLI = [sys.executable, "-c", "from extractor.cli import main; main()"]


class Receiver:
    """Records every POST; answers `status` (a list consumed one per request, then 200)."""

    def __init__(self, statuses=(), hold: threading.Event | None = None):
        self.posts: list[dict] = []
        self.statuses = list(statuses)
        self.hold, self.got = hold, threading.Event()
        outer = self

        class H(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.posts.append({"id": self.headers["X-Incidents-Delivery"], "body": json.loads(body)})
                outer.got.set()
                if outer.hold is not None and len(outer.posts) == 1:
                    outer.hold.wait(30)
                code = outer.statuses.pop(0) if outer.statuses else 200
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def env(monkeypatch):
    monkeypatch.setenv("INCIDENTS_ALLOW_PRIVATE", "1")
    return {**os.environ, "INCIDENTS_ALLOW_PRIVATE": "1"}


def _cli(args, env, **kw):
    return subprocess.run(CLI + args, capture_output=True, text=True, timeout=120, env=env, **kw)


def test_exactly_once_across_restarts_and_a_kill_then_a_revision(tmp_path, env):
    db = tmp_path / "a.db"
    fill(db)
    hold = threading.Event()
    rx = Receiver(hold=hold)
    try:
        r = _cli(["alert", "add", "--db", str(db), "--webhook", rx.url, "--where", "data_type=sin",
                  "--where", "authority=CAI", "--backfill"], env)
        assert r.returncode == 0, r.stderr
        # a sender killed while the receiver holds the first POST: the delivery stays pending
        p = subprocess.Popen(CLI + ["alert", "send", "--db", str(db), "--delay", "0"], env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        assert rx.got.wait(60)
        p.send_signal(signal.SIGKILL)
        p.wait(30)
        hold.set()
        for _ in range(2):  # two restarts: the first delivers again (same delivery id), the second sends nothing
            r = _cli(["alert", "send", "--db", str(db), "--delay", "0"], env)
            assert r.returncode == 0, r.stderr
        assert {p["id"] for p in rx.posts} == {"1"} and len(rx.posts) == 2
        body = rx.posts[-1]["body"]
        assert body["kind"] == "new" and body["incident"]["id"].startswith("inc-")
        assert "0 pending" in r.stderr and "0 queued" in r.stderr
        # a revised incident is sent once more, as "revised"
        import time

        time.sleep(1.1)
        with Store(db) as store:
            with store.transaction() as conn:
                merge.add_report(conn, en_record(sid="en-belair-2", count=9000, published="2025-03-20"), EN_TEXT)
        with Store(db) as store:
            for _ in range(2):
                alerts.send(store, sleep=lambda _: None)
        assert [p["body"]["kind"] for p in rx.posts] == ["new", "new", "revised"]
        listed = [json.loads(line) for line in _cli(["alert", "list", "--db", str(db)], env).stdout.splitlines()]
        assert listed[0]["sent"] == 2 and listed[0]["pending"] == 0
        assert listed[0]["where"] == {"authority": "CAI", "data_type": "sin"}
    finally:
        hold.set()
        rx.close()


def test_a_failing_receiver_gets_retries_and_nothing_is_lost(tmp_path, env):
    db = tmp_path / "b.db"
    fill(db)
    rx = Receiver(statuses=[500, 503, 500, 500])
    try:
        with Store(db) as store:
            with store.transaction() as conn:
                alerts.add_alert(conn, rx.url, alerts.parse_where(["min_victims=1000", "language=fr"]), backfill=True)
                alerts.add_alert(conn, rx.url, alerts.parse_where(["organization=nobody at all"]), backfill=True)
            waits = []
            s = alerts.send(store, tries=2, base_delay=0.5, sleep=waits.append)
            assert s == {"queued": 1, "sent": 0, "failed": 1, "pending": 1} and waits == [0.5]
            row = store.conn.execute("SELECT attempts, last_error, next_attempt FROM alert_deliveries").fetchone()
            assert row[0] == 2 and "HTTP 503" in row[1] and row[2]
            s = alerts.send(store, tries=2, base_delay=0.5, sleep=waits.append)  # not due yet: backoff
            assert s["sent"] == 0 and len(rx.posts) == 2
            s = alerts.send(store, tries=3, base_delay=0.5, force=True, sleep=waits.append)
            assert s == {"queued": 0, "sent": 1, "failed": 0, "pending": 0}
            assert waits[1:] == [2.0, 4.0]  # exponential backoff
            assert len(rx.posts) == 5 and {p["id"] for p in rx.posts} == {"1"}
    finally:
        rx.close()
    # a receiver that is gone: a failed attempt recorded, no crash, the delivery kept
    with Store(db) as store:
        with store.transaction() as conn:
            alerts.add_alert(conn, rx.url, {}, backfill=True)
        s = alerts.send(store, tries=1, sleep=lambda _: None)
        assert s["queued"] == 1 and s["failed"] == 1 and s["pending"] == 1
        row = store.conn.execute("SELECT status, attempts, last_error FROM alert_deliveries WHERE alert_id=3").fetchone()
        assert row[0] == "pending" and row[1] == 1 and row[2]


def test_webhooks_pass_the_address_guard(tmp_path, monkeypatch):
    monkeypatch.delenv("INCIDENTS_ALLOW_PRIVATE", raising=False)
    db = tmp_path / "c.db"
    fill(db)
    with Store(db) as store:
        for url in ("http://127.0.0.1:9/x", "http://169.254.169.254/latest", "file:///etc/passwd",
                    "http://localhost/x", "ftp://example.org/x"):
            with pytest.raises(ExtractorError):
                with store.transaction() as conn:
                    alerts.add_alert(conn, url, {})
    r = _cli(["alert", "add", "--db", str(db), "--webhook", "http://10.0.0.1/x"],
             {k: v for k, v in os.environ.items() if k != "INCIDENTS_ALLOW_PRIVATE"})
    assert r.returncode != 0 and "refused address" in r.stderr and "Traceback" not in r.stderr
    r = _cli(["alert", "add", "--db", str(db), "--webhook", "https://example.org/x", "--where", "data_type=nope"],
             dict(os.environ))
    assert r.returncode != 0 and "unknown data type" in r.stderr
    r = _cli(["alert", "remove", "42", "--db", str(db)], dict(os.environ))
    assert r.returncode != 0 and "no alert 42" in r.stderr


def test_the_ingest_job_sends_the_alerts_of_what_it_stored(tmp_path, env):
    """`incidents ingest --docs` ends by sending the matching alerts: the receiver hears of the new incident."""
    receiver = Receiver()
    try:
        db = str(tmp_path / "job.db")
        empty = tmp_path / "none.jsonl"
        empty.write_text("", encoding="utf-8")
        assert _cli(["ingest", "--docs", str(empty), "--db", db], env).returncode == 0  # creates the store
        res = _cli(["alert", "add", "--db", db, "--webhook", receiver.url], env)
        assert res.returncode == 0, res.stderr
        docs = tmp_path / "docs.jsonl"
        docs.write_text(json.dumps({"id": "en-job-1", "text": EN_TEXT, "published": "2025-03-04"}) + "\n",
                        encoding="utf-8")
        res = _cli(["ingest", "--docs", str(docs), "--db", db], env)
        assert res.returncode == 0, res.stderr
        assert "alerts: 1 sent" in res.stderr, res.stderr
        assert len(receiver.posts) == 1 and receiver.posts[0]["body"]["kind"] == "new"
        res = _cli(["ingest", "--docs", str(docs), "--db", db], env)  # nothing new: nothing sent again
        assert res.returncode == 0 and len(receiver.posts) == 1, res.stderr
    finally:
        receiver.close()


def test_where_filters_are_checked_against_their_closed_sets():
    from extractor.errors import InputError
    from extractor.resources import LANGUAGES
    from extractor.web.alerts import parse_where

    got = parse_where(["authority=cai", f"language={LANGUAGES[0]}", "min_victims=1_000", "organization=Acme"])
    assert got == {"authority": "CAI", "language": LANGUAGES[0], "min_victims": 1000, "organization": "Acme"}
    for item, needle in (("language=xx", "unknown language (one of " + ", ".join(LANGUAGES)),
                         ("authority=NOPE", "unknown authority"), ("data_type=nope", "unknown data type"),
                         ("min_victims=many", "whole number"), ("colour=red", "expected KEY=VALUE")):
        with pytest.raises(InputError, match=re.escape(needle)):
            parse_where([item])
