"""Shared fitting tools for eval/fit_*.py: gold corpora, grouped k-fold splits, two linear models.

Every selection the extractor makes (relevant or not, which organization, which count, which date
and role) is a linear score over features the component computes from the text; the weights are
data under ``extractor/resources/shared/``. The fitting scripts use this module so that they share
one way to read gold files, one way to split them (by ``incident_key``: two reports of one incident
never sit on both sides of a split) and one way to fit:

- ``fit_logistic``: a yes/no score (relevance; "is this candidate the right one" on its own);
- ``fit_choice``: a choice among a document's candidates (conditional logit: softmax over the
  candidates of one document, plus an optional "none of them" candidate with its own features).

Both are L2-regularised, plain numpy, deterministic, and return weights on the raw feature scale.

Every script shares one command line (``parser``: --l2, --k, --write, --errors), one entry
(``main``: read train and dev, a missing training corpus is one line on stderr) and one report
(``report``: the cross-validated train figure, then the figures of the weights fitted on all of
train, on train and on dev).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "corpus"
TRAIN = SHARED / "train.jsonl"
DEV = SHARED / "dev.jsonl"
SEEDS = SHARED / "seeds.jsonl"
OWN = [ROOT / "corpora" / "fr.jsonl", ROOT / "corpora" / "en.jsonl"]


def read_gold(paths: Iterable[Path]) -> list[dict]:
    """The gold documents of the files that exist, in order."""
    docs = []
    for path in paths:
        path = Path(path)
        if not path.exists():
            continue
        with open(path, encoding="utf-8") as fh:
            docs.extend(json.loads(line) for line in fh if line.strip())
    return docs


def as_input(gold_doc: dict) -> dict:
    """What the extractor is given for a gold document (the gold stripped), as `incidents eval` does."""
    return {"id": gold_doc["id"], "url": gold_doc.get("url"), "text": gold_doc["text"],
            "published": gold_doc.get("publication_date")}


def group_of(gold_doc: dict) -> str:
    return (gold_doc.get("gold") or {}).get("incident_key") or gold_doc["id"]


def folds(gold_docs: Sequence[dict], k: int = 5, seed: int = 13) -> list[list[int]]:
    """k lists of document indexes; the documents of one incident_key are always in one fold."""
    groups: dict[str, list[int]] = {}
    for i, d in enumerate(gold_docs):
        groups.setdefault(group_of(d), []).append(i)
    keys = sorted(groups)
    random.Random(seed).shuffle(keys)
    out: list[list[int]] = [[] for _ in range(k)]
    for key in sorted(keys, key=lambda g: -len(groups[g])):  # big groups first, into the smallest fold
        min(out, key=len).extend(groups[key])
    return [sorted(f) for f in out]


def _standardise(X: np.ndarray):
    mu, sd = X.mean(0), X.std(0)
    sd = np.where(sd < 1e-9, 1.0, sd)
    return mu, sd


def fit_logistic(X: np.ndarray, y: np.ndarray, l2: float = 1.0, steps: int = 4000, lr: float = 0.1):
    """Weights (raw scale) and bias of an L2 logistic regression; y in {0, 1}."""
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    mu, sd = _standardise(X)
    Z = (X - mu) / sd
    w, b = np.zeros(X.shape[1]), 0.0
    n = max(len(y), 1)
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(Z @ w + b)))
        w -= lr * (Z.T @ (p - y) / n + l2 * w / n)
        b -= lr * float((p - y).mean())
    return w / sd, b - float((w * mu / sd).sum())


def fit_choice(groups: Sequence[tuple[np.ndarray, int]], l2: float = 1.0, steps: int = 3000, lr: float = 0.2):
    """Weights (raw scale) of a conditional logit over candidate sets.

    `groups`: one (F, gold) per document, F the candidates' feature matrix (rows: candidates,
    a "none" row included when the caller wants one), gold the index of the right row
    (documents with no right row are left out by the caller). No bias: it cancels in a softmax.
    """
    groups = [(np.asarray(F, dtype=float), g) for F, g in groups if len(F)]
    if not groups:
        raise ValueError("no candidate sets to fit on")
    allrows = np.vstack([F for F, _ in groups])
    mu, sd = _standardise(allrows)
    Zs = [((F - mu) / sd, g) for F, g in groups]
    w = np.zeros(allrows.shape[1])
    n = len(Zs)
    for _ in range(steps):
        grad = l2 * w / n
        for Z, g in Zs:
            s = Z @ w
            s -= s.max()
            p = np.exp(s)
            p /= p.sum()
            grad += (Z.T @ p - Z[g]) / n
        w -= lr * grad
    return w / sd


def cross_validate(gold_docs: Sequence[dict], fit: Callable[[list[int]], object],
                   score: Callable[[object, list[int]], tuple[int, int]], k: int = 5, seed: int = 13) -> dict:
    """Fit on k-1 folds, score the held-out fold; `score` returns (right, total) for the fold.

    Returns {"k", "right", "total", "accuracy", "per_fold"}: the cross-validated figure to report
    (never the figure of a model fitted on everything)."""
    per_fold, right, total = [], 0, 0
    parts = folds(gold_docs, k, seed)
    for i, held in enumerate(parts):
        train = [j for p in parts[:i] + parts[i + 1:] for j in p]
        model = fit(train)
        r, t = score(model, held)
        r, t = int(r), int(t)
        per_fold.append(round(r / t, 4) if t else None)
        right += r
        total += t
    return {"k": k, "right": right, "total": total, "accuracy": round(right / total, 4) if total else None,
            "per_fold": per_fold}


def write_weights(path: Path, names: Sequence[str], w: np.ndarray, extra: dict | None = None) -> dict:
    """Write {"features": {name: weight}, ...extra} as indented JSON (one weight a line)."""
    data = dict(extra or {})
    data["features"] = {n: round(float(v), 4) for n, v in zip(names, w)}
    Path(path).write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return data


def pipeline_doc(gold_doc: dict, until: str | None = None):
    """(prepared document, spaCy Doc) of a gold document as the extractor sees it: html, language
    and meta, then the pipeline's components in order, stopping before the component named
    `until` (all of them when None), so a fitting script can read the features it needs."""
    from extractor.nlp import MAX_CHARS, get_nlp
    from extractor.pipeline import for_tokenizer, prepare, to_document

    prep = prepare(to_document(as_input(gold_doc)))
    nlp = get_nlp(prep.language)
    doc = nlp.make_doc(for_tokenizer(prep.text[:MAX_CHARS]))
    doc._.meta = prep.meta
    for name, proc in nlp.pipeline:
        if name == until:
            break
        doc = proc(doc)
    return prep, doc


def parser(doc: str, l2: float, l2_help: str, writes: str, errors: str | None = None) -> argparse.ArgumentParser:
    """The options every fitting script has: --l2 (default `l2`), --k, --write (of `writes`) and,
    when `errors` says what it lists, --errors. The description is `doc`'s first line."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--l2", type=float, default=l2, help=l2_help)
    ap.add_argument("--k", type=int, default=5, help="cross-validation folds (grouped by incident_key)")
    ap.add_argument("--write", action="store_true", help=f"write {writes}")
    if errors:
        ap.add_argument("--errors", action="store_true", help=errors)
    return ap


def main(run: Callable[[argparse.Namespace, list[dict], list[dict]], int | None],
         ap: argparse.ArgumentParser, argv: Sequence[str] | None = None) -> int:
    """Parse `argv`, read the gold of train and dev (``--train``/``--dev`` where the parser has them)
    and return ``run(args, train_docs, dev_docs)`` (0 for None); without a training corpus: one
    line on stderr and 2."""
    a = ap.parse_args(argv)
    train, dev = Path(getattr(a, "train", TRAIN)), Path(getattr(a, "dev", DEV))
    train_docs = read_gold([train])
    if not train_docs:
        print(f"{ap.prog}: no training corpus at {train}", file=sys.stderr)
        return 2
    return run(a, train_docs, read_gold([dev])) or 0


def ratios(counts: dict[str, tuple[int, int]]) -> str:
    """'fr 53/57 = 0.930, en ...' of {label: (right, total)}, labels with no total left out."""
    return ", ".join(f"{k} {r}/{t} = {r / t:.3f}" for k, (r, t) in counts.items() if t)


def report(k: int, cv: str, fitted: str | None, dev: str, file=None) -> None:
    """The figures every script prints: the k-fold cross-validated one on train (the one to
    report), then those of the weights fitted on all of train, on train itself (when given) and on dev."""
    out = file or sys.stdout
    print(f"train, {k}-fold CV (grouped by incident_key): {cv}", file=out)
    if fitted is not None:
        print(f"train, weights fitted on all of train (not the figure to report): {fitted}", file=out)
    print(f"dev, weights fitted on all of train: {dev}", file=out)
