"""Fit the date-slot weights (resources/shared/date_weights.json): which date phrase fills which slot.

`incident_dates` gives every date phrase of a document, for each role, the features of
``extractor.components.dates.FEATURES`` (cues of that role and of the others around it,
reporting and court words, captions, headers, cross-references, precision, position...).
Each slot is a choice among the document's phrases plus a "none" candidate (its one
feature ``none``): a conditional logit fitted with ``fitlib.fit_choice`` on the gold
incidents of train.jsonl and of the project's own corpora (corpora/*.jsonl; --train-only
leaves them out; dev is never fitted on, and cross-validation only scores train folds). The gold row of a slot is a phrase whose day is the gold day (the one with the
strongest own-role cues when several are), "none" when the gold day is null; a document
whose gold day no phrase gives is left out of that slot.

The features are role-relative (the cues of the slot's own role, of the other roles), so the
incident and discovered slots (the ones with gold labels) are fitted together, one set of
shared weights, each slot with its own "none" weight: twice the examples for every weight.
No corpus labels contained or disclosed dates: those slots use the shared weights over their
own role-relative features, with the discovered slot's "none" weight, and the file says so.

Prints the grouped 5-fold cross-validated slot F1 on train (both slots together, per
language, the figure `incidents eval` computes) and the dev figure of the weights fitted on
all of train. Writes the weights only with --write.

    python eval/fit_dates.py [--l2 3.0] [--train-only] [--write] [--errors] [--cache FILE]
"""

from __future__ import annotations

import json
import pickle
import sys
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import fitlib  # noqa: E402

ROOT = fitlib.ROOT
OUT = ROOT / "extractor" / "resources" / "shared" / "date_weights.json"
FITTED = ("incident", "discovered")
GOLD_KEY = {"incident": "incident_date", "discovered": "discovery_date"}


def gold_day(value) -> date | None:
    if not value or len(str(value)) != 10:
        return None
    return date.fromisoformat(str(value))


def collect(docs: list[dict]) -> list[dict]:
    """Per gold incident: its language, gold days and candidates (value, {role: features}), as the pipeline sees them."""
    from extractor.nlp import MAX_CHARS, get_nlp
    from extractor.pipeline import for_tokenizer, prepare, to_document
    from extractor.prefilter import passes

    out = []
    for d in docs:
        g = d.get("gold") or {}
        if not g.get("is_incident"):
            continue  # dates are scored over gold incidents only
        prep = prepare(to_document({**fitlib.as_input(d), "language": d.get("language")}))
        cands = []
        if passes(prep.text, prep.language):
            nlp = get_nlp(prep.language)
            doc = nlp.make_doc(for_tokenizer(prep.text[:MAX_CHARS]))
            doc._.meta = prep.meta
            doc = nlp(doc)
            cands = [(p.value, p.features, doc.text[max(0, p.start - 70):p.end + 40].replace("\n", " "), p.range_day)
                     for p in doc._.date_phrases]
        out.append({"id": d["id"], "lang": prep.language, "group": fitlib.group_of(d),
                    "gold": {r: gold_day(g.get(GOLD_KEY[r])) for r in FITTED}, "cands": cands})
    return out


def usable(item: dict, role: str) -> list:
    """The candidates a slot chooses among: a day that ends a stated range is no day of a role the range spans."""
    from extractor.components.dates import SPAN_ROLES

    return [c for c in item["cands"] if not (c[3] and role in SPAN_ROLES)]


def matrix(item: dict, role: str, names: list[str]) -> np.ndarray:
    """The candidates' features for one slot, then the "none" row (one "none" column per fitted slot)."""
    nones = [0.0] * len(FITTED)
    rows = [[f[role].get(n, 0.0) for n in names] + nones for _, f, _, _ in usable(item, role)]
    rows.append([0.0] * len(names) + [1.0 if r == role else 0.0 for r in FITTED])
    return np.array(rows, dtype=float)


def gold_row(item: dict, role: str, names: list[str]) -> int | None:
    want = item["gold"][role]
    cands = usable(item, role)
    if want is None:
        return len(cands)
    hits = [i for i, (v, _, _, _) in enumerate(cands) if v == want]
    if not hits:
        return None
    own = [k for k in names if k.startswith("own_")]
    return max(hits, key=lambda i: (sum(cands[i][1][role].get(k, 0.0) for k in own), -i))


def fit(items: list[dict], names: list[str], l2: float) -> dict:
    """One conditional logit over the candidate sets of both slots: the features are role-relative (cues of the
    slot's own role against the others), so the slots share their weights and differ by their "none" score."""
    groups = []
    for role in FITTED:
        for it in items:
            g = gold_row(it, role, names)
            if g is not None and len(usable(it, role)):
                groups.append((matrix(it, role, names), g))
    w = [float(v) for v in fitlib.fit_choice(groups, l2=l2)]
    shared = dict(zip(names, w))
    return {role: {**shared, "none": w[len(names) + i]} for i, role in enumerate(FITTED)}


def decide(item: dict, role: str, w: dict) -> date | None:
    best, best_score = None, w.get("none", 0.0)
    for v, f, _, _ in usable(item, role):
        sc = sum(w.get(k, 0.0) * x for k, x in f[role].items())
        if sc > best_score:
            best, best_score = v, sc
    return best


def tally(items: list[dict], weights: dict, errors: list | None = None) -> dict:
    """Slot hits, false alarms and misses per language over both fitted slots (as `incidents eval` counts them)."""
    t: dict = {}
    for it in items:
        c = t.setdefault(it["lang"], [0, 0, 0])
        for role in FITTED:
            got, want = decide(it, role, weights[role]), it["gold"][role]
            if got == want:
                c[0] += got is not None
                continue
            c[1] += got is not None
            c[2] += want is not None
            if errors is not None:
                errors.append((it, role, got, want))
    return t


def f1(c) -> float | None:
    h, fa, miss = c
    return round(2 * h / (2 * h + fa + miss), 3) if (2 * h + fa + miss) else None


def show(t: dict) -> str:
    allc = [sum(c[i] for c in t.values()) for i in range(3)]
    parts = [f"all {f1(allc)}"] + [f"{lang} {f1(c)} (hits {c[0]}, false alarms {c[1]}, misses {c[2]})"
                                   for lang, c in sorted(t.items())]
    return "; ".join(parts)


PARSER = fitlib.parser(__doc__, 3.0, "L2 penalty", "resources/shared/date_weights.json", "list the cross-validated and dev errors")
PARSER.add_argument("--train-only", action="store_true", help="fit on train.jsonl alone, not also on the own corpora")
PARSER.add_argument("--cache", type=Path, help="keep the collected candidates in this pickle (reused while it exists: "
                                                "delete it after changing the component)")


def run(a, train_docs: list[dict], dev_docs: list[dict]) -> int:
    from extractor.components.dates import FEATURES, ROLES

    names = list(FEATURES)
    if a.cache and a.cache.exists():
        train, own_all, dev = pickle.loads(a.cache.read_bytes())
    else:
        train, own_all, dev = collect(train_docs), collect(fitlib.read_gold(fitlib.OWN)), collect(dev_docs)
        if a.cache:
            a.cache.write_bytes(pickle.dumps((train, own_all, dev)))
    own = [] if a.train_only else own_all
    by_id = {it["id"]: it for it in train}
    incident_docs = [d for d in train_docs if d["id"] in by_id]

    cv_tally: dict = {}
    cv_errors: list = []

    def fit_fold(idx):
        return fit([by_id[incident_docs[i]["id"]] for i in idx] + own, names, a.l2)

    def score_fold(w, idx):
        t = tally([by_id[incident_docs[i]["id"]] for i in idx], w, cv_errors)
        for lang, c in t.items():
            acc = cv_tally.setdefault(lang, [0, 0, 0])
            for i in range(3):
                acc[i] += c[i]
        h, fa, miss = (sum(c[i] for c in t.values()) for i in range(3))
        return 2 * h, 2 * h + fa + miss  # "accuracy" of this pair is the slot F1

    cv = fitlib.cross_validate(incident_docs, fit_fold, score_fold, k=a.k)
    final = fit(train + own, names, a.l2)
    dev_errors: list = []
    print(f"{len(train)} train incidents, {len(own)} own-corpus incidents, {len(dev)} dev incidents; l2 {a.l2}")
    fitlib.report(a.k, f"slot F1 {show(cv_tally)}; per fold {cv['per_fold']}", show(tally(train, final)),
                  show(tally(dev, final, dev_errors)))
    own_errors: list = []
    print(f"own corpora, weights fitted on train + own corpora (fitted on, not held out): {show(tally(own_all, final, own_errors))}")
    if a.errors:
        for label, errs in (("CV", cv_errors), ("dev", dev_errors), ("own", own_errors)):
            for it, role, got, want in errs:
                print(f"  {label} {it['id']} {role}: got {got}, gold {want}")
                for v, f, ctx, _ in it["cands"]:
                    if v in (got, want):
                        print(f"      {v}: ...{ctx}...")
    if a.write:
        roles = {r: {"features": {k: round(v, 4) for k, v in final[r].items()},
                     "fitted_on": "train.jsonl gold incidents" + ("" if a.train_only else " + own corpora (corpora/*.jsonl)")}
                 for r in FITTED}
        for r in ROLES:
            if r not in roles:
                roles[r] = {"features": roles["discovered"]["features"],
                            "fitted_on": "no corpus labels this slot: the discovered slot's weights, over this role's own features"}
        data = {"_about": "Weights of the incident_dates slot choice (extractor/components/dates.py), one linear score per "
                          "(date phrase, slot) and a 'none' score per slot; written by eval/fit_dates.py --write.",
                "l2": a.l2, "cv_slot_f1_train": {lang: f1(c) for lang, c in sorted(cv_tally.items())},
                "roles": roles}
        OUT.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(fitlib.main(run, PARSER))
