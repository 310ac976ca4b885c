"""extractor.fetch: timeouts, size caps, redirects, content types, statuses, decoding.

All traffic goes to a local server on 127.0.0.1 (allow_private=True); the guard itself is
tested in test_network_guard.py.
"""

from __future__ import annotations

import gzip
import socket
import threading
import time
import zlib
from datetime import datetime, timezone

import pytest

try:
    from localserver import LocalServer
except ImportError:  # tests/ imported as a package
    from tests.localserver import LocalServer

from extractor.errors import FetchError
from extractor.fetch import (
    FetchSettings,
    Fetcher,
    HostThrottle,
    Response,
    fetch,
    fetch_page,
    parse_retry_after,
)

FAST = FetchSettings(allow_private=True, per_host_delay=0.0, connect_timeout=2.0, read_timeout=2.0,
                     total_timeout=10.0, max_bytes=100_000)
HTML = {"Content-Type": "text/html; charset=utf-8"}


def one_line(err: BaseException) -> str:
    msg = str(err)
    assert "\n" not in msg and msg.strip() == msg and msg
    return msg


@pytest.fixture
def server():
    with LocalServer() as srv:
        yield srv


# --------------------------------------------------------------------------- basics


def test_plain_get_returns_content_headers_and_sends_our_headers(server):
    server.routes["/a"] = (200, {"Content-Type": "text/html; charset=UTF-8", "X-Thing": "1"}, "<p>Québec</p>")
    r = fetch(server.url("/a"), settings=FAST)
    assert r.status == 200
    assert r.url == r.final_url == server.url("/a")
    assert r.content == "<p>Québec</p>".encode()
    assert r.text() == "<p>Québec</p>"
    assert r.content_type == "text/html" and r.encoding == "UTF-8"
    assert r.headers["x-thing"] == "1" and "content-type" in r.headers
    assert r.permanent_redirect is None and r.elapsed >= 0
    sent = server.requests[0].headers
    assert sent["user-agent"] == FAST.user_agent
    assert "gzip" in sent["accept-encoding"]


def test_gzip_and_deflate_bodies_are_decoded(server):
    body = ("Fuite de données " * 200).encode()
    raw_deflate = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    server.routes.update({
        "/gz": (200, {"Content-Type": "text/plain", "Content-Encoding": "gzip"}, gzip.compress(body)),
        "/gz2": (200, {"Content-Type": "text/plain", "Content-Encoding": "gzip"}, gzip.compress(body[:100]) + gzip.compress(body[100:])),
        "/zl": (200, {"Content-Type": "text/plain", "Content-Encoding": "deflate"}, zlib.compress(body)),
        "/raw": (200, {"Content-Type": "text/plain", "Content-Encoding": "deflate"}, raw_deflate.compress(body) + raw_deflate.flush()),
    })
    with Fetcher(FAST) as f:
        for path in ("/gz", "/gz2", "/zl", "/raw"):
            assert f.fetch(server.url(path)).content == body, path


def test_large_gzip_body_is_decoded_exactly_and_trailing_junk_ignored(server):
    import random

    rnd = random.Random(7)
    body = b"".join(rnd.choice([bytes(rnd.randrange(256) for _ in range(500)), b"abc" * 3000, b"\0" * 70_000]) for _ in range(40))
    server.routes["/big"] = (200, {"Content-Type": "text/plain", "Content-Encoding": "gzip"}, gzip.compress(body))
    server.routes["/junk"] = (200, {"Content-Type": "text/plain", "Content-Encoding": "gzip"}, gzip.compress(body[:5000]) + b"\r\njunk")
    server.routes["/twice"] = (200, {"Content-Type": "text/plain", "Content-Encoding": "gzip, gzip"}, gzip.compress(gzip.compress(body[:9000])))
    s = FetchSettings(allow_private=True, per_host_delay=0, max_bytes=len(body))
    with Fetcher(s) as f:
        assert f.fetch(server.url("/big")).content == body
        assert f.fetch(server.url("/junk")).content == body[:5000]
        assert f.fetch(server.url("/twice")).content == body[:9000]


def test_corrupt_gzip_and_unknown_encoding_fail_in_one_line(server):
    server.routes["/bad"] = (200, {"Content-Type": "text/plain", "Content-Encoding": "gzip"}, b"\x1f\x8b\x08\x00garbage-not-gzip")
    server.routes["/br"] = (200, {"Content-Type": "text/plain", "Content-Encoding": "br"}, b"\x0b\x02\x80abc\x03")
    with pytest.raises(FetchError, match="cannot decode"):
        fetch(server.url("/bad"), settings=FAST)
    with pytest.raises(FetchError, match="unsupported content encoding br") as e:
        fetch(server.url("/br"), settings=FAST)
    one_line(e.value)
    server.routes["/layers"] = (200, {"Content-Type": "text/plain", "Content-Encoding": ", ".join(["gzip"] * 500)}, b"x")
    with pytest.raises(FetchError, match="unsupported content encoding gzip, gzip"):
        fetch(server.url("/layers"), settings=FAST)


def test_client_argument_and_fetcher_methods(server):
    server.routes["/a"] = (200, HTML, "ok")
    with Fetcher(FAST) as f:
        assert fetch(server.url("/a"), client=f).content == b"ok"
        assert fetch_page(server.url("/a"), client=f).content == b"ok"
        assert f.fetch_page(server.url("/a")).status == 200
    with pytest.raises(FetchError, match="closed"):
        f.fetch(server.url("/a"))


# --------------------------------------------------------------------------- size cap


def test_gzip_bomb_stops_at_the_cap(server):
    bomb = gzip.compress(b"\0" * 50_000_000, compresslevel=9)  # ~50 KB on the wire
    assert len(bomb) < 100_000  # under the cap compressed: only decompression reveals it
    server.routes["/bomb"] = (200, {"Content-Type": "text/html", "Content-Encoding": "gzip"}, bomb)
    with pytest.raises(FetchError, match=r"^page larger than 100000 bytes: http://127\.0\.0\.1") as e:
        fetch(server.url("/bomb"), settings=FAST)
    one_line(e.value)


def test_deflate_bomb_stops_at_the_cap(server):
    server.routes["/bomb"] = (200, {"Content-Type": "text/plain", "Content-Encoding": "deflate"}, zlib.compress(b"a" * 20_000_000, 9))
    with pytest.raises(FetchError, match="page larger than"):
        fetch(server.url("/bomb"), settings=FAST)


def test_body_over_cap_without_content_length_and_with_it(server):
    def endless(_req):
        def chunks():
            for _ in range(10_000):  # bounded: 640 MB would be sent if nobody stopped reading
                yield b"x" * 65536
        return 200, {"Content-Type": "text/plain"}, chunks()

    server.routes["/endless"] = endless
    server.routes["/declared"] = (200, {"Content-Type": "text/plain"}, b"y" * 200_000)
    with pytest.raises(FetchError, match="page larger than 100000 bytes"):
        fetch(server.url("/endless"), settings=FAST)
    with pytest.raises(FetchError, match="page larger than 100000 bytes"):
        fetch(server.url("/declared"), settings=FAST)


def test_body_exactly_at_the_cap_is_accepted(server):
    server.routes["/exact"] = (200, {"Content-Type": "text/plain"}, b"z" * 100_000)
    assert len(fetch(server.url("/exact"), settings=FAST).content) == 100_000


# --------------------------------------------------------------------------- timeouts


def test_read_timeout_when_the_server_never_answers(server):
    gate = threading.Event()
    server.routes["/hang"] = lambda req: (gate.wait(5), (200, HTML, b"late"))[1]
    s = FetchSettings(allow_private=True, per_host_delay=0, read_timeout=0.5, total_timeout=10)
    t0 = time.monotonic()
    try:
        with pytest.raises(FetchError, match=r"^timed out after 0\.5s: http://127\.0\.0\.1") as e:
            fetch(server.url("/hang"), settings=s)
    finally:
        gate.set()
    assert time.monotonic() - t0 < 4
    one_line(e.value)


def test_total_deadline_stops_a_trickling_body(server):
    """Each chunk arrives within the read timeout; only the whole-request deadline stops it."""
    stop = threading.Event()

    def trickle(_req):
        def chunks():
            for _ in range(100):
                if stop.wait(0.3):
                    return
                yield b"x"
        return 200, {"Content-Type": "text/plain"}, chunks()

    server.routes["/trickle"] = trickle
    s = FetchSettings(allow_private=True, per_host_delay=0, read_timeout=1.0, total_timeout=1.5)
    t0 = time.monotonic()
    try:
        with pytest.raises(FetchError, match=r"^timed out after 1\.5s"):
            fetch(server.url("/trickle"), settings=s)
    finally:
        stop.set()
    assert time.monotonic() - t0 < 5


def test_deadline_covers_redirect_hops(server):
    gate = threading.Event()
    server.routes["/r"] = (302, {"Location": "/slow"}, b"")
    server.routes["/slow"] = lambda req: (gate.wait(5), (200, HTML, b"late"))[1]
    s = FetchSettings(allow_private=True, per_host_delay=0, read_timeout=3.0, total_timeout=0.8)
    try:
        with pytest.raises(FetchError, match="timed out after"):
            fetch(server.url("/r"), settings=s)
    finally:
        gate.set()


def test_connection_refused_is_one_line():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    with pytest.raises(FetchError, match=rf"^cannot connect to http://127\.0\.0\.1:{port}/x: ") as e:
        fetch(f"http://127.0.0.1:{port}/x", settings=FAST)
    one_line(e.value)


# --------------------------------------------------------------------------- redirects


def test_redirects_are_followed_and_a_first_permanent_hop_is_reported(server):
    server.routes.update({
        "/old": (301, {"Location": "/mid"}, b""),
        "/mid": (302, {"Location": server.url("/new")}, b""),
        "/new": (200, HTML, "new"),
        "/p308": (308, {"Location": "new"}, b""),
        "/temp": (302, {"Location": "/old"}, b""),
    })
    r = fetch(server.url("/old"), settings=FAST)
    assert (r.status, r.content, r.final_url, r.url) == (200, b"new", server.url("/new"), server.url("/old"))
    assert r.permanent_redirect == server.url("/mid")
    assert fetch(server.url("/p308"), settings=FAST).permanent_redirect == server.url("/new")
    # a permanent hop that is not the first one does not move the feed
    assert fetch(server.url("/temp"), settings=FAST).permanent_redirect is None
    assert [q.path for q in server.requests][:3] == ["/old", "/mid", "/new"]


def test_redirect_limit(server):
    for i in range(10):
        server.routes[f"/r{i}"] = (302, {"Location": f"/r{i + 1}"}, b"")
    server.routes["/r10"] = (200, HTML, "end")
    server.routes["/loop"] = (307, {"Location": "/loop"}, b"")
    s = FetchSettings(allow_private=True, per_host_delay=0, max_redirects=3)
    assert fetch(server.url("/r7"), settings=s).content == b"end"  # 3 hops: fine
    with pytest.raises(FetchError, match=r"^too many redirects \(>3\): ") as e:
        fetch(server.url("/r6"), settings=s)  # 4 hops
    one_line(e.value)
    with pytest.raises(FetchError, match=r"too many redirects \(>5\)"):
        fetch(server.url("/loop"), settings=FAST)
    assert len(server.requests_to("/loop")) == 6


@pytest.mark.parametrize("target", ["file:///etc/passwd", "ftp://127.0.0.1/x", "gopher://127.0.0.1:70/", "data:text/html,hi"])
def test_redirect_to_another_scheme_is_refused(server, target):
    server.routes["/r"] = (302, {"Location": target}, b"")
    with pytest.raises(FetchError, match="unsupported URL scheme") as e:
        fetch(server.url("/r"), settings=FAST)
    one_line(e.value)


def test_redirect_to_a_refused_address(server, monkeypatch):
    """127.0.0.1 is treated as public here; the redirect target 127.0.0.2 is not."""
    import extractor.netguard as guard_mod

    monkeypatch.delenv("INCIDENTS_ALLOW_PRIVATE", raising=False)
    monkeypatch.setattr(guard_mod, "is_public_address", lambda ip: ip == "127.0.0.1")
    server.routes["/r"] = (302, {"Location": f"http://127.0.0.2:{server.port}/inside"}, b"")
    s = FetchSettings(allow_private=False, per_host_delay=0)
    with pytest.raises(FetchError, match=r"^refused address 127\.0\.0\.2 for http://127\.0\.0\.2:\d+/inside "):
        fetch(server.url("/r"), settings=s)
    assert [q.path for q in server.requests] == ["/r"]


def test_credentials_do_not_follow_a_redirect_to_another_origin(server):
    with LocalServer({"/there": (200, HTML, "there")}) as other:
        server.routes["/here"] = (302, {"Location": other.url("/there")}, b"")
        fetch(server.url("/here"), settings=FAST, headers={"Authorization": "Bearer s3cret", "If-None-Match": '"v1"'})
        assert server.requests[0].headers["authorization"] == "Bearer s3cret"
        got = other.requests[0].headers
        assert "authorization" not in got and got["if-none-match"] == '"v1"'


def test_redirect_without_location_is_returned(server):
    server.routes["/nowhere"] = (302, {"Content-Type": "text/html"}, "moved?")
    r = fetch(server.url("/nowhere"), settings=FAST)
    assert r.status == 302 and r.final_url == server.url("/nowhere")


# --------------------------------------------------------------------------- content types


@pytest.mark.parametrize("ctype", ["application/pdf", "image/png", "application/octet-stream", "video/mp4", "application/zip"])
def test_other_content_types_are_refused_before_the_body(server, ctype):
    gate = threading.Event()

    def binary(_req):
        def chunks():
            gate.wait(5)  # the body would only come after 5 s: a read would time out first
            yield b"%PDF-1.7"
        return 200, {"Content-Type": ctype}, chunks()

    server.routes["/bin"] = binary
    s = FetchSettings(allow_private=True, per_host_delay=0, read_timeout=1.0)
    try:
        with pytest.raises(FetchError, match=rf"^unsupported content type {ctype}: http") as e:
            fetch(server.url("/bin"), settings=s)
    finally:
        gate.set()
    one_line(e.value)


@pytest.mark.parametrize("ctype", ["text/html", "TEXT/HTML; charset=ISO-8859-1", "application/rss+xml", "application/atom+xml",
                                   "application/xml", "text/xml", "text/plain", "application/xhtml+xml", "application/feed+json", None])
def test_page_and_feed_content_types_are_accepted(server, ctype):
    headers = {"Content-Type": ctype} if ctype else {}
    server.routes["/doc"] = (200, headers, "<x/>")
    r = fetch(server.url("/doc"), settings=FAST)
    assert r.content == b"<x/>"
    assert r.content_type == (ctype.split(";")[0].lower() if ctype else None)


# --------------------------------------------------------------------------- statuses


@pytest.mark.parametrize("status", [404, 410, 429, 500, 503])
def test_error_statuses_are_returned_by_fetch_and_raised_by_fetch_page(server, status):
    server.routes["/e"] = (status, {"Content-Type": "text/html", "Retry-After": "120"}, "<h1>no</h1>")
    r = fetch(server.url("/e"), settings=FAST)
    assert r.status == status and r.content == b"<h1>no</h1>"
    assert parse_retry_after(r.headers.get("retry-after")) == 120.0
    with pytest.raises(FetchError, match=rf"^HTTP {status} [A-Z].*: http://127\.0\.0\.1:\d+/e$") as e:
        fetch_page(server.url("/e"), settings=FAST)
    one_line(e.value)


def test_error_page_of_another_type_is_returned_not_refused(server):
    server.routes["/e"] = (404, {"Content-Type": "application/pdf"}, b"%PDF")
    assert fetch(server.url("/e"), settings=FAST).status == 404


def test_conditional_headers_pass_through_and_304_is_returned(server):
    def conditional(req):
        if req.headers.get("if-none-match") == '"abc"' or req.headers.get("if-modified-since"):
            return 304, {"ETag": '"abc"'}, b""
        return 200, {"Content-Type": "application/rss+xml", "ETag": '"abc"'}, "<rss/>"

    server.routes["/feed"] = conditional
    with Fetcher(FAST) as f:
        first = f.fetch(server.url("/feed"))
        assert first.status == 200 and first.headers["etag"] == '"abc"'
        again = f.fetch(server.url("/feed"), headers={"If-None-Match": first.headers["etag"]})
        assert again.status == 304 and again.content == b""
        since = f.fetch(server.url("/feed"), headers={"If-Modified-Since": "Wed, 07 Aug 2024 10:00:00 GMT"})
        assert since.status == 304
        assert f.fetch_page(server.url("/feed"), headers={"If-None-Match": '"abc"'}).status == 304
    assert server.requests[2].headers["if-modified-since"] == "Wed, 07 Aug 2024 10:00:00 GMT"


# --------------------------------------------------------------------------- Retry-After


def test_parse_retry_after():
    now = datetime(2024, 8, 7, 10, 0, 0, tzinfo=timezone.utc)
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after(" 0 ") == 0.0
    assert parse_retry_after("Wed, 07 Aug 2024 10:02:30 GMT", now=now) == 150.0
    assert parse_retry_after("Wed, 07 Aug 2024 10:02:30 GMT", now=now.timestamp()) == 150.0
    assert parse_retry_after("Wed, 07 Aug 2024 09:00:00 GMT", now=now) == 0.0  # in the past
    for bad in (None, "", "soon", "-5", "1.5", "12 seconds", "9" * 40, "Wed, 99 Foo 2024 10:02:30 GMT"):
        assert parse_retry_after(bad, now=now) is None, bad


# --------------------------------------------------------------------------- text()


def _resp(content: bytes, encoding=None) -> Response:
    return Response(url="u", final_url="u", status=200, headers={}, content=content, content_type="text/html",
                    encoding=encoding, permanent_redirect=None, elapsed=0.0)


def test_text_never_raises_on_invalid_utf8():
    assert _resp(b"donn\xc3\xa9es \xff\xfe ok", "utf-8").text() == "données \ufffd\ufffd ok"
    assert _resp("données".encode("latin-1"), "utf-8").text() == "données"  # declared UTF-8, really Latin-1
    assert _resp("données".encode("utf-8"), "iso-8859-1").text() == "données"  # declared Latin-1, really UTF-8
    assert _resp("données".encode("cp1252"), None).text() == "données"
    assert _resp("données".encode("cp1252"), "no-such-charset").text() == "données"
    assert _resp(b'<meta charset="windows-1252"><p>\xe9t\xe9 \x80</p>').text() == '<meta charset="windows-1252"><p>été €</p>'
    assert _resp(b"\xef\xbb\xbfbom").text() == "bom"
    assert _resp("Été".encode("utf-16")).text() == "Été"
    assert _resp(b"").text() == ""
    assert isinstance(_resp(bytes(range(256)) * 4, "utf-8").text(), str)


def test_text_of_a_fetched_latin1_page(server):
    server.routes["/l1"] = (200, {"Content-Type": "text/html; charset=ISO-8859-1"}, "Fuite de données à Montréal".encode("latin-1"))
    r = fetch(server.url("/l1"), settings=FAST)
    assert r.text() == "Fuite de données à Montréal"


# --------------------------------------------------------------------------- throttle


def test_host_throttle_spaces_requests_per_host():
    clock = [100.0]
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        clock[0] += s

    t = HostThrottle(1.0, clock=lambda: clock[0], sleep=sleep)
    assert t.wait("a.example") == 0
    assert t.wait("b.example") == 0  # another host: no wait
    assert t.wait("A.example") == pytest.approx(1.0)  # same host (case-insensitive)
    clock[0] += 5
    assert t.wait("a.example") == 0
    assert slept == [pytest.approx(1.0)]


def test_fetcher_waits_between_two_requests_to_one_host(server):
    server.routes["/a"] = (200, HTML, "a")
    s = FetchSettings(allow_private=True, per_host_delay=0.3)
    with Fetcher(s) as f:
        f.fetch(server.url("/a"))
        f.fetch(server.url("/a"))
    first, second = server.requests
    assert second.time - first.time >= 0.25


# --------------------------------------------------------------------------- broken servers (raw sockets)


class RawServer:
    """Accepts connections on 127.0.0.1 and writes whatever ``reply`` yields, ignoring the request."""

    def __init__(self, reply):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.sock.settimeout(5)
        self.port = self.sock.getsockname()[1]
        self.reply = reply
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        with conn:
            try:
                conn.recv(65536)
                for chunk in self.reply():
                    conn.sendall(chunk)
            except OSError:
                pass

    def close(self):
        self.sock.close()
        self.thread.join(5)


@pytest.mark.parametrize("name,reply", [
    ("endless headers", lambda: [b"HTTP/1.1 200 OK\r\n"] + [b"X-Filler: " + b"a" * 1000 + b"\r\n"] * 2000),
    ("not http", lambda: [b"SSH-2.0-OpenSSH_9.6\r\n" * 10]),
    ("short body", lambda: [b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 1000\r\n\r\nonly this"]),
    ("bad status", lambda: [b"HTTP/1.1 2000000 OK\r\n\r\n"]),
    ("closed at once", lambda: []),
])
def test_broken_servers_give_one_line_errors(name, reply):
    srv = RawServer(reply)
    try:
        with pytest.raises(FetchError) as e:
            fetch(f"http://127.0.0.1:{srv.port}/x", settings=FAST)
        assert f"127.0.0.1:{srv.port}/x" in one_line(e.value)
    finally:
        srv.close()


def test_tls_certificates_are_verified(tmp_path):
    """A self-signed certificate is refused: verification is on, with the URL's host name."""
    import shutil
    import ssl
    import subprocess

    if not shutil.which("openssl"):
        pytest.skip("openssl command not available")
    key, cert = tmp_path / "k.pem", tmp_path / "c.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(cert), str(key))
    raw = socket.socket()
    raw.bind(("127.0.0.1", 0))
    raw.listen(2)
    raw.settimeout(5)
    port = raw.getsockname()[1]

    def serve():
        try:
            conn, _ = raw.accept()
            with ctx.wrap_socket(conn, server_side=True) as tls:
                tls.recv(1024)
        except (OSError, ssl.SSLError):
            pass

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        with pytest.raises(FetchError, match=rf"^cannot connect to https://127\.0\.0\.1:{port}/: TLS certificate verification failed$"):
            fetch(f"https://127.0.0.1:{port}/", settings=FAST)
    finally:
        raw.close()
        t.join(5)
