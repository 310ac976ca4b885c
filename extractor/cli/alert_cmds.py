"""`incidents alert add | list | remove | send`: webhooks for new and revised incidents (see docs/VIEW.md)."""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer

from .app import app
from .options import DEFAULT_DB, DbOpt

alert_app = typer.Typer(
    help="Saved filters whose new or revised incidents are POSTed as JSON to a webhook (sent by `alert send`).",
    no_args_is_help=True, rich_markup_mode=None, context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(alert_app, name="alert")


@alert_app.command("add", help=(
    "Save an alert: every incident that matches all the --where filters and is new or revised after now "
    "(or already stored, with --backfill) is sent once to the webhook by `incidents alert send`.\n\n"
    "  incidents alert add --webhook https://hooks.example.org/x --where authority=CAI --where min_victims=1000\n\n"
    "Filters: organization=NAME (accents and case folded), data_type=CODE, authority=CODE, min_victims=N, "
    "language=fr|en. The webhook passes the same address guard as every fetch (private hosts refused unless "
    "INCIDENTS_ALLOW_PRIVATE=1)."))
def alert_add(
    webhook: Annotated[str, typer.Option("--webhook", metavar="URL", help="http(s) URL that receives the JSON.")],
    where: Annotated[Optional[list[str]], typer.Option("--where", metavar="KEY=VALUE", help="A filter (repeat).")]
    = None,
    backfill: Annotated[bool, typer.Option("--backfill", help="Also send the incidents already stored.")] = False,
    db: DbOpt = DEFAULT_DB,
) -> None:
    from ..store import Store
    from ..web.alerts import add_alert, parse_where

    filters = parse_where(where or [])
    with Store(db, create=False) as store:
        with store.transaction() as conn:
            aid = add_alert(conn, webhook, filters, backfill=backfill)
    typer.echo(aid)


@alert_app.command("list", help="The saved alerts, as JSON lines (id, webhook, filters, sent and pending counts).")
def alert_list(db: DbOpt = DEFAULT_DB) -> None:
    from ..store import Store
    from ..web.alerts import list_alerts

    with Store(db, create=False) as store:
        for a in list_alerts(store.conn):
            typer.echo(json.dumps(a, ensure_ascii=False))


@alert_app.command("remove", help="Delete an alert and its delivery records.")
def alert_remove(alert_id: Annotated[int, typer.Argument(metavar="ID")], db: DbOpt = DEFAULT_DB) -> None:
    from ..store import Store
    from ..web.alerts import remove_alert

    with Store(db, create=False) as store:
        with store.transaction() as conn:
            remove_alert(conn, alert_id)


@alert_app.command("send", help=(
    "Queue the new and revised incidents of every alert, then POST the due deliveries. A delivery that fails is "
    "retried (--tries in this run, then by later runs with exponential backoff) and never dropped. Run it after "
    "each ingest.\n\n  incidents alert send --db incidents.db\n\n"
    "Exit codes: 0 (failed deliveries are in the summary and stay pending), 5 database problem."))
def alert_send(
    db: DbOpt = DEFAULT_DB,
    tries: Annotated[int, typer.Option("--tries", min=1, help="Attempts per delivery in this run.")] = 3,
    delay: Annotated[float, typer.Option("--delay", min=0.0, help="Backoff base in seconds.")] = 30.0,
    force: Annotated[bool, typer.Option("--force", help="Retry pending deliveries now, ignoring backoff.")] = False,
) -> None:
    from ..store import Store
    from ..web.alerts import send

    with Store(db, create=False) as store:
        summary = send(store, tries=tries, base_delay=delay, force=force)
    typer.echo("alerts: {queued} queued, {sent} sent, {failed} failed, {pending} pending".format(**summary), err=True)
