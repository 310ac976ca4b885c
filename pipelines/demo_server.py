"""A tiny HTTP server on 127.0.0.1 for `incidents ingest --demo`: serves pipelines/demo/ offline.

Feed files (under ``feeds/``, or any .xml/.rss/.atom file) have the placeholder host ``DEMO_HOST`` replaced by
``127.0.0.1:PORT`` as they are served, so their links point back at this server. It honours ``If-None-Match``
(a strong ETag of the served bytes) like a real feed host, so a second demo run costs nothing.

    with DemoServer() as srv:
        print(srv.base_url)      # http://127.0.0.1:PORT
"""

from __future__ import annotations

import hashlib
import mimetypes
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Optional
from urllib.parse import unquote, urlsplit

DEMO_DIR = Path(__file__).resolve().parent / "demo"
PLACEHOLDER = "DEMO_HOST"
_FEED_SUFFIXES = {".xml", ".rss", ".atom"}
_TYPES = {".xml": "application/xml", ".rss": "application/rss+xml", ".atom": "application/atom+xml",
          ".html": "text/html; charset=utf-8", ".htm": "text/html; charset=utf-8", ".txt": "text/plain; charset=utf-8"}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_Server"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        self._serve(head=False)

    def do_HEAD(self) -> None:  # noqa: N802
        self._serve(head=True)

    def _serve(self, head: bool) -> None:
        root = self.server.root
        rel = unquote(urlsplit(self.path).path).lstrip("/")
        target = (root / rel).resolve()
        if root not in target.parents or not target.is_file():
            return self._send(404, "text/plain", b"not found", head)
        body = target.read_bytes()
        etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'  # of the file itself: stable across ports
        suffix = target.suffix.lower()
        if suffix in _FEED_SUFFIXES or "feeds" in target.relative_to(root).parts:
            body = body.replace(PLACEHOLDER.encode(), self.server.hostport.encode())
        if self.headers.get("If-None-Match") == etag:
            return self._send(304, None, b"", head, {"ETag": etag})
        ctype = _TYPES.get(suffix) or mimetypes.guess_type(target.name)[0] or "application/octet-stream"
        self._send(200, ctype, body, head, {"ETag": etag})

    def _send(self, status: int, ctype: Optional[str], body: bytes, head: bool, extra: Optional[dict] = None) -> None:
        try:
            self.send_response(status)
            if ctype:
                self.send_header("Content-Type", ctype)
            for k, v in (extra or {}).items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if body and not head:
                self.wfile.write(body)
        except OSError:
            self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    root: Path
    hostport: str

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


class DemoServer:
    """Serves ``root`` (default pipelines/demo/) on 127.0.0.1 with an OS-chosen port, in a daemon thread."""

    def __init__(self, root: Path | str = DEMO_DIR):
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.root = Path(root).resolve()
        self.port = self._server.server_address[1]
        self.hostport = f"127.0.0.1:{self.port}"
        self._server.hostport = self.hostport
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        return f"http://{self.hostport}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> "DemoServer":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
