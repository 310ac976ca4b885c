"""Pairwise precision and recall of "these two reports are the same incident", in several import orders.

    .venv/bin/python eval/merge_eval.py                  # records from the extractor (and from gold)
    .venv/bin/python eval/merge_eval.py --from-gold      # records built from the gold labels only
    .venv/bin/python eval/merge_eval.py --orders 5 --seed 7 FILE.jsonl ...

Over the documents that are gold incidents (gold.is_incident), a pair of reports is "same" in the
store when both are attached to one incident, and "same" in the gold when they share incident_key.
A gold incident the extractor missed (is_incident false) is attached to nothing: its pairs count as
misses. Each order imports the records into a fresh temporary store, one by one, as the ingest job does.
Exit status 1 when a target (precision >= 0.95, recall >= 0.90) fails in some order and --check is given.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

DEFAULT_FILES = [ROOT.parent / "shared" / "corpus" / "dev.jsonl", ROOT.parent / "shared" / "corpus" / "seeds.jsonl"]
if not DEFAULT_FILES[0].exists():
    DEFAULT_FILES = [Path("/work/shared/corpus/dev.jsonl"), Path("/work/shared/corpus/seeds.jsonl")]


def load_gold(paths) -> list[dict]:
    rows = []
    for p in paths:
        with open(p, encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    rows.append(json.loads(line))
    return rows


def _ev(text: str) -> dict:
    return {"text": text or "x", "start": 0, "end": len(text or "x")}


def record_from_gold(row: dict) -> dict:
    """A Record dict built from the gold labels (isolates the matcher from the extractor)."""
    from extractor.document import parse_published

    g = row["gold"]
    published, precision = parse_published(row.get("publication_date"))
    rec = {
        "source": {"id": row["id"], "url": row.get("url"), "language": row.get("language"),
                   "published": published.isoformat() if published else None, "published_precision": precision,
                   "kind": row.get("source_kind") or "other"},
        "is_incident": bool(g.get("is_incident")),
        "relevance": 1.0 if g.get("is_incident") else 0.0,
    }
    if g.get("organization"):
        rec["organization"] = {"name": g["organization"], "aliases": list(g.get("organization_aliases") or []),
                               "evidence": _ev(g["organization"])}
    if g.get("victim_count") is not None:
        rec["victims"] = {"count": g["victim_count"], "qualifier": g.get("victim_count_qualifier"), "evidence": _ev("n")}
    rec["data_types"] = [{"code": c, "evidence": _ev(c)} for c in g.get("data_types") or []]
    rec["agencies"] = [{"code": c, "name": c, "role": (g.get("agency_roles") or {}).get(c) or "notified",
                        "evidence": _ev(c)} for c in g.get("agencies") or []]
    dates = {}
    if g.get("incident_date"):
        dates["incident"] = {"date": g["incident_date"], "evidence": _ev("d")}
    if g.get("discovery_date"):
        dates["discovered"] = {"date": g["discovery_date"], "evidence": _ev("d")}
    rec["dates"] = dates
    return rec


def records_from_extractor(rows: list[dict]) -> list[dict]:
    from extractor import Extractor

    docs = [{"id": r["id"], "url": r.get("url"), "text": r["text"], "published": r.get("publication_date"),
             "language": r.get("language")} for r in rows]
    out = []
    for rec in Extractor().extract_many(docs):
        d = json.loads(rec.to_json()) if hasattr(rec, "to_json") else dict(rec)
        out.append(d)
    return out


def pairwise(gold_rows: list[dict], assignment: dict[str, str]) -> tuple[float, float, int, int, int]:
    """(precision, recall, true pairs found, predicted pairs, gold pairs) over gold incidents."""
    ids = sorted(r["id"] for r in gold_rows if r["gold"].get("is_incident"))
    key = {r["id"]: r["gold"].get("incident_key") or r["id"] for r in gold_rows}
    tp = pred = gold = 0
    for a, b in itertools.combinations(ids, 2):
        same_gold = key[a] == key[b]
        same_pred = a in assignment and b in assignment and assignment[a] == assignment[b]
        gold += same_gold
        pred += same_pred
        tp += same_gold and same_pred
    p = tp / pred if pred else 1.0
    r = tp / gold if gold else 1.0
    return p, r, tp, pred, gold


def run_order(records: list[dict], texts: dict[str, str], order_seed: int, workdir: str) -> tuple[dict, list]:
    from extractor import merge
    from extractor.store import Store

    recs = list(records)
    random.Random(order_seed).shuffle(recs)
    path = os.path.join(workdir, f"merge-{order_seed}.db")
    store = Store(path)
    try:
        for rec in recs:
            with store.transaction() as conn:
                merge.import_record(conn, rec, text=texts.get(rec["source"]["id"], ""))
        assignment = {}
        incidents = list(merge.export_incidents(store.conn))
        for inc in incidents:
            for rep in inc["reports"]:
                assignment[rep["source_id"]] = inc["id"]
    finally:
        store.close()
    return assignment, incidents


def canonical(incidents: list[dict]) -> list:
    return sorted((i["id"], tuple(sorted(r["source_id"] for r in i["reports"]))) for i in incidents)


def evaluate(label: str, gold_rows, records, texts, orders: int, seed: int, verbose: bool) -> bool:
    ok = True
    shapes = set()
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(orders):
            t0 = time.perf_counter()
            assignment, incidents = run_order(records, texts, seed + k, tmp)
            dt = time.perf_counter() - t0
            p, r, tp, pred, gold = pairwise(gold_rows, assignment)
            shapes.add(json.dumps(canonical(incidents)))
            flag = "" if (p >= 0.95 and r >= 0.90) else "   <- below target"
            ok &= not flag
            print(f"{label:9s} order {k} (seed {seed + k}): precision {p:.3f} ({tp}/{pred})  recall {r:.3f} ({tp}/{gold})"
                  f"  incidents {len(incidents)}  {dt:.1f} s{flag}")
            if verbose and k == 0:
                report_errors(gold_rows, assignment)
    same = len(shapes) == 1
    print(f"{label:9s} identical incidents (ids and members) in every order: {'yes' if same else 'NO'}")
    return ok and same


def report_errors(gold_rows, assignment):
    key = {r["id"]: r["gold"].get("incident_key") for r in gold_rows if r["gold"].get("is_incident")}
    ids = sorted(key)
    for a, b in itertools.combinations(ids, 2):
        sg = key[a] == key[b]
        sp = a in assignment and b in assignment and assignment[a] == assignment[b]
        if sg != sp:
            print(f"    {'missed' if sg else 'wrong '} pair: {a}  {b}")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*", type=Path, default=DEFAULT_FILES)
    ap.add_argument("--orders", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--from-gold", action="store_true", help="only records built from the gold labels")
    ap.add_argument("--no-text", action="store_true", help="do not store document texts (no embeddings)")
    ap.add_argument("--check", action="store_true", help="exit 1 when a target fails")
    ap.add_argument("-v", "--verbose", action="store_true", help="list the wrong and missed pairs of the first order")
    args = ap.parse_args(argv)
    rows = load_gold(args.files)
    texts = {} if args.no_text else {r["id"]: r["text"] for r in rows}
    ok = evaluate("gold", rows, [record_from_gold(r) for r in rows], texts, args.orders, args.seed, args.verbose)
    if not args.from_gold:
        try:
            t0 = time.perf_counter()
            recs = records_from_extractor(rows)
            print(f"extractor: {len(recs)} records in {time.perf_counter() - t0:.1f} s")
        except ImportError as err:
            print(f"extractor not available ({err}); use --from-gold")
            return 1
        ok &= evaluate("extractor", rows, recs, texts, args.orders, args.seed, args.verbose)
    return 0 if (ok or not args.check) else 1


if __name__ == "__main__":
    sys.exit(main())
