"""The input document: what a `published` value may be."""

from datetime import date

import pytest

from extractor.document import Document, parse_published
from extractor.errors import InputError


@pytest.mark.parametrize("value, day, precision", [
    ("2025-03-03", date(2025, 3, 3), "day"),
    ("2025-03-03T23:30:00-05:00", date(2025, 3, 3), "day"),
    ("2025-03", date(2025, 3, 1), "month"),
    # written by other tools: RFC 2822 keeps the day of its own time zone
    ("Mon, 03 Mar 2025 23:30:00 -0500", date(2025, 3, 3), "day"),
    ("3 mars 2025", date(2025, 3, 3), "day"),
    ("March 3, 2025", date(2025, 3, 3), "day"),
    ("le 14 juillet 2024", date(2024, 7, 14), "day"),
])
def test_published_forms(value, day, precision):
    assert parse_published(value) == (day, precision)


@pytest.mark.parametrize("value", [
    "2024-13-45",           # ISO-shaped but no day: never handed to the free-form reader
    "2024-02-30",
    "03/04/2025",           # day-month or month-day: refused, not guessed
    "yesterday", "hier",    # relative to what? not a publication day
    "March 2025",           # no day
    "31 février 2024",
    "banana",
    "x" * 500,
])
def test_bad_published_is_one_input_error(value):
    with pytest.raises(InputError, match="bad 'published' value"):
        parse_published(value)


def test_document_from_a_tool_with_an_rfc_date():
    doc = Document.from_dict({"id": "a", "text": "Un texte.", "published": "Tue, 04 Mar 2025 08:00:00 +0100"})
    assert (doc.published, doc.published_precision) == (date(2025, 3, 4), "day")
