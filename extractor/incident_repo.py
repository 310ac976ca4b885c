"""Incident repository: the SQL of incidents (tables incidents, incident_keys, incident_reports, incident_aliases,
timeline), for the matching policy of extractor/matching.py.

`recluster(conn, report_ids)` reads the *component* of the given reports (extractor/incident_component.py: the
incidents within reach that share a key with them, transitively, plus the reports they link to without a key),
clusters it from scratch with `clustering.cluster` and writes the result: incidents, keys, timeline, and every
former id as an alias.
Runs inside the caller's transaction.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Optional, Union

from .clustering import cluster
from .errors import InputError
from .incident import Incident, best_values, timeline
from .incident_component import (  # noqa: F401  (component and reach re-exported)
    backend_or_none, component, ensure_embedding, load_reps, reach, reports_of, select_in,
)
from .matching import Rep, incident_id_for


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# -- writing incidents ------------------------------------------------------------------------------------
def _insert_timeline(conn, iid: str, at, kind: str, detail, rid) -> None:
    if not isinstance(detail, str):
        detail = json.dumps(detail, ensure_ascii=False, sort_keys=True)
    conn.execute("INSERT INTO timeline(incident_id, at, kind, detail_json, report_id) VALUES (?,?,?,?,?)",
                 (iid, at, kind, detail, rid))


def delete_incident(conn, iid: str) -> None:
    for table in ("timeline", "incident_keys", "incident_reports"):
        conn.execute(f"DELETE FROM {table} WHERE incident_id=?", (iid,))
    conn.execute("DELETE FROM incidents WHERE id=?", (iid,))


def add_alias(conn, old_id: str, new_id: str, at: str) -> None:
    """``old_id`` now resolves to ``new_id`` (and so does every alias of ``old_id``)."""
    if old_id == new_id:
        conn.execute("DELETE FROM incident_aliases WHERE old_id=?", (old_id,))
        return
    conn.execute("UPDATE incident_aliases SET incident_id=? WHERE incident_id=?", (new_id, old_id))
    conn.execute("INSERT INTO incident_aliases(old_id, incident_id, at) VALUES (?,?,?) "
                 "ON CONFLICT(old_id) DO UPDATE SET incident_id=excluded.incident_id, at=excluded.at",
                 (old_id, new_id, at))
    # the update may have made new_id an alias of itself (it was an alias of old_id): the only loop there can be,
    # removed by its key (the table never holds another, so no scan of every former id)
    conn.execute("DELETE FROM incident_aliases WHERE old_id=? AND incident_id=?", (new_id, new_id))


def write_clusters(conn, reps: dict[int, Rep], clusters: list[list[Rep]], now: str,
                   seeds: Optional[set[int]] = None) -> dict[int, str]:
    """Replace the component's incidents by the clusters' incidents. Returns report id -> incident id.

    With `seeds` (the reports whose record or decision changed), an incident that keeps its id and exactly its
    reports, none of them a seed, is left as it is: nothing it is made of changed. Without, every one is written."""
    before: dict[int, str] = dict(select_in(
        conn, "SELECT report_id, incident_id FROM incident_reports WHERE report_id IN ({})", reps))
    placed: dict[int, str] = {}
    if seeds is not None:
        held: dict[str, set[int]] = {}
        for rid, iid in before.items():
            held.setdefault(iid, set()).add(rid)
        changed = []
        for members in clusters:
            mids = {r.rid for r in members}
            iid = incident_id_for(min(members, key=lambda r: r.sort_key).source_id)
            if held.get(iid) == mids and not (mids & seeds):
                placed.update((rid, iid) for rid in mids)
                for rid in mids:
                    del before[rid]
            else:
                changed.append(members)
        clusters = changed
    old_incs = set(before.values())
    old_created: dict[str, str] = {}
    old_state: dict[str, tuple] = {}
    manual_events: list[tuple] = []
    for iid in sorted(old_incs):
        row = conn.execute("SELECT created_at, best_json, updated_at FROM incidents WHERE id=?", (iid,)).fetchone()
        if row:
            old_created[iid] = row[0]
            old_state[iid] = (row[1], tuple(sorted(reports_of(conn, [iid]))), row[2])
        manual_events += conn.execute(
            "SELECT at, kind, detail_json, report_id FROM timeline WHERE incident_id=? AND kind IN ('merged','split') "
            "ORDER BY id", (iid,)).fetchall()
        delete_incident(conn, iid)
    for members in clusters:
        members = sorted(members, key=lambda r: r.sort_key)
        iid = incident_id_for(members[0].source_id)
        best_json = json.dumps(best_values(members), ensure_ascii=False, sort_keys=True)
        mids = tuple(sorted(r.rid for r in members))
        prev = [before[r.rid] for r in members if r.rid in before]
        created = old_created.get(iid) or min((old_created[p] for p in prev if p in old_created), default=now)
        old = old_state.get(iid)
        updated = old[2] if (old and old[:2] == (best_json, mids)) else now
        dated = [r.published for r in members if r.published]
        keys = sorted(set().union(*(r.all_keys for r in members)))
        org_key = (members[0].primary or keys or [None])[0]
        conn.execute("INSERT INTO incidents(id, org_key, best_json, first_seen, last_seen, created_at, updated_at) "
                     "VALUES (?,?,?,?,?,?,?)",
                     (iid, org_key, best_json, min(dated).isoformat() if dated else None,
                      max(dated).isoformat() if dated else None, created, updated))
        conn.executemany("INSERT OR IGNORE INTO incident_keys(incident_id, key) VALUES (?,?)", [(iid, k) for k in keys])
        for r in members:
            conn.execute("INSERT INTO incident_reports(incident_id, report_id, manual, attached_at) VALUES (?,?,?,?)",
                         (iid, r.rid, 1 if r.manual_group else 0, r.attached_at or now))
            placed[r.rid] = iid
        for ev in timeline(members):
            _insert_timeline(conn, iid, ev["at"], ev["kind"], ev["detail"], ev["report_id"])
    for at, kind, detail, rid in manual_events:
        if rid in placed:
            _insert_timeline(conn, placed[rid], at, kind, detail, rid)
    # every former id resolves: to the new incident that holds most of its reports (then the earliest id)
    for old in sorted(old_incs - set(placed.values())):
        votes: dict[str, int] = {}
        for rid, iid in before.items():
            if iid == old and rid in placed:
                votes[placed[rid]] = votes.get(placed[rid], 0) + 1
        if votes:
            add_alias(conn, old, min(votes, key=lambda k: (-votes[k], k)), now)
    for iid in set(placed.values()):
        conn.execute("DELETE FROM incident_aliases WHERE old_id=?", (iid,))
    return placed


def recluster(conn, seed_ids: set[int], now: Optional[str] = None, everything: bool = False) -> dict[int, str]:
    """Cluster the component of these reports from scratch and write it (the incidents that changed, or with
    `everything` every one). Returns report id -> incident id."""
    backend = backend_or_none()
    name = backend.name if backend else None
    seeds = load_reps(conn, seed_ids, name)
    if backend is not None:
        for r in seeds.values():
            if r.vec is None:
                r.vec = ensure_embedding(conn, r, backend)
    reps = component(conn, set(seeds), name)
    for rid, r in seeds.items():
        if reps[rid].vec is None:
            reps[rid].vec = r.vec
    return write_clusters(conn, reps, cluster(list(reps.values())), now or now_iso(),
                          None if everything else set(seeds))


def detach_report(conn, rid: int) -> None:
    """A report that is no longer an incident leaves its incident (the others are re-clustered)."""
    old = conn.execute("SELECT incident_id FROM incident_reports WHERE report_id=?", (rid,)).fetchone()
    if not old:
        return
    others = reports_of(conn, [old[0]]) - {rid}
    conn.execute("DELETE FROM incident_reports WHERE report_id=?", (rid,))
    conn.execute("UPDATE timeline SET report_id=NULL WHERE report_id=?", (rid,))
    if others:
        recluster(conn, others)
    else:
        delete_incident(conn, old[0])


# -- ids --------------------------------------------------------------------------------------------------
def resolve_incident(conn, incident_id: str) -> str:
    """The current id of an incident, given its id or a former one. Raises InputError."""
    iid = str(incident_id).strip()
    if conn.execute("SELECT 1 FROM incidents WHERE id=?", (iid,)).fetchone():
        return iid
    row = conn.execute("SELECT incident_id FROM incident_aliases WHERE old_id=?", (iid,)).fetchone()
    if row and conn.execute("SELECT 1 FROM incidents WHERE id=?", (row[0],)).fetchone():
        return row[0]
    raise InputError(f"no incident {iid!r} in the store")


def resolve_report(conn, report: Union[int, str]) -> int:
    s = str(report).strip()
    if s.isdigit():
        row = conn.execute("SELECT id FROM reports WHERE id=?", (int(s),)).fetchone()
        if row:
            return row[0]
    row = conn.execute("SELECT id FROM reports WHERE source_id=?", (s,)).fetchone()
    if row:
        return row[0]
    raise InputError(f"no report {s!r} in the store (give a report id or a source id)")


# -- manual decisions -------------------------------------------------------------------------------------
def merge_incidents(conn, a: str, b: str) -> str:
    """Manually merge two incidents into one (all their reports marked manual). Returns the incident id."""
    a, b = resolve_incident(conn, a), resolve_incident(conn, b)
    if a == b:
        raise InputError(f"cannot merge incident {a} with itself")
    now = now_iso()
    conn.execute("UPDATE incident_reports SET incident_id=?, manual=1 WHERE incident_id IN (?,?)", (a, a, b))
    rid = conn.execute("SELECT MIN(report_id) FROM incident_reports WHERE incident_id=?", (a,)).fetchone()[0]
    conn.execute("UPDATE timeline SET incident_id=? WHERE incident_id=?", (a, b))
    conn.execute("DELETE FROM incident_keys WHERE incident_id=?", (b,))
    conn.execute("DELETE FROM incidents WHERE id=?", (b,))
    add_alias(conn, b, a, now)
    _insert_timeline(conn, a, now[:10], "merged", {"incidents": sorted([a, b]), "manual": True}, rid)
    return recluster(conn, {rid}, now)[rid]


def split_report(conn, incident_id: str, report: Union[int, str]) -> str:
    """Manually move one report out of an incident into its own. Returns the new incident's id."""
    incident_id = resolve_incident(conn, incident_id)
    rid = resolve_report(conn, report)
    row = conn.execute("SELECT incident_id FROM incident_reports WHERE report_id=?", (rid,)).fetchone()
    if not row or row[0] != incident_id:
        raise InputError(f"report {report} is not in incident {incident_id}")
    others = [r[0] for r in conn.execute(
        "SELECT report_id FROM incident_reports WHERE incident_id=? AND report_id != ?", (incident_id, rid))]
    if not others:
        raise InputError(f"report {report} is the only report of incident {incident_id}: nothing to split")
    now = now_iso()
    sid = conn.execute("SELECT source_id FROM reports WHERE id=?", (rid,)).fetchone()[0]
    tmp = "split-" + incident_id_for(f"{sid}")  # a temporary id; re-clustering names it
    conn.execute("INSERT INTO incidents(id, org_key, best_json, first_seen, last_seen, created_at, updated_at) "
                 "VALUES (?,NULL,'{}',NULL,NULL,?,?)", (tmp, now, now))
    conn.execute("UPDATE incident_reports SET manual=1 WHERE incident_id=?", (incident_id,))
    conn.execute("UPDATE incident_reports SET incident_id=?, manual=1 WHERE report_id=?", (tmp, rid))
    detail = {"from": incident_id, "report_id": rid, "source_id": sid, "manual": True}
    _insert_timeline(conn, tmp, now[:10], "split", detail, rid)
    _insert_timeline(conn, incident_id, now[:10], "split", detail, min(others))
    placed = recluster(conn, {rid, *others}, now)
    conn.execute("DELETE FROM incident_aliases WHERE old_id=?", (tmp,))
    return placed[rid]


# -- reading incidents ------------------------------------------------------------------------------------
_INC_SQL = "SELECT id, best_json, first_seen, last_seen, created_at, updated_at FROM incidents"


def get_incident(conn, incident_id: str) -> dict:
    """One incident as an export dict, by its id or a former id."""
    iid = resolve_incident(conn, incident_id)
    return _incident_dict(conn, conn.execute(_INC_SQL + " WHERE id=?", (iid,)).fetchone())


def _incident_dict(conn, row) -> dict:
    iid, best_json, first, last, created, updated = tuple(row)
    best = json.loads(best_json or "{}")
    reports = []
    for rid, sid, manual, rj, url, published, language, title in conn.execute(
            "SELECT r.id, r.source_id, ir.manual, r.record_json, d.url, d.published, d.language, d.title "
            "FROM incident_reports ir JOIN reports r ON r.id = ir.report_id JOIN documents d ON d.id = r.document_id "
            "WHERE ir.incident_id=?", (iid,)):
        src = (json.loads(rj).get("source") or {})
        reports.append({
            "report_id": rid, "source_id": sid, "language": src.get("language") or language,
            "published": src.get("published") or published, "url": src.get("url") or url,
            "title": src.get("title") or title, "kind": src.get("kind"), "manual": bool(manual),
        })
    reports.sort(key=lambda r: (r["published"] or "", r["source_id"]))
    sid_of = {r["report_id"]: r["source_id"] for r in reports}
    events = [{"at": at, "kind": kind, "detail": json.loads(detail), "report_id": rid, "source_id": sid_of.get(rid)}
              for at, kind, detail, rid in conn.execute(
                  "SELECT at, kind, detail_json, report_id FROM timeline WHERE incident_id=? ORDER BY id", (iid,))]
    previous = [r[0] for r in conn.execute(
        "SELECT old_id FROM incident_aliases WHERE incident_id=? ORDER BY old_id", (iid,))]
    inc = Incident(
        id=iid, previous_ids=previous, organization=best.get("organization"), victims=best.get("victims") or {},
        data_types=best.get("data_types") or [], agencies=best.get("agencies") or [], dates=best.get("dates") or {},
        first_seen=first, last_seen=last, reports=reports, timeline=events, created_at=created, updated_at=updated,
    )
    return inc.model_dump(mode="json")


def export_incidents(conn, since: Optional[str] = None):
    """Every incident (or those updated at or after ``since``, an ISO timestamp or day), by id."""
    q, args = _INC_SQL, ()
    if since:
        q, args = q + " WHERE updated_at >= ?", (str(since),)
    for row in conn.execute(q + " ORDER BY id", args).fetchall():
        yield _incident_dict(conn, row)
