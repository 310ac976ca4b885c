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
