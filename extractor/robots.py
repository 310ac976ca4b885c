"""robots.txt for page fetches: read once per site through the same guarded Fetcher, cached, asked per URL.

``RobotsPolicy(fetcher).check(url)`` says whether our User-Agent may fetch ``url``:

* robots.txt is fetched with the fetcher itself (address guard, timeouts, size cap, redirects by hand) and
  parsed by protego; one copy per scheme://host:port, kept ``[robots] cache_s`` seconds;
* a 4xx robots.txt (none there) allows everything; a 5xx, a network error or an unreadable body makes the
  site's pages wait (:class:`RobotsUnavailable`: retried later, as a failed page would be);
* only what robots.txt says about pages is used (``Crawl-delay`` is not: the fetcher's per-host delay stands).

The ingest job skips a disallowed page with the reason recorded and never fetches it; ``--ignore-robots`` or
``robots = false`` on a feed (a user's own site) turns this off. See docs/NETWORK.md.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, Optional
from urllib.parse import urlsplit, urlunsplit

from . import settings
from .errors import FetchError


class RobotsUnavailable(FetchError):
    """robots.txt could not be read now (5xx, network): the page waits for a later try."""


@dataclass
class Verdict:
    allowed: bool
    reason: str  # one line: why (for the item's last_error when not allowed)


class RobotsPolicy:
    """robots.txt answers for one Fetcher, cached per site (``clock`` is injectable for tests)."""

    def __init__(self, fetcher: Any, *, user_agent: Optional[str] = None,
                 clock: Callable[[], float] = time.monotonic):
        self.fetcher = fetcher
        agent = user_agent or getattr(getattr(fetcher, "settings", None), "user_agent", None) \
            or settings.get("fetch", "user_agent")
        self.agent = agent.split("/", 1)[0].strip()  # the product token ("incidents-extractor") is what rules name
        self._clock = clock
        self._cache: dict[str, tuple[float, Any]] = {}  # site -> (expires, parser or None for "allow all")

    @staticmethod
    def robots_url(url: str) -> str:
        parts = urlsplit(url)
        return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), "/robots.txt", "", ""))

    def check(self, url: str) -> Verdict:
        """May ``url`` be fetched? Raises RobotsUnavailable when robots.txt cannot be read now."""
        site = self.robots_url(url)
        parser = self._parser(site)
        if parser is None:
            return Verdict(True, "no robots.txt")
        if parser.can_fetch(url, self.agent):
            return Verdict(True, "allowed by robots.txt")
        return Verdict(False, f"disallowed by {site} for {self.agent} (not fetched; --ignore-robots or "
                              f"robots = false on the feed to fetch it anyway)")

    def _parser(self, site: str):
        now = self._clock()
        hit = self._cache.get(site)
        if hit is not None and hit[0] > now:
            return hit[1]
        from protego import Protego

        try:
            resp = self.fetcher.fetch(site)
        except FetchError as err:
            raise RobotsUnavailable(f"robots.txt unavailable ({err})") from None
        if resp.status >= 500 or resp.status == 429:
            raise RobotsUnavailable(f"robots.txt unavailable (HTTP {resp.status}): {site}")
        parser = None
        if 200 <= resp.status < 300:
            body = resp.content[: settings.get("robots", "max_bytes")]
            try:
                parser = Protego.parse(body.decode("utf-8", errors="replace"))
            except Exception as err:  # noqa: BLE001 - a parser problem is this site's, never the run's
                raise RobotsUnavailable(f"robots.txt unreadable ({type(err).__name__}): {site}") from None
        self._cache[site] = (now + settings.get("robots", "cache_s"), parser)
        if len(self._cache) > 10_000:  # forget expired sites
            self._cache = {k: v for k, v in self._cache.items() if v[0] > now}
        return parser
