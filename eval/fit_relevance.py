"""Fit the relevance weights (resources/shared/relevance.json): an L2 logistic regression over the
features `incident_relevance` computes, on train.jsonl plus the project's own corpora, never on dev.

A document is an incident for the extractor when it passes the prefilter, has an organization and
scores at least the threshold; the weights only decide the documents that pass the prefilter and
have an organization, so those are the ones fitted on, while the figures count every document.

Prints the 5-fold cross-validated accuracy per language on train (folds grouped by incident_key),
then the dev accuracy of the weights fitted on all of train, then the weights. Writes them into
resources/shared/relevance.json only with --write.

    python eval/fit_relevance.py [--l2 4.0] [--k 5] [--write]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fitlib  # noqa: E402

OUT = fitlib.ROOT / "extractor" / "resources" / "shared" / "relevance.json"


def collect(gold_docs: list[dict]) -> list[dict]:
    """Per document: language, gold label, prefilter verdict, organization found, relevance features."""
    from extractor.prefilter import passes

    rows = []
    for d in gold_docs:
        prep, doc = fitlib.pipeline_doc(d)
        rows.append({"id": d["id"], "language": prep.language, "gold": bool(d["gold"]["is_incident"]),
                     "prefilter": passes(prep.text, prep.language), "organization": bool(doc._.organization),
                     "features": dict(doc._.relevance_features)})
    return rows


def decides(row: dict) -> bool:
    """The weights decide this document (otherwise it is no incident whatever they are)."""
    return row["prefilter"] and row["organization"]


def fit(rows: list[dict], names: list[str], l2: float):
    rows = [r for r in rows if decides(r)]
    X = np.array([[r["features"][n] for n in names] for r in rows], dtype=float)
    y = np.array([1.0 if r["gold"] else 0.0 for r in rows])
    return fitlib.fit_logistic(X, y, l2=l2)


def predict(model, names: list[str], row: dict, threshold: float = 0.5) -> bool:
    if not decides(row):
        return False
    w, b = model
    z = b + float(np.dot(w, [row["features"][n] for n in names]))
    return 1.0 / (1.0 + np.exp(-z)) >= threshold


def accuracy(pairs) -> str:
    pairs = list(pairs)
    right = sum(1 for p, g in pairs if p == g)
    return f"{right / len(pairs):.3f} ({right}/{len(pairs)})" if pairs else "n/a"


PARSER = fitlib.parser(__doc__, 4.0, "L2 strength (4.0: the best 5-fold CV on train of 1-6 with the golden short texts right)",
                       "the weights into resources/shared/relevance.json", "list the documents the cross-validation gets wrong")


def run(a, shared_docs: list[dict], dev_docs: list[dict]) -> int:
    if not dev_docs:
        print(f"fit_relevance: no dev corpus at {fitlib.DEV}", file=sys.stderr)
        return 2
    train_docs = shared_docs + fitlib.read_gold(fitlib.OWN)
    n_shared = len(shared_docs)
    train, dev = collect(train_docs), collect(dev_docs)
    names = sorted(train[0]["features"])

    cv_pred: dict[int, bool] = {}

    def fit_on(idx):
        return fit([train[i] for i in idx], names, a.l2)

    def score(model, held):
        for i in held:
            cv_pred[i] = predict(model, names, train[i])
        return sum(cv_pred[i] == train[i]["gold"] for i in held), len(held)

    cv = fitlib.cross_validate(train_docs, fit_on, score, k=a.k)
    model = fit(train, names, a.l2)
    w, b = model
    print(f"fitted on {sum(decides(r) for r in train)} of {len(train)} documents (train.jsonl + corpora/; "
          f"the others fail the prefilter or have no organization)", file=sys.stderr)
    figures = {"cv": [f"all documents {cv['accuracy']:.3f} (folds {cv['per_fold']})"], "fitted": [], "dev": []}
    for lang in sorted({r["language"] for r in train}):
        shared = [(cv_pred[i], train[i]["gold"]) for i in range(n_shared) if train[i]["language"] == lang]
        own = [(cv_pred[i], train[i]["gold"]) for i in range(n_shared, len(train)) if train[i]["language"] == lang]
        figures["cv"].append(f"{lang} train.jsonl {accuracy(shared)}, corpora/ {accuracy(own)}")
        figures["fitted"].append(f"{lang} train.jsonl " + accuracy((predict(model, names, train[i]), train[i]["gold"])
                                                                   for i in range(n_shared) if train[i]["language"] == lang))
        figures["dev"].append(f"{lang} " + accuracy((predict(model, names, r), r["gold"]) for r in dev if r["language"] == lang))
    fitlib.report(a.k, *("; ".join(figures[k]) for k in ("cv", "fitted", "dev")), file=sys.stderr)
    if a.errors:
        for i, r in enumerate(train):
            if cv_pred[i] != r["gold"]:
                why = "prefilter" if not r["prefilter"] else "no organization" if not r["organization"] else "score"
                print(f"  CV wrong: {r['id']} gold={r['gold']} ({why})", file=sys.stderr)
        for r in dev:
            if predict(model, names, r) != r["gold"]:
                print(f"  dev wrong: {r['id']} gold={r['gold']}", file=sys.stderr)
    weights = {"bias": round(float(b), 4), "threshold": 0.5,
               "features": {n: round(float(v), 4) for n, v in zip(names, w)}}
    print(json.dumps(weights, indent=2))
    if a.write:
        fitlib.write_weights(OUT, names, w, {"bias": weights["bias"], "threshold": weights["threshold"]})
        print(f"wrote {OUT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(fitlib.main(run, PARSER))
