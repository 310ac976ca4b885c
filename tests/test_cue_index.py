"""The literal screen of rule regexes (extractor/cue_index.py): it only skips regexes that cannot match.

data_types runs its row regexes through a CueIndex: the mentions must be exactly those of running
every row, on generated articles and on the gold corpora.
"""

import json
import re
import sys
from pathlib import Path

import pytest

from extractor.cue_index import CueIndex, doc_low, screen_text

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
sys.path.insert(0, str(ROOT / "eval"))
import benchgen  # noqa: E402


def test_cue_index_names_the_keys_whose_literals_occur():
    index = CueIndex([("leak", r"fuites? de (?:données|renseignements)", re.IGNORECASE),
                      ("sin", r"(?<![\w])NAS(?![\w])", 0), ("any", r"\d+", 0)])
    assert index.always == {"any"}  # no literal: always a candidate
    assert index.candidates(screen_text("Une FUITE DE DONNÉES")) == {"leak", "any"}
    assert index.candidates(screen_text("son nas et son nom")) == {"sin", "any"}  # a superset: the regex decides
    assert index.candidates(screen_text("rien")) == {"any"}


def test_doc_low_is_computed_once_per_document():
    class FakeDoc:
        user_data: dict = {}

    doc = FakeDoc()
    assert doc_low(doc, "Des Données") == "des données"
    assert doc_low(doc, "ignored: already computed") == "des données"


def _texts():
    texts = {"fr": [], "en": []}
    for d in benchgen.generate(120, 5, "breach") + benchgen.generate(120, 5, "mix"):
        texts[d["bench_language"]].append(d["text"])
    for name in ("train.jsonl", "dev.jsonl"):
        for line in (CORPUS / name).read_text(encoding="utf-8").splitlines():
            d = json.loads(line)
            texts[d["language"]].append(d["text"])
    return texts


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_data_type_rows_screened_match_exactly_as_all_rows(lang):
    from extractor.components.data_types import _matches, rules_for

    rules = rules_for(lang)
    texts = _texts()[lang]
    assert len(texts) > 100
    for text in texts:
        assert _matches(text, rules.row_regexes, rules.row_index) == _matches(text, rules.row_regexes)
    assert len(rules.row_index.always) < 0.1 * len(rules.row_regexes)  # the screen skips most rows


def test_split_alternatives_keeps_groups_classes_and_escapes_whole():
    from extractor.cue_index import split_alternatives

    assert split_alternatives(r"a|(?:b|c)|[|(]|\||x") == ["a", "(?:b|c)", "[|(]", r"\|", "x"]
    assert split_alternatives(r"[]|]|[^]|]") == ["[]|]", "[^]|]"]


def test_alternation_index_runs_only_the_alternatives_that_can_match():
    from extractor.cue_index import AlternationIndex

    rx = re.compile(r"(?<!\w)(?:(?P<g0>commission\s+d'accès)|(?P<g1>commission)|(?P<g2>CAI))(?!\w)", re.IGNORECASE)
    index = AlternationIndex(rx, r"(?<!\w)", r"(?!\w)")
    assert index.regex_for(screen_text("Rien à signaler")) is None
    reduced = index.regex_for(screen_text("La Commission a reçu un avis"))
    # g0's literal is its longest run ("commission"): it may match and still runs; "cai" does not occur
    assert reduced.pattern.count("(?P<") == 2 and "CAI" not in reduced.pattern
    text = "La Commission d'accès et la CAI, puis la commission."
    assert [m.span() for m in index.finditer(text, screen_text(text))] == [m.span() for m in rx.finditer(text)]


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_agency_names_screened_match_exactly_as_the_whole_gazetteer(lang):
    from extractor.components._util import iter_labelled
    from extractor.components.agency_mentions import _for_text, rules_for

    r = rules_for(lang)
    texts = _texts()[lang]
    for text in texts:
        low = screen_text(text)
        assert list(iter_labelled(text, _for_text(r.screened, low), r.labels)) == \
            list(iter_labelled(text, (r.sens, r.insens), r.labels))
        assert list(iter_labelled(text, _for_text(r.pattern_screened, low), r.pattern_labels)) == \
            list(iter_labelled(text, r.pattern_res, r.pattern_labels))
    assert sum(len(x.index.always) for x in r.screened) < 0.2 * len(r.labels)  # the screen skips most names
