"""`incidents serve`: the store in datasette, read-only (see docs/VIEW.md)."""

from __future__ import annotations

from typing import Annotated

import typer

from .app import app
from .options import DEFAULT_DB, DbOpt, WebLangOpt


@app.command(
    "serve",
    help=(
        "Open the store in datasette, read-only, on 127.0.0.1: incidents, reports and documents with facets, "
        "full-text search (accents folded), canned queries, an incident page with highlighted evidence "
        "(/-/incident/ID), charts (/-/charts) and an Atom feed (/-/feed.atom).\n\n"
        "  incidents serve --db incidents.db --lang fr\n\n"
        "Needs the web extra: pip install 'incidents-extractor[web]'. Exit codes: 3 bad option or datasette "
        "missing, 5 database problem."
    ),
)
def serve_cmd(
    db: DbOpt = DEFAULT_DB,
    port: Annotated[int, typer.Option("--port", help="TCP port.")] = 8001,
    host: Annotated[str, typer.Option("--host", help="Address to listen on (keep 127.0.0.1 unless a proxy "
                                                     "with access control is in front).")] = "127.0.0.1",
    lang: WebLangOpt = "en",
) -> None:
    from ..web.app import serve

    serve(db, host=host, port=port, lang=lang)
