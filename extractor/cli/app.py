"""The Typer application that every command module registers its verbs on."""

from __future__ import annotations

from typing import Optional

import typer

app = typer.Typer(
    name="incidents",
    help=(
        "Extract data-breach incidents from French and English news articles and press releases.\n\n"
        "Start with:\n\n"
        "  incidents extract ARTICLE.html --pretty      one article, one JSON record\n\n"
        "  incidents ingest --demo && incidents export --output -    the scheduled job, offline demo"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain click help, as sqlite-utils prints it: flags without a misleading <bool>, and text such as
    # [[feed]] or [--since DATE] shown as written instead of being eaten as markup.
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        from .. import __version__
        from ..record import SCHEMA_VERSION

        typer.echo(f"incidents {__version__} (record schema {SCHEMA_VERSION})")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Optional[bool] = typer.Option(None, "--version", callback=_version, is_eager=True,
                                           help="Print the version and exit."),
) -> None:
    """Extract data-breach incidents from French and English news articles and press releases."""
