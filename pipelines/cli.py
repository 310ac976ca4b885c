"""`incidents ingest` (and `incidents feeds`): the scheduled job's verbs, registered from the job side on the library's CLI.

The library (``extractor``) never imports ``pipelines``; this module adds the job's verbs to the library's
Typer app instead. It is the ``incidents`` console script (``main``), and the library's own entry point
(``python -m extractor``) finds it through the ``incidents.commands`` entry point group, so both see
every verb. The ingest loop, its signal handling and the offline demo's wiring live here, with the job.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated, Optional

import typer

from extractor.cli.options import DEFAULT_DB, JobDbOpt, check_db_path
from extractor.errors import FetchError, InputError
# extractor.netguard.PROXY_ENV (a test checks they agree): importing netguard loads httpx (~0.2 s), which
# every `incidents` command would pay at start-up; only ingest fetches, and imports it when it runs
PROXY_ENV = "INCIDENTS_PROXY"

ProxyOpt = Annotated[Optional[str], typer.Option(
    "--proxy", metavar="URL", envvar=None,
    help=f"Fetch through this HTTP proxy (http://HOST:PORT). Default: ${PROXY_ENV} when set, else direct; "
         "HTTP_PROXY and the like are never read. What the address guard still checks: docs/NETWORK.md.")]
IgnoreRobotsOpt = Annotated[bool, typer.Option(
    "--ignore-robots", help="Fetch pages even where robots.txt disallows them (your own sites; per feed: robots = false).")]

INGEST_HELP = (
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
    "Pages a site's robots.txt disallows are skipped (reason recorded on the item) unless --ignore-robots or "
    "robots = false on the feed. Once a day the run drops the text of old documents that are no incident "
    "(`incidents prune`).\n\n"
    "Exit codes: 0 done (per-feed and per-item errors are in the summary and `incidents status`), "
    "4 every polled feed failed, 5 database locked by another ingest / newer schema / not a database."
)


def ingest_cmd(
    feeds: Annotated[Optional[list[Path]], typer.Option("--feeds", metavar="FILE", help="TOML feed list ([[feed]] url, name, language, enabled, robots; include = [\"default\"] extends the shipped one). Given twice, the lists are merged. Default: the shipped pipelines/feeds.toml.")] = None,
    db: JobDbOpt = DEFAULT_DB,
    every: Annotated[Optional[str], typer.Option("--every", metavar="DURATION", help="Keep polling every DURATION (30m, 1h, 90s) until stopped.")] = None,
    demo: Annotated[bool, typer.Option("--demo", help="Offline demo: serve pipelines/demo/ on 127.0.0.1 and ingest its feeds.")] = False,
    wait: Annotated[bool, typer.Option("--wait", help="If another ingest holds the database, wait for it instead of exiting.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Poll every feed now, ignoring backoff and Retry-After (not retired feeds).")] = False,
    delay: Annotated[Optional[float], typer.Option("--delay", metavar="SECONDS", min=0.0, help="Pause between two requests to one host (default: the fetcher's).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar and no warnings; the summary line only.")] = False,
    proxy: ProxyOpt = None,
    ignore_robots: IgnoreRobotsOpt = False,
    docs: Annotated[Optional[Path], typer.Option("--docs", metavar="DOCS.jsonl", help='Ingest these documents ({"id", "url", "text" or "html", "title", "published", "language"} per line, - for stdin) instead of polling feeds.')] = None,
) -> None:
    from . import ingest as ing

    if docs is not None:
        if feeds or demo or every:
            raise InputError("--docs ingests one file of documents: drop --feeds, --demo and --every")
        check_db_path(db)
        log = (lambda msg: None) if quiet else (lambda msg: print(msg, file=sys.stderr))
        from extractor.store import Store, ingest_lock

        with ingest_lock(db, wait=wait), Store(db) as store:
            summary = ing.ingest_docs_file(store, docs, log=log)
        print(summary.docs_line(), file=sys.stderr)
        if summary.errors and not summary.documents:  # as `extract --docs`: not one line could be read
            raise InputError(f"every document failed ({summary.errors} of {summary.errors}): nothing was stored")
        return
    if demo and feeds:
        raise InputError("--demo uses its own feed list: drop --feeds")
    if demo and proxy:
        raise InputError("--demo serves 127.0.0.1 itself: drop --proxy")
    interval = ing.parse_duration(every) if every else None
    feed_list = ing.load_feed_list(feed_paths(feeds, demo))
    from extractor.netguard import proxy_from_env, proxy_url

    proxy = proxy_url(proxy if proxy is not None else proxy_from_env())
    check_db_path(db)

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
                                stop=stop, log=log, progress=progress, proxy=proxy, robots=not ignore_robots)
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


def feed_paths(feeds: Optional[list[Path]], demo: bool = False) -> list[Path]:
    """The files of ``--feeds`` (several are merged in order), else the demo's or the shipped list."""
    from . import ingest as ing

    if feeds:
        return list(feeds)
    return [ing.DEMO_DIR / "feeds.toml" if demo else ing.DEFAULT_FEEDS]


def _run_once(ing, db: Path, feed_list, *, demo: bool, wait: bool, force: bool, delay, stop, log, progress,
              proxy: Optional[str] = None, robots: bool = True):
    from extractor.store import Store, ingest_lock

    server_cm = nullcontext(None)
    if demo:
        from .demo_server import DemoServer

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
            fetcher_cm = ing.open_fetcher(per_host_delay=delay, proxy=proxy)
        with fetcher_cm as raw_fetcher:
            fetcher = ing.OnlyHost(raw_fetcher, server.hostport) if server is not None else raw_fetcher
            ingestor = ing.Ingestor(
                store, feed_list, fetcher, ing.default_extractor_factory, force=force, stop=stop, log=log,
                progress=progress, to_fetch_url=to_fetch, from_fetch_url=from_fetch, robots=robots,
            )
            summary = ingestor.run()
        if not stop.is_set():
            ing.daily_prune(store, log=log)
        return summary


def register(app: typer.Typer) -> None:
    """Add the job's verbs to the library's app (once, however often it is called)."""
    if any(c.name == "ingest" for c in app.registered_commands):
        return
    from .feeds_cmd import feeds_app

    app.command("ingest", help=INGEST_HELP)(ingest_cmd)
    app.add_typer(feeds_app, name="feeds")


def main(argv: list[str] | None = None) -> None:
    """The ``incidents`` console script: the library's verbs plus the job's."""
    from extractor.cli import app, main as library_main

    register(app)
    library_main(argv)


if __name__ == "__main__":
    main()
