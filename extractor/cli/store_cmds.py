"""`incidents status`: the scheduled job's database (the job's own verb, `ingest`, is registered by
pipelines/cli.py; `export` is in export_cmd.py)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from .app import app
from .options import DEFAULT_DB, JobDbOpt, check_db_path

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
    db: JobDbOpt = DEFAULT_DB,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object instead of text.")] = False,
    limit: Annotated[int, typer.Option("--limit", min=0, help="Failed items to list.")] = 20,
) -> None:
    from ..queries import failed_items, feed_health
    from ..store import Store, ingest_running

    check_db_path(db)
    with Store(db, create=False) as store:
        counts = store.counts()
        feeds = feed_health(store.conn)
        failed = failed_items(store.conn, limit)
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
