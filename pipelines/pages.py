"""Item pages for the ingest job: robots.txt first, then the fetch, its statuses and the failure backoff (a mixin of Ingestor)."""

from __future__ import annotations

import hashlib
from typing import Optional

from extractor.errors import FetchError
from extractor.store import iso_in

from .feedlist import _lang, canonical_url
from .poll import _backoff, limit


def sha_id(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


class ItemPages:
    """Fetches an item's page into a document dict, or records why not on the item (needs store, fetcher,
    summary, robots: a RobotsPolicy or None, robots_off: feed ids whose list says ``robots = false``)."""

    robots = None
    robots_off: frozenset = frozenset()

    def _robots_allow(self, item) -> bool:
        """False (and the item marked) when robots.txt forbids the page or cannot be read now."""
        if self.robots is None or item["feed_id"] in self.robots_off:
            return True
        from extractor.robots import RobotsUnavailable

        try:
            verdict = self.robots.check(self.to_fetch_url(item["url"]))
        except RobotsUnavailable as err:
            self._item_failed(item, str(err))
            return False
        if not verdict.allowed:
            self._item_failed(item, verdict.reason, gone=True, disallowed=True)
            self.summary.items_disallowed += 1
        return verdict.allowed

    def _fetch_item(self, item) -> Optional[dict]:
        url = item["url"]
        if not self._robots_allow(item):
            return None
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
            "id": "doc-" + sha_id(item["canonical_url"] or url),
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
                     retry_after: Optional[float] = None, disallowed: bool = False) -> None:
        attempts = (item["attempts"] or 0) + 1
        if gone:
            status, next_retry = "gone", None
        elif attempts >= self.item_max_attempts:
            status, next_retry = "failed", None  # given up: shown by `incidents status`
        else:
            wait = _backoff(limit("item_backoff_base_s"), attempts, limit("item_backoff_cap_s"))
            if retry_after is not None:
                wait = max(wait, min(float(retry_after), limit("retry_after_cap_s")))
            status, next_retry = "failed", iso_in(wait)
        sql = "UPDATE items SET status = ?, attempts = ?, last_error = ?, next_retry = ? WHERE id = ?"
        args = (status, attempts, error[:500], next_retry, item["id"])
        if conn is not None:
            conn.execute(sql, args)
        else:
            with self.store.transaction() as c:
                c.execute(sql, args)
        if disallowed:  # not an error: the site asked for it
            self.log(f"incidents: skipped {item['url']}: {error}")
            return
        self.summary.items_failed += 1
        self.summary.errors += 1
        self._warn(f"item {item['url']}: {error}" + (f" (retry after {next_retry})" if next_retry else ""))
