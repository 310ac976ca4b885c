"""Validates the project's annotated corpora (corpora/*.jsonl) and the offline demo content (pipelines/demo/)."""

from __future__ import annotations

import datetime as dt
import json
import re
import tomllib
from collections import defaultdict
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import feedparser
import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPORA = ROOT / "corpora"
DEMO = ROOT / "pipelines" / "demo"

# Taxonomy of the gold format (shared README).
DATA_TYPES = {
    "name", "date_of_birth", "address", "email", "phone", "sin", "health_insurance_number",
    "drivers_license", "passport", "birth_certificate_number", "other_government_id", "bank_account",
    "payment_card", "financial_other", "medical", "employment_hr", "education", "credentials",
    "biometric_photo", "gender", "account_metadata", "unspecified_personal_information",
}
AGENCIES = {
    "SQ", "CAI", "OPC", "CGCD", "CCCS", "RCMP", "SPVM", "SPVQ", "OPP", "IPC_ON", "OIPC_BC", "OIPC_AB",
    "AMF", "POLICE_OTHER", "REGULATOR_OTHER",
}
AGENCY_ROLES = {"notified", "investigating", "both"}
QUALIFIERS = {"exact", "approx", "at_least", "up_to"}
SOURCE_KINDS = {"news", "press_release", "regulator", "other"}
TOP_KEYS = {"id", "url", "language", "source_kind", "publication_date", "text", "gold"}
GOLD_KEYS = {
    "is_incident", "organization", "organization_aliases", "victim_count", "victim_count_qualifier",
    "data_types", "incident_date", "discovery_date", "agencies", "agency_roles", "incident_key", "notes",
}
LANGUAGES = ("fr", "en")


def _iso_day(value: str) -> dt.date:
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", value), f"not an ISO day: {value!r}"
    return dt.date.fromisoformat(value)


def _load(lang: str) -> list[dict]:
    path = CORPORA / f"{lang}.jsonl"
    docs = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        assert line.strip(), f"{path.name}:{n}: blank line"
        docs.append(json.loads(line))
    return docs


ALL_DOCS = [(lang, d) for lang in LANGUAGES for d in _load(lang)]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_corpus_size_and_unique_ids(lang):
    docs = _load(lang)
    assert len(docs) >= 14
    ids = [d["id"] for d in docs]
    assert len(set(ids)) == len(ids)
    assert all(i.startswith(f"corp-{lang}-") for i in ids)
    negatives = [d for d in docs if not d["gold"]["is_incident"]]
    assert len(negatives) >= 4


@pytest.mark.parametrize("lang,doc", ALL_DOCS, ids=[d["id"] for _, d in ALL_DOCS])
def test_document_matches_gold_format(lang, doc):
    assert set(doc) == TOP_KEYS
    assert doc["language"] == lang
    assert doc["source_kind"] in SOURCE_KINDS
    assert doc["url"] is None or doc["url"].startswith("https://example.org/")
    pub = doc["publication_date"]
    pub_day = None
    if pub is not None:
        assert re.fullmatch(r"\d{4}-\d{2}(-\d{2})?", pub), pub
        if len(pub) == 10:
            pub_day = _iso_day(pub)
        else:
            dt.date.fromisoformat(pub + "-01")
    assert isinstance(doc["text"], str)
    assert 150 <= len(doc["text"].split()) <= 450

    g = doc["gold"]
    assert set(g) == GOLD_KEYS
    assert isinstance(g["is_incident"], bool)
    assert isinstance(g["notes"], str)
    assert isinstance(g["organization_aliases"], list)
    assert set(g["data_types"]) <= DATA_TYPES and len(set(g["data_types"])) == len(g["data_types"])
    assert set(g["agencies"]) <= AGENCIES and len(set(g["agencies"])) == len(g["agencies"])
    assert set(g["agency_roles"]) == set(g["agencies"])
    assert set(g["agency_roles"].values()) <= AGENCY_ROLES
    for field in ("incident_date", "discovery_date"):
        if g[field] is not None:
            day = _iso_day(g[field])
            if pub_day is not None:
                assert day <= pub_day, f"{field} after publication"

    if g["is_incident"]:
        assert isinstance(g["organization"], str) and g["organization"]
        assert isinstance(g["incident_key"], str) and g["incident_key"]
        count, qualifier = g["victim_count"], g["victim_count_qualifier"]
        if count is None:
            assert qualifier is None
        else:
            assert isinstance(count, int) and not isinstance(count, bool) and count > 0
            assert qualifier in QUALIFIERS
        assert g["data_types"], "an incident names at least one data type"
    else:
        assert g["organization"] is None and g["organization_aliases"] == []
        assert g["victim_count"] is None and g["victim_count_qualifier"] is None
        assert g["data_types"] == [] and g["agencies"] == [] and g["agency_roles"] == {}
        assert g["incident_date"] is None and g["discovery_date"] is None
        assert g["incident_key"] is None


def test_incident_keys_pair_french_and_english_reports():
    langs_by_key = defaultdict(set)
    for lang, d in ALL_DOCS:
        if d["gold"]["is_incident"]:
            langs_by_key[d["gold"]["incident_key"]].add(lang)
    pairs = sorted(k for k, langs in langs_by_key.items() if langs == {"fr", "en"})
    assert len(pairs) >= 2, pairs
    # a key used by one document only is that document's own id
    for lang, d in ALL_DOCS:
        key = d["gold"]["incident_key"]
        if key is not None and key not in pairs:
            assert key == d["id"]


def test_some_counts_use_french_thousands_separators():
    text = "\n".join(d["text"] for _, d in ALL_DOCS if d["language"] == "fr")
    assert re.search(r"\d \d{3}", text)
    assert re.search("\\d\u00a0\\d{3}", text)
    assert re.search("\\d\u202f\\d{3}", text)


# ---------------- offline demo ----------------

ARTICLES = DEMO / "articles"
FEEDS = DEMO / "feeds"


class _PageMeta(HTMLParser):
    def __init__(self):
        super().__init__()
        self.lang = None
        self.title = ""
        self.in_title = False
        self.meta = {}
        self.jsonld = []
        self.in_jsonld = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "html":
            self.lang = a.get("lang")
        elif tag == "title":
            self.in_title = True
        elif tag == "meta" and a.get("property"):
            self.meta[a["property"]] = a.get("content")
        elif tag == "script" and a.get("type") == "application/ld+json":
            self.in_jsonld = True

    def handle_endtag(self, tag):
        if tag == "title":
            self.in_title = False
        elif tag == "script":
            self.in_jsonld = False

    def handle_data(self, data):
        if self.in_title:
            self.title += data
        if self.in_jsonld:
            self.jsonld.append(json.loads(data))


def _page(path: Path) -> _PageMeta:
    p = _PageMeta()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def _article_name(link: str) -> str:
    parts = urlsplit(link)
    assert parts.scheme == "http" and parts.netloc == "DEMO_HOST", link
    assert parts.path.startswith("/articles/") and parts.path.endswith(".html"), link
    return parts.path.removeprefix("/articles/")


def test_demo_feed_list_points_to_existing_feeds():
    feeds = tomllib.loads((DEMO / "feeds.toml").read_text(encoding="utf-8"))["feed"]
    assert {f["url"].rsplit("/", 1)[1] for f in feeds} == {p.name for p in FEEDS.iterdir()}
    for f in feeds:
        assert f["name"] and f["language"] in LANGUAGES
        assert f["url"].startswith("http://DEMO_HOST/feeds/")


@pytest.mark.parametrize("name,kind,lang,n", [
    ("lapresse-like-fr.rss", "rss20", "fr", 4),
    ("cbc-like-en.atom", "atom10", "en", 3),
    ("cnw-like-fr.rss", "rss20", "fr", 2),
])
def test_demo_feed_parses_and_links_to_existing_articles(name, kind, lang, n):
    parsed = feedparser.parse((FEEDS / name).read_bytes())
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == kind
    assert parsed.feed.get("language", "").lower().startswith(lang)
    assert len(parsed.entries) == n
    for e in parsed.entries:
        assert e.get("id") and e.get("title") and (e.get("summary") or e.get("description"))
        assert e.get("published_parsed") or e.get("updated_parsed")
        assert (ARTICLES / _article_name(e.link)).is_file(), e.link


def test_demo_has_a_tracking_link_and_every_article_is_linked():
    links = [e.link for p in FEEDS.iterdir() for e in feedparser.parse(p.read_bytes()).entries]
    assert any("utm_source=rss" in link and "utm_medium=feed" in link for link in links)
    assert {_article_name(link) for link in links} == {p.name for p in ARTICLES.glob("*.html")}


def test_demo_expected_gold_covers_articles():
    expected = json.loads((DEMO / "expected.json").read_text(encoding="utf-8"))["articles"]
    assert set(expected) == {p.name for p in ARTICLES.glob("*.html")}
    incidents = [k for k, v in expected.items() if v["is_incident"]]
    assert len(incidents) == 4
    for name, exp in expected.items():
        page = _page(ARTICLES / name)
        assert page.lang and page.lang.split("-")[0] == exp["language"]
        assert page.title.strip() and page.meta.get("og:site_name")
        published = page.meta.get("article:published_time") or next(
            (j.get("datePublished") for j in page.jsonld if "datePublished" in j), None)
        assert published and published[:10] == exp["published"]
        if exp["is_incident"]:
            assert set(exp["data_types"]) <= DATA_TYPES
            assert set(exp["agencies"]) <= AGENCIES
            assert isinstance(exp["victim_count"], int)
            assert exp["organization"] in (ARTICLES / name).read_text(encoding="utf-8").replace("&#x27;", "'")
