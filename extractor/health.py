"""The scheduled job's health, read from the store: what `incidents status` and `incidents feeds list` show.

``job_health(conn)`` gathers, in one read: each feed's last poll and last successful poll, since when it fails
and its last error; the items waiting for a retry and those given up; the store's size; when the last incident
was stored; and the ``problems``, each a line saying what needs a person:

* a feed failing for longer than ``[status] feed_failing_s`` (default a day);
* no feed polled successfully for longer than ``[status] poll_stale_s`` (the job is not running, or the
  network is down) while some feed is listed.

The per-feed success and failure times are the job's bookkeeping in ``meta`` (``feed_last_success:<id>``,
``feed_failing_since:<id>``, written by pipelines/poll.py).
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Optional

from . import settings
from .store import iso, utcnow

_FEEDS = (
    "SELECT f.id, f.url, f.name, f.language, f.last_polled, f.last_status, f.last_error, f.failures, "
    "f.next_poll_after, f.retired, "
    "(SELECT COUNT(*) FROM items i WHERE i.feed_id = f.id) AS items, "
    # a database from before this bookkeeping: a feed whose last poll succeeded counts that poll
    "COALESCE((SELECT value FROM meta WHERE key = 'feed_last_success:' || f.id), "
    "CASE WHEN f.failures = 0 AND f.last_status IN (200, 304) THEN f.last_polled END) AS last_success, "
    "(SELECT value FROM meta WHERE key = 'feed_failing_since:' || f.id) AS failing_since "
    "FROM feeds f ORDER BY f.retired, f.failures DESC, f.id"
)


def _parse(ts: Optional[str]) -> Optional[datetime]:
    if not ts:
        return None
    try:
        return datetime.fromisoformat(ts.replace("Z", "+00:00"))
    except ValueError:
        return None


def _age_s(ts: Optional[str], now: datetime) -> Optional[float]:
    when = _parse(ts)
    return None if when is None else max(0.0, (now - when).total_seconds())


def human_age(seconds: Optional[float]) -> str:
    """``45s``, ``12m``, ``5h``, ``3d`` (None: ``never``)."""
    if seconds is None:
        return "never"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"


def feed_rows(conn: sqlite3.Connection, now: Optional[datetime] = None) -> list[dict]:
    """Every stored feed with its health: last poll, last success, failing since, error, items (failing first)."""
    now = now or utcnow()
    limit_s = float(settings.get("status", "feed_failing_s"))
    rows = []
    for r in conn.execute(_FEEDS):
        row = dict(r)
        failing = _age_s(row["failing_since"], now)
        row["failing_for_s"] = failing
        row["failing_too_long"] = bool(not row["retired"] and failing is not None and failing > limit_s)
        rows.append(row)
    return rows


def job_health(conn: sqlite3.Connection, now: Optional[datetime] = None) -> dict:
    """The whole picture (see the module's docstring); ``problems`` is empty when no person is needed."""
    now = now or utcnow()
    one = lambda sql, *args: conn.execute(sql, args).fetchone()[0]  # noqa: E731
    feeds = feed_rows(conn, now)
    active = [f for f in feeds if not f["retired"]]
    last_success = max((f["last_success"] for f in feeds if f["last_success"]), default=None)
    last_incident = one("SELECT MAX(created_at) FROM incidents")
    page_size = one("PRAGMA page_size")
    health = {
        "now": iso(now),
        "feeds": feeds,
        "feeds_active": len(active),
        "feeds_failing_too_long": [f["url"] for f in feeds if f["failing_too_long"]],
        "last_success": last_success,
        "last_success_age_s": _age_s(last_success, now),
        "items_waiting_retry": one("SELECT COUNT(*) FROM items WHERE status = 'failed' AND next_retry IS NOT NULL"),
        "items_new": one("SELECT COUNT(*) FROM items WHERE status = 'new'"),
        "items_given_up": one("SELECT COUNT(*) FROM items WHERE status = 'failed' AND next_retry IS NULL"),
        "store_bytes": one("PRAGMA page_count") * page_size,
        "store_free_bytes": one("PRAGMA freelist_count") * page_size,
        "last_incident": last_incident,
        "last_incident_age_s": _age_s(last_incident, now),
    }
    problems = []
    for f in feeds:
        if f["failing_too_long"]:
            problems.append(f"feed {f['name'] or f['url']} has failed for {human_age(f['failing_for_s'])}: "
                            f"{f['last_error'] or 'HTTP ' + str(f['last_status'])}")
    stale_s = float(settings.get("status", "poll_stale_s"))
    if active:
        age = health["last_success_age_s"]
        if age is None:
            if any(f["last_polled"] for f in active):
                problems.append("no feed has ever been polled successfully")
            else:
                problems.append("no feed has been polled yet: is the ingest job running?")
        elif age > stale_s:
            problems.append(f"no feed polled successfully for {human_age(age)}: is the ingest job running?")
    health["problems"] = problems
    return health


def feed_rows_by_url(conn: sqlite3.Connection, urls: list[str], now: Optional[datetime] = None) -> dict[str, dict]:
    """The health row of each configured URL, following the permanent moves the job recorded (``moved:`` in meta)."""
    rows = {r["url"]: r for r in feed_rows(conn, now)}
    out = {}
    for url in urls:
        current = url
        for _ in range(10):
            if current in rows:
                out[url] = rows[current]
                break
            moved = conn.execute("SELECT value FROM meta WHERE key = ?", ("moved:" + current,)).fetchone()
            if moved is None:
                break
            current = moved[0]
    return out
