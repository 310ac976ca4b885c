"""The fitting scripts' shared command line, entry and report (eval/fitlib.py), without spaCy."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "eval"))
import fitlib  # noqa: E402


def _gold(path: Path, *ids: str) -> Path:
    path.write_text("".join(json.dumps({"id": i, "text": "t", "gold": {"is_incident": False}}) + "\n" for i in ids),
                    encoding="utf-8")
    return path


def test_parser_has_the_shared_options():
    ap = fitlib.parser("Fit something.\n\nmore", 3.5, "penalty", "the weights", errors="list them")
    a = ap.parse_args(["--k", "3", "--write", "--errors"])
    assert (a.l2, a.k, a.write, a.errors) == (3.5, 3, True, True)
    assert ap.description == "Fit something."
    assert not hasattr(fitlib.parser("Doc.", 1.0, "p", "w").parse_args([]), "errors")


def test_main_reads_train_and_dev_and_runs(tmp_path):
    ap = fitlib.parser("Doc.", 1.0, "p", "w")
    ap.add_argument("--train", type=Path)
    ap.add_argument("--dev", type=Path)
    seen = {}

    def run(a, train, dev):
        seen.update(train=[d["id"] for d in train], dev=[d["id"] for d in dev], l2=a.l2)
        return 5

    rc = fitlib.main(run, ap, ["--train", str(_gold(tmp_path / "t.jsonl", "a", "b")),
                               "--dev", str(_gold(tmp_path / "d.jsonl", "c")), "--l2", "2"])
    assert rc == 5
    assert seen == {"train": ["a", "b"], "dev": ["c"], "l2": 2.0}


def test_main_without_training_corpus_says_so_in_one_line(tmp_path, capsys):
    ap = fitlib.parser("Doc.", 1.0, "p", "w")
    ap.add_argument("--train", type=Path)
    rc = fitlib.main(lambda *a: pytest.fail("must not run"), ap, ["--train", str(tmp_path / "missing.jsonl")])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.count("\n") == 1 and "no training corpus at" in err and "missing.jsonl" in err


def test_report_and_ratios(capsys):
    assert fitlib.ratios({"all": (3, 4), "fr": (1, 2), "en": (0, 0)}) == "all 3/4 = 0.750, fr 1/2 = 0.500"
    fitlib.report(5, "CV", None, "DEV")
    out = capsys.readouterr().out.splitlines()
    assert out == ["train, 5-fold CV (grouped by incident_key): CV", "dev, weights fitted on all of train: DEV"]


def test_cross_validate_gives_plain_numbers():
    docs = [{"id": str(i), "gold": {"incident_key": f"k{i % 4}"}} for i in range(8)]
    cv = fitlib.cross_validate(docs, lambda idx: None, lambda m, held: (np.int64(1), len(held)), k=4)
    assert cv["right"] == 4 and cv["total"] == 8 and cv["per_fold"] == [0.5] * 4
    assert all(type(x) is float for x in cv["per_fold"])
