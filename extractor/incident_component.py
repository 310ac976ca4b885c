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
_REP_SQL = ("SELECT r.id, r.source_id, r.record_json, d.title, d.text, d.url, d.published, d.language "
            "FROM reports r JOIN documents d ON d.id = r.document_id WHERE r.id IN ({})")


@lru_cache(maxsize=4096)  # a report is read again at every attach within its reach: its names folded once
def _read_rep(rid: int, sid: str, rj: str, title, text, url, published, language) -> Rep:
    return rep_from_json(rid, sid, rj, {"title": title, "text": text, "url": url, "published": published,
                                        "language": language})


def load_reps(conn, report_ids: Iterable[int], backend_name: Optional[str] = None) -> dict[int, Rep]:
    """The Reps of these reports (a fresh copy each: vectors and manual decisions are set on it)."""
    out: dict[int, Rep] = {}
    for row in select_in(conn, _REP_SQL, [int(i) for i in report_ids]):
        out[row[0]] = replace(_read_rep(*row))
    q = "SELECT report_id, incident_id, manual, attached_at FROM incident_reports WHERE report_id IN ({})"
    for rid, iid, manual, at in select_in(conn, q, out):
        out[rid].attached_at = at
        if manual:
            out[rid].manual_group = iid
    if backend_name:
        _load_vectors(conn, out.values(), backend_name)
    return out


_NEIGHBOUR_SQL = (
    "SELECT r.id, d.published, json_extract(r.record_json, '$.victims.count'), "
    "json_extract(r.record_json, '$.dates.incident.date'), json_extract(r.record_json, '$.dates.discovered.date'), "
    "e.dim, e.vector FROM reports r JOIN documents d ON d.id = r.document_id "
    "JOIN incident_reports ir ON ir.report_id = r.id "
    "LEFT JOIN embeddings e ON e.report_id = r.id AND e.backend = ? WHERE ")


def keyless_neighbours(conn, reps: Iterable[Rep], backend_name: Optional[str]) -> set[int]:
    """Attached reports published within keyless_days of one of these (any report when one of the two is undated)
    that could link to it without a key: the same count, the same incident or discovery day, or a close lead (a
    cheap, symmetric filter before link_score). One query per run of overlapping windows, one for undated reports."""
    from .embed import from_blob
    from .matching import day

    days = timedelta(days=S("keyless_days"))
    windows = sorted(((r.published - days).isoformat(), (r.published + days).isoformat() + "~", r.rid, r)
                     if r.published else ("", "~", r.rid, r) for r in reps)
    runs: list[list] = []
    for lo, hi, _, rep in windows:
        if runs and lo <= runs[-1][1]:
            runs[-1][1] = max(runs[-1][1], hi)
            runs[-1][2].append((lo, hi, rep))
        else:
            runs.append([lo, hi, [(lo, hi, rep)]])
    undated = conn.execute(_NEIGHBOUR_SQL + "d.published IS NULL", (backend_name or "",)).fetchall() if runs else []
    near, keyless_cosine = S("same_event_days"), S("keyless_cosine")
    out: set[int] = set()
    for lo, hi, members in runs:
        rows = conn.execute(_NEIGHBOUR_SQL + "d.published >= ? AND d.published <= ?",
                            (backend_name or "", lo, hi)).fetchall() + undated
        by_count: dict = {}   # the rows by count and by event day: a report's candidates looked up, not scanned
        by_day: dict = {}
        for row in rows:
            by_count.setdefault(row[2], []).append(row)
            for d in {day(row[3]), day(row[4])} - {None}:
                by_day.setdefault(d, []).append(row)
        vectors: dict[int, np.ndarray] = {}
        for rlo, rhi, rep in members:
            found = list(by_count.get(rep.count, ())) if rep.count else []
            for m in {d for d in (rep.incident, rep.discovered) if d}:
                for k in range(-near, near + 1):
                    found += by_day.get(m + timedelta(days=k), ())
            for rid, published, *_ in found:
                if rid != rep.rid and (published is None or rlo <= published <= rhi):
                    out.add(rid)
            if rep.vec is None:
                continue
            for rid, published, count, inc, disc, dim, blob in rows:
                if (rid == rep.rid or rid in out or blob is None
                        or not (published is None or rlo <= published <= rhi)):
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
