"""Golden cases of the `counts` stage, French and English (tests/golden/{fr,en}/counts.jsonl),
through the public API: `Extractor().extract(doc)` and the record it returns."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "golden"))
from _golden import stage_tests  # noqa: E402

test_both_languages_have_cases, test_golden = stage_tests("counts")


def test_rounded_figures_restate_precise_ones():
    from extractor.components.counts import rounds_to

    assert rounds_to(4000, 3962) and rounds_to(13000, 12848) and rounds_to(300, 276)
    assert rounds_to(1_400_000, 1_470_000)  # "more than 1.4 million" for 1.47 million
    assert not rounds_to(3962, 4000)        # the precise figure is no rounding of the round one
    assert not rounds_to(4000, 4000)
    assert not rounds_to(100, 62000)        # a part, not a rounding
    assert not rounds_to(2000, 2600)        # too far apart to be the same people


def test_every_feature_has_a_fitted_weight():
    from extractor.components.counts import FEATURES, NONE_FEATURES, weights

    w = weights()["features"]
    assert set(FEATURES) == set(w), "re-run eval/fit_counts.py --write after changing the features"
    assert set(NONE_FEATURES) <= set(FEATURES)


def test_no_language_literal_or_word_list_in_the_code():
    import re
    from pathlib import Path

    src = (Path(__file__).resolve().parents[1] / "extractor" / "components" / "counts.py").read_text(encoding="utf-8")
    assert not re.search(r"""["'](?:fr|en)["']""", src)
