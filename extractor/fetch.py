"""The project's one HTTP layer: safe on untrusted URLs and untrusted responses.

* Only ``http`` and ``https``.
* The address guard (:mod:`extractor.netguard`): every resolved address is checked and the
  socket opened to that checked address. Redirects are followed by hand, each hop checked again.
  Private hosts are allowed with ``FetchSettings(allow_private=True)`` or
  ``INCIDENTS_ALLOW_PRIVATE=1`` in the environment (tests, the offline demo).
* Connect and read timeouts plus a deadline for the whole request (redirects and body).
* The body is streamed and decompressed (:mod:`extractor.decoding`), stopping at ``max_bytes``
  of decoded data (a gzip bomb stops at the cap); content types other than HTML/XML/text/feeds are refused
  before the body is read.
* A per-host delay (:class:`HostThrottle`) shared by a :class:`Fetcher`.
* Direct connections unless a proxy is asked for (``FetchSettings(proxy=...)`` or ``INCIDENTS_PROXY``);
  the environment's ``HTTP_PROXY``/``HTTPS_PROXY`` are never read.

Every failure raises :class:`extractor.errors.FetchError` (exit code 4) with one line.
HTTP statuses >= 300 that are not followed redirects are returned, not raised
(:func:`fetch_page` raises for >= 400). See docs/NETWORK.md.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Optional
from urllib.parse import urljoin, urlsplit

import httpx

from .decoding import charset_name, decode_body
from .throttle import HostThrottle
from .fetch_body import Deadline, arm_watchdog, fmt_seconds, read_body
from . import settings
from .errors import FetchError
from .netguard import (_GuardedTransport, _one_line, _Refused, _refusal, _short, _Unresolved,
                       allow_private_from_env, check_resolved, check_url, is_public_address, proxy_from_env, proxy_url)

__all__ = [
    "FetchSettings",
    "Response",
    "Fetcher",
    "HostThrottle",
    "fetch",
    "fetch_page",
    "check_url",
    "is_public_address",
    "parse_retry_after",
    "allow_private_from_env",
]

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
PERMANENT_REDIRECTS = frozenset({301, 308})


_LIMITS = settings.section("fetch")


@dataclass(frozen=True)
class FetchSettings:
    """One request's limits; the defaults are ``[fetch]`` of extractor/settings.toml."""

    allow_private: bool = False  # allow loopback/private hosts (tests and the offline demo set True)
    connect_timeout: float = _LIMITS["connect_timeout_s"]
    read_timeout: float = _LIMITS["read_timeout_s"]
    total_timeout: float = _LIMITS["total_timeout_s"]  # the whole request incl. redirects and body
    max_bytes: int = _LIMITS["max_bytes"]  # counted AFTER decompression (a gzip bomb stops at the cap)
    max_redirects: int = _LIMITS["max_redirects"]
    per_host_delay: float = _LIMITS["per_host_delay_s"]  # between two requests to one host (HostThrottle)
    user_agent: str = _LIMITS["user_agent"]
    proxy: Optional[str] = None  # http(s)://host:port; None: $INCIDENTS_PROXY when set, else direct (docs/NETWORK.md)
    allowed_types: tuple = (
        "text/html",
        "application/xhtml+xml",
        "application/xml",
        "text/xml",
        "application/rss+xml",
        "application/atom+xml",
        "text/plain",
        "application/rdf+xml",
        "application/feed+json",
        "application/json",
    )


@dataclass
class Response:
    url: str  # requested
    final_url: str  # after redirects
    status: int
    headers: dict  # lower-cased names
    content: bytes
    content_type: Optional[str]
    encoding: Optional[str]  # from Content-Type charset
    permanent_redirect: Optional[str]  # the target if the FIRST hop was a 301/308
    elapsed: float

    def text(self) -> str:
        """The body as text: BOM, then the declared charset, then UTF-8, then Windows-1252.

        Never raises: undecodable bytes become U+FFFD.
        """
        return decode_body(self.content, self.encoding)


# --------------------------------------------------------------------------- the fetcher


def _media_type(value: Optional[str]) -> tuple[Optional[str], Optional[str]]:
    if not value:
        return None, None
    parts = value.split(";")
    mime = parts[0].strip().lower() or None
    charset = None
    for p in parts[1:]:
        k, _, v = p.partition("=")
        if k.strip().lower() == "charset":
            charset = v.strip().strip("\"'") or None
    return mime, charset


class Fetcher:
    """A reusable client: one httpx.Client (keep-alive), one HostThrottle, one FetchSettings.

    ``allow_private`` is ``settings.allow_private`` or ``INCIDENTS_ALLOW_PRIVATE=1`` when the
    Fetcher is created. Use as a context manager, or call :meth:`close`.
    """

    def __init__(self, settings: FetchSettings = FetchSettings(), *, throttle: Optional[HostThrottle] = None):
        self.settings = settings
        self.allow_private = bool(settings.allow_private or allow_private_from_env())
        self.throttle = throttle if throttle is not None else HostThrottle(settings.per_host_delay)
        self.proxy = proxy_url(settings.proxy if settings.proxy is not None else proxy_from_env())
        self._transport = _GuardedTransport(self.allow_private, proxy=self.proxy)
        self._client = httpx.Client(
            transport=self._transport,
            follow_redirects=False,
            trust_env=False,
            timeout=httpx.Timeout(settings.read_timeout, connect=settings.connect_timeout),
            headers={"User-Agent": settings.user_agent},
        )
        self._closed = False

    # -- lifecycle
    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._client.close()

    def __enter__(self) -> "Fetcher":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    # -- public API
    def fetch_page(self, url: str, *, headers: Optional[dict] = None) -> Response:
        """Like :meth:`fetch`, but raises FetchError for a status >= 400."""
        resp = self.fetch(url, headers=headers)
        if resp.status >= 400:
            raise FetchError(f"HTTP {resp.status}{_reason(resp.status)}: {_short(resp.final_url)}")
        return resp

    def fetch(self, url: str, *, headers: Optional[dict] = None) -> Response:
        """GET ``url``, following redirects by hand (each hop checked). Statuses are returned."""
        if self._closed:
            raise FetchError("fetcher is closed")
        s = self.settings
        check_url(url, allow_private=self.allow_private)
        base_headers = {
            "User-Agent": s.user_agent,
            "Accept": ", ".join(s.allowed_types) + ", */*;q=0.1",
            "Accept-Encoding": "gzip, deflate",
        }
        extra = {str(k): str(v) for k, v in (headers or {}).items()}
        start = time.monotonic()
        deadline: Optional[Deadline] = None
        current = url.strip()
        permanent: Optional[str] = None
        hops = 0
        while True:
            if self.proxy and not self.allow_private:  # the proxy connects: check what the name resolves to here
                check_resolved(current, s.connect_timeout)
            self.throttle.wait(_host_key(current))
            if deadline is None:
                deadline = Deadline(s.total_timeout)  # the throttle's first wait is not the request's time
            req_headers = dict(base_headers)
            req_headers.update(extra)
            resp = self._one(current, req_headers, deadline)
            if resp.status in REDIRECT_STATUSES and resp.headers.get("location"):
                target = _redirect_target(current, resp.headers["location"])
                if hops == 0 and resp.status in PERMANENT_REDIRECTS:
                    permanent = target
                hops += 1
                if hops > s.max_redirects:
                    raise FetchError(f"too many redirects (>{s.max_redirects}): {_short(url)}")
                check_url(target, allow_private=self.allow_private)
                if _origin(target) != _origin(current):  # credentials do not follow to another site
                    extra = {k: v for k, v in extra.items() if k.lower() not in ("authorization", "cookie")}
                current = target
                continue
            resp.url = url
            resp.permanent_redirect = permanent
            resp.elapsed = time.monotonic() - start
            return resp

    # -- one hop
    def _one(self, url: str, headers: dict, deadline: Deadline) -> Response:
        s = self.settings
        left = deadline.left()
        if left <= 0:
            raise FetchError(f"timed out after {fmt_seconds(s.total_timeout)}: {_short(url)}")
        timeout = httpx.Timeout(
            connect=min(s.connect_timeout, left),
            read=min(s.read_timeout, left),
            write=min(s.read_timeout, left),
            pool=min(s.connect_timeout, left),
        )
        watchdog: Optional[threading.Timer] = None
        fired = threading.Event()
        try:
            try:
                request = self._client.build_request("GET", url, headers=headers, timeout=timeout)
            except (httpx.InvalidURL, httpx.UnsupportedProtocol, UnicodeError, ValueError) as err:
                raise FetchError(f"invalid URL ({_one_line(err)}): {_short(url)}") from None
            # the transport directly: httpx.Client would parse Location itself (and raise on odd ones)
            response = self._transport.handle_request(request)
            try:
                watchdog = arm_watchdog(response, deadline, fired)
                status = response.status_code
                hdrs = {k.lower(): v for k, v in response.headers.items()}
                ctype, charset = _media_type(hdrs.get("content-type"))
                if status in REDIRECT_STATUSES and hdrs.get("location"):
                    content = b""  # the body of a redirect is never read
                else:
                    limit = s.max_bytes
                    if 200 <= status < 300:
                        if ctype is not None and ctype not in s.allowed_types:
                            raise FetchError(f"unsupported content type {_one_line(ctype)[:100]}: {_short(url)}")
                        strict = True
                    else:
                        limit = min(limit, _LIMITS["error_body_bytes"])  # an error page: keep its head only
                        strict = False
                    content = read_body(response, hdrs, url, limit, strict, deadline)
            finally:
                response.close()
        except FetchError:
            raise
        except _Refused as err:
            raise FetchError(_refusal(err.ip, url)) from None
        except _Unresolved as err:
            raise FetchError(f"cannot connect to {_short(url)}: {err.reason}") from None
        except httpx.ConnectTimeout:
            raise FetchError(f"timed out after {fmt_seconds(min(s.connect_timeout, left))}: {_short(url)}") from None
        except (httpx.ReadTimeout, httpx.WriteTimeout, httpx.PoolTimeout):
            if fired.is_set() or deadline.passed():
                raise FetchError(f"timed out after {fmt_seconds(s.total_timeout)}: {_short(url)}") from None
            raise FetchError(f"timed out after {fmt_seconds(min(s.read_timeout, left))}: {_short(url)}") from None
        except httpx.ConnectError as err:
            raise FetchError(f"cannot connect to {_short(url)}: {_reason_text(err)}") from None
        except (httpx.TransportError, httpx.DecodingError, OSError) as err:
            if fired.is_set() or deadline.passed():
                raise FetchError(f"timed out after {fmt_seconds(s.total_timeout)}: {_short(url)}") from None
            raise FetchError(f"network error while fetching {_short(url)}: {_reason_text(err)}") from None
        finally:
            if watchdog is not None:
                watchdog.cancel()
        return Response(
            url=url, final_url=str(url), status=status, headers=hdrs, content=content,
            content_type=ctype, encoding=charset_name(charset) and charset, permanent_redirect=None, elapsed=0.0,
        )

def _reason(status: int) -> str:
    try:
        from http import HTTPStatus

        return " " + HTTPStatus(status).phrase
    except ValueError:
        return ""


def _reason_text(err: BaseException) -> str:
    text = _one_line(err) or type(err).__name__
    if "CERTIFICATE_VERIFY_FAILED" in text:
        return "TLS certificate verification failed"
    if "Connection refused" in text or "Errno 111" in text:
        return "connection refused"
    return text[:200]


def _host_key(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def _origin(url: str) -> tuple:
    try:
        p = urlsplit(url)
        return (p.scheme.lower(), (p.hostname or "").lower(), p.port)
    except ValueError:
        return ("", "", None)


def _redirect_target(current: str, location: str) -> str:
    loc = location.strip()
    if any(ord(c) < 32 for c in loc):
        raise FetchError(f"invalid redirect location from {_short(current)}")
    return urljoin(current, loc)


# --------------------------------------------------------------------------- module-level API


def fetch(url: str, *, settings: FetchSettings = FetchSettings(), headers: Optional[dict] = None,
          client: Optional[Fetcher] = None) -> Response:
    """GET a URL safely. Statuses >= 300 that are not followed redirects are returned, not raised.

    With ``client``, the client's settings and throttle are used (``settings`` is ignored).
    """
    if client is not None:
        return client.fetch(url, headers=headers)
    with Fetcher(settings) as f:
        return f.fetch(url, headers=headers)


def fetch_page(url: str, *, settings: FetchSettings = FetchSettings(), headers: Optional[dict] = None,
               client: Optional[Fetcher] = None) -> Response:
    """Like :func:`fetch`, but raises FetchError on a status >= 400 (one line with the status)."""
    if client is not None:
        return client.fetch_page(url, headers=headers)
    with Fetcher(settings) as f:
        return f.fetch_page(url, headers=headers)


def parse_retry_after(value: Optional[str], now: Any = None) -> Optional[float]:
    """Seconds to wait from a Retry-After value: delta-seconds or an HTTP-date. None if unusable.

    ``now`` (for the HTTP-date form) is a timezone-aware datetime or a POSIX timestamp; default:
    the current time. A date in the past gives 0.0.
    """
    if value is None:
        return None
    v = str(value).strip()
    if not v:
        return None
    if v.isdigit():
        if len(v) > 12:
            return None
        return float(int(v))
    try:
        when = parsedate_to_datetime(v)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    if now is None:
        now_dt = datetime.now(timezone.utc)
    elif isinstance(now, (int, float)):
        now_dt = datetime.fromtimestamp(now, timezone.utc)
    else:
        now_dt = now if now.tzinfo is not None else now.replace(tzinfo=timezone.utc)
    return max(0.0, (when - now_dt).total_seconds())
