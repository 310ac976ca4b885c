"""The scorer (extractor/evaluate.py) on hand-made gold/record pairs, and `incidents eval` end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from extractor.errors import GateError, InputError
from extractor.evaluate import (
    FIGURES, below_floors, check_report, dump_baseline, fold_name, fold_words, format_errors,
    format_table, load_gold, names_match, score, strip_gold, update_floors,
)
from extractor.record import (
    Agency, DataType, Dates, DateValue, Evidence, Organization, Record, Source, Victims,
)

ROOT = Path(__file__).resolve().parent.parent

# --------------------------------------------------------------------------------------------
# Hand-made documents and records (our own tiny texts)
# --------------------------------------------------------------------------------------------

FR_TEXT = ("La Coopérative des Érables a signalé le 3 mars 2024 un vol de données touchant 1 200 membres : "
           "noms et adresses courriel. La Commission d'accès à l'information a été avisée.")
EN_TEXT = ("Northwind Bakery said on Monday that a break-in on May 2, 2024 exposed the names of 80 staff. "
           "The Office of the Privacy Commissioner was informed.")
NEG_TEXT = "Ten tips to keep your passwords safe after a data breach."


def gold_doc(doc_id, text=EN_TEXT, language="en", is_incident=True, organization="Northwind Bakery",
             aliases=(), victim_count=None, incident_date=None, discovery_date=None, data_types=(),
             agencies=(), published="2024-05-06"):
    return {
        "id": doc_id, "url": f"https://example.org/{doc_id}", "language": language, "source_kind": "news",
        "publication_date": published, "text": text,
        "gold": {
            "is_incident": is_incident,
            "organization": organization if is_incident else None,
            "organization_aliases": list(aliases),
            "victim_count": victim_count, "victim_count_qualifier": None,
            "data_types": list(data_types), "incident_date": incident_date, "discovery_date": discovery_date,
            "agencies": list(agencies), "agency_roles": {}, "incident_key": doc_id, "notes": "",
        },
    }


def ev(text: str, span: str) -> Evidence:
    start = text.find(span)
    if start < 0:  # a value the text does not hold: point at its beginning
        span, start = text[:5], 0
    return Evidence(text=span, start=start, end=start + len(span))


def record(doc, is_incident=True, org=None, acronym=None, aliases=(), count=None, incident=None,
           discovered=None, data_types=(), agencies=(), error=None, doc_id=None):
    text = doc["text"]
    return Record(
        source=Source(id=doc["id"] if doc_id is None else doc_id, language=doc["language"]),
        is_incident=is_incident,
        relevance=0.9 if is_incident else 0.1,
        organization=None if org is None else Organization(name=org, acronym=acronym, aliases=list(aliases), evidence=ev(text, org)),
        victims=Victims(count=count, evidence=None if count is None else ev(text, str(count))),
        dates=Dates(
            incident=None if incident is None else DateValue(date=date.fromisoformat(incident), evidence=ev(text, "2024")),
            discovered=None if discovered is None else DateValue(date=date.fromisoformat(discovered), evidence=ev(text, "2024")),
        ),
        data_types=[DataType(code=c, evidence=ev(text, "names")) for c in data_types],
        agencies=[Agency(code=c, name=c, role="notified", evidence=ev(text, "informed")) for c in agencies],
        error=error,
    )


def errors_of(report, field):
    return [e for e in report.errors if e.field == field]


# --------------------------------------------------------------------------------------------
# Name folding and matching
# --------------------------------------------------------------------------------------------

def test_fold_drops_case_accents_punctuation_and_articles():
    assert fold_words("Centre de santé Tulattavik de l’Ungava") == ("centre", "sante", "tulattavik", "ungava")
    assert fold_name("LA SOCIÉTÉ DES ALCOOLS DU QUÉBEC") == "societe alcools quebec"
    assert fold_name("The U.S. Office of Personnel Management") == "us office personnel management"
    assert fold_name("Montreal’s police") == "montreal police"
    assert fold_name("Cœur-de-l'Île") == "coeur ile"
    assert fold_name("Canada Computers & Electronics") == fold_name("Canada Computers and Electronics")
    assert fold_name("") == "" and fold_words(None) == ()


def test_curly_and_straight_apostrophes_match():
    assert names_match("Centre de services scolaire des Portages-de-l’Outaouais",
                       "centre de services scolaire des portages de l'outaouais")
    assert names_match("Commission d’accès à l’information", "COMMISSION D'ACCES A L'INFORMATION")


def test_containment_needs_half_the_words():
    assert names_match("Mouvement Desjardins", "Desjardins")            # 1 of 2 words
    assert names_match("Desjardins", "Mouvement Desjardins")            # either order
    assert not names_match("Fédération des caisses Desjardins du Québec", "Desjardins")  # 1 of 4
    assert names_match("CHU de Québec-Université Laval", "CHU de Québec")  # 2 of 4 after folding
    assert not names_match("Giant Tiger Stores Limited Canada", "Giant Tiger")  # 2 of 5


def test_containment_is_of_whole_words_in_a_run():
    assert not names_match("Campbell", "Bell")
    assert not names_match("Bell Media", "Media Bell")
    assert not names_match("Banque Royale du Canada", "Banque Canada")  # not a run of words


def test_names_made_only_of_articles_or_empty_never_match():
    assert not names_match("The", "the")
    assert not names_match("", "")
    assert not names_match(None, "Desjardins")


# --------------------------------------------------------------------------------------------
# Gold input
# --------------------------------------------------------------------------------------------

def test_strip_gold_gives_only_the_input_fields():
    doc = gold_doc("a", published="2022-06")
    assert strip_gold(doc) == {"id": "a", "url": "https://example.org/a", "text": EN_TEXT, "published": "2022-06"}
    assert strip_gold(doc, with_language=True)["language"] == "en"


def test_load_gold_reads_and_rejects_bad_files(tmp_path):
    good = tmp_path / "g.jsonl"
    good.write_text(json.dumps(gold_doc("a")) + "\n\n" + json.dumps(gold_doc("b")) + "\n", encoding="utf-8")
    assert [d["id"] for d in load_gold(good)] == ["a", "b"]

    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(gold_doc("a")) + "\n{not json\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"bad.jsonl:2"):
        load_gold(bad)
    nogold = tmp_path / "nogold.jsonl"
    nogold.write_text(json.dumps({"id": "x", "text": "t"}) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="gold"):
        load_gold(nogold)
    dup = tmp_path / "dup.jsonl"
    dup.write_text((json.dumps(gold_doc("a")) + "\n") * 2, encoding="utf-8")
    with pytest.raises(InputError, match="duplicate id"):
        load_gold(dup)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n", encoding="utf-8")
    with pytest.raises(InputError, match="empty"):
        load_gold(empty)
    with pytest.raises(InputError, match="not found"):
        load_gold(tmp_path / "missing.jsonl")


# --------------------------------------------------------------------------------------------
# Scoring
# --------------------------------------------------------------------------------------------

def test_a_perfect_record_scores_one_and_nothing_to_count_is_none():
    g = gold_doc("a", victim_count=80, incident_date="2024-05-02", data_types=["name", "employment_hr"], agencies=["OPC"])
    r = record(g, org="Northwind Bakery", count=80, incident="2024-05-02", data_types=["name", "employment_hr"], agencies=["OPC"])
    report = score([g], [r])
    f = report.figures["all"]
    assert report.errors == []
    for name in FIGURES:
        if name != "relevance_precision" and name != "relevance_recall":
            assert f[name] == 1.0, name
    assert f["relevance_precision"] == f["relevance_recall"] == 1.0
    assert list(report.figures) == ["all", "en"]

    # No gold date and none given: the date slot has nothing to count.
    g2 = gold_doc("b")
    assert score([g2], [record(g2, org="Northwind Bakery")]).figures["all"]["dates_f1"] is None


def test_null_must_give_null():
    g = gold_doc("a", victim_count=None)
    right = score([g], [record(g, org="Northwind Bakery", count=None)])
    assert right.figures["all"]["victim_count_accuracy"] == 1.0
    assert right.figures["all"]["incident_date_accuracy"] == 1.0
    assert right.figures["all"]["discovery_date_accuracy"] == 1.0

    wrong = score([g], [record(g, org="Northwind Bakery", count=80, discovered="2024-05-03")])
    f = wrong.figures["all"]
    assert f["victim_count_accuracy"] == 0.0 and f["discovery_date_accuracy"] == 0.0
    assert f["incident_date_accuracy"] == 1.0
    (e,) = errors_of(wrong, "victim_count")
    assert (e.doc_id, e.got, e.expected, e.evidence) == ("a", 80, None, "80")
    (d,) = errors_of(wrong, "discovery_date")
    assert (d.got, d.expected) == ("2024-05-03", None)

    # A gold count left out by the record is wrong too.
    g2 = gold_doc("b", victim_count=80)
    assert score([g2], [record(g2, org="Northwind Bakery")]).figures["all"]["victim_count_accuracy"] == 0.0


def test_dates_slot_f1_arithmetic():
    docs = [
        gold_doc("both-hit", incident_date="2024-05-02", discovery_date="2024-05-04"),
        gold_doc("missed", discovery_date="2024-05-04"),
        gold_doc("wrong-day", incident_date="2024-05-02"),
        gold_doc("invented", incident_date=None),
        gold_doc("nothing"),
    ]
    recs = [
        record(docs[0], org="Northwind Bakery", incident="2024-05-02", discovered="2024-05-04"),  # 2 hits
        record(docs[1], org="Northwind Bakery"),                                                 # 1 miss
        record(docs[2], org="Northwind Bakery", incident="2024-05-01"),                          # 1 false alarm + 1 miss
        record(docs[3], org="Northwind Bakery", incident="2024-04-30"),                          # 1 false alarm
        record(docs[4], org="Northwind Bakery"),                                                 # nothing
    ]
    report = score(docs, recs)
    c = report.tallies["all"]
    assert (c.dates_hits, c.dates_false_alarms, c.dates_misses) == (2, 2, 2)
    f = report.figures["all"]
    assert f["dates_precision"] == 0.5          # 2 / (2 + 2)
    assert f["dates_recall"] == 0.5             # 2 / (2 + 2)
    assert f["dates_f1"] == 0.5
    assert f["incident_date_accuracy"] == 0.6   # both-hit, missed, nothing right
    assert f["discovery_date_accuracy"] == 0.8  # all but missed

    # Drop the invented date: precision 2/3, recall 2/4, F1 = 4 / (4 + 1 + 2).
    report = score(docs[:3], recs[:3])
    f = report.figures["all"]
    assert f["dates_precision"] == round(2 / 3, 4)
    assert f["dates_recall"] == 0.5
    assert f["dates_f1"] == round(4 / 7, 4)


def test_relevance_accuracy_precision_recall_over_all_documents():
    docs = [gold_doc(f"p{i}") for i in range(4)] + [gold_doc(f"n{i}", text=NEG_TEXT, is_incident=False) for i in range(2)]
    said = [True, True, False, False, True, False]   # TP TP FN FN FP TN
    recs = [record(d, is_incident=s, org="Northwind Bakery" if s else None) for d, s in zip(docs, said)]
    f = score(docs, recs).figures["all"]
    assert f["relevance_accuracy"] == 0.5        # 3 of 6
    assert f["relevance_precision"] == round(2 / 3, 4)
    assert f["relevance_recall"] == 0.5
    # Field figures are over the 4 gold incidents only: the 2 missed ones have no organization.
    assert f["organization_accuracy"] == 0.5


def test_organization_matches_through_acronym_and_aliases():
    g = gold_doc("a", text=FR_TEXT, language="fr", organization="Société des alcools du Québec", aliases=["SAQ"])
    cases = [
        (dict(org="SAQ"), True),                                           # record name = gold alias
        (dict(org="Société des Alcools", acronym="SAQ"), True),            # record acronym = gold alias
        (dict(org="Le réseau", aliases=["la Société des alcools du Québec"]), True),  # record alias, article
        (dict(org="Alcools Québec Inc. et filiales diverses"), False),
        (dict(org=None), False),                                            # missing is wrong
    ]
    for kw, expected in cases:
        report = score([g], [record(g, **kw)])
        assert report.figures["all"]["organization_accuracy"] == (1.0 if expected else 0.0), kw
    (e,) = errors_of(score([g], [record(g, org=None)]), "organization")
    assert e.got is None and e.expected == ["Société des alcools du Québec", "SAQ"]


def test_code_sets_micro_precision_recall():
    docs = [gold_doc("a", data_types=["name", "email", "phone"], agencies=["OPC"]),
            gold_doc("b", data_types=["sin"], agencies=[])]
    recs = [record(docs[0], org="Northwind Bakery", data_types=["name", "email"], agencies=["OPC", "RCMP"]),
            record(docs[1], org="Northwind Bakery", data_types=["sin", "medical", "address"])]
    report = score(docs, recs)
    f = report.figures["all"]
    # data types: tp 3 (name, email, sin), fp 2 (medical, address), fn 1 (phone)
    assert f["data_types_precision"] == 0.6
    assert f["data_types_recall"] == 0.75
    assert f["data_types_f1"] == round(6 / 9, 4)
    # agencies: tp 1, fp 1, fn 0
    assert (f["agencies_precision"], f["agencies_recall"], f["agencies_f1"]) == (0.5, 1.0, round(2 / 3, 4))
    (e,) = [e for e in errors_of(report, "data_types") if e.doc_id == "b"]
    assert e.got == ["address", "medical", "sin"] and e.expected == ["sin"]


def test_per_language_split():
    fr = gold_doc("fr1", text=FR_TEXT, language="fr", organization="Coopérative des Érables", victim_count=1200,
                  data_types=["name", "email"], agencies=["CAI"])
    fr_neg = gold_doc("fr2", text=NEG_TEXT, language="fr", is_incident=False)
    en = gold_doc("en1", victim_count=80)
    recs = [
        record(fr, org="Coopérative des Érables", count=1200, data_types=["name", "email"], agencies=["CAI"]),
        record(fr_neg, is_incident=True, org="Ten tips"),   # false positive, French
        record(en, org="Southwind", count=8),                # wrong organization and count, English
    ]
    report = score([fr, fr_neg, en], recs)
    figs = report.figures
    assert list(figs) == ["all", "fr", "en"]
    assert figs["fr"]["organization_accuracy"] == 1.0 and figs["en"]["organization_accuracy"] == 0.0
    assert figs["all"]["organization_accuracy"] == 0.5
    assert figs["fr"]["relevance_accuracy"] == 0.5 and figs["en"]["relevance_accuracy"] == 1.0
    assert figs["fr"]["relevance_precision"] == 0.5 and figs["en"]["relevance_precision"] == 1.0
    assert figs["fr"]["victim_count_accuracy"] == 1.0 and figs["en"]["victim_count_accuracy"] == 0.0
    assert figs["en"]["data_types_f1"] is None                 # nothing to count in English
    counts = report.to_dict()["counts"]
    assert (counts["fr"]["documents"], counts["fr"]["incidents"]) == (2, 1)
    assert (counts["en"]["documents"], counts["en"]["incidents"]) == (1, 1)


def test_records_are_found_by_id_and_failures_count_as_wrong():
    docs = [gold_doc("a", victim_count=80), gold_doc("n", text=NEG_TEXT, is_incident=False), gold_doc("lost")]
    recs = [
        record(docs[1], is_incident=False, error="InputError: text is binary"),  # failed negative
        record(docs[0], org="Northwind Bakery", count=80),                        # out of order
    ]
    report = score(docs, recs)
    f = report.figures["all"]
    assert report.tallies["all"].failed == 2
    assert f["relevance_accuracy"] == round(1 / 3, 4)      # a failed negative is not "right"
    assert f["organization_accuracy"] == 0.5                # 'lost' has no record
    got = {(e.doc_id, e.field): e.got for e in report.errors}
    assert got[("n", "error")] == "InputError: text is binary"
    assert got[("lost", "error")] == "no record"


def test_error_list_carries_the_evidence_the_extractor_used():
    g = gold_doc("a", organization="Northwind Bakery")
    report = score([g], [record(g, org="Office of the Privacy Commissioner")])
    (e,) = errors_of(report, "organization")
    assert e.evidence == "Office of the Privacy Commissioner"
    assert "Office of the Privacy Commissioner" in format_errors(report)


def test_table_ends_with_the_per_language_figures():
    fr = gold_doc("fr1", text=FR_TEXT, language="fr", organization="Coopérative des Érables")
    en = gold_doc("en1")
    report = score([fr, en], [record(fr, org="Coopérative des Érables"), record(en, org="Nobody")], corpus="tiny.jsonl")
    lines = format_table(report).splitlines()
    assert len(lines) <= 12
    assert lines[0].startswith("tiny.jsonl: 2 documents (1 fr, 1 en), 2 gold incidents, 0 failed")
    assert lines[1].split() == ["all", "fr", "en"]
    org = next(line for line in lines if line.startswith("organization"))
    assert org.split()[1:] == ["0.50", "1.00", "0.00"]
    assert lines[-1].startswith("agencies P/R/F1")


# --------------------------------------------------------------------------------------------
# Floors
# --------------------------------------------------------------------------------------------

def test_below_floors_names_each_figure():
    figures = {"all": {"organization_accuracy": 0.7, "dates_f1": None}, "fr": {"organization_accuracy": 0.9}}
    floors = {"all": {"organization_accuracy": 0.75, "dates_f1": 0.0}, "fr": {"organization_accuracy": 0.9},
              "en": {"organization_accuracy": 0.0}}
    failures = below_floors(figures, floors)
    assert failures[0] == "all organization_accuracy 0.7000 < floor 0.7500"
    assert "en organization_accuracy" in failures[1] and "no 'en' documents" in failures[1]
    assert len(failures) == 2
    assert below_floors(figures, {"all": {"dates_f1": 0.5}}) == ["all dates_f1 n/a (nothing to count) < floor 0.5000"]
    assert below_floors(figures, {"all": {"organization_accuracy": None}}) == []


def test_check_report_finds_floors_by_path_relative_to_the_repository(tmp_path):
    (tmp_path / "eval").mkdir()
    (tmp_path / "corpora").mkdir()
    corpus = tmp_path / "corpora" / "x.jsonl"
    g = gold_doc("a")
    report = score([g], [record(g, org="Nobody")], corpus=str(corpus))
    baseline_path = tmp_path / "eval" / "baseline.json"
    baseline = {"corpora": {"corpora/x.jsonl": {"all": {"organization_accuracy": 0.5}}}}
    assert check_report(report, baseline, baseline_path) == ["all organization_accuracy 0.0000 < floor 0.5000"]
    with pytest.raises(GateError, match="no floors for corpus"):
        check_report(score([g], [record(g)], corpus=str(tmp_path / "other.jsonl")), baseline, baseline_path)


def test_update_floors_raises_and_lowers_only_with_a_reason():
    floors = {"all": {"organization_accuracy": 0.5, "victim_count_accuracy": 0.8}}
    figures = {"all": {"organization_accuracy": 0.75, "victim_count_accuracy": 0.6, "dates_f1": None}}
    raised, lowered, refused = update_floors(floors, figures)
    assert floors["all"]["organization_accuracy"] == 0.75 and floors["all"]["victim_count_accuracy"] == 0.8
    assert raised[0] == "all organization_accuracy 0.5000 -> 0.7500"
    assert lowered == [] and refused == ["all victim_count_accuracy 0.6000 < floor 0.8000"]
    assert floors["all"]["dates_f1"] is None

    with pytest.raises(InputError, match="reason"):
        update_floors(floors, figures, allow_lower=True, reason=" ")
    _, lowered, refused = update_floors(floors, figures, allow_lower=True, reason="gold corrected")
    assert lowered == [{"scope": "all", "figure": "victim_count_accuracy", "from": 0.8, "to": 0.6, "reason": "gold corrected"}]
    assert refused == [] and floors["all"]["victim_count_accuracy"] == 0.6


def test_baseline_file_is_one_floor_per_line_and_covers_every_figure():
    path = ROOT / "eval" / "baseline.json"
    text = path.read_text(encoding="utf-8")
    baseline = json.loads(text)
    assert dump_baseline(baseline) == text       # kept exactly as update_baseline.py writes it
    for key in ("../shared/corpus/dev.jsonl", "../shared/corpus/seeds.jsonl", "corpora/fr.jsonl", "corpora/en.jsonl"):
        for scope, floors in baseline["corpora"][key].items():
            assert set(floors) == set(FIGURES), (key, scope)
            for name in FIGURES:
                assert text.count(f'"{name}": ') >= 1
    assert isinstance(baseline["lowered"], list)


def test_report_table_prints_one_column_per_corpus_and_language(tmp_path):
    fr = gold_doc("fr1", text=FR_TEXT, language="fr", organization="Coopérative des Érables")
    en = gold_doc("en1")
    dev = score([fr, en], [record(fr, org="Coopérative des Érables"), record(en, org="Nobody")], corpus="../shared/corpus/dev.jsonl")
    seeds = score([en], [record(en, org="Northwind Bakery")], corpus="../shared/corpus/seeds.jsonl")
    saved = tmp_path / "eval.json"
    saved.write_text(json.dumps({"corpora": {r.corpus: r.to_dict() for r in (dev, seeds)}}), encoding="utf-8")
    res = subprocess.run([sys.executable, str(ROOT / "eval" / "report_table.py"), str(saved)],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.strip().splitlines()
    assert lines[0] == ("| figure | dev fr (1 docs, 1 inc.) | dev en (1 docs, 1 inc.) | seeds en (1 docs, 1 inc.) |")
    assert len(lines) == 2 + len(FIGURES)
    assert "| organization accuracy | 1.00 | 0.00 | 1.00 |" in lines
    assert "| dates slot F1 | n/a | n/a | n/a |" in lines
    bad = subprocess.run([sys.executable, str(ROOT / "eval" / "report_table.py")], input="[]",
                         capture_output=True, text=True, timeout=60)
    assert bad.returncode == 3 and bad.stderr.count("\n") == 1


# --------------------------------------------------------------------------------------------
# `incidents eval` end to end, with the real extractor
# --------------------------------------------------------------------------------------------

def run_cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-c", "from extractor.cli import main; main()", "eval", *args],
                          cwd=cwd, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_cli_eval_end_to_end(tmp_path):
    docs = [
        gold_doc("fr1", text=FR_TEXT, language="fr", organization="Coopérative des Érables", victim_count=1200,
                 incident_date="2024-03-03", data_types=["name", "email"], agencies=["CAI"], published="2024-03-05"),
        gold_doc("en1", victim_count=80, incident_date="2024-05-02", data_types=["name", "employment_hr"], agencies=["OPC"]),
        gold_doc("en2", text=NEG_TEXT, is_incident=False),
    ]
    gold = tmp_path / "tiny.jsonl"
    gold.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs), encoding="utf-8")

    out = run_cli(str(gold), "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    rep = data["corpora"][str(gold)]
    assert (rep["documents"], rep["incidents"]) == (3, 2)
    assert list(rep["figures"]) == ["all", "fr", "en"]
    assert set(rep["figures"]["fr"]) == set(FIGURES)
    assert {e["doc_id"] for e in rep["errors"]} <= {"fr1", "en1", "en2"}
    # The printed figures agree with the counts printed beside them.
    c = rep["counts"]["all"]
    assert rep["figures"]["all"]["relevance_accuracy"] == round(c["relevance_right"] / 3, 4)
    assert rep["failed"] == 0, rep["errors"]

    table = run_cli(str(gold), "--no-errors")
    assert table.returncode == 0, table.stderr
    lines = table.stdout.strip().splitlines()
    assert lines[-11].startswith(f"{gold}: 3 documents (1 fr, 2 en)")
    assert lines[-10].split() == ["all", "fr", "en"] and lines[-1].startswith("agencies P/R/F1")

    # The gate: a floor above 1 cannot be met; one line on stderr naming the figure, exit 6.
    (tmp_path / "eval").mkdir()
    baseline = tmp_path / "eval" / "baseline.json"
    baseline.write_text(json.dumps({"corpora": {"tiny.jsonl": {"fr": {"relevance_accuracy": 1.01}}}}), encoding="utf-8")
    gate = run_cli(str(gold), "--no-errors", "--check", str(baseline))
    assert gate.returncode == 6
    assert gate.stderr.count("\n") == 1 and "fr relevance_accuracy" in gate.stderr and "1.0100" in gate.stderr
    baseline.write_text(json.dumps({"corpora": {"tiny.jsonl": {"fr": {"relevance_accuracy": 0.0}}}}), encoding="utf-8")
    assert run_cli(str(gold), "--check", str(baseline)).returncode == 0

    # A bad gold file: one line, exit 3, before the extractor loads.
    bad = tmp_path / "bad.jsonl"
    bad.write_text("{oops\n", encoding="utf-8")
    res = run_cli(str(bad))
    assert res.returncode == 3 and res.stderr.count("\n") == 1 and "bad.jsonl:1" in res.stderr
