"""Golden cases of the `language` stage, French and English (tests/golden/{fr,en}/language.jsonl),
calling the stage's public functions directly."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "golden"))
from _golden import stage_tests  # noqa: E402

test_both_languages_have_cases, test_golden = stage_tests("language", needs_extractor=False)
