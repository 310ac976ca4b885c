"""The address guard: which hosts and addresses a fetch may reach, checked at every connection.

The host is resolved here, every resolved address is checked with :func:`is_public_address`,
and the socket is opened to that checked address (an httpcore network backend), so DNS
rebinding cannot swap in a private address between the check and the connection.
Private hosts are allowed with ``allow_private=True`` or ``INCIDENTS_ALLOW_PRIVATE=1``
(tests, the offline demo). Behind a proxy (``$INCIDENTS_PROXY``, ``--proxy``) the proxy connects, so only
the URL and what its host name resolves to here can be checked. See docs/NETWORK.md.
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
import threading
import time
from typing import Any, Iterable, Optional
from urllib.parse import urlsplit

import httpcore
import httpx

from .errors import FetchError

ALLOW_PRIVATE_ENV = "INCIDENTS_ALLOW_PRIVATE"
PROXY_ENV = "INCIDENTS_PROXY"
_URL_SHOWN = 300


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


def proxy_from_env() -> Optional[str]:
    """``$INCIDENTS_PROXY`` (the only proxy variable read: ``HTTP_PROXY`` and the like never change a fetch)."""
    return os.environ.get(PROXY_ENV, "").strip() or None


def proxy_url(value: Optional[str]) -> Optional[str]:
    """A proxy URL checked (``http://host:port`` or ``https://``); None or empty: direct. Raises InputError."""
    from .errors import InputError

    if value is None or not str(value).strip():
        return None
    text = str(value).strip()
    try:
        parts = urlsplit(text)
        parts.port
    except ValueError as err:
        raise InputError(f"bad proxy URL {_short(text)!r}: {_one_line(err)}") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise InputError(f"bad proxy URL {_short(text)!r}: expected http://HOST:PORT (or https://)")
    return text


def check_resolved(url: str, timeout: Optional[float]) -> None:
    """Behind a proxy: refuse a host whose name resolves HERE to a refused address (the proxy resolves it
    again and connects; what it reaches is its own affair). A name that does not resolve here is left to it."""
    host = (urlsplit(url).hostname or "").strip("[]")
    port = urlsplit(url).port or (443 if url.lower().startswith("https:") else 80)
    try:
        infos = _resolve(host, port, timeout)
    except (_Unresolved, httpcore.ConnectTimeout, httpcore.ConnectError):
        return
    for family, _type, _proto, _canon, sockaddr in infos:
        ip = str(sockaddr[0]).split("%", 1)[0]
        if family in (socket.AF_INET, socket.AF_INET6) and not is_public_address(ip):
            raise FetchError(_refusal(ip, url))


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
    whose network backend is the guard. HTTP/1.1, certificates verified. With ``proxy``, every request goes
    through that proxy (the one address the user chose, so it is not checked; the targets are, by name)."""

    def __init__(self, allow_private: bool, proxy: Optional[str] = None):  # the base __init__ only builds self._pool
        common = dict(ssl_context=_ssl_context(), max_connections=20, max_keepalive_connections=10,
                      keepalive_expiry=5.0, http1=True, http2=False, retries=0)
        if proxy:
            url = httpx.URL(proxy)
            auth = (url.username, url.password) if url.username else None
            self._pool = httpcore.HTTPProxy(
                proxy_url=httpcore.URL(scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=b"/"),
                proxy_auth=auth, network_backend=httpcore.SyncBackend(), **common)
        else:
            self._pool = httpcore.ConnectionPool(network_backend=GuardedBackend(allow_private), **common)
