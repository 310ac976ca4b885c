"""What runs on the Dask workers: planning an archive, extracting one partition.

Each worker process keeps one `Extractor` (and so each spaCy pipeline) for its whole life: the
`ExtractorPlugin` creates it when the worker starts (and, with ``preload``, loads the pipelines
then, off the event loop), and `partition_task` reuses it; a worker started without the plugin
creates it at its first task. Extraction holds a process lock, so a worker started with several
threads still runs one spaCy pipeline at a time (use one thread per worker process).

A task is idempotent: a partition whose final file exists is counted, not redone, so a task that
Dask runs again (its worker died after the rename) costs one file count.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from pathlib import Path

from distributed.diagnostics.plugin import WorkerPlugin

from .archives import plan_archive, read_partition
from .partitions import count_records, write_partition

_lock = threading.Lock()
_extractors: dict = {}


def get_extractor(batch_size: int = 16, prefilter: bool = True):
    """This process's extractor for these settings (pipelines are shared by all of them)."""
    key = (batch_size, prefilter)
    with _lock:
        ex = _extractors.get(key)
        if ex is None:
            from ..pipeline import Extractor

            ex = _extractors[key] = Extractor(batch_size=batch_size, prefilter=prefilter)
        return ex


def preload(languages) -> list[str]:
    """Load the spaCy pipelines of `languages` now (``"all"``: every supported language)."""
    from ..nlp import get_nlp
    from ..resources import LANGUAGES

    langs = list(LANGUAGES) if languages == "all" else list(languages or ())
    for lang in langs:
        get_nlp(lang)
    return langs


class ExtractorPlugin(WorkerPlugin):
    """Set up each worker once: its extractor, and optionally its pipelines loaded before any task."""

    name = "incidents-extractor"
    idempotent = False  # a new registration (other settings) runs setup again; pipelines stay cached

    def __init__(self, batch_size: int = 16, prefilter: bool = True, languages=()):
        self.batch_size = batch_size
        self.prefilter = prefilter
        self.languages = languages

    async def setup(self, worker):
        import asyncio

        def _setup():
            get_extractor(self.batch_size, self.prefilter)
            preload(self.languages)

        # off the event loop: loading a pipeline takes seconds and the worker must keep its heartbeat
        await asyncio.get_running_loop().run_in_executor(None, _setup)


def plan_task(archive: dict, max_docs: int, max_bytes: int) -> dict:
    """Scan one archive and cut it into partitions (see archives.plan_archive)."""
    started = time.monotonic()
    plan = plan_archive(archive, max_docs, max_bytes)
    plan["seconds"] = round(time.monotonic() - started, 3)
    return plan


def partition_task(archive: dict, part: dict, out: dict) -> dict:
    """Extract one partition into its file; return its figures.

    `out`: ``{"path": the output directory, "suffix", "format", "batch_size", "prefilter", "incidents_only"}``.
    """
    started = time.monotonic()
    final = Path(out["path"]) / f"{part['name']}{out['suffix']}"
    figures = {"partition": part["name"], "archive": archive["path"], "pid": os.getpid(), "host": socket.gethostname()}
    if final.exists():  # done by an earlier attempt
        n = count_records(final)
        return {**figures, "documents": 0, "records": n, "already": True, "seconds": 0.0}
    ex = get_extractor(out.get("batch_size", 16), out.get("prefilter", True))
    skipped: dict[str, int] = {}
    tally = {"documents": 0, "prefiltered": 0, "errors": 0, "incidents": 0}
    incidents_only = bool(out.get("incidents_only"))

    def records():
        before = ex.stats["prefiltered"]
        try:
            for rec in ex.extract_many(read_partition(archive, part, skipped)):
                tally["documents"] += 1
                tally["errors"] += rec.error is not None
                tally["incidents"] += bool(rec.is_incident)
                if incidents_only and not rec.is_incident:
                    continue
                yield rec
        finally:
            tally["prefiltered"] += ex.stats["prefiltered"] - before

    with _lock:  # one pipeline run at a time in this process
        n = write_partition(final, records(), out.get("format", "jsonl"))
    return {**figures, **tally, "records": n, "skipped": skipped, "already": False,
            "seconds": round(time.monotonic() - started, 3)}
