"""`incidents serve` in a real browser: Debian's chromium driven by Selenium through Debian's chromium-driver.

The store is filled through `incidents ingest --docs` from the demo pages and from a few ../shared/corpus
articles (read at test time, never copied) so that some incidents have several reports in both languages.
Screenshots go to the test's tmp dir. The README's picture (docs/screenshot-view.png) is a demo incident,
refreshed by hand with INCIDENTS_README_SCREENSHOT=docs/screenshot-view.png: the tests never write the tree.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import unicodedata
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
CHROMIUM, DRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
# pairs and triples of reports of one breach in French and English (ids of ../shared/corpus)
CORPUS_IDS = {"fr-air-canada-appli", "en-aircanada-app-itbusiness", "fr-bgrs-sirva-fonctionnaires",
              "en-bgrs-sirva-opc-announcement", "fr-desjardins-enquete-conjointe", "en-desjardins-4-2m-gazette",
              "fr-lifelabs-cipvp-2020", "en-lifelabs-15m-ctv", "en-lifelabs-nl-oipc-18000"}
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
         "--window-size=1400,1000"]


def _need():
    if not (CHROMIUM.exists() and DRIVER.exists()):
        pytest.skip("Debian's chromium and chromium-driver are not installed (apt-get install chromium chromium-driver)")
    pytest.importorskip("selenium")
    pytest.importorskip("datasette")
    if not CORPUS.exists():
        pytest.skip("../shared/corpus is not there")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    _need()
    tmp = tmp_path_factory.mktemp("serve")
    docs = tmp / "docs.jsonl"
    with docs.open("w", encoding="utf-8") as out:
        for name in ("train.jsonl", "dev.jsonl"):
            for line in (CORPUS / name).read_text(encoding="utf-8").splitlines():
                r = json.loads(line)
                if r["id"] in CORPUS_IDS:
                    out.write(json.dumps({"id": r["id"], "url": r["url"], "text": r["text"], "language": r["language"],
                                          "published": r["publication_date"],
                                          "title": r["text"].split("\n")[0][:150]}) + "\n")
        for page in sorted((ROOT / "pipelines" / "demo" / "articles").glob("*.html")):
            out.write(json.dumps({"id": "demo-" + page.stem, "url": f"https://demo.example/{page.name}",
                                  "html": page.read_text(encoding="utf-8")}) + "\n")
    db = tmp / "view.db"
    cli = [sys.executable, "-c", "from extractor.cli import main; main()"]
    r = subprocess.run(cli + ["ingest", "--docs", str(docs), "--db", str(db)], capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stderr
    port = _free_port()
    proc = subprocess.Popen(cli + ["serve", "--db", str(db), "--port", str(port), "--lang", "en"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            urllib.request.urlopen(base + "/-/versions.json", timeout=1)
            break
        except OSError:
            if proc.poll() is not None:
                pytest.fail(f"serve exited: {proc.stdout.read().decode()}")
            time.sleep(0.1)
    yield {"base": base, "db": db, "name": db.stem, "tmp": tmp}
    proc.terminate()
    proc.wait(20)


@pytest.fixture(scope="module")
def browser(served):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for flag in FLAGS + [f"--user-data-dir={served['tmp'] / 'chromium-profile'}"]:
        opts.add_argument(flag)
    drv = webdriver.Chrome(service=Service(executable_path=str(DRIVER)), options=opts)
    drv.set_page_load_timeout(60)
    yield drv
    drv.quit()


def _rows(drv) -> list:
    from selenium.webdriver.common.by import By

    return drv.find_elements(By.CSS_SELECTOR, "table.rows-and-columns tbody tr")


def _fold(s: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", s.lower()) if unicodedata.category(c) != "Mn")


def test_home_facet_search_incident_and_chart(served, browser):
    from selenium.webdriver.common.by import By

    base, name, tmp, drv = served["base"], served["name"], served["tmp"], browser
    conn = sqlite3.connect(served["db"])
    # home page
    drv.get(base + "/")
    assert "Privacy incidents" in drv.title
    assert drv.find_element(By.LINK_TEXT, "Charts")
    chart = drv.find_element(By.CSS_SELECTOR, 'img[src^="/-/chart/month.svg"]')
    assert drv.execute_script("return arguments[0].complete && arguments[0].naturalWidth", chart) > 0
    drv.save_screenshot(str(tmp / "home.png"))
    # facet: incidents the CAI was told of
    drv.get(f"{base}/{name}/v_incidents")
    total = len(_rows(drv))
    want = conn.execute("SELECT COUNT(*) FROM v_incident_agencies WHERE code='CAI'").fetchone()[0]
    assert total == conn.execute("SELECT COUNT(*) FROM incidents").fetchone()[0] and 0 < want < total
    facet = drv.find_element(By.CSS_SELECTOR, "#facet-agency_codes")
    facet.find_element(By.XPATH, ".//a[normalize-space(text())='CAI']").click()
    assert "agency_codes__arraycontains=CAI" in drv.current_url
    rows = _rows(drv)
    assert len(rows) == want and all("CAI" in r.text for r in rows)
    drv.save_screenshot(str(tmp / "facet.png"))
    # full-text search: a French word with and without its accent finds the same documents
    found = {}
    for word in ("québécois", "quebecois"):
        drv.get(f"{base}/{name}/documents")
        box = drv.find_element(By.CSS_SELECTOR, "input[name=_search]")
        box.send_keys(word)
        box.submit()
        assert "_search=" in drv.current_url
        found[word] = sorted(r.find_element(By.CSS_SELECTOR, "td").text for r in _rows(drv))
    assert found["québécois"] and found["québécois"] == found["quebecois"]
    drv.save_screenshot(str(tmp / "search.png"))
    # an incident with reports in both languages, from the incidents table
    iid = conn.execute("SELECT id FROM v_incidents WHERE report_count >= 3 AND languages = 'en, fr' "
                       "ORDER BY report_count DESC, id LIMIT 1").fetchone()[0]
    drv.get(f"{base}/{name}/v_incidents")
    drv.find_element(By.CSS_SELECTOR, f'a.incident-link[href="/-/incident/{iid}"]').click()
    assert drv.find_element(By.CSS_SELECTOR, "h1").get_attribute("data-incident-id") == iid
    cards = drv.find_elements(By.CSS_SELECTOR, "article.report")
    assert len(cards) >= 3 and {c.get_attribute("lang") for c in cards} == {"fr", "en"}
    checked = 0
    for card in cards:
        rec = json.loads(conn.execute("SELECT record_json FROM reports WHERE id=?",
                                      (int(card.get_attribute("data-report-id")),)).fetchone()[0])
        for mark in card.find_elements(By.CSS_SELECTOR, "mark[data-field=victims], mark[data-field=data_type]"):
            field, code = mark.get_attribute("data-field"), mark.get_attribute("data-code")
            if field == "victims":
                evidence = rec["victims"]["evidence"]["text"]
            else:
                evidence = next(d["evidence"]["text"] for d in rec["data_types"] if d["code"] == code)
            assert mark.text == evidence.strip() or mark.text == " ".join(evidence.split())
            checked += 1
    assert checked >= 3
    best = drv.find_element(By.ID, "best-victims-evidence").text
    best_marks = [m.text for m in drv.find_elements(By.CSS_SELECTOR, "mark.best[data-field=victims]")]
    assert best in best_marks
    drv.save_screenshot(str(tmp / "incident.png"))
    # The README's picture shows a demo incident: texts written for this project, never a corpus article.
    demo = conn.execute("SELECT incident_id FROM v_reports WHERE source_id LIKE 'demo-%' AND incident_id IS NOT NULL "
                        "ORDER BY source_id LIMIT 1").fetchone()[0]
    drv.get(f"{base}/-/incident/{demo}")
    drv.set_window_size(1400, 1100)
    drv.save_screenshot(str(tmp / "demo-incident.png"))
    drv.set_window_size(1400, 1000)
    if os.environ.get("INCIDENTS_README_SCREENSHOT"):  # refresh docs/screenshot-view.png by hand, not in CI
        shutil.copyfile(tmp / "demo-incident.png", os.environ["INCIDENTS_README_SCREENSHOT"])
    # the charts are drawn: one bar per month, data type and authority, with a width
    drv.get(base + "/-/charts")
    for kind, sql in (("month", "SELECT COUNT(DISTINCT month) FROM v_incidents"),
                      ("data_type", "SELECT COUNT(DISTINCT code) FROM v_incident_data_types"),
                      ("authority", "SELECT COUNT(DISTINCT code) FROM v_incident_agencies")):
        bars = drv.find_elements(By.CSS_SELECTOR, f"svg.chart-{kind} rect")
        assert len(bars) == conn.execute(sql).fetchone()[0] > 0
        assert all(drv.execute_script("return arguments[0].getBBox().width", b) > 0 for b in bars)
    drv.save_screenshot(str(tmp / "charts.png"))
    # the feed is served too
    drv.get(base + "/-/feed.atom")
    body = urllib.request.urlopen(base + "/-/feed.atom").read()
    import feedparser

    parsed = feedparser.parse(body)
    assert not parsed.bozo and len(parsed.entries) == conn.execute("SELECT COUNT(*) FROM incidents").fetchone()[0]
    assert any(_fold("Air Canada") in _fold(e.title) for e in parsed.entries)


def test_serve_app_in_process_metadata_queries_and_errors(tmp_path):
    """Without a browser: the generated metadata, every canned query, our routes, and one-line errors."""
    pytest.importorskip("datasette")
    import asyncio

    from extractor.errors import ExtractorError
    from extractor.web.app import build_datasette, metadata
    from test_views import fill

    db = tmp_path / "inproc.db"
    fill(db)
    ds = build_datasette(db, "fr")

    async def run():
        home = await ds.client.get("/")
        assert home.status_code == 200 and "Incidents de confidentialité" in home.text and "Privacy" not in home.text.split("<h1")[0]
        for q in metadata("inproc", "fr")["databases"]["inproc"]["queries"]:
            r = await ds.client.get(f"/inproc/{q}.json?_shape=array&q=fictive")
            assert r.status_code == 200, (q, r.text[:300])
        rows = (await ds.client.get("/inproc/told_cai_or_opc.json?_shape=array")).json()
        assert len(rows) == 1 and rows[0]["id"].startswith("inc-")
        page = await ds.client.get(f"/-/incident/{rows[0]['id']}")
        assert page.status_code == 200 and "<mark" in page.text and 'lang="fr"' in page.text
        assert (await ds.client.get("/-/incident/inc-nope")).status_code == 404
        svg = await ds.client.get("/-/chart/authority.svg?lang=en")
        assert svg.headers["content-type"].startswith("image/svg+xml") and "Commission" in svg.text
        atom = await ds.client.get("/-/feed.atom")
        assert atom.status_code == 200 and "<entry>" in atom.text
        table = await ds.client.get("/inproc/v_incidents.json?_facet_array=agency_codes&_shape=objects")
        facets = table.json()["facet_results"]
        assert {v["value"] for v in facets["agency_codes"]["results"]} == {"CAI", "OPC"}

    asyncio.run(run())
    with pytest.raises(ExtractorError):
        build_datasette(tmp_path / "missing.db")
    with pytest.raises(ExtractorError):
        build_datasette(db, "de")
    r = subprocess.run([sys.executable, "-c", "from extractor.cli import main; main()", "serve", "--db",
                        str(tmp_path / "missing.db")], capture_output=True, text=True, timeout=60)
    assert r.returncode != 0 and len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


def test_serve_reads_a_live_store_read_only(tmp_path):
    pytest.importorskip("datasette")
    import asyncio

    from extractor.store import Store
    from extractor.web.app import build_datasette
    from test_views import fill

    db = tmp_path / "live.db"
    fill(db)
    ds = build_datasette(db, "en")  # no writer: immutable
    assert not ds.get_database("live").is_mutable
    assert asyncio.run(ds.client.get("/live/v_reports.json")).status_code == 200
    with Store(db) as writer:  # an open writer (a -wal file): read-only mode, commits show up
        assert db.with_name("live.db-wal").exists()
        ds = build_datasette(db, "en")
        assert ds.get_database("live").is_mutable  # datasette's word for "opened with mode=ro"
        r = asyncio.run(ds.client.get("/live/v_incidents.json?_shape=array"))
        assert r.status_code == 200 and len(r.json()) == 1
        with writer.transaction() as conn:
            conn.execute("DELETE FROM incident_keys")
        r = asyncio.run(ds.client.get("/live/incident_keys.json?_shape=array"))
        assert r.status_code == 200 and r.json() == []
