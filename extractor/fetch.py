"""The project's one HTTP layer: safe on untrusted URLs and untrusted responses.

* Only ``http`` and ``https``.
* A network guard: the host is resolved here, every resolved address is checked with
  :func:`is_public_address`, and the socket is opened to that checked address (an httpcore
  network backend), so DNS rebinding cannot swap in a private address between the check and
  the connection. Redirects are followed by hand, each hop checked again.
  Private hosts are allowed with ``FetchSettings(allow_private=True)`` or
  ``INCIDENTS_ALLOW_PRIVATE=1`` in the environment (tests, the offline demo).
* Connect and read timeouts plus a deadline for the whole request (redirects and body).
* The body is streamed and decompressed here, stopping at ``max_bytes`` of decoded data (a
  gzip bomb stops at the cap); content types other than HTML/XML/text/feeds are refused
  before the body is read.
* A per-host delay (:class:`HostThrottle`) shared by a :class:`Fetcher`.

Every failure raises :class:`extractor.errors.FetchError` (exit code 4) with one line.
HTTP statuses >= 300 that are not followed redirects are returned, not raised
(:func:`fetch_page` raises for >= 400). See docs/NETWORK.md.
"""

from __future__ import annotations

import codecs
import ipaddress
import os
import re
import socket
import threading
import time
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Callable, Iterable, Iterator, Optional
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from .errors import FetchError

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

ALLOW_PRIVATE_ENV = "INCIDENTS_ALLOW_PRIVATE"
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
PERMANENT_REDIRECTS = frozenset({301, 308})
# The body of a response that is returned rather than used (status >= 300) is kept up to this size.
ERROR_BODY_LIMIT = 1_000_000
_CHUNK = 64 * 1024
_URL_SHOWN = 300


@dataclass(frozen=True)
class FetchSettings:
    allow_private: bool = False  # allow loopback/private hosts (tests and the offline demo set True)
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    total_timeout: float = 60.0  # a deadline for the whole request incl. redirects and body
    max_bytes: int = 10_000_000  # counted AFTER decompression (a gzip bomb stops at the cap)
    max_redirects: int = 5
    per_host_delay: float = 1.0  # minimal delay between two requests to one host (HostThrottle)
    user_agent: str = "incidents-extractor/0.1 (+https://github.com/incidents-extractor; data-breach monitoring)"
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


# --------------------------------------------------------------------------- text decoding

_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]{1,40})""", re.I)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]{0,200}?encoding\s*=\s*["']([A-Za-z0-9._:-]{1,40})["']""")
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
         (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))


def _codec(name: Optional[str]) -> Optional[str]:
    if not name:
        return None
    try:
        return codecs.lookup(name.strip().strip("\"'")).name
    except (LookupError, ValueError):
        return None


_SINGLE_BYTE = {"latin_1", "iso8859-1", "cp1252", "iso8859-15", "ascii", "cp1250", "iso8859-2", "mac-roman"}


def decode_body(content: bytes, declared: Optional[str] = None) -> str:
    """Decode bytes of a page or feed without ever raising."""
    return sniff_decode(content, declared)[0]


def sniff_decode(content: bytes, declared: Optional[str] = None) -> tuple[str, str]:
    """``(text, encoding used)``: BOM, the declared charset (HTTP, then the XML declaration or a
    ``<meta charset>``), then UTF-8, then Windows-1252. Never raises: bad bytes become U+FFFD.

    A declared single-byte charset (latin-1, windows-1252...) is overruled when the bytes are
    valid UTF-8 with non-ASCII characters: a wrong declaration is much likelier than chance.
    """
    content = bytes(content or b"")
    for bom, enc in _BOMS:
        if content.startswith(bom):
            return content[len(bom):].decode(enc, "replace"), enc
    head = content[:2048]
    candidates = [_codec(declared)]
    m = _XML_ENCODING.match(head) or _META_CHARSET.search(head)
    if m:
        candidates.append(_codec(m.group(1).decode("ascii", "replace")))
    utf8: Optional[str]
    try:
        utf8 = content.decode("utf-8")
    except UnicodeDecodeError:
        utf8 = None
    for enc in candidates:
        if not enc or enc.startswith(("utf-16", "utf-32")):
            continue  # a declared UTF-16/32 without a BOM is almost always wrong for web content
        if enc == "utf-8":
            if utf8 is not None:
                return utf8, "utf-8"
            break  # declared UTF-8 but not valid: the heuristic below
        if enc in _SINGLE_BYTE and utf8 is not None and not utf8.isascii():
            return utf8, "utf-8"
        try:
            return content.decode(enc), enc
        except UnicodeDecodeError:
            return content.decode(enc, "replace"), enc
    if utf8 is not None:
        return utf8, "utf-8"
    text = content.decode("utf-8", "replace")
    # Mostly UTF-8 with a few bad bytes: keep UTF-8. No valid multi-byte sequence at all:
    # a legacy single-byte page (French pages are often Windows-1252).
    if any(ord(c) > 127 and c != "\ufffd" for c in text):
        return text, "utf-8"
    return content.decode("cp1252", "replace"), "cp1252"


# --------------------------------------------------------------------------- the guard

_BLOCKED_NETS = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
        "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15",
        "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4", "255.255.255.255/32",
        "::/128", "::1/128", "::/96", "::ffff:0:0/96", "64:ff9b:1::/48", "100::/64", "2001::/23",
        "2001:db8::/32", "2002::/16", "fc00::/7", "fe80::/10", "fec0::/10", "ff00::/8",
    )
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_SIXTOFOUR = ipaddress.ip_network("2002::/16")
_TEREDO = ipaddress.ip_network("2001::/32")


def is_public_address(ip: str) -> bool:
    """True if ``ip`` is a globally routable unicast address a fetch may connect to.

    False for loopback, private (RFC 1918, ULA), link-local (incl. cloud metadata
    169.254.169.254), CGNAT, multicast, unspecified, reserved, documentation and benchmark
    ranges, and for IPv6 forms that embed a refused IPv4 address (IPv4-mapped ``::ffff:a.b.c.d``,
    IPv4-compatible, NAT64 ``64:ff9b::/96``, 6to4 ``2002::/16``, Teredo). Not an IP: False.
    """
    try:
        addr = ipaddress.ip_address(str(ip).strip().strip("[]").split("%", 1)[0])
    except ValueError:
        return False
    if isinstance(addr, ipaddress.IPv6Address):
        if addr.ipv4_mapped is not None or addr in _SIXTOFOUR or addr in _TEREDO:
            return False  # IPv4 tunnelled or mapped: never needed to read the news, easy to abuse
        if addr in _NAT64:  # a NAT64 gateway reaches the embedded IPv4 address: judge that one
            return is_public_address(str(ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)))
    if any(addr in net for net in _BLOCKED_NETS if net.version == addr.version):
        return False
    if (addr.is_private or addr.is_loopback or addr.is_link_local or addr.is_multicast
            or addr.is_reserved or addr.is_unspecified or not addr.is_global):
        return False
    if isinstance(addr, ipaddress.IPv6Address) and addr.is_site_local:
        return False
    return True


def allow_private_from_env() -> bool:
    """``INCIDENTS_ALLOW_PRIVATE=1`` (or true/yes/on) in the environment allows private hosts."""
    return os.environ.get(ALLOW_PRIVATE_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def _short(url: Any) -> str:
    s = " ".join(str(url).split())
    return s if len(s) <= _URL_SHOWN else s[: _URL_SHOWN - 3] + "..."


def _one_line(s: Any) -> str:
    return " ".join(str(s).split())[:500]


def _refusal(ip: str, url: str) -> str:
    return (f"refused address {ip} for {_short(url)} (private hosts are not allowed; "
            f"set {ALLOW_PRIVATE_ENV}=1 or --allow-private)")


def _ip_literal(host: str) -> Optional[str]:
    """The address a host names without DNS (``127.0.0.1``, ``[::1]``, ``2130706433``, ``0x7f.1``)."""
    h = host.strip("[]").split("%", 1)[0]
    try:
        return str(ipaddress.ip_address(h))
    except ValueError:
        pass
    if re.fullmatch(r"[0-9a-fA-FxX.]+", h) and not h.endswith("."):
        try:  # the legacy inet_aton forms browsers and resolvers still accept
            return socket.inet_ntoa(socket.inet_aton(h))
        except OSError:
            return None
    return None


_BAD_HOST_CHARS = re.compile(r"[\s%<>\"'{}|\\^`/?#@,;=*!$&()+~]")


def check_url(url: str, *, allow_private: bool) -> None:
    """Refuse, before any network use, what can be refused from the URL alone.

    Raises FetchError for a scheme other than http/https (file:, ftp:, data:, javascript:...),
    a URL without a host, a bad port, and (unless ``allow_private``) an IP-literal host that is
    not public or a ``localhost`` name. Hosts given by name are checked again at connect time,
    on the addresses they resolve to.
    """
    if not isinstance(url, str) or not url.strip():
        raise FetchError("invalid URL: empty")
    shown = _short(url)
    if any(ord(c) < 32 or ord(c) == 127 for c in url):
        raise FetchError(f"invalid URL (control characters): {shown!r}")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as err:
        raise FetchError(f"invalid URL ({_one_line(err)}): {shown}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise FetchError(f"unsupported URL scheme {scheme + ':' if scheme else '(none)'} in {shown} "
                         "(only http and https are fetched)")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise FetchError(f"invalid URL (no host): {shown}")
    lit = _ip_literal(host)
    if lit is None and (_BAD_HOST_CHARS.search(host) or len(host) > 253):
        raise FetchError(f"invalid URL (bad host name): {shown}")
    if port == 0:
        raise FetchError(f"invalid URL (port 0): {shown}")
    if allow_private:
        return
    if lit is not None and not is_public_address(lit):
        raise FetchError(_refusal(lit, url))
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        raise FetchError(_refusal("127.0.0.1", url))


class _Refused(Exception):
    """Raised inside the network backend; turned into a FetchError naming the URL."""

    def __init__(self, ip: str, host: str):
        super().__init__(f"refused address {ip} for host {host}")
        self.ip = ip
        self.host = host


class _Unresolved(Exception):
    def __init__(self, host: str, reason: str):
        super().__init__(reason)
        self.host = host
        self.reason = reason


def _resolve(host: str, port: int, timeout: Optional[float]) -> list[tuple]:
    """getaddrinfo with a time limit (a stuck resolver must not outlive the deadline)."""
    box: dict = {}

    def run() -> None:
        try:
            box["v"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
        except BaseException as err:  # noqa: BLE001 - carried to the caller
            box["e"] = err

    t = threading.Thread(target=run, daemon=True, name="incidents-resolve")
    t.start()
    t.join(timeout if timeout is not None else None)
    if t.is_alive():
        raise httpcore.ConnectTimeout(f"name resolution of {host} timed out")
    if "e" in box:
        err = box["e"]
        if isinstance(err, socket.gaierror):
            raise _Unresolved(host, f"cannot resolve host {host}")
        if isinstance(err, (UnicodeError, ValueError)):
            raise _Unresolved(host, f"invalid host name {host[:100]}")
        raise httpcore.ConnectError(str(err))
    return box.get("v") or []


class GuardedBackend(httpcore.NetworkBackend):
    """httpcore network backend: resolve, check every address, connect to a checked address."""

    def __init__(self, allow_private: bool):
        self.allow_private = allow_private
        self._inner = httpcore.SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout: Optional[float] = None,
                    local_address: Optional[str] = None, socket_options: Optional[Iterable] = None):
        host = host.decode("ascii") if isinstance(host, (bytes, bytearray)) else str(host)
        infos = _resolve(host.strip("[]"), port, timeout)
        addresses: list[str] = []
        for family, _type, _proto, _canon, sockaddr in infos:
            if family not in (socket.AF_INET, socket.AF_INET6):
                continue
            ip = str(sockaddr[0]).split("%", 1)[0]
            if not self.allow_private and not is_public_address(ip):
                raise _Refused(ip, host)  # one bad address refuses the host: it may be a rebinding trick
            if ip not in addresses:
                addresses.append(ip)
        if not addresses:
            raise _Unresolved(host, f"no address for host {host}")
        last: Optional[BaseException] = None
        for ip in addresses:
            try:
                stream = self._inner.connect_tcp(ip, port, timeout=timeout, local_address=local_address,
                                                 socket_options=socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as err:
                last = err
                continue
            peer = stream.get_extra_info("server_addr")
            peer_ip = str(peer[0]) if peer else ip
            if not self.allow_private and not is_public_address(peer_ip):  # belt and braces
                stream.close()
                raise _Refused(peer_ip, host)
            return stream
        assert last is not None
        raise last

    def connect_unix_socket(self, path: str, timeout: Optional[float] = None, socket_options: Any = None):
        raise httpcore.ConnectError("unix sockets are not fetched")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


_SSL_CONTEXT: Optional[Any] = None
_SSL_LOCK = threading.Lock()


def _ssl_context():
    """One verifying TLS context (certifi's CA bundle) for every Fetcher: building one costs ~50 ms."""
    global _SSL_CONTEXT
    with _SSL_LOCK:
        if _SSL_CONTEXT is None:
            _SSL_CONTEXT = httpx.create_ssl_context(verify=True, trust_env=False)
        return _SSL_CONTEXT


class _GuardedTransport(httpx.HTTPTransport):
    """httpx's own transport (request/response mapping, exception mapping) over a connection pool
    whose network backend is the guard. No proxy, HTTP/1.1, certificates verified."""

    def __init__(self, allow_private: bool):  # the base __init__ only builds self._pool: built here instead
        self._pool = httpcore.ConnectionPool(
            ssl_context=_ssl_context(),
            max_connections=20,
            max_keepalive_connections=10,
            keepalive_expiry=5.0,
            http1=True,
            http2=False,
            retries=0,
            network_backend=GuardedBackend(allow_private),
        )


# --------------------------------------------------------------------------- throttle


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


# --------------------------------------------------------------------------- decoding with a cap


class _Decoder:
    """Incremental gzip/deflate decoder yielding bounded pieces (never a whole bomb at once)."""

    def __init__(self, encoding: str):
        self.encoding = encoding
        self._first = True
        self._raw_deflate_tried = False
        self._members = 0
        self._done = False
        self._obj = self._new()

    def _new(self):
        if self.encoding == "gzip":
            return zlib.decompressobj(16 + zlib.MAX_WBITS)
        return zlib.decompressobj(zlib.MAX_WBITS)

    def feed(self, data: bytes) -> Iterator[bytes]:
        if self._done:
            return
        while True:
            try:
                out = self._obj.decompress(data, _CHUNK)
            except zlib.error:
                if self.encoding == "deflate" and self._first and not self._raw_deflate_tried:
                    self._raw_deflate_tried = True  # some servers send raw deflate without the zlib header
                    self._obj = zlib.decompressobj(-zlib.MAX_WBITS)
                    continue
                if self._members > 0 and self._first:
                    self._done = True  # junk after a complete gzip member: ignored, as browsers do
                    return
                raise
            self._first = False
            if out:
                yield out
            if self._obj.eof:
                rest = self._obj.unused_data.lstrip(b"\x00")
                self._members += 1
                if rest and self.encoding == "gzip":
                    self._obj = self._new()  # a multi-member gzip stream
                    self._first = True
                    data = rest
                    continue
                if rest:
                    self._done = True
                return
            data = self._obj.unconsumed_tail
            if not data and len(out) < _CHUNK:
                return  # all input used and no output held back

    def flush(self) -> Iterator[bytes]:
        """What the decompressor still holds at the end of the body (a truncated stream)."""
        if self._done or self._obj.eof:
            return
        try:
            while True:
                out = self._obj.decompress(b"", _CHUNK)
                if not out:
                    return
                yield out
        except zlib.error:
            return


# --------------------------------------------------------------------------- the fetcher


def _fmt_seconds(t: float) -> str:
    return f"{t:g}s"


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


class _Deadline:
    def __init__(self, total: float):
        self.total = total
        self.start = time.monotonic()
        self.end = self.start + total

    def left(self) -> float:
        return self.end - time.monotonic()

    def passed(self) -> bool:
        return time.monotonic() >= self.end


class Fetcher:
    """A reusable client: one httpx.Client (keep-alive), one HostThrottle, one FetchSettings.

    ``allow_private`` is ``settings.allow_private`` or ``INCIDENTS_ALLOW_PRIVATE=1`` when the
    Fetcher is created. Use as a context manager, or call :meth:`close`.
    """

    def __init__(self, settings: FetchSettings = FetchSettings(), *, throttle: Optional[HostThrottle] = None):
        self.settings = settings
        self.allow_private = bool(settings.allow_private or allow_private_from_env())
        self.throttle = throttle if throttle is not None else HostThrottle(settings.per_host_delay)
        self._transport = _GuardedTransport(self.allow_private)
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
        deadline: Optional[_Deadline] = None
        current = url.strip()
        permanent: Optional[str] = None
        hops = 0
        while True:
            self.throttle.wait(_host_key(current))
            if deadline is None:
                deadline = _Deadline(s.total_timeout)  # the throttle's first wait is not the request's time
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
    def _one(self, url: str, headers: dict, deadline: _Deadline) -> Response:
        s = self.settings
        left = deadline.left()
        if left <= 0:
            raise FetchError(f"timed out after {_fmt_seconds(s.total_timeout)}: {_short(url)}")
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
                watchdog = _arm_watchdog(response, deadline, fired)
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
                        limit = min(limit, ERROR_BODY_LIMIT)  # an error page: keep its head only
                        strict = False
                    content = self._read_body(response, hdrs, url, limit, strict, deadline, fired)
            finally:
                response.close()
        except FetchError:
            raise
        except _Refused as err:
            raise FetchError(_refusal(err.ip, url)) from None
        except _Unresolved as err:
            raise FetchError(f"cannot connect to {_short(url)}: {err.reason}") from None
        except httpx.ConnectTimeout:
            raise FetchError(f"timed out after {_fmt_seconds(min(s.connect_timeout, left))}: {_short(url)}") from None
        except (httpx.ReadTimeout, httpx.WriteTimeout, httpx.PoolTimeout):
            if fired.is_set() or deadline.passed():
                raise FetchError(f"timed out after {_fmt_seconds(s.total_timeout)}: {_short(url)}") from None
            raise FetchError(f"timed out after {_fmt_seconds(min(s.read_timeout, left))}: {_short(url)}") from None
        except httpx.ConnectError as err:
            raise FetchError(f"cannot connect to {_short(url)}: {_reason_text(err)}") from None
        except (httpx.TransportError, httpx.DecodingError, OSError) as err:
            if fired.is_set() or deadline.passed():
                raise FetchError(f"timed out after {_fmt_seconds(s.total_timeout)}: {_short(url)}") from None
            raise FetchError(f"network error while fetching {_short(url)}: {_reason_text(err)}") from None
        finally:
            if watchdog is not None:
                watchdog.cancel()
        return Response(
            url=url, final_url=str(url), status=status, headers=hdrs, content=content,
            content_type=ctype, encoding=_codec(charset) and charset, permanent_redirect=None, elapsed=0.0,
        )

    def _read_body(self, response: httpx.Response, hdrs: dict, url: str, limit: int, strict: bool,
                   deadline: _Deadline, fired: threading.Event) -> bytes:
        s = self.settings
        too_big = f"page larger than {limit} bytes: {_short(url)}"
        declared = hdrs.get("content-length", "").strip()
        if strict and declared.isdigit() and int(declared) > limit:
            raise FetchError(too_big)
        codings = [c.strip().lower() for c in hdrs.get("content-encoding", "").split(",") if c.strip()]
        codings = [c for c in codings if c not in ("identity",)]
        if len(codings) > 2:
            raise FetchError(f"unsupported content encoding {_one_line(', '.join(codings))[:60]}: {_short(url)}")
        for c in codings:
            if c not in ("gzip", "x-gzip", "deflate"):
                raise FetchError(f"unsupported content encoding {_one_line(c)[:40]}: {_short(url)}")
        decoders = [_Decoder("gzip" if c == "x-gzip" else c) for c in reversed(codings)]
        out = bytearray()
        raw_total = 0

        def push(piece: bytes, depth: int) -> Iterator[bytes]:
            if depth == len(decoders):
                yield piece
                return
            for p in decoders[depth].feed(piece):
                yield from push(p, depth + 1)

        try:
            for raw in response.iter_raw(_CHUNK):
                raw_total += len(raw)
                if raw_total > limit and strict:
                    raise FetchError(too_big)
                for piece in push(raw, 0):
                    if len(out) + len(piece) > limit:
                        if strict:
                            raise FetchError(too_big)
                        out += piece[: limit - len(out)]
                        return bytes(out)
                    out += piece
                if deadline.passed():
                    raise FetchError(f"timed out after {_fmt_seconds(s.total_timeout)}: {_short(url)}")
                if raw_total > limit and not strict:
                    return bytes(out)
            for depth, dec in enumerate(decoders):  # what each layer still holds, through the layers after it
                for held in dec.flush():
                    for piece in push(held, depth + 1):
                        if len(out) + len(piece) > limit:
                            if strict:
                                raise FetchError(too_big)
                            return bytes(out + piece[: limit - len(out)])
                        out += piece
        except zlib.error as err:
            raise FetchError(f"cannot decode the {'/'.join(codings)} body of {_short(url)}: {_one_line(err)}") from None
        return bytes(out)


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


def _arm_watchdog(response: httpx.Response, deadline: _Deadline, fired: threading.Event) -> Optional[threading.Timer]:
    """At the deadline, shut the socket down so a body trickling in cannot outlive it."""
    stream = response.extensions.get("network_stream")
    sock = stream.get_extra_info("socket") if stream is not None else None
    if sock is None:
        return None
    left = deadline.left()

    def fire() -> None:
        fired.set()
        try:
            socket.socket.shutdown(sock, socket.SHUT_RDWR)  # the plain-socket method, also for TLS sockets
        except OSError:
            pass

    if left <= 0:
        fire()
        return None
    timer = threading.Timer(left, fire)
    timer.daemon = True
    timer.start()
    return timer


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
