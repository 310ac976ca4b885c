"""`--workers N`: documents split across processes, records back in the input order.

Where the platform forks, the parent loads the pipelines of the languages that documents
passing the prefilter need (once), then forks: the workers inherit them, with the
collector's generations frozen so that they share the parent's pages instead of copying
them. Elsewhere (spawn) each worker loads its own pipelines, lazily.

Documents go out in small ordered chunks (at most ``batch_size``; smaller when there are
few documents, so that every worker gets some); ``imap`` returns the chunks in order and
the records come back as pickled ``Record`` objects, private text included. Documents are
read lazily from the input iterable, a bounded number of chunks ahead.
"""

from __future__ import annotations

import gc
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


PRELOAD_SCAN = 256  # documents the parent reads ahead for the languages to preload (prepared again by the workers)


def _preload(items: list, prefilter: bool) -> None:
    """Load here, once, the pipelines of the languages the workers will need (a document of that language
    passes the prefilter), so that forked workers inherit them instead of each loading its own: two workers
    then start as fast as one. Already loaded languages (a library user, the benchmark) cost nothing. Only the
    first PRELOAD_SCAN documents are read (this runs before any worker starts: a French-only input must not be
    prepared whole, serially, in the parent); a language first needed later loads in the worker that meets it."""
    from .nlp import get_nlp, loaded_languages
    from .pipeline import prepare, to_document
    from .prefilter import passes
    from .resources import LANGUAGES

    missing = set(LANGUAGES) - set(loaded_languages())
    needed: set = set()
    for obj in itertools.islice(items, PRELOAD_SCAN):
        if not missing - needed:
            break
        try:
            prep = prepare(to_document(obj))
        except Exception:  # the worker reports it, as one worker would
            continue
        if prep.language in missing and (not prefilter or passes(prep.text, prep.language)):
            needed.add(prep.language)
    for lang in sorted(needed):
        get_nlp(lang)


def chunk_size(n_docs: Optional[int], workers: int, batch_size: int) -> int:
    """Documents per task: `batch_size`, less when there are too few documents to keep every worker busy."""
    if not n_docs:
        return batch_size
    per_worker = -(-n_docs // workers)
    # a few chunks per worker evens out long and short documents; never below a handful
    return max(1, min(batch_size, max(4, -(-per_worker // 4)) if per_worker > 4 else per_worker))


def _chunks(items: Iterable, size: int, n_docs: Optional[int] = None, workers: int = 1) -> Iterator[list]:
    """`items` in order, `size` at a time; with the count known, the last `workers * size` documents go in
    chunks of a quarter of that: the workers then end together, within a small chunk of each other, instead of
    one finishing a whole chunk alone while the others wait (about half a chunk of wall time at the end)."""
    it = iter(items)
    head = max(0, n_docs - workers * size) if n_docs else None
    small = max(1, -(-size // 4))
    done = 0
    while True:
        step = size if head is None or done + size <= head else max(small, min(size, head - done))
        chunk = list(itertools.islice(it, step))
        if not chunk:
            return
        done += len(chunk)
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
    fork = "fork" in mp.get_all_start_methods()
    ctx = mp.get_context("fork" if fork else "spawn")
    if fork:
        _preload(items, prefilter)
        # What the workers inherit (pipelines loaded here, the interpreter's own objects) is shared with this
        # process page by page until written. The collector's traversals write to every object it scans:
        # frozen, they are left alone, and a worker does not copy the parent's memory page after page.
        gc.freeze()
    try:
        with ctx.Pool(workers, initializer=_init, initargs=(batch_size, prefilter)) as pool:
            for out in pool.imap(_run, _chunks(items, size, len(items), workers)):
                yield from out
    finally:
        if fork:
            gc.unfreeze()
