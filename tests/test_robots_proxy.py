"""robots.txt for page fetches (cached per site, the opt-outs, a disallowed page never fetched) and the proxy
(asked for only: --proxy / INCIDENTS_PROXY; HTTP_PROXY never changes a fetch), against servers on 127.0.0.1."""

from __future__ import annotations

import socket
import sqlite3
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "ingest"))

from ingest_helpers import StubExtractor, feeds_toml, install_site  # noqa: E402
from localserver import LocalServer  # noqa: E402

from extractor.errors import FetchError, InputError  # noqa: E402
from extractor.fetch import FetchSettings, Fetcher  # noqa: E402
from extractor.netguard import check_resolved, proxy_url  # noqa: E402
from extractor.robots import RobotsPolicy, RobotsUnavailable  # noqa: E402
from extractor.store import Store  # noqa: E402
from pipelines.feedlist import load_feed_list  # noqa: E402
from pipelines.ingest import Ingestor  # noqa: E402

LOCAL = FetchSettings(allow_private=True, per_host_delay=0.0, read_timeout=2.0, total_timeout=5.0)
NO_NEWS = "User-agent: incidents-extractor\nDisallow: /news/\n\nUser-agent: *\nDisallow:\n"


def robots_route(text: str, status: int = 200):
    return (status, {"Content-Type": "text/plain"}, text.encode())


def test_policy_reads_robots_once_per_site_and_matches_our_agent():
    with LocalServer({"/robots.txt": robots_route(NO_NEWS)}) as srv, Fetcher(LOCAL) as f:
        policy = RobotsPolicy(f)
        assert policy.agent == "incidents-extractor"
        no = policy.check(srv.url("/news/a.html"))
        assert not no.allowed and "disallowed by" in no.reason and "robots.txt" in no.reason
        assert policy.check(srv.url("/fr/b.html")).allowed
        assert len(srv.requests_to("/robots.txt")) == 1  # cached


def test_policy_cache_expires(monkeypatch):
    now = [0.0]
    with LocalServer({"/robots.txt": robots_route(NO_NEWS)}) as srv, Fetcher(LOCAL) as f:
        policy = RobotsPolicy(f, clock=lambda: now[0])
        policy.check(srv.url("/x"))
        now[0] += 86400 + 1
        policy.check(srv.url("/x"))
        assert len(srv.requests_to("/robots.txt")) == 2


def test_no_robots_allows_and_a_5xx_makes_pages_wait():
    with LocalServer({}) as srv, Fetcher(LOCAL) as f:  # 404
        assert RobotsPolicy(f).check(srv.url("/news/a.html")).allowed
    with LocalServer({"/robots.txt": robots_route("oops", 503)}) as srv, Fetcher(LOCAL) as f:
        with pytest.raises(RobotsUnavailable, match="HTTP 503"):
            RobotsPolicy(f).check(srv.url("/news/a.html"))


def test_robots_is_fetched_through_the_address_guard():
    with LocalServer({"/robots.txt": robots_route(NO_NEWS)}) as srv, \
            Fetcher(FetchSettings(allow_private=False, per_host_delay=0.0)) as f:
        with pytest.raises(RobotsUnavailable, match="refused address 127.0.0.1"):
            RobotsPolicy(f).check(srv.url("/news/a.html"))
        assert srv.requests_to("/robots.txt") == []


def _ingest(tmp_path, srv, feeds_text, **kwargs):
    path = tmp_path / "feeds.toml"
    path.write_text(feeds_text)
    db = tmp_path / "r.db"
    with Store(db) as store, Fetcher(LOCAL) as fetcher:
        summary = Ingestor(store, load_feed_list(path), fetcher, StubExtractor, log=lambda m: None, **kwargs).run()
    conn = sqlite3.connect(str(db))
    conn.row_factory = sqlite3.Row
    items = [dict(r) for r in conn.execute("SELECT url, status, last_error FROM items")]
    conn.close()
    return summary, items


def test_a_disallowed_page_is_skipped_with_its_reason_and_never_fetched(tmp_path):
    with LocalServer() as srv:
        install_site(srv)
        srv.routes["/robots.txt"] = robots_route(NO_NEWS)
        summary, items = _ingest(tmp_path, srv, feeds_toml(srv))
        news = [i for i in items if "/news/" in i["url"]]
        assert news and all(i["status"] == "gone" and "robots.txt" in i["last_error"] for i in news)
        assert srv.requests_to("/news/maple-breach.html") == []
        assert all(i["status"] == "done" for i in items if "/news/" not in i["url"])
        assert summary.items_disallowed == len(news) and "skipped by robots.txt" in summary.line()
        assert summary.errors == 0


@pytest.mark.parametrize("how", ["per-feed", "ignore"])
def test_the_opt_outs_fetch_the_page_anyway(tmp_path, how):
    with LocalServer() as srv:
        install_site(srv)
        srv.routes["/robots.txt"] = robots_route(NO_NEWS)
        text = feeds_toml(srv)
        if how == "per-feed":
            text = text.replace('language = "en"', 'language = "en"\nrobots = false')
            summary, items = _ingest(tmp_path, srv, text)
        else:
            summary, items = _ingest(tmp_path, srv, text, robots=False)
            assert srv.requests_to("/robots.txt") == []
        assert srv.requests_to("/news/maple-breach.html")
        assert {i["status"] for i in items} == {"done"}


def test_proxy_is_used_only_when_asked(monkeypatch):
    with LocalServer({"/page": (200, {"Content-Type": "text/plain"}, b"via proxy")}) as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.base_url)
        monkeypatch.setenv("http_proxy", proxy.base_url)
        monkeypatch.delenv("INCIDENTS_PROXY", raising=False)
        with Fetcher(FetchSettings(per_host_delay=0.0, connect_timeout=2.0)) as f:
            assert f.proxy is None  # the environment's HTTP_PROXY changes nothing
            with pytest.raises(FetchError):
                f.fetch("http://proxied.invalid/page")
        assert proxy.requests == []
        monkeypatch.setenv("INCIDENTS_PROXY", proxy.base_url)
        with Fetcher(FetchSettings(per_host_delay=0.0, connect_timeout=2.0)) as f:
            resp = f.fetch("http://proxied.invalid/page")
        assert resp.status == 200 and resp.content == b"via proxy"
        assert proxy.requests[-1].headers["host"] == "proxied.invalid"


def test_an_empty_proxy_setting_forces_a_direct_connection(monkeypatch):
    monkeypatch.setenv("INCIDENTS_PROXY", "http://127.0.0.1:9")
    with Fetcher(FetchSettings(proxy="")) as f:
        assert f.proxy is None
    with Fetcher(FetchSettings()) as f:
        assert f.proxy == "http://127.0.0.1:9"


def test_behind_a_proxy_the_guard_still_checks_the_url_and_the_name():
    with LocalServer({}) as proxy:
        with Fetcher(FetchSettings(per_host_delay=0.0, proxy=proxy.base_url)) as f:
            with pytest.raises(FetchError, match="refused address 10.0.0.1"):
                f.fetch("http://10.0.0.1/")
            with pytest.raises(FetchError, match="refused address"):
                f.fetch("http://localhost/")
        assert proxy.requests == []


def test_check_resolved_refuses_a_name_that_resolves_to_a_private_address(monkeypatch):
    def fake(host, port, *a, **k):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("192.168.1.5", port))]

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    with pytest.raises(FetchError, match="refused address 192.168.1.5"):
        check_resolved("http://intranet.example/", 2.0)


@pytest.mark.parametrize("value", ["socks5://127.0.0.1:1080", "127.0.0.1:3128", "http://"])
def test_a_bad_proxy_url_is_an_input_error(value):
    with pytest.raises(InputError, match="bad proxy URL"):
        proxy_url(value)


def test_cli_bad_proxy_is_one_line(tmp_path, capsys):
    from pipelines.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["ingest", "--proxy", "socks5://x:1", "--db", str(tmp_path / "x.db")])
    err = capsys.readouterr().err
    assert exit_.value.code == 3 and err.count("\n") == 1 and "bad proxy URL" in err
