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
# two numbers. Both tables are emptied when full or when the [merge] settings change.
_TOKENS: dict[tuple, int] = {}
_PAIRS: dict[tuple, tuple] = {}
_CACHE_MAX = 400_000
_CACHE_SETTINGS: list = [None]
_UNREAD = {"rec", "doc", "attached_at"}


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


def _token(r: Rep) -> int:
    t = tuple(_hashable(getattr(r, f.name)) for f in dataclasses.fields(r) if f.name not in _UNREAD)
    n = _TOKENS.get(t)
    if n is None:
        n = _TOKENS[t] = len(_TOKENS)
    return n


def _pair_cache() -> dict:
    now = tuple(sorted(settings.section("merge").items()))
    if _CACHE_SETTINGS[0] != now or len(_PAIRS) > _CACHE_MAX or len(_TOKENS) > _CACHE_MAX:
        _PAIRS.clear()
        _TOKENS.clear()
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
    for group in _link_groups(n, score, [r.manual_group for r in reps]):
        members.update(_agglomerate(group, reps, score, support, blocked))
    return [[reps[i] for i in m] for _, m in sorted(members.items())]


def _agglomerate(group: list[int], reps: list[Rep], score: dict, support: dict, blocked: set) -> dict[int, list[int]]:
    """The clusters of one link group (indices into `reps`), keyed by their first index."""
    members: dict[int, list[int]] = {}
    for i in group:  # one cluster per manual group, one per other report
        r = reps[i]
        members.setdefault(next((k for k in group if k < i and r.manual_group and reps[k].manual_group == r.manual_group),
                                i), []).append(i)

    def pair(x: int, y: int) -> tuple[int, int]:
        return (x, y) if x < y else (y, x)

    def linkage(a: list[int], b: list[int]) -> float:
        if any(pair(x, y) in blocked for x in a for y in b):
            return -1.0
        vals = [score.get(pair(x, y), 0.0) for x in a for y in b]
        linked = [v for v in vals if v > 0]
        if not linked:
            return 0.0
        # average over the pairs, a missing link counting half a threshold, so a chain of two good links
        # holds but one link cannot glue two large groups
        miss = S("missing_link_value")
        return sum(v if v > 0 else miss for v in vals) / len(vals)

    def evidence_of(a: list[int], b: list[int]) -> float:
        vals = [support[pair(x, y)] for x in a for y in b if pair(x, y) in support]
        return sum(vals) / len(vals) if vals else 0.0

    threshold = S("link_threshold")
    margin = S("contest_margin")
    refused: set[tuple[int, int]] = set()
    # The linkage of every two clusters, and the pairs at or above the threshold, kept up to date: a join recomputes
    # only the pairs of the joined cluster. The best pair is searched among the eligible ones in the order of the
    # full scan (by first, then second cluster), so it is the same pair.
    ids = sorted(members)
    table: dict[tuple[int, int], float] = {}
    eligible: dict[tuple[int, int], float] = {}
    for x in range(len(ids)):
        for y in range(x + 1, len(ids)):
            v = table[(ids[x], ids[y])] = linkage(members[ids[x]], members[ids[y]])
            if v >= threshold:
                eligible[(ids[x], ids[y])] = v
    tops: dict[tuple[int, int], float] = {}  # the best single link between two clusters (the contest test)

    def top(x: int, y: int) -> float:
        p = pair(x, y)
        t = tops.get(p)
        if t is None:
            t = tops[p] = max(score.get(pair(i, j), 0.0) for i in members[x] for j in members[y])
        return t

    while len(members) > 1:
        best = None
        for (a, b) in sorted(eligible):
            v = eligible[(a, b)]
            if (a, b) not in refused and (best is None or v > best[0] + 1e-12):
                best = (v, a, b)
        if best is None:
            break
        v, a, b = best
        # a cluster one of whose reports also fits a third cluster that conflicts with its partner joins only on
        # clear evidence (one report's link is enough: a group's average must not hide the report that is contested)
        contested = False
        for me, other in ((a, b), (b, a)):
            for c in ids:
                if c in (a, b):
                    continue
                vc = top(me, c)
                if (vc >= threshold and table.get(pair(other, c), 0.0) < 0
                        and evidence_of(members[me], members[other]) - evidence_of(members[me], members[c]) < margin):
                    contested = True
        if contested:
            refused.add((a, b))
            continue
        keep, drop = (a, b) if a < b else (b, a)
        members[keep] = sorted(members[keep] + members[drop])
        del members[drop]
        ids.remove(drop)
        for c in ids:
            for z in (keep, drop):
                p = pair(z, c)
                table.pop(p, None)
                eligible.pop(p, None)
                tops.pop(p, None)
        table.pop((keep, drop), None)
        eligible.pop((keep, drop), None)
        tops.pop((keep, drop), None)
        for c in ids:
            if c != keep:
                p = pair(keep, c)
                v = table[p] = linkage(members[p[0]], members[p[1]])
                if v >= threshold:
                    eligible[p] = v
        refused = {p for p in refused if drop not in p and keep not in p}
    return members
