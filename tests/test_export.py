"""`incidents export`: JSONL of stored records, filters, stdout, atomic replacement, merged incidents."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from cliutil import cli  # noqa: E402  (tests/ is on sys.path, as for localserver)

from extractor.record import Evidence, Organization, Record, Source
from extractor.store import Store


def add_report(store: Store, n: int, *, incident: bool, published: str | None, org: str = "Org", attach: bool = True):
    text = f"{org} {n} reported a breach." if incident else f"Story {n} about the weather."
    rec = Record(
        source=Source(id=f"doc-{n}", url=f"https://news.example.ca/{n}", language="en", published=published),
        is_incident=incident,
        organization=Organization(name=f"{org} {n}", evidence=Evidence(text=f"{org} {n}", start=0,
                                                                         end=len(f"{org} {n}"))) if incident else None,
    )
    from extractor import merge

    with store.transaction() as conn:
        rid = merge.store_record(conn, rec, text, "2024-06-01T00:00:00Z")
        if incident and attach:
            merge.attach_report(conn, rid)


@pytest.fixture()
def db(tmp_path):
    path = tmp_path / "incidents.db"
    with Store(path) as store:
        add_report(store, 1, incident=True, published="2023-11-02")
        add_report(store, 2, incident=False, published="2024-02-01")
        add_report(store, 3, incident=True, published="2024-03-15")
        add_report(store, 4, incident=True, published=None)  # no date: the fetch day (2024-06-01) counts
    return path


def ids(path_or_text) -> list[str]:
    text = Path(path_or_text).read_text() if isinstance(path_or_text, Path) else path_or_text
    return [json.loads(line)["source"]["id"] for line in text.splitlines()]


def test_export_incidents_only_by_default(db, tmp_path, capsys):
    out = tmp_path / "incidents.jsonl"
    code, _, err = cli(capsys, "export", "--db", str(db), "--output", str(out))
    assert code == 0 and "3 incident records written" in err
    assert ids(out) == ["doc-1", "doc-3", "doc-4"]  # by publication day
    for line in out.read_text().splitlines():
        Record.model_validate_json(line)  # each line is a valid record


def test_export_all_documents_and_since(db, tmp_path, capsys):
    out = tmp_path / "all.jsonl"
    assert cli(capsys, "export", "--db", str(db), "--output", str(out), "--all-documents")[0] == 0
    assert ids(out) == ["doc-1", "doc-2", "doc-3", "doc-4"]
    assert cli(capsys, "export", "--db", str(db), "--output", str(out), "--since", "2024-01-01")[0] == 0
    assert ids(out) == ["doc-3", "doc-4"]


def test_export_to_stdout(db, capsys):
    code, out, err = cli(capsys, "export", "--db", str(db), "--output", "-", "--since", "2024-03-01", "--all-documents")
    assert code == 0 and ids(out) == ["doc-3", "doc-4"] and "stdout" in err


def test_export_merged_incidents(db, capsys):
    code, out, _ = cli(capsys, "export", "--db", str(db), "--output", "-", "--incidents")
    assert code == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == 3
    assert sorted(r["source_id"] for line in lines for r in line["reports"]) == ["doc-1", "doc-3", "doc-4"]
    assert all(line["previous_ids"] == [] for line in lines)  # former ids (none here) are listed


def test_export_errors_are_one_line(db, tmp_path, capsys):
    for args, code in (
        (["--output", str(tmp_path / "no" / "such" / "dir.jsonl")], 3),
        (["--output", "-", "--since", "last week"], 3),
        (["--output", "-", "--db", str(tmp_path / "absent.db")], 5),
    ):
        full = ["export"] + (args if "--db" in args else args + ["--db", str(db)])
        c, _, err = cli(capsys, *full)
        assert c == code and len(err.strip().splitlines()) == 1 and err.startswith("incidents: error:"), (args, err)
    assert not (tmp_path / "absent.db").exists()


def test_failed_export_leaves_the_previous_file(db, tmp_path, capsys, monkeypatch):
    from extractor.cli import export_cmd

    out = tmp_path / "incidents.jsonl"
    assert cli(capsys, "export", "--db", str(db), "--output", str(out))[0] == 0
    before = out.read_bytes()

    def broken(conn, filters, fmt, all_documents):
        yield '{"half": '
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(export_cmd, "_record_lines", broken)
    code, _, err = cli(capsys, "export", "--db", str(db), "--output", str(out), "--all-documents")
    assert code != 0 and "No space left" in err
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".incidents")) == []


def test_a_reader_never_sees_half_a_file(db, tmp_path, capsys):
    """Exports run in a loop while a reader reads the file: every read is a whole old or new file."""
    with Store(db) as store:
        for n in range(5, 400):
            add_report(store, n, incident=True, published="2024-05-01", org="Bulk organization with a long name",
                       attach=False)
    out = tmp_path / "incidents.jsonl"
    out.write_text("")  # the previous (empty) export
    valid_sizes = {0}
    bad = []
    done = threading.Event()

    def reader():
        while not done.is_set():
            data = out.read_text()
            lines = data.splitlines()
            if data and not data.endswith("\n"):
                bad.append(len(data))
            for line in lines:
                try:
                    json.loads(line)
                except ValueError:
                    bad.append(line[:40])
                    break
            if len(lines) not in valid_sizes | {3, 398}:
                bad.append(len(lines))
            time.sleep(0.001)

    t = threading.Thread(target=reader)
    t.start()
    try:
        for _ in range(8):
            assert cli(capsys, "export", "--db", str(db), "--output", str(out))[0] == 0
            valid_sizes.add(398)
    finally:
        done.set()
        t.join(10)
    assert bad == []
    assert len(out.read_text().splitlines()) == 398


def test_incident_lines_validate_against_the_published_incident_schema(db, capsys):
    import jsonschema

    code, schema_text, _ = cli(capsys, "schema", "--incidents")
    assert code == 0
    schema = json.loads(schema_text)
    code, out, _ = cli(capsys, "export", "--db", str(db), "--output", "-", "--incidents")
    assert code == 0 and out.strip()
    for line in out.splitlines():
        jsonschema.validate(json.loads(line), schema)


def test_the_record_schema_describes_every_code(capsys):
    code, schema_text, _ = cli(capsys, "schema")
    schema = json.loads(schema_text)
    for model in ("DataType", "Agency"):
        choices = schema["$defs"][model]["properties"]["code"]["oneOf"]
        assert choices and all(c.get("title") and c.get("description") for c in choices), model
    assert {c["const"] for c in schema["$defs"]["DataType"]["properties"]["code"]["oneOf"]} >= {"sin", "health_insurance_number"}
