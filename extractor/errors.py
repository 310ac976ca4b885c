"""Errors a user can cause, each with a one-line message and a documented exit code.

Exit codes (see README "Exit codes"):
  0  success
  1  the whole run failed for another reason (an internal error, shown in one line)
  2  usage error: unknown flag, bad option value (click's own code)
  3  input error: missing/empty/binary file, malformed JSONL, unsupported language
  4  network error: unreachable URL, refused address, HTTP error, too large
  5  storage error: database locked by another run, newer schema, corrupt file
  6  quality gate failed (eval --check)
"""

from __future__ import annotations


class ExtractorError(Exception):
    """Base class: ``str(err)`` is the one line shown to the user."""

    exit_code = 1


class InputError(ExtractorError):
    exit_code = 3


class UnsupportedLanguage(InputError):
    def __init__(self, language: str):
        from .resources import LANGUAGES

        super().__init__(f"unsupported language {language!r}: only {', '.join(map(repr, LANGUAGES))} are supported")
        self.language = language


class FetchError(ExtractorError):
    exit_code = 4


class StoreError(ExtractorError):
    exit_code = 5


class GateError(ExtractorError):
    exit_code = 6
