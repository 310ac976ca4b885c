"""Layering rules: the library never imports the job package, the CLI holds no SQL, options are shared."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LIBRARY = ROOT / "extractor"
JOB = "pipelines"


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in the file, at any depth (functions included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
        elif isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute)):
            name = node.func.id if isinstance(node.func, ast.Name) else node.func.attr
            if name in ("import_module", "__import__", "run_module") and node.args:
                arg = node.args[0]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    found.append((node.lineno, arg.value))
    return found


def test_the_scanner_sees_every_import_form(tmp_path):
    src = tmp_path / "m.py"
    src.write_text("import pipelines.ingest\nfrom pipelines import ingest\n"
                   "def f():\n    from pipelines.demo_server import DemoServer\n"
                   "    importlib.import_module('pipelines.cli')\nfrom . import pipelines_like\n", encoding="utf-8")
    mods = [m for _, m in imported_modules(src)]
    assert mods == ["pipelines.ingest", "pipelines", "pipelines.demo_server", "pipelines.cli"]


def test_the_library_never_imports_the_job_package():
    offenders = [f"{path.relative_to(ROOT)}:{line}: {mod}"
                 for path in sorted(LIBRARY.rglob("*.py"))
                 for line, mod in imported_modules(path)
                 if mod == JOB or mod.startswith(JOB + ".")]
    assert offenders == []


def test_importing_the_library_cli_loads_no_job_module():
    code = ("import sys, extractor.cli, extractor.cli.store_cmds; "
            "print(sorted(m for m in sys.modules if m == 'pipelines' or m.startswith('pipelines.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    assert out.strip() == "[]"


def test_the_job_verb_is_registered_from_the_job_side():
    from extractor.cli import app, load_command_plugins

    load_command_plugins()  # the entry point of the installed distribution: pipelines.cli:register
    load_command_plugins()  # idempotent
    names = [c.name for c in app.registered_commands]
    assert names.count("ingest") == 1
    ingest = next(c for c in app.registered_commands if c.name == "ingest")
    assert ingest.callback.__module__ == "pipelines.cli"


_SQL = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE)\b|\.execute\(")
OTHERS = {"serve_cmd.py", "feed_cmd.py", "alert_cmds.py", "backfill_cmd.py"}  # not in this rule's scope yet


@pytest.mark.parametrize("name", ["store_cmds.py", "incident_cmds.py", "extract_cmd.py", "eval_cmd.py",
                                  "__init__.py", "app.py", "options.py"])
def test_the_cli_holds_no_sql(name):
    text = (LIBRARY / "cli" / name).read_text(encoding="utf-8")
    assert [m.group(0) for m in _SQL.finditer(text)] == []


@pytest.mark.parametrize("value, ok", [("2024-02-29", True), ("2025-02-28", True), ("2025-02-30", False),
                                       ("2025-13-01", False), ("2025-2-3", False), ("last week", False)])
def test_date_options_accept_real_days_only(value, ok):
    from extractor.cli.options import parse_day
    from extractor.errors import InputError

    if ok:
        assert parse_day(value, "--since") == value
    else:
        with pytest.raises(InputError, match=r"^bad --since '"):
            parse_day(value, "--since")


def test_an_impossible_day_is_one_line_exit_3(tmp_path, capsys):
    from extractor.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["export", "--output", "-", "--since", "2025-02-30", "--db", str(tmp_path / "x.db")])
    err = capsys.readouterr().err
    assert exc.value.code == 3
    assert err.strip().splitlines() == ["incidents: error: bad --since '2025-02-30': no such day (expected YYYY-MM-DD)"]
    assert not (tmp_path / "x.db").exists()


def test_verbs_declare_db_through_the_shared_option():
    for name in ("store_cmds.py", "incident_cmds.py"):
        text = (LIBRARY / "cli" / name).read_text(encoding="utf-8")
        assert '"--db"' not in text and "from .options import" in text
    assert '"--db"' in (ROOT / "extractor" / "cli" / "options.py").read_text(encoding="utf-8")
    assert '"--db"' not in (ROOT / "pipelines" / "cli.py").read_text(encoding="utf-8")


def test_without_the_job_package_ingest_says_so_in_one_line():
    code = ("import importlib.metadata as md; md.entry_points = lambda **kw: []\n"
            "from extractor.cli import main; main(['ingest', '--demo'])")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "incidents: error: `ingest` is the scheduled job's verb: it needs the job package (pipelines), "
        "installed with incidents-extractor"]
