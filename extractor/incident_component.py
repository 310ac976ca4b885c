"""Components: the reports an attach re-clusters, read from the store (keyed incidents within reach, keyless
neighbours), with their lead embeddings; for extractor/incident_repo.py.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from functools import lru_cache
from typing import Iterable, Optional

import numpy as np

from .matching import Rep, S, link_score, rep_from_json
from .names import lookup_keys
from .schema_sql import COUNT_SQL, DISCOVERED_DAY_SQL, INCIDENT_DAY_SQL


def select_in(conn, query: str, values: Iterable, extra: tuple = ()) -> list:
    """Rows of `query` (with one `IN ({})` placeholder, after `extra` parameters) over `values`, 500 at a time."""
    values = sorted(set(values))
    rows: list = []
    for i in range(0, len(values), 500):
        chunk = values[i:i + 500]
        rows += conn.execute(query.format(",".join("?" * len(chunk))), [*extra, *chunk]).fetchall()
    return rows


def reports_of(conn, incident_ids: Iterable[str]) -> set[int]:
    return {r[0] for r in select_in(conn, "SELECT report_id FROM incident_reports WHERE incident_id IN ({})", incident_ids)}


# -- embeddings -------------------------------------------------------------------------------------------
def backend_or_none():
    try:
        from .embed import get_backend

        return get_backend()
    except Exception:  # a misconfigured optional backend must not stop ingestion: keys still match
        return None


def ensure_embedding(conn, rep: Rep, backend) -> Optional[np.ndarray]:
    """The report's lead embedding, from the ``embeddings`` table or computed once and stored."""
    from .embed import from_blob, lead, to_blob

    row = conn.execute("SELECT dim, vector FROM embeddings WHERE report_id=? AND backend=?",
                       (rep.rid, backend.name)).fetchone()
    if row is not None:
        return from_blob(row[1], row[0])
    title = rep.doc.get("title") or (rep.rec.get("source") or {}).get("title")
    text = lead(title, rep.doc.get("text") or "")
    if len(text) < 20:
        return None
    vec = backend.encode([text])[0]
    conn.execute("INSERT OR REPLACE INTO embeddings(report_id, backend, dim, vector) VALUES (?,?,?,?)",
                 (rep.rid, backend.name, int(vec.shape[0]), to_blob(vec)))
    return vec


def _load_vectors(conn, reps: Iterable[Rep], backend_name: str) -> None:
    from .embed import from_blob

    by_id = {r.rid: r for r in reps if r.vec is None}
    q = "SELECT report_id, dim, vector FROM embeddings WHERE backend=? AND report_id IN ({})"
    for rid, dim, blob in select_in(conn, q, by_id, (backend_name,)):
        by_id[rid].vec = from_blob(blob, dim)


# -- loading reports --------------------------------------------------------------------------------------
# A report's text is read up to what matching and its lead embedding look at (the years, the follow-up words, the
# lead: see text_chars), so that a cached Rep holds no more of it.
_REP_SQL = ("SELECT r.id, r.source_id, r.record_json, d.title, substr(d.text, 1, ?), d.url, d.published, d.language "
            "FROM reports r JOIN documents d ON d.id = r.document_id WHERE r.id IN ({})")


def text_chars() -> int:
    """How much of a text a Rep needs: its years (era_text_chars), the leads of the follow-up test and of the
    embedding (each reads twice its length before collapsing spaces)."""
    from .embed import LEAD_CHARS

    return max(int(S("era_text_chars")), 2 * int(S("follow_up_chars")), 2 * LEAD_CHARS)


# A report is read again at every attach within its reach (its names folded once). 8,192 Reps of about 20 kB
# each (gold records of train, text cut as above): the reach of the 10,000-report store bench misses only its new
# reports (10,363 misses in 196,712 reads; 4,096 thrashed), in about the memory 4,096 uncut texts took.
@lru_cache(maxsize=8192)
def _read_rep(rid: int, sid: str, rj: str, title, text, url, published, language) -> Rep:
    return rep_from_json(rid, sid, rj, {"title": title, "text": text, "url": url, "published": published,
                                        "language": language})


def load_reps(conn, report_ids: Iterable[int], backend_name: Optional[str] = None) -> dict[int, Rep]:
    """The Reps of these reports (a fresh copy each: vectors and manual decisions are set on it)."""
    out: dict[int, Rep] = {}
    for row in select_in(conn, _REP_SQL, [int(i) for i in report_ids], (text_chars(),)):
        out[row[0]] = replace(_read_rep(*row))
    q = "SELECT report_id, incident_id, manual, attached_at FROM incident_reports WHERE report_id IN ({})"
    for rid, iid, manual, at in select_in(conn, q, out):
        out[rid].attached_at = at
        if manual:
            out[rid].manual_group = iid
    if backend_name:
        _load_vectors(conn, out.values(), backend_name)
    return out


# Through the store's indexes on these expressions (extractor/schema_sql.py, version 4), named so that the planner
# never prefers a scan (its statistics cannot tell that a NULL day matches nothing): a lookup, not the window read.
# (A store opened at an older version, as a migration test does, has no such index: the same query unnamed.)
_ATTACHED = ("SELECT r.id FROM reports r {} JOIN documents d ON d.id = r.document_id "
             "JOIN incident_reports ir ON ir.report_id = r.id "
             "WHERE (d.published IS NULL OR (d.published >= ? AND d.published <= ?)) AND ")


def _lookups(conn) -> tuple[str, str]:
    """The count and the event-day lookups, through the version 4 indexes when the store has them."""
    named = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'reports_victims_count'").fetchone()
    by = (lambda index: f"INDEXED BY {index}") if named else (lambda index: "")
    return (_ATTACHED.format(by("reports_victims_count")) + f"{COUNT_SQL} = ?",
            _ATTACHED.format(by("reports_incident_day")) + f"{INCIDENT_DAY_SQL} IN ({{0}}) UNION "
            + _ATTACHED.format(by("reports_discovered_day")) + f"{DISCOVERED_DAY_SQL} IN ({{0}})")


_VECTORS_SQL = ("SELECT r.id, d.published, e.dim, e.vector FROM reports r JOIN documents d ON d.id = r.document_id "
                "JOIN incident_reports ir ON ir.report_id = r.id "
                "JOIN embeddings e ON e.report_id = r.id AND e.backend = ? WHERE ")


def keyless_neighbours(conn, reps: Iterable[Rep], backend_name: Optional[str]) -> set[int]:
    """Attached reports published within keyless_days of one of these (any report when one of the two is undated)
    that could link to it without a key: the same count, the same incident or discovery day, or a close lead (a
    cheap, symmetric filter before link_score). Counts and days are looked up through the store's indexes; leads
    are compared over the window's embeddings, read once per run of overlapping windows."""
    from .embed import from_blob

    days = timedelta(days=S("keyless_days"))
    near, keyless_cosine = S("same_event_days"), S("keyless_cosine")
    windows = sorted(((r.published - days).isoformat(), (r.published + days).isoformat() + "~", r.rid, r)
                     if r.published else ("", "~", r.rid, r) for r in reps)
    by_count_sql, by_day_sql = _lookups(conn)
    out: set[int] = set()
    for lo, hi, _, rep in windows:
        found: set[int] = set()
        if rep.count:
            found.update(row[0] for row in conn.execute(by_count_sql, (lo, hi, rep.count)))
        event_days = sorted({(m + timedelta(days=k)).isoformat() for m in {rep.incident, rep.discovered} if m
                             for k in range(-near, near + 1)})
        if event_days:
            found.update(row[0] for row in conn.execute(
                by_day_sql.format(",".join("?" * len(event_days))), (lo, hi, *event_days, lo, hi, *event_days)))
        out |= found - {rep.rid}
    if backend_name is None:
        return out
    runs: list[list] = []
    for lo, hi, _, rep in windows:
        if rep.vec is None:
            continue
        if runs and lo <= runs[-1][1]:
            runs[-1][1] = max(runs[-1][1], hi)
            runs[-1][2].append((lo, hi, rep))
        else:
            runs.append([lo, hi, [(lo, hi, rep)]])
    undated = conn.execute(_VECTORS_SQL + "d.published IS NULL", (backend_name,)).fetchall() if runs else []
    for lo, hi, members in runs:
        rows = conn.execute(_VECTORS_SQL + "d.published >= ? AND d.published <= ?",
                            (backend_name, lo, hi)).fetchall() + undated
        vectors: dict[int, np.ndarray] = {}
        for rlo, rhi, rep in members:
            for rid, published, dim, blob in rows:
                if rid == rep.rid or rid in out or not (published is None or rlo <= published <= rhi):
                    continue
                if rid not in vectors:
                    vectors[rid] = from_blob(blob, dim)
                if float(vectors[rid] @ rep.vec) >= keyless_cosine:
                    out.add(rid)
    return out


def reach(seeds: Iterable[Rep]) -> Optional[str]:
    """The earliest last publication day an incident may have and still link to one of these reports, or None when
    any may (an undated report links whatever the dates; a follow-up may be long-tail coverage of an old breach).

    Any two dated reports further apart than window_days conflict unless the later one is a follow-up, so an
    incident whose dated reports all end before the earliest seed minus the window, and that has no undated
    report, cannot link to a seed that is no follow-up (incidents published later are always kept)."""
    seeds = list(seeds)
    if not seeds or any(r.published is None or r.follow_up for r in seeds):
        return None
    return (min(r.published for r in seeds) - timedelta(days=S("window_days"))).isoformat()


# an incident within reach: it ends after the bound, or has no dated report, or has a report that may be undated
_KEYED_SQL = (
    "SELECT DISTINCT ik.incident_id FROM incident_keys ik JOIN incidents i ON i.id = ik.incident_id "
    "WHERE (? IS NULL OR i.last_seen IS NULL OR i.last_seen >= ? OR EXISTS ("
    "SELECT 1 FROM incident_reports ir JOIN reports r ON r.id = ir.report_id JOIN documents d ON d.id = r.document_id "
    "WHERE ir.incident_id = i.id AND (d.published IS NULL OR length(d.published) < 10))) AND ik.key IN ({})")


def component(conn, seed_ids: set[int], backend_name: Optional[str]) -> dict[int, Rep]:
    """The reports connected to the seeds by shared keys (through incident_keys) or by a keyless link, among the
    incidents within reach (`reach`) of the seeds and of the incidents within their reach (two steps: an incident
    that may contest a join with the seeds' incident is read too). An organization's older history stays out, as it
    was clustered when its reports were attached: a bound kept for a cost that does not grow with the history."""
    reps = load_reps(conn, seed_ids, backend_name)
    bound, first = reach(reps.values()), True
    frontier = set(reps)
    seen_incidents: set[str] = set()
    while frontier:
        keys: set[str] = set()
        for rid in frontier:
            keys |= lookup_keys(reps[rid].all_keys)
        incs = {r[0] for r in select_in(conn, _KEYED_SQL, keys, (bound, bound))}
        incs |= {r[0] for r in select_in(conn, "SELECT incident_id FROM incident_reports WHERE report_id IN ({})", frontier)}
        incs -= seen_incidents
        seen_incidents |= incs
        new_ids = reports_of(conn, incs) - set(reps)
        near = keyless_neighbours(conn, [reps[rid] for rid in frontier], backend_name) - set(reps) - new_ids
        if near:
            cands = load_reps(conn, near, backend_name)
            for c in cands.values():
                if any(link_score(reps[rid], c) > 0 for rid in frontier):
                    new_ids.add(c.rid)
        loaded = load_reps(conn, new_ids, backend_name)
        reps.update(loaded)
        frontier = set(loaded)
        if first:  # the reach of what may join the seeds: a third incident that contests the join is in it
            first, bound = False, reach(reps.values())
    return reps
