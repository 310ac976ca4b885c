"""The quality gate: the extractor's figures on each corpus of eval/baseline.json stay at or above their floors.

The extractor runs once per session over every corpus of the baseline (corpus paths are relative to
the repository root: ../shared/corpus/*.jsonl lie beside it, corpora/*.jsonl inside it); a corpus
that is missing fails the gate rather than skipping it. A figure that
drops names itself in the failure; raise floors with eval/update_baseline.py (see eval/README.md).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from extractor.evaluate import below_floors, evaluate_file, load_baseline

ROOT = Path(__file__).resolve().parent.parent
BASELINE_PATH = ROOT / "eval" / "baseline.json"
BASELINE = load_baseline(BASELINE_PATH)
CORPORA = list(BASELINE["corpora"])


@pytest.fixture(scope="session")
def extractor():
    from extractor.pipeline import Extractor

    return Extractor()


@pytest.fixture(scope="session")
def reports(extractor):
    """Each existing corpus scored once per session: {baseline key: Report}."""
    cache: dict = {}

    def get(key: str):
        if key not in cache:
            cache[key] = evaluate_file(ROOT / key, extractor)
        return cache[key]

    return get


@pytest.mark.slow
@pytest.mark.parametrize("corpus", CORPORA)
def test_figures_stay_above_their_floors(corpus, reports):
    path = ROOT / corpus
    # A missing corpus fails: a gate that skips when its corpora are gone would pass on anything.
    assert path.is_file(), (f"corpus {corpus} is absent (looked for {path}); "
                            + ("../shared must lie beside the repository" if corpus.startswith("../")
                               else "it is part of the repository"))
    report = reports(corpus)
    failures = below_floors(report.figures, BASELINE["corpora"][corpus])
    assert not failures, (f"{corpus}: {len(failures)} figure(s) below their floors in eval/baseline.json:\n  "
                          + "\n  ".join(failures))
    # Every document gave a record; a failed one would have lowered the figures, name it plainly too.
    failed = [(e.doc_id, e.got) for e in report.errors if e.field == "error"]
    assert not failed, f"{corpus}: documents without a record: {failed}"


# --------------------------------------------------------------------------------------------
# eval/update_baseline.py, from saved `incidents eval --json` output (no extractor needed)
# --------------------------------------------------------------------------------------------

def _update(tmp_path, *args):
    import subprocess
    import sys

    return subprocess.run([sys.executable, str(ROOT / "eval" / "update_baseline.py"),
                           "--baseline", str(tmp_path / "eval" / "baseline.json"), *args],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)


def test_update_baseline_raises_refuses_and_lowers_with_a_reason(tmp_path):
    import json

    from extractor.evaluate import FIGURES, dump_baseline

    (tmp_path / "eval").mkdir()
    baseline_path = tmp_path / "eval" / "baseline.json"
    floors = {scope: {name: 0.0 for name in FIGURES} for scope in ("all", "fr")}
    baseline_path.write_text(dump_baseline({"corpora": {"c.jsonl": floors}, "lowered": []}), encoding="utf-8")
    figures = {scope: {name: 0.5 for name in FIGURES} for scope in ("all", "fr")}
    figures["fr"]["dates_f1"] = None
    saved = tmp_path / "eval.json"
    saved.write_text(json.dumps({"corpora": {"c.jsonl": {"figures": figures}}}), encoding="utf-8")

    before = baseline_path.read_text(encoding="utf-8").splitlines()
    res = _update(tmp_path, "--from-json", str(saved))
    assert res.returncode == 0, res.stderr
    after = baseline_path.read_text(encoding="utf-8").splitlines()
    changed = [(a, b) for a, b in zip(before, after) if a != b]
    assert len(before) == len(after) and len(changed) == 2 * len(FIGURES) - 1   # one line per raised floor
    assert ('"organization_accuracy": 0.0,' in changed[3][0]) and ('"organization_accuracy": 0.5,' in changed[3][1])
    assert json.loads(baseline_path.read_text())["corpora"]["c.jsonl"]["fr"]["dates_f1"] == 0.0  # n/a keeps its floor

    figures["all"]["victim_count_accuracy"] = 0.25
    saved.write_text(json.dumps({"corpora": {"c.jsonl": {"figures": figures}}}), encoding="utf-8")
    res = _update(tmp_path, "--from-json", str(saved))
    assert res.returncode == 6 and "all victim_count_accuracy 0.2500 < floor 0.5000" in res.stderr
    assert json.loads(baseline_path.read_text())["corpora"]["c.jsonl"]["all"]["victim_count_accuracy"] == 0.5

    res = _update(tmp_path, "--from-json", str(saved), "--allow-lower")
    assert res.returncode == 2 and "--reason" in res.stderr
    res = _update(tmp_path, "--from-json", str(saved), "--allow-lower", "--reason", "gold count corrected")
    assert res.returncode == 0, res.stderr
    data = json.loads(baseline_path.read_text())
    assert data["corpora"]["c.jsonl"]["all"]["victim_count_accuracy"] == 0.25
    (entry,) = data["lowered"]
    assert {k: entry[k] for k in ("corpus", "scope", "figure", "from", "to", "reason")} == {
        "corpus": "c.jsonl", "scope": "all", "figure": "victim_count_accuracy", "from": 0.5, "to": 0.25,
        "reason": "gold count corrected"}
