"""Main text and metadata of a page (trafilatura for the text, BeautifulSoup for metadata),
and CNW-style datelines (``QUÉBEC, le 7 août 2024 /CNW/ -``) in any text.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Optional
from urllib.parse import urlparse

from .cue_index import Screen, screen_text
from .document import parse_published
from .resources import LANGUAGES, cues, language_info, shared

MAX_HTML_BYTES = 5_000_000


@lru_cache(maxsize=1)
def _dateline_rules() -> tuple[re.Pattern, dict[str, int]]:
    """The dateline regex and month table, built from every language folder's months
    (``cues.json`` dates.months) and dateline words (``language.json``), and the shared wire tags."""
    months: dict[str, int] = {}
    before, suffixes = set(), set()
    for lang in LANGUAGES:
        months.update({k.lower(): v for k, v in cues(lang)["dates"]["months"].items()})
        dl = language_info(lang).get("dateline", {})
        before.update(dl.get("before_date", []))
        suffixes.update(dl.get("day_suffixes", []))
    alt = lambda words: "|".join(sorted(map(re.escape, words), key=len, reverse=True))
    m = alt(months)
    pre = rf"(?:(?:{alt(before)})\s+)?" if before else ""
    suf = rf"(?:{alt(suffixes)})?" if suffixes else ""
    tags = alt(shared("sources.json")["wire_tags"])
    rx = re.compile(
        rf"(?P<place>[A-ZÉÈÀÂÎÔÇ][A-ZÉÈÀÂÎÔÇa-zéèàâîôç .'’\-]{{1,40}}?(?:,\s*[A-Z][A-Za-z.]{{1,15}})?),\s*{pre}"
        rf"(?:(?P<d1>\d{{1,2}}){suf}\s+(?P<m1>{m})\.?\s+(?P<y1>\d{{4}})|(?P<m2>{m})\.?\s+(?P<d2>\d{{1,2}}){suf},?\s+(?P<y2>\d{{4}}))"
        rf"\s*/\s*(?:{tags})[^/]{{0,20}}/\s*[-–—]?\s*",
        re.IGNORECASE,
    )
    return rx, months


@dataclass
class Dateline:
    place: str
    published: date
    start: int
    end: int


@lru_cache(maxsize=1)
def _wire_screen():
    """Every dateline has a wire tag: the literal screen of the tags (most texts have none)."""
    return Screen(re.escape(tag) for tag in shared("sources.json")["wire_tags"])


def find_dateline(text: str) -> Optional[Dateline]:
    """A newswire dateline near the top of the text: place, date and where the body starts."""
    end = min(len(text), 1500)
    if not _wire_screen().may_match(screen_text(text[:end])):
        return None  # no wire tag in the first 1,500 characters: the regex cannot match
    rx, months = _dateline_rules()
    m = rx.search(text, 0, end)
    if not m:
        return None
    day, month, year = (m["d1"], m["m1"], m["y1"]) if m["m1"] else (m["d2"], m["m2"], m["y2"])
    try:
        published = date(int(year), months[month.lower().rstrip(".")], int(day))
    except (ValueError, KeyError):
        return None
    return Dateline(m["place"].strip(), published, m.start(), m.end())


def guess_kind(url: Optional[str], text: str, dateline: Optional[Dateline]) -> str:
    host = urlparse(url).hostname or "" if url else ""
    kinds = shared("sources.json")
    if dateline or any(host.endswith(h) for h in kinds["wire_hosts"]) or "/CNW/" in text[:2000]:
        return "press_release"
    if any(host.endswith(h) for h in kinds["regulator_hosts"]):
        return "regulator"
    return "news" if url or text else "other"


@dataclass
class Page:
    text: str
    title: Optional[str] = None
    publisher: Optional[str] = None
    published: Optional[date] = None
    published_precision: Optional[str] = None
    language: Optional[str] = None


def looks_like_html(s: str) -> bool:
    head = s[:2000].lstrip().lower()
    return head.startswith(("<!doctype html", "<html", "<?xml")) or bool(re.search(r"<(?:body|head|div|p|article)[\s>]", head))


def _meta(soup, *names) -> Optional[str]:
    for n in names:
        tag = soup.find("meta", attrs={"property": n}) or soup.find("meta", attrs={"name": n}) or soup.find("meta", attrs={"itemprop": n})
        if tag and tag.get("content"):
            return tag["content"].strip()
    return None


def _jsonld(soup) -> dict:
    out: dict = {}
    for tag in soup.find_all("script", attrs={"type": "application/ld+json"})[:10]:
        try:
            data = json.loads(tag.string or "")
        except (ValueError, TypeError, RecursionError):  # broken or deeply nested JSON-LD: ignored
            continue
        items = data if isinstance(data, list) else data.get("@graph", [data]) if isinstance(data, dict) else []
        for item in items:
            if not isinstance(item, dict):
                continue
            out.setdefault("datePublished", item.get("datePublished"))
            pub = item.get("publisher")
            if isinstance(pub, dict) and pub.get("name"):
                out.setdefault("publisher", pub["name"])
            if item.get("headline"):
                out.setdefault("headline", item["headline"])
    return {k: v for k, v in out.items() if v}


def _safe_date(value) -> tuple[Optional[date], Optional[str]]:
    try:
        return parse_published(value)
    except Exception:
        return None, None


def _fallback_text(soup) -> str:
    for tag in soup(["script", "style", "nav", "header", "footer", "aside", "noscript", "form"]):
        tag.decompose()
    body = soup.body or soup
    lines = [ln.strip() for ln in body.get_text("\n").splitlines()]
    return "\n".join(ln for ln in lines if ln)


def extract_page(html: str, url: Optional[str] = None) -> Page:
    """Main text (trafilatura) and metadata (BeautifulSoup) of an HTML page."""
    import trafilatura
    from bs4 import BeautifulSoup

    html = html[:MAX_HTML_BYTES]
    try:
        soup = BeautifulSoup(html, "lxml")
    except Exception:
        soup = BeautifulSoup("", "lxml")
    title = _meta(soup, "og:title", "twitter:title")
    if not title and soup.title and soup.title.string:
        title = soup.title.string.strip()
    lang = None
    if soup.html and soup.html.get("lang"):
        lang = soup.html["lang"].split("-")[0].lower()[:2] or None
    ld = _jsonld(soup)
    published, precision = _safe_date(
        _meta(soup, "article:published_time", "og:published_time", "datePublished", "date", "dc.date", "DC.date.issued", "pubdate")
        or ld.get("datePublished")
        or (soup.find("time").get("datetime") if soup.find("time") else None)
    )
    publisher = _meta(soup, "og:site_name", "application-name") or ld.get("publisher")
    try:
        text = trafilatura.extract(html, url=url, include_comments=False, include_tables=False, favor_recall=True, deduplicate=False)
    except (RecursionError, Exception):  # deeply nested or broken markup: fall back below
        text = None
    if not text or len(text) < 200:
        try:
            fallback = _fallback_text(soup)
        except RecursionError:
            fallback = re.sub(r"<[^>]{0,2000}>", " ", html)
        if len(fallback) > len(text or ""):
            text = fallback
    text = text or ""
    if title and not text.startswith(title[:40]):
        text = f"{title}\n\n{text}"
    return Page(text=text, title=title, publisher=publisher, published=published, published_precision=precision, language=lang)
