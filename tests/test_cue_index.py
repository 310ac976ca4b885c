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


def test_literal_prefix_is_the_literal_run_every_match_starts_with():
    from extractor.cue_index import literal_prefix

    assert literal_prefix(r"(?P<g0>Commission\s+d['’]?accès)") == "commission"
    assert literal_prefix(r"(?:CAI)") == "cai"
    assert literal_prefix(r"[Pp]olice") == "" and literal_prefix(r"(?:a|b)c") == ""


def test_alternation_index_tries_only_the_alternatives_that_can_match():
    from extractor.cue_index import AlternationIndex

    rx = re.compile(r"(?<!\w)(?:(?P<g0>commission\s+d'accès)|(?P<g1>commission)|(?P<g2>CAI)|(?P<g3>[Ss]ûreté))(?!\w)",
                    re.IGNORECASE)
    index = AlternationIndex(rx, r"(?<!\w)", r"(?!\w)")
    # a class of a few characters is followed through: [Ss]ûreté starts with "sûreté"
    assert index.anchored == {"commission": [0, 1], "cai": [2], "sûreté": [3]} and index.screened == {}
    text = "La Commission d'accès, la CAI, la commission et la Sûreté; Commissions, CAIS."
    found = index.finditer(text, screen_text(text))
    assert [(m.span(), m.lastgroup) for m in found] == [(m.span(), m.lastgroup) for m in rx.finditer(text)]
    assert [m.lastgroup for m in found] == ["g0", "g2", "g1", "g3"]
    assert set(index._one) == {0, 1, 2, 3}  # every alternative had a literal in the text
    index.finditer("rien", "rien")
    assert index.finditer("Rien à signaler", "rien à signaler") == []
    # an alternative with no literal start is searched whole where its literal occurs
    rx = re.compile(r"(?<!\w)(?:\w?ûreté|[a-z]+ission|CAI)(?!\w)", re.IGNORECASE)
    index = AlternationIndex(rx, r"(?<!\w)", r"(?!\w)")
    assert index.anchored == {"cai": [2]} and index.screened == {"ûreté": [0], "ission": [1]}
    found = index.finditer(text, screen_text(text))
    assert [m.span() for m in found] == [m.span() for m in rx.finditer(text)] and len(found) == 4


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_agency_names_screened_match_exactly_as_the_whole_gazetteer(lang):
    from extractor.components._util import iter_labelled
    from extractor.components.agency_mentions import _for_text, rules_for

    r = rules_for(lang)
    texts = _texts()[lang]
    for text in texts:
        low = screen_text(text)
        assert list(iter_labelled(text, _for_text(r.screened, text, low), r.labels)) == \
            list(iter_labelled(text, (r.sens, r.insens), r.labels))
        assert list(iter_labelled(text, _for_text(r.pattern_screened, text, low), r.pattern_labels)) == \
            list(iter_labelled(text, r.pattern_res, r.pattern_labels))
    assert sum(len(x.always) for x in r.screened) < 0.2 * len(r.labels)  # the screen skips most names


def test_dateline_wire_screen_skips_only_texts_the_regex_cannot_match():
    from extractor.html import _dateline_rules, find_dateline

    rx, _ = _dateline_rules()
    own = ["SHERBROOKE, QC, le 3 mars 2025 /CNW Telbec/ - La clinique avise ses patients.",
           "TORONTO, May 12, 2024 /PRNewswire/ -- A payroll firm reports an intrusion.",
           "Gatineau, 9 avril 2023 /cnw/ - Une coopérative confirme un incident."]
    texts = own + [t for lang in ("fr", "en") for t in _texts()[lang]]
    found = 0
    for text in texts:
        m = rx.search(text, 0, min(len(text), 1500))
        d = find_dateline(text)
        assert (d.start, d.end) == m.span() if d else m is None
        found += d is not None
    assert found >= len(own)


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_organization_bodies_and_patterns_screened_match_exactly_as_unscreened(lang):
    from extractor.components.org_rules import bodies_index, bodies_regex, rules_for

    r = rules_for(lang)
    index = bodies_index()
    skipped = 0
    for text in _texts()[lang]:
        low = screen_text(text)
        assert [m.span() for m in index.finditer(text, low)] == [m.span() for m in bodies_regex().finditer(text)]
        may = r.pattern_index.candidates(low)
        for k, rx in enumerate(r.patterns):
            if k not in may:
                assert rx.search(text) is None  # a pattern skipped is one that cannot match
                skipped += 1
    assert skipped > 0.5 * len(r.patterns) * len(_texts()[lang])  # the screen skips most patterns


def test_name_occurrences_are_those_of_the_word_bounded_regex():
    from extractor.components.org_candidates import _occurrences

    own = "Caisse Alpha, CaisseAlpha, Caisse Alpha_2, l'Caisse Alpha. Caisse AlphaCaisse Alpha é-Caisse Alpha"
    texts = [own, "AAA AAAA AAA_AAA AAA", "Bêta-Bêta Bêta2 Bêta"] + _texts()["fr"][:40]
    for text in texts:
        for name in ("Caisse Alpha", "AAA", "Bêta", "Desjardins", "la", "CAI", "(CSS)"):
            assert list(_occurrences(text, name)) == \
                [m.start() for m in re.finditer(rf"(?<![\w]){re.escape(name)}(?![\w])", text)]
    assert list(_occurrences(own, "Caisse Alpha")) == [0, 45, 86]  # after an apostrophe or a hyphen, never in a word


def test_window_screen_says_where_a_regex_may_match():
    from extractor.cue_index import WindowScreen

    screen = WindowScreen([("victim", r"(?:a été|was) (?:la )?victime?s?\s*$", re.IGNORECASE),
                           ("short", r"\bat\s*$", re.IGNORECASE)])
    assert screen.always == {"short"}  # "at" is too short to screen: always may
    assert screen.keys_of == {"victim": ["victim"]}  # the literal every match holds
    text = "La Clinique Alpha A ÉTÉ VICTIME d'une intrusion; Beta was victim."
    spots = screen.spots(screen_text(text))
    start = text.index("VICTIME")
    assert spots.may("victim", start, start + len("VICTIM")) and spots.may("victim", 0, len(text))
    assert not spots.may("victim", 0, start + 5)  # "victim" is not whole inside the window
    assert not spots.may("victim", start + 1, text.index("was"))
    assert spots.may("victim", start + 1, len(text))  # the second one, "was victim"
    assert spots.may("short", 0, 1) and spots.may("unregistered", 0, 1)
    assert not screen.spots("rien").may("victim", 0, 4)


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_organization_window_screen_skips_only_searches_that_cannot_match(lang):
    from extractor.components.org_rules import WINDOWED, rules_for

    r = rules_for(lang)
    skipped = 0
    for text in _texts()[lang][:60]:
        spots = r.windows.spots(screen_text(text))
        for at in range(0, len(text), 17):  # windows before and after positions all along the text
            for key in WINDOWED:
                rx = getattr(r, key)
                for lo, hi in ((max(0, at - 50), at), (at, at + 80)):
                    if not spots.may(key, lo, hi):
                        skipped += 1
                        assert rx.search(text[lo:hi]) is None and rx.search(text, lo, hi) is None, (key, text[lo:hi])
    assert skipped > 0


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_count_number_words_and_screened_regexes_match_exactly_as_unscreened(lang):
    from extractor.components.count_rules import rules_for

    r = rules_for(lang)
    own = {"fr": "Vingt-deux mille clients, un peu plus de deux cents, une dizaine d'employés, des centaines de membres.",
           "en": "Twenty-two thousand clients, a million records, about a dozen employees, hundreds of members."}[lang]
    skipped = 0
    for text in [own] + _texts()[lang]:
        low = screen_text(text)
        found = r.words_index.finditer(text, low)
        assert [m.span() for m in found] == [m.span() for m in r.words_re.finditer(text)]
        may = r.text_index.candidates(low)
        for key in ("approx_re", "vague"):
            if getattr(r, key) is not None and key not in may:
                assert getattr(r, key).search(text) is None
                skipped += 1
    assert len(r.words_index.finditer(own, screen_text(own))) >= 3 and skipped > 0


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_organization_cue_names_screened_match_exactly_as_unscreened(lang):
    from extractor.components.org_rules import rules_for

    r = rules_for(lang)
    assert r.after_cue_index is not None
    own = {"fr": "Une cyberattaque contre la Clinique Alpha; La Coopérative Beta a été victime d'un vol.",
           "en": "A breach at the Alpha Clinic. Beta Credit Union was hacked last week."}[lang]
    for text in [own] + _texts()[lang]:
        low = screen_text(text)
        assert [(m.span(), m.span(1)) for m in r.after_cue_index.finditer(text, low)] == \
            [(m.span(), m.span(1)) for m in r.after_cue.finditer(text)]
        if not r.cue_screen.candidates(low):
            assert r.before_cue.search(text) is None
    assert r.after_cue_index.finditer(own, screen_text(own)) and r.cue_screen.candidates(screen_text(own))
    assert not r.cue_screen.candidates("rien ici, nothing here")
