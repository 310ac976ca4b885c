"""Golden cases of the `counts` stage, French and English (tests/golden/{fr,en}/counts.jsonl),
through the public API: `Extractor().extract(doc)` and the record it returns."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "golden"))
from _golden import stage_tests  # noqa: E402

test_both_languages_have_cases, test_golden = stage_tests("counts")
