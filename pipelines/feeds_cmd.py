"""`incidents feeds list` and `incidents feeds check`: the effective feed list with its health, and a dry poll.

Registered on the library's app by pipelines/cli.py (the feed list belongs to the job). ``check`` fetches and
parses each feed once, says what it found and stores nothing (no database is opened or created).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from extractor.cli.options import DEFAULT_DB, JobDbOpt, check_db_path
from extractor.errors import FetchError, InputError

feeds_app = typer.Typer(
    name="feeds", no_args_is_help=True, add_completion=False, rich_markup_mode=None,
    help="The feed list of the ingest job: `list` it with each feed's health, `check` it with one poll.",
)

FeedsOpt = Annotated[Optional[list[Path]], typer.Option(
    "--feeds", metavar="FILE", help="TOML feed list (given twice: merged). Default: the shipped pipelines/feeds.toml.")]


@feeds_app.command("list", help=(
    "The effective feed list (after include = [...] and every --feeds file), each feed with its health from the "
    "database when there is one: last successful poll, last error, consecutive failures.\n\n"
    "Examples:\n\n  incidents feeds list\n\n  incidents feeds list --feeds mine.toml --db /var/lib/incidents/incidents.db --json"))
def list_cmd(
    feeds: FeedsOpt = None,
    db: JobDbOpt = DEFAULT_DB,
    all_feeds: Annotated[bool, typer.Option("--all", help="Also the feeds listed with enabled = false.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line instead of a table.")] = False,
) -> None:
    from .cli import feed_paths
    from .feedlist import load_feed_list

    configs = load_feed_list(feed_paths(feeds), include_disabled=all_feeds)
    health = _health_by_url(db, [c.url for c in configs])
    rows = []
    for c in configs:
        h = health.get(c.url) or {}
        rows.append({"url": c.url, "name": c.name, "language": c.language, "enabled": c.enabled, "robots": c.robots,
                     "source": c.source, "last_success": h.get("last_success"), "last_polled": h.get("last_polled"),
                     "last_status": h.get("last_status"), "last_error": h.get("last_error"),
                     "failures": h.get("failures", 0), "retired": bool(h.get("retired")),
                     "stored_url": h.get("url")})
    if as_json:
        for r in rows:
            print(json.dumps(r, ensure_ascii=False))
        return
    print(f"{'ON':<3} {'LANG':<4} {'ROBOTS':<6} {'LAST SUCCESS':<21} {'FAIL':>4}  FEED")
    for r in rows:
        state = "off" if not r["enabled"] else ("410" if r["retired"] else "on")
        print(f"{state:<3} {r['language'] or '-':<4} {'yes' if r['robots'] else 'no':<6} "
              f"{r['last_success'] or 'never':<21} {r['failures']:>4}  {r['name'] or ''} <{r['url']}>")
        if r["stored_url"] and r["stored_url"] != r["url"]:
            print(f"{'':<41}moved to <{r['stored_url']}>")
        if r["last_error"]:
            print(f"{'':<41}! {r['last_error']}")
    where = f"health from {db}" if health else f"no health: {db} has none of these feeds yet"
    print(f"feeds: {len(rows)} listed ({sum(r['enabled'] for r in rows)} enabled); {where}", file=sys.stderr)


def _health_by_url(db: Path, urls: list[str]) -> dict:
    """The stored health of each configured URL (following permanent moves), when the database exists."""
    from extractor.health import feed_rows_by_url
    from extractor.store import Store

    check_db_path(db)
    if not db.exists() or db.stat().st_size == 0:
        return {}
    with Store(db, create=False) as store:
        return feed_rows_by_url(store.conn, urls)


@feeds_app.command("check", help=(
    "Poll once and say what was found: each feed's status, format, entry count and newest entry, and whether "
    "robots.txt lets its pages be fetched. Nothing is stored.\n\n"
    "Examples:\n\n  incidents feeds check   (every enabled feed of the list)\n\n"
    "  incidents feeds check https://example.org/rss\n\n"
    "Exit codes: 0 every feed answered with entries, 4 some feed failed or had none."))
def check_cmd(
    url: Annotated[Optional[str], typer.Argument(metavar="[URL]", help="One feed URL (default: every enabled feed of the list).")] = None,
    feeds: FeedsOpt = None,
    proxy: Annotated[Optional[str], typer.Option("--proxy", metavar="URL", help="Fetch through this HTTP proxy (default: $INCIDENTS_PROXY, else direct).")] = None,
    ignore_robots: Annotated[bool, typer.Option("--ignore-robots", help="Do not read robots.txt.")] = False,
) -> None:
    from extractor.netguard import proxy_from_env, proxy_url

    from .cli import feed_paths
    from .feedlist import FeedConfig, load_feed_list
    from .schedule import open_fetcher

    if url is not None:
        if not url.lower().startswith(("http://", "https://")):
            raise InputError(f"feeds check: {url!r} is not an http(s) URL")
        configs = [FeedConfig(url=url)]
    else:
        configs = load_feed_list(feed_paths(feeds))
    proxy = proxy_url(proxy if proxy is not None else proxy_from_env())
    failed = 0
    with open_fetcher(proxy=proxy) as fetcher:
        from extractor.robots import RobotsPolicy

        robots = None if ignore_robots else RobotsPolicy(fetcher)
        for cfg in configs:
            line, ok = check_one(fetcher, cfg, robots if cfg.robots else None)
            failed += not ok
            print(line)
    print(f"feeds check: {len(configs) - failed} of {len(configs)} feeds OK; nothing stored", file=sys.stderr)
    if failed:
        raise FetchError(f"{failed} of {len(configs)} feeds failed or had no entries")


def check_one(fetcher, cfg, robots) -> tuple[str, bool]:
    """One feed polled and parsed: (the line to print, whether it answered with entries)."""
    from extractor.feeds import parse_feed
    from extractor.robots import RobotsUnavailable

    label = f"{cfg.name} <{cfg.url}>" if cfg.name else f"<{cfg.url}>"
    try:
        resp = fetcher.fetch(cfg.url)
    except FetchError as err:
        return f"FAIL  {label}: {err}", False
    if resp.status != 200:
        return f"FAIL  {label}: HTTP {resp.status}", False
    parsed = parse_feed(resp.content, resp.final_url or cfg.url, content_type=resp.headers.get("content-type"))
    entries = list(parsed.entries or [])
    if not entries:
        return f"FAIL  {label}: no entries ({parsed.bozo_reason or 'empty feed'})", False
    parts = [f"{len(entries)} entries ({parsed.version or 'feed'}"
             + (f", {parsed.language}" if parsed.language else "") + ")"]
    newest = max(entries, key=lambda e: e.get("published_at") or e.get("published") or "")
    parts.append(f"newest: {(newest.get('title') or '(no title)')[:80]!r} ({newest.get('published') or 'undated'})")
    if resp.permanent_redirect:
        parts.append(f"moved permanently to {resp.permanent_redirect}")
    if parsed.bozo_reason:
        parts.append(f"malformed: {parsed.bozo_reason}")
    link = next((e.get("link") for e in entries if e.get("link")), None)
    if robots is not None and link:
        try:
            verdict = robots.check(link)
            parts.append("robots.txt allows its pages" if verdict.allowed else "robots.txt DISALLOWS its pages")
        except RobotsUnavailable as err:
            parts.append(str(err))
    return f"OK    {label}: " + "; ".join(parts), True
