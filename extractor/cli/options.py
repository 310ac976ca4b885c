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
