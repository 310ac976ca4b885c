"""Options shared by several verbs, declared once (as sqlite-utils does with its option decorators).

A verb takes ``db: DbOpt = DEFAULT_DB`` instead of declaring ``--db`` itself; the same goes for the output
options (``--output``, ``--pretty``) and the date options (``--since``, ``--until``), which accept a real
calendar day only: ``2025-02-30`` fails in one line, exit 3, before the verb runs.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Annotated, Optional

import typer

from ..errors import InputError, StoreError

DEFAULT_DB = Path("incidents.db")
DB_HELP = "SQLite database file."


def db_option(help: str = DB_HELP):
    """The ``--db FILE`` option (use with ``= DEFAULT_DB``)."""
    return Annotated[Path, typer.Option("--db", metavar="FILE", help=help)]


DbOpt = db_option()
# the verbs of the scheduled job's database say how it comes to exist
JobDbOpt = db_option("SQLite database file (created on first ingest).")


def check_db_path(db: Path) -> None:
    """A --db that names a directory fails in one line (exit 5) instead of deep in sqlite3."""
    if db.exists() and db.is_dir():
        raise StoreError(f"{db} is a directory, not a database file")


# -- output ----------------------------------------------------------------------------------------------------
OutputFileOpt = Annotated[str, typer.Option("--output", "-o", metavar="FILE", help="Output file, or - for stdout.")]
OptionalOutputOpt = Annotated[Optional[str], typer.Option(
    "--output", "-o", help="Write records here (JSONL) instead of standard output.")]
PrettyOpt = Annotated[bool, typer.Option("--pretty", help="Indented JSON instead of one line per record.")]
BatchSizeOpt = Annotated[int, typer.Option("--batch-size", min=1, max=256, help="Documents per nlp.pipe batch.")]


# -- the web view (serve, feed): a language with texts in resources/<lang>/ui.json ------------------------------
def _web_lang(value: str) -> str:
    from ..web.ui import checked

    return checked(value)


WebLangOpt = Annotated[str, typer.Option("--lang", metavar="LANG", callback=_web_lang, help="Language of titles and labels.")]


# -- dates -----------------------------------------------------------------------------------------------------
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_day(value: Optional[str], flag: str) -> Optional[str]:
    """`value` if it is a real calendar day written YYYY-MM-DD (None stays None); else an InputError."""
    if value is None:
        return None
    if not _DAY.match(value):
        raise InputError(f"bad {flag} {value!r}: expected YYYY-MM-DD")
    try:
        date.fromisoformat(value)
    except ValueError:
        raise InputError(f"bad {flag} {value!r}: no such day (expected YYYY-MM-DD)") from None
    return value


def _since(value: Optional[str]) -> Optional[str]:
    return parse_day(value, "--since")


def _until(value: Optional[str]) -> Optional[str]:
    return parse_day(value, "--until")


def since_option(help: str = "Only documents published on or after this day."):
    """The ``--since YYYY-MM-DD`` option (use with ``= None``)."""
    return Annotated[Optional[str], typer.Option("--since", metavar="YYYY-MM-DD", help=help, callback=_since)]


def until_option(help: str = "Only documents published on or before this day."):
    """The ``--until YYYY-MM-DD`` option (use with ``= None``)."""
    return Annotated[Optional[str], typer.Option("--until", metavar="YYYY-MM-DD", help=help, callback=_until)]


SinceOpt = since_option()
UntilOpt = until_option()


# -- quiet -----------------------------------------------------------------------------------------------------
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar: the final summary line only.")]


# -- filters of `list` and `export` (extractor/incident_queries.py: Filters) ------------------------------------
CODES_HELP = "labels: `incidents schema`, or extractor/resources/shared/codes.json"


def _code(value: Optional[str], flag: str, codes: tuple, upper: bool = False) -> Optional[str]:
    if value is None:
        return None
    code = value.strip().upper() if upper else value.strip()
    if code not in codes:
        raise InputError(f"unknown {flag} {value!r}: one of {', '.join(codes)} ({CODES_HELP})")
    return code


def _data_type(value: Optional[str]) -> Optional[str]:
    from ..record import DATA_TYPE_CODES

    return _code(value, "--data-type", DATA_TYPE_CODES)


def _agency(value: Optional[str]) -> Optional[str]:
    from ..record import AGENCY_CODES

    return _code(value, "--agency", AGENCY_CODES, upper=True)


def _lang(value: Optional[str]) -> Optional[str]:
    from ..resources import LANGUAGES

    return _code(value, "--lang", LANGUAGES)


def parse_moment(value: Optional[str], flag: str) -> Optional[str]:
    """A day (YYYY-MM-DD) or an ISO timestamp, as text that compares with the store's UTC times; else InputError."""
    from datetime import datetime, timezone

    if value is None or _DAY.match(value):
        return parse_day(value, flag)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"bad {flag} {value!r}: expected YYYY-MM-DD or an ISO time such as 2025-03-01T08:00") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return moment.isoformat(timespec="seconds")


def _updated_since(value: Optional[str]) -> Optional[str]:
    return parse_moment(value, "--updated-since")


OrgOpt = Annotated[Optional[str], typer.Option(
    "--org", metavar="TEXT", help="Organization name (accents and case folded; part of the name, or the acronym).")]
DataTypeOpt = Annotated[Optional[str], typer.Option(
    "--data-type", metavar="CODE", callback=_data_type, help="Only with this data type, e.g. sin, health_insurance_number.")]
AgencyOpt = Annotated[Optional[str], typer.Option(
    "--agency", metavar="CODE", callback=_agency, help="Only with this authority, e.g. CAI, OPC, SQ.")]
MinVictimsOpt = Annotated[Optional[int], typer.Option(
    "--min-victims", metavar="N", min=0, help="Only with a victim count of at least N.")]
LangOpt = Annotated[Optional[str], typer.Option(
    "--lang", metavar="LANG", callback=_lang, help="Only with a report in this language (fr, en).")]
UpdatedSinceOpt = Annotated[Optional[str], typer.Option(
    "--updated-since", metavar="WHEN", callback=_updated_since,
    help="Only stored or changed at or after this day or ISO time (UTC).")]


def limit_option(help: str = "At most N lines (0: all)."):
    """The ``--limit N`` option (use with a default)."""
    return Annotated[int, typer.Option("--limit", "-n", metavar="N", min=0, help=help)]
