"""Fit the relevance weights (resources/shared/relevance.json) by L2-regularised logistic regression.

The features are the ones `incident_relevance` computes (breach vocabulary, a victim
organization and its rivals, counts, data types, statistics and law vocabulary...).
Training data: the gold files given (by default the project's own corpora plus the dev
corpus and the seeds). Re-run after changing a feature; the weights are data, not code.

    python eval/fit_relevance.py [GOLD.jsonl ...] [--l2 1.0] [--write]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = [ROOT / "corpora" / "fr.jsonl", ROOT / "corpora" / "en.jsonl",
           ROOT.parent / "shared" / "corpus" / "dev.jsonl", ROOT.parent / "shared" / "corpus" / "seeds.jsonl"]


def collect(paths):
    from extractor.nlp import get_nlp
    from extractor.pipeline import prepare, to_document

    X, y, names = [], [], None
    for path in paths:
        for line in open(path, encoding="utf-8"):
            d = json.loads(line)
            prep = prepare(to_document({"id": d["id"], "text": d["text"], "published": d.get("publication_date"), "language": d["language"]}))
            nlp = get_nlp(prep.language)
            doc = nlp.make_doc(prep.text)
            doc._.meta = prep.meta
            doc = nlp(doc)
            f = doc._.relevance_features
            names = names or sorted(f)
            X.append([f[k] for k in names])
            y.append(1.0 if d["gold"]["is_incident"] else 0.0)
    return np.array(X, dtype=float), np.array(y), names


def fit(X, y, l2: float, steps: int = 20000, lr: float = 0.05):
    mu, sd = X.mean(0), X.std(0) + 1e-9
    Z = (X - mu) / sd
    w, b = np.zeros(X.shape[1]), 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(Z @ w + b)))
        g = Z.T @ (p - y) / len(y) + l2 * w / len(y)
        w -= lr * g
        b -= lr * float((p - y).mean())
    # back to raw feature scale
    raw_w = w / sd
    raw_b = b - float((w * mu / sd).sum())
    return raw_w, raw_b


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("gold", nargs="*", type=Path)
    ap.add_argument("--l2", type=float, default=1.0)
    ap.add_argument("--write", action="store_true", help="write the weights into resources/shared/relevance.json")
    a = ap.parse_args(argv)
    paths = [p for p in (a.gold or DEFAULT) if p.exists()]
    X, y, names = collect(paths)
    w, b = fit(X, y, a.l2)
    p = 1 / (1 + np.exp(-(X @ w + b)))
    acc = float(((p >= 0.5) == (y == 1)).mean())
    print(f"{len(y)} documents from {len(paths)} files, training accuracy {acc:.3f}", file=sys.stderr)
    weights = {"bias": round(b, 4), "threshold": 0.5, "features": {k: round(float(v), 4) for k, v in zip(names, w)}}
    print(json.dumps(weights, indent=2))
    if a.write:
        out = ROOT / "extractor" / "resources" / "shared" / "relevance.json"
        out.write_text(json.dumps(weights, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
