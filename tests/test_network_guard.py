"""The network guard: private hosts refused before any byte is sent, every hop checked.

Traffic only ever goes to 127.0.0.1. Every other range is tested on is_public_address and
check_url directly, which never touch the network; DNS answers are simulated by replacing
getaddrinfo inside extractor.fetch.
"""

from __future__ import annotations

import socket

import pytest

try:
    from localserver import LocalServer
except ImportError:  # tests/ imported as a package
    from tests.localserver import LocalServer

import extractor.fetch as fetch_mod
import extractor.netguard as guard_mod
from extractor.errors import FetchError
from extractor.fetch import FetchSettings, Fetcher, fetch
from extractor.netguard import check_url, is_public_address

STRICT = FetchSettings(allow_private=False, per_host_delay=0.0, connect_timeout=2.0, read_timeout=2.0)
OPEN = FetchSettings(allow_private=True, per_host_delay=0.0, connect_timeout=2.0, read_timeout=2.0)
OK = (200, {"Content-Type": "text/html"}, "secret intranet page")


@pytest.fixture(autouse=True)
def no_env_override(monkeypatch):
    monkeypatch.delenv("INCIDENTS_ALLOW_PRIVATE", raising=False)


@pytest.fixture
def server():
    with LocalServer({"/": OK, "/a": OK}) as srv:
        yield srv


def fake_dns(monkeypatch, answers: dict, calls: list | None = None):
    """Make extractor.fetch resolve names from ``answers`` (name -> list of IPs)."""
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if calls is not None:
            calls.append(host)
        if host in answers:
            out = []
            for ip in answers[host]:
                fam = socket.AF_INET6 if ":" in ip else socket.AF_INET
                addr = (ip, port, 0, 0) if fam == socket.AF_INET6 else (ip, port)
                out.append((fam, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", addr))
            return out
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(guard_mod.socket, "getaddrinfo", getaddrinfo)


def _is_ip(host: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


# --------------------------------------------------------------------------- live refusals (127.0.0.1 only)


def test_loopback_ip_is_refused_before_any_byte_is_sent(server):
    with pytest.raises(FetchError) as e:
        fetch(server.url("/a"), settings=STRICT)
    assert str(e.value) == (f"refused address 127.0.0.1 for {server.url('/a')} (private hosts are not allowed; "
                            "set INCIDENTS_ALLOW_PRIVATE=1 or --allow-private)")
    assert server.requests == []


def test_localhost_name_is_refused(server):
    with pytest.raises(FetchError, match=r"^refused address .* for http://localhost:\d+/a "):
        fetch(f"http://localhost:{server.port}/a", settings=STRICT)
    assert server.requests == []


@pytest.mark.parametrize("host", ["127.1", "2130706433", "0x7f.0.0.1", "017700000001", "[::ffff:127.0.0.1]", "127.0.0.1.", "LOCALHOST", "app.localhost"])
def test_other_spellings_of_loopback_are_refused(server, host):
    with pytest.raises(FetchError, match="^refused address"):
        fetch(f"http://{host}:{server.port}/a", settings=STRICT)
    assert server.requests == []


def test_the_connect_time_check_refuses_on_its_own(server, monkeypatch):
    """Even if the URL check let a name through, the address connected to is checked."""
    monkeypatch.setattr(fetch_mod, "check_url", lambda url, *, allow_private: None)
    for url in (server.url("/a"), f"http://localhost:{server.port}/a"):
        with pytest.raises(FetchError, match="^refused address"):
            fetch(url, settings=STRICT)
    assert server.requests == []


def test_a_public_looking_name_resolving_to_a_private_address_is_refused(server, monkeypatch):
    """DNS rebinding: the name is only resolved once, by the guard, and its answer is checked."""
    calls: list = []
    fake_dns(monkeypatch, {"news.example.com": ["127.0.0.1"], "mixed.example.com": ["93.184.216.34", "127.0.0.1"],
                           "meta.example.com": ["169.254.169.254"], "v6.example.com": ["::1"]}, calls)
    for host in ("news.example.com", "mixed.example.com", "meta.example.com", "v6.example.com"):
        with pytest.raises(FetchError, match=rf"^refused address \S+ for http://{host}:\d+/a "):
            fetch(f"http://{host}:{server.port}/a", settings=STRICT)
    assert server.requests == []
    assert calls == ["news.example.com", "mixed.example.com", "meta.example.com", "v6.example.com"]


def test_the_connection_goes_to_the_checked_address_with_the_original_host(server, monkeypatch):
    calls: list = []
    fake_dns(monkeypatch, {"feeds.example.org": ["127.0.0.1"]}, calls)
    r = fetch(f"http://feeds.example.org:{server.port}/a", settings=OPEN)
    assert r.status == 200
    assert server.requests[0].headers["host"] == f"feeds.example.org:{server.port}"
    names = [h for h in calls if not _is_ip(h)]
    assert names == ["feeds.example.org"]  # resolved once; the socket is opened to the checked IP itself


def test_redirect_from_an_allowed_host_to_a_private_one_is_refused(server, monkeypatch):
    """127.0.0.1 plays the public site; every redirect target below is private."""
    monkeypatch.setattr(guard_mod, "is_public_address", lambda ip: ip == "127.0.0.1")
    fake_dns(monkeypatch, {"intranet.example.com": ["10.0.0.5"]})
    targets = {
        "/to-127-2": f"http://127.0.0.2:{server.port}/a",
        "/to-v6": f"http://[::1]:{server.port}/a",
        "/to-metadata": "http://169.254.169.254/latest/meta-data/",
        "/to-name": f"http://intranet.example.com:{server.port}/a",
        "/to-localhost": f"http://localhost:{server.port}/a",
    }
    for path, target in targets.items():
        server.routes[path] = (302, {"Location": target}, b"")
    for path in targets:
        with pytest.raises(FetchError, match="^refused address"):
            fetch(server.url(path), settings=STRICT)
    assert sorted(q.path for q in server.requests) == sorted(targets)  # only the first hops arrived


def test_allow_private_setting_and_environment(server, monkeypatch):
    assert fetch(server.url("/a"), settings=OPEN).status == 200
    monkeypatch.setenv("INCIDENTS_ALLOW_PRIVATE", "1")
    assert fetch(server.url("/a"), settings=STRICT).status == 200
    with Fetcher(STRICT) as f:
        assert f.allow_private and f.fetch(server.url("/a")).status == 200
    monkeypatch.setenv("INCIDENTS_ALLOW_PRIVATE", "0")
    with pytest.raises(FetchError, match="^refused address"):
        fetch(server.url("/a"), settings=STRICT)
    assert len(server.requests) == 3


# --------------------------------------------------------------------------- the decision function

PUBLIC = ["8.8.8.8", "1.1.1.1", "93.184.216.34", "172.32.0.1", "100.128.0.1", "2606:4700:4700::1111",
          "2001:4860:4860::8888", "64:ff9b::808:808"]
REFUSED = [
    "127.0.0.1", "127.255.255.254", "10.0.0.1", "10.255.255.255", "172.16.0.1", "172.31.255.255", "192.168.0.1",
    "192.168.255.255", "100.64.0.1", "100.127.255.255", "100.100.100.200", "169.254.0.1", "169.254.169.254",
    "0.0.0.0", "0.1.2.3", "224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255", "192.0.0.8", "192.0.2.1",
    "198.18.0.1", "198.51.100.7", "203.0.113.9",
    "::1", "::", "fc00::1", "fd00:ec2::254", "fe80::1", "fe80::1%eth0", "fec0::1", "ff02::1", "ff0e::1",
    "::ffff:127.0.0.1", "::ffff:10.0.0.1", "::ffff:169.254.169.254", "::ffff:8.8.8.8", "::127.0.0.1",
    "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe", "64:ff9b:1::a00:1", "2002:7f00:1::1", "2002:c0a8:101::1",
    "2001:0:4136:e378:8000:63bf:3fff:fdd2", "2001:db8::1", "100::1",
    "", "not-an-ip", "999.1.1.1", "1.2.3", None,
]


@pytest.mark.parametrize("ip", PUBLIC)
def test_public_addresses(ip):
    assert is_public_address(ip) is True


@pytest.mark.parametrize("ip", REFUSED)
def test_refused_addresses(ip):
    assert is_public_address(ip) is False


# --------------------------------------------------------------------------- check_url


@pytest.mark.parametrize("url", [
    "file:///etc/passwd", "FILE:///etc/passwd", "ftp://example.com/x", "data:text/html,<b>hi</b>",
    "javascript:alert(1)", "gopher://example.com/", "dict://example.com:11211/", "ldap://example.com/",
    "jar:http://example.com!/", "example.com/feed", "//example.com/feed", "feed://example.com/rss",
])
def test_schemes_other_than_http_are_refused_even_with_allow_private(url):
    for allow in (False, True):
        with pytest.raises(FetchError, match="^unsupported URL scheme") as e:
            check_url(url, allow_private=allow)
        assert "\n" not in str(e.value)


@pytest.mark.parametrize("url", ["", "   ", "http://", "http:///path", "https://:443/", "http://exa mple.com\n/x", "http://example.com:99999/", "http://example.com:0/"])
def test_malformed_urls_are_refused(url):
    with pytest.raises(FetchError, match="^invalid URL"):
        check_url(url, allow_private=True)


@pytest.mark.parametrize("url", [
    "http://127.0.0.1/", "http://127.0.0.1:8000/", "http://localhost:8000/", "http://localhost./", "http://api.localhost/",
    "http://10.0.0.1/", "http://192.168.1.1/admin", "http://169.254.169.254/latest/meta-data/", "http://100.64.0.1/",
    "http://0/", "http://0.0.0.0/", "http://2130706433/", "http://0x7f000001/", "http://0177.0.0.1/", "http://127.1/",
    "http://[::1]/", "http://[::]/", "http://[fd00::1]/", "http://[fe80::1%25eth0]/", "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/", "http://[64:ff9b::a9fe:a9fe]/", "http://user:pw@127.0.0.1/", "https://224.0.0.1/",
])
def test_private_literals_are_refused_without_any_lookup(url, monkeypatch):
    def no_dns(*a, **k):
        raise AssertionError("check_url must not resolve names")

    monkeypatch.setattr(guard_mod.socket, "getaddrinfo", no_dns)
    with pytest.raises(FetchError, match="^refused address .*INCIDENTS_ALLOW_PRIVATE=1"):
        check_url(url, allow_private=False)
    check_url(url, allow_private=True)  # allowed when asked for


@pytest.mark.parametrize("url", ["https://www.newswire.ca/rss/", "http://93.184.216.34/feed", "https://[2606:4700::1111]/x",
                                 "https://lapresse.ca/actualites/x.php?id=1#frag", "http://cafe.be/", "HTTPS://Example.COM/"])
def test_public_urls_pass_check_url(url, monkeypatch):
    monkeypatch.setattr(guard_mod.socket, "getaddrinfo", lambda *a, **k: pytest.fail("no lookup"))
    check_url(url, allow_private=False)


@pytest.mark.parametrize("url", ["http://exa mple.com/", "http://a<b.com/", "http://" + "a" * 300 + ".com/", "http://ex%41mple.com/"])
def test_bad_host_names_are_refused_without_any_lookup(url, monkeypatch):
    monkeypatch.setattr(guard_mod.socket, "getaddrinfo", lambda *a, **k: pytest.fail("no lookup"))
    with pytest.raises(FetchError, match="^invalid URL"):
        fetch(url, settings=STRICT)
