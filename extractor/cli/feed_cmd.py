"""`incidents feed`: an Atom feed of the incidents (see docs/VIEW.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from .app import app
from .options import DEFAULT_DB, DbOpt, OutputFileOpt, WebLangOpt


@app.command(
    "feed",
    help=(
        "Write an Atom feed of the incidents: one entry per incident, newest change first; an entry's id is the "
        "same on every run and its `updated` changes when the incident's timeline changes.\n\n"
        "  incidents feed --db incidents.db --output incidents.atom --lang fr\n\n"
        "Exit codes: 3 bad option, 5 database problem."
    ),
)
def feed_cmd(
    db: DbOpt = DEFAULT_DB,
    output: OutputFileOpt = "incidents.atom",
    lang: WebLangOpt = "en",
    base_url: Annotated[Optional[str], typer.Option("--base-url", metavar="URL",
                                                    help="Where `incidents serve` is reachable (entry links).")] = None,
) -> None:
    import sys

    from ..store import Store, atomic_output
    from ..web.feed import atom

    with Store(db, create=False, readonly=True) as store:
        body = atom(store.conn, lang, base_url or "")
    if output == "-":
        sys.stdout.buffer.write(body)
        return
    with atomic_output(Path(output)) as fh:
        fh.write(body.decode("utf-8"))
    typer.echo(f"feed: {body.count(b'<entry>')} entries -> {output}", err=True)
