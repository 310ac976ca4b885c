"""The Dask runner: archives planned and extracted as tasks, partitions written, figures gathered.

    with connect(workers=2) as client:                       # a LocalCluster of 2 worker processes
        summary = run_backfill(find_archives(paths), "out/", client)
    with connect("tcp://10.0.0.5:8786") as client: ...       # a real cluster

One task per archive scans it and cuts it into partitions (`archives.plan_archive`); the plan is
kept in the output directory, so a rerun does not scan again. One task per partition extracts it
into its file (`tasks.partition_task`). Finished partitions are never submitted again; at most a
few tasks per worker thread are in flight, so an archive set of any size is fed to the scheduler
little by little, one archive's partitions after the other. A task that raises is retried
(`retries`); a worker that dies has its task run elsewhere (Dask's own rescheduling); a partition
that still fails is reported in the summary and the run goes on.
"""

from __future__ import annotations

import logging
import os
import re
import time
import uuid
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib.util import find_spec
from typing import Callable, Optional

from ..errors import ExtractorError, FetchError, InputError
from .archives import Archive
from .partitions import OutputDir

_ADDRESS = re.compile(r"^(?:(tcp|tls|ws|wss|ucx|inproc)://)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+)(?::(\d{1,5}))?/?$")


@dataclass
class BackfillOptions:
    fmt: str = "jsonl"  # or "parquet"
    max_docs: int = 1000  # documents per partition
    max_bytes: int = 256 << 20  # archive bytes per partition
    batch_size: int = 16
    prefilter: bool = True
    incidents_only: bool = False
    retries: int = 2  # a task that raises is run this many more times
    preload: object = ()  # languages whose pipelines each worker loads at start ("all" for every one)


@dataclass
class Progress:
    partitions: int = 0  # known so far (archives are planned as the run goes)
    done: int = 0  # finished in this run
    already: int = 0  # finished by an earlier run
    failed: int = 0
    documents: int = 0
    prefiltered: int = 0
    errors: int = 0  # documents that gave an error record
    incidents: int = 0
    records: int = 0  # written
    damaged: int = 0  # damaged archive records skipped
    archives: int = 0
    planned: int = 0
    started: float = field(default_factory=time.monotonic)

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    @property
    def docs_per_s(self) -> float:
        return self.documents / self.elapsed if self.elapsed > 0 else 0.0

    @property
    def pass_rate(self) -> Optional[float]:
        """Share of documents the prefilter let through to spaCy."""
        return (self.documents - self.prefiltered) / self.documents if self.documents else None


@dataclass
class Summary(Progress):
    output: str = ""
    failures: list = field(default_factory=list)  # {"what", "archive", "partition", "error"}
    damage: list = field(default_factory=list)  # {"archive", "damaged", "offset", "reason"}
    skipped: dict = field(default_factory=dict)  # archive records that are not documents, by reason
    empty: list = field(default_factory=list)  # archives without a single document (and no damage)
    workers: int = 0


def check_address(address: str) -> str:
    m = _ADDRESS.match(address.strip())
    if not m or (m.group(3) and not 0 < int(m.group(3)) < 65536):
        raise InputError(f"bad scheduler address {address!r}: expected tcp://HOST:PORT (e.g. tcp://10.0.0.5:8786)")
    return address.strip() if m.group(1) else f"tcp://{address.strip()}"


@contextmanager
def connect(scheduler: Optional[str] = None, workers: Optional[int] = None, *, timeout: float = 10.0,
            dashboard_address: Optional[str] = ":8787"):
    """A Dask client: on the scheduler at `scheduler`, or on a LocalCluster of `workers` processes."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ExtractorError("backfill needs Dask: pip install -e '.[cluster]'") from None
    cluster = None
    if scheduler:
        address = check_address(scheduler)
        try:
            client = Client(address, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError, ValueError) as err:
            reason = " ".join(str(err).split())[:160] or type(err).__name__
            raise FetchError(f"cannot reach the Dask scheduler at {address}: {reason}") from None
    else:
        n = workers or os.cpu_count() or 1
        try:
            cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                   dashboard_address=dashboard_address, silence_logs=logging.ERROR)
        except Exception as err:  # noqa: BLE001
            raise ExtractorError(f"cannot start a local Dask cluster: {type(err).__name__}: {err}") from None
        client = Client(cluster, set_as_default=False)
    try:
        yield client
    finally:
        try:
            client.close()
        finally:
            if cluster is not None:
                cluster.close()


def dashboard(client) -> tuple[Optional[str], str]:
    """(the Dask dashboard's link, or None; a line to show the user)."""
    try:
        link = client.dashboard_link
    except Exception:  # noqa: BLE001 - no dashboard service
        link = None
    local = bool(getattr(client, "cluster", None))
    if link and (not local or find_spec("bokeh") is not None):
        return link, f"Dask dashboard: {link}" + ("" if local else " (served if bokeh is installed on the scheduler)")
    where = f" at {link}" if link else ""
    return None, f"Dask dashboard: not available (pip install 'bokeh>=3.1' to get it{where})"


def _error_line(err: BaseException) -> str:
    name = type(err).__name__
    if name == "KilledWorker":
        return "its worker died on every attempt (out of memory, or killed)"
    text = " ".join(str(err).split())[:200]
    return f"{name}: {text}" if text else name


def outstanding(archives: list[Archive], out: OutputDir) -> int:
    """Archives not yet planned plus planned partitions not yet written (0: nothing to do)."""
    n = 0
    for arch in archives:
        plan = out.load_plan(arch.key)
        n += 1 if plan is None else sum(not out.is_done(p["name"]) for p in plan["partitions"])
    return n


def backfill(archives: list[Archive], output, options: Optional[BackfillOptions] = None, *,
             scheduler: Optional[str] = None, workers: Optional[int] = None, timeout: float = 10.0,
             progress: Optional[Callable[[Progress], None]] = None,
             on_connect: Optional[Callable[[object], None]] = None) -> Summary:
    """The whole job: open `output`, connect (only if there is work), run, close. See `run_backfill`."""
    opts = options or BackfillOptions()
    if scheduler:
        check_address(scheduler)
    if opts.fmt == "parquet" and find_spec("pyarrow") is None:
        raise ExtractorError("--format parquet needs pyarrow: pip install -e '.[cluster]'")
    with OutputDir(output, opts.fmt, {"prefilter": opts.prefilter, "incidents_only": opts.incidents_only}) as out:
        if not outstanding(archives, out):
            client = None
            summary = run_backfill(archives, out, client, opts, progress)
        else:
            with connect(scheduler, workers, timeout=timeout) as client:
                if on_connect:
                    on_connect(client)
                summary = run_backfill(archives, out, client, opts, progress)
    return summary


def run_backfill(archives: list[Archive], output, client, options: Optional[BackfillOptions] = None,
                 progress: Optional[Callable[[Progress], None]] = None) -> Summary:
    """Extract every partition of `archives` not yet in `output` (a directory or an open OutputDir).

    `client` may be None when nothing is left to do (see `outstanding`)."""
    opts = options or BackfillOptions()
    own_dir = not isinstance(output, OutputDir)
    out = OutputDir(output, opts.fmt, {"prefilter": opts.prefilter, "incidents_only": opts.incidents_only}) if own_dir else output
    if own_dir:
        out.open()
    try:
        return _Run(archives, out, client, opts, progress).run()
    finally:
        if own_dir:
            out.close()


class _Run:
    """One backfill run: a queue of tasks to submit, the futures in flight, the summary."""

    def __init__(self, archives, out: OutputDir, client, opts: BackfillOptions, progress):
        self.archives, self.out, self.client, self.opts, self.progress = archives, out, client, opts, progress
        self.summary = Summary(output=str(out.path), archives=len(archives))
        self.spec = {"path": str(out.path), "suffix": out.suffix, "format": out.fmt, "batch_size": opts.batch_size,
                     "prefilter": opts.prefilter, "incidents_only": opts.incidents_only}
        self.token = uuid.uuid4().hex[:6]  # task keys of this run
        self.queue: deque = deque()  # ("plan", archive) | ("part", archive, partition)
        self.pending: dict = {}  # future -> queue item
        self.figures = out.done_figures()
        self._threads, self._threads_at = 0, 0.0

    def run(self) -> Summary:
        from distributed import wait

        if self.client is not None:
            self._register()
        for arch in self.archives:
            a = arch.to_dict()
            plan = self.out.load_plan(arch.key)
            if plan is not None:
                plan["archive"] = a  # the archive may have moved: read it where it is now
                self._take_plan(plan)
            else:
                self.queue.append(("plan", a))
        last_tick = 0.0
        try:
            self._submit()
            while self.pending:
                try:
                    with self.client.as_current():  # wait() looks for the current client
                        done, _ = wait(list(self.pending), timeout=1.0, return_when="FIRST_COMPLETED")
                except TimeoutError:  # nothing finished within the second
                    done = set()
                for fut in done:
                    self._finished(fut, self.pending.pop(fut))
                    fut.release()
                self._submit()
                now = time.monotonic()
                if self.progress and (done or now - last_tick >= 2.0):
                    self.progress(self.summary)
                    last_tick = now
        except BaseException:  # Ctrl-C, SIGTERM: nothing more is started; finished partitions stay
            if self.pending:
                self.client.cancel(list(self.pending))
            raise
        self.out.clear_temporaries()  # what workers that died mid-partition left
        if self.progress:
            self.progress(self.summary)
        return self.summary

    def _register(self) -> None:
        from .tasks import ExtractorPlugin

        try:
            self.client.register_plugin(ExtractorPlugin(self.opts.batch_size, self.opts.prefilter, self.opts.preload))
        except Exception as err:  # noqa: BLE001 - a worker that cannot import or load the extractor
            raise ExtractorError(f"the Dask workers cannot load the extractor ({_error_line(err)}): install "
                                 "incidents-extractor[cluster] and the spaCy pipelines on every worker") from None

    def _take_plan(self, plan: dict) -> None:
        """Count an archive's plan; queue its partitions not yet written, ahead of the other archives."""
        s, a = self.summary, plan["archive"]
        s.planned += 1
        skipped = plan.get("skipped") or {}
        for k, v in skipped.items():
            s.skipped[k] = s.skipped.get(k, 0) + v
        damaged, truncated = plan.get("damaged", 0), skipped.get("truncated", 0)
        if damaged or truncated:
            first = (plan.get("damage") or [{}])[0]
            s.damaged += damaged
            s.damage.append({"archive": a["path"], "damaged": damaged, "truncated": truncated,
                             "offset": first.get("offset"), "reason": first.get("reason")})
            if damaged and not plan["partitions"]:
                s.failures.append({"what": "archive", "archive": a["path"], "partition": None,
                                   "error": f"no readable record ({first.get('reason')})"})
        if not plan["partitions"] and not damaged:
            s.empty.append(a["path"])
        todo = []
        for part in plan["partitions"]:
            s.partitions += 1
            if self.out.is_done(part["name"]):
                s.already += 1
                s.records += (self.figures.get(part["name"]) or {}).get("records", 0)
            else:
                todo.append(("part", a, part))
        self.queue.extendleft(reversed(todo))  # one archive after the other

    def _capacity(self) -> int:
        """Tasks in flight: two per worker thread (one running, one ready), read again every 5 s."""
        now = time.monotonic()
        if now - self._threads_at > 5:
            try:
                nthreads = self.client.nthreads()
            except Exception:  # noqa: BLE001 - the scheduler is busy: keep the last figure
                nthreads = {}
            self._threads, self._threads_at = sum(nthreads.values()) or self._threads, now
            self.summary.workers = max(self.summary.workers, len(nthreads))
        return max(4, 2 * self._threads)

    def _submit(self) -> None:
        from .tasks import partition_task, plan_task

        while self.queue and len(self.pending) < self._capacity():
            item = self.queue.popleft()
            if item[0] == "plan":
                fut = self.client.submit(plan_task, item[1], self.opts.max_docs, self.opts.max_bytes,
                                         retries=self.opts.retries, key=f"backfill-plan-{item[1]['key']}-{self.token}",
                                         pure=False)
            else:
                fut = self.client.submit(partition_task, item[1], item[2], self.spec, retries=self.opts.retries,
                                         key=f"backfill-{item[2]['name']}-{self.token}", pure=False)
            self.pending[fut] = item

    def _finished(self, fut, item) -> None:
        s = self.summary
        if fut.status != "finished":  # raised on every attempt, or its workers kept dying
            error = _error_line(fut.exception())
            name = item[2]["name"] if item[0] == "part" else None
            s.failures.append({"what": "partition" if name else "archive", "archive": item[1]["path"],
                               "partition": name, "error": error})
            if name:
                s.failed += 1
                self.out.log({"event": "failed", "partition": name, "archive": item[1]["path"], "error": error})
            return
        result = fut.result()
        if item[0] == "plan":
            self.out.save_plan(result)
            self._take_plan(result)
            return
        s.done += 1
        for k in ("documents", "prefiltered", "errors", "incidents", "records"):
            setattr(s, k, getattr(s, k) + result.get(k, 0))
        self.out.log({"event": "done", **result})
