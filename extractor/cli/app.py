"""The Typer application that every command module registers its verbs on."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="incidents",
    help=(
        "Extract data-breach incidents from French and English news articles and press releases.\n\n"
        "Start with:  incidents extract ARTICLE.html --pretty    (one article)\n"
        "             incidents ingest --demo && incidents export --output -   (the scheduled job, offline demo)"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
