"""Golden cases of the `html` stage, French and English (tests/golden/{fr,en}/html.jsonl),
calling the stage's public functions directly."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "golden"))
from _golden import stage_tests  # noqa: E402

test_both_languages_have_cases, test_golden = stage_tests("html", needs_extractor=False)
