"""`incidents list`: the recent incidents of the database as a table, JSON lines or CSV."""

from __future__ import annotations

import csv
import io
import json
import sys
from typing import Annotated, Iterable, Iterator

import typer

from ..errors import InputError
from .app import app
from .options import (
    DEFAULT_DB, AgencyOpt, DataTypeOpt, JobDbOpt, LangOpt, MinVictimsOpt, OrgOpt, UpdatedSinceOpt, check_db_path,
    limit_option, since_option, until_option,
)

LIST_HELP = """Show the recent incidents, newest first: id, organization, victims, first seen, reports, authorities.

An incident passes --since/--until when one of its reports was published in that window; --org,
--data-type, --agency, --min-victims and --lang read the incident's best values. Codes: `incidents schema`
(or extractor/resources/shared/codes.json). Give an id, or a unique prefix of it, to `incidents show`.

\b
Examples:
  incidents list                                          the 20 newest incidents
  incidents list --since 2025-01-01 --lang fr             published this year, with a French report
  incidents list --org "Desjardins" --limit 0             every incident of one organization
  incidents list --data-type sin --agency CAI             social insurance numbers, reported to the CAI
  incidents list --min-victims 10000 --json | jq .id      JSON lines for scripts
  incidents list --csv > incidents.csv                    a spreadsheet
"""


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def table_lines(rows: list[dict]) -> list[str]:
    """The rows of `incident_rows` as an aligned text table."""
    from .incident_cmds import fmt_count

    head = ("ID", "NAME", "VICTIMS", "FIRST SEEN", "REPORTS", "AUTHORITIES")
    body = []
    for r in rows:
        name = r["organization"] or "(no organization)"
        if r["acronym"] and r["acronym"] not in name:
            name += f" ({r['acronym']})"
        victims = fmt_count({"count": r["victims"], "qualifier": r["victims_qualifier"]})
        body.append((r["id"], _short(name, 42), victims, r["first_seen"] or "?", str(r["report_count"]),
                     ", ".join(r["agencies"]) or "-"))
    widths = [max(len(line[i]) for line in [head, *body]) for i in range(len(head))]
    right = {2, 4}  # numbers are right-aligned

    def fmt(line) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(line, widths))).rstrip()

    return [fmt(head)] + [fmt(line) for line in body]


def csv_lines(rows: Iterable[dict], columns: tuple) -> Iterator[str]:
    """CSV text: the header line first (always), then one line per row; list values joined with ';'."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")

    def line(values) -> str:
        buf.seek(0)
        buf.truncate()
        writer.writerow(values)
        return buf.getvalue()

    yield line(columns)
    for row in rows:
        yield line([";".join(v) if isinstance(v, list) else ("" if v is None else v) for v in (row[c] for c in columns)])


def json_line(row: dict) -> str:
    return json.dumps(row, ensure_ascii=False) + "\n"


@app.command("list", help=LIST_HELP)
def list_cmd(
    since: since_option("Only incidents with a report published on or after this day.") = None,
    until: until_option("Only incidents with a report published on or before this day.") = None,
    org: OrgOpt = None,
    data_type: DataTypeOpt = None,
    agency: AgencyOpt = None,
    min_victims: MinVictimsOpt = None,
    lang: LangOpt = None,
    updated_since: UpdatedSinceOpt = None,
    limit: limit_option("At most N incidents (0: all).") = 20,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines (one object per incident) instead of a table.")] = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="CSV with a header line instead of a table.")] = False,
    db: JobDbOpt = DEFAULT_DB,
) -> None:
    from ..incident_queries import INCIDENT_COLUMNS, Filters, count_incidents, incident_rows
    from ..queries import read_snapshot
    from ..store import Store

    if as_json and as_csv:
        raise InputError("--json and --csv cannot be combined")
    check_db_path(db)
    f = Filters(since=since, until=until, updated_since=updated_since, organization=org, data_type=data_type,
                agency=agency, min_victims=min_victims, language=lang, limit=limit)
    with Store(db, create=False) as store, read_snapshot(store.conn) as conn:
        rows = incident_rows(conn, f)
        total = count_incidents(conn, f) if limit and len(rows) == limit else len(rows)
    if as_json:
        sys.stdout.writelines(json_line(r) for r in rows)
    elif as_csv:
        sys.stdout.writelines(csv_lines(rows, INCIDENT_COLUMNS))
    elif rows:
        typer.echo("\n".join(table_lines(rows)))
    if not rows:
        print("list: no incident matches" + (" these filters" if f != Filters(limit=limit) else " (empty database)"),
              file=sys.stderr)
    elif total > len(rows):
        print(f"list: {len(rows)} of {total} incidents shown (--limit 0 for all)", file=sys.stderr)
