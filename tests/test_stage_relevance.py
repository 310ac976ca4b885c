"""Golden cases of the `relevance` stage, French and English (tests/golden/{fr,en}/relevance.jsonl),
through the public API: `Extractor().extract(doc)` and the record it returns."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "golden"))
from _golden import case_id, cases_of, check, report  # noqa: E402

STAGE = "relevance"
CASES = cases_of(STAGE)


@pytest.fixture(scope="module")
def extractor():
    from extractor.pipeline import Extractor

    return Extractor()


def test_both_languages_have_cases():
    assert {lang for lang, _ in CASES} == {"fr", "en"}


@pytest.mark.slow
@pytest.mark.parametrize("item", CASES, ids=case_id)
def test_golden(item, extractor):
    lang, case = item
    problems = check(STAGE, lang, case, extractor)
    assert not problems, report(STAGE, lang, case, problems)
