"""`--workers N`: documents split across processes, records back in the input order.

Each worker loads the pipelines it needs once (lazily, per language seen) and runs
`Extractor.extract_many` on contiguous chunks; chunks are reassembled in order.
"""

from __future__ import annotations

import multiprocessing as mp
from typing import Iterable, Iterator

_worker = None


def _init(batch_size: int) -> None:
    global _worker
    from .pipeline import Extractor

    _worker = Extractor(batch_size=batch_size)


def _run(chunk: list) -> list[str]:
    return [r.model_dump_json() for r in _worker.extract_many(chunk)]


def extract_parallel(items: Iterable, *, workers: int = 2, batch_size: int = 16) -> Iterator:
    from .record import Record

    items = list(items)
    chunks = [items[i:i + batch_size] for i in range(0, len(items), batch_size)]
    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    with ctx.Pool(workers, initializer=_init, initargs=(batch_size,)) as pool:
        for out in pool.imap(_run, chunks):
            for line in out:
                yield Record.model_validate_json(line)
