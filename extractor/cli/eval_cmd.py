"""`incidents eval`: extraction quality on gold corpora, and the quality gate (--check)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import List, Optional

import typer

from ..errors import GateError, InputError
from .app import app
from .options import BatchSizeOpt


def default_corpora() -> list[Path]:
    """../shared/corpus/train.jsonl and dev.jsonl, beside the working directory or the source tree."""
    for root in (Path.cwd(), Path(__file__).resolve().parents[2]):
        found = [root.parent / "shared" / "corpus" / f"{name}.jsonl" for name in ("train", "dev")]
        if all(p.is_file() for p in found):
            return found
    raise InputError("no gold corpus given and ../shared/corpus/{train,dev}.jsonl not found: "
                     "give the corpora to score (incidents eval GOLD.jsonl ...)")


@app.command("eval")
def eval_command(
    gold: Optional[List[Path]] = typer.Argument(None, help="Gold corpora (JSONL, the ../shared/README.md format), each scored on its own. Default: ../shared/corpus/train.jsonl and dev.jsonl.", show_default=False),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object: {\"corpora\": {PATH: report}, \"check\": ...}."),
    errors: bool = typer.Option(True, "--errors/--no-errors", help="List each wrong value (doc id, field, got, expected, evidence)."),
    check: Optional[Path] = typer.Option(None, "--check", metavar="BASELINE", help="Fail (exit 6) when a figure drops below its floor in BASELINE (eval/baseline.json)."),
    with_language: bool = typer.Option(False, "--with-language", help="Give the extractor each document's gold language instead of letting it detect it."),
    batch_size: BatchSizeOpt = 16,
) -> None:
    """Score the extractor on gold corpora: relevance, organization, victim count, dates, data types, agencies.

    The table shows each figure overall and per language (fr, en); errors are listed above it.
    With several corpora, the output ends with them side by side (a column per corpus and language)
    and, for train and dev, the dev - train gap of every figure: a rule that helps train and not dev
    was fitted to articles, not to language.
    """
    from ..eval_report import format_errors, format_side_by_side, format_table
    from ..evaluate import evaluate_docs, load_gold
    from ..quality_gate import check_report, load_baseline

    # Read every input first, so that a bad file fails before the (slow) extractor loads.
    gold = list(gold or default_corpora())
    corpora = [(str(p), load_gold(p)) for p in gold]
    baseline = load_baseline(check) if check is not None else None
    if len({str(Path(p).resolve()) for p, _ in corpora}) != len(corpora):
        raise InputError("the same gold corpus is given twice")

    from ..pipeline import Extractor

    extractor = Extractor()
    reports = [evaluate_docs(docs, extractor, with_language=with_language, corpus=path, batch_size=batch_size)
               for path, docs in corpora]
    failures: list[str] = []
    if baseline is not None:
        for r in reports:
            failures += [f"{r.corpus} {line}" for line in check_report(r, baseline, check)]

    if as_json:
        out = {"corpora": {r.corpus: r.to_dict(errors=errors) for r in reports}}
        if baseline is not None:
            out["check"] = {"baseline": str(check), "passed": not failures, "failures": failures}
        sys.stdout.write(json.dumps(out, ensure_ascii=False, indent=2) + "\n")
    else:
        blocks = []
        for r in reports:
            if errors:
                blocks.append(format_errors(r))
            blocks.append(format_table(r))
        if len(reports) > 1:
            blocks.append(format_side_by_side(reports))
        sys.stdout.write("\n\n".join(blocks) + "\n")
    sys.stdout.flush()
    if failures:
        raise GateError(f"quality gate failed ({len(failures)} below floor): " + "; ".join(failures))
