"""Bilingual (French/English) extractor of data-breach incidents.

    >>> from extractor import extract
    >>> record = extract("QUÉBEC, le 7 août 2024 /CNW/ - ...")
    >>> record.organization.name

`extract` takes a text, an HTML page or a document dict and returns a `Record`;
`Extractor` is the reusable object for batches (`Extractor().extract_many(docs)`).
"""

from __future__ import annotations

__version__ = "0.1.0"

from .document import Document
from .errors import ExtractorError, FetchError, InputError, UnsupportedLanguage
from .pipeline import Extractor, extract
from .record import SCHEMA_VERSION, Record, json_schema

__all__ = [
    "extract", "Extractor", "Record", "Document", "json_schema", "SCHEMA_VERSION",
    "ExtractorError", "InputError", "FetchError", "UnsupportedLanguage", "__version__",
]
