"""Feed polling for the ingest job: conditional GETs, redirects, retirement, backoff, new items (a mixin of Ingestor)."""

from __future__ import annotations

from typing import Iterable, Optional
from urllib.parse import urljoin, urlsplit

from extractor.errors import ExtractorError, FetchError
from extractor.store import iso, iso_in, utcnow

from .feedlist import _lang, canonical_url

def limit(key: str):
    """A limit of the ingest job, from the [ingest] section of extractor/settings.toml."""
    from extractor import settings

    return settings.get("ingest", key)


def _backoff(base: float, n: int, cap: float) -> float:
    return min(cap, base * (2 ** max(0, n - 1)))


# Job bookkeeping in ``meta`` (read by extractor/health.py for `incidents status`), per feed id.
LAST_SUCCESS = "feed_last_success:"    # the last poll answered 200 or 304
FAILING_SINCE = "feed_failing_since:"  # the first failure since then (gone at the next success)


def _mark(conn, feed_id: int, ok: bool, at: str) -> None:
    if ok:
        conn.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                     (f"{LAST_SUCCESS}{feed_id}", at))
        conn.execute("DELETE FROM meta WHERE key = ?", (f"{FAILING_SINCE}{feed_id}",))
    else:
        conn.execute("INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)", (f"{FAILING_SINCE}{feed_id}", at))


class FeedPolling:
    """Polls the configured feeds into the ``feeds`` and ``items`` tables (needs store, feeds, fetcher, summary)."""

    def _resolve_moved(self, conn, url: str) -> str:
        for _ in range(10):
            row = conn.execute("SELECT value FROM meta WHERE key = ?", ("moved:" + url,)).fetchone()
            if row is None:
                return url
            url = row[0]
        return url

    def sync_feeds(self) -> list[int]:
        """Insert the configured feeds that are new; refresh names/languages; note the feeds with ``robots = false``.
        Returns their ids in order."""
        ids: list[int] = []
        robots_off: set[int] = set()
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
                if not getattr(cfg, "robots", True):
                    robots_off.add(fid)
        self.robots_off = frozenset(robots_off)
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
                _mark(c, feed_id, True, iso(now))
            self.summary.feeds_not_modified += 1
            return
        if status == 410:
            with self.store.transaction() as c:
                c.execute(
                    "UPDATE feeds SET last_polled = ?, last_status = 410, last_error = ?, retired = 1, "
                    "next_poll_after = NULL WHERE id = ?", (iso(now), "HTTP 410 Gone: feed retired", feed_id),
                )
                _mark(c, feed_id, False, iso(now))
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
            _mark(c, fid, True, iso(now))
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
        wait = _backoff(limit("feed_backoff_base_s"), failures, limit("feed_backoff_cap_s"))
        if retry_after is not None:
            wait = min(max(0.0, float(retry_after)), limit("retry_after_cap_s"))
        now = utcnow()
        with self.store.transaction() as c:
            self._move_feed(c, feed, new_url)
            c.execute(
                "UPDATE feeds SET last_polled = ?, last_status = ?, last_error = ?, failures = ?, next_poll_after = ? "
                "WHERE id = ?", (iso(now), status, error, failures, iso_in(wait, now), feed["id"]),
            )
            _mark(c, feed["id"], False, iso(now))
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
