"""Scheduling helpers of the ingest job: durations, the project's fetcher, the demo's one-host guard, waiting."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path
from typing import Any, Optional
from urllib.parse import urlsplit

from extractor.errors import FetchError, InputError, StoreError

_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd]?)", re.I)


def parse_duration(text: str) -> float:
    """``30m``, ``1h``, ``90s``, ``2h30m``, ``1d`` (a bare number is minutes) -> seconds. Raises InputError."""
    s = (text or "").strip().lower().replace(" ", "")
    if not s or not re.fullmatch(r"(\d+(?:\.\d+)?[smhd]?)+", s):
        raise InputError(f"bad duration {text!r}: use e.g. 30m, 1h, 90s, 2h30m")
    total = 0.0
    for num, unit in _DURATION.findall(s):
        total += float(num) * {"s": 1, "m": 60, "h": 3600, "d": 86400, "": 60}[unit]
    if total < 10:
        raise InputError(f"duration {text!r} is too short: at least 10s between polls")
    return total


def open_fetcher(allow_private: bool = False, per_host_delay: Optional[float] = None,
                 timeout: Optional[float] = None, proxy: Optional[str] = None):
    """A Fetcher with the project's settings (extractor.fetch: timeouts, size cap, redirects, User-Agent, proxy)."""
    from extractor.fetch import FetchSettings, Fetcher

    kwargs: dict = {"allow_private": allow_private, "proxy": proxy or ""}
    if per_host_delay is not None:
        kwargs["per_host_delay"] = per_host_delay
    if timeout is not None:
        kwargs["read_timeout"] = timeout
        kwargs["total_timeout"] = max(timeout, 1.0) * 3
    return Fetcher(FetchSettings(**kwargs))


class OnlyHost:
    """Wraps a Fetcher so that it fetches from one host:port only (the demo server, on a private address)."""

    def __init__(self, fetcher: Any, hostport: str):
        self.fetcher = fetcher
        self.hostport = hostport

    def _check(self, url: str) -> None:
        if urlsplit(url).netloc.lower() != self.hostport:
            raise FetchError(f"the demo fetches from {self.hostport} only, not {url[:200]}")

    def fetch(self, url: str, headers: Optional[dict] = None):
        self._check(url)
        return self.fetcher.fetch(url, headers=headers)

    def fetch_page(self, url: str):
        self._check(url)
        return self.fetcher.fetch_page(url)


def default_extractor_factory():
    from extractor.pipeline import Extractor

    return Extractor()


def check_store_writable(path: Path) -> None:
    if path.exists() and not path.is_file():
        raise StoreError(f"{path} is not a regular file")


def sleep_until(deadline: float, stop: threading.Event) -> None:
    while not stop.is_set():
        left = deadline - time.monotonic()
        if left <= 0:
            return
        stop.wait(min(left, 1.0))
