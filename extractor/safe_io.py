"""Process-safe files: the ingest lock (``<db>.lock``, fcntl) and atomic output files.

``ingest_lock`` is released by the kernel when the process dies, even on SIGKILL, so two ingests never
interleave on one database; ``atomic_output`` writes a file that a reader sees whole or not at all.
"""

from __future__ import annotations

import contextlib
import errno
import os
import time
from pathlib import Path
from typing import Iterator, Optional, Union

from .errors import StoreError


def _lock_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".lock")


@contextlib.contextmanager
def ingest_lock(db_path: Union[str, os.PathLike], wait: bool = False, poll: float = 0.2) -> Iterator[None]:
    """Hold ``<db>.lock`` exclusively; raise StoreError naming the holder's pid, or wait for it with ``wait``."""
    import fcntl

    db_path = Path(db_path)
    lock_path = _lock_path(db_path)
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as err:
        raise StoreError(f"cannot create lock file {lock_path}: {err.strerror}") from None
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as err:
                if err.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                    raise StoreError(f"cannot lock {lock_path}: {err.strerror}") from None
                if not wait:
                    holder = _read_pid(lock_path)
                    who = f" (pid {holder})" if holder else ""
                    raise StoreError(
                        f"another ingest is running on {db_path.name}{who}: wait for it, or pass --wait"
                    ) from None
                time.sleep(poll)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        try:
            yield
        finally:
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _read_pid(lock_path: Path) -> Optional[int]:
    try:
        text = lock_path.read_text().strip()
        return int(text) if text else None
    except (OSError, ValueError):
        return None


@contextlib.contextmanager
def atomic_output(path: Union[str, os.PathLike], encoding: str = "utf-8") -> Iterator:
    """Write a text file atomically: a temp file in the same folder, fsync, then ``os.replace``.

    A reader sees the old file or the new one, never half of one; if the block raises, the temp file is removed
    and the previous file is left as it was.
    """
    import tempfile

    from .errors import InputError

    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise InputError(f"cannot write {target}: folder {folder} does not exist")
    if target.is_dir():
        raise InputError(f"cannot write {target}: it is a directory")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    except OSError as err:
        raise InputError(f"cannot write in {folder}: {err.strerror}") from None
    try:
        with os.fdopen(fd, "w", encoding=encoding, newline="\n") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        if target.exists():
            with contextlib.suppress(OSError):
                os.chmod(tmp, target.stat().st_mode & 0o777)
        else:
            with contextlib.suppress(OSError):
                umask = os.umask(0)
                os.umask(umask)
                os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, target)
        with contextlib.suppress(OSError):
            dfd = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def ingest_running(db_path: Union[str, os.PathLike]) -> Optional[int]:
    """The pid of the ingest holding ``<db>.lock`` right now, or None (a pid left by a killed run is ignored)."""
    import fcntl

    lock_path = _lock_path(Path(db_path))
    try:
        fd = os.open(lock_path, os.O_RDONLY)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:
            return _read_pid(lock_path) or -1
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)
