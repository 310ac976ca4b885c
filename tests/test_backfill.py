"""`incidents backfill` on a Dask LocalCluster of 2 worker processes, over WARC files built here.

The pages are the demo's own articles (French and English, breaches and ordinary news). The
archives hold, besides them: request, metadata and warcinfo records, a non-HTML response, a 404, a
truncated record, and a corrupt gzip member. One cluster serves the whole module; the CLI reaches
it with --scheduler (the real-cluster path), the kill test drives the library in a thread.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import re
import shutil
import signal
import threading
import time
import uuid
from pathlib import Path

import pytest

pytest.importorskip("distributed")
pytest.importorskip("warcio")

from warcio.archiveiterator import ArchiveIterator  # noqa: E402
from warcio.statusandheaders import StatusAndHeaders  # noqa: E402
from warcio.warcwriter import WARCWriter  # noqa: E402

from extractor.backfill import find_archives, plan_archive, read_partition  # noqa: E402
from extractor.cli import main  # noqa: E402

ARTICLES = Path(__file__).resolve().parent.parent / "pipelines" / "demo" / "articles"
BREACHES = ["port-aubert-cyberattaque", "quebec-oqbe-incident-cnw", "hartwell-health-privacy-breach",
            "lakehead-credit-union-breach"]
ORDINARY = ["council-budget-vote", "festival-lumieres-programmation-cnw", "hockey-remontada-remparts",
            "tempete-neige-quebec"]


def _rid(tag: str) -> str:
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, tag)}"


def _page(name: str) -> bytes:
    return (ARTICLES / f"{name}.html").read_bytes()


def _url(name: str) -> str:
    return f"https://news.example/{name}"


def write_warc(path: Path, items: list, *, gz: bool) -> list[int]:
    """Write records; `items`: ("page", name, tag) | ("png",) | ("metadata",) | ("404",). Returns record offsets."""
    with open(path, "wb") as fh:
        w = WARCWriter(fh, gzip=gz)
        offsets = [fh.tell()]
        w.write_record(w.create_warcinfo_record(path.name, {"software": "tests"}))
        for item in items:
            if item[0] == "page":
                _, name, tag = item
                offsets.append(fh.tell())
                w.write_record(w.create_warc_record(_url(name), "request", payload=io.BytesIO(b"GET / HTTP/1.1\r\n\r\n"),
                                                    warc_headers_dict={"Content-Type": "application/http; msgtype=request"}))
                hh = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
                offsets.append(fh.tell())
                w.write_record(w.create_warc_record(_url(name), "response", payload=io.BytesIO(_page(name)), http_headers=hh,
                                                    warc_headers_dict={"WARC-Record-ID": f"<{_rid(tag)}>"}))
            elif item[0] == "png":
                hh = StatusAndHeaders("200 OK", [("Content-Type", "image/png")], protocol="HTTP/1.1")
                offsets.append(fh.tell())
                w.write_record(w.create_warc_record("https://news.example/logo.png", "response",
                                                    payload=io.BytesIO(b"\x89PNG\r\n\x1a\n" + bytes(200)), http_headers=hh))
            elif item[0] == "metadata":
                offsets.append(fh.tell())
                w.write_record(w.create_warc_record("https://news.example/", "metadata", payload=io.BytesIO(b"via: tests\r\n"),
                                                    warc_headers_dict={"Content-Type": "application/warc-fields"}))
            elif item[0] == "404":
                hh = StatusAndHeaders("404 Not Found", [("Content-Type", "text/html")], protocol="HTTP/1.1")
                offsets.append(fh.tell())
                w.write_record(w.create_warc_record("https://news.example/gone", "response",
                                                    payload=io.BytesIO(b"<html><body>Not found</body></html>"), http_headers=hh))
        offsets.append(fh.tell())
    return offsets


def _truncate_last_record(path: Path) -> None:
    """Cut the file in the middle of its last record (a crawl that stopped while writing)."""
    with open(path, "rb") as fh:
        it = ArchiveIterator(fh)
        last = None
        for _rec in it:
            last = (it.get_record_offset(), it.get_record_length())
    data = path.read_bytes()
    path.write_bytes(data[: last[0] + last[1] // 2])


def _corrupt_member(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    for k in range(offset + 40, offset + 120):
        data[k] ^= 0x5A
    path.write_bytes(bytes(data))


def _run_cli(capsys, *argv) -> tuple[int, str]:
    """Run the CLI in this process: (exit code, standard error); standard output is in `_run_cli.out`."""
    with pytest.raises(SystemExit) as exc:
        main(list(argv))
    captured = capsys.readouterr()
    _run_cli.out = captured.out
    return exc.value.code, captured.err


def _records(directory: Path) -> list[dict]:
    out = []
    for q in sorted(directory.glob("*.jsonl")):
        out += [json.loads(line) for line in q.read_text(encoding="utf-8").splitlines() if line.strip()]
    return out


VOLATILE: tuple = ()  # a record carries no timestamp or host: every field must match


def _stable(records: list[dict]) -> list[str]:
    return sorted(json.dumps({k: v for k, v in r.items() if k not in VOLATILE}, sort_keys=True) for r in records)


# -- the archives, the expected records, the cluster ---------------------------------------------


@pytest.fixture(scope="module")
def archives(tmp_path_factory):
    d = tmp_path_factory.mktemp("archives")
    pages_a = [("page", n, f"a/{n}") for n in (BREACHES[0], ORDINARY[0], BREACHES[2], ORDINARY[1])]
    pages_b = [("page", n, f"b/{n}") for n in (BREACHES[1], ORDINARY[2], BREACHES[3], ORDINARY[3])]
    # a: gzip, a non-HTML response and a metadata record, then a page cut off by the end of the file
    write_warc(d / "news-a.warc.gz", pages_a + [("png",), ("metadata",), ("page", BREACHES[1], "a/cut")], gz=True)
    _truncate_last_record(d / "news-a.warc.gz")
    # b: plain WARC, a 404 page, then a truncated record
    write_warc(d / "news-b.warc", pages_b + [("404",), ("page", ORDINARY[0], "b/cut")], gz=False)
    _truncate_last_record(d / "news-b.warc")
    # c: gzip with one corrupt member (the second page's response) among good ones
    items_c = [("page", BREACHES[2], "c/1"), ("page", BREACHES[0], "c/corrupt"), ("page", ORDINARY[1], "c/3")]
    offsets = write_warc(d / "news-c.warc.gz", items_c, gz=True)
    _corrupt_member(d / "news-c.warc.gz", offsets[4])  # warcinfo, request, response, request, [response]
    # a JSONL document dump, as `extract --docs` reads it (a bad line included)
    dump = [{"id": "dump-1", "url": _url("dump-1"), "html": _page(BREACHES[3]).decode("utf-8")},
            {"id": "dump-2", "text": "Le conseil municipal a adopté son budget hier soir après un long débat.",
             "published": "2025-02-12"}]
    (d / "dump.jsonl").write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in dump) + "\n{not json\n", encoding="utf-8")
    good = [it for it in pages_a + pages_b] + [items_c[0], items_c[2]]
    docs = [{"id": _rid(tag), "url": _url(name), "html": _page(name).decode("utf-8")} for _, name, tag in good]
    (d / "warc-pages.jsonl").write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in docs) + "\n", encoding="utf-8")
    return d


@pytest.fixture(scope="module")
def expected(archives, tmp_path_factory):
    """What `incidents extract --docs` writes for the same pages and the same dump."""
    d = tmp_path_factory.mktemp("expected")
    for src in ("warc-pages.jsonl", "dump.jsonl"):
        with pytest.raises(SystemExit) as exc:
            main(["extract", "--docs", str(archives / src), "--output", str(d / src)])
        assert exc.value.code == 0
    return _records(d)


@pytest.fixture(scope="module")
def cluster():
    from distributed import Client, LocalCluster

    from extractor.backfill.tasks import ExtractorPlugin

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0",
                      silence_logs=logging.ERROR) as lc, Client(lc, set_as_default=False) as client:
        client.register_plugin(ExtractorPlugin(languages="all"))  # pipelines loaded before the first task
        yield client


@pytest.fixture(scope="module")
def first_run(archives, cluster, tmp_path_factory):
    out = tmp_path_factory.mktemp("out") / "records"
    argv = ["backfill", str(archives / "news-a.warc.gz"), str(archives / "news-b.warc"), str(archives / "news-c.warc.gz"),
            str(archives / "dump.jsonl"), "--output", str(out), "--scheduler", cluster.scheduler.address,
            "--partition-docs", "3"]
    err = io.StringIO()
    with contextlib.redirect_stderr(err), pytest.raises(SystemExit) as exc:
        main(argv)
    return out, argv, exc.value.code, err.getvalue()


# -- tests -----------------------------------------------------------------------------------------


@pytest.mark.slow
def test_backfill_gives_the_records_of_extract_docs(first_run, expected):
    out, _argv, code, err = first_run
    assert code == 0, err
    got = _records(out)
    assert _stable(got) == _stable(expected)
    langs = {r["source"]["language"] for r in got if r["is_incident"]}
    assert langs == {"fr", "en"}  # breaches of both languages found
    assert sum(r["is_incident"] for r in got) >= 4 and sum(not r["is_incident"] for r in got) >= 4
    # partitions are bounded: 3 documents at most, each archive cut in several
    parts = sorted(q.name for q in out.glob("*.jsonl"))
    assert all(len(q.read_text().splitlines()) <= 3 for q in out.glob("*.jsonl"))
    assert sum(name.startswith("news-a-") for name in parts) >= 2
    # skipped records, by kind, and the damage named by archive; the rest of that archive is there
    skipped = re.search(r"archive records skipped: (.*)", err).group(1)
    assert skipped == "metadata 1, non_html 1, not_ok 1, request 13, truncated 2, warcinfo 3", skipped
    assert re.search(r"warning: \S*news-c\.warc\.gz: 1 damaged record skipped \(first at byte [\d,]+: corrupt", err), err
    assert re.search(r"warning: \S*news-a\.warc\.gz: 1 truncated record skipped", err), err
    assert re.search(r"warning: \S*news-b\.warc: 1 truncated record skipped", err), err
    assert {r["source"]["id"] for r in got} >= {_rid("c/1"), _rid("c/3")}
    assert "Dask dashboard:" in err and "Traceback" not in err
    assert not list(out.glob(".*.tmp"))


@pytest.mark.slow
def test_second_run_does_nothing(first_run, capsys):
    out, argv, code, _err = first_run
    assert code == 0
    before = {q.name: (q.stat().st_mtime_ns, q.read_bytes()) for q in out.glob("*.jsonl")}
    manifest = (out / "_backfill" / "manifest.jsonl").read_bytes()
    code, err = _run_cli(capsys, *argv)
    assert code == 0, err
    assert re.search(r"nothing to do: all (\d+) partitions of 4 archives", err), err
    assert int(re.search(r"all (\d+) partitions", err).group(1)) == len(before)
    assert {q.name: (q.stat().st_mtime_ns, q.read_bytes()) for q in out.glob("*.jsonl")} == before
    assert (out / "_backfill" / "manifest.jsonl").read_bytes() == manifest


@pytest.mark.slow
def test_half_written_partition_is_redone(first_run, tmp_path, capsys):
    src, argv, _code, _err = first_run
    out = tmp_path / "records"
    shutil.copytree(src, out)
    victim = sorted(out.glob("news-b-*.jsonl"))[0]
    content = victim.read_bytes()
    victim.unlink()
    stale = out / f".{victim.name}.99999.abcdef01.tmp"  # what a stopped run leaves
    stale.write_bytes(content[: len(content) // 2])
    argv = [a if a != str(src) else str(out) for a in argv]
    code, err = _run_cli(capsys, *argv)
    assert code == 0, err
    assert "(1 written now" in err, err
    assert victim.read_bytes() == content and not stale.exists()


@pytest.mark.slow
def test_corrupt_archive_is_reported_by_name_and_the_rest_done(archives, cluster, tmp_path, capsys):
    garbage = tmp_path / "broken.warc.gz"
    garbage.write_bytes(b"\x1f\x8b\x08" + bytes(range(256)) * 12)
    (tmp_path / "empty.warc.gz").write_bytes(b"")
    dump = tmp_path / "ordinary.jsonl"
    dump.write_text(json.dumps({"id": "o1", "text": "Hockey : les Remparts l'emportent 4 à 2 au Centre Vidéotron."}) + "\n",
                    encoding="utf-8")
    out = tmp_path / "out"
    code, err = _run_cli(capsys, "backfill", str(garbage), str(tmp_path / "empty.warc.gz"), str(dump), "-o", str(out),
                         "--scheduler", cluster.scheduler.address)
    assert code == 3, err
    assert re.search(r"warning: \S*empty\.warc\.gz: no document in this archive", err), err
    assert re.search(r"failed: archive \S*broken\.warc\.gz: no readable record", err), err
    assert err.strip().splitlines()[-1].startswith("incidents: error: 1 of the backfill's tasks failed")
    assert [r["source"]["id"] for r in _records(out)] == ["o1"]
    assert "Traceback" not in err


@pytest.mark.slow
def test_failing_task_is_retried_then_reported(archives, cluster, tmp_path):
    from extractor.backfill.runner import BackfillOptions, run_backfill

    gone = tmp_path / "gone.jsonl"
    gone.write_text(json.dumps({"id": "g1", "text": "Météo : neige sur Québec ce matin."}) + "\n", encoding="utf-8")
    kept = tmp_path / "kept.jsonl"
    kept.write_text(json.dumps({"id": "k1", "text": "La saison de ski commence samedi au mont Sainte-Anne."}) + "\n",
                    encoding="utf-8")
    found = find_archives([str(gone), str(kept)])
    gone.unlink()  # the archive goes away after the run started: its task raises on every attempt
    summary = run_backfill(found, tmp_path / "out", cluster, BackfillOptions(retries=1))
    assert [f["archive"] for f in summary.failures] == [str(gone)]
    assert "FileNotFoundError" in summary.failures[0]["error"]
    assert [r["source"]["id"] for r in _records(tmp_path / "out")] == ["k1"]
    # a partition whose archive went away after it was planned: that partition fails, is logged, the run ends
    (done,) = (tmp_path / "out").glob("kept-*.jsonl")
    done.unlink()
    kept.unlink()
    summary = run_backfill(found, tmp_path / "out", cluster, BackfillOptions(retries=1))
    assert summary.failed == 1 and [f["partition"] for f in summary.failures if f["what"] == "partition"] == [done.stem]
    log = [json.loads(line) for line in (tmp_path / "out" / "_backfill" / "manifest.jsonl").read_text().splitlines()]
    assert log[-1]["event"] == "failed" and log[-1]["partition"] == done.stem


@pytest.mark.slow
def test_parquet_partitions_and_import_dir(first_run, archives, expected, cluster, tmp_path, capsys):
    import pyarrow.parquet as pq

    out = tmp_path / "pq"
    code, err = _run_cli(capsys, "backfill", str(archives / "dump.jsonl"), str(archives / "news-c.warc.gz"), "-o", str(out),
                         "--format", "parquet", "--scheduler", cluster.scheduler.address)
    assert code == 0, err
    files = sorted(out.glob("*.parquet"))
    assert files and not list(out.glob("*.jsonl"))
    rows = [row for q in files for row in pq.read_table(q).to_pylist()]
    want = {r["source"]["id"]: r for r in expected}
    for row in rows:
        rec = json.loads(row["record"])
        assert _stable([rec]) == _stable([want[rec["source"]["id"]]])
        assert row["is_incident"] == rec["is_incident"] and row["source_id"] == rec["source"]["id"]
    # import DIR: every partition, JSONL or Parquet, merged into incidents
    jsonl_dir = first_run[0]
    n_ok = sum(1 for r in _records(jsonl_dir) if not r.get("error"))
    code, err = _run_cli(capsys, "import", str(jsonl_dir), "--db", str(tmp_path / "a.db"))
    assert code == 0, err
    assert f"imported {n_ok} records" in _run_cli.out, _run_cli.out
    code, err = _run_cli(capsys, "import", str(out), "--db", str(tmp_path / "b.db"))
    assert code == 0, err
    assert f"imported {sum(1 for r in rows if not r['error'])} records" in _run_cli.out, _run_cli.out
    from extractor.store import Store

    with Store(tmp_path / "a.db") as store:
        n_reports = store.conn.execute("SELECT COUNT(*) FROM reports").fetchone()[0]
        n_incidents = store.conn.execute("SELECT COUNT(*) FROM incidents").fetchone()[0]
    assert n_reports == n_ok and 1 <= n_incidents <= 4


@pytest.mark.slow
def test_worker_killed_mid_partition_is_redone(archives, expected, cluster, tmp_path):
    """Last of the cluster tests: the worker it kills restarts without its pipelines loaded."""
    from extractor.backfill import OutputDir
    from extractor.backfill.runner import BackfillOptions, run_backfill

    items = [("page", n, f"kill/{n}/{k}") for k in range(2) for n in BREACHES]
    write_warc(tmp_path / "kill.warc.gz", items, gz=True)
    out = tmp_path / "out"
    result: dict = {}

    def run():
        try:
            result["summary"] = run_backfill(find_archives([str(tmp_path / "kill.warc.gz")]), out, cluster,
                                             BackfillOptions(max_docs=4))
        except BaseException as err:  # noqa: BLE001 - reported by the assertion below
            result["error"] = err

    worker_pids = set(cluster.run(os.getpid).values())
    t = threading.Thread(target=run)
    t.start()
    killed = None
    deadline = time.monotonic() + 120
    while killed is None and t.is_alive() and time.monotonic() < deadline:
        for q in out.glob(".kill-*.jsonl.*.tmp") if out.exists() else ():
            m = re.match(r"\.(kill-\w+-p\d+)\.jsonl\.(\d+)\.", q.name)
            if m and int(m.group(2)) in worker_pids:
                killed = (m.group(1), int(m.group(2)))
                os.kill(killed[1], signal.SIGKILL)
                break
        time.sleep(0.02)
    t.join(300)
    assert killed is not None, "no partition was seen in progress"
    assert "error" not in result, result.get("error")
    summary = result["summary"]
    assert summary.failed == 0 and not summary.failures and summary.done == summary.partitions == 2
    done = OutputDir(out).done_figures()
    assert done[killed[0]]["pid"] != killed[1]  # redone by another worker process
    assert (out / f"{killed[0]}.jsonl").exists() and not list(out.glob(".*.tmp"))
    by_url = {r["source"]["url"]: r for r in expected if r["source"].get("url")}
    got = _records(out)
    assert len(got) == len(items)
    for r in got:
        want = dict(by_url[r["source"]["url"]])
        want["source"] = {**want["source"], "id": r["source"]["id"]}
        assert _stable([r]) == _stable([want])


# -- without a cluster: archives read directly, and the errors a user can make ---------------------


def test_plan_and_read_a_damaged_gzip_warc(archives):
    arch = {a.path: a for a in find_archives([str(archives)])}
    c = next(a for p, a in arch.items() if p.endswith("news-c.warc.gz"))
    plan = plan_archive(c.to_dict(), 1, 1 << 30)
    assert plan["damaged"] == 1 and "gzip" in plan["damage"][0]["reason"]
    ids = [d["id"] for p in plan["partitions"] for d in read_partition(c.to_dict(), p, {})]
    assert ids == [_rid("c/1"), _rid("c/3")]
    a = next(a for p, a in arch.items() if p.endswith("news-a.warc.gz"))
    plan = plan_archive(a.to_dict(), 100, 1 << 30)
    assert plan["skipped"].get("truncated") == 1 and plan["skipped"].get("non_html") == 1
    assert sum(p["docs"] for p in plan["partitions"]) == 4


def test_gzip_jsonl_dump_partitions_by_lines(tmp_path):
    import gzip

    lines = [json.dumps({"id": f"d{i}", "text": f"texte {i}"}) for i in range(7)]
    path = tmp_path / "dump.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write("\n".join(lines[:3]) + "\n\n" + "\n".join(lines[3:]) + "\n")
    (arch,) = find_archives([str(path)])
    plan = plan_archive(arch.to_dict(), 3, 1 << 30)
    assert [p["docs"] for p in plan["partitions"]] == [3, 3, 1]
    ids = [d["id"] for p in plan["partitions"] for d in read_partition(arch.to_dict(), p, {})]
    assert ids == [f"d{i}" for i in range(7)]


def test_user_errors_are_one_line(archives, tmp_path, capsys):
    a = str(archives / "dump.jsonl")
    cases = [
        (["backfill", str(tmp_path / "missing.warc.gz"), "-o", str(tmp_path / "o")], 3, "no such archive"),
        (["backfill", str(ARTICLES / "council-budget-vote.html"), "-o", str(tmp_path / "o")], 3, "neither a WARC file"),
        (["backfill", a, "-o", str(archives / "dump.jsonl")], 3, "not a directory"),
        (["backfill", a, "-o", str(archives / "dump.jsonl" / "sub")], 3, "cannot write to"),
        (["backfill", a, "-o", str(tmp_path / "o"), "--scheduler", "tcp://no such host"], 3, "bad scheduler address"),
        (["backfill", a, "-o", str(tmp_path / "o"), "--scheduler", "tcp://127.0.0.1:9", "--workers", "2"], 2, "--workers"),
        (["backfill", a, "-o", str(tmp_path / "o2"), "--scheduler", "tcp://127.0.0.1:9", "--timeout", "1"], 4,
         "cannot reach the Dask scheduler at tcp://127.0.0.1:9"),
    ]
    for argv, want_code, message in cases:
        code, err = _run_cli(capsys, *argv)
        lines = err.strip().splitlines()
        assert code == want_code and len(lines) == 1 and message in lines[0], (argv, code, err)


def test_options_and_lock_of_the_output_dir(archives, tmp_path, capsys):
    from extractor.backfill import OutputDir

    out = tmp_path / "o"
    with OutputDir(out, "jsonl", {"prefilter": True, "incidents_only": False}):
        code, err = _run_cli(capsys, "backfill", str(archives / "dump.jsonl"), "-o", str(out))
        assert code == 5 and "another backfill is writing" in err, err
    code, err = _run_cli(capsys, "backfill", str(archives / "dump.jsonl"), "-o", str(out), "--format", "parquet")
    assert code == 3 and "was written with other options (format='jsonl'" in err, err
