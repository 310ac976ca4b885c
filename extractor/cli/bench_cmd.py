"""`incidents bench`: a thin verb over eval/bench.py (the speed benchmark of a source checkout)."""

from __future__ import annotations

import runpy
from pathlib import Path

import typer

from ..errors import ExtractorError
from .app import app

BENCH = Path(__file__).resolve().parents[2] / "eval" / "bench.py"


@app.command()
def bench(
    docs: int = typer.Option(400, "--docs", min=8, help="Documents in the realistic mix (breach-only set: a quarter of it)."),
    quick: bool = typer.Option(False, "--quick", help="A small run for CI smoke tests (numbers not meaningful)."),
    repeat: int = typer.Option(1, "--repeat", min=1, max=20, help="Repeat the in-process timings and report the median."),
    as_json: bool = typer.Option(False, "--json", help="Print the results as one JSON object."),
) -> None:
    """Speed: the extractor against bare spaCy nlp.pipe on a generated mix; ends with one key=value line."""
    if not BENCH.is_file():
        raise ExtractorError(f"the benchmark needs a source checkout: {BENCH} not found")
    argv = ["--docs", str(docs), "--repeat", str(repeat)] + (["--quick"] if quick else []) + (["--json"] if as_json else [])
    rc = runpy.run_path(str(BENCH))["main"](argv)
    if rc:
        raise typer.Exit(rc)
