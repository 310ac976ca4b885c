"""The per-host delay: at least ``delay`` seconds between two requests to one host, shared by a Fetcher."""

from __future__ import annotations

import threading
import time
from typing import Callable


class HostThrottle:
    """Keeps at least ``delay`` seconds between two requests to one host (thread-safe)."""

    def __init__(self, delay: float, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.delay = max(0.0, float(delay))
        self._clock = clock
        self._sleep = sleep
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, host: str) -> float:
        """Block until a request to ``host`` may start; returns the seconds waited."""
        key = (host or "").lower()
        with self._lock:
            now = self._clock()
            start = max(now, self._next.get(key, now))
            self._next[key] = start + self.delay
            if len(self._next) > 10_000:  # forget hosts whose slot has passed
                self._next = {k: v for k, v in self._next.items() if v > now}
        pause = start - now
        if pause > 0:
            self._sleep(pause)
        return pause
