"""The real `incidents` command on bad input: one line on stderr, a documented exit code, never a traceback.

Each case runs ``python -m extractor`` in a subprocess, as a user would. The exit codes are
the ones documented in ``extractor/errors.py``.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from extractor.errors import FetchError, InputError

ROOT = Path(__file__).resolve().parents[1]
USAGE = 2  # click's own code for a usage error (errors.py)
INPUT = InputError.exit_code
NETWORK = FetchError.exit_code

GERMAN = (
    "Die Firma Müller GmbH hat heute bekannt gegeben, dass ein Hackerangriff auf ihre Server "
    "stattgefunden hat. Die Daten von mehreren tausend Kunden wurden gestohlen, sagte ein Sprecher "
    "am Montag in Berlin. Die Polizei ermittelt und die Datenschutzbehörde wurde informiert."
)
EN_BREACH = (
    "Northwind Dental said on Tuesday that hackers stole the personal information of 5,000 patients "
    "in a data breach discovered on March 3, 2024. Names and addresses were exposed."
)
FR_BREACH = (
    "Le Centre de services scolaire des Érables a été victime d'une cyberattaque qui a touché "
    "12 000 élèves. Des noms et des adresses ont été dérobés, a indiqué l'organisme."
)


def _env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "INCIDENTS_ALLOW_PRIVATE"}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


def run_cli(*args: str, stdin: bytes | None = None, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "extractor", *args],
        input=stdin if stdin is not None else b"",
        capture_output=True,
        cwd=ROOT,
        env=_env(),
        timeout=timeout,
    )


def decoded(proc) -> tuple[str, str]:
    return proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace")


def assert_one_error_line(proc, code: int) -> str:
    out, err = decoded(proc)
    assert "Traceback" not in out + err, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("incidents: error: "), err
    assert proc.returncode == code, (proc.returncode, err)
    assert out == "", out[:500]
    return lines[0]


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("cli")
    out = {}
    (out_empty := d / "empty.txt").write_bytes(b"")
    out["empty"] = out_empty
    (out_blank := d / "blank.txt").write_bytes(b"  \n\t\r\n  ")
    out["blank"] = out_blank
    (out_bin := d / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 40)
    out["binary"] = out_bin
    out["dir"] = d / "a_directory"
    out["dir"].mkdir()
    out["de_txt"] = d / "artikel.txt"
    out["de_txt"].write_text(GERMAN, encoding="utf-8")
    out["de_html"] = d / "artikel.html"
    out["de_html"].write_text(
        f'<!doctype html><html lang="de"><head><title>Hackerangriff</title></head>'
        f"<body><article><h1>Hackerangriff bei Müller</h1><p>{GERMAN}</p><p>{GERMAN}</p></article></body></html>",
        encoding="utf-8",
    )
    out["en_txt"] = d / "article.txt"
    out["en_txt"].write_text(EN_BREACH, encoding="utf-8")
    return out


# -- one source that cannot be read: one line, the input/network code -----------------------------

@pytest.mark.parametrize(
    "case, code, needle",
    [
        ("empty", INPUT, "empty"),
        ("blank", INPUT, "empty"),
        ("binary", INPUT, "binary"),
        ("missing", INPUT, "no such file"),
        ("dir", INPUT, "directory"),
        ("de_txt", INPUT, "unsupported language 'de'"),
        ("de_html", INPUT, "unsupported language 'de'"),
    ],
)
def test_bad_file_source(files, case, code, needle):
    path = files[case] if case != "missing" else files["dir"].parent / "does-not-exist.html"
    line = assert_one_error_line(run_cli("extract", str(path)), code)
    assert needle in line


def test_unreachable_url_is_a_network_error():
    port = closed_port()
    line = assert_one_error_line(run_cli("extract", f"http://127.0.0.1:{port}/article", "--allow-private"), NETWORK)
    assert f"127.0.0.1:{port}" in line


def test_private_address_refused_without_allow_private():
    line = assert_one_error_line(run_cli("extract", f"http://127.0.0.1:{closed_port()}/article"), NETWORK)
    assert "127.0.0.1" in line


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/article.html", "data:text/plain,breach", "http://[::1"])
def test_unsupported_or_malformed_url(url):
    assert_one_error_line(run_cli("extract", url), NETWORK)


@pytest.mark.parametrize("stdin, needle", [(b"", "empty"), (b"\x00\x01\x02binary\x00" * 50, "binary")])
def test_bad_standard_input(stdin, needle):
    line = assert_one_error_line(run_cli("extract", "-", stdin=stdin), INPUT)
    assert needle in line


def test_bad_published_on_a_single_article(files):
    line = assert_one_error_line(run_cli("extract", str(files["en_txt"]), "--published", "2024-13-45"), INPUT)
    assert "2024-13-45" in line


def test_forced_unsupported_language(files):
    line = assert_one_error_line(run_cli("extract", str(files["en_txt"]), "--language", "de"), INPUT)
    assert "'de'" in line


# -- usage errors: click's code 2 --------------------------------------------------------------------

@pytest.mark.parametrize(
    "args, needle",
    [
        (["extract", "--no-such-flag", "x.txt"], "--no-such-flag"),
        (["extract", "--docs", "x.jsonl", "--batch-size", "0"], "--batch-size"),
        (["extract", "--docs", "x.jsonl", "--batch-size", "many"], "--batch-size"),
        (["extract", "--docs", "x.jsonl", "--workers", "0"], "--workers"),
        (["extract"], "SOURCE"),
        (["extract", "article.txt", "--docs", "docs.jsonl"], "SOURCE"),
        (["no-such-command"], "no-such-command"),
    ],
)
def test_usage_errors(args, needle):
    line = assert_one_error_line(run_cli(*args), USAGE)
    assert needle in line


def test_no_arguments_at_all_shows_help():
    proc = run_cli()
    out, err = decoded(proc)
    assert "Traceback" not in out + err
    assert "Usage" in out
    assert proc.returncode == USAGE
    assert "internal error" not in err


# -- the daily verbs: bad filters and dates are input errors (exit 3), a missing database a storage error -----

@pytest.mark.parametrize(
    "args, code, needle",
    [
        (["list", "--data-type", "ssn"], INPUT, "`incidents schema`"),
        (["list", "--agency", "NSA"], INPUT, "unknown --agency 'NSA'"),
        (["export", "--until", "2025-02-30"], INPUT, "no such day"),
        (["export", "--since", "2025-13-01"], INPUT, "no such day"),
        (["export", "--format", "parquet"], INPUT, "one of jsonl, csv"),
        (["list", "--limit", "-1"], USAGE, "--limit"),
        (["list"], 5, "absent.db"),
        (["show", "inc-"], 5, "absent.db"),
    ],
)
def test_daily_verbs_bad_options(tmp_path, args, code, needle):
    line = assert_one_error_line(run_cli(*args, "--db", str(tmp_path / "absent.db")), code)
    assert needle in line
    assert not (tmp_path / "absent.db").exists()


# -- --docs: the file itself is unusable --------------------------------------------------------------

@pytest.mark.parametrize("case, needle", [("missing", "no such file"), ("dir", "directory"), ("binary", "binary")])
def test_bad_docs_file(files, case, needle):
    path = files[case] if case != "missing" else files["dir"].parent / "nope.jsonl"
    line = assert_one_error_line(run_cli("extract", "--docs", str(path)), INPUT)
    assert needle in line


def test_output_in_missing_directory(files, tmp_path):
    target = tmp_path / "no" / "such" / "dir" / "records.jsonl"
    line = assert_one_error_line(run_cli("extract", str(files["en_txt"]), "--output", str(target)), INPUT)
    assert "cannot write" in line
    assert not target.parent.exists()


# -- a batch with bad lines: error records in place, the others go on ----------------------------------

BATCH = [
    json.dumps({"id": "ok-en", "language": "en", "text": EN_BREACH}),
    '{"id": "broken", "text": "unterminated',
    json.dumps(["a", "list", "not", "an", "object"]),
    json.dumps({"id": "no-text", "title": "Only a title", "url": "https://example.com/x"}),
    json.dumps({"id": "bad-date", "language": "fr", "published": "2024-13-45", "text": FR_BREACH}),
    json.dumps({"id": "german", "text": GERMAN}),
    json.dumps({"id": "german-forced", "language": "de", "text": GERMAN}),
    "",
    json.dumps({"id": "ok-fr", "language": "fr", "published": "2024-05-02", "text": FR_BREACH}),
    json.dumps("just a string"),
    "null",
    json.dumps({"id": 42, "text": ["not", "a", "string"], "html": {"nor": "this"}}),
    json.dumps({"id": "ok-en-2", "text": EN_BREACH + " The company notified the Office of the Privacy Commissioner."}),
]


def check_batch_records(lines: list[str]):
    recs = [json.loads(x) for x in lines if x.strip()]
    got = [(r["source"]["id"], r["error"]) for r in recs]
    assert len(recs) == 12, got  # one record per non-blank line
    by_pos = dict(enumerate(recs))
    ok = [by_pos[0], by_pos[7], by_pos[11]]
    assert [r["source"]["id"] for r in ok] == ["ok-en", "ok-fr", "ok-en-2"]
    for r in ok:
        assert r["error"] is None
        assert r["is_incident"] is True, r
    assert by_pos[7]["source"]["published"] == "2024-05-02"
    # bad lines: an error record in their place, naming the line when there is no id
    assert "line 2" in by_pos[1]["error"] and "malformed JSON" in by_pos[1]["error"]
    assert "line 3" in by_pos[2]["error"] and "not a JSON object" in by_pos[2]["error"]
    assert by_pos[3]["source"]["id"] == "no-text" and "neither 'text' nor 'html'" in by_pos[3]["error"]
    assert by_pos[3]["source"]["url"] == "https://example.com/x"
    assert by_pos[4]["source"]["id"] == "bad-date" and "2024-13-45" in by_pos[4]["error"]
    assert by_pos[5]["source"]["id"] == "german" and "unsupported language 'de'" in by_pos[5]["error"]
    assert by_pos[6]["source"]["id"] == "german-forced" and "unsupported language 'de'" in by_pos[6]["error"]
    assert "line 10" in by_pos[8]["error"]
    assert "line 11" in by_pos[9]["error"]
    assert by_pos[10]["source"]["id"] == "42" and by_pos[10]["error"]
    for r in recs:
        if r["error"]:
            assert r["is_incident"] is False and r["organization"] is None
    return recs


@pytest.fixture(scope="module")
def batch_file(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("batch") / "docs.jsonl"
    p.write_text("\n".join(BATCH) + "\n", encoding="utf-8")
    return p


def _summary_only(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("incidents: 12 documents, 3 incidents, 9 errors"), err
    return lines[0]


def test_batch_with_bad_lines_keeps_going(batch_file):
    proc = run_cli("extract", "--docs", str(batch_file), "--batch-size", "3")
    out, err = decoded(proc)
    assert "Traceback" not in out + err
    assert proc.returncode == 0, err
    _summary_only(err)
    check_batch_records(out.splitlines())


def test_batch_on_stdin_to_output_file(batch_file, tmp_path):
    target = tmp_path / "records.jsonl"
    proc = run_cli("extract", "--docs", "-", "--output", str(target), stdin=batch_file.read_bytes())
    out, err = decoded(proc)
    assert "Traceback" not in out + err
    assert proc.returncode == 0 and out == "", err
    _summary_only(err)
    check_batch_records(target.read_text(encoding="utf-8").splitlines())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["records.jsonl"]  # no temp file left


def test_empty_batch_is_zero_records(files):
    proc = run_cli("extract", "--docs", str(files["empty"]))
    out, err = decoded(proc)
    assert "Traceback" not in out + err
    assert proc.returncode == 0 and out == ""
    assert err.strip().startswith("incidents: 0 documents")


# -- --output is atomic: a failed run leaves the previous file as it was -------------------------------

PREVIOUS = '{"previous": "output", "must": "survive"}\n'

# Runs the real CLI with the extractor made to fail after its second record.
FAIL_MIDWAY = """
import sys
from extractor import pipeline
real = pipeline.Extractor.extract_many
def failing(self, docs, batch_size=None):
    for i, rec in enumerate(real(self, docs, batch_size)):
        if i == 2:
            raise RuntimeError("simulated failure in the middle of the run")
        yield rec
pipeline.Extractor.extract_many = failing
from extractor.cli import main
main(sys.argv[1:])
"""


def test_output_untouched_when_run_fails_midway(batch_file, tmp_path):
    target = tmp_path / "records.jsonl"
    target.write_text(PREVIOUS, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-c", FAIL_MIDWAY, "extract", "--docs", str(batch_file), "--batch-size", "1", "--output", str(target)],
        capture_output=True, cwd=ROOT, env=_env(), timeout=180,
    )
    out, err = decoded(proc)
    assert "Traceback" not in out + err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("incidents: internal error: RuntimeError: simulated failure"), err
    assert proc.returncode == 1
    assert target.read_text(encoding="utf-8") == PREVIOUS
    assert sorted(p.name for p in tmp_path.iterdir()) == ["records.jsonl"]


def test_output_untouched_when_target_is_a_directory(files, tmp_path):
    target = tmp_path / "records.jsonl"
    target.mkdir()
    (target / "keep").write_text(PREVIOUS)
    line = assert_one_error_line(run_cli("extract", str(files["en_txt"]), "--output", str(target)), INPUT)
    assert "cannot write" in line
    assert (target / "keep").read_text() == PREVIOUS
    assert sorted(p.name for p in tmp_path.iterdir()) == ["records.jsonl"]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_output_untouched_when_interrupted(tmp_path):
    many = tmp_path / "many.jsonl"
    with open(many, "w", encoding="utf-8") as fh:
        for i in range(400):
            fh.write(json.dumps({"id": f"d{i}", "language": "en", "text": f"{EN_BREACH} Case {i}."}) + "\n")
    target = tmp_path / "records.jsonl"
    target.write_text(PREVIOUS, encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "extractor", "extract", "--docs", str(many), "--batch-size", "1", "--output", str(target)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, env=_env(),
        # a background parent may ignore SIGINT, and the child would inherit that: restore the default
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 120
        # wait until records are being written to the temporary file
        while time.monotonic() < deadline and proc.poll() is None:
            tmps = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
            if tmps and tmps[0].stat().st_size > 0:
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the run ended before it could be interrupted"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    out, err = out.decode("utf-8", "replace"), err.decode("utf-8", "replace")
    assert "Traceback" not in out + err
    assert err.strip().splitlines() == ["incidents: interrupted"], (proc.returncode, err)
    assert proc.returncode == 130
    assert target.read_text(encoding="utf-8") == PREVIOUS
    assert sorted(p.name for p in tmp_path.iterdir()) == ["many.jsonl", "records.jsonl"]


def test_version_and_plain_help():
    proc = run_cli("--version")
    out, err = decoded(proc)
    assert proc.returncode == 0 and out.startswith("incidents ") and "schema" in out
    out, _ = decoded(run_cli("ingest", "--help"))
    assert "<bool>" not in out  # flags are flags, not "<bool>" values
    assert "╭" not in out       # plain help: brackets in help texts are shown as written
