"""Known failures: golden cases (tests/golden/{fr,en}/known_failures.jsonl) that state what a
correct extractor should output but today's rules do not.

Each case runs as ``xfail(strict=True)``: it must fail today. A case that starts passing fails the
suite (XPASS), so it is moved back into its stage's golden file instead of hiding there.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "golden"))
from _golden import LANGS, STAGES, case_id, check, load, report  # noqa: E402

CASES = [(lang, c) for lang in LANGS for c in load(lang, "known_failures")]


def test_known_failures_parse():
    for lang, case in CASES:
        assert case["stage"] in STAGES, case["_where"]
        assert case["why"].strip(), case["_where"]
        assert isinstance(case["expected"], dict) and case["expected"], case["_where"]


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason="a known failure: today's rules do not give the expected output")
@pytest.mark.parametrize("item", CASES, ids=[case_id(c) for c in CASES])
def test_known_failure(item, extractor):
    lang, case = item
    problems = check(case["stage"], lang, case, extractor)
    assert not problems, report(case["stage"], lang, case, problems)
