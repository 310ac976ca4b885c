"""`incidents serve` in a real browser: Debian's chromium driven by Selenium through Debian's chromium-driver.

The store is filled through `incidents ingest --docs` from the demo pages and from a few ../shared/corpus
articles (read at test time, never copied) so that some incidents have several reports in both languages.
Screenshots go to the test's tmp dir; the incident page's also to docs/screenshot-view.png (the README's).
"""

from __future__ import annotations

import json
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
    drv.set_window_size(1400, 1500)
    drv.execute_script("document.querySelector('table.timeline').style.display='none'")  # the README's picture
    drv.save_screenshot(str(tmp / "incident.png"))
    drv.set_window_size(1400, 1000)
    shutil.copyfile(tmp / "incident.png", ROOT / "docs" / "screenshot-view.png")
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
