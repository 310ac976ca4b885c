"""Parse RSS/Atom/RDF (feedparser) and JSON Feed documents safely, from bytes.

Hostile feeds are expected (see docs/NETWORK.md):

* the bytes are decoded here (BOM, declared charset, UTF-8, Windows-1252; a wrong declared
  charset or invalid UTF-8 never raises) and handed to feedparser as clean UTF-8, wrapped in a
  stream (feedparser would otherwise open a "string" that looks like a path or a URL);
* DOCTYPE and ENTITY declarations are removed before parsing: no billion laughs, no quadratic
  blow-up, no external entity (XXE) ever read;
* the input is capped (``max_bytes``) and only the first ``max_entries`` items are handed to
  the parser, so a 10,000-item or 50 MB feed is handled in bounded time;
* a truncated or malformed feed yields the entries that could be read, with the reason in
  ``bozo_reason``.

Entries are plain dicts: ``guid, link, title, summary, summary_text, published (YYYY-MM-DD or
None), published_at (ISO 8601 UTC or None), language (primary subtag hint, e.g. "fr", or None)``.
"""

from __future__ import annotations

import calendar
import hashlib
import html
import io
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Optional
from urllib.parse import urljoin, urlsplit

import feedparser

from . import settings
from .decoding import sniff_decode
from .feed_input import _BAD_XML_CHARS, _cost_prefix, _fix_entities, _keep_first_items, _repair, _xml_error, strip_doctype

__all__ = ["ParsedFeed", "parse_feed", "strip_doctype", "MAX_ENTRIES", "MAX_FEED_BYTES"]

_LIMITS = settings.section("feeds")  # extractor/settings.toml, each limit explained there
MAX_ENTRIES = _LIMITS["max_entries"]
MAX_FEED_BYTES = _LIMITS["max_bytes"]
PARSE_BUDGET = _LIMITS["parse_budget"]
LOOSE_BUDGET = _LIMITS["loose_budget"]
_MAX_FIELD = _LIMITS["max_field_chars"]
_MAX_URL = _LIMITS["max_url_chars"]


@dataclass
class ParsedFeed:
    entries: list = field(default_factory=list)
    bozo_reason: Optional[str] = None  # why the feed was not well formed / was cut (None: clean)
    title: Optional[str] = None
    language: Optional[str] = None  # the feed's declared language (primary subtag), if any
    entries_dropped: int = 0  # items beyond max_entries, not parsed
    version: Optional[str] = None  # feedparser's format name ("rss20", "atom10", "json1"...)


# --------------------------------------------------------------------------- helpers

_XML_DECL = re.compile(r"^\s*<\?xml[^>]{0,300}?\?>")
_ENC_ATTR = re.compile(r"""encoding\s*=\s*["'][^"']*["']""")
_TAG = re.compile(r"<[^>]{0,2000}>")


def _clean(value: Any, limit: int = _MAX_FIELD) -> Optional[str]:
    if value is None:
        return None
    s = str(value).replace("\x00", "").strip()
    return s[:limit] if s else None


def _plain(fragment: Optional[str]) -> Optional[str]:
    if not fragment:
        return None
    text = html.unescape(_TAG.sub(" ", fragment))
    text = " ".join(text.split())
    return text or None


def _lang(value: Any) -> Optional[str]:
    if not value or not isinstance(value, str):
        return None
    primary = re.split(r"[-_\s]", value.strip().lower(), maxsplit=1)[0]
    return primary if re.fullmatch(r"[a-z]{2,3}", primary) else None


def _http_link(value: Any, base: str) -> Optional[str]:
    if not value or not isinstance(value, str):
        return None
    v = value.strip()
    if len(v) > _MAX_URL or any(ord(c) < 32 for c in v):
        return None
    try:
        absolute = urljoin(base, v) if base else v
        scheme = urlsplit(absolute).scheme.lower()
    except ValueError:
        return None
    return absolute if scheme in ("http", "https") else None


def _date(struct: Any) -> tuple[Optional[str], Optional[str]]:
    if not struct:
        return None, None
    try:
        dt = datetime.fromtimestamp(calendar.timegm(struct), timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError):
        return None, None
    if not (1990 <= dt.year <= 2100):
        return None, None
    return dt.date().isoformat(), dt.isoformat()


def _guid(*parts: Optional[str]) -> str:
    basis = "\x1f".join(p or "" for p in parts)
    return "sha1:" + hashlib.sha1(basis.encode("utf-8", "replace")).hexdigest()


# --------------------------------------------------------------------------- parsing


def parse_feed(content: bytes, url: str, *, content_type: Optional[str] = None,
               max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_FEED_BYTES) -> ParsedFeed:
    """Parse a feed from bytes. Never raises for bad input: a document that is not a feed
    gives no entries and a ``bozo_reason``. ``content_type`` (the HTTP header, optional) gives
    the declared charset and tells JSON Feed apart."""
    reasons: list[str] = []
    data = bytes(content or b"")
    if not data.strip():
        return ParsedFeed(bozo_reason="empty document")
    if len(data) > max_bytes:
        data = data[:max_bytes]
        reasons.append(f"feed truncated at {max_bytes} bytes")
    declared = None
    mime = None
    if content_type:
        mime = content_type.split(";")[0].strip().lower()
        m = re.search(r"charset\s*=\s*[\"']?([A-Za-z0-9._:-]{1,40})", content_type, re.I)
        declared = m.group(1) if m else None
    text, used = sniff_decode(data, declared)
    if "\ufffd" in text:
        reasons.append(f"invalid bytes for {used} replaced")
    text = text.replace("\x00", "")

    stripped = text.lstrip()
    if (mime in ("application/feed+json", "application/json") or stripped.startswith("{")) and not stripped.startswith("<"):
        return _parse_json_feed(stripped, url, max_entries, reasons)

    text, removed = strip_doctype(text)
    if removed:
        reasons.append(f"removed {removed} DOCTYPE/ENTITY declaration(s)")
    text, _seen, dropped, cut = _keep_first_items(_BAD_XML_CHARS.sub("", text), max_entries, PARSE_BUDGET)
    text = _fix_entities(text)
    if cut:
        reasons.append("document cut at the parse budget")
    if dropped:
        reasons.append(f"kept the first {_seen - dropped} entries, {dropped} dropped "
                       f"(limits: {max_entries} entries and a parse budget)")
    # hand feedparser clean UTF-8 that says so
    decl = _XML_DECL.match(text)
    if decl:
        fixed = _ENC_ATTR.sub('encoding="utf-8"', decl.group(0))
        text = fixed + text[decl.end():]
    data = text.encode("utf-8")
    problem = _xml_error(data)
    if problem is not None:
        offset, message = problem
        reasons.append(f"not well formed ({message}) at byte {offset}")
        if len(data) > LOOSE_BUDGET:
            repaired = _repair(data, offset)
            if repaired is not None:
                data, kept = repaired
                reasons.append(f"kept the {kept} entries before the error")
            else:  # feedparser's loose parser copes with anything, slowly: give it a bounded part
                text2, seen2, dropped2, _cut = _keep_first_items(data.decode("utf-8", "replace"), max_entries, LOOSE_BUDGET)
                data = text2[: _cost_prefix(text2, LOOSE_BUDGET)].encode("utf-8")
                if dropped2:
                    dropped += dropped2
                    reasons.append(f"kept the first {seen2 - dropped2} entries for lenient parsing")
    headers = {"content-type": "application/xml; charset=utf-8"}
    if url:
        headers["content-location"] = url
    try:
        parsed = feedparser.parse(io.BytesIO(data), response_headers=headers,
                                  sanitize_html=False, resolve_relative_uris=False)
    except RecursionError:
        return ParsedFeed(bozo_reason="; ".join(reasons + ["document nested too deeply"]))
    except Exception as err:  # feedparser's own bugs on hostile input must not escape as a traceback
        return ParsedFeed(bozo_reason="; ".join(reasons + [f"cannot parse feed: {type(err).__name__}"]))
    if parsed.get("bozo") and problem is None:
        exc = parsed.get("bozo_exception")
        msg = " ".join(str(exc).split())[:300] if exc is not None else "not well formed"
        if "document declared as" not in msg:  # our own re-encoding, not the feed's fault
            reasons.append(msg)
    feed = parsed.get("feed") or {}
    feed_lang = _lang(feed.get("language"))
    base = url or ""
    entries = []
    for e in list(parsed.get("entries") or [])[:max_entries]:
        entries.append(_entry_from_feedparser(e, feed_lang, base))
    if not entries and not parsed.get("version") and not feed.get("title"):
        reasons.append("not a feed")
    return ParsedFeed(
        entries=entries,
        bozo_reason="; ".join(reasons) or None,
        title=_clean(feed.get("title"), 1000),
        language=feed_lang,
        entries_dropped=dropped,
        version=parsed.get("version") or None,
    )


def _entry_from_feedparser(e: Any, feed_lang: Optional[str], base: str) -> dict:
    title = _clean(e.get("title"), 2000)
    summary = _clean(e.get("summary"))
    if summary is None:
        contents = e.get("content") or []
        if contents and isinstance(contents, list):
            summary = _clean(contents[0].get("value"))
    link = _http_link(e.get("link"), base)
    published, published_at = _date(e.get("published_parsed") or e.get("updated_parsed"))
    lang = (_lang(e.get("language")) or _lang((e.get("summary_detail") or {}).get("language"))
            or _lang((e.get("title_detail") or {}).get("language")) or feed_lang)
    guid = _clean(e.get("id"), _MAX_URL) or link or _guid(title, summary, published_at)
    return _entry(guid, link, title, summary, published, published_at, lang)


def _entry(guid, link, title, summary, published, published_at, language) -> dict:
    """One entry as the ingest job reads it, whatever the feed's format."""
    return {"guid": guid, "link": link, "title": title, "summary": summary, "summary_text": _plain(summary),
            "published": published, "published_at": published_at, "language": language}


def _parse_json_feed(text: str, url: str, max_entries: int, reasons: list) -> ParsedFeed:
    try:
        doc = json.loads(text)
    except RecursionError:
        return ParsedFeed(bozo_reason="; ".join(reasons + ["JSON nested too deeply"]))
    except ValueError as err:
        return ParsedFeed(bozo_reason="; ".join(reasons + [f"invalid JSON: {' '.join(str(err).split())[:200]}"]))
    if not isinstance(doc, dict) or not isinstance(doc.get("items"), list):
        return ParsedFeed(bozo_reason="; ".join(reasons + ["not a JSON Feed (no items list)"]))
    feed_lang = _lang(doc.get("language"))
    items = doc["items"]
    dropped = max(0, len(items) - max_entries)
    if dropped:
        reasons.append(f"kept the first {max_entries} entries, {dropped} dropped")
    base = url or ""
    entries = []
    for it in items[:max_entries]:
        if not isinstance(it, dict):
            continue
        title = _clean(it.get("title") if isinstance(it.get("title"), str) else None, 2000)
        summary = next((_clean(it.get(k)) for k in ("summary", "content_html", "content_text")
                        if isinstance(it.get(k), str) and it.get(k).strip()), None)
        link = _http_link(it.get("url") or it.get("external_url"), base)
        published = published_at = None
        raw_date = it.get("date_published") or it.get("date_modified")
        if isinstance(raw_date, str):
            try:
                dt = datetime.fromisoformat(raw_date.strip().replace("Z", "+00:00"))
                dt = dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)
                dt = dt.astimezone(timezone.utc)
                if 1990 <= dt.year <= 2100:
                    published, published_at = dt.date().isoformat(), dt.isoformat()
            except (ValueError, OverflowError):
                pass
        raw_id = it.get("id")
        guid = _clean(raw_id, _MAX_URL) if isinstance(raw_id, (str, int)) and not isinstance(raw_id, bool) else None
        entries.append(_entry(guid or link or _guid(title, summary, published_at), link, title, summary,
                              published, published_at, _lang(it.get("language")) or feed_lang))
    title = doc.get("title") if isinstance(doc.get("title"), str) else None
    return ParsedFeed(entries=entries, bozo_reason="; ".join(reasons) or None, title=_clean(title, 1000),
                      language=feed_lang, entries_dropped=dropped, version="json1")
