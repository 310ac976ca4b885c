"""Scheduled feed ingestion: poll feeds, fetch new items' pages, extract, store everything in SQLite.

One run (``Ingestor.run``):

1. the feed list (a TOML file of ``[[feed]]`` tables) is synchronised into the ``feeds`` table;
2. every due feed (not retired, ``next_poll_after`` passed) is fetched with a conditional GET
   (ETag / Last-Modified). 304 costs nothing; a 301/308 first hop updates the stored URL; 410 retires the
   feed; 429/503 store Retry-After in ``next_poll_after``; any other failure backs the feed off exponentially.
   New entries (unknown guid for that feed, unknown canonical URL anywhere) are inserted as items in the
   SAME transaction that stores the feed's new ETag, so a crash can never "consume" a feed without its items;
3. pending items (new, or failed and due for retry) are fetched in chunks of ``batch_size``, extracted with
   ``Extractor.extract_many`` and stored, one transaction per chunk: the document, its report, the merge into
   an incident and the item's ``done`` mark commit together. A failed page is recorded on its item (attempts,
   last_error, next_retry with exponential backoff) and retried by a later run.

Killing the process at any point loses nothing and duplicates nothing: the next run resumes from the items
still ``new``/``failed``.
"""

from __future__ import annotations

import hashlib
import re
import sys
import threading
import time
import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Callable, Iterable, Optional
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from extractor.errors import ExtractorError, FetchError, InputError, StoreError
from extractor.store import Store, iso, iso_in, utcnow

PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_FEEDS = PACKAGE_DIR / "feeds.toml"
DEMO_DIR = PACKAGE_DIR / "demo"
DEMO_PLACEHOLDER = "DEMO_HOST"

# Backoff: a feed that keeps failing waits FEED_BACKOFF_BASE * 2**(failures-1) (capped) before its next poll;
# a failed item waits ITEM_BACKOFF_BASE * 2**(attempts-1) (capped) and is given up after ITEM_MAX_ATTEMPTS.
FEED_BACKOFF_BASE = 10 * 60
FEED_BACKOFF_CAP = 24 * 3600
ITEM_BACKOFF_BASE = 15 * 60
ITEM_BACKOFF_CAP = 24 * 3600
ITEM_MAX_ATTEMPTS = 8
RETRY_AFTER_CAP = 7 * 24 * 3600

# Query parameters that only track the reader: removed from canonical URLs.
TRACKING_PARAMS = {
    "fbclid", "gclid", "gclsrc", "dclid", "msclkid", "yclid", "twclid", "ttclid", "igshid", "mc_cid", "mc_eid",
    "_ga", "_gl", "_hsenc", "_hsmi", "mkt_tok", "oly_anon_id", "oly_enc_id", "vero_id", "wickedid", "rb_clickid",
    "s_cid", "cmp", "cmpid", "ncid", "sr_share", "ito", "xtor", "at_medium", "at_campaign", "at_source",
    "at_creation", "at_variant", "at_format", "at_link", "spref", "ref_src", "ref_url", "__twitter_impression",
}
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_", "at_")


def canonical_url(url: str) -> str:
    """Scheme and host lower-cased, default port and fragment dropped, tracking parameters removed."""
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        host = f"{host}:{port}"
    if parts.username or parts.password:  # never keep credentials in a stored URL
        pass
    query = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in TRACKING_PARAMS and not k.lower().startswith(TRACKING_PREFIXES)
    ]
    path = parts.path or "/"
    return urlunsplit((scheme, host, path, urlencode(query, doseq=True), ""))


# --------------------------------------------------------------------------------------------------------------
# The feed list
# --------------------------------------------------------------------------------------------------------------
@dataclass
class FeedConfig:
    url: str
    name: Optional[str] = None
    language: Optional[str] = None


def load_feed_list(path: Path | str, substitute: Optional[dict[str, str]] = None) -> list[FeedConfig]:
    """Read ``[[feed]]`` tables (url, name, language) from a TOML file. Raises InputError."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"feed list {path} does not exist") from None
    except IsADirectoryError:
        raise InputError(f"feed list {path} is a directory") from None
    except UnicodeDecodeError:
        raise InputError(f"feed list {path} is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as err:
        raise InputError(f"feed list {path} is not valid TOML: {err}") from None
    except OSError as err:
        raise InputError(f"cannot read feed list {path}: {err.strerror}") from None
    entries = data.get("feed", data.get("feeds"))
    if not isinstance(entries, list) or not entries:
        raise InputError(f"feed list {path} has no [[feed]] tables (each with url = \"https://...\")")
    out: list[FeedConfig] = []
    seen: set[str] = set()
    for i, entry in enumerate(entries, 1):
        if not isinstance(entry, dict) or not isinstance(entry.get("url"), str) or not entry["url"].strip():
            raise InputError(f"feed list {path}: feed #{i} has no url")
        url = entry["url"].strip()
        for key, value in (substitute or {}).items():
            url = url.replace(key, value)
        if urlsplit(url).scheme not in ("http", "https"):
            raise InputError(f"feed list {path}: feed #{i} url {url!r} is not http(s)")
        if entry.get("enabled", True) is False or url in seen:
            continue
        seen.add(url)
        lang = entry.get("language")
        out.append(FeedConfig(url=url, name=entry.get("name"), language=_lang(lang)))
    return out


def _lang(value: Any) -> Optional[str]:
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip().lower().replace("_", "-").split("-")[0] or None


# --------------------------------------------------------------------------------------------------------------
# One run
# --------------------------------------------------------------------------------------------------------------
@dataclass
class Summary:
    feeds_polled: int = 0
    feeds_not_modified: int = 0
    feeds_failed: int = 0
    feeds_skipped: int = 0  # backed off, Retry-After, or retired
    new_items: int = 0
    documents: int = 0
    incident_reports: int = 0
    new_incidents: int = 0
    errors: int = 0  # failed feeds + failed items + merge errors
    items_failed: int = 0
    stopped: bool = False
    messages: list[str] = field(default_factory=list)

    def line(self) -> str:
        parts = [f"{self.feeds_polled} feeds polled"]
        detail = []
        if self.feeds_not_modified:
            detail.append(f"{self.feeds_not_modified} not modified")
        if self.feeds_failed:
            detail.append(f"{self.feeds_failed} failed")
        if self.feeds_skipped:
            detail.append(f"{self.feeds_skipped} skipped: backoff or retired")
        if detail:
            parts[0] += " (" + ", ".join(detail) + ")"
        parts.append(f"{self.new_items} new items")
        parts.append(f"{self.documents} documents stored")
        parts.append(f"{self.incident_reports} incidents found ({self.new_incidents} new)")
        parts.append(f"{self.errors} errors")
        return "ingest: " + ", ".join(parts) + (" (stopped early)" if self.stopped else "")

    def docs_line(self) -> str:
        """The summary of ``incidents ingest --docs`` (no feeds)."""
        return (f"ingest: {self.documents} documents stored, {self.incident_reports} incidents found "
                f"({self.new_incidents} new), {self.errors} errors" + (" (stopped early)" if self.stopped else ""))

    def as_dict(self) -> dict:
        d = {k: v for k, v in self.__dict__.items() if k != "messages"}
        return d


def _backoff(base: float, n: int, cap: float) -> float:
    return min(cap, base * (2 ** max(0, n - 1)))


def _sha_id(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


class Ingestor:
    """Polls feeds and processes items into one Store. ``stop`` (an Event) ends the run after the current item."""

    def __init__(
        self,
        store: Store,
        feeds: list[FeedConfig],
        fetcher: Any,
        extractor_factory: Callable[[], Any],
        *,
        batch_size: int = 16,
        force: bool = False,
        stop: Optional[threading.Event] = None,
        log: Callable[[str], None] = lambda msg: print(msg, file=sys.stderr),
        progress: bool = False,
        to_fetch_url: Callable[[str], str] = lambda u: u,
        from_fetch_url: Callable[[str], str] = lambda u: u,
        item_max_attempts: int = ITEM_MAX_ATTEMPTS,
    ):
        self.store = store
        self.feeds = feeds
        self.fetcher = fetcher
        self._extractor_factory = extractor_factory
        self._extractor = None
        self.batch_size = max(1, batch_size)
        self.force = force
        self.stop = stop or threading.Event()
        self.log = log
        self.progress = progress
        self.to_fetch_url = to_fetch_url
        self.from_fetch_url = from_fetch_url
        self.item_max_attempts = item_max_attempts
        self.summary = Summary()

    # -- helpers ----------------------------------------------------------------------------------------------
    def _warn(self, msg: str) -> None:
        self.summary.messages.append(msg)
        self.log(f"incidents: warning: {msg}")

    @property
    def extractor(self):
        if self._extractor is None:
            self._extractor = self._extractor_factory()
        return self._extractor

    # -- the run ----------------------------------------------------------------------------------------------
    def run(self) -> Summary:
        feed_ids = self.sync_feeds()
        incidents_before = self._count_incidents()
        for feed_id in feed_ids:
            if self.stop.is_set():
                self.summary.stopped = True
                break
            self.poll_feed(feed_id)
        if not self.stop.is_set():
            self.process_pending()
        else:
            self.summary.stopped = True
        self.summary.new_incidents = max(0, self._count_incidents() - incidents_before)
        return self.summary

    def _count_incidents(self) -> int:
        return self.store.conn.execute("SELECT COUNT(*) FROM incidents").fetchone()[0]

    # -- feeds ------------------------------------------------------------------------------------------------
    def _resolve_moved(self, conn, url: str) -> str:
        for _ in range(10):
            row = conn.execute("SELECT value FROM meta WHERE key = ?", ("moved:" + url,)).fetchone()
            if row is None:
                return url
            url = row[0]
        return url

    def sync_feeds(self) -> list[int]:
        """Insert the configured feeds that are new; refresh names/languages. Returns their ids in order."""
        ids: list[int] = []
        with self.store.transaction() as conn:
            for cfg in self.feeds:
                url = self._resolve_moved(conn, cfg.url)
                row = conn.execute("SELECT id, name, language FROM feeds WHERE url = ?", (url,)).fetchone()
                if row is None:
                    cur = conn.execute(
                        "INSERT INTO feeds (url, name, language) VALUES (?, ?, ?)", (url, cfg.name, cfg.language)
                    )
                    fid = cur.lastrowid
                else:
                    fid = row["id"]
                    if (cfg.name and cfg.name != row["name"]) or (cfg.language and cfg.language != row["language"]):
                        conn.execute(
                            "UPDATE feeds SET name = COALESCE(?, name), language = COALESCE(?, language) WHERE id = ?",
                            (cfg.name, cfg.language, fid),
                        )
                if fid not in ids:
                    ids.append(fid)
        return ids

    def poll_feed(self, feed_id: int) -> None:
        from extractor.feeds import parse_feed

        conn = self.store.conn
        feed = conn.execute("SELECT * FROM feeds WHERE id = ?", (feed_id,)).fetchone()
        now = utcnow()
        if feed["retired"]:
            self.summary.feeds_skipped += 1
            return
        if not self.force and feed["next_poll_after"] and feed["next_poll_after"] > iso(now):
            self.summary.feeds_skipped += 1
            return
        headers = {}
        if feed["etag"]:
            headers["If-None-Match"] = feed["etag"]
        if feed["last_modified"]:
            headers["If-Modified-Since"] = feed["last_modified"]
        self.summary.feeds_polled += 1
        label = feed["name"] or feed["url"]
        try:
            resp = self.fetcher.fetch(self.to_fetch_url(feed["url"]), headers=headers)
        except FetchError as err:
            self._feed_failed(feed, None, str(err))
            return
        status = resp.status

        new_url = None
        moved = getattr(resp, "permanent_redirect", None)
        if moved:
            target = moved if isinstance(moved, str) else resp.final_url
            target = self.from_fetch_url(target)
            if target and target != feed["url"]:
                new_url = target

        if status == 304:
            with self.store.transaction() as c:
                self._move_feed(c, feed, new_url)
                c.execute(
                    "UPDATE feeds SET last_polled = ?, last_status = 304, last_error = NULL, failures = 0, "
                    "next_poll_after = NULL WHERE id = ?", (iso(now), feed_id),
                )
            self.summary.feeds_not_modified += 1
            return
        if status == 410:
            with self.store.transaction() as c:
                c.execute(
                    "UPDATE feeds SET last_polled = ?, last_status = 410, last_error = ?, retired = 1, "
                    "next_poll_after = NULL WHERE id = ?", (iso(now), "HTTP 410 Gone: feed retired", feed_id),
                )
            self._warn(f"feed {label} answered 410 Gone: retired (remove it from the feed list)")
            self.summary.feeds_failed += 1
            self.summary.errors += 1
            return
        if status in (429, 503):
            from extractor.fetch import parse_retry_after

            wait = parse_retry_after(resp.headers.get("retry-after"))
            self._feed_failed(feed, status, f"HTTP {status}" + (f", Retry-After {int(wait)}s" if wait else ""),
                              retry_after=wait, new_url=new_url)
            return
        if status >= 300 or status < 200:
            self._feed_failed(feed, status, f"HTTP {status}", new_url=new_url)
            return

        try:
            parsed = parse_feed(resp.content, self.from_fetch_url(resp.final_url or resp.url),
                                content_type=resp.headers.get("content-type"))
        except ExtractorError as err:
            self._feed_failed(feed, status, f"unreadable feed: {err}", new_url=new_url)
            return
        except Exception as err:  # a parser bug must not stop the other feeds
            self._feed_failed(feed, status, f"unreadable feed: {type(err).__name__}: {err}", new_url=new_url)
            return
        entries = list(parsed.entries or [])
        note = None
        if parsed.bozo_reason:
            if not entries:
                self._feed_failed(feed, status, f"malformed feed, no entries: {parsed.bozo_reason}", new_url=new_url)
                return
            note = f"malformed feed ({parsed.bozo_reason}); {len(entries)} entries used"
            self._warn(f"feed {label}: {note}")
        base = resp.final_url or resp.url
        with self.store.transaction() as c:
            fid = feed_id
            self._move_feed(c, feed, new_url)
            added = self._insert_items(c, fid, entries, base)
            c.execute(
                "UPDATE feeds SET etag = ?, last_modified = ?, last_polled = ?, last_status = ?, last_error = ?, "
                "failures = 0, next_poll_after = NULL, language = COALESCE(language, ?), name = COALESCE(name, ?) "
                "WHERE id = ?",
                (resp.headers.get("etag"), resp.headers.get("last-modified"), iso(now), status, note,
                 _lang(parsed.language), parsed.title or None, fid),
            )
        self.summary.new_items += added

    def _move_feed(self, conn, feed, new_url: Optional[str]) -> None:
        if not new_url:
            return
        clash = conn.execute("SELECT id FROM feeds WHERE url = ?", (new_url,)).fetchone()
        conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            ("moved:" + feed["url"], new_url),
        )
        if clash is not None and clash["id"] != feed["id"]:
            conn.execute(
                "UPDATE feeds SET retired = 1, last_error = ? WHERE id = ?",
                (f"moved permanently to {new_url}, which is already listed", feed["id"]),
            )
        else:
            conn.execute("UPDATE feeds SET url = ? WHERE id = ?", (new_url, feed["id"]))
        self.log(f"incidents: feed moved permanently: {feed['url']} -> {new_url} (stored URL updated)")

    def _feed_failed(self, feed, status: Optional[int], error: str, retry_after: Optional[float] = None,
                     new_url: Optional[str] = None) -> None:
        failures = (feed["failures"] or 0) + 1
        wait = _backoff(FEED_BACKOFF_BASE, failures, FEED_BACKOFF_CAP)
        if retry_after is not None:
            wait = min(max(0.0, float(retry_after)), RETRY_AFTER_CAP)
        now = utcnow()
        with self.store.transaction() as c:
            self._move_feed(c, feed, new_url)
            c.execute(
                "UPDATE feeds SET last_polled = ?, last_status = ?, last_error = ?, failures = ?, next_poll_after = ? "
                "WHERE id = ?", (iso(now), status, error, failures, iso_in(wait, now), feed["id"]),
            )
        self.summary.feeds_failed += 1
        self.summary.errors += 1
        self._warn(f"feed {feed['name'] or feed['url']}: {error} (next poll after {iso_in(wait, now)})")

    def _insert_items(self, conn, feed_id: int, entries: Iterable[dict], base: str) -> int:
        added = 0
        now = iso()
        for entry in entries:
            link = (entry.get("link") or "").strip()
            if link:
                link = self.from_fetch_url(urljoin(self.to_fetch_url(base), link))
            guid = self.from_fetch_url((entry.get("guid") or "").strip()) or link
            if not guid or not link or urlsplit(link).scheme not in ("http", "https"):
                continue
            canon = canonical_url(link)
            seen = conn.execute(
                "SELECT 1 FROM items WHERE feed_id = ? AND guid = ? UNION ALL "
                "SELECT 1 FROM items WHERE canonical_url = ? LIMIT 1",
                (feed_id, guid, canon),
            ).fetchone()
            if seen:
                continue
            published = entry.get("published")
            published = str(published)[:10] if published else None
            conn.execute(
                "INSERT INTO items (feed_id, guid, url, canonical_url, title, published, first_seen, status) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, 'new')",
                (feed_id, guid, link, canon, (entry.get("title") or None), published, now),
            )
            added += 1
        return added

    # -- items ------------------------------------------------------------------------------------------------
    def pending_items(self) -> list:
        return self.store.conn.execute(
            "SELECT items.*, feeds.language AS feed_language FROM items LEFT JOIN feeds ON feeds.id = items.feed_id "
            "WHERE items.status = 'new' OR (items.status = 'failed' AND items.next_retry IS NOT NULL "
            "AND items.next_retry <= ?) ORDER BY items.id",
            (iso(),),
        ).fetchall()

    def process_pending(self) -> None:
        items = self.pending_items()
        if not items:
            return
        bar = None
        if self.progress:
            from tqdm import tqdm

            bar = tqdm(total=len(items), desc="items", unit="item", file=sys.stderr, leave=False)
        try:
            for start in range(0, len(items), self.batch_size):
                if self.stop.is_set():
                    self.summary.stopped = True
                    break
                chunk = items[start:start + self.batch_size]
                fetched = []
                for item in chunk:
                    if self.stop.is_set():
                        self.summary.stopped = True
                        break
                    doc = self._fetch_item(item)
                    if doc is not None:
                        fetched.append((item, doc))
                    if bar is not None:
                        bar.update(1)
                if fetched:
                    self._extract_and_store(fetched)
        finally:
            if bar is not None:
                bar.close()

    def _fetch_item(self, item) -> Optional[dict]:
        url = item["url"]
        try:
            resp = self.fetcher.fetch(self.to_fetch_url(url))
        except FetchError as err:
            msg = str(err)
            self._item_failed(item, msg, gone=msg.startswith("unsupported content type"))
            return None
        if resp.status >= 300:
            error = f"HTTP {resp.status}"
            retry_after = None
            if resp.status in (429, 503):
                from extractor.fetch import parse_retry_after

                retry_after = parse_retry_after(resp.headers.get("retry-after"))
                if retry_after is not None:
                    error += f", Retry-After {int(retry_after)}s"
            self._item_failed(item, error, gone=resp.status in (404, 410), retry_after=retry_after)
            return None
        ctype = (getattr(resp, "content_type", None) or "").lower()
        if ctype and not (ctype.startswith("text/") or "html" in ctype or "xml" in ctype):
            self._item_failed(item, f"not an HTML page ({ctype})", gone=True)
            return None
        try:
            body = resp.text()
        except Exception as err:  # undecodable body
            self._item_failed(item, f"cannot decode page: {err}")
            return None
        hint = _lang(item["feed_language"])
        doc = {
            "id": "doc-" + _sha_id(item["canonical_url"] or url),
            "url": self.from_fetch_url(resp.final_url or url),
            "title": item["title"],
            # the page's own date (or a CNW dateline) wins; the feed's pubDate fills in when the page has none
            "published": None,
            "published_hint": item["published"],
            "language": None,
            "language_hint": hint,
            "_html_sha256": hashlib.sha256(resp.content or b"").hexdigest(),
            "_canonical_url": canonical_url(self.from_fetch_url(resp.final_url or url)),
        }
        if ctype.startswith("text/plain"):
            doc["text"] = body
        else:
            doc["html"] = body
        return doc

    def _item_failed(self, item, error: str, gone: bool = False, conn=None,
                     retry_after: Optional[float] = None) -> None:
        attempts = (item["attempts"] or 0) + 1
        if gone:
            status, next_retry = "gone", None
        elif attempts >= self.item_max_attempts:
            status, next_retry = "failed", None  # given up: shown by `incidents status`
        else:
            wait = _backoff(ITEM_BACKOFF_BASE, attempts, ITEM_BACKOFF_CAP)
            if retry_after is not None:
                wait = max(wait, min(float(retry_after), RETRY_AFTER_CAP))
            status, next_retry = "failed", iso_in(wait)
        sql = "UPDATE items SET status = ?, attempts = ?, last_error = ?, next_retry = ? WHERE id = ?"
        args = (status, attempts, error[:500], next_retry, item["id"])
        if conn is not None:
            conn.execute(sql, args)
        else:
            with self.store.transaction() as c:
                c.execute(sql, args)
        self.summary.items_failed += 1
        self.summary.errors += 1
        self._warn(f"item {item['url']}: {error}" + (f" (retry after {next_retry})" if next_retry else ""))

    def _extract_and_store(self, fetched: list) -> None:
        """Extract a chunk of (item or None, document) and store each: one transaction for the chunk."""
        docs = [{k: v for k, v in doc.items() if not k.startswith("_")} for _, doc in fetched]
        try:
            records = list(self.extractor.extract_many(docs, batch_size=self.batch_size))
            if len(records) != len(docs):
                raise RuntimeError(f"extractor returned {len(records)} records for {len(docs)} documents")
        except (KeyboardInterrupt, SystemExit):
            raise
        except Exception as err:
            with self.store.transaction() as c:
                for item, doc in fetched:
                    if item is not None:
                        self._item_failed(item, f"extraction failed: {type(err).__name__}: {err}", conn=c)
                    else:
                        self._doc_failed(doc, f"extraction failed: {type(err).__name__}: {err}")
            return
        with self.store.transaction() as c:
            for (item, doc), record in zip(fetched, records):
                self._store_one(c, item, doc, record)

    def _doc_failed(self, doc: dict, error: str) -> None:
        self.summary.errors += 1
        self._warn(f"document {doc.get('id') or doc.get('url') or '?'}: {error}")

    def _store_one(self, c, item, doc: dict, record) -> None:
        """Store one extracted document and its report and attach it (the one path of every document)."""
        from extractor import merge

        if getattr(record, "error", None):
            if item is not None:
                self._item_failed(item, f"extraction failed: {record.error}", conn=c)
            else:
                self._doc_failed(doc, f"extraction failed: {record.error}")
            return
        text = getattr(record, "_text", None)
        if text is None:
            text = doc.get("text") or ""
        src = record.source
        hint = item["published"] if item is not None else None
        if src.published is None and hint:
            try:
                src.published, src.published_precision = date.fromisoformat(hint), "day"
            except ValueError:
                pass
        if item is not None:
            source_id = (src.id if src and src.id else None) or doc["id"]
            src.id = source_id
            if c.execute("SELECT 1 FROM documents WHERE source_id = ?", (source_id,)).fetchone():
                # the same page reached through another item: link, don't duplicate
                c.execute("UPDATE items SET status = 'done', last_error = NULL, next_retry = NULL WHERE id = ?",
                          (item["id"],))
                return
        report_id = merge.store_record(
            c, record, text, None, item_id=item["id"] if item is not None else None,
            url=doc.get("url") if item is not None else None, canonical_url=doc.get("_canonical_url"), html_sha256=doc.get("_html_sha256"),
            title=src.title or (item["title"] if item is not None else doc.get("title")))
        if item is not None:
            c.execute("UPDATE items SET status = 'done', last_error = NULL, next_retry = NULL WHERE id = ?",
                      (item["id"],))
        self.summary.documents += 1
        if not record.is_incident:
            merge.detach_report(c, report_id)
            return
        self.summary.incident_reports += 1
        c.execute("SAVEPOINT attach_report")
        try:
            merge.attach_report(c, report_id)
        except Exception as err:
            c.execute("ROLLBACK TO attach_report")
            self.summary.errors += 1
            where = item["url"] if item is not None else (doc.get("id") or doc.get("url"))
            self._warn(f"merge failed for report {report_id} ({where}): {type(err).__name__}: {err}")
        finally:
            c.execute("RELEASE attach_report")

    def ingest_documents(self, docs: Iterable) -> Summary:
        """``incidents ingest --docs``: documents (the ``extract --docs`` format) stored, extracted, embedded and
        attached exactly as feed items are, ``batch_size`` at a time. A line that is not a document is an error."""
        from extractor.document import BadInput

        incidents_before = self._count_incidents()
        chunk: list = []

        def flush():
            if chunk:
                self._extract_and_store(list(chunk))
                chunk.clear()

        for n, doc in enumerate(docs, 1):
            if self.stop.is_set():
                self.summary.stopped = True
                break
            if isinstance(doc, BadInput) or not isinstance(doc, dict):
                self._doc_failed({"id": f"line {n}"}, str(getattr(doc, "message", doc)))
                continue
            doc = dict(doc)
            if not doc.get("id"):
                doc["id"] = "doc-" + _sha_id(doc.get("url") or doc.get("text") or doc.get("html") or str(n))
            chunk.append((None, doc))
            if len(chunk) >= self.batch_size:
                flush()
        flush()
        self.summary.new_incidents = max(0, self._count_incidents() - incidents_before)
        return self.summary


# --------------------------------------------------------------------------------------------------------------
# Scheduling helpers
# --------------------------------------------------------------------------------------------------------------
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd]?)", re.I)


def parse_duration(text: str) -> float:
    """``30m``, ``1h``, ``90s``, ``2h30m``, ``1d`` (a bare number is minutes) -> seconds. Raises InputError."""
    s = (text or "").strip().lower().replace(" ", "")
    if not s or not re.fullmatch(r"(\d+(?:\.\d+)?[smhd]?)+", s):
        raise InputError(f"bad duration {text!r}: use e.g. 30m, 1h, 90s, 2h30m")
    total = 0.0
    for num, unit in _DURATION.findall(s):
        total += float(num) * {"s": 1, "m": 60, "h": 3600, "d": 86400, "": 60}[unit]
    if total < 10:
        raise InputError(f"duration {text!r} is too short: at least 10s between polls")
    return total


def open_fetcher(allow_private: bool = False, per_host_delay: Optional[float] = None,
                 timeout: Optional[float] = None):
    """A Fetcher with the project's settings (extractor.fetch: timeouts, size cap, redirects, User-Agent)."""
    from extractor.fetch import FetchSettings, Fetcher

    kwargs: dict = {"allow_private": allow_private}
    if per_host_delay is not None:
        kwargs["per_host_delay"] = per_host_delay
    if timeout is not None:
        kwargs["read_timeout"] = timeout
        kwargs["total_timeout"] = max(timeout, 1.0) * 3
    return Fetcher(FetchSettings(**kwargs))


class OnlyHost:
    """Wraps a Fetcher so that it fetches from one host:port only (the demo server, on a private address)."""

    def __init__(self, fetcher: Any, hostport: str):
        self.fetcher = fetcher
        self.hostport = hostport

    def _check(self, url: str) -> None:
        if urlsplit(url).netloc.lower() != self.hostport:
            raise FetchError(f"the demo fetches from {self.hostport} only, not {url[:200]}")

    def fetch(self, url: str, headers: Optional[dict] = None):
        self._check(url)
        return self.fetcher.fetch(url, headers=headers)

    def fetch_page(self, url: str):
        self._check(url)
        return self.fetcher.fetch_page(url)


def ingest_docs_file(store: Store, path, *, extractor_factory: Optional[Callable[[], Any]] = None,
                     batch_size: int = 16, stop: Optional[threading.Event] = None,
                     log: Callable[[str], None] = lambda msg: print(msg, file=sys.stderr)) -> Summary:
    """Store, extract, embed and attach every document of a JSONL file (``incidents ingest --docs``)."""
    from extractor.sources import read_docs_jsonl

    ingestor = Ingestor(store, [], None, extractor_factory or default_extractor_factory, batch_size=batch_size,
                        stop=stop, log=log)
    return ingestor.ingest_documents(read_docs_jsonl(path))


def default_extractor_factory():
    from extractor.pipeline import Extractor

    return Extractor()


def check_store_writable(path: Path) -> None:
    if path.exists() and not path.is_file():
        raise StoreError(f"{path} is not a regular file")


def sleep_until(deadline: float, stop: threading.Event) -> None:
    while not stop.is_set():
        left = deadline - time.monotonic()
        if left <= 0:
            return
        stop.wait(min(left, 1.0))
