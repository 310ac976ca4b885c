"""`--workers N`: documents split across processes, records back in the input order.

Each worker is a process of its own with its own pipelines: they load at the same time
(one language at a time, lazily, as documents of that language arrive), so start-up
costs one load's wall time, not N. Where the platform forks and the parent has already
loaded pipelines (a library user, the benchmark), the workers inherit them instead.

Documents go out in small ordered chunks (at most ``batch_size``; smaller when there are
few documents, so that every worker gets some); ``imap`` returns the chunks in order and
the records come back as pickled ``Record`` objects, private text included. Documents are
read lazily from the input iterable, a bounded number of chunks ahead.
"""

from __future__ import annotations

import itertools
import multiprocessing as mp
from typing import Iterable, Iterator, Optional

_worker = None


def _init(batch_size: int, prefilter: bool) -> None:
    global _worker
    import signal

    from .pipeline import Extractor

    # A forked worker inherits the CLI's handlers (SIGTERM raised as KeyboardInterrupt to clean up
    # partial outputs). The pool stops its workers with SIGTERM: they must simply end, never unwind
    # while holding a queue lock (which hangs the parent), and Ctrl-C is the parent's to handle.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    _worker = Extractor(batch_size=batch_size, prefilter=prefilter)


def _run(chunk: list) -> list:
    return list(_worker.extract_many(chunk))


def chunk_size(n_docs: Optional[int], workers: int, batch_size: int) -> int:
    """Documents per task: `batch_size`, less when there are too few documents to keep every worker busy."""
    if not n_docs:
        return batch_size
    per_worker = -(-n_docs // workers)
    # a few chunks per worker evens out long and short documents; never below a handful
    return max(1, min(batch_size, max(4, -(-per_worker // 4)) if per_worker > 4 else per_worker))


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    it = iter(items)
    while True:
        chunk = list(itertools.islice(it, size))
        if not chunk:
            return
        yield chunk


def extract_parallel(items: Iterable, *, workers: int = 2, batch_size: int = 16, prefilter: bool = True) -> Iterator:
    """Records for `items` (documents as Extractor.extract_many takes them), in the input order."""
    if not isinstance(items, (list, tuple)):
        items = list(items)
    if workers <= 1 or len(items) <= 1:
        from .pipeline import Extractor

        yield from Extractor(batch_size=batch_size, prefilter=prefilter).extract_many(items)
        return
    size = chunk_size(len(items), workers, batch_size)
    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    with ctx.Pool(workers, initializer=_init, initargs=(batch_size, prefilter)) as pool:
        for out in pool.imap(_run, _chunks(items, size)):
            yield from out
