"""`incidents import | show | merge | split | rematch`: reports grouped into incidents (see docs/INCIDENTS.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ..errors import InputError
from .app import app
from .options import DEFAULT_DB, DbOpt, QuietOpt


def _open(db: Path, create: bool = False):
    from ..store import Store

    return Store(db, create=create)


@app.command(
    "import",
    help=(
        "Import extracted records (JSON lines, as written by `incidents extract --docs`) into the database and "
        "group the incident reports into incidents.\n\n"
        "Records carry no document text, so the stored text is empty and matching uses organization keys, dates, "
        "counts and data types (no lead embeddings); to store documents with their text, use "
        "`incidents ingest --docs DOCS.jsonl`.\n\n"
        "  incidents import records.jsonl --db incidents.db\n\n"
        "A directory (the output of `incidents backfill`) means every *.jsonl and *.parquet partition in it, in name order.\n\n"
        "  incidents import backfill-out/ --db incidents.db --quiet\n\n"
        "A bar shows the records done (on a terminal, unless --quiet); the summary line says how many records were "
        "new and how many were already stored (a stored source id: its report is replaced by the imported one).\n\n"
        "Exit codes: 3 unreadable file or a line that is not a record, 5 database problem."
    ),
)
def import_cmd(
    records: Annotated[Path, typer.Argument(metavar="RECORDS.jsonl", help="Record JSON lines ('-' for stdin).")],
    db: DbOpt = DEFAULT_DB,
    quiet: QuietOpt = False,
) -> None:
    import sys

    from ..incident_queries import max_report_id
    from ..merge import add_report
    from ..queries import incident_ids
    from .progress import Progress

    if str(records) == "-":
        lines = sys.stdin.read().splitlines()
    else:
        if not records.exists():
            raise InputError(f"{records}: no such file")
        try:
            if records.is_dir():  # `incidents backfill` output: every *.jsonl (then *.parquet) partition, in name order
                from ..backfill.partitions import directory_lines

                lines = directory_lines(records)
            else:
                lines = records.read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError:
            raise InputError(f"{records}: not UTF-8 text") from None
    parsed = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as err:
            raise InputError(f"{records}:{n}: not JSON ({err.msg})") from None
        if not isinstance(obj, dict):
            raise InputError(f"{records}:{n}: a record must be a JSON object")
        if obj.get("error"):
            continue  # a document the extractor could not read
        parsed.append((n, obj))
    if not parsed:
        raise InputError(f"{records}: no records")
    stored = attached = 0
    new: set[int] = set()
    incidents: set[str] = set()
    with _open(db, create=True) as store, Progress("import", total=len(parsed), unit="record", quiet=quiet) as bar:
        with store.transaction() as conn:
            before = max_report_id(conn)  # a report stored now gets a higher id; a replaced one keeps its own
            for n, obj in bar.track(parsed):
                try:
                    rid, iid = add_report(conn, obj)
                except InputError as err:
                    raise InputError(f"{records}:{n}: {err}") from None
                stored += 1
                if rid > before:
                    new.add(rid)
                if iid:
                    attached += 1
            incidents = incident_ids(conn)
    # on standard output, as before (scripts read it), the bar being closed
    typer.echo(f"imported {stored} records ({len(new)} new, {stored - len(new)} already stored), {attached} incident "
               f"reports; {len(incidents)} incidents in {db}")


def fmt_count(v: dict) -> str:
    if not v or v.get("count") is None:
        return "unknown"
    q = {"approx": "about ", "at_least": "at least ", "up_to": "up to "}.get(v.get("qualifier") or "", "")
    unit = f" {v['unit']}" if v.get("unit") else ""
    return f"{q}{v['count']:,}{unit}"


@app.command("show", help="Print one incident: name, count history, data types, agencies, reports and timeline. "
                          "ID may be a former id of the incident (before an earlier report, a merge or a split), or the first "
                          "characters of one, as long as only one incident starts with them.\n\n"
                          "  incidents show inc-0123456789abcdef --db incidents.db\n\n"
                          "  incidents show inc-01ab             (a unique prefix; `incidents list` shows the ids)\n\n"
                          "  incidents show ID --json")
def show_cmd(
    incident_id: Annotated[str, typer.Argument(metavar="ID")],
    db: DbOpt = DEFAULT_DB,
    as_json: Annotated[bool, typer.Option("--json", help="The incident as JSON (the export schema).")] = False,
) -> None:
    from ..incident_queries import resolve_id_prefix
    from ..merge import get_incident

    with _open(db) as store:
        inc = get_incident(store.conn, resolve_id_prefix(store.conn, incident_id))
    if as_json:
        typer.echo(json.dumps(inc, ensure_ascii=False, indent=2))
        return
    org = inc.get("organization") or {}
    lines = [f"{inc['id']}  {org.get('name') or '(no organization)'}"
             + (f" ({org['acronym']})" if org.get("acronym") else "")]
    if org.get("aliases"):
        lines.append(f"  also: {', '.join(org['aliases'])}")
    if inc.get("previous_ids"):
        lines.append(f"  previous ids: {', '.join(inc['previous_ids'])}")
    lines.append(f"  seen: {inc.get('first_seen') or '?'} .. {inc.get('last_seen') or '?'}   reports: {len(inc['reports'])}")
    lines.append(f"  victims: {fmt_count(inc.get('victims') or {})}"
                 + (f"  (from {inc['victims']['source_id']})" if (inc.get('victims') or {}).get('source_id') else ""))
    revisions = [e for e in inc["timeline"] if e["kind"] == "count_revised"]
    for e in revisions:
        d = e["detail"]
        frm = "none" if d.get("from") is None else f"{d['from']:,}"
        lines.append(f"    count {frm} -> {d['to']:,} on {e['at'] or 'undated'} ({e['source_id']})")
    for name, d in (inc.get("dates") or {}).items():
        if d:
            lines.append(f"  {name}: {d['date']} ({d['source_id']})")
    if inc["data_types"]:
        lines.append("  data types: " + ", ".join(f"{d['code']} [{len(d['source_ids'])}]" for d in inc["data_types"]))
    if inc["agencies"]:
        lines.append("  agencies: " + ", ".join(f"{a['code']} ({a['role']}) [{len(a['source_ids'])}]" for a in inc["agencies"]))
    lines.append("  reports:")
    for r in inc["reports"]:
        flag = " manual" if r["manual"] else ""
        lines.append(f"    #{r['report_id']} {r['published'] or 'undated':10s} {r['language'] or '??'} {r['kind'] or '':13s} "
                     f"{r['source_id']}{flag}" + (f"  {r['url']}" if r.get("url") else ""))
    lines.append("  timeline:")
    for e in inc["timeline"]:
        d = e["detail"]
        if e["kind"] == "first_seen":
            what = f"first seen: {d.get('organization')}, count " + ("unknown" if d.get("count") is None else f"{d['count']:,}")
        elif e["kind"] == "count_revised":
            frm = "none" if d.get("from") is None else f"{d['from']:,}"
            what = f"count revised {frm} -> {d['to']:,}"
        elif e["kind"] in ("data_type_added", "agency_added"):
            what = f"{e['kind'].replace('_', ' ')}: {d.get('code')}"
        elif e["kind"] == "report_added":
            what = f"report added ({d.get('language')}, {d.get('kind')})"
        elif e["kind"] == "merged":
            what = "merged (manual): " + " + ".join(d.get("incidents") or [])
        elif e["kind"] == "split":
            what = f"split (manual): report {d.get('source_id')} out of {d.get('from')}"
        else:
            what = e["kind"]
        lines.append(f"    {e['at'] or 'undated':10s} {what}" + (f"  [{e['source_id']}]" if e.get("source_id") else ""))
    typer.echo("\n".join(lines))


def _in_transaction(db: Path, change, *args):
    """Run one hand change (merge, split) on the store in one transaction; return what it returns."""
    with _open(db) as store:
        with store.transaction() as conn:
            return change(conn, *args)


@app.command("merge", help="Merge two incidents into one by hand (kept by `incidents rematch` and later ingests).\n\n"
                           "  incidents merge inc-aaaa inc-bbbb --db incidents.db")
def merge_cmd(
    first: Annotated[str, typer.Argument(metavar="ID")],
    second: Annotated[str, typer.Argument(metavar="ID")],
    db: DbOpt = DEFAULT_DB,
) -> None:
    from ..merge import merge_incidents

    typer.echo(f"merged into {_in_transaction(db, merge_incidents, first, second)}")


@app.command("split", help="Move one report out of an incident into its own incident, by hand (kept by `incidents rematch`).\n\n"
                           "REPORT is a report id (see `incidents show`) or the report's source id.\n\n"
                           "  incidents split inc-aaaa 17 --db incidents.db")
def split_cmd(
    incident_id: Annotated[str, typer.Argument(metavar="ID")],
    report: Annotated[str, typer.Argument(metavar="REPORT")],
    db: DbOpt = DEFAULT_DB,
) -> None:
    from ..merge import split_report

    typer.echo(f"report {report} is now incident {_in_transaction(db, split_report, incident_id, report)}")


@app.command("rematch", help="Run automatic matching again over every incident report (after a gazetteer or "
                             "matcher update). Manual merges and splits are kept.\n\n  incidents rematch --db incidents.db")
def rematch_cmd(db: DbOpt = DEFAULT_DB) -> None:
    from ..merge import rematch

    with _open(db) as store:
        with store.transaction() as conn:
            n = rematch(conn)
    typer.echo(f"{n} incidents")


