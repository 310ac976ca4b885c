"""Extraction quality: score records against a gold corpus, as ../shared/README.md defines it.

    >>> from extractor.evaluate import load_gold, evaluate_docs
    >>> gold = load_gold("../shared/corpus/dev.jsonl")
    >>> report = evaluate_docs(gold)               # runs the extractor once over the corpus
    >>> report.figures["fr"]["organization_accuracy"]

`score(gold_docs, records)` is the scorer alone (no extractor); `strip_gold` turns a gold line
into the document the extractor sees; `names_match` / `fold_name` are the organization-name
matching rules, reusable elsewhere (merging, search), from ``name_match.py``. The quality gate
(floors of eval/baseline.json) is ``quality_gate.py``, the text of ``incidents eval`` ``eval_report.py``.

Figures, per scope (``all``, and each gold language: ``fr``, ``en``):

- relevance_accuracy / _precision / _recall: ``is_incident`` over all documents (positive class: incident);
- organization_accuracy, victim_count_accuracy, incident_date_accuracy, discovery_date_accuracy:
  share of gold incidents whose value is right (a gold ``null`` must give ``null``);
- dates_precision / _recall / _f1: one slot score over both date fields of gold incidents;
- data_types_* and agencies_*: micro precision, recall and F1 over code sets of gold incidents.

A document whose record failed (``Record.error``) or is missing is wrong on every figure it counts in.
A ratio with nothing to count (no gold incident in a language, no date anywhere) is ``None``.
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Optional, Sequence

from .errors import InputError
from .name_match import (  # noqa: F401  the name rules are part of the scorer's API
    NAME_STOPWORDS, any_name_matches, fold_name, fold_words, names_match, record_names)
from .record import Record

LANGUAGES = ("fr", "en")
SCOPES = ("all",) + LANGUAGES

#: Every figure, in the order the table shows them.
FIGURES = (
    "relevance_accuracy", "relevance_precision", "relevance_recall",
    "organization_accuracy", "victim_count_accuracy",
    "incident_date_accuracy", "discovery_date_accuracy",
    "dates_precision", "dates_recall", "dates_f1",
    "data_types_precision", "data_types_recall", "data_types_f1",
    "agencies_precision", "agencies_recall", "agencies_f1",
)
#: Digits figures are kept with in reports and floors.
DIGITS = 4

# --------------------------------------------------------------------------------------------
# Gold corpus
# --------------------------------------------------------------------------------------------

def load_gold(path: str | Path) -> list[dict]:
    """Read a gold JSONL corpus; every problem is an `InputError` naming the file and line."""
    p = Path(path)
    if not p.is_file():
        raise InputError(f"gold corpus not found: {p}")
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except (UnicodeDecodeError, OSError) as err:
        raise InputError(f"cannot read gold corpus {p}: {err}") from None
    docs, seen = [], set()
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
        except json.JSONDecodeError as err:
            raise InputError(f"{p}:{n}: not JSON ({err.msg})") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("gold"), dict):
            raise InputError(f"{p}:{n}: not a gold document (an object with a 'gold' object)")
        if not isinstance(doc.get("text"), str) or not doc.get("id"):
            raise InputError(f"{p}:{n}: a gold document needs 'id' and 'text'")
        if doc["id"] in seen:
            raise InputError(f"{p}:{n}: duplicate id {doc['id']!r}")
        seen.add(doc["id"])
        docs.append(doc)
    if not docs:
        raise InputError(f"gold corpus is empty: {p}")
    return docs


def strip_gold(doc: dict, with_language: bool = False) -> dict:
    """The input document the extractor sees: ``{id, url, text, published}`` (+ ``language`` if asked)."""
    out = {"id": doc["id"], "url": doc.get("url"), "text": doc["text"], "published": doc.get("publication_date")}
    if with_language:
        out["language"] = doc.get("language")
    return out


# --------------------------------------------------------------------------------------------
# Scoring
# --------------------------------------------------------------------------------------------

def ratio(num: int, den: int) -> Optional[float]:
    return num / den if den else None


def prf(tp: int, fp: int, fn: int) -> tuple[Optional[float], Optional[float], Optional[float]]:
    """Precision, recall, F1; F1 = 2tp / (2tp + fp + fn), ``None`` only when all three are 0."""
    return ratio(tp, tp + fp), ratio(tp, tp + fn), ratio(2 * tp, 2 * tp + fp + fn)


@dataclass
class Tally:
    """The counts behind the figures of one scope."""

    documents: int = 0
    incidents: int = 0
    failed: int = 0
    relevance_right: int = 0
    relevance_tp: int = 0
    relevance_fp: int = 0
    relevance_fn: int = 0
    organization_right: int = 0
    victim_count_right: int = 0
    incident_date_right: int = 0
    discovery_date_right: int = 0
    dates_hits: int = 0
    dates_false_alarms: int = 0
    dates_misses: int = 0
    data_types_tp: int = 0
    data_types_fp: int = 0
    data_types_fn: int = 0
    agencies_tp: int = 0
    agencies_fp: int = 0
    agencies_fn: int = 0

    def add(self, other: "Tally") -> None:
        for k in self.__dataclass_fields__:
            setattr(self, k, getattr(self, k) + getattr(other, k))

    def figures(self) -> dict[str, Optional[float]]:
        f: dict[str, Optional[float]] = {}
        f["relevance_accuracy"] = ratio(self.relevance_right, self.documents)
        f["relevance_precision"], f["relevance_recall"], _ = prf(self.relevance_tp, self.relevance_fp, self.relevance_fn)
        for name in ("organization", "victim_count", "incident_date", "discovery_date"):
            f[f"{name}_accuracy"] = ratio(getattr(self, f"{name}_right"), self.incidents)
        f["dates_precision"], f["dates_recall"], f["dates_f1"] = prf(self.dates_hits, self.dates_false_alarms, self.dates_misses)
        for name in ("data_types", "agencies"):
            p, r, f1 = prf(getattr(self, f"{name}_tp"), getattr(self, f"{name}_fp"), getattr(self, f"{name}_fn"))
            f[f"{name}_precision"], f[f"{name}_recall"], f[f"{name}_f1"] = p, r, f1
        return {k: (None if f[k] is None else round(f[k], DIGITS)) for k in FIGURES}


@dataclass
class ErrorItem:
    """One wrong value: which document, which field, what the extractor gave, what the gold says."""

    doc_id: str
    language: Optional[str]
    field: str
    got: Any
    expected: Any
    evidence: Optional[str] = None

    def to_dict(self) -> dict:
        return {"doc_id": self.doc_id, "language": self.language, "field": self.field,
                "got": self.got, "expected": self.expected, "evidence": self.evidence}


@dataclass
class Report:
    """Figures per scope (``all``, ``fr``, ``en`` — a language only when the corpus has it),
    the counts behind them, and the list of wrong values."""

    corpus: Optional[str]
    tallies: dict[str, Tally]
    errors: list[ErrorItem] = field(default_factory=list)

    @property
    def figures(self) -> dict[str, dict[str, Optional[float]]]:
        return {scope: t.figures() for scope, t in self.tallies.items()}

    def to_dict(self, errors: bool = True) -> dict:
        d = {
            "corpus": self.corpus,
            "documents": self.tallies["all"].documents,
            "incidents": self.tallies["all"].incidents,
            "failed": self.tallies["all"].failed,
            "figures": self.figures,
            "counts": {scope: vars(t).copy() for scope, t in self.tallies.items()},
        }
        if errors:
            d["errors"] = [e.to_dict() for e in self.errors]
        return d


def _gold_day(value: Any) -> Optional[str]:
    return None if value in (None, "") else str(value)


def _day_matches(got: Optional[date], gold: Optional[str]) -> bool:
    """Same day; a month-only gold value (``2024-08``) is matched by any day of that month."""
    if got is None or gold is None:
        return got is None and gold is None
    return got.isoformat()[: len(gold)] == gold


def _ev(obj: Any) -> Optional[str]:
    ev = getattr(obj, "evidence", None)
    return getattr(ev, "text", None)


def _score_one(gold_doc: dict, record: Optional[Record], tally: Tally, errors: list[ErrorItem]) -> None:
    g = gold_doc["gold"]
    doc_id, lang = gold_doc["id"], gold_doc.get("language")
    gold_incident = bool(g.get("is_incident"))

    def wrong(field_: str, got: Any, expected: Any, evidence: Optional[str] = None) -> None:
        errors.append(ErrorItem(doc_id, lang, field_, got, expected, evidence))

    tally.documents += 1
    tally.incidents += gold_incident
    failed = record is None or record.error is not None
    if failed:
        tally.failed += 1
        wrong("error", "no record" if record is None else record.error, None)
        # A failed document is wrong on every figure: relevance, each field, each gold code missed.
        tally.relevance_fn += gold_incident
        if gold_incident:
            tally.dates_misses += sum(_gold_day(g.get(k)) is not None for k in ("incident_date", "discovery_date"))
            tally.data_types_fn += len(set(g.get("data_types") or []))
            tally.agencies_fn += len(set(g.get("agencies") or []))
        return

    # Relevance, over all documents.
    if record.is_incident == gold_incident:
        tally.relevance_right += 1
    else:
        wrong("is_incident", record.is_incident, gold_incident, f"relevance {record.relevance:.2f}")
    if record.is_incident and gold_incident:
        tally.relevance_tp += 1
    elif record.is_incident:
        tally.relevance_fp += 1
    elif gold_incident:
        tally.relevance_fn += 1
    if not gold_incident:
        return

    # Organization.
    names = record_names(record)
    gold_names = [g.get("organization"), *(g.get("organization_aliases") or [])]
    if any_name_matches(names, gold_names):
        tally.organization_right += 1
    else:
        wrong("organization", names or None, [n for n in gold_names if n] or None, _ev(record.organization))

    # Victim count.
    got_count, gold_count = record.victims.count, g.get("victim_count")
    if got_count == gold_count:
        tally.victim_count_right += 1
    else:
        wrong("victim_count", got_count, gold_count, _ev(record.victims))

    # Dates: accuracy per field, and one slot score over both.
    for field_, attr, gold_key in (("incident_date", "incident", "incident_date"),
                                   ("discovery_date", "discovered", "discovery_date")):
        value = getattr(record.dates, attr)
        got_day = value.date if value is not None else None
        gold_day = _gold_day(g.get(gold_key))
        if _day_matches(got_day, gold_day):
            setattr(tally, f"{field_}_right", getattr(tally, f"{field_}_right") + 1)
            tally.dates_hits += got_day is not None
            continue
        wrong(field_, got_day.isoformat() if got_day else None, gold_day, _ev(value))
        tally.dates_false_alarms += got_day is not None
        tally.dates_misses += gold_day is not None

    # Code sets.
    for field_, items in (("data_types", record.data_types), ("agencies", record.agencies)):
        got = {i.code for i in items}
        gold_codes = set(g.get(field_) or [])
        tp, fp, fn = len(got & gold_codes), len(got - gold_codes), len(gold_codes - got)
        setattr(tally, f"{field_}_tp", getattr(tally, f"{field_}_tp") + tp)
        setattr(tally, f"{field_}_fp", getattr(tally, f"{field_}_fp") + fp)
        setattr(tally, f"{field_}_fn", getattr(tally, f"{field_}_fn") + fn)
        if fp or fn:
            spurious = [i.evidence.text for i in items if i.code not in gold_codes]
            wrong(field_, sorted(got), sorted(gold_codes), " | ".join(spurious) or None)


def score(gold_docs: Sequence[dict], records: Sequence[Record], corpus: Optional[str] = None) -> Report:
    """Score records against gold documents; a record is found by ``source.id`` == the gold ``id``
    (by position when the record has no id)."""
    by_id: dict[str, Record] = {}
    for i, rec in enumerate(records):
        key = rec.source.id if rec.source.id is not None else (gold_docs[i]["id"] if i < len(gold_docs) else None)
        if key is not None:
            by_id.setdefault(key, rec)
    total = Tally()
    tallies: dict[str, Tally] = {}
    errors: list[ErrorItem] = []
    for doc in gold_docs:
        t = Tally()
        _score_one(doc, by_id.get(doc["id"]), t, errors)
        total.add(t)
        lang = doc.get("language")
        if lang in LANGUAGES:
            tallies.setdefault(lang, Tally()).add(t)
    ordered = {"all": total}
    ordered.update({lang: tallies[lang] for lang in LANGUAGES if lang in tallies})
    return Report(corpus, ordered, errors)


# --------------------------------------------------------------------------------------------
# Running the extractor over a corpus
# --------------------------------------------------------------------------------------------

def run_extractor(gold_docs: Sequence[dict], extractor: Any = None, with_language: bool = False,
                  batch_size: int = 16) -> list[Record]:
    """One record per gold document, in order, from the documents stripped of their gold."""
    if extractor is None:
        from .pipeline import Extractor
        extractor = Extractor()
    docs = [strip_gold(d, with_language=with_language) for d in gold_docs]
    return list(extractor.extract_many(docs, batch_size=batch_size))


def evaluate_docs(gold_docs: Sequence[dict], extractor: Any = None, with_language: bool = False,
                  corpus: Optional[str] = None, batch_size: int = 16) -> Report:
    records = run_extractor(gold_docs, extractor, with_language=with_language, batch_size=batch_size)
    return score(gold_docs, records, corpus=corpus)


def evaluate_file(path: str | Path, extractor: Any = None, with_language: bool = False,
                  batch_size: int = 16) -> Report:
    return evaluate_docs(load_gold(path), extractor, with_language=with_language, corpus=str(path),
                         batch_size=batch_size)


# The quality gate and the text report live in their own modules; their names stay importable from
# here (read on first use: those modules import this one).
_MOVED = {
    "quality_gate": ("load_baseline", "baseline_root", "find_floors", "below_floors", "check_report",
                     "update_floors", "dump_baseline"),
    "eval_report": ("format_table", "corpus_label", "side_by_side_rows", "train_dev_gaps", "format_side_by_side",
                    "format_errors"),
}
_HOME = {name: module for module, names in _MOVED.items() for name in names}


def __getattr__(name: str):
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{module}", __package__), name)
