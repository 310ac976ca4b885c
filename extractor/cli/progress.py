"""Progress a person can follow: a bar on a terminal for long work, and always one final summary line.

The bar (tqdm) is drawn on standard error only when it is a terminal and ``--quiet`` was not given; a pipe,
a log file or cron gets the summary line alone, so logs stay one line per run. Use it for any loop a person
may wait on (``--docs`` batches, imports, model loading, feed polling)::

    with Progress("extract", total=len(items), unit="doc", quiet=quiet) as bar:
        for item in bar.track(items):
            ...
        bar.summary("incidents: 12 documents, 3 incidents")
"""

from __future__ import annotations

import sys
from typing import Iterable, Iterator, Optional, TextIO, TypeVar

T = TypeVar("T")


def shows_bar(quiet: bool, stream: Optional[TextIO] = None) -> bool:
    """Whether a bar would be drawn: not quiet, and the stream (standard error) is a terminal."""
    stream = stream or sys.stderr
    try:
        return not quiet and stream.isatty()
    except (AttributeError, ValueError):  # a closed or unusual stream
        return False


def _size(stream: TextIO) -> tuple[int, int]:
    """The terminal's (columns, lines), 80 x 24 where it reports none (a fresh pseudo-terminal says 0 x 0, and
    tqdm draws nothing in a terminal of no lines)."""
    import os

    try:
        size = os.get_terminal_size(stream.fileno())
        return size.columns or 80, size.lines or 24
    except (AttributeError, OSError, ValueError):
        return 80, 24


class Progress:
    """One bar (when `shows_bar`) over a known or unknown total, closed before the summary line is printed."""

    def __init__(self, desc: str, total: Optional[int] = None, unit: str = "item", quiet: bool = False,
                 stream: Optional[TextIO] = None):
        self.stream = stream or sys.stderr
        self.enabled = shows_bar(quiet, self.stream)
        self._bar = None
        if self.enabled:
            from tqdm import tqdm

            cols, lines = _size(self.stream)
            self._bar = tqdm(total=total, desc=desc, unit=unit, file=self.stream, leave=False, ncols=cols, nrows=lines)

    def track(self, iterable: Iterable[T]) -> Iterator[T]:
        """`iterable`'s items, one step of the bar after each."""
        for item in iterable:
            yield item
            self.update()

    def update(self, n: int = 1) -> None:
        if self._bar is not None:
            self._bar.update(n)

    def describe(self, text: str) -> None:
        """What the bar is doing now (e.g. the model being loaded)."""
        if self._bar is not None:
            self._bar.set_postfix_str(text, refresh=True)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def summary(self, line: str) -> None:
        """Close the bar and print the final line (always, quiet or not)."""
        self.close()
        print(line, file=self.stream, flush=True)

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def load_models(languages: Iterable[str], quiet: bool = False) -> None:
    """Load each language's pipeline now, behind a bar, when one is shown (otherwise they load lazily, on the
    first document that needs them, as before)."""
    languages = list(languages)
    if not shows_bar(quiet):
        return
    from ..nlp import get_nlp

    with Progress("loading models", total=len(languages), unit="model") as bar:
        for lang in languages:
            bar.describe(lang)
            get_nlp(lang)
            bar.update()
