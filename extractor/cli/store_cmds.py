"""`incidents ingest`, `incidents export`, `incidents status`: the scheduled job and its database."""

from __future__ import annotations

import json
import re
import signal
import sys
import threading
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import FetchError, InputError, StoreError
from .app import app

DB_HELP = "SQLite database file (created on first ingest)."

DbOpt = Annotated[Path, typer.Option("--db", help=DB_HELP, metavar="FILE")]


@app.command(
    "ingest",
    help=(
        "Poll news feeds, fetch each new item's page, extract incidents and store everything in SQLite.\n\n"
        "Feeds answer conditional GETs (ETag/Last-Modified), so a run with nothing new costs almost nothing; an item "
        "already seen (same guid, or same URL without tracking parameters) is never fetched twice; a failed page is "
        "retried by a later run with exponential backoff. Killing a run at any moment loses nothing: rerun it.\n\n"
        "Examples:\n\n"
        "  incidents ingest --demo   (offline: a local server on 127.0.0.1)\n\n"
        "  incidents ingest   (the shipped feed list -> ./incidents.db)\n\n"
        "  incidents ingest --feeds my-feeds.toml --db /var/lib/incidents/incidents.db\n\n"
        "  incidents ingest --every 30m   (until SIGTERM/Ctrl-C)\n\n"
        "  incidents ingest --docs docs.jsonl   (documents in the `extract --docs` format, stored, extracted and "
        "attached exactly as feed items are)\n\n"
        "Exit codes: 0 done (per-feed and per-item errors are in the summary and `incidents status`), "
        "4 every polled feed failed, 5 database locked by another ingest / newer schema / not a database."
    ),
)
def ingest_cmd(
    feeds: Annotated[Optional[Path], typer.Option("--feeds", metavar="FILE", help="TOML feed list ([[feed]] url, name, language). Default: the shipped pipelines/feeds.toml.")] = None,
    db: DbOpt = Path("incidents.db"),
    every: Annotated[Optional[str], typer.Option("--every", metavar="DURATION", help="Keep polling every DURATION (30m, 1h, 90s) until stopped.")] = None,
    demo: Annotated[bool, typer.Option("--demo", help="Offline demo: serve pipelines/demo/ on 127.0.0.1 and ingest its feeds.")] = False,
    wait: Annotated[bool, typer.Option("--wait", help="If another ingest holds the database, wait for it instead of exiting.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Poll every feed now, ignoring backoff and Retry-After (not retired feeds).")] = False,
    delay: Annotated[Optional[float], typer.Option("--delay", metavar="SECONDS", min=0.0, help="Pause between two requests to one host (default: the fetcher's).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar and no warnings; the summary line only.")] = False,
    docs: Annotated[Optional[Path], typer.Option("--docs", metavar="DOCS.jsonl", help='Ingest these documents ({"id", "url", "text" or "html", "title", "published", "language"} per line, - for stdin) instead of polling feeds.')] = None,
) -> None:
    from pipelines import ingest as ing

    if docs is not None:
        if feeds is not None or demo or every:
            raise InputError("--docs ingests one file of documents: drop --feeds, --demo and --every")
        _check_db_path(db)
        log = (lambda msg: None) if quiet else (lambda msg: print(msg, file=sys.stderr))
        from ..store import Store, ingest_lock

        with ingest_lock(db, wait=wait), Store(db) as store:
            summary = ing.ingest_docs_file(store, docs, log=log)
        print(summary.docs_line(), file=sys.stderr)
        return
    if demo and feeds is not None:
        raise InputError("--demo uses its own feed list: drop --feeds")
    interval = ing.parse_duration(every) if every else None
    feed_path = Path(feeds) if feeds is not None else (ing.DEMO_DIR / "feeds.toml" if demo else ing.DEFAULT_FEEDS)
    feed_list = ing.load_feed_list(feed_path)
    _check_db_path(db)

    stop = threading.Event()
    interrupted = {"sigint": False}

    def on_signal(signum, frame):
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        if signum == signal.SIGINT:
            interrupted["sigint"] = True
        if not quiet:
            print("incidents: stopping after the current item (Ctrl-C again to abort now)", file=sys.stderr)

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    log = (lambda msg: None) if quiet else (lambda msg: print(msg, file=sys.stderr))
    progress = (not quiet) and sys.stderr.isatty()
    try:
        while True:
            started = time.monotonic()
            summary = _run_once(ing, db, feed_list, demo=demo, wait=wait, force=force, delay=delay,
                                stop=stop, log=log, progress=progress)
            print(summary.line(), file=sys.stderr)
            if interval is None or stop.is_set():
                break
            ing.sleep_until(started + interval, stop)
            if stop.is_set():
                break
    finally:
        for s, h in old.items():
            signal.signal(s, h)
    if interrupted["sigint"]:
        raise typer.Exit(130)
    if interval is None and summary.feeds_polled and summary.feeds_failed == summary.feeds_polled and not summary.stopped:
        raise FetchError(f"every polled feed failed ({summary.feeds_failed}): see `incidents status --db {db}`")


def _check_db_path(db: Path) -> None:
    if db.exists() and db.is_dir():
        raise StoreError(f"{db} is a directory, not a database file")


def _run_once(ing, db: Path, feed_list, *, demo: bool, wait: bool, force: bool, delay, stop, log, progress):
    from ..store import Store, ingest_lock

    server_cm = nullcontext(None)
    if demo:
        from pipelines.demo_server import DemoServer

        server_cm = DemoServer()
    with ingest_lock(db, wait=wait), Store(db) as store, server_cm as server:
        if server is not None:
            hostport = server.hostport
            placeholder = ing.DEMO_PLACEHOLDER
            to_fetch = lambda u: u.replace(placeholder, hostport).replace(placeholder.lower(), hostport)  # noqa: E731
            from_fetch = lambda u: u.replace(hostport, placeholder) if u else u  # noqa: E731
            # private addresses are allowed for the demo server only: OnlyHost refuses every other host
            fetcher_cm = ing.open_fetcher(allow_private=True, per_host_delay=0.0 if delay is None else delay)
        else:
            to_fetch = from_fetch = (lambda u: u)
            fetcher_cm = ing.open_fetcher(per_host_delay=delay)
        with fetcher_cm as raw_fetcher:
            fetcher = ing.OnlyHost(raw_fetcher, server.hostport) if server is not None else raw_fetcher
            ingestor = ing.Ingestor(
                store, feed_list, fetcher, ing.default_extractor_factory, force=force, stop=stop, log=log,
                progress=progress, to_fetch_url=to_fetch, from_fetch_url=from_fetch,
            )
            return ingestor.run()


_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@app.command(
    "export",
    help=(
        "Write stored records as JSONL (one extractor record per line; incident reports only by default).\n\n"
        "The file is replaced atomically: a reader sees the old file or the new one, never half of one, and a failed "
        "export leaves the previous file as it was.\n\n"
        "Examples:\n\n"
        "  incidents export --output incidents.jsonl\n\n"
        "  incidents export --output - --since 2024-01-01\n\n"
        "  incidents export --output all.jsonl --all-documents   (incident or not)\n\n"
        "  incidents export --output merged.jsonl --incidents   (one line per incident)"
    ),
)
def export_cmd(
    output: Annotated[str, typer.Option("--output", "-o", metavar="FILE", help="Output file, or - for stdout.")],
    since: Annotated[Optional[str], typer.Option("--since", metavar="YYYY-MM-DD", help="Only documents published on or after this day (fetch day when unknown).")] = None,
    all_documents: Annotated[bool, typer.Option("--all-documents", help="Every document's record, not only incidents.")] = False,
    incidents: Annotated[bool, typer.Option("--incidents", help="One line per merged incident (all its reports) instead of one per report.")] = False,
    db: DbOpt = Path("incidents.db"),
) -> None:
    from ..store import Store, atomic_output

    if since is not None and not _DAY.match(since):
        raise InputError(f"bad --since {since!r}: expected YYYY-MM-DD")
    if incidents and all_documents:
        raise InputError("--incidents and --all-documents cannot be combined")
    _check_db_path(db)
    with Store(db, create=False) as store:
        conn = store.conn
        conn.execute("BEGIN")  # one read snapshot, even while an ingest writes
        try:
            if incidents:
                lines = _incident_lines(conn, since)
            else:
                lines = _record_lines(conn, since, all_documents)
            if output == "-":
                n = 0
                for line in lines:
                    sys.stdout.write(line)
                    n += 1
                sys.stdout.flush()
            else:
                with atomic_output(output) as fh:
                    n = 0
                    for line in lines:
                        fh.write(line)
                        n += 1
        finally:
            if conn.in_transaction:
                conn.execute("COMMIT")
    what = "incidents" if incidents else ("records" if all_documents else "incident records")
    where = "stdout" if output == "-" else output
    print(f"export: {n} {what} written to {where}", file=sys.stderr)


def _record_lines(conn, since: Optional[str], all_documents: bool):
    day = "COALESCE(d.published, substr(d.fetched_at, 1, 10))"
    sql = (
        f"SELECT r.record_json FROM reports r JOIN documents d ON d.id = r.document_id "
        f"WHERE (? = 1 OR r.is_incident = 1) AND (? IS NULL OR {day} >= ?) ORDER BY {day}, r.id"
    )
    for (record_json,) in conn.execute(sql, (1 if all_documents else 0, since, since)):
        yield record_json.strip() + "\n"


def _incident_lines(conn, since: Optional[str]):
    try:
        from ..merge import export_incidents
    except ImportError:
        raise StoreError("--incidents needs extractor.merge, which is not installed") from None
    for obj in export_incidents(conn, since=since):
        yield json.dumps(obj, ensure_ascii=False, default=str) + "\n"


@app.command(
    "status",
    help=(
        "Show the database's health: each feed's last poll, status, error, failures and backoff; counts of "
        "documents, reports and incidents; items that failed and wait for a retry.\n\n"
        "Examples:\n\n"
        "  incidents status\n\n"
        "  incidents status --db /var/lib/incidents/incidents.db --json"
    ),
)
def status_cmd(
    db: DbOpt = Path("incidents.db"),
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object instead of text.")] = False,
    limit: Annotated[int, typer.Option("--limit", min=0, help="Failed items to list.")] = 20,
) -> None:
    from ..store import Store, ingest_running

    _check_db_path(db)
    with Store(db, create=False) as store:
        conn = store.conn
        counts = store.counts()
        feeds = [dict(r) for r in conn.execute(
            "SELECT f.id, f.url, f.name, f.language, f.last_polled, f.last_status, f.last_error, f.failures, "
            "f.next_poll_after, f.retired, (SELECT COUNT(*) FROM items i WHERE i.feed_id = f.id) AS items "
            "FROM feeds f ORDER BY f.retired, f.failures DESC, f.id")]
        failed = [dict(r) for r in conn.execute(
            "SELECT url, status, attempts, next_retry, last_error FROM items WHERE status IN ('failed', 'gone') "
            "ORDER BY next_retry IS NULL, next_retry, id LIMIT ?", (limit,))]
        version = store.schema_version
    holder = ingest_running(db)
    if as_json:
        print(json.dumps({"db": str(db), "schema_version": version, "counts": counts, "feeds": feeds,
                          "failed_items": failed, "ingest_running_pid": holder}, ensure_ascii=False, indent=2))
        return
    out = [f"database: {db} (schema {version})" + (f"; an ingest is running (pid {holder})" if holder else "; no ingest running")]
    out.append(f"documents: {counts['documents']}   reports: {counts['reports']} ({counts['reports_incident']} incident "
               f"reports)   incidents: {counts['incidents']}")
    out.append(f"items: {counts['items']} ({counts['items_done']} done, {counts['items_new']} new, "
               f"{counts['items_failed']} failed of which {counts['items_failed_retry']} wait for a retry, "
               f"{counts['items_gone']} gone)")
    out.append(f"feeds: {counts['feeds']} ({counts['feeds_retired']} retired)")
    if feeds:
        out.append(f"  {'STATUS':<7} {'LAST POLL':<21} {'FAIL':>4} {'ITEMS':>5}  FEED")
        for f in feeds:
            st = "retired" if f["retired"] else (str(f["last_status"]) if f["last_status"] is not None else
                                                  ("error" if f["last_error"] else "-"))
            out.append(f"  {st:<7} {f['last_polled'] or 'never':<21} {f['failures']:>4} {f['items']:>5}  "
                       f"{f['name'] or ''} <{f['url']}>")
            if f["last_error"]:
                out.append(f"  {'':<7} {'':<21} {'':>4} {'':>5}  ! {f['last_error']}")
            if f["next_poll_after"] and not f["retired"]:
                out.append(f"  {'':<7} {'':<21} {'':>4} {'':>5}  next poll after {f['next_poll_after']}")
    if failed:
        out.append("failed items (status, attempts, next retry, error):")
        for it in failed:
            nxt = it["next_retry"] or ("given up" if it["status"] == "failed" else "-")
            out.append(f"  {it['status']:<6} {it['attempts']:>2}  {nxt:<20}  {it['url']}  ! {it['last_error']}")
    print("\n".join(out))
