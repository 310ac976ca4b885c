#!/usr/bin/env python3
"""Move the quality floors in eval/baseline.json to the extractor's current figures.

    .venv/bin/python eval/update_baseline.py                       # raise floors on every corpus present
    .venv/bin/python eval/update_baseline.py --corpus corpora/fr.jsonl
    .venv/bin/python eval/update_baseline.py --from-json out.json  # figures from `incidents eval --json`
    .venv/bin/python eval/update_baseline.py --allow-lower --reason "gold of fr-x corrected: count was wrong"

A floor only rises. A figure below its floor is refused (exit 6) unless --allow-lower --reason
"...", which lowers it and records {corpus, scope, figure, from, to, reason} under "lowered".
Corpus paths in the baseline are relative to the repository root; --corpus and --from-json paths
are relative to the current directory.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from extractor.errors import ExtractorError, InputError  # noqa: E402
from extractor.evaluate import (  # noqa: E402
    baseline_root, dump_baseline, evaluate_file, find_floors, load_baseline, update_floors,
)


def corpus_key(path: str | Path, baseline_path: Path) -> str:
    return os.path.relpath(Path(path).resolve(), baseline_root(baseline_path))


def current_figures(args, baseline: dict, baseline_path: Path) -> dict[str, dict]:
    """{baseline key: figures} for the corpora to update."""
    if args.from_json:
        try:
            data = json.loads(Path(args.from_json).read_text(encoding="utf-8"))
            reports = data["corpora"]
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise InputError(f"{args.from_json} is not `incidents eval --json` output: {err}") from None
        chosen = {corpus_key(p, baseline_path): r["figures"] for p, r in reports.items()}
        if args.corpus:
            wanted = {corpus_key(p, baseline_path) for p in args.corpus}
            chosen = {k: v for k, v in chosen.items() if k in wanted}
        return chosen

    root = baseline_root(baseline_path)
    paths = [Path(p) for p in args.corpus] if args.corpus else [root / k for k in baseline["corpora"]]
    from extractor.pipeline import Extractor

    extractor = None
    out = {}
    for p in paths:
        if not p.is_file():
            if args.corpus:
                raise InputError(f"corpus not found: {p}")
            print(f"skip {corpus_key(p, baseline_path)}: file absent", file=sys.stderr)
            continue
        extractor = extractor or Extractor()
        out[corpus_key(p, baseline_path)] = evaluate_file(p, extractor).figures
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--baseline", default=str(ROOT / "eval" / "baseline.json"))
    ap.add_argument("--corpus", action="append", default=[], metavar="PATH", help="only this corpus (repeatable); adds it if new")
    ap.add_argument("--from-json", metavar="FILE", help="take figures from saved `incidents eval --json` output")
    ap.add_argument("--allow-lower", action="store_true", help="lower floors that the figures are below (needs --reason)")
    ap.add_argument("--reason", help="why floors are lowered; recorded in the baseline")
    ap.add_argument("--dry-run", action="store_true", help="print the changes, write nothing")
    args = ap.parse_args(argv)
    if args.reason and not args.allow_lower:
        ap.error("--reason goes with --allow-lower")
    if args.allow_lower and not (args.reason and args.reason.strip()):
        ap.error("--allow-lower needs --reason \"why\"")

    baseline_path = Path(args.baseline)
    baseline = load_baseline(baseline_path)
    figures = current_figures(args, baseline, baseline_path)
    if not figures:
        raise InputError("no corpus to update")

    changes, refused_all = [], []
    for key, figs in figures.items():
        found = find_floors(baseline, baseline_path, baseline_root(baseline_path) / key)
        floors = found[1] if found else baseline["corpora"].setdefault(key, {})
        raised, lowered, refused = update_floors(floors, figs, args.allow_lower, args.reason)
        changes += [f"raise {key} {line}" for line in raised]
        for entry in lowered:
            changes.append(f"lower {key} {entry['scope']} {entry['figure']} {entry['from']:.4f} -> {entry['to']:.4f}")
            baseline.setdefault("lowered", []).append(
                {"corpus": key, **entry, "date": date.today().isoformat()})
        refused_all += [f"{key} {line}" for line in refused]

    if not args.dry_run:  # written before anything is printed: a closed pipe loses nothing
        baseline_path.write_text(dump_baseline(baseline), encoding="utf-8")
    print("\n".join(changes) if changes else "no floor changed")
    for line in refused_all:
        print(f"below floor, not lowered: {line}", file=sys.stderr)
    if refused_all:
        print("update_baseline: figures below their floors were kept; lower them with --allow-lower --reason \"...\"",
              file=sys.stderr)
        return 6
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except ExtractorError as err:
        print(f"update_baseline: error: {err}", file=sys.stderr)
        sys.exit(err.exit_code)
    except BrokenPipeError:
        sys.exit(0)
