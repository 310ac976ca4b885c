"""Golden cases of the `language` stage, French and English (tests/golden/{fr,en}/language.jsonl),
calling the stage's public functions directly."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "golden"))
from _golden import case_id, cases_of, check, report  # noqa: E402

STAGE = "language"
CASES = cases_of(STAGE)


def test_both_languages_have_cases():
    assert {lang for lang, _ in CASES} == {"fr", "en"}


@pytest.mark.parametrize("item", CASES, ids=case_id)
def test_golden(item):
    lang, case = item
    problems = check(STAGE, lang, case)
    assert not problems, report(STAGE, lang, case, problems)
