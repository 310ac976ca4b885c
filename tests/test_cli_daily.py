"""Daily use through the real entry point: `list`, `show ID-PREFIX`, `export` to stdout with filters and CSV,
`extract --docs` when every document fails, `import`'s new/already-stored summary, progress bars and --quiet."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cliutil import cli  # noqa: E402  (tests/ is on sys.path, as for localserver)

from extractor.record import Agency, DataType, Evidence, Organization, Record, Source, Victims
from extractor.store import Store

ROOT = Path(__file__).resolve().parents[1]


def ev(text: str) -> Evidence:
    return Evidence(text=text, start=0, end=len(text))


def record(sid: str, org: str, *, lang: str = "en", published: str | None = None, victims: int | None = None,
           data_types: tuple = (), agencies: tuple = (), acronym: str | None = None, incident: bool = True) -> Record:
    return Record(
        source=Source(id=sid, url=f"https://news.example.org/{sid}", language=lang, published=published,
                      title=f"Title of {sid}"),
        is_incident=incident,
        organization=Organization(name=org, acronym=acronym, evidence=ev(org)) if incident else None,
        victims=Victims(count=victims, qualifier="exact" if victims is not None else None),
        data_types=[DataType(code=c, evidence=ev(c)) for c in data_types],
        agencies=[Agency(code=c, name=c, role="notified", evidence=ev(c)) for c in agencies],
    )


RECORDS = [
    # (record, store time)
    (record("r-elan", "Clinique dentaire Élan", lang="fr", published="2025-01-10", victims=12000,
            data_types=("sin", "name"), agencies=("CAI",)), "2025-01-10T08:00:00Z"),
    (record("r-north", "Northwind Dental", acronym="NWD", published="2024-11-02", victims=800,
            data_types=("medical",), agencies=("OPC",)), "2024-11-02T08:00:00Z"),
    (record("r-acme", "Acme Logistics", published="2025-03-01", victims=50, data_types=("email",)),
     "2025-03-01T08:00:00Z"),
    (record("r-weather", "", incident=False, published="2025-02-01"), "2025-02-01T08:00:00Z"),
]


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    from extractor import merge

    path = tmp_path_factory.mktemp("daily") / "incidents.db"
    with Store(path) as store:
        for rec, now in RECORDS:
            with store.transaction() as conn:
                merge.add_report(conn, rec, f"Our own text about {rec.source.id}.", now)
    return path


def incident_id(db: Path, source_id: str) -> str:
    with Store(db, create=False) as store:
        return store.conn.execute("SELECT ir.incident_id FROM incident_reports ir JOIN reports r ON r.id = ir.report_id "
                                  "WHERE r.source_id = ?", (source_id,)).fetchone()[0]


def one_error(code, out, err, want_code=3) -> str:
    assert code == want_code and out == "", (code, out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("incidents: error: "), err
    return lines[0]


# -- list -------------------------------------------------------------------------------------------------------
def test_list_is_a_table_newest_first(db, capsys):
    code, out, err = cli(capsys, "list", "--db", str(db))
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "NAME", "VICTIMS", "FIRST", "SEEN", "REPORTS", "AUTHORITIES"]
    names = [line for line in lines[1:]]
    assert [n.split("  ")[1].strip() for n in names] == ["Acme Logistics", "Clinique dentaire Élan",
                                                         "Northwind Dental (NWD)"]
    assert "12,000" in names[1] and "2025-01-10" in names[1] and names[1].rstrip().endswith("CAI")
    assert names[0].startswith(incident_id(db, "r-acme"))


def test_list_json_lines_and_csv(db, capsys):
    code, out, _ = cli(capsys, "list", "--db", str(db), "--json")
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [r["organization"] for r in rows][0] == "Acme Logistics"
    elan = rows[1]
    assert elan["victims"] == 12000 and elan["data_types"] == ["name", "sin"] and elan["agencies"] == ["CAI"]
    assert elan["languages"] == ["fr"] and elan["report_count"] == 1
    code, out, _ = cli(capsys, "list", "--db", str(db), "--csv")
    table = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and len(table) == 3 and table[1]["data_types"] == "name;sin" and table[1]["victims"] == "12000"


@pytest.mark.parametrize("args, want", [
    (["--org", "clinique dentaire elan"], ["Clinique dentaire Élan"]),  # accents and case folded
    (["--org", "nwd"], ["Northwind Dental"]),                           # the acronym
    (["--data-type", "sin"], ["Clinique dentaire Élan"]),
    (["--agency", "opc"], ["Northwind Dental"]),                        # codes in any case
    (["--min-victims", "800"], ["Clinique dentaire Élan", "Northwind Dental"]),
    (["--lang", "fr"], ["Clinique dentaire Élan"]),
    (["--since", "2025-01-01"], ["Acme Logistics", "Clinique dentaire Élan"]),
    (["--until", "2025-01-10"], ["Clinique dentaire Élan", "Northwind Dental"]),
    (["--since", "2025-01-11", "--until", "2025-02-28"], []),
    (["--updated-since", "2000-01-01"], ["Acme Logistics", "Clinique dentaire Élan", "Northwind Dental"]),
    (["--updated-since", "2999-01-01T00:00+02:00"], []),
])
def test_list_filters(db, capsys, args, want):
    code, out, err = cli(capsys, "list", "--db", str(db), "--json", *args)
    assert code == 0, err
    assert [json.loads(line)["organization"] for line in out.splitlines()] == want
    if not want:
        assert err.strip() == "list: no incident matches these filters"


def test_list_limit_says_what_was_left_out(db, capsys):
    code, out, err = cli(capsys, "list", "--db", str(db), "--limit", "2")
    assert code == 0 and len(out.splitlines()) == 3
    assert err.strip() == "list: 2 of 3 incidents shown (--limit 0 for all)"
    assert cli(capsys, "list", "--db", str(db), "--limit", "0")[2] == ""


@pytest.mark.parametrize("args, needle", [
    (["--data-type", "ssn"], "unknown --data-type 'ssn': one of name, "),
    (["--agency", "FBI"], "unknown --agency 'FBI': one of SQ, CAI"),
    (["--lang", "de"], "unknown --lang 'de'"),
    (["--since", "2025-02-30"], "bad --since '2025-02-30': no such day"),
    (["--until", "2025-13-01"], "bad --until '2025-13-01': no such day"),
    (["--updated-since", "yesterday"], "bad --updated-since 'yesterday'"),
    (["--json", "--csv"], "--json and --csv cannot be combined"),
])
def test_list_bad_filters_are_one_line(db, capsys, args, needle):
    line = one_error(*cli(capsys, "list", "--db", str(db), *args))
    assert needle in line
    if "--data-type" in args or "--agency" in args:
        assert "`incidents schema`" in line and "codes.json" in line  # where the labels are


def test_list_on_a_missing_database_is_a_store_error(tmp_path, capsys):
    one_error(*cli(capsys, "list", "--db", str(tmp_path / "absent.db")), want_code=5)
    assert not (tmp_path / "absent.db").exists()


# -- show with a prefix -----------------------------------------------------------------------------------------
@pytest.fixture()
def twins(tmp_path) -> tuple[Path, list[str]]:
    """A store whose incidents share id prefixes: ids are hashes, so find two that share a first character."""
    from extractor import merge

    path = tmp_path / "twins.db"
    with Store(path) as store:
        for n in range(12):
            with store.transaction() as conn:
                merge.add_report(conn, record(f"t-{n}", f"Organisation {chr(65 + n)}{n} Widgets",
                                              published=f"2025-01-{n + 1:02d}"), f"Text {n}.", "2025-01-01T00:00:00Z")
        ids = sorted(r[0] for r in store.conn.execute("SELECT id FROM incidents"))
    return path, ids


def test_show_accepts_a_unique_prefix_and_names_the_candidates_of_an_ambiguous_one(twins, capsys):
    db, ids = twins
    assert len(ids) == 12
    shared = next((a, b) for a, b in zip(ids, ids[1:]) if a[:5] == b[:5])  # fixed hashes of fixed source ids: a pair exists
    unique = next(i for i in ids if sum(j.startswith(i[:6]) for j in ids) == 1)
    code, out, err = cli(capsys, "show", unique[:6], "--db", str(db), "--json")
    assert code == 0 and json.loads(out)["id"] == unique, err
    code, out, err = cli(capsys, "show", unique[4:10], "--db", str(db), "--json")  # the hash part alone
    assert code == 0 and json.loads(out)["id"] == unique, err
    line = one_error(*cli(capsys, "show", shared[0][:5], "--db", str(db)))
    assert "ambiguous" in line and shared[0] in line and shared[1] in line
    line = one_error(*cli(capsys, "show", "inc-zzzz", "--db", str(db)))
    assert "no incident 'inc-zzzz'" in line


def test_show_still_takes_a_former_id_and_its_prefix(db, tmp_path, capsys):
    import shutil

    copy = tmp_path / "aliases.db"
    shutil.copy(db, copy)
    current = incident_id(copy, "r-acme")
    with Store(copy) as store, store.transaction() as conn:  # as a merge leaves it: the old id names the new one
        conn.execute("INSERT INTO incident_aliases(old_id, incident_id, at) VALUES (?,?,?)",
                     ("inc-0ld0000000000000", current, "2025-03-02T00:00:00+00:00"))
    for given in ("inc-0ld0000000000000", "inc-0ld0"):
        code, out, err = cli(capsys, "show", given, "--db", str(copy), "--json")
        assert code == 0 and json.loads(out)["id"] == current, err


def test_merge_and_split_by_hand_through_the_entry_point(db, tmp_path, capsys):
    import shutil

    copy = tmp_path / "hand.db"
    shutil.copy(db, copy)
    elan, north = incident_id(copy, "r-elan"), incident_id(copy, "r-north")
    code, out, err = cli(capsys, "merge", elan, north, "--db", str(copy))
    assert code == 0, err
    merged = out.strip().removeprefix("merged into ")
    assert incident_id(copy, "r-elan") == incident_id(copy, "r-north") == merged
    code, out, err = cli(capsys, "split", merged, "r-north", "--db", str(copy))
    assert code == 0, err
    assert incident_id(copy, "r-north") != incident_id(copy, "r-elan")
    assert out.strip() == f"report r-north is now incident {incident_id(copy, 'r-north')}"
    assert "no incident" in one_error(*cli(capsys, "merge", "inc-zzzz", merged, "--db", str(copy)))


# -- export -----------------------------------------------------------------------------------------------------
def ids(text: str) -> list[str]:
    return [json.loads(line)["source"]["id"] for line in text.splitlines()]


def test_export_writes_to_stdout_by_default(db, capsys):
    code, out, err = cli(capsys, "export", "--db", str(db))
    assert code == 0 and ids(out) == ["r-north", "r-elan", "r-acme"]  # by publication day
    assert err.strip() == "export: 3 incident records written to stdout"
    assert cli(capsys, "export", "--db", str(db), "--output", "-")[1] == out


@pytest.mark.parametrize("args, want", [
    (["--since", "2025-01-01", "--until", "2025-02-28"], ["r-elan"]),
    (["--until", "2025-02-01", "--all-documents"], ["r-north", "r-elan", "r-weather"]),
    (["--updated-since", "2025-01-10T08:00:00Z"], ["r-elan", "r-acme"]),  # store time, not publication
    (["--updated-since", "2025-01-10T09:00+01:00"], ["r-elan", "r-acme"]),  # the same moment, another zone
    (["--org", "ELAN"], ["r-elan"]),
    (["--data-type", "medical"], ["r-north"]),
    (["--agency", "CAI", "--min-victims", "1000"], ["r-elan"]),
    (["--lang", "en", "--limit", "1"], ["r-north"]),
])
def test_export_filters(db, capsys, args, want):
    code, out, err = cli(capsys, "export", "--db", str(db), *args)
    assert code == 0 and ids(out) == want, err


def test_export_csv_of_records_and_of_incidents(db, tmp_path, capsys):
    code, out, err = cli(capsys, "export", "--db", str(db), "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and [r["source_id"] for r in rows] == ["r-north", "r-elan", "r-acme"]
    assert rows[1]["organization"] == "Clinique dentaire Élan" and rows[1]["agencies"] == "CAI"
    assert rows[1]["incident_id"] == incident_id(db, "r-elan")
    assert "export: 3 incident records" in err  # the header is no record
    target = tmp_path / "incidents.csv"
    code, _, err = cli(capsys, "export", "--db", str(db), "--incidents", "--format", "csv", "--output", str(target),
                       "--since", "2025-01-01")
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert code == 0 and {r["organization"] for r in rows} == {"Acme Logistics", "Clinique dentaire Élan"}
    assert err.strip() == f"export: 2 incidents written to {target}"


def test_export_incidents_since_is_publication_and_updated_since_is_store_time(db, capsys):
    code, out, _ = cli(capsys, "export", "--db", str(db), "--incidents", "--until", "2024-12-31")
    assert code == 0 and [json.loads(x)["organization"]["name"] for x in out.splitlines()] == ["Northwind Dental"]
    code, out, err = cli(capsys, "export", "--db", str(db), "--incidents", "--updated-since", "2999-01-01")
    assert code == 0 and out == "" and "export: 0 incidents" in err


@pytest.mark.parametrize("args, needle", [
    (["--since", "2025-02-30"], "no such day"),
    (["--until", "2025-13-01"], "no such day"),
    (["--format", "xml"], "unknown --format 'xml': one of jsonl, csv"),
    (["--data-type", "nope"], "unknown --data-type 'nope'"),
])
def test_export_bad_options_are_one_line(db, capsys, args, needle):
    assert needle in one_error(*cli(capsys, "export", "--db", str(db), *args))


# -- extract --docs and import ----------------------------------------------------------------------------------
def run(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "extractor", *args], input=stdin, capture_output=True, cwd=ROOT,
                          timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_extract_docs_fails_when_every_document_failed(tmp_path):
    docs = tmp_path / "docs.jsonl"
    docs.write_text('{"id": "a", "title": "no text"}\nnot json\n', encoding="utf-8")
    proc = run("extract", "--docs", str(docs), "--output", str(tmp_path / "out.jsonl"))
    err = proc.stderr.decode()
    assert proc.returncode == 3, err
    lines = err.strip().splitlines()
    assert lines[0].startswith("incidents: 2 documents, 0 incidents, 2 errors") and len(lines) == 2
    assert lines[1] == "incidents: error: every document failed (2 of 2): see the error field of each record"
    assert len((tmp_path / "out.jsonl").read_text().splitlines()) == 2  # the error records are still written


def test_ingest_docs_names_the_file_line_of_a_malformed_document_once(tmp_path):
    """The warning of a line that is no document names its line in the file, once (blank lines counted)."""
    docs = tmp_path / "docs.jsonl"
    docs.write_text('\n{"id": "x", oops\n[1, 2]\n', encoding="utf-8")
    proc = run("ingest", "--docs", str(docs), "--db", str(tmp_path / "job.db"))
    err = proc.stderr.decode()
    assert proc.returncode == 3, err
    warnings = [line for line in err.splitlines() if "warning" in line]
    assert warnings == ["incidents: warning: line 2: malformed JSON (Expecting property name enclosed in double quotes)",
                        "incidents: warning: line 3: not a JSON object"], err


def records_file(tmp_path: Path, recs) -> Path:
    path = tmp_path / "records.jsonl"
    path.write_text("".join(r.model_dump_json() + "\n" for r in recs), encoding="utf-8")
    return path


def test_import_says_what_was_new_and_what_was_already_stored(tmp_path, capsys):
    db = tmp_path / "imp.db"
    first = records_file(tmp_path, [r for r, _ in RECORDS[:2]])
    code, out, err = cli(capsys, "import", str(first), "--db", str(db))
    assert code == 0 and out.startswith("imported 2 records (2 new, 0 already stored), 2 incident reports"), out + err
    again = records_file(tmp_path, [r for r, _ in RECORDS[1:]])
    code, out, err = cli(capsys, "import", str(again), "--db", str(db))
    assert code == 0 and out.startswith("imported 3 records (2 new, 1 already stored), 2 incident reports"), out + err
    assert err == ""  # not a terminal: no bar


# -- progress ---------------------------------------------------------------------------------------------------
class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("stream, quiet, bar", [(FakeTerminal, False, True), (FakeTerminal, True, False),
                                                (io.StringIO, False, False)])
def test_progress_draws_a_bar_on_a_terminal_only(stream, quiet, bar):
    from extractor.cli.progress import Progress

    s = stream()
    with Progress("work", total=3, unit="doc", quiet=quiet, stream=s) as p:
        assert list(p.track("abc")) == ["a", "b", "c"]
        p.summary("work: 3 done")
    text = s.getvalue()
    assert text.rstrip().endswith("work: 3 done")
    assert ("/3 [" in text) is bar and ("doc/s" in text) is bar  # tqdm's own drawing: n/total [time, rate]
    if not bar:
        assert text == "work: 3 done\n"


def run_on_a_terminal(*args: str) -> tuple[int, str]:
    """The real command with its standard error on a pseudo-terminal (standard output a pipe)."""
    import pty

    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "extractor", *args], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=slave, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # the other end closed
            break
        if not data:
            break
        chunks.append(data)
    proc.communicate(timeout=300)
    os.close(master)
    return proc.returncode, b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX pseudo-terminals")
def test_import_shows_a_bar_on_a_terminal_unless_quiet(tmp_path):
    many = [record(f"p-{n}", f"Company {n} Holdings", published="2025-01-01") for n in range(30)]
    path = records_file(tmp_path, many)
    code, err = run_on_a_terminal("import", str(path), "--db", str(tmp_path / "a.db"))
    assert code == 0 and "import: " in err and "/30 [" in err and "record/s" in err, err
    code, err = run_on_a_terminal("import", str(path), "--db", str(tmp_path / "b.db"), "--quiet")
    assert code == 0 and err == "", err


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX pseudo-terminals")
def test_extract_docs_shows_model_loading_and_documents_on_a_terminal(tmp_path):
    docs = tmp_path / "docs.jsonl"
    text = "Northwind Dental said hackers stole the names of 5,000 patients in a data breach."
    docs.write_text("".join(json.dumps({"id": f"d{n}", "language": "en", "text": text}) + "\n" for n in range(4)))
    code, err = run_on_a_terminal("extract", "--docs", str(docs), "--output", str(tmp_path / "out.jsonl"))
    assert code == 0 and "loading models" in err and "model/s" in err and "/4 [" in err, err
    assert err.splitlines()[-1].startswith("incidents: 4 documents"), err  # the bars cleared, then the summary
    code, err = run_on_a_terminal("extract", "--docs", str(docs), "--output", str(tmp_path / "out.jsonl"), "--quiet")
    assert code == 0 and err.strip().startswith("incidents: 4 documents") and len(err.strip().splitlines()) == 1, err


# -- help that teaches, no SQL in the verbs ---------------------------------------------------------------------
@pytest.mark.parametrize("verb, example", [("list", "incidents list --data-type sin"),
                                           ("export", "incidents export --incidents --format csv"),
                                           ("show", "incidents show inc-01ab"),
                                           ("import", "incidents import backfill-out/"),
                                           ("extract", "--quiet")])
def test_help_has_examples(capsys, verb, example):
    code, out, _ = cli(capsys, verb, "--help")
    assert code == 0 and example in " ".join(out.split())


@pytest.mark.parametrize("name", ["list_cmd.py", "export_cmd.py", "progress.py"])
def test_the_new_verbs_hold_no_sql(name):
    import re

    text = (ROOT / "extractor" / "cli" / name).read_text(encoding="utf-8")
    assert re.findall(r"\b(?:SELECT|INSERT|UPDATE|DELETE)\b|\.execute\(", text) == []
