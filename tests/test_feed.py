"""`incidents feed`: Atom read back by feedparser; ids stable across runs; an update changes `updated`, not the id."""

from __future__ import annotations

import subprocess
import sys
import time

import feedparser

from extractor import merge
from extractor.store import Store
from test_views import EN_TEXT, en_record, fill

CLI = [sys.executable, "-c", "from extractor.cli import main; main()"]


def _feed(db, out, lang="en"):
    r = subprocess.run(CLI + ["feed", "--db", str(db), "--output", str(out), "--lang", lang],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    parsed = feedparser.parse(out.read_bytes())
    assert not parsed.bozo, parsed.bozo_exception
    return parsed


def test_feed_validates_ids_are_stable_and_updates_change_updated(tmp_path):
    db = tmp_path / "f.db"
    fill(db)
    first = _feed(db, tmp_path / "a.atom")
    assert len(first.entries) == 1
    entry = first.entries[0]
    assert entry.id.startswith("tag:incidents-extractor,2025:inc-")
    assert "1,500" in entry.title or "1,200" in entry.title
    again = _feed(db, tmp_path / "b.atom")
    assert [e.id for e in again.entries] == [e.id for e in first.entries]
    assert again.entries[0].updated == entry.updated
    fr = _feed(db, tmp_path / "fr.atom", "fr")
    assert fr.entries[0].id == entry.id and "Données" in fr.entries[0].summary
    time.sleep(1.1)  # updated_at has a resolution of one second
    with Store(db) as store:  # a revised count: a later report of the same incident
        with store.transaction() as conn:
            merge.add_report(conn, en_record(sid="en-belair-2", count=9000, published="2025-03-20"),
                             EN_TEXT.replace("about 1,500", "about 9,000"))
    revised = _feed(db, tmp_path / "c.atom")
    assert [e.id for e in revised.entries] == [entry.id]
    assert revised.entries[0].updated > entry.updated


def test_feed_on_a_missing_database_is_one_line(tmp_path):
    r = subprocess.run(CLI + ["feed", "--db", str(tmp_path / "none.db"), "--output", str(tmp_path / "x.atom")],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_web_texts_of_a_third_language_come_from_its_folder(tmp_path):
    """A language folder with a ui.json gives the feed its titles; one without is refused in one line."""
    import json
    import os

    from extractor.resources import folder

    de = tmp_path / "res" / "de"
    de.mkdir(parents=True)
    (de / "language.json").write_text((folder("en") / "language.json").read_text(encoding="utf-8"), encoding="utf-8")
    db = tmp_path / "f.db"
    fill(db)
    env = {**os.environ, "INCIDENTS_RESOURCES": str(tmp_path / "res")}
    args = CLI + ["feed", "--db", str(db), "--output", str(tmp_path / "de.atom"), "--lang", "de"]
    r = subprocess.run(args, capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode != 0 and r.stderr.strip().splitlines() == [r.stderr.strip()]
    assert "--lang must be one of en, fr, not 'de'" in r.stderr and "Traceback" not in r.stderr
    ui = json.loads((folder("en") / "ui.json").read_text(encoding="utf-8"))
    ui["feed"]["title"] = "Datenschutzvorfälle"
    (de / "ui.json").write_text(json.dumps(ui), encoding="utf-8")
    r = subprocess.run(args, capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 0, r.stderr
    assert feedparser.parse((tmp_path / "de.atom").read_bytes()).feed.title == "Datenschutzvorfälle"


def test_one_utc_timestamp_form_for_the_feed_and_the_alerts():
    from extractor.web import alerts, feed, stamps

    assert stamps.utc("2025-03-01T10:00:00+02:00") == "2025-03-01T08:00:00Z"
    assert stamps.utc("2025-03-01 08:00:00") == stamps.utc("2025-03-01T08:00:00Z") == "2025-03-01T08:00:00Z"
    assert stamps.utc("") is None and stamps.utc("soon") is None
    assert feed._rfc3339("soon") == feed._rfc3339(None) == "1970-01-01T00:00:00Z"
    assert alerts._norm("soon") == "soon" and alerts._norm(None) == ""
