"""`incidents status`: at a glance, whether the scheduled job is healthy, with an exit code for monitoring.

(The job's own verbs, `ingest` and `feeds`, are registered by pipelines/cli.py; `export` is in export_cmd.py.)
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from .app import app
from .options import DEFAULT_DB, JobDbOpt, check_db_path

NEEDS_A_PERSON = 7  # the exit code when `problems` is not empty

STATUS_HELP = (
    "Show whether the ingest job is healthy: each feed's last successful poll, feeds failing for more than a day, "
    "items waiting for a retry, the store's size, the age of the last incident, and the counts of documents, "
    "reports and incidents.\n\n"
    "Examples:\n\n"
    "  incidents status\n\n"
    "  incidents status --db /var/lib/incidents/incidents.db --json\n\n"
    "Exit codes (for monitoring): 0 healthy; 7 something needs a person (a feed failing for more than "
    "[status] feed_failing_s, or no successful poll for more than [status] poll_stale_s: each listed under "
    "'needs attention'); 5 no database, or not one of ours."
)


@app.command("status", help=STATUS_HELP)
def status_cmd(
    db: JobDbOpt = DEFAULT_DB,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object instead of text.")] = False,
    limit: Annotated[int, typer.Option("--limit", min=0, help="Failed items to list.")] = 20,
) -> None:
    from ..health import job_health
    from ..queries import failed_items
    from ..retention import last_run
    from ..store import Store, ingest_running

    check_db_path(db)
    with Store(db, create=False) as store:
        counts = store.counts()
        health = job_health(store.conn)
        failed = failed_items(store.conn, limit)
        version = store.schema_version
        pruned = last_run(store.conn)
    holder = ingest_running(db)
    if as_json:
        print(json.dumps({"db": str(db), "schema_version": version, "counts": counts, "health": health,
                          "feeds": health["feeds"], "failed_items": failed, "ingest_running_pid": holder,
                          "retention_last_run": pruned}, ensure_ascii=False, indent=2))
    else:
        print("\n".join(_text(db, version, holder, counts, health, failed, pruned)))
    if health["problems"]:
        raise typer.Exit(NEEDS_A_PERSON)


def _text(db, version, holder, counts, health, failed, pruned) -> list[str]:
    from ..health import human_age

    out = [f"database: {db} (schema {version}, {health['store_bytes'] / 1e6:.1f} MB)"
           + (f"; an ingest is running (pid {holder})" if holder else "; no ingest running")]
    out.append("health: " + ("OK" if not health["problems"] else f"{len(health['problems'])} problem(s) need a person"))
    out.append(f"last successful poll: {human_age(health['last_success_age_s'])} ago ({health['last_success'] or 'never'})"
               if health["last_success"] else "last successful poll: never")
    out.append(f"last incident stored: {human_age(health['last_incident_age_s'])} ago ({health['last_incident']})"
               if health["last_incident"] else "last incident stored: none yet")
    out.append(f"documents: {counts['documents']}   reports: {counts['reports']} ({counts['reports_incident']} incident "
               f"reports)   incidents: {counts['incidents']}   text retention last run: {pruned or 'never'}")
    out.append(f"items: {counts['items']} ({counts['items_done']} done, {counts['items_new']} new, "
               f"{counts['items_failed']} failed of which {counts['items_failed_retry']} wait for a retry, "
               f"{counts['items_gone']} gone)")
    out.append(f"feeds: {counts['feeds']} ({counts['feeds_retired']} retired)")
    out.extend(feed_lines(health["feeds"]))
    if failed:
        out.append("failed items (status, attempts, next retry, error):")
        for it in failed:
            nxt = it["next_retry"] or ("given up" if it["status"] == "failed" else "-")
            out.append(f"  {it['status']:<6} {it['attempts']:>2}  {nxt:<20}  {it['url']}  ! {it['last_error']}")
    if health["problems"]:
        out.append("needs attention:")
        out.extend(f"  - {p}" for p in health["problems"])
    return out


def feed_lines(feeds: list[dict]) -> list[str]:
    """The feed table of `status` (and `feeds list`): status, last success, failures, items, name and URL."""
    if not feeds:
        return []
    out = [f"  {'STATUS':<7} {'LAST SUCCESS':<21} {'FAIL':>4} {'ITEMS':>5}  FEED"]
    pad = f"  {'':<7} {'':<21} {'':>4} {'':>5}  "
    for f in feeds:
        st = "retired" if f["retired"] else (str(f["last_status"]) if f["last_status"] is not None else
                                              ("error" if f["last_error"] else "-"))
        out.append(f"  {st:<7} {f['last_success'] or 'never':<21} {f['failures']:>4} {f['items']:>5}  "
                   f"{f['name'] or ''} <{f['url']}>")
        if f["failing_since"] and not f["retired"]:
            out.append(f"{pad}failing since {f['failing_since']}" + (" (too long: needs a person)" if f["failing_too_long"] else ""))
        if f["last_error"]:
            out.append(f"{pad}! {f['last_error']}")
        if f["next_poll_after"] and not f["retired"]:
            out.append(f"{pad}next poll after {f['next_poll_after']}")
    return out
