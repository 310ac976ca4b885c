"""Scheduled feed ingestion: poll feeds, fetch new items' pages, extract, store everything in SQLite.

The feed list is read by pipelines/feedlist.py, feeds are polled by pipelines/poll.py, the scheduling helpers
are in pipelines/schedule.py; this module runs items and documents through extraction into the store.

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

import sys
import threading
from datetime import date
from pathlib import Path
from typing import Any, Callable, Iterable, Optional

from extractor.store import Store, iso

from .feedlist import TRACKING_PARAMS, TRACKING_PREFIXES, FeedConfig, _lang, canonical_url, load_feed_list  # noqa: F401
from .pages import ItemPages, sha_id
from .poll import FeedPolling, limit
from .summary import Summary  # noqa: F401  (imported from here by the CLI and tests)
from .schedule import (  # noqa: F401  (the job's helpers, used by the CLI)
    OnlyHost, check_store_writable, default_extractor_factory, open_fetcher, parse_duration, sleep_until,
)

PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_FEEDS = PACKAGE_DIR / "feeds.toml"
DEMO_DIR = PACKAGE_DIR / "demo"
DEMO_PLACEHOLDER = "DEMO_HOST"

# Backoff of failed feeds and items, attempts, Retry-After cap: the [ingest] section of extractor/settings.toml.


# --------------------------------------------------------------------------------------------------------------
# One run
# --------------------------------------------------------------------------------------------------------------
class Ingestor(FeedPolling, ItemPages):
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
        item_max_attempts: Optional[int] = None,
        robots: bool = True,
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
        self.item_max_attempts = item_max_attempts or limit("item_max_attempts")
        self.summary = Summary()
        if robots and fetcher is not None:  # robots.txt read through the same fetcher (guard, caps, delay)
            from extractor.robots import RobotsPolicy

            self.robots = RobotsPolicy(fetcher)

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
        from extractor.cli.progress import Progress  # a bar on a terminal only (progress=False: never)

        with Progress("feeds", total=len(feed_ids), unit="feed", quiet=not self.progress) as bar:
            for feed_id in feed_ids:
                if self.stop.is_set():
                    self.summary.stopped = True
                    break
                self.poll_feed(feed_id)
                bar.update()
        if not self.stop.is_set():
            self.process_pending()
        else:
            self.summary.stopped = True
        self.summary.new_incidents = max(0, self._count_incidents() - incidents_before)
        if not self.stop.is_set():
            self._send_alerts()
        return self.summary

    def _send_alerts(self) -> None:
        """Each new or revised incident that matches a saved alert goes to its webhook (one try per
        delivery here: a failure waits for its backoff and the next run). Never fails the ingest."""
        from extractor.web import alerts

        try:
            if self.store.conn.execute("SELECT 1 FROM alerts LIMIT 1").fetchone() is None:
                return
            result = alerts.send(self.store, tries=1)
        except Exception as err:  # noqa: BLE001 - an alert problem is reported, the ingest stands
            self._warn(f"alerts: not sent ({type(err).__name__}: {err})")
            return
        if result.get("sent") or result.get("failed"):
            self._warn(f"alerts: {result.get('sent', 0)} sent, {result.get('failed', 0)} failed, "
                       f"{result.get('pending', 0)} waiting for a retry")

    def _count_incidents(self) -> int:
        return self.store.conn.execute("SELECT COUNT(*) FROM incidents").fetchone()[0]

    # -- feeds ------------------------------------------------------------------------------------------------
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
                self.summary.errors += 1  # the reader's message names the line of the file ("line 3: ...")
                self._warn(str(getattr(doc, "message", doc)))
                continue
            doc = dict(doc)
            if not doc.get("id"):
                doc["id"] = "doc-" + sha_id(doc.get("url") or doc.get("text") or doc.get("html") or str(n))
            chunk.append((None, doc))
            if len(chunk) >= self.batch_size:
                flush()
        flush()
        self.summary.new_incidents = max(0, self._count_incidents() - incidents_before)
        if not self.stop.is_set():
            self._send_alerts()
        return self.summary


def ingest_docs_file(store: Store, path, *, extractor_factory: Optional[Callable[[], Any]] = None,
                     batch_size: int = 16, stop: Optional[threading.Event] = None,
                     log: Callable[[str], None] = lambda msg: print(msg, file=sys.stderr)) -> Summary:
    """Store, extract, embed and attach every document of a JSONL file (``incidents ingest --docs``)."""
    from extractor.sources import read_docs_jsonl

    ingestor = Ingestor(store, [], None, extractor_factory or default_extractor_factory, batch_size=batch_size,
                        stop=stop, log=log)
    return ingestor.ingest_documents(read_docs_jsonl(path))


def daily_prune(store: Store, log: Callable[[str], None] = lambda msg: None) -> Optional[dict]:
    """Once a UTC day, the retention of extractor/retention.py (old non-incident texts dropped); never fails a run."""
    from extractor.errors import StoreError
    from extractor.retention import prune_if_due

    try:
        result = prune_if_due(store)
    except StoreError as err:
        log(f"incidents: warning: retention not run ({err})")
        return None
    if result and result["documents"]:
        log(f"incidents: retention: the text of {result['documents']} documents that are no incident, fetched "
            f"before {result['cutoff']}, was dropped (URL, GUID and hash kept)")
    return result
