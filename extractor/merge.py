"""Reports -> incidents (first, simple version: one incident per normalized organization key).

API used by the store's ingest job:
  attach_report(conn, report_id) -> incident id
  export_incidents(conn, since=None) -> Iterator[dict]
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from datetime import datetime, timezone
from typing import Iterator, Optional

INCIDENT_SCHEMA_VERSION = "0.1.0"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def fold(name: str) -> str:
    s = unicodedata.normalize("NFKD", name or "")
    s = "".join(c for c in s if not unicodedata.combining(c)).lower()
    s = re.sub(r"[^\w]+", " ", s)
    return " ".join(s.split())


def _incident_id(source_id: str) -> str:
    return "inc-" + hashlib.sha256(source_id.encode("utf-8")).hexdigest()[:16]


def attach_report(conn, report_id: int) -> str:
    row = conn.execute("SELECT source_id, record_json FROM reports WHERE id=?", (report_id,)).fetchone()
    if row is None:
        raise KeyError(report_id)
    source_id, rj = row[0], row[1]
    done = conn.execute("SELECT incident_id FROM incident_reports WHERE report_id=?", (report_id,)).fetchone()
    if done:
        return done[0]
    rec = json.loads(rj)
    org = (rec.get("organization") or {}).get("name") or ""
    key = fold(org) or f"report:{source_id}"
    published = (rec.get("source") or {}).get("published")
    hit = conn.execute("SELECT incident_id FROM incident_keys WHERE key=? ORDER BY incident_id LIMIT 1", (key,)).fetchone()
    now = _now()
    if hit:
        inc = hit[0]
        conn.execute("UPDATE incidents SET updated_at=? WHERE id=?", (now, inc))
    else:
        inc = _incident_id(source_id)
        conn.execute(
            "INSERT INTO incidents(id, org_key, best_json, first_seen, last_seen, created_at, updated_at) VALUES (?,?,?,?,?,?,?)",
            (inc, key, json.dumps({"organization": {"name": org, "report_id": report_id}}), published, published, now, now),
        )
        conn.execute("INSERT OR IGNORE INTO incident_keys(incident_id, key) VALUES (?,?)", (inc, key))
        conn.execute(
            "INSERT INTO timeline(incident_id, at, kind, detail_json, report_id) VALUES (?,?,?,?,?)",
            (inc, published, "first_seen", "{}", report_id),
        )
    conn.execute(
        "INSERT INTO incident_reports(incident_id, report_id, manual, attached_at) VALUES (?,?,0,?)",
        (inc, report_id, now),
    )
    return inc


def export_incidents(conn, since: Optional[str] = None) -> Iterator[dict]:
    q = "SELECT id, org_key, best_json, first_seen, last_seen, created_at, updated_at FROM incidents"
    args: tuple = ()
    if since:
        q += " WHERE updated_at >= ?"
        args = (since,)
    for iid, key, best, first, last, created, updated in conn.execute(q + " ORDER BY id", args).fetchall():
        reports = [
            {"report_id": r[0], "source_id": r[1]}
            for r in conn.execute(
                "SELECT r.id, r.source_id FROM incident_reports ir JOIN reports r ON r.id=ir.report_id "
                "WHERE ir.incident_id=? ORDER BY r.id",
                (iid,),
            )
        ]
        yield {
            "schema_version": INCIDENT_SCHEMA_VERSION, "id": iid, "org_key": key, "best": json.loads(best),
            "first_seen": first, "last_seen": last, "reports": reports, "timeline": [],
            "created_at": created, "updated_at": updated,
        }
