"""Fit the agency role weights (resources/shared/agency_weights.json) on train; report CV and dev.

Every (agency mention, role) pair the `incident_agencies` component finds is a candidate with
features computed from its clause (a cue of the role before/after it, in the rest of the
sentence or the next one, negation, hypothetical, question, generic or anaphoric name...). An
authority keeps a role when its best mention scores above the threshold for it. The gold says
which authorities have which role per document, not which mention says so; so the fit is a
multiple-instance logistic regression: for each (authority, role) of a document, the mention that
scores best under the current weights is the example (positive when the gold has that authority
with that role, negative otherwise), its other mentions are left out; a few rounds.

Figures, over gold incidents, as `incidents eval` scores them: micro P/R/F1 of the authority
codes per language, and the share of found authorities whose role (notified, investigating,
both) is the gold's. Printed: the 5-fold cross-validated figures on train (folds grouped by
incident_key, fitlib.cross_validate) and the dev figures of the weights fitted on all of train.

    python eval/fit_agencies.py [--l2 5.0] [--rounds 4] [--write]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fitlib  # noqa: E402

OUT = fitlib.ROOT / "extractor" / "resources" / "shared" / "agency_weights.json"


def collect(gold_docs: list[dict]) -> list[dict]:
    """Per gold document: its candidates, gold roles, language, and the codes that are its own organization."""
    from extractor.components.agency_filter import AgencyFilter, _fold

    filt = None
    out = []
    for d in gold_docs:
        prep, doc = fitlib.pipeline_doc(d)
        filt = filt or AgencyFilter()
        org = doc._.organization or {}
        own = {_fold(n) for n in [org.get("name"), org.get("acronym"), *(org.get("aliases") or [])] if n} - {""}
        cands = doc._.agency_candidates or []
        self_codes = {c["code"] for c in cands if own & (filt.names.get(c["code"], set()) | {_fold(doc.text[c["start"]:c["end"]])})}
        g = d["gold"]
        out.append({"id": d["id"], "lang": prep.language, "incident": bool(g.get("is_incident")),
                    "gold": dict(g.get("agency_roles") or {c: None for c in g.get("agencies") or []}),
                    "cands": cands, "self": self_codes, "org_span": (org.get("start"), org.get("end"))})
    return out


def names_of(data: list[dict]) -> list[str]:
    return sorted({k for d in data for c in d["cands"] for k in c["features"]})


def has_role(gold_role, role: str) -> bool:
    return gold_role in (role, "both")


def predict(d: dict, w: dict, info: dict) -> dict[str, str]:
    from extractor.components.agencies import select

    chosen = select(d["cands"], w, info)
    out = {}
    for code, roles in chosen.items():
        i = max(roles.values())[1]
        if code in d["self"] and d["org_span"] != (d["cands"][i]["start"], d["cands"][i]["end"]) \
                and (info[code].get("police") or "investigating" not in roles):
            continue  # as incident_agency_filter does
        out[code] = "both" if len(roles) > 1 else next(iter(roles))
    return out


def fit(data: list[dict], idx: list[int], names: list[str], start: dict, l2: float, rounds: int) -> dict:
    from extractor.components.agencies import score

    w = start
    for _ in range(rounds):
        X, y = [], []
        for i in idx:
            d = data[i]
            if not d["incident"]:
                continue
            bags: dict[tuple[str, str], list[dict]] = {}
            for c in d["cands"]:
                bags.setdefault((c["code"], c["role"]), []).append(c)
            for (code, role), cs in bags.items():
                # the bag's decision is its best mention: that one is the example, right or wrong
                best = max(cs, key=lambda c: score(c["features"], w))
                X.append([best["features"].get(n, 0.0) for n in names])
                y.append(1.0 if code in d["gold"] and has_role(d["gold"][code], role) else 0.0)
        coef, b = fitlib.fit_logistic(np.array(X), np.array(y), l2=l2)
        w = {"bias": round(float(b), 4), "threshold": 0.0,
             "features": {n: round(float(v), 4) for n, v in zip(names, coef)}}
    return w


def tally(data: list[dict], idx: list[int], w: dict, info: dict) -> dict:
    t = {}
    for i in idx:
        d = data[i]
        if not d["incident"]:
            continue
        s = t.setdefault(d["lang"], {"tp": 0, "fp": 0, "fn": 0, "role_right": 0})
        got = predict(d, w, info)
        gold = d["gold"]
        s["tp"] += len(set(got) & set(gold))
        s["fp"] += len(set(got) - set(gold))
        s["fn"] += len(set(gold) - set(got))
        s["role_right"] += sum(1 for c in set(got) & set(gold) if gold[c] is None or gold[c] == got[c])
    return t


def figures(t: dict) -> str:
    parts = []
    for lang in sorted(t):
        s = t[lang]
        p = s["tp"] / (s["tp"] + s["fp"]) if s["tp"] + s["fp"] else 0.0
        r = s["tp"] / (s["tp"] + s["fn"]) if s["tp"] + s["fn"] else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        role = s["role_right"] / s["tp"] if s["tp"] else 0.0
        parts.append(f"{lang}: P {p:.3f} R {r:.3f} F1 {f:.3f}, roles right {role:.3f} (of {s['tp']})")
    return "; ".join(parts)


def merge(a: dict, b: dict) -> dict:
    for lang, s in b.items():
        m = a.setdefault(lang, {k: 0 for k in s})
        for k, v in s.items():
            m[k] += v
    return a


PARSER = fitlib.parser(__doc__, 5.0, "L2 penalty (5: the best 5-fold CV F1 of 1, 2, 5, 10, 20)",
                       "the weights fitted on all of train", "list the train documents the current weights get wrong")
PARSER.add_argument("--rounds", type=int, default=4)
PARSER.add_argument("--dev-errors", action="store_true", help="also list dev's (to read, never to fit on)")


def run(a, train_docs: list[dict], dev_docs: list[dict]) -> int:
    from extractor.components.agencies import gazetteer, weights

    info = {row["code"]: row for row in gazetteer()}
    train, dev = collect(train_docs), collect(dev_docs)
    names = names_of(train + dev)
    start = weights()
    print("current weights: train", figures(tally(train, list(range(len(train))), start, info)))
    print("current weights: dev  ", figures(tally(dev, list(range(len(dev))), start, info)))

    if a.errors or a.dev_errors:
        for d in train * a.errors + dev * a.dev_errors:
            if d["incident"]:
                got = predict(d, start, info)
                if got != {c: (r or got.get(c)) for c, r in d["gold"].items()}:
                    print(f"  {d['id']}: got {got}, gold {d['gold']}")
    pooled: dict = {}

    def fit_fold(idx):
        return fit(train, idx, names, start, a.l2, a.rounds)

    def score_fold(w, idx):
        t = tally(train, idx, w, info)
        merge(pooled, t)
        tp = sum(s["tp"] for s in t.values())
        wrong = sum(s["fp"] + s["fn"] for s in t.values())
        return 2 * tp, 2 * tp + wrong  # pooled micro F1 = 2tp / (2tp + fp + fn)

    cv = fitlib.cross_validate(train_docs, fit_fold, score_fold, k=a.k)
    w = fit(train, list(range(len(train))), names, start, a.l2, a.rounds)
    fitlib.report(a.k, f"F1 {cv['accuracy']}, per fold {cv['per_fold']}; {figures(pooled)}",
                  figures(tally(train, list(range(len(train))), w, info)),
                  figures(tally(dev, list(range(len(dev))), w, info)))
    print(json.dumps(w, indent=2))
    if a.write:
        w["_doc"] = "Weights of the (agency mention, role) score, fitted by eval/fit_agencies.py on train."
        fitlib.write_weights(OUT, names, np.array([w["features"][n] for n in names]),
                             {"_doc": w["_doc"], "bias": w["bias"], "threshold": w["threshold"]})
        print(f"wrote {OUT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(fitlib.main(run, PARSER))
