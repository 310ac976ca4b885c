"""`incidents backfill`: the extractor over web archives (WARC) and document dumps (JSONL), on Dask.

    from extractor.backfill import find_archives, connect, run_backfill
    with connect(workers=2) as client:                     # or connect("tcp://HOST:8786")
        summary = run_backfill(find_archives(["crawl/"]), "records/", client)

* `archives`: reading WARC and JSONL archives in partitions of bounded size (no Dask needed);
* `partitions`: the output directory: partition files written atomically, plans, manifest, lock,
  and reading a directory back (`incidents import DIR`) (no Dask needed);
* `tasks`: what runs on the workers (the extractor plugin, planning, extracting a partition);
* `runner`: the client side: connecting, feeding tasks, retries, progress, the summary.

Dask (``pip install -e '.[cluster]'``) is imported only by `tasks` and `runner`.
"""

from __future__ import annotations

from .archives import Archive, find_archives, plan_archive, read_partition
from .partitions import OutputDir, directory_lines, partition_files

__all__ = [
    "Archive", "find_archives", "plan_archive", "read_partition", "OutputDir", "directory_lines",
    "partition_files", "connect", "run_backfill", "BackfillOptions", "Summary",
]


def __getattr__(name):  # the Dask side, imported only when asked for
    if name in ("connect", "run_backfill", "BackfillOptions", "Summary", "Progress", "check_address"):
        from . import runner

        return getattr(runner, name)
    raise AttributeError(name)
