"""The CLI's start-up: a verb of the library does not import the job package's plugin (about 0.3 s)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CODE = """
import atexit, sys
atexit.register(lambda: print("PLUGIN" if "pipelines.cli" in sys.modules else "NO-PLUGIN", file=sys.stderr))
from extractor.cli import main
main(sys.argv[1:])
"""


def _run(*args):
    return subprocess.run([sys.executable, "-c", CODE, *args], capture_output=True, text=True, cwd=str(ROOT),
                          timeout=120)


def test_library_verb_skips_plugins_and_job_verb_loads_them():
    schema = _run("schema")
    assert schema.returncode == 0 and '"properties"' in schema.stdout
    assert schema.stderr.strip().endswith("NO-PLUGIN")
    helped = _run("--help")  # the full list of verbs, the job's included
    assert helped.returncode == 0 and "ingest" in helped.stdout
    assert helped.stderr.strip().endswith("PLUGIN") and "NO-PLUGIN" not in helped.stderr
    ingest = _run("ingest", "--help")
    assert ingest.returncode == 0 and ingest.stderr.strip().endswith("PLUGIN")


def test_the_console_script_does_not_import_the_fetcher_for_verbs_that_do_not_fetch():
    """`incidents` (pipelines.cli:main) registers the job's verbs without importing httpx (netguard), ~0.2 s of
    every command's start-up; ingest still fetches through it, and the proxy option names netguard's variable."""
    code = ("import sys; import pipelines.cli as job; from extractor.cli import app; job.register(app); "
            "loaded = 'httpx' in sys.modules; from extractor import netguard; "
            "print(loaded, job.PROXY_ENV == netguard.PROXY_ENV)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=str(ROOT), timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["False", "True"]
    helped = subprocess.run([sys.executable, "-c", "from pipelines.cli import main; main()", "ingest", "--help"],
                            capture_output=True, text=True, cwd=str(ROOT), timeout=120)
    assert helped.returncode == 0 and "--proxy" in helped.stdout and "INCIDENTS_PROXY" in helped.stdout
