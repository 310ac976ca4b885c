"""`incidents export`: stored records or merged incidents as JSON lines or CSV, filtered, to stdout or a file."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Iterator, Optional

import typer

from ..errors import InputError, StoreError
from .app import app
from .options import (
    DEFAULT_DB, AgencyOpt, DataTypeOpt, JobDbOpt, LangOpt, MinVictimsOpt, OrgOpt, UntilOpt, UpdatedSinceOpt,
    check_db_path, limit_option, since_option,
)

EXPORT_HELP = """Write stored records (one extractor record per line; incident reports only by default) or merged
incidents (--incidents) to standard output, or to --output FILE.

A file is replaced atomically: a reader sees the old file or the new one, never half of one, and a failed
export leaves the previous file as it was. The summary line goes to standard error.

Filters, as `incidents list`: --since/--until on the publication day (the fetch day when unknown),
--updated-since on store time; --org, --data-type, --agency, --min-victims and --lang read each record's own
values (or, with --incidents, the incident's best values).

\b
Examples:
  incidents export > incidents.jsonl                       incident records, JSON lines
  incidents export --output incidents.jsonl                the same, the file replaced atomically
  incidents export --since 2025-01-01 --until 2025-03-31   published in the first quarter
  incidents export --incidents --format csv -o inc.csv     one row per merged incident
  incidents export --updated-since 2025-03-01T06:00        what the store got since a time (UTC)
  incidents export --all-documents --lang fr               every French record, incident or not
"""

FORMATS = ("jsonl", "csv")


def _format(value: str) -> str:
    if value not in FORMATS:
        raise InputError(f"unknown --format {value!r}: one of {', '.join(FORMATS)}")
    return value


@app.command("export", help=EXPORT_HELP)
def export_cmd(
    output: Annotated[Optional[str], typer.Option(
        "--output", "-o", metavar="FILE", help="Write to this file (replaced atomically); - or none: stdout.")] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", metavar="jsonl|csv", callback=_format,
                                     help="JSON lines (the records as stored) or CSV (flat columns).")] = "jsonl",
    since: since_option("Only documents published on or after this day (fetch day when unknown).") = None,
    until: UntilOpt = None,
    updated_since: UpdatedSinceOpt = None,
    org: OrgOpt = None,
    data_type: DataTypeOpt = None,
    agency: AgencyOpt = None,
    min_victims: MinVictimsOpt = None,
    lang: LangOpt = None,
    limit: limit_option() = 0,
    all_documents: Annotated[bool, typer.Option("--all-documents", help="Every document's record, not only incidents.")] = False,
    incidents: Annotated[bool, typer.Option("--incidents", help="One line per merged incident (all its reports) instead of one per report.")] = False,
    db: JobDbOpt = DEFAULT_DB,
) -> None:
    from ..incident_queries import Filters
    from ..queries import read_snapshot
    from ..store import Store, atomic_output

    if incidents and all_documents:
        raise InputError("--incidents and --all-documents cannot be combined")
    check_db_path(db)
    f = Filters(since=since, until=until, updated_since=updated_since, organization=org, data_type=data_type,
                agency=agency, min_victims=min_victims, language=lang, limit=limit)
    to_stdout = output in (None, "-")
    with Store(db, create=False) as store, read_snapshot(store.conn) as conn:  # even while an ingest writes
        lines = _incident_lines(conn, f, fmt) if incidents else _record_lines(conn, f, fmt, all_documents)
        counted = {"n": 0}

        def tally(it: Iterator[str]) -> Iterator[str]:
            for line in it:
                yield line
                counted["n"] += 1

        if to_stdout:
            sys.stdout.writelines(tally(lines))
            sys.stdout.flush()
        else:
            with atomic_output(output) as fh:
                fh.writelines(tally(lines))
    n = counted["n"] - (1 if fmt == "csv" else 0)  # the CSV header is no record
    what = "incidents" if incidents else ("records" if all_documents else "incident records")
    print(f"export: {n} {what} written to {'stdout' if to_stdout else output}", file=sys.stderr)


def _record_lines(conn, f, fmt: str, all_documents: bool) -> Iterator[str]:
    from ..incident_queries import RECORD_COLUMNS, record_rows
    from .list_cmd import csv_lines

    rows = record_rows(conn, f, all_documents)
    if fmt == "csv":
        yield from csv_lines((row for _json, row in rows), RECORD_COLUMNS)
        return
    for record_json, _row in rows:
        yield record_json.strip() + "\n"


def _incident_lines(conn, f, fmt: str) -> Iterator[str]:
    from ..incident_queries import INCIDENT_COLUMNS, incident_rows
    from .list_cmd import csv_lines

    rows = incident_rows(conn, f)
    if fmt == "csv":
        yield from csv_lines(rows, INCIDENT_COLUMNS)
        return
    try:
        from ..merge import get_incident
    except ImportError:
        raise StoreError("--incidents needs extractor.merge, which is not installed") from None
    for row in rows:
        yield json.dumps(get_incident(conn, row["id"]), ensure_ascii=False, default=str) + "\n"
