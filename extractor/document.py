"""The input document: what every source (URL, file, JSONL line, feed item) becomes."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Optional

from .errors import InputError

_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})")
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_ISO_SHAPED = re.compile(r"^\d{4}-\d")
# 03/04/2025: day-month or month-day? Refused rather than guessed.
_NUMERIC_DAY = re.compile(r"^\d{1,2}\s*[/.\-]\s*\d{1,2}\s*[/.\-]\s*\d{2,4}$")
_FREE_FORM_MAX = 80
# dateparser reads the full dates other tools write (RFC 2822 'Tue, 3 Mar 2025 10:00:00 -0500', '3 mars 2025',
# 'March 3, 2025', epoch seconds): a whole day, month and year, never a relative 'yesterday'.
_DATEPARSER_SETTINGS = {"STRICT_PARSING": True, "REQUIRE_PARTS": ["day", "month", "year"],
                        "PARSERS": ["timestamp", "custom-formats", "absolute-time"]}


def _free_form_day(s: str) -> Optional[date]:
    """The day a full free-form date names, in its own time zone, or None."""
    if len(s) > _FREE_FORM_MAX or _ISO_SHAPED.match(s) or _NUMERIC_DAY.match(s):
        return None
    import dateparser  # only for dates that are not ISO: no start-up cost for the usual case

    from .resources import LANGUAGES

    try:
        parsed = dateparser.parse(s, languages=list(LANGUAGES), settings=_DATEPARSER_SETTINGS)
    except Exception:  # dateparser raises assorted errors on odd input; any of them means "not a date"
        return None
    return parsed.date() if parsed else None


def parse_published(value: Any) -> tuple[Optional[date], Optional[str]]:
    """``2024-08-07`` (or a longer ISO timestamp) -> (day, "day"); ``2024-08`` -> (1st of month, "month");
    a full date in words or RFC 2822 (``3 mars 2025``, ``Tue, 03 Mar 2025 10:00:00 -0500``) -> (its day, "day")."""
    if value is None or value == "":
        return None, None
    if isinstance(value, date):
        return value, "day"
    s = str(value).strip()
    m = _DAY.match(s)
    try:
        if m:
            return date(int(m[1]), int(m[2]), int(m[3])), "day"
        m = _MONTH.match(s)
        if m:
            return date(int(m[1]), int(m[2]), 1), "month"
    except ValueError:
        pass
    day = _free_form_day(s)
    if day is not None:
        return day, "day"
    raise InputError(f"bad 'published' value {s!r}: expected YYYY-MM-DD, YYYY-MM or a full date such as '3 March 2025'")


@dataclass
class Document:
    text: Optional[str] = None
    html: Optional[str] = None
    id: Optional[str] = None
    url: Optional[str] = None
    title: Optional[str] = None
    publisher: Optional[str] = None
    published: Optional[date] = None
    published_precision: Optional[str] = None
    language: Optional[str] = None
    kind: Optional[str] = None
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: dict) -> "Document":
        if not isinstance(d, dict):
            raise InputError("a document must be a JSON object")
        text, html = d.get("text"), d.get("html")
        if not (isinstance(text, str) and text.strip()) and not (isinstance(html, str) and html.strip()):
            raise InputError("document has neither 'text' nor 'html'")
        published = d.get("published", d.get("publication_date"))
        day, precision = parse_published(published)
        known = {"text", "html", "id", "url", "title", "publisher", "published", "publication_date", "language", "kind", "source_kind"}
        doc_id = d.get("id")
        return cls(
            text=text if isinstance(text, str) else None,
            html=html if isinstance(html, str) else None,
            id=None if doc_id is None else str(doc_id),
            url=d.get("url"),
            title=d.get("title"),
            publisher=d.get("publisher"),
            published=day,
            published_precision=precision,
            language=(d.get("language") or None),
            kind=d.get("kind") or d.get("source_kind"),
            extra={k: v for k, v in d.items() if k not in known},
        )

    def fallback_id(self) -> str:
        basis = self.url or self.text or self.html or ""
        return hashlib.sha256(basis.encode("utf-8", "replace")).hexdigest()[:16]


@dataclass
class BadInput:
    """A batch item that could not even be read (malformed JSON line...): it becomes an error record."""

    message: str
    id: Optional[str] = None
    url: Optional[str] = None
