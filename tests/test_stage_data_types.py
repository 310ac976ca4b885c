"""Golden cases of the `data_types` stage, French and English (tests/golden/{fr,en}/data_types.jsonl),
through the public API: `Extractor().extract(doc)` and the record it returns."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "golden"))
from _golden import stage_tests  # noqa: E402

test_both_languages_have_cases, test_golden = stage_tests("data_types")


# The row regexes through a StartIndex (each tried only where the literals its matches start with
# occur) must give exactly the matches of running every row regex over the whole text.

import json  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"


def test_literal_starts_look_through_assertions_and_optional_parts():
    from extractor.cue_index import literal_starts

    assert literal_starts(r"(?<![\w])(?=\w)(?:(?:full |first )?(?<!file )names?(?! of))(?![\w])") == {
        "full name", "first name", "name"}
    assert literal_starts(r"noms?(?: et prénoms?)?") == {"nom"}  # "noms" starts with "nom"
    assert literal_starts(r"(?:SIN|NAS)\b", 0) == {"sin", "nas"}  # lowercased for the screen
    assert literal_starts(r"(?:SIN|NAS) ?numbers?", 0) == {"sin number", "sinnumber", "nas number", "nasnumber"}
    assert literal_starts(r"abc+d") == {"abc"}  # a repeat cuts the start after its first pass
    assert literal_starts(r"a+bcd") is None and literal_starts(r"[Nn]ame") is None  # fewer than 3 letters
    assert literal_starts(r"(?:relevés? 1|T4)", 0) is None


def test_start_index_gives_finditer_matches_of_every_regex():
    from extractor.cue_index import StartIndex, screen_text

    rxs = [re.compile(p, f) for p, f in [(r"abc(?:abc)*", re.I), (r"(?<![\w])nom(?:s| de famille)?(?![\w])", re.I),
                                         (r"[Nn]ame", 0), (r"\d+", 0), (r"NAS", 0)]]
    index = StartIndex(enumerate(rxs))
    assert 2 in index.always or any(2 in ks for ks in index.screened.values())
    for text in ["abcabc abc ABCabcx", "Nom, noms de famille, renom, NOMS", "Name name NAS nas 12", ""]:
        got = {k: [m.span() for m in ms] for k, ms in index.finditer(text, screen_text(text)).items()}
        want = {k: [m.span() for m in rx.finditer(text)] for k, rx in enumerate(rxs)}
        assert got == {k: v for k, v in want.items() if v}, text


def _random_texts(lang: str, n: int, seed: int) -> list[str]:
    """Texts made of the rows' own words (their literal starts and cores), shuffled with case changes,
    punctuation, accents and word pieces, so that starts fall inside words and at odd places."""
    from extractor.components.data_types import rules_for

    r = rules_for(lang)
    words = sorted({w for rx, _ in r.row_regexes for w in re.findall(r"[^\W\d_]+", rx.pattern) if len(w) > 1})
    rnd = random.Random(seed)
    seps = [" ", " ", " ", ", ", " et ", " and ", "\n", "-", "’", "'", ": ", " (", ") ", "/", "", "é"]
    out = []
    for _ in range(n):
        parts = []
        for _ in range(rnd.randint(5, 60)):
            w = rnd.choice(words)
            w = rnd.choice([w, w.upper(), w.capitalize(), w + "s", w[: max(1, len(w) // 2)], "x" + w])
            parts.append(w + rnd.choice(seps))
        out.append("".join(parts))
    return out


def _corpus_texts(lang: str) -> list[str]:
    texts = []
    for path in (CORPUS / "train.jsonl", CORPUS / "dev.jsonl", ROOT / "corpora" / f"{lang}.jsonl"):
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    d = json.loads(line)
                    if d.get("language") == lang:
                        texts.append(d["text"])
    return texts


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_data_type_rows_through_start_index_match_as_every_row(lang):
    from extractor.components.data_types import _matches, rules_for

    r = rules_for(lang)
    corpus = _corpus_texts(lang)
    assert len(corpus) > 50
    anchored = {k for ks in r.row_starts.anchored.values() for k in ks}
    assert len(anchored) > 0.9 * len(r.row_regexes)  # nearly every row is tried only at its starts
    hits = 0
    for text in corpus + _random_texts(lang, 300, 14):
        screened = _matches(text, r.row_regexes, starts=r.row_starts)
        assert screened == _matches(text, r.row_regexes), text[:200]
        hits += len(screened)
    assert hits > 1000  # the texts do hold many terms
