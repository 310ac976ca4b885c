"""`incidents backfill`: web archives and document dumps through the extractor on Dask (extractor/backfill/)."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated, List, Optional

import typer

from ..errors import InputError
from .app import app
from .options import BatchSizeOpt


def _progress_printer():
    """Progress on stderr: one line rewritten in place on a terminal, a line every 10 s otherwise."""
    tty = sys.stderr.isatty()
    last = [0.0]

    def show(p) -> None:
        now = time.monotonic()
        if not tty and now - last[0] < 10:
            return
        last[0] = now
        rate = f"{p.pass_rate:.1%}" if p.pass_rate is not None else "n/a"
        line = (f"backfill: {p.done + p.already}/{p.partitions} partitions"
                + (f" ({p.already} from an earlier run)" if p.already else "")
                + f", {p.documents:,} documents, {p.docs_per_s:.1f} docs/s, prefilter pass {rate}, "
                f"{p.errors} errors, {p.failed} failed partitions"
                + (f", {p.planned}/{p.archives} archives planned" if p.planned < p.archives else ""))
        sys.stderr.write(("\r\x1b[K" + line) if tty else line + "\n")
        sys.stderr.flush()

    return show, tty


@app.command(
    "backfill",
    help=(
        "Extract records from web archives (WARC, .warc or .warc.gz) and JSONL document dumps (the `extract --docs` "
        "input) on Dask, into partition files under DIR (JSONL, or Parquet with --format parquet). Rerunning it "
        "redoes nothing that is finished; `incidents import DIR` loads the records into the store.\n\n"
        "\b\nExamples:\n"
        "  incidents backfill crawl/*.warc.gz --output records/     a local cluster, one worker per core\n"
        "  incidents backfill crawl/ -o records/ --format parquet  Parquet partitions\n"
        "  incidents backfill crawl/ -o records/ --scheduler tcp://10.0.0.5:8786   a real cluster\n\n"
        "On a real cluster the archives and DIR must be at the same paths on every worker (a shared filesystem), and "
        "every worker needs incidents-extractor[cluster] and the spaCy pipelines; start workers with one thread each "
        "(dask worker tcp://HOST:8786 --nworkers N --nthreads 1).\n\n"
        "Exit codes: 0 every partition written (damaged records skipped are reported), 3 a missing or unknown archive, "
        "a bad DIR, or partitions that still failed after their retries (rerun to retry them), 4 the scheduler "
        "cannot be reached, 5 another backfill holds DIR."
    ),
)
def backfill_cmd(
    archives: Annotated[List[str], typer.Argument(metavar="ARCHIVE", help="WARC files, JSONL dumps, or directories of them.")],
    output: Annotated[Path, typer.Option("--output", "-o", metavar="DIR", help="Directory of the partition files (created if needed).")],
    fmt: Annotated[str, typer.Option("--format", metavar="FORMAT", help="jsonl or parquet (needs pyarrow).")] = "jsonl",
    scheduler: Annotated[Optional[str], typer.Option("--scheduler", metavar="ADDRESS", help="A running Dask scheduler (tcp://HOST:8786) instead of a local cluster.")] = None,
    workers: Annotated[Optional[int], typer.Option("--workers", min=1, max=256, help="Worker processes of the local cluster (default: one per core).")] = None,
    partition_docs: Annotated[int, typer.Option("--partition-docs", min=1, max=1_000_000, help="Documents per partition (a task).")] = 1000,
    partition_mb: Annotated[int, typer.Option("--partition-mb", min=1, max=1_000_000, help="Archive megabytes per partition.")] = 256,
    batch_size: BatchSizeOpt = 16,
    retries: Annotated[int, typer.Option("--retries", min=0, max=10, help="Times a failing task is run again before it is reported.")] = 2,
    incidents_only: Annotated[bool, typer.Option("--incidents-only", help="Write only the records that are incidents.")] = False,
    no_prefilter: Annotated[bool, typer.Option("--no-prefilter", help="Run the full pipeline even on texts without breach vocabulary.")] = False,
    timeout: Annotated[float, typer.Option("--timeout", min=0.5, max=600, help="Seconds to wait for the scheduler.")] = 10.0,
) -> None:
    from ..backfill import find_archives
    from ..backfill.runner import BackfillOptions, backfill, check_address, dashboard

    if fmt not in ("jsonl", "parquet"):
        raise typer.BadParameter(f"--format must be jsonl or parquet, not {fmt!r}")
    if scheduler and workers:
        raise typer.BadParameter("--workers sets the size of the local cluster; a --scheduler has its own workers")
    if scheduler:
        check_address(scheduler)
    found = find_archives(archives)
    opts = BackfillOptions(fmt=fmt, max_docs=partition_docs, max_bytes=partition_mb << 20, batch_size=batch_size,
                           prefilter=not no_prefilter, incidents_only=incidents_only, retries=retries)
    show, tty = _progress_printer()

    def connected(client) -> None:
        _link, line = dashboard(client)
        print(f"incidents: {line}", file=sys.stderr)

    summary = backfill(found, output, opts, scheduler=scheduler, workers=workers, timeout=timeout,
                       progress=show, on_connect=connected)
    if tty:
        sys.stderr.write("\n")
    s = summary
    if not s.done and not s.failures and s.already == s.partitions:
        print(f"incidents: nothing to do: all {s.partitions} partitions of {s.archives} archives are in {s.output}",
              file=sys.stderr)
    else:
        rate = f"{s.pass_rate:.1%}" if s.pass_rate is not None else "n/a"
        print(f"incidents: backfill of {s.archives} archives into {s.output}: {s.partitions} partitions "
              f"({s.done} written now, {s.already} earlier, {s.failed} failed), {s.documents:,} documents, "
              f"{s.incidents:,} incidents, {s.errors} document errors, {s.docs_per_s:.1f} docs/s, prefilter pass {rate}, "
              f"{s.elapsed:.1f}s" + (f", {s.workers} workers" if s.workers else ""), file=sys.stderr)
    if s.skipped:
        print("incidents: archive records skipped: "
              + ", ".join(f"{k} {v:,}" for k, v in sorted(s.skipped.items())), file=sys.stderr)
    for d in s.damage:
        what = []
        if d["damaged"]:
            what.append(f"{d['damaged']} damaged record{'s' * (d['damaged'] > 1)} skipped "
                        f"(first at byte {d['offset']:,}: {d['reason']})")
        if d["truncated"]:
            what.append(f"{d['truncated']} truncated record{'s' * (d['truncated'] > 1)} skipped")
        print(f"incidents: warning: {d['archive']}: " + "; ".join(what), file=sys.stderr)
    for path in s.empty:
        print(f"incidents: warning: {path}: no document in this archive (no HTML response record, no JSONL line)",
              file=sys.stderr)
    for f in s.failures:
        where = f"partition {f['partition']} of {f['archive']}" if f["partition"] else f"archive {f['archive']}"
        print(f"incidents: failed: {where}: {f['error']}", file=sys.stderr)
    if s.failures:
        raise InputError(f"{len(s.failures)} of the backfill's tasks failed after {retries} retries "
                         f"(listed above); the rest is in {s.output}: rerun to retry them")
