"""Alerts: saved filters whose new or revised incidents are POSTed as JSON to a webhook.

Tables (schema version 3, extractor/views.py): ``alerts`` (webhook, filter, since) and ``alert_deliveries``
(one row per alert x incident x revision, UNIQUE: an incident revision is queued once, ever).

``queue(conn)`` records a pending delivery for every matching incident whose ``updated_at`` is newer than the
last one queued for that alert (or than the alert itself); ``send(store)`` POSTs the due deliveries through
the address guard (extractor/netguard.py), marks each one ``sent`` in its own transaction as soon as the
receiver answers 2xx, and otherwise counts the attempt and schedules the next one with exponential backoff.
A delivery is never dropped: it stays pending until a receiver accepts it. Each POST carries the header
``X-Incidents-Delivery`` (the delivery id) so that a receiver can drop the one duplicate a kill between its
answer and our commit could cause.
"""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import timedelta
from typing import Callable, Optional

from ..errors import InputError
from . import stamps

FILTER_KEYS = ("organization", "data_type", "authority", "min_victims", "language")
BACKOFF_MAX_S = 6 * 3600


#: the filters that are a condition on v_incidents with one parameter (organization is matched on folded names)
CONDITIONS = {
    "data_type": "id IN (SELECT incident_id FROM v_incident_data_types WHERE code=?)",
    "authority": "id IN (SELECT incident_id FROM v_incident_agencies WHERE code=?)",
    "min_victims": "victims >= ?",
    "language": "EXISTS (SELECT 1 FROM json_each(language_codes) WHERE value=?)",
}


def _norm(ts: Optional[str]) -> str:
    """Any stored timestamp as ``YYYY-MM-DDTHH:MM:SSZ`` (comparable as text); an unreadable one as it is."""
    return stamps.utc(ts) or ts or ""


def parse_where(items: list[str]) -> dict:
    """``["data_type=sin", "min_victims=1000"]`` -> a checked filter dict. Raises InputError."""
    from ..record import AGENCY_CODES, DATA_TYPE_CODES
    from ..resources import LANGUAGES

    closed = {"data_type": (str, DATA_TYPE_CODES, "data type"), "authority": (str.upper, AGENCY_CODES, "authority"),
              "language": (str, LANGUAGES, "language")}  # key: (normalisation, the values it may take, what it is)
    out: dict = {}
    for item in items:
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or key not in FILTER_KEYS or not value:
            raise InputError(f"--where {item!r}: expected KEY=VALUE with KEY one of {', '.join(FILTER_KEYS)}")
        if key == "min_victims":
            try:
                out[key] = int(value.replace("_", "").replace(",", ""))
            except ValueError:
                raise InputError(f"--where {item!r}: min_victims must be a whole number") from None
        elif key in closed:
            norm, allowed, what = closed[key]
            if norm(value) not in allowed:
                raise InputError(f"--where {item!r}: unknown {what} (one of {', '.join(allowed)})")
            out[key] = norm(value)
        else:
            out[key] = value
    return out


def check_webhook(url: str) -> None:
    from ..netguard import allow_private_from_env, check_url

    check_url(url, allow_private=allow_private_from_env())


def add_alert(conn: sqlite3.Connection, webhook: str, filters: dict, *, backfill: bool = False) -> int:
    check_webhook(webhook)
    now = stamps.iso(stamps.now())
    cur = conn.execute("INSERT INTO alerts (webhook, filter_json, created_at, since) VALUES (?,?,?,?)",
                       (webhook, json.dumps(filters, sort_keys=True), now, None if backfill else now))
    return cur.lastrowid


def list_alerts(conn: sqlite3.Connection) -> list[dict]:
    out = []
    for aid, hook, fj, created, since in conn.execute(
            "SELECT id, webhook, filter_json, created_at, since FROM alerts ORDER BY id").fetchall():
        counts = dict(conn.execute("SELECT status, COUNT(*) FROM alert_deliveries WHERE alert_id=? GROUP BY status",
                                   (aid,)).fetchall())
        out.append({"id": aid, "webhook": hook, "where": json.loads(fj), "created_at": created, "since": since,
                    "sent": counts.get("sent", 0), "pending": counts.get("pending", 0)})
    return out


def remove_alert(conn: sqlite3.Connection, alert_id: int) -> None:
    if conn.execute("DELETE FROM alerts WHERE id=?", (alert_id,)).rowcount == 0:
        raise InputError(f"no alert {alert_id} (see `incidents alert list`)")
    conn.execute("DELETE FROM alert_deliveries WHERE alert_id=?", (alert_id,))


def _matches(conn: sqlite3.Connection, f: dict) -> list[tuple[str, str]]:
    """(incident id, updated_at) of the incidents that pass the filter."""
    from ..names import fold

    keys = [k for k in CONDITIONS if k in f]
    sql = " AND ".join(["SELECT id, updated_at, organization, acronym, victims FROM v_incidents WHERE 1=1",
                        *(CONDITIONS[k] for k in keys)])
    args = [f[k] for k in keys]
    out = []
    want = fold(f["organization"]) if "organization" in f else None
    for iid, updated, org, acronym, _v in conn.execute(sql, args).fetchall():
        if want is not None and want not in fold(org or "") and want != fold(acronym or ""):
            continue
        out.append((iid, _norm(updated)))
    return out


def queue(conn: sqlite3.Connection) -> int:
    """Record a pending delivery for each new or revised matching incident. Returns the number queued."""
    from ..incident_repo import get_incident

    queued = 0
    for aid, fj, since in conn.execute("SELECT id, filter_json, since FROM alerts ORDER BY id").fetchall():
        f = json.loads(fj)
        for iid, updated in _matches(conn, f):
            if since and updated < _norm(since):
                continue
            last = conn.execute("SELECT MAX(revision) FROM alert_deliveries WHERE alert_id=? AND incident_id=?",
                                (aid, iid)).fetchone()[0]
            if last is not None and updated <= last:
                continue
            incident = get_incident(conn, iid)
            cur = conn.execute(
                "INSERT OR IGNORE INTO alert_deliveries (alert_id, incident_id, revision, kind, payload_json) "
                "VALUES (?,?,?,?,?)", (aid, iid, updated, "revised" if last else "new",
                                       json.dumps(incident, ensure_ascii=False, sort_keys=True)))
            queued += cur.rowcount
    return queued


def _client():
    import httpx

    from ..netguard import _GuardedTransport, allow_private_from_env

    return httpx.Client(transport=_GuardedTransport(allow_private_from_env()), follow_redirects=False,
                        trust_env=False, timeout=httpx.Timeout(10.0, connect=5.0),
                        headers={"User-Agent": "incidents-extractor alerts", "Content-Type": "application/json"})


def backoff_s(attempts: int, base: float) -> float:
    return min(BACKOFF_MAX_S, base * (2 ** max(0, attempts - 1)))


def send(store, *, tries: int = 3, base_delay: float = 30.0, force: bool = False,
         sleep: Callable[[float], None] = time.sleep) -> dict:
    """Queue, then POST every due delivery (up to ``tries`` attempts each in this run, with backoff between
    them). Returns {"queued", "sent", "failed", "pending"}; never raises for a receiver's failure."""
    from ..errors import FetchError

    with store.transaction() as conn:
        queued = queue(conn)
    now = stamps.iso(stamps.now())
    due = store.conn.execute(
        "SELECT d.id, d.alert_id, d.incident_id, d.kind, d.payload_json, d.attempts, a.webhook "
        "FROM alert_deliveries d JOIN alerts a ON a.id = d.alert_id WHERE d.status='pending' "
        + ("" if force else "AND (d.next_attempt IS NULL OR d.next_attempt <= ?) ") + "ORDER BY d.id",
        () if force else (now,)).fetchall()
    sent = failed = 0
    with _client() as client:
        for did, aid, iid, kind, payload, attempts, hook in due:
            body = json.dumps({"delivery_id": did, "alert_id": aid, "kind": kind, "incident": json.loads(payload)},
                              ensure_ascii=False).encode("utf-8")
            ok = False
            for n in range(max(1, tries)):
                error = None
                try:
                    check_webhook(hook)
                    r = client.post(hook, content=body, headers={"X-Incidents-Delivery": str(did)})
                    if 200 <= r.status_code < 300:
                        ok = True
                    else:
                        error = f"HTTP {r.status_code}"
                except FetchError as err:
                    error = str(err)
                except Exception as err:  # connection refused, timeout, guard refusal inside httpx...
                    error = f"{type(err).__name__}: {err}"
                attempts += 1
                with store.transaction() as conn:
                    if ok:
                        conn.execute("UPDATE alert_deliveries SET status='sent', attempts=?, sent_at=?, "
                                     "last_error=NULL, next_attempt=NULL WHERE id=?", (attempts, stamps.iso(stamps.now()), did))
                    else:
                        nxt = stamps.iso(stamps.now() + timedelta(seconds=backoff_s(attempts, base_delay)))
                        conn.execute("UPDATE alert_deliveries SET attempts=?, last_error=?, next_attempt=? WHERE id=?",
                                     (attempts, " ".join(str(error).split())[:300], nxt, did))
                if ok:
                    break
                if n + 1 < tries:
                    sleep(min(backoff_s(attempts, base_delay), 60.0))
            sent += ok
            failed += not ok
    pending = store.conn.execute("SELECT COUNT(*) FROM alert_deliveries WHERE status='pending'").fetchone()[0]
    return {"queued": queued, "sent": sent, "failed": failed, "pending": pending}
