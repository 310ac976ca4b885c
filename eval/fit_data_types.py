"""Fit the data-type mention weights (resources/shared/data_type_weights.json).

Every mention of a data-type term gets features from its text (`incident_data_types`:
in a list, introduced, exposure verb, not exposed (negated with its whole list, what fraudsters
might ask for, an attack vector), advice, channel or outage, name, caption, law...). A mention is labelled 1 when its code is among the gold codes of its document (gold
incidents of train only), and an L2 logistic regression (`fitlib.fit_logistic`) scores it.
Since a gold code may also be mentioned where it is not exposed (a caption, advice), the fit
is refined once: of a gold code's mentions only the best-scored one per document stays a
positive example, the others are left out. Generic mentions ("personal information", that of
employees) are left out where the gold has other codes: there they give way anyway. A code is kept for a document when its best
mention scores at least the threshold (0.5 unless told; 5-fold CV on train found no better one).

Prints the 5-fold cross-validated F1 on train (folds grouped by incident_key), per language,
and the dev F1 of the weights fitted on all of train; writes the weights only with --write.

    python eval/fit_data_types.py [--l2 1.0] [--cache FILE.pkl] [--write]
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fitlib  # noqa: E402

OUT = fitlib.ROOT / "extractor" / "resources" / "shared" / "data_type_weights.json"
UNSPECIFIED = "unspecified_personal_information"
THRESHOLDS = [round(t, 2) for t in np.arange(0.2, 0.81, 0.05)]


def analyse(gold_docs: list[dict]) -> list[dict]:
    """Per document: language, gold codes (None for a non-incident), prefilter verdict, mentions."""
    from extractor.components.data_types import mentions
    from extractor.prefilter import passes

    out = []
    for d in gold_docs:
        prep, doc = fitlib.pipeline_doc(d, until="incident_counts")  # sentences, names and context only
        names = [(e.start_char, e.end_char) for e in doc.ents]
        ms = mentions(doc.text, doc._.sent_bounds, names, prep.language)
        g = d["gold"]
        out.append({"id": d["id"], "lang": d["language"], "key": g.get("incident_key") or d["id"],
                    "gold": set(g.get("data_types") or []) if g.get("is_incident") else None,
                    "passes": passes(prep.text, prep.language),
                    "mentions": [(m.code, m.features) for m in ms]})
    return out


def feature_names(docs: list[dict]) -> list[str]:
    for d in docs:
        for _, f in d["mentions"]:
            return sorted(f)
    return []


def matrix(docs: list[dict], names: list[str]):
    rows, y, where = [], [], []
    for di, d in enumerate(docs):
        if d["gold"] is None:
            continue
        for mi, (code, f) in enumerate(d["mentions"]):
            if f.get("generic") and d["gold"] - {code, UNSPECIFIED}:
                continue  # beside specific codes a generic mention gives way anyway: no label to learn
            rows.append([f[n] for n in names])
            y.append(1.0 if code in d["gold"] else 0.0)
            where.append((di, mi))
    return np.array(rows, dtype=float).reshape(-1, len(names)), np.array(y), where


def predict(d: dict, names: list[str], w: np.ndarray, b: float, thr: float) -> set:
    if not d["passes"]:
        return set()
    from extractor.components.data_types import keep_codes

    scored = []
    for code, f in d["mentions"]:
        z = b + sum(w[i] * f[n] for i, n in enumerate(names))
        scored.append((code, f, 1 / (1 + np.exp(-z))))
    return keep_codes(scored, thr)


def tally(docs: list[dict], names, w, b, thr) -> dict:
    t = {}
    for d in docs:
        if d["gold"] is None:
            continue
        got = predict(d, names, w, b, thr)
        for lang in (d["lang"], "all"):
            c = t.setdefault(lang, [0, 0, 0])
            c[0] += len(got & d["gold"])
            c[1] += len(got - d["gold"])
            c[2] += len(d["gold"] - got)
    return t


def f1(c) -> float:
    tp, fp, fn = c
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def fit(docs: list[dict], names: list[str], l2: float, threshold: float | None = None):
    """Weights, bias and threshold fitted on `docs` alone."""
    X, y, where = matrix(docs, names)
    w, b = fitlib.fit_logistic(X, y, l2=l2)
    # refine: of the mentions of a gold code in a document, only the best one stays a positive example
    z = X @ w + b
    top: dict = {}
    for k, (di, mi) in enumerate(where):
        if y[k] == 1:
            key = (di, docs[di]["mentions"][mi][0])
            if key not in top or z[k] > z[top[key]]:
                top[key] = k
    keep = [k for k in range(len(y)) if y[k] == 0 or top.get((where[k][0], docs[where[k][0]]["mentions"][where[k][1]][0])) == k]
    w, b = fitlib.fit_logistic(X[keep], y[keep], l2=l2)
    if threshold is not None and threshold >= 0:
        return w, b, threshold
    thr = max(THRESHOLDS, key=lambda t: (f1(tally(docs, names, w, b, t).get("all", [0, 0, 0])), -abs(t - 0.5)))
    return w, b, thr


def figures(t: dict) -> str:
    parts = []
    for lang in ("fr", "en", "all"):
        c = t.get(lang, [0, 0, 0])
        p = c[0] / (c[0] + c[1]) if c[0] + c[1] else 0.0
        r = c[0] / (c[0] + c[2]) if c[0] + c[2] else 0.0
        parts.append(f"{lang} P {p:.2f} R {r:.2f} F1 {f1(c):.2f}")
    return " | ".join(parts)


PARSER = fitlib.parser(__doc__, 1.0, "L2 penalty", "the weights into resources/shared/data_type_weights.json")
PARSER.add_argument("--threshold", type=float, default=0.5,
                    help="the decision threshold (default 0.5); --threshold -1: the one best on the training documents")
PARSER.add_argument("--cache", type=Path, help="keep the analysed corpora in this pickle (re-used when it exists)")


def run(a, train_gold: list[dict], dev_gold: list[dict]) -> int:
    if a.cache and a.cache.exists():
        train, dev = pickle.loads(a.cache.read_bytes())
    else:
        train, dev = analyse(train_gold), analyse(dev_gold)
        if a.cache:
            a.cache.write_bytes(pickle.dumps((train, dev)))
    names = feature_names(train)

    # k-fold cross-validation on train, folds grouped by incident_key
    cv: dict = {}
    for held in fitlib.folds(train_gold, a.k):
        held_set = set(held)
        w, b, thr = fit([d for i, d in enumerate(train) if i not in held_set], names, a.l2, a.threshold)
        for lang, c in tally([train[i] for i in held], names, w, b, thr).items():
            acc = cv.setdefault(lang, [0, 0, 0])
            for j in range(3):
                acc[j] += c[j]
    w, b, thr = fit(train, names, a.l2, a.threshold)
    fitlib.report(a.k, figures(cv), figures(tally(train, names, w, b, thr)), figures(tally(dev, names, w, b, thr)))
    print(f"threshold {thr}")
    for n, v in sorted(zip(names, w), key=lambda p: -abs(p[1])):
        print(f"  {n:<22}{v:+.3f}")
    print(f"  {'bias':<22}{b:+.3f}")
    if a.write:
        fitlib.write_weights(OUT, names, w, {"bias": round(float(b), 4), "threshold": thr,
                                              "fitted_on": "train.jsonl (gold incidents), eval/fit_data_types.py"})
        print(f"wrote {OUT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(fitlib.main(run, PARSER))
