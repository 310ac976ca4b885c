"""The web view's texts per language, read from ``resources/<lang>/ui.json`` (a third language adds a file).

Each file has three parts: ``serve`` (datasette titles and descriptions), ``page`` (the incident and chart
pages) and ``feed`` (the Atom feed).
"""

from __future__ import annotations

from .. import resources
from ..errors import InputError

DEFAULT = "en"


def languages() -> tuple[str, ...]:
    """The languages that have web texts."""
    return tuple(lang for lang in resources.LANGUAGES if resources.has_file(lang, "ui.json"))


def texts(lang: str, part: str) -> dict:
    """One part of ``lang``'s texts (``serve``, ``page`` or ``feed``)."""
    return resources.load_json(lang, "ui.json")[part]


def checked(lang: str, option: str = "--lang") -> str:
    """``lang`` when it has web texts; otherwise InputError naming the ones that do."""
    if lang not in languages():
        raise InputError(f"{option} must be one of {', '.join(languages())}, not {lang!r}")
    return lang


def or_default(lang: str | None) -> str:
    """``lang`` when it has web texts, else the default language."""
    return lang if lang in languages() else DEFAULT
