#!/usr/bin/env python3
"""Print the markdown table of eval/README.md from `incidents eval --json` output.

    .venv/bin/incidents eval ../shared/corpus/dev.jsonl ../shared/corpus/seeds.jsonl --json --no-errors \\
        | .venv/bin/python eval/report_table.py
    .venv/bin/python eval/report_table.py saved.json --all      # add the all-languages column of each corpus

One column per corpus and language (fr, en), one row per figure; when a train and a dev corpus are
both given, a dev − train column per language (a figure far below train on dev was fitted to the
articles of train, not to language). Needs only the standard library.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

LABELS = {
    "relevance_accuracy": "relevance accuracy (all documents)",
    "relevance_precision": "relevance precision",
    "relevance_recall": "relevance recall",
    "organization_accuracy": "organization accuracy",
    "victim_count_accuracy": "victim count accuracy",
    "incident_date_accuracy": "incident date accuracy",
    "discovery_date_accuracy": "discovery date accuracy",
    "dates_precision": "dates slot precision",
    "dates_recall": "dates slot recall",
    "dates_f1": "dates slot F1",
    "data_types_precision": "data types precision",
    "data_types_recall": "data types recall",
    "data_types_f1": "data types F1",
    "agencies_precision": "agencies precision",
    "agencies_recall": "agencies recall",
    "agencies_f1": "agencies F1",
}


def corpus_name(path: str) -> str:
    return Path(path).name.removesuffix(".jsonl")


def markdown_table(data: dict, with_all: bool = False) -> str:
    columns = []  # (header, report, scope)
    for path, report in data["corpora"].items():
        scopes = [s for s in report["figures"] if with_all or s != "all"]
        for scope in scopes:
            c = report["counts"][scope]
            columns.append((f"{corpus_name(path)} {scope} ({c['documents']} docs, {c['incidents']} inc.)", report, scope))
    if not columns:
        raise ValueError("no corpus figures in the input")
    by_name = {corpus_name(p): r for p, r in data["corpora"].items()}
    gap_scopes = [s for s in ("fr", "en") if "train" in by_name and "dev" in by_name
                  and s in by_name["train"]["figures"] and s in by_name["dev"]["figures"]]
    headers = [h for h, _, _ in columns] + [f"dev − train {s}" for s in gap_scopes]
    lines = ["| figure | " + " | ".join(headers) + " |",
             "| --- | " + " | ".join("---:" for _ in headers) + " |"]
    for name in columns[0][1]["figures"][columns[0][2]]:  # the order `incidents eval` gives them
        cells = []
        for _, report, scope in columns:
            v = report["figures"][scope].get(name)
            cells.append("n/a" if v is None else f"{v:.2f}")
        for s in gap_scopes:
            a, b = by_name["train"]["figures"][s].get(name), by_name["dev"]["figures"][s].get(name)
            cells.append("n/a" if a is None or b is None else f"{b - a:+.2f}")
        lines.append(f"| {LABELS.get(name, name)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("json_file", nargs="?", help="saved `incidents eval --json` output (default: stdin)")
    ap.add_argument("--all", action="store_true", help="add each corpus's all-languages column")
    args = ap.parse_args(argv)
    try:
        raw = Path(args.json_file).read_text(encoding="utf-8") if args.json_file else sys.stdin.read()
        table = markdown_table(json.loads(raw), with_all=args.all)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        print(f"report_table: error: input is not `incidents eval --json` output ({type(err).__name__}: {err})",
              file=sys.stderr)
        return 3
    try:
        print(table)
    except BrokenPipeError:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
