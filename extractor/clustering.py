"""Clustering: reports into incidents, from the pairwise decisions of extractor/matching.py (pure functions).

`cluster(reps)` is average-linkage clustering that never joins across a conflict, where a report that fits two
incidents that conflict with each other joins one only when its evidence (texts, counts, data types, agencies,
dates: not the names) clearly prefers it, and otherwise stays alone for review.

Two clusters join only through linked pairs, and a contest only involves clusters linked to one of the two, so
the reports fall apart into *link groups* (connected by links or a manual decision) that are clustered one by
one: the same result as clustering them all at once, at the cost of the largest group instead of the whole set.
The result depends only on the set of reports, never on their order.
"""

from __future__ import annotations

import dataclasses
import heapq

import numpy as np

from . import settings
from .matching import Rep, S, conflict, evidence, key_strength, link_score


def _link_groups(n: int, edges, manual: list) -> list[list[int]]:
    """The connected components of `edges` (and of equal manual groups) over 0..n-1, each sorted, by first index."""
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(x: int, y: int) -> None:
        rx, ry = find(x), find(y)
        if rx != ry:
            parent[max(rx, ry)] = min(rx, ry)

    for i, j in edges:
        union(i, j)
    first: dict[str, int] = {}
    for i, g in enumerate(manual):
        if g:
            union(first.setdefault(g, i), i)
    groups: dict[int, list[int]] = {}
    for i in range(n):
        groups.setdefault(find(i), []).append(i)
    return [groups[k] for k in sorted(groups)]


def _decide(a: Rep, b: Rep, big: bool) -> tuple[bool, float, float]:
    """(conflict, link score, evidence) of two reports in publication order (pure)."""
    if conflict(a, b):
        return True, 0.0, 0.0
    s = (1.0 if key_strength(a, b) > 0 else 0.0) if big else link_score(a, b)
    return False, s, (evidence(a, b) if s > 0 else 0.0)


# The decisions on pairs already seen, across calls: a component is clustered again at every attach within its
# reach, and most of its pairs are the same. A report is known by every field of its Rep that a decision may read
# (all of them but the record and document it was derived from and its attach time), numbered once; a pair by the
# two numbers. Both tables are emptied when full or when the [merge] settings change. The fields a copy of a
# cached Rep shares with it are numbered once per Rep (in its memo), its embedding and manual decision every time.
_TOKENS: dict[tuple, int] = {}
_PAIRS: dict[tuple, tuple] = {}
_CACHE_MAX = 400_000
_CACHE_SETTINGS: list = [None]
_GENERATION = [0]
_UNREAD = {"rec", "doc", "attached_at", "memo"}
_OWN = ("vec", "manual_group")


def _hashable(v):
    if isinstance(v, np.ndarray):
        return (v.dtype.str, v.shape, v.tobytes())
    if isinstance(v, (list, tuple)):
        return tuple(_hashable(x) for x in v)
    if isinstance(v, (set, frozenset)):
        return frozenset(v)
    if isinstance(v, dict):
        return tuple(sorted((k, _hashable(x)) for k, x in v.items()))
    if dataclasses.is_dataclass(v):
        return (type(v).__name__, *(_hashable(getattr(v, f.name)) for f in dataclasses.fields(v)))
    return v


def _number(t: tuple) -> int:
    n = _TOKENS.get(t)
    if n is None:
        n = _TOKENS[t] = len(_TOKENS)
    return n


def _token(r: Rep) -> int:
    base = r.memo.get("token")
    if base is None or base[0] != _GENERATION[0]:
        t = tuple(_hashable(getattr(r, f.name)) for f in dataclasses.fields(r) if f.name not in _UNREAD | set(_OWN))
        base = r.memo["token"] = (_GENERATION[0], _number(("base", t)))
    return _number((base[1], _hashable(r.vec), r.manual_group))


def _pair_cache() -> dict:
    now = tuple(sorted(settings.section("merge").items()))
    if _CACHE_SETTINGS[0] != now or len(_PAIRS) > _CACHE_MAX or len(_TOKENS) > _CACHE_MAX:
        _PAIRS.clear()
        _TOKENS.clear()
        _GENERATION[0] += 1
        _CACHE_SETTINGS[0] = now
    return _PAIRS


def cluster(reps: list[Rep]) -> list[list[Rep]]:
    """Deterministic constrained average-linkage clustering (see the module docstring)."""
    reps = sorted(reps, key=lambda r: r.sort_key)
    n = len(reps)
    big = n > S("max_component")
    score: dict[tuple[int, int], float] = {}
    support: dict[tuple[int, int], float] = {}   # the evidence of linked pairs (names aside)
    blocked: set[tuple[int, int]] = set()
    pairs = _pair_cache()
    tokens = [_token(r) for r in reps]
    for i in range(n):
        for j in range(i + 1, n):
            key = (tokens[i], tokens[j], big)
            hit = pairs.get(key)
            if hit is None:
                hit = pairs[key] = _decide(reps[i], reps[j], big)
            if hit[0]:
                blocked.add((i, j))
            elif hit[1] > 0:
                score[(i, j)] = hit[1]
                support[(i, j)] = hit[2]
    members: dict[int, list[int]] = {}
    groups = _link_groups(n, score, [r.manual_group for r in reps])
    gid = {i: g for g, group in enumerate(groups) for i in group}
    pairs_of: dict[int, list] = {}  # the pairs of each group, linked or in conflict (a conflict may cross groups)
    for p in score:
        pairs_of.setdefault(gid[p[0]], []).append(p)
    for p in blocked:
        if gid[p[0]] == gid[p[1]]:
            pairs_of.setdefault(gid[p[0]], []).append(p)
    for g, group in enumerate(groups):
        members.update(_agglomerate(group, reps, pairs_of.get(g, []), score, support, blocked))
    return [[reps[i] for i in m] for _, m in sorted(members.items())]


def _agglomerate(group: list[int], reps: list[Rep], group_pairs: list, score: dict, support: dict,
                 blocked: set) -> dict[int, list[int]]:
    """The clusters of one link group (indices into `reps`), keyed by their first index.

    Average linkage from sums kept per pair of clusters: for each two clusters with a link or a conflict between
    them, the sum and number of their linked pairs, whether a pair conflicts, their best single link and the sum
    of their links' evidence. A join adds the sums of its two clusters (a missing link counts missing_link_value,
    from the sizes), so it costs the clusters it is linked to, never the pairs of reports again; the best pair is
    taken from heaps (ties: the first in the order of the clusters' first reports)."""
    members: dict[int, list[int]] = {}
    first: dict[str, int] = {}
    for i in group:  # one cluster per manual group (keyed by its first report), one per other report
        g = reps[i].manual_group
        members.setdefault(first.setdefault(g, i) if g else i, []).append(i)
    if len(members) < 2:
        return members
    cid = {i: c for c, m in members.items() for i in m}
    threshold = S("link_threshold")
    margin = S("contest_margin")
    miss = S("missing_link_value")
    # per pair of clusters (x < y): [linked pairs' score sum, linked pairs, any conflict, best link, evidence sum]
    agg: dict[tuple[int, int], list] = {}
    nb: dict[int, set[int]] = {c: set() for c in members}  # the clusters each one has an entry with
    bl: dict[int, set[int]] = {c: set() for c in members}  # those it is in conflict with
    for p in group_pairs:
        x, y = cid[p[0]], cid[p[1]]
        if x == y:
            continue
        q = (x, y) if x < y else (y, x)
        a = agg.get(q)
        if a is None:
            a = agg[q] = [0.0, 0, False, 0.0, 0.0]
            nb[x].add(y)
            nb[y].add(x)
        if p in blocked:
            a[2] = True
            bl[x].add(y)
            bl[y].add(x)
        else:
            v = score[p]
            a[0] += v
            a[1] += 1
            a[3] = max(a[3], v)
            a[4] += support[p]

    def pair(x: int, y: int) -> tuple[int, int]:
        return (x, y) if x < y else (y, x)

    def linkage(q: tuple[int, int]) -> float:
        a = agg.get(q)
        if a is None:
            return 0.0
        if a[2]:
            return -1.0
        if not a[1]:
            return 0.0
        n = len(members[q[0]]) * len(members[q[1]])
        # average over the pairs, a missing link counting half a threshold, so a chain of two good links
        # holds but one link cannot glue two large groups
        return (a[0] + miss * (n - a[1])) / n

    def evidence_of(q: tuple[int, int]) -> float:
        a = agg.get(q)
        return a[4] / a[1] if a is not None and a[1] else 0.0

    # the pairs at or above the threshold by linkage: the distinct values in a heap, each value's pairs in a heap
    # (entries left behind by a join or a refusal are skipped when met)
    eligible: dict[tuple[int, int], float] = {}
    values: list[float] = []
    by_value: dict[float, list] = {}
    refused: set[tuple[int, int]] = set()

    def push(q: tuple[int, int], v: float) -> None:
        eligible[q] = v
        h = by_value.get(v)
        if h is None:
            h = by_value[v] = []
            heapq.heappush(values, -v)
        heapq.heappush(h, q)

    def first_of(v: float):
        h = by_value.get(v)
        while h and (eligible.get(h[0]) != v or h[0] in refused):
            heapq.heappop(h)
        return h[0] if h else None

    def best_pair():
        """The pair of the highest linkage; among those within 1e-12 of it, the first by clusters."""
        top, found, seen = None, [], []
        while values:
            v = -values[0]
            if top is not None and v < top - 1e-12:
                break
            heapq.heappop(values)
            q = first_of(v)
            if q is None:
                by_value.pop(v, None)
                continue
            seen.append(-v)
            if top is None:
                top = v
            found.append(q)
        for nv in seen:
            heapq.heappush(values, nv)
        return min(found) if found else None

    for q in agg:
        v = linkage(q)
        if v >= threshold:
            push(q, v)
    while True:
        best = best_pair()
        if best is None:
            break
        a, b = best
        # a cluster one of whose reports also fits a third cluster that conflicts with its partner joins only on
        # clear evidence (one report's link is enough: a group's average must not hide the report that is contested)
        contested = False
        for me, other in ((a, b), (b, a)):
            for c in bl[other]:
                if c != me and c in nb[me] and agg[pair(me, c)][3] >= threshold and (
                        evidence_of(pair(me, other)) - evidence_of(pair(me, c)) < margin):
                    contested = True
                    break
            if contested:
                break
        if contested:
            refused.add((a, b))
            continue
        keep, drop = a, b  # a < b: the kept cluster's first report is the earlier
        members[keep] = sorted(members[keep] + members[drop])
        del members[drop]
        del agg[(keep, drop)]
        eligible.pop((keep, drop), None)
        nb[keep].discard(drop)
        nb[drop].discard(keep)
        bl.pop(drop)
        for c in nb.pop(drop):
            d = agg.pop(pair(drop, c))
            eligible.pop(pair(drop, c), None)
            nb[c].discard(drop)
            bl[c].discard(drop)
            k = agg.get(pair(keep, c))
            if k is None:
                k = agg[pair(keep, c)] = d
                nb[keep].add(c)
                nb[c].add(keep)
            else:
                k[0] += d[0]
                k[1] += d[1]
                k[2] = k[2] or d[2]
                k[3] = max(k[3], d[3])
                k[4] += d[4]
            if k[2]:
                bl[keep].add(c)
                bl[c].add(keep)
        refused = {p for p in refused if drop not in p and keep not in p}
        for c in nb[keep]:
            q = pair(keep, c)
            v = linkage(q)
            if v >= threshold:
                push(q, v)
            else:
                eligible.pop(q, None)
    return members
