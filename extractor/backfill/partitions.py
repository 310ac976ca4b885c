"""The backfill's output directory: one file per partition, written atomically, and a manifest.

    DIR/<archive-key>-p00000.jsonl        records of one partition (or .parquet), in archive order
    DIR/_backfill/config.json             the options that shape the output (format, filters)
    DIR/_backfill/plans/<archive-key>.json  how each archive was cut (so a rerun does not rescan it)
    DIR/_backfill/manifest.jsonl          one line per finished (or failed) partition, with its figures
    DIR/_backfill/lock                    held by the running backfill (a second one on DIR is refused)

A partition is written to a hidden temporary name (``.NAME.PID.RANDOM.tmp``), flushed to disk and
renamed: a file with the final name is always complete, so it is never redone, and a half-written
one is only ever a temporary, removed by the next run. The records are exactly the lines that
``incidents extract --docs`` writes (JSONL), or the same record JSON in the ``record`` column of a
Parquet file, beside a few columns to query without parsing it. Nothing here needs Dask.
"""

from __future__ import annotations

import errno
import json
import os
import uuid
from pathlib import Path
from typing import Iterable, Iterator, Optional

from ..errors import InputError, StoreError

FORMATS = {"jsonl": ".jsonl", "parquet": ".parquet"}
META = "_backfill"
PARQUET_ROWS = 1000  # rows per Parquet row group


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_json_atomic(path: Path, obj) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(obj, fh, ensure_ascii=False, sort_keys=True)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class OutputDir:
    """The output directory, as the client sees it: options, plans, manifest, the lock."""

    def __init__(self, path, fmt: str = "jsonl", options: Optional[dict] = None):
        if fmt not in FORMATS:
            raise InputError(f"unknown output format {fmt!r}: expected one of {', '.join(FORMATS)}")
        self.path = Path(path).resolve()
        self.fmt = fmt
        self.suffix = FORMATS[fmt]
        self.options = {"format": fmt, **(options or {})}
        self._lock_fh = None

    # -- opening -------------------------------------------------------------------------------

    def open(self) -> "OutputDir":
        """Create (or check) the directory, take its lock, check the options, clear stale temporaries."""
        p = self.path
        if p.exists() and not p.is_dir():
            raise InputError(f"cannot write to {p}: not a directory")
        try:
            (p / META / "plans").mkdir(parents=True, exist_ok=True)
            probe = p / META / f".probe.{os.getpid()}"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as err:
            raise InputError(f"cannot write to {p}: {err.strerror or err}") from None
        self._lock()
        config = p / META / "config.json"
        if config.exists():
            try:
                old = json.loads(config.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                old = None
            if isinstance(old, dict) and old != self.options:
                self.close()
                diff = ", ".join(f"{k}={old.get(k)!r}" for k in sorted(set(old) | set(self.options))
                                 if old.get(k) != self.options.get(k))
                raise InputError(f"{p} was written with other options ({diff}): use the same options or another directory")
        else:
            write_json_atomic(config, self.options)
        self.clear_temporaries()
        return self

    def _lock(self) -> None:
        import fcntl

        fh = open(self.path / META / "lock", "a+")
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            fh.close()
            if err.errno in (errno.EAGAIN, errno.EACCES):
                raise StoreError(f"another backfill is writing {self.path}") from None
            raise
        self._lock_fh = fh

    def close(self) -> None:
        if self._lock_fh is not None:
            self._lock_fh.close()
            self._lock_fh = None

    def __enter__(self):
        return self.open()

    def __exit__(self, *exc):
        self.close()

    def clear_temporaries(self) -> int:
        """Remove half-written partitions left by a run that was stopped (only the lock holder may)."""
        n = 0
        for q in list(self.path.glob(".*.tmp")) + list((self.path / META).glob("**/.*.tmp")):
            try:
                q.unlink()
                n += 1
            except OSError:
                pass
        return n

    # -- plans, partitions, manifest -----------------------------------------------------------

    def plan_path(self, key: str) -> Path:
        return self.path / META / "plans" / f"{key}.json"

    def load_plan(self, key: str) -> Optional[dict]:
        try:
            plan = json.loads(self.plan_path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None  # absent or unreadable: the archive is scanned again
        return plan if isinstance(plan, dict) and isinstance(plan.get("partitions"), list) else None

    def save_plan(self, plan: dict) -> None:
        write_json_atomic(self.plan_path(plan["archive"]["key"]), plan)

    def partition_path(self, name: str) -> Path:
        return self.path / f"{name}{self.suffix}"

    def is_done(self, name: str) -> bool:
        return self.partition_path(name).exists()

    def done_figures(self) -> dict[str, dict]:
        """The figures of the partitions the manifest records as done (last entry wins)."""
        out: dict[str, dict] = {}
        try:
            fh = open(self.path / META / "manifest.jsonl", encoding="utf-8")
        except OSError:
            return out
        with fh:
            for line in fh:
                try:
                    e = json.loads(line)
                except ValueError:
                    continue  # a line cut by a crash: that partition's file decides
                if isinstance(e, dict) and e.get("event") == "done":
                    out[e.get("partition")] = e
        return out

    def log(self, event: dict) -> None:
        with open(self.path / META / "manifest.jsonl", "a", encoding="utf-8") as fh:
            fh.write(json.dumps(event, ensure_ascii=False, sort_keys=True) + "\n")
            fh.flush()
            os.fsync(fh.fileno())


# -- on the workers: writing one partition -------------------------------------------------------


def write_partition(final: Path, records: Iterable, fmt: str) -> int:
    """Write records to `final` atomically: a temporary name, fsync, rename. Returns how many."""
    final = Path(final)
    tmp = final.with_name(f".{final.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        if fmt == "parquet":
            n = _write_parquet(tmp, records)
        else:
            n = 0
            with open(tmp, "w", encoding="utf-8") as fh:
                for rec in records:
                    fh.write(rec.model_dump_json() + "\n")
                    n += 1
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(final.parent)
    return n


def _parquet_schema():
    import pyarrow as pa

    return pa.schema([
        ("source_id", pa.string()), ("url", pa.string()), ("language", pa.string()), ("published", pa.string()),
        ("is_incident", pa.bool_()), ("relevance", pa.float64()), ("organization", pa.string()),
        ("victims", pa.int64()), ("error", pa.string()), ("record", pa.string()),
    ])


def _row(rec) -> dict:
    s = rec.source
    return {
        "source_id": s.id, "url": s.url, "language": s.language,
        "published": s.published.isoformat() if s.published else None,
        "is_incident": bool(rec.is_incident), "relevance": rec.relevance,
        "organization": rec.organization.name if rec.organization else None,
        "victims": rec.victims.count if rec.victims else None,
        "error": rec.error, "record": rec.model_dump_json(),
    }


def _write_parquet(tmp: Path, records: Iterable) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = _parquet_schema()
    n = 0
    rows: list[dict] = []
    with pq.ParquetWriter(str(tmp), schema, compression="zstd") as writer:
        for rec in records:
            rows.append(_row(rec))
            n += 1
            if len(rows) >= PARQUET_ROWS:
                writer.write_table(pa.Table.from_pylist(rows, schema=schema))
                rows = []
        if rows or n == 0:
            writer.write_table(pa.Table.from_pylist(rows, schema=schema))
    with open(tmp, "rb+") as fh:
        os.fsync(fh.fileno())
    return n


def count_records(path: Path) -> int:
    """Records in a finished partition file."""
    if path.suffix == ".parquet":
        import pyarrow.parquet as pq

        return pq.ParquetFile(str(path)).metadata.num_rows
    with open(path, "rb") as fh:
        return sum(1 for line in fh if line.strip())


# -- reading a backfill directory back (incidents import DIR) ------------------------------------


def partition_files(directory) -> list[Path]:
    """The partition files of a directory, in name order: every *.jsonl, then every *.parquet."""
    d = Path(directory)
    files = sorted(q for q in d.iterdir() if q.is_file() and not q.name.startswith(".") and q.suffix in (".jsonl", ".parquet"))
    return sorted(files, key=lambda q: (q.suffix != ".jsonl", q.name))


def directory_lines(directory) -> list[str]:
    """Every record line of a directory's partitions (JSONL lines, Parquet `record` values), in name order."""
    return list(iter_directory_lines(directory))


def iter_directory_lines(directory) -> Iterator[str]:
    files = partition_files(directory)
    if not files:
        raise InputError(f"{directory}: no *.jsonl or *.parquet partition in this directory")
    for q in files:
        try:
            if q.suffix == ".parquet":
                try:
                    import pyarrow.parquet as pq
                except ImportError:
                    raise InputError(f"{q}: reading Parquet needs pyarrow (pip install -e '.[cluster]')") from None
                try:
                    column = pq.read_table(str(q), columns=["record"]).column("record")
                except Exception as err:  # noqa: BLE001 - pyarrow raises its own kinds
                    raise InputError(f"{q}: not a backfill Parquet partition ({type(err).__name__})") from None
                for value in column.to_pylist():
                    if value:
                        yield value
            else:
                with open(q, encoding="utf-8") as fh:
                    for line in fh:
                        yield line.rstrip("\n")
        except UnicodeDecodeError:
            raise InputError(f"{q}: not UTF-8 text") from None
        except OSError as err:
            raise InputError(f"cannot read {q}: {err.strerror or err}") from None
