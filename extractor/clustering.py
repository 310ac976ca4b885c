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


def cluster(reps: list[Rep]) -> list[list[Rep]]:
    """Deterministic constrained average-linkage clustering (see the module docstring)."""
    reps = sorted(reps, key=lambda r: r.sort_key)
    n = len(reps)
    big = n > S("max_component")
    score: dict[tuple[int, int], float] = {}
    support: dict[tuple[int, int], float] = {}   # the evidence of linked pairs (names aside)
    blocked: set[tuple[int, int]] = set()
    for i in range(n):
        for j in range(i + 1, n):
            if conflict(reps[i], reps[j]):
                blocked.add((i, j))
                continue
            if big:
                s = 1.0 if key_strength(reps[i], reps[j]) > 0 else 0.0
            else:
                s = link_score(reps[i], reps[j])
            if s > 0:
                score[(i, j)] = s
                support[(i, j)] = evidence(reps[i], reps[j])
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
    while len(members) > 1:
        ids = sorted(members)
        best = None
        table: dict[tuple[int, int], float] = {}
        for x in range(len(ids)):
            for y in range(x + 1, len(ids)):
                a, b = ids[x], ids[y]
                v = linkage(members[a], members[b])
                table[(a, b)] = v
                if v >= threshold and (a, b) not in refused and (best is None or v > best[0] + 1e-12):
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
                vc = max(score.get(pair(x, y), 0.0) for x in members[me] for y in members[c])
                if (vc >= threshold and table.get(pair(other, c), 0.0) < 0
                        and evidence_of(members[me], members[other]) - evidence_of(members[me], members[c]) < margin):
                    contested = True
        if contested:
            refused.add((a, b))
            continue
        keep, drop = (a, b) if a < b else (b, a)
        members[keep] = sorted(members[keep] + members[drop])
        del members[drop]
        refused = {p for p in refused if drop not in p and keep not in p}
    return members
