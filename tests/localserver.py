"""A small HTTP server on 127.0.0.1 for tests: serve canned responses, record what was received.

Usage::

    from tests.localserver import LocalServer   # or: from localserver import LocalServer

    routes = {
        "/feed.xml": (200, {"Content-Type": "application/rss+xml"}, b"<rss>...</rss>"),
        "/moved": (301, {"Location": "/feed.xml"}, b""),
        "/dynamic": lambda req: (200, {"Content-Type": "text/plain"}, f"hello {req.path}"),
    }
    with LocalServer(routes) as srv:
        url = srv.url("/feed.xml")          # http://127.0.0.1:PORT/feed.xml
        ...
        assert srv.requests[0].headers["user-agent"].startswith("incidents-extractor")

A route value is either a response tuple ``(status, headers, body)`` or a callable
``handler(request) -> (status, headers, body)`` (called for every request to that path).
``request`` is a :class:`Received` (method, path, query, headers with lower-cased names, body).

``body`` may be ``bytes``, ``str`` (UTF-8 encoded), or an iterable of ``bytes`` chunks; each
chunk is written and flushed in turn, so a generator can ``time.sleep`` between chunks to
simulate a slow server. A ``Content-Length`` header is added for bytes/str bodies unless the
route sets its own (set ``"Content-Length": None`` to send none); chunked bodies send none and
end by closing the connection. Unknown paths get a 404. Routes may be changed while the server
runs (``srv.routes[path] = ...``). The query string is ignored for matching unless the route
key itself contains ``?``.

Bounded: the server only listens on 127.0.0.1, on a port chosen by the OS, handler threads are
daemons, and ``close()`` never waits for a handler still sleeping.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterable, Union
from urllib.parse import urlsplit

Body = Union[bytes, str, Iterable[bytes], None]
ResponseTuple = tuple  # (status, headers, body)
Route = Union[ResponseTuple, Callable[["Received"], ResponseTuple]]


@dataclass
class Received:
    """One request the server received."""

    method: str
    path: str  # path without the query string
    query: str
    headers: dict  # lower-cased names
    body: bytes = b""
    time: float = field(default_factory=time.monotonic)

    @property
    def target(self) -> str:
        return self.path + ("?" + self.query if self.query else "")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_Server"

    def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
        pass

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        req = Received(
            method=self.command,
            path=parts.path,
            query=parts.query,
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        owner = self.server.owner
        with owner._lock:
            owner.requests.append(req)
        route = owner.routes.get(req.target) if req.query else None
        if route is None:
            route = owner.routes.get(req.path)
        if route is None:
            route = (404, {"Content-Type": "text/plain"}, b"not found")
        try:
            status, headers, payload = route(req) if callable(route) else route
        except Exception as err:  # a broken test handler: answer 500, do not hang the client
            status, headers, payload = 500, {"Content-Type": "text/plain"}, f"handler error: {err!r}"
        self._respond(int(status), dict(headers or {}), payload)

    def _respond(self, status: int, headers: dict, payload: Body) -> None:
        if isinstance(payload, str):
            payload = payload.encode("utf-8")
        try:
            self.send_response_only(status)
            names = {k.lower() for k in headers}
            for name, value in headers.items():
                if value is not None:
                    self.send_header(name, str(value))
            if isinstance(payload, (bytes, bytearray)) or payload is None:
                data = bytes(payload or b"")
                if "content-length" not in names:
                    self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD" and data:
                    self.wfile.write(data)
                self.wfile.flush()
                if headers.get("Content-Length", "") is None or headers.get("Connection") == "close":
                    self.close_connection = True
            else:  # an iterable of chunks, sent as they come; the end of the body is the end of the connection
                self.send_header("Connection", "close")
                self.close_connection = True
                self.end_headers()
                self.wfile.flush()
                for chunk in payload:
                    if self.server.owner._closed.is_set():
                        break
                    self.wfile.write(chunk)
                    self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, OSError):
            self.close_connection = True  # the client gave up (timeouts, size caps): expected in tests

    do_GET = _handle
    do_HEAD = _handle
    do_POST = _handle
    do_PUT = _handle
    do_DELETE = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    owner: "LocalServer"

    def handle_error(self, request: Any, client_address: Any) -> None:  # no tracebacks on stderr
        pass


class LocalServer:
    """An HTTP server on 127.0.0.1 (port 0: the OS picks one) running in a daemon thread."""

    def __init__(self, routes: dict | None = None):
        self.routes: dict = dict(routes or {})
        self.requests: list[Received] = []
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self
        self.host, self.port = self._server.server_address[:2]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str = "/") -> str:
        if not path.startswith("/"):
            path = "/" + path
        return self.base_url + path

    def requests_to(self, path: str) -> list[Received]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def close(self) -> None:
        if self._closed.is_set():
            return
        self._closed.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> "LocalServer":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
