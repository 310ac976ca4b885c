"""Fit the victim-count selection weights (resources/shared/count_weights.json).

Every count candidate `incident_counts` finds in a document gets the features the component
computes (unit class, qualifier, cue words of the affected group, of recipients, insiders, a
whole population or a statistic, another organization in its clause, rounding, revision
markers, position...). The choice among a document's candidates plus a "none" row (no count
stated) is a conditional logit (`fitlib.fit_choice`), fitted on train. Prints the grouped
k-fold cross-validated accuracy on train (by incident_key) and the dev accuracy of the weights
fitted on all of train, per language; writes the weights only with --write.

    python eval/fit_counts.py [--l2 4.0] [--k 5] [--write] [--errors]
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import fitlib  # noqa: E402

AFTER = "incident_data_types"  # the component after incident_counts: the pipeline stops there
OUT = fitlib.ROOT / "extractor" / "resources" / "shared" / "count_weights.json"


def collect(gold_docs: list[dict]) -> list[dict]:
    """Per gold incident: the candidates' feature matrix (the "none" row last), values, gold value."""
    from extractor.components.counts import FEATURES

    rows = []
    for d in gold_docs:
        g = d.get("gold") or {}
        if not g.get("is_incident"):
            continue
        prep, doc = fitlib.pipeline_doc(d, until=AFTER)  # only what the count stage reads
        cands = doc._.count_candidates or []
        none_f = doc._.count_none_features or {"none": 1.0}
        F = [[c.features.get(k, 0.0) for k in FEATURES] for c in cands]
        F.append([none_f.get(k, 0.0) for k in FEATURES])
        rows.append({"id": d["id"], "lang": prep.language, "group": fitlib.group_of(d),
                     "F": np.array(F, dtype=float), "values": [c.value for c in cands] + [None],
                     "gold": g.get("victim_count"), "text": prep.text, "cands": cands})
    return rows


def gold_rows(row) -> list[int]:
    return [i for i, v in enumerate(row["values"]) if v == row["gold"]]


def fit(rows: list[dict], l2: float, rounds: int = 2) -> np.ndarray:
    """Hard-EM over which mention of the gold value is the right row: start with the first,
    then take the best-scored one under the previous weights."""
    usable = [r for r in rows if gold_rows(r)]
    pick = {id(r): gold_rows(r)[0] for r in usable}
    w = None
    for _ in range(rounds):
        w = fitlib.fit_choice([(r["F"], pick[id(r)]) for r in usable], l2=l2, steps=1500, lr=0.4)
        for r in usable:
            gi = gold_rows(r)
            s = r["F"] @ w
            pick[id(r)] = max(gi, key=lambda i: s[i])
    return w


def predict(row, w) -> object:
    s = row["F"] @ w
    return row["values"][int(np.argmax(s))]


def accuracy(rows, w) -> str:
    out = {}
    for lang in ("all",) + tuple(sorted({r["lang"] for r in rows})):
        sel = [r for r in rows if lang == "all" or r["lang"] == lang]
        right = sum(predict(r, w) == r["gold"] for r in sel)
        out[lang] = (right, len(sel))
    return fitlib.ratios(out)


PARSER = fitlib.parser(__doc__, 4.0, "L2 penalty (4.0: the best grouped 5-fold CV on train of 1, 2, 4)",
                       "resources/shared/count_weights.json", "list the cross-validated errors on train")


def run(a, train_docs: list[dict], dev_docs: list[dict]) -> int:
    from extractor.components.counts import FEATURES

    train = collect(train_docs)
    dev = collect(dev_docs)
    extra = collect(fitlib.read_gold(fitlib.OWN + [fitlib.SEEDS]))  # the project's own corpora and the seeds: always fitted on
    incidents = [d for d in train_docs if (d.get("gold") or {}).get("is_incident")]
    by_id = {r["id"]: r for r in train}
    idx_rows = [by_id[d["id"]] for d in incidents]

    cv_pred: dict[str, object] = {}

    def fit_fold(idx):
        return fit([idx_rows[i] for i in idx] + extra, a.l2)

    def score_fold(w, idx):
        right = 0
        for i in idx:
            p = predict(idx_rows[i], w)
            cv_pred[idx_rows[i]["id"]] = p
            right += p == idx_rows[i]["gold"]
        return right, len(idx)

    cv = fitlib.cross_validate(incidents, fit_fold, score_fold, k=a.k)
    per_lang = {"all": (cv["right"], cv["total"])}
    for lang in ("fr", "en"):
        sel = [r for r in train if r["lang"] == lang]
        per_lang[lang] = (sum(cv_pred[r["id"]] == r["gold"] for r in sel), len(sel))
    w = fit(train + extra, a.l2)
    print(f"fitted on train plus {len(extra)} gold incidents of the project's own corpora and the seeds")
    print(f"train: {len(train)} gold incidents, {sum(1 for r in train if gold_rows(r))} with the gold value among the rows")
    fitlib.report(a.k, f"{fitlib.ratios(per_lang)}; per fold {cv['per_fold']}", accuracy(train, w), accuracy(dev, w))
    if a.errors:
        for r in train:
            if cv_pred[r["id"]] != r["gold"]:
                print(f"  CV error {r['id']}: got {cv_pred[r['id']]}, gold {r['gold']}")
    if a.write:
        fitlib.write_weights(OUT, FEATURES, w, {"_doc": "victim-count selection weights; fitted by eval/fit_counts.py on train "
                                                   f"(conditional logit with a 'none' row, l2={a.l2})"})
        print(f"wrote {OUT}")
    else:
        for n, v in zip(FEATURES, w):
            print(f"  {n:20s} {v:+.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(fitlib.main(run, PARSER))
