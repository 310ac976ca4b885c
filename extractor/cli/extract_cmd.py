"""`incidents extract` and `incidents schema`."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Optional

import typer

from ..errors import InputError
from ..sources import read_docs_jsonl, read_source
from .app import app
from .progress import Progress, load_models
from .options import OptionalOutputOpt, PrettyOpt, QuietOpt


@app.command()
def extract(
    source: Optional[str] = typer.Argument(
        None, help="An article: an http(s) URL, a local .html or .txt file, or - for standard input."
    ),
    docs: Optional[Path] = typer.Option(
        None, "--docs", help='A JSONL file of documents {"id", "url", "text" or "html", "title", "published", "language"} (- for stdin).'
    ),
    output: OptionalOutputOpt = None,
    pretty: PrettyOpt = False,
    language: Optional[str] = typer.Option(None, "--language", "-l", help="Force the language (fr or en) instead of detecting it."),
    published: Optional[str] = typer.Option(None, "--published", help="Publication date (YYYY-MM-DD or YYYY-MM) for a single article."),
    batch_size: int = typer.Option(16, "--batch-size", min=1, max=256, help="Documents per nlp.pipe batch."),
    workers: int = typer.Option(1, "--workers", min=1, max=16, help="Worker processes for --docs."),
    allow_private: bool = typer.Option(False, "--allow-private", help="Allow URLs on loopback/private networks (off by default)."),
    no_prefilter: bool = typer.Option(False, "--no-prefilter", help="Run the full pipeline even on texts without breach vocabulary."),
    quiet: QuietOpt = False,
) -> None:
    """Extract incident records from one article or from a JSONL batch of documents.

    \b
    Examples:
      incidents extract https://www.newswire.ca/fr/news-releases/...   one page, one JSON line
      incidents extract article.html --pretty                           a saved page, indented
      cat article.txt | incidents extract - --published 2024-08-07      a text on stdin
      incidents extract --docs docs.jsonl --output records.jsonl        a batch, same order, same ids
      incidents extract --docs docs.jsonl -o records.jsonl --quiet      no progress bar, the summary only

    With --docs, a bar shows the models loading and the documents done (on a terminal, unless --quiet), then
    one summary line on standard error. A document that fails gets a record with its error and the batch goes
    on: the exit code is 0 when at least one document was read, 3 when every document failed.
    """
    from ..pipeline import Extractor

    if (source is None) == (docs is None):
        raise typer.BadParameter("give either one SOURCE (URL, file or -) or --docs FILE")
    if output not in (None, "-"):
        parent = Path(output).resolve().parent
        if not parent.is_dir():
            raise InputError(f"cannot write {output}: no such directory {parent}")
        if Path(output).is_dir():
            raise InputError(f"cannot write {output}: it is a directory")
    extractor = Extractor(batch_size=batch_size, prefilter=not no_prefilter)
    if source is not None:
        doc = read_source(source, allow_private=allow_private)
        if language:
            doc["language"] = language
        if published:
            doc["published"] = published
        record = extractor.extract(doc)
        _write_records([record], output, pretty)
        return
    started = time.monotonic()
    items = list(read_docs_jsonl(docs))
    if language:
        for it in items:
            if isinstance(it, dict):
                it.setdefault("language", language)
    if workers > 1:
        from ..parallel import extract_parallel

        records = extract_parallel(items, workers=workers, batch_size=batch_size, prefilter=not no_prefilter)
    else:
        records = extractor.extract_many(items)
    quiet = quiet or (output in (None, "-") and sys.stdout.isatty())  # records on the terminal: no bar among them
    if workers == 1:  # with workers, each process loads its own models
        from ..resources import LANGUAGES

        load_models(LANGUAGES, quiet)
    bar = Progress("extract", total=len(items), unit="doc", quiet=quiet)
    records = bar.track(records)
    counts = {"incidents": 0, "errors": 0}

    def counted(gen):
        for rec in gen:
            counts["incidents"] += rec.is_incident
            counts["errors"] += rec.error is not None
            yield rec

    n = _write_records(counted(records), output, pretty)
    skipped = f", {extractor.stats['prefiltered']} skipped by the prefilter" if workers == 1 else ""
    bar.summary(f"incidents: {n} documents, {counts['incidents']} incidents, {counts['errors']} errors{skipped}, "
                f"{time.monotonic() - started:.1f}s")
    if n and counts["errors"] == n:
        raise InputError(f"every document failed ({n} of {n}): see the error field of each record")


def _write_records(records, output: Optional[str], pretty: bool) -> int:
    """Write records as JSONL; a file output is written atomically (temp file, then rename)."""
    n = 0
    if output in (None, "-"):
        for rec in records:
            sys.stdout.write(rec.model_dump_json(indent=2 if pretty else None) + "\n")
            n += 1
        sys.stdout.flush()
        return n
    path = Path(output)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            for rec in records:
                fh.write(rec.model_dump_json(indent=2 if pretty else None) + "\n")
                n += 1
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as err:
        tmp.unlink(missing_ok=True)
        raise InputError(f"cannot write {output}: {err.strerror or err}") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return n


@app.command()
def schema(
    incidents: bool = typer.Option(False, "--incidents", help="The schema of an incident line (`incidents export --incidents`) instead of a record's."),
) -> None:
    """Print the record's JSON Schema (the contract other tools read), or an incident line's with --incidents."""
    if incidents:
        from ..incident import incident_schema_json

        print(incident_schema_json())
        return
    from ..record import schema_json

    print(schema_json())
