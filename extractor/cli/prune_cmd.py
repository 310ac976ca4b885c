"""`incidents prune`: drop the text of old documents that are no incident, on demand (extractor/retention.py)."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from .app import app
from .options import DEFAULT_DB, JobDbOpt, check_db_path

PRUNE_HELP = (
    "Drop the text of documents that are no incident and were fetched more than DAYS ago (default: [retention] "
    "non_incident_text_days of the settings, 30). Their URL, GUID and page hash stay, so they are never fetched "
    "again, and their record stays; documents of incidents are kept whole. The ingest job does this once a day.\n\n"
    "Examples:\n\n"
    "  incidents prune --dry-run   (say what would go)\n\n"
    "  incidents prune --older-than 7 --db /var/lib/incidents/incidents.db"
)


@app.command("prune", help=PRUNE_HELP)
def prune_cmd(
    older_than: Annotated[Optional[float], typer.Option("--older-than", metavar="DAYS", min=0.0,
                                                        help="Age, in days since the fetch, beyond which texts go.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what would be dropped; change nothing.")] = False,
    db: JobDbOpt = DEFAULT_DB,
) -> None:
    from ..retention import prune
    from ..store import Store

    check_db_path(db)
    with Store(db, create=False) as store:
        if dry_run:
            result = prune(store.conn, older_than, dry_run=True)
        else:
            with store.transaction() as conn:
                result = prune(conn, older_than)
    verb = "would be dropped" if dry_run else "dropped"
    print(f"prune: the text of {result['documents']} documents that are no incident, fetched before "
          f"{result['cutoff']}, {verb} ({result['chars']} characters); URL, GUID and hash kept", file=sys.stderr)
