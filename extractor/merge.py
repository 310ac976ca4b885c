"""Reports -> incidents: one incident per real breach, across outlets and languages, with a timeline.

Public API (used by the store's ingest job and the `incidents` CLI):

  attach_report(conn, report_id) -> incident id     (inside the caller's transaction)
  export_incidents(conn, since=None) -> Iterator[dict]   (dicts of `extractor.incident.Incident`)
  get_incident(conn, incident_id) -> dict
  merge_incidents(conn, a, b) -> incident id         (manual; kept by automatic matching)
  split_report(conn, incident_id, report) -> incident id   (manual)
  rematch(conn) -> number of incidents

How matching works (docs/INCIDENTS.md):

1. Each report gets organization keys: names folded (case, accents, punctuation, articles, legal
   suffixes), its acronym and aliases, and the body they name in the bilingual gazetteer
   ``resources/shared/bodies.jsonl`` (French and English names of one body give one key).
2. A new report's *component* is found through the ``incident_keys`` index: the incidents that share a
   key with it, transitively, plus the reports whose lead embeddings are very close within a short
   window (fallback when the organization keys fail). Only that component is read.
3. The component is re-clustered from scratch, deterministically: pairs of reports are linked by a
   shared key (or the embedding fallback) and kept apart by hard conflicts (incident dates far apart,
   a breach that happened after the other report was published, a count that falls months later,
   more than 18 months between publications, two different manual decisions). Clusters grow by the
   best link first (ties by the reports' order). The result depends only on the set of reports, so
   the same reports in any order give the same incidents and ids.
4. Each incident's id is ``inc-`` + sha256(source.id of its earliest report)[:16]; its best values,
   keys and timeline are recomputed from its reports.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from importlib import resources
from typing import Iterable, Iterator, Optional, Union

import numpy as np

from .errors import InputError
from .incident import INCIDENT_SCHEMA_VERSION, Incident  # noqa: F401  (re-exported)

# -- tunables (measured with eval/merge_eval.py; see docs/INCIDENTS.md) ---------------------------------------
WINDOW_DAYS = 548             # publications more than ~18 months apart are never one incident
INCIDENT_DATE_TOLERANCE = 45  # two stated incident (or discovery) dates further apart: two incidents
NEWER_BREACH_SLACK = 14       # a breach dated after the other report's publication (+ slack) is another one
COUNT_DROP_DAYS = 60          # a count that falls by COUNT_DROP after this many days: another incident
COUNT_DROP = 0.8
FALLBACK_COSINE = 0.80        # embedding-only link (no shared organization key)
FALLBACK_DAYS = 60
LINK_THRESHOLD = 0.5
FAR_COUNT_RATIO = 20      # with a lead cosine under DISTANT_COSINE: no link
DISTANT_COSINE = 0.5
ALIAS_COUNT_RATIO = 5     # a link through an alias only: counts further apart than this factor conflict
MAX_COMPONENT = 2000          # safety valve: a component larger than this is clustered by key only

KIND_RANK = {"press_release": 0, "regulator": 1, "news": 2, "other": 3}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# -- names and keys -------------------------------------------------------------------------------------------
_ARTICLES = {"le", "la", "les", "l", "the"}
_LEGAL_SUFFIXES = [
    s.split() for s in (
        "inc", "incorporated", "incorporee", "ltd", "limited", "ltee", "limitee", "corp", "corporation", "co",
        "company", "llc", "lp", "llp", "plc", "ulc", "s e n c", "senc", "s e n c r l", "sencrl", "s e c", "sec",
        "enr", "s a", "sa", "gmbh", "ag", "s a s", "sas", "cie", "et cie", "and co", "l p",
    )
]
_LEGAL_SUFFIXES.sort(key=len, reverse=True)
# Words that name no organization on their own: a key made only of these is dropped.
_GENERIC = set("""
de du des d of and et a au aux en for pour in the
chu chum cisss ciusss csss cssss css cs hopital hospital centre center clinique clinic
ministere ministry department departement gouvernement government federal provincial municipal
ville city town municipalite municipality region regional county
universite university college cegep ecole school board commission conseil scolaire
police service services agence agency office bureau societe corporation company entreprise firm
canada quebec ontario canadian quebecois national public publique sante health education
group groupe inc ltd
privacy vie privee privacy commissioner commissaire commissariat information informations protection
data donnees breach fuite act loi system systeme office
""".split())
# Trailing words dropped for a second, shorter key ("Giant Tiger Stores" -> "giant tiger").
_TRAILING = {"canada", "group", "groupe", "financial", "stores", "magasins", "holdings", "international",
             "inc", "technologies", "services"}

_PUNCT = re.compile(r"[^\w]+")


def fold(name: Optional[str]) -> str:
    """Case, accents, punctuation, articles and legal suffixes folded away: 'La Société X inc.' -> 'societe x'."""
    s = unicodedata.normalize("NFKD", name or "")
    s = "".join(c for c in s if not unicodedata.combining(c)).lower()
    s = re.sub(r"['\u2019]s\b", "", s)  # possessive: "PowerSchool's system" -> "powerschool system"
    s = s.replace("&", " et ").replace("_", " ")
    tokens = [t for t in _PUNCT.sub(" ", s).split() if t not in _ARTICLES]
    changed = True
    while changed and len(tokens) > 1:
        changed = False
        for suf in _LEGAL_SUFFIXES:
            if len(tokens) > len(suf) and tokens[-len(suf):] == suf:
                tokens = tokens[: -len(suf)]
                changed = True
                break
    return " ".join(tokens)


def _reduced(folded: str) -> str:
    tokens = folded.split()
    while len(tokens) > 1 and tokens[-1] in _TRAILING:
        tokens = tokens[:-1]
    return " ".join(tokens)


def _is_generic(folded: str) -> bool:
    tokens = folded.split()
    return not tokens or all(t in _GENERIC for t in tokens)


@dataclass(frozen=True)
class Body:
    id: str
    names: tuple[str, ...]
    acronyms: tuple[str, ...]
    distinct_from: tuple[str, ...]


@lru_cache(maxsize=1)
def gazetteer() -> tuple[dict[str, Body], dict[str, set[str]], dict[str, set[str]]]:
    """(bodies by id, folded name -> body ids, folded acronym -> body ids) from bodies.jsonl."""
    bodies: dict[str, Body] = {}
    by_name: dict[str, set[str]] = {}
    by_acr: dict[str, set[str]] = {}
    text = resources.files("extractor").joinpath("resources/shared/bodies.jsonl").read_text(encoding="utf-8")
    for line in text.splitlines():
        if not line.strip():
            continue
        d = json.loads(line)
        b = Body(d["id"], tuple(d.get("fr", []) + d.get("en", [])), tuple(d.get("acronyms", [])),
                 tuple(d.get("distinct_from", [])))
        bodies[b.id] = b
        for n in b.names:
            by_name.setdefault(fold(n), set()).add(b.id)
        for a in b.acronyms:
            by_acr.setdefault(fold(a), set()).add(b.id)
    return bodies, by_name, by_acr


def org_keys(org: Optional[dict]) -> tuple[list[str], list[str]]:
    """(primary keys from the name and acronym, alias keys) of a record's ``organization``.

    Keys: ``body:<id>`` for a gazetteer body, ``n:<folded name or acronym>`` otherwise.
    """
    if not org or not org.get("name"):
        return [], []
    bodies, by_name, by_acr = gazetteer()
    name, acronym = org.get("name") or "", org.get("acronym") or ""
    aliases = [a for a in (org.get("aliases") or []) if isinstance(a, str)]

    def resolve(s: str, as_acronym: bool) -> tuple[set[str], str]:
        f = fold(s)
        if not f:
            return set(), ""
        hit = by_name.get(f) or by_name.get(_reduced(f))
        if hit:
            return set(hit), f
        acr = by_acr.get(f)
        if acr:
            return set(acr), f
        return set(), f

    # Which gazetteer body is the record about? The longest matching name wins among bodies that
    # must stay apart ("Secrétariat du Conseil du Trésor du Canada" beats "Secrétariat du Conseil du trésor").
    resolved = []
    for s, is_primary, as_acr in [(name, True, False), (acronym, True, True)] + [(a, False, False) for a in aliases]:
        if not s:
            continue
        ids, f = resolve(s, as_acr)
        resolved.append((s, f, ids, is_primary))
    unique = [(f, next(iter(ids))) for _, f, ids, _ in resolved if len(ids) == 1]
    excluded: set[str] = set()
    for f, bid in sorted(unique, key=lambda x: (-len(x[0]), x[1])):
        if bid in excluded:
            continue
        excluded.update(bodies[bid].distinct_from)
    chosen = {bid for _, bid in unique if bid not in excluded}

    primary: list[str] = []
    alias_keys: list[str] = []
    for s, f, ids, is_primary in resolved:
        out = primary if is_primary else alias_keys
        keys: list[str] = []
        ids = ids - excluded
        if len(ids) == 1:
            keys.append("body:" + next(iter(ids)))
        elif len(ids) > 1:  # an ambiguous acronym: the body the record names, else the bare acronym
            mine = ids & chosen
            keys.extend("body:" + b for b in sorted(mine)) if mine else keys.append("n:" + f)
        elif f and not _is_generic(f) and (len(f) >= 3 or (" " in f)):
            if not any(f == fold(x) for x in (bodies[b].names for b in excluded) for x in x):
                keys.append("n:" + f)
                r = _reduced(f)
                if r != f and not _is_generic(r) and len(r) >= 4:
                    keys.append("n:" + r)
        for k in keys:
            if k not in out:
                out.append(k)
    alias_keys = [k for k in alias_keys if k not in primary]
    return primary, alias_keys


# -- report features ------------------------------------------------------------------------------------------
def _day(v) -> Optional[date]:
    if not v:
        return None
    try:
        return date.fromisoformat(str(v)[:10])
    except ValueError:
        return None


@dataclass
class Rep:
    rid: int
    source_id: str
    rec: dict
    published: Optional[date]
    incident: Optional[date]
    discovered: Optional[date]
    count: Optional[int]
    kind: str
    primary: list[str]
    aliases: list[str]
    doc: dict = field(default_factory=dict)
    vec: Optional[np.ndarray] = None
    manual_group: Optional[str] = None   # the incident id of a manual decision, else None
    attached_at: Optional[str] = None

    @property
    def keys(self) -> set[str]:
        return set(self.primary) | set(self.aliases)

    @property
    def sort_key(self) -> tuple:
        """Publication order: dated reports by day, then undated ones (seen at an unknown time), by source id."""
        return (0, self.published.isoformat(), self.source_id) if self.published else (1, "", self.source_id)


def _rep_from_row(rid: int, source_id: str, record_json: str, doc: dict) -> Rep:
    rec = json.loads(record_json)
    src = rec.get("source") or {}
    dates = rec.get("dates") or {}

    def dv(name):
        v = dates.get(name)
        return _day(v.get("date")) if isinstance(v, dict) else None

    published = _day(src.get("published")) or _day(doc.get("published")) or dv("disclosed")
    primary, aliases = org_keys(rec.get("organization"))
    count = (rec.get("victims") or {}).get("count")
    return Rep(
        rid=rid, source_id=source_id or src.get("id") or str(rid), rec=rec, published=published,
        incident=dv("incident"), discovered=dv("discovered"), count=count if isinstance(count, int) else None,
        kind=src.get("kind") or doc.get("kind") or "other", primary=primary, aliases=aliases, doc=doc,
    )


# -- embeddings -----------------------------------------------------------------------------------------------
def _backend():
    from .embed import get_backend

    return get_backend()


def ensure_embedding(conn, rep: Rep, backend=None) -> Optional[np.ndarray]:
    """The report's lead embedding, from the ``embeddings`` table or computed once and stored."""
    from .embed import from_blob, lead, to_blob

    backend = backend or _backend()
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
    reps = [r for r in reps if r.vec is None]
    if not reps:
        return
    from .embed import from_blob

    by_id = {r.rid: r for r in reps}
    ids = list(by_id)
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        q = f"SELECT report_id, dim, vector FROM embeddings WHERE backend=? AND report_id IN ({','.join('?' * len(chunk))})"
        for rid, dim, blob in conn.execute(q, [backend_name, *chunk]):
            by_id[rid].vec = from_blob(blob, dim)


# -- loading reports ------------------------------------------------------------------------------------------
_REP_SQL = (
    "SELECT r.id, r.source_id, r.record_json, d.title, d.text, d.url, d.published, d.language "
    "FROM reports r JOIN documents d ON d.id = r.document_id "
)


def _load_reps(conn, report_ids: Iterable[int]) -> dict[int, Rep]:
    ids = sorted(set(int(i) for i in report_ids))
    out: dict[int, Rep] = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        q = _REP_SQL + f"WHERE r.id IN ({','.join('?' * len(chunk))})"
        for rid, sid, rj, title, text, url, published, language in conn.execute(q, chunk):
            doc = {"title": title, "text": text, "url": url, "published": published, "language": language}
            out[rid] = _rep_from_row(rid, sid, rj, doc)
    if ids:
        q = "SELECT report_id, incident_id, manual, attached_at FROM incident_reports WHERE report_id IN ({})"
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            for rid, iid, manual, at in conn.execute(q.format(",".join("?" * len(chunk))), chunk):
                if rid in out:
                    out[rid].attached_at = at
                    if manual:
                        out[rid].manual_group = iid
    return out


def _select_in(conn, query: str, values: Iterable) -> set:
    """First column of `query` (with one `IN ({})` placeholder) over `values`, 500 at a time (SQLite's limit)."""
    values = sorted(set(values))
    found: set = set()
    for i in range(0, len(values), 500):
        chunk = values[i:i + 500]
        found.update(r[0] for r in conn.execute(query.format(",".join("?" * len(chunk))), chunk))
    return found


def _incidents_with_keys(conn, keys: Iterable[str]) -> set[str]:
    return _select_in(conn, "SELECT DISTINCT incident_id FROM incident_keys WHERE key IN ({})", keys)


def _reports_of(conn, incident_ids: Iterable[str]) -> set[int]:
    return _select_in(conn, "SELECT report_id FROM incident_reports WHERE incident_id IN ({})", incident_ids)


def _fallback_neighbours(conn, rep: Rep, backend_name: str) -> set[int]:
    """Reports published within FALLBACK_DAYS whose lead embedding is very close (organization keys failed)."""
    if rep.vec is None or rep.published is None:
        return set()
    lo = (rep.published - timedelta(days=FALLBACK_DAYS)).isoformat()
    hi = (rep.published + timedelta(days=FALLBACK_DAYS)).isoformat() + "~"
    rows = conn.execute(
        "SELECT e.report_id, e.dim, e.vector FROM embeddings e "
        "JOIN reports r ON r.id = e.report_id JOIN documents d ON d.id = r.document_id "
        "JOIN incident_reports ir ON ir.report_id = r.id "
        "WHERE e.backend = ? AND d.published >= ? AND d.published <= ? AND r.id != ?",
        (backend_name, lo, hi, rep.rid),
    ).fetchall()
    if not rows:
        return set()
    from .embed import from_blob

    mat = np.stack([from_blob(b, d) for _, d, b in rows])
    sims = mat @ rep.vec
    return {rows[i][0] for i in np.nonzero(sims >= FALLBACK_COSINE)[0]}


# -- pairwise decisions ---------------------------------------------------------------------------------------
def _days(a: date, b: date) -> int:
    return abs((a - b).days)


def conflict(a: Rep, b: Rep) -> Optional[str]:
    """Why two reports cannot be one incident (symmetric), or None."""
    if a.manual_group and b.manual_group and a.manual_group != b.manual_group:
        return "manual"
    if a.published and b.published and _days(a.published, b.published) > WINDOW_DAYS:
        return "window"
    if a.incident and b.incident and _days(a.incident, b.incident) > INCIDENT_DATE_TOLERANCE:
        return "incident_dates"
    if a.discovered and b.discovered and _days(a.discovered, b.discovered) > INCIDENT_DATE_TOLERANCE:
        return "discovery_dates"
    if a.published and b.published and a.published != b.published:
        early, late = (a, b) if a.published < b.published else (b, a)
        event = late.incident or late.discovered
        if event and event > early.published + timedelta(days=NEWER_BREACH_SLACK):
            return "newer_breach"
        if (early.count and late.count is not None and (late.published - early.published).days > COUNT_DROP_DAYS
                and late.count < COUNT_DROP * early.count):
            return "count_drop"
    return None


def link_score(a: Rep, b: Rep) -> float:
    """How strongly two compatible reports are one incident (0: no link)."""
    shared = a.keys & b.keys
    cos = float(a.vec @ b.vec) if (a.vec is not None and b.vec is not None) else None
    if shared:
        if set(a.primary) & set(b.primary):
            score = 1.0
        else:
            # only through an alias (a supplier and its client, a parent company): weaker, and the
            # counts must not contradict each other
            if a.count and b.count and max(a.count, b.count) > ALIAS_COUNT_RATIO * min(a.count, b.count):
                return 0.0
            score = 0.6
        if cos is not None:
            score += 0.5 * (cos - 0.5)
        if a.count is not None and a.count == b.count:
            score += 0.1
        if (cos is not None and cos < DISTANT_COSINE and a.count and b.count
                and max(a.count, b.count) > FAR_COUNT_RATIO * min(a.count, b.count)):
            return 0.0  # counts wildly apart and texts unlike each other: two incidents of one organization
        if a.published and b.published:
            score -= 0.2 * min(_days(a.published, b.published) / 365.0, 1.5)
        return score if score >= LINK_THRESHOLD else 0.0
    if (cos is not None and cos >= FALLBACK_COSINE and a.published and b.published
            and _days(a.published, b.published) <= FALLBACK_DAYS
            and (a.count is None or b.count is None or a.count == b.count)):
        return cos
    return 0.0


def cluster(reps: list[Rep]) -> list[list[Rep]]:
    """Deterministic constrained clustering: best link first, never across a conflict."""
    reps = sorted(reps, key=lambda r: r.sort_key)
    n = len(reps)
    # start: one cluster per manual group, one per other report
    cid = list(range(n))
    groups: dict[str, int] = {}
    for i, r in enumerate(reps):
        if r.manual_group:
            cid[i] = groups.setdefault(r.manual_group, i)
    members: dict[int, list[int]] = {}
    for i in range(n):
        members.setdefault(cid[i], []).append(i)
    edges = []
    blocked: set[tuple[int, int]] = set()
    big = n > MAX_COMPONENT
    for i in range(n):
        for j in range(i + 1, n):
            if conflict(reps[i], reps[j]):
                blocked.add((i, j))
                continue
            s = 1.0 if (big and reps[i].keys & reps[j].keys) else (0.0 if big else link_score(reps[i], reps[j]))
            if s > 0:
                edges.append((-s, i, j))
    edges.sort()
    for _, i, j in edges:
        ci, cj = cid[i], cid[j]
        if ci == cj:
            continue
        mi, mj = members[ci], members[cj]
        if any((min(x, y), max(x, y)) in blocked for x in mi for y in mj):
            continue
        keep, drop = (ci, cj) if ci < cj else (cj, ci)
        members[keep] = sorted(members[keep] + members[drop])
        for x in members[drop]:
            cid[x] = keep
        del members[drop]
    return [[reps[i] for i in sorted(m)] for _, m in sorted(members.items())]


def incident_id_for(source_id: str) -> str:
    return "inc-" + hashlib.sha256(source_id.encode("utf-8")).hexdigest()[:16]


# -- best values and timeline ---------------------------------------------------------------------------------
def _org(rep: Rep) -> dict:
    return rep.rec.get("organization") or {}


def best_values(reps: list[Rep]) -> dict:
    reps = sorted(reps, key=lambda r: r.sort_key)
    best: dict = {"organization": None, "victims": {}, "data_types": [], "agencies": [], "dates": {}}
    named = [r for r in reps if _org(r).get("name")]
    if named:
        freq: dict[str, int] = {}
        for r in named:
            f = fold(_org(r)["name"])
            freq[f] = freq.get(f, 0) + 1
        top = min(named, key=lambda r: (KIND_RANK.get(r.kind, 3), -freq[fold(_org(r)["name"])], r.sort_key))
        o = _org(top)
        others: list[str] = []
        seen = {fold(o["name"])}
        for r in named:
            oo = _org(r)
            for s in [oo.get("name"), oo.get("acronym"), *(oo.get("aliases") or [])]:
                if s and fold(s) not in seen:
                    seen.add(fold(s))
                    others.append(s)
        acronym = o.get("acronym") or next((_org(r).get("acronym") for r in named if _org(r).get("acronym")), None)
        keys = sorted(set().union(*(r.keys for r in reps)))
        best["organization"] = {"name": o["name"], "acronym": acronym, "aliases": others, "keys": keys,
                                "report_id": top.rid, "source_id": top.source_id}
    counted = [r for r in reps if r.count is not None]
    if counted:
        dated = [r for r in counted if r.published] or counted
        latest = max(dated, key=lambda r: (r.published or date.min, r.count, r.source_id))
        v = latest.rec.get("victims") or {}
        best["victims"] = {"count": latest.count, "qualifier": v.get("qualifier"), "unit": v.get("unit"),
                           "report_id": latest.rid, "source_id": latest.source_id}
    codes: dict[str, list[Rep]] = {}
    agencies: dict[str, list[tuple[Rep, str]]] = {}
    for r in reps:
        for d in r.rec.get("data_types") or []:
            if d.get("code") and r not in codes.setdefault(d["code"], []):
                codes[d["code"]].append(r)
        for a in r.rec.get("agencies") or []:
            if a.get("code"):
                agencies.setdefault(a["code"], []).append((r, a.get("role") or "notified"))
    best["data_types"] = [{"code": c, "source_ids": [r.source_id for r in rs], "report_ids": [r.rid for r in rs]}
                          for c, rs in sorted(codes.items())]
    for c, pairs in sorted(agencies.items()):
        roles = {role for _, role in pairs}
        role = "both" if ("both" in roles or len(roles) > 1) else next(iter(roles))
        rs = []
        for r, _ in pairs:
            if r not in rs:
                rs.append(r)
        best["agencies"].append({"code": c, "role": role, "source_ids": [r.source_id for r in rs],
                                 "report_ids": [r.rid for r in rs]})
    for name in ("incident", "discovered", "contained", "disclosed"):
        cands = []
        for r in reps:
            v = (r.rec.get("dates") or {}).get(name)
            if isinstance(v, dict) and v.get("date"):
                cands.append((KIND_RANK.get(r.kind, 3), str(v["date"])[:10], r.source_id, r))
        if cands:
            _, d, _, r = min(cands, key=lambda x: x[:3])
            best["dates"][name] = {"date": d, "report_id": r.rid, "source_id": r.source_id}
    return best


def timeline(reps: list[Rep]) -> list[dict]:
    """Events derived from the reports in publication order (undated reports last, ``at`` null)."""
    events: list[dict] = []
    count = None
    codes: set[str] = set()
    agencies: set[str] = set()
    for i, r in enumerate(sorted(reps, key=lambda r: r.sort_key)):
        at = r.published.isoformat() if r.published else None
        base = {"at": at, "report_id": r.rid, "source_id": r.source_id}
        rc = [d["code"] for d in (r.rec.get("data_types") or []) if d.get("code")]
        ra = [a["code"] for a in (r.rec.get("agencies") or []) if a.get("code")]
        if i == 0:
            events.append({**base, "kind": "first_seen", "detail": {
                "organization": _org(r).get("name"), "count": r.count,
                "data_types": sorted(set(rc)), "agencies": sorted(set(ra)),
                "language": (r.rec.get("source") or {}).get("language") or r.doc.get("language"),
            }})
            count = r.count
            codes.update(rc)
            agencies.update(ra)
            continue
        events.append({**base, "kind": "report_added", "detail": {
            "language": (r.rec.get("source") or {}).get("language") or r.doc.get("language"),
            "kind": r.kind, "url": (r.rec.get("source") or {}).get("url") or r.doc.get("url")}})
        if r.count is not None and r.count != count:
            if count is None:
                events.append({**base, "kind": "count_revised", "detail": {"from": None, "to": r.count}})
            else:
                events.append({**base, "kind": "count_revised", "detail": {"from": count, "to": r.count}})
            count = r.count
        for c in sorted(set(rc) - codes):
            events.append({**base, "kind": "data_type_added", "detail": {"code": c}})
        codes.update(rc)
        for c in sorted(set(ra) - agencies):
            events.append({**base, "kind": "agency_added", "detail": {"code": c}})
        agencies.update(ra)
    return events


# -- writing incidents ----------------------------------------------------------------------------------------
def _component(conn, seed_ids: set[int], backend_name: Optional[str]) -> dict[int, Rep]:
    """The reports connected to the seeds by shared keys (through incident_keys) or the embedding fallback."""
    reps = _load_reps(conn, seed_ids)
    frontier = set(reps)
    seen_incidents: set[str] = set()
    while frontier:
        keys: set[str] = set()
        for rid in frontier:
            keys |= reps[rid].keys
        incs = _incidents_with_keys(conn, keys) | set(
            r[0] for r in conn.execute(
                f"SELECT incident_id FROM incident_reports WHERE report_id IN ({','.join('?' * len(frontier))})",
                sorted(frontier)))
        incs -= seen_incidents
        seen_incidents |= incs
        new_ids = _reports_of(conn, incs) - set(reps)
        if backend_name:
            fresh = [reps[rid] for rid in frontier]
            _load_vectors(conn, fresh, backend_name)
            for r in fresh:
                new_ids |= _fallback_neighbours(conn, r, backend_name) - set(reps)
        loaded = _load_reps(conn, new_ids)
        reps.update(loaded)
        frontier = set(loaded)
    return reps


def _write(conn, reps: dict[int, Rep], clusters: list[list[Rep]], now: str) -> dict[int, str]:
    """Replace the component's incidents by the clusters' incidents. Returns report id -> incident id."""
    rids = sorted(reps)
    old_incs: set[str] = set()
    for i in range(0, len(rids), 500):
        chunk = rids[i:i + 500]
        old_incs.update(r[0] for r in conn.execute(
            f"SELECT DISTINCT incident_id FROM incident_reports WHERE report_id IN ({','.join('?' * len(chunk))})", chunk))
    old_created: dict[str, str] = {}
    old_state: dict[str, tuple] = {}
    manual_events: list[tuple] = []
    for iid in sorted(old_incs):
        row = conn.execute("SELECT created_at, best_json, updated_at FROM incidents WHERE id=?", (iid,)).fetchone()
        if row:
            old_created[iid] = row[0]
            members = tuple(sorted(_reports_of(conn, [iid])))
            old_state[iid] = (row[1], members, row[2])
        manual_events += conn.execute(
            "SELECT at, kind, detail_json, report_id FROM timeline WHERE incident_id=? AND kind IN ('merged','split') ORDER BY id",
            (iid,)).fetchall()
    inc_of_report_before: dict[int, str] = {}
    for iid in old_incs:
        for rid in _reports_of(conn, [iid]):
            inc_of_report_before[rid] = iid
    for iid in sorted(old_incs):
        conn.execute("DELETE FROM timeline WHERE incident_id=?", (iid,))
        conn.execute("DELETE FROM incident_keys WHERE incident_id=?", (iid,))
        conn.execute("DELETE FROM incident_reports WHERE incident_id=?", (iid,))
        conn.execute("DELETE FROM incidents WHERE id=?", (iid,))
    placed: dict[int, str] = {}
    for members in clusters:
        members = sorted(members, key=lambda r: r.sort_key)
        iid = incident_id_for(members[0].source_id)
        best = best_values(members)
        best_json = json.dumps(best, ensure_ascii=False, sort_keys=True)
        mids = tuple(sorted(r.rid for r in members))
        prev = [inc_of_report_before.get(r.rid) for r in members if inc_of_report_before.get(r.rid)]
        created = old_created.get(iid) or min((old_created[p] for p in prev if p in old_created), default=now)
        old = old_state.get(iid)
        updated = old[2] if (old and old[:2] == (best_json, mids)) else now
        dated = [r.published for r in members if r.published]
        first = min(dated).isoformat() if dated else None
        last = max(dated).isoformat() if dated else None
        org_key = (members[0].primary or sorted(set().union(*(r.keys for r in members))) or [None])[0]
        conn.execute(
            "INSERT INTO incidents(id, org_key, best_json, first_seen, last_seen, created_at, updated_at) VALUES (?,?,?,?,?,?,?)",
            (iid, org_key, best_json, first, last, created, updated),
        )
        for k in sorted(set().union(*(r.keys for r in members))):
            conn.execute("INSERT OR IGNORE INTO incident_keys(incident_id, key) VALUES (?,?)", (iid, k))
        manual_ids = {r.rid for r in members if r.manual_group}
        for r in members:
            manual = 1 if r.rid in manual_ids else 0
            conn.execute("INSERT INTO incident_reports(incident_id, report_id, manual, attached_at) VALUES (?,?,?,?)",
                         (iid, r.rid, manual, r.attached_at or now))
            placed[r.rid] = iid
        for ev in timeline(members):
            conn.execute("INSERT INTO timeline(incident_id, at, kind, detail_json, report_id) VALUES (?,?,?,?,?)",
                         (iid, ev["at"], ev["kind"], json.dumps(ev["detail"], ensure_ascii=False, sort_keys=True),
                          ev["report_id"]))
    for at, kind, detail, rid in manual_events:
        if rid in placed:
            conn.execute("INSERT INTO timeline(incident_id, at, kind, detail_json, report_id) VALUES (?,?,?,?,?)",
                         (placed[rid], at, kind, detail, rid))
    return placed


def _recluster(conn, seed_ids: set[int], now: Optional[str] = None) -> dict[int, str]:
    backend = None
    try:
        backend = _backend()
    except Exception:  # a misconfigured optional backend must not stop ingestion: keys still match
        backend = None
    seeds = _load_reps(conn, seed_ids)
    if backend is not None:
        for r in seeds.values():
            r.vec = ensure_embedding(conn, r, backend)
    reps = _component(conn, set(seeds), backend.name if backend else None)
    for rid, r in seeds.items():
        if reps[rid].vec is None:
            reps[rid].vec = r.vec
    if backend is not None:
        missing = [r for r in reps.values() if r.vec is None]
        _load_vectors(conn, missing, backend.name)
    now = now or _now()
    clusters = cluster(list(reps.values()))
    return _write(conn, reps, clusters, now)


# -- public API -----------------------------------------------------------------------------------------------
def attach_report(conn, report_id: int) -> str:
    """Attach one stored report (an incident) to its incident; returns the incident id.

    Runs inside the caller's transaction. Re-clusters only the component the report touches.
    A report that is not an incident is left alone (returns "").
    """
    row = conn.execute("SELECT is_incident FROM reports WHERE id=?", (int(report_id),)).fetchone()
    if row is None:
        raise InputError(f"no report {report_id} in the store")
    if not row[0]:
        return ""
    placed = _recluster(conn, {int(report_id)})
    return placed[int(report_id)]


def rematch(conn) -> int:
    """Re-run automatic matching over every incident report (manual decisions are kept). Returns the incident count."""
    ids = [r[0] for r in conn.execute("SELECT id FROM reports WHERE is_incident=1 ORDER BY id")]
    done: set[int] = set()
    for rid in ids:
        if rid in done:
            continue
        placed = _recluster(conn, {rid})
        done.update(placed)
    return conn.execute("SELECT COUNT(*) FROM incidents").fetchone()[0]


def _resolve_report(conn, report: Union[int, str]) -> int:
    s = str(report).strip()
    if s.isdigit():
        row = conn.execute("SELECT id FROM reports WHERE id=?", (int(s),)).fetchone()
        if row:
            return row[0]
    row = conn.execute("SELECT id FROM reports WHERE source_id=?", (s,)).fetchone()
    if row:
        return row[0]
    raise InputError(f"no report {s!r} in the store (give a report id or a source id)")


def _check_incident(conn, iid: str) -> None:
    if not conn.execute("SELECT 1 FROM incidents WHERE id=?", (iid,)).fetchone():
        raise InputError(f"no incident {iid!r} in the store")


def merge_incidents(conn, a: str, b: str) -> str:
    """Manually merge two incidents into one (all their reports marked manual). Returns the incident id."""
    _check_incident(conn, a)
    _check_incident(conn, b)
    if a == b:
        raise InputError(f"cannot merge incident {a} with itself")
    now = _now()
    conn.execute("UPDATE incident_reports SET incident_id=?, manual=1 WHERE incident_id IN (?,?)", (a, a, b))
    rid = conn.execute("SELECT MIN(report_id) FROM incident_reports WHERE incident_id=?", (a,)).fetchone()[0]
    conn.execute("UPDATE timeline SET incident_id=? WHERE incident_id=?", (a, b))
    conn.execute("DELETE FROM incident_keys WHERE incident_id=?", (b,))
    conn.execute("DELETE FROM incidents WHERE id=?", (b,))
    conn.execute("INSERT INTO timeline(incident_id, at, kind, detail_json, report_id) VALUES (?,?,?,?,?)",
                 (a, now[:10], "merged", json.dumps({"incidents": sorted([a, b]), "manual": True}), rid))
    placed = _recluster(conn, {rid}, now)
    return placed[rid]


def split_report(conn, incident_id: str, report: Union[int, str]) -> str:
    """Manually move one report out of an incident into its own. Returns the new incident's id."""
    _check_incident(conn, incident_id)
    rid = _resolve_report(conn, report)
    row = conn.execute("SELECT incident_id FROM incident_reports WHERE report_id=?", (rid,)).fetchone()
    if not row or row[0] != incident_id:
        raise InputError(f"report {report} is not in incident {incident_id}")
    others = [r[0] for r in conn.execute(
        "SELECT report_id FROM incident_reports WHERE incident_id=? AND report_id != ?", (incident_id, rid))]
    if not others:
        raise InputError(f"report {report} is the only report of incident {incident_id}: nothing to split")
    now = _now()
    sid = conn.execute("SELECT source_id FROM reports WHERE id=?", (rid,)).fetchone()[0]
    tmp = "split-" + incident_id_for(f"{sid}")  # a temporary id; re-clustering names it
    conn.execute(
        "INSERT INTO incidents(id, org_key, best_json, first_seen, last_seen, created_at, updated_at) "
        "VALUES (?,NULL,'{}',NULL,NULL,?,?)", (tmp, now, now))
    conn.execute("UPDATE incident_reports SET manual=1 WHERE incident_id=?", (incident_id,))
    conn.execute("UPDATE incident_reports SET incident_id=?, manual=1 WHERE report_id=?", (tmp, rid))
    detail = json.dumps({"from": incident_id, "report_id": rid, "source_id": sid, "manual": True})
    conn.execute("INSERT INTO timeline(incident_id, at, kind, detail_json, report_id) VALUES (?,?,?,?,?)",
                 (tmp, now[:10], "split", detail, rid))
    conn.execute("INSERT INTO timeline(incident_id, at, kind, detail_json, report_id) VALUES (?,?,?,?,?)",
                 (incident_id, now[:10], "split", detail, min(others)))
    placed = _recluster(conn, {rid, *others}, now)
    return placed[rid]


# -- reading incidents ----------------------------------------------------------------------------------------
def get_incident(conn, incident_id: str) -> dict:
    row = conn.execute(
        "SELECT id, best_json, first_seen, last_seen, created_at, updated_at FROM incidents WHERE id=?",
        (incident_id,)).fetchone()
    if row is None:
        raise InputError(f"no incident {incident_id!r} in the store")
    return _incident_dict(conn, row)


def _incident_dict(conn, row) -> dict:
    iid, best_json, first, last, created, updated = row
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
    events = []
    for at, kind, detail, rid in conn.execute(
            "SELECT at, kind, detail_json, report_id FROM timeline WHERE incident_id=? ORDER BY id", (iid,)):
        events.append({"at": at, "kind": kind, "detail": json.loads(detail), "report_id": rid,
                       "source_id": sid_of.get(rid)})
    inc = Incident(
        id=iid, organization=best.get("organization"), victims=best.get("victims") or {},
        data_types=best.get("data_types") or [], agencies=best.get("agencies") or [], dates=best.get("dates") or {},
        first_seen=first, last_seen=last, reports=reports, timeline=events, created_at=created, updated_at=updated,
    )
    return inc.model_dump(mode="json")


def export_incidents(conn, since: Optional[str] = None) -> Iterator[dict]:
    """Every incident (or those updated at or after ``since``, an ISO timestamp or day), by id."""
    q = "SELECT id, best_json, first_seen, last_seen, created_at, updated_at FROM incidents"
    args: tuple = ()
    if since:
        q += " WHERE updated_at >= ?"
        args = (str(since),)
    for row in conn.execute(q + " ORDER BY id", args).fetchall():
        yield _incident_dict(conn, tuple(row))


# -- importing records ----------------------------------------------------------------------------------------
def store_record(conn, record: Union[dict, "object"], text: Optional[str] = None, now: Optional[str] = None) -> int:
    """Store one Record (a dict or a `Record`) as a documents row and a reports row; returns the report id.

    A record whose source.id is already stored replaces the old report (same document row).
    ``text`` is the document text when known; records do not carry it, so it is '' otherwise.
    """
    from .record import SCHEMA_VERSION, Record

    if not isinstance(record, Record):
        try:
            record = Record.model_validate(record)
        except Exception as err:
            raise InputError(f"not a valid record: {str(err).splitlines()[0]}") from None
    if text is None:
        text = getattr(record, "_text", None) or ""
    src = record.source
    sid = src.id
    if not sid:
        basis = src.url or record.text_sha256 or record.to_json()
        sid = hashlib.sha256(basis.encode("utf-8")).hexdigest()[:16]
    now = now or _now()
    published = src.published.isoformat() if src.published else None
    if src.published and src.published_precision == "month":
        published = published[:7]
    row = conn.execute("SELECT id FROM documents WHERE source_id=?", (sid,)).fetchone()
    if row:
        doc_id = row[0]
        conn.execute("UPDATE documents SET url=?, title=?, publisher=?, published=?, language=?, "
                     "text=CASE WHEN ?='' THEN text ELSE ? END WHERE id=?",
                     (src.url, src.title, src.publisher, published, src.language, text, text, doc_id))
    else:
        cur = conn.execute(
            "INSERT INTO documents(source_id, url, canonical_url, title, publisher, published, language, text, fetched_at) "
            "VALUES (?,?,?,?,?,?,?,?,?)", (sid, src.url, src.url, src.title, src.publisher, published, src.language, text, now))
        doc_id = cur.lastrowid
    rj = record.to_json()
    row = conn.execute("SELECT id FROM reports WHERE document_id=?", (doc_id,)).fetchone()
    if row:
        conn.execute("UPDATE reports SET source_id=?, is_incident=?, record_json=?, schema_version=? WHERE id=?",
                     (sid, int(record.is_incident), rj, record.schema_version or SCHEMA_VERSION, row[0]))
        conn.execute("DELETE FROM embeddings WHERE report_id=?", (row[0],))
        return row[0]
    cur = conn.execute(
        "INSERT INTO reports(document_id, source_id, is_incident, record_json, schema_version, created_at) VALUES (?,?,?,?,?,?)",
        (doc_id, sid, int(record.is_incident), rj, record.schema_version or SCHEMA_VERSION, now))
    return cur.lastrowid


def import_record(conn, record, text: Optional[str] = None) -> Optional[str]:
    """Store a record and, when it is an incident, attach it. Returns the incident id (None if not an incident)."""
    rid = store_record(conn, record, text)
    is_inc = conn.execute("SELECT is_incident FROM reports WHERE id=?", (rid,)).fetchone()[0]
    if not is_inc:
        # a re-imported record that is no longer an incident leaves its incident
        old = conn.execute("SELECT incident_id FROM incident_reports WHERE report_id=?", (rid,)).fetchone()
        if old:
            others = _reports_of(conn, [old[0]]) - {rid}
            conn.execute("DELETE FROM incident_reports WHERE report_id=?", (rid,))
            conn.execute("UPDATE timeline SET report_id=NULL WHERE report_id=?", (rid,))
            if others:
                _recluster(conn, others)
            else:
                for t in ("timeline", "incident_keys"):
                    conn.execute(f"DELETE FROM {t} WHERE incident_id=?", (old[0],))
                conn.execute("DELETE FROM incidents WHERE id=?", (old[0],))
        return None
    return attach_report(conn, rid)
