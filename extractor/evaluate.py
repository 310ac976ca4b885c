"""Extraction quality: score records against a gold corpus, as ../shared/README.md defines it.

    >>> from extractor.evaluate import load_gold, evaluate_docs
    >>> gold = load_gold("../shared/corpus/dev.jsonl")
    >>> report = evaluate_docs(gold)               # runs the extractor once over the corpus
    >>> report.figures["fr"]["organization_accuracy"]

`score(gold_docs, records)` is the scorer alone (no extractor); `strip_gold` turns a gold line
into the document the extractor sees; `names_match` / `fold_name` are the organization-name
matching rules, reusable elsewhere (merging, search).

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

import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Iterable, Optional, Sequence

from .errors import GateError, InputError
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
# Organization names
# --------------------------------------------------------------------------------------------

#: Words dropped when folding a name: articles and the little words around them, French and English.
NAME_STOPWORDS = frozenset(
    "le la les l un une des du de d au aux et the a an of and".split()
)
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "`": "'", "´": "'", "′": "'", "＇": "'"})
_LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss"})
_ELISION = re.compile(r"\b([ld])'", re.IGNORECASE)          # l'Ungava, d'Air Canada
_POSSESSIVE = re.compile(r"'s\b", re.IGNORECASE)             # Montreal's
_DOTTED = re.compile(r"(?<=\w)\.(?=\w)")                     # U.S. -> US., S.A.Q. -> SAQ.
_NON_WORD = re.compile(r"[\W_]+")


def fold_words(name: Optional[str]) -> tuple[str, ...]:
    """The words of a name after folding case, accents, punctuation and articles.

    ``"Centre de santé Tulattavik de l’Ungava"`` -> ``("centre", "sante", "tulattavik", "ungava")``.
    """
    if not name:
        return ()
    s = name.translate(_APOSTROPHES).translate(_LIGATURES)
    s = unicodedata.normalize("NFKD", s)
    s = "".join(c for c in s if not unicodedata.combining(c)).lower()
    s = _ELISION.sub(r"\1 ", s)
    s = _POSSESSIVE.sub("", s)
    s = _DOTTED.sub("", s)
    s = _NON_WORD.sub(" ", s)
    return tuple(w for w in s.split() if w not in NAME_STOPWORDS)


def fold_name(name: Optional[str]) -> str:
    """`fold_words` joined by spaces: the comparable form of a name."""
    return " ".join(fold_words(name))


def _contains(longer: Sequence[str], shorter: Sequence[str]) -> bool:
    n = len(shorter)
    return any(tuple(longer[i:i + n]) == tuple(shorter) for i in range(len(longer) - n + 1))


def names_match(a: Optional[str], b: Optional[str]) -> bool:
    """Two names of one organization: equal after folding, or one contains the other's words
    (as a run of whole words) and the shorter has at least half the words of the longer.

    ``"Mouvement Desjardins"`` ~ ``"Desjardins"`` (1 of 2 words); ``"Fédération des caisses
    Desjardins du Québec"`` !~ ``"Desjardins"`` (1 of 4).
    """
    wa, wb = fold_words(a), fold_words(b)
    if not wa or not wb:
        return False
    if wa == wb:
        return True
    short, long_ = (wa, wb) if len(wa) <= len(wb) else (wb, wa)
    return 2 * len(short) >= len(long_) and _contains(long_, short)


def any_name_matches(candidates: Iterable[Optional[str]], targets: Iterable[Optional[str]]) -> bool:
    targets = [t for t in targets if t]
    return any(names_match(c, t) for c in candidates if c for t in targets)


def record_names(record: Record) -> list[str]:
    """The names a record gives its organization: name, acronym, aliases."""
    org = record.organization
    if org is None:
        return []
    return [n for n in [org.name, org.acronym, *org.aliases] if n]


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


# --------------------------------------------------------------------------------------------
# Quality gate: floors per corpus, per scope, per figure (eval/baseline.json)
# --------------------------------------------------------------------------------------------

def load_baseline(path: str | Path) -> dict:
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"baseline not found: {p}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise InputError(f"baseline {p} is not JSON: {err}") from None
    if not isinstance(data, dict) or not isinstance(data.get("corpora"), dict):
        raise InputError(f"baseline {p} has no 'corpora' object")
    return data


def baseline_root(baseline_path: str | Path) -> Path:
    """Corpus keys in a baseline are relative to the repository root: the folder above ``eval/``."""
    return Path(baseline_path).resolve().parent.parent


def find_floors(baseline: dict, baseline_path: str | Path, corpus_path: str | Path) -> Optional[tuple[str, dict]]:
    """The (key, floors) of the baseline entry for a corpus file, matched by resolved path."""
    root = baseline_root(baseline_path)
    target = Path(corpus_path).resolve()
    for key, floors in baseline["corpora"].items():
        if (root / key).resolve() == target:
            return key, floors
    return None


def below_floors(figures: dict[str, dict[str, Optional[float]]], floors: dict) -> list[str]:
    """One line per figure below its floor: ``fr organization_accuracy 0.7500 < floor 0.8000``.

    A floor of ``null`` or a key starting with ``_`` is not checked; a scope the corpus no longer
    has, or a figure with nothing to count (``None``) under a floor above 0, fails."""
    failures = []
    for scope, scope_floors in floors.items():
        if scope.startswith("_") or not isinstance(scope_floors, dict):
            continue
        current = figures.get(scope)
        for name, floor in scope_floors.items():
            if floor is None:
                continue
            if current is None:
                failures.append(f"{scope} {name}: the corpus has no '{scope}' documents (floor {floor:.4f})")
                continue
            value = current.get(name)
            if value is None:
                if floor > 0:
                    failures.append(f"{scope} {name} n/a (nothing to count) < floor {floor:.4f}")
            elif value < floor - 1e-9:
                failures.append(f"{scope} {name} {value:.4f} < floor {floor:.4f}")
    return failures


def check_report(report: Report, baseline: dict, baseline_path: str | Path) -> list[str]:
    """Failures of one corpus report against the baseline; raises `GateError` if it has no floors."""
    found = find_floors(baseline, baseline_path, report.corpus or "")
    if found is None:
        raise GateError(f"no floors for corpus {report.corpus} in {baseline_path} "
                        f"(add them with eval/update_baseline.py --corpus {report.corpus})")
    return below_floors(report.figures, found[1])


# --------------------------------------------------------------------------------------------
# Text table
# --------------------------------------------------------------------------------------------

_ROWS = (
    ("relevance accuracy", ("relevance_accuracy",)),
    ("relevance P/R", ("relevance_precision", "relevance_recall")),
    ("organization", ("organization_accuracy",)),
    ("victim count", ("victim_count_accuracy",)),
    ("incident date", ("incident_date_accuracy",)),
    ("discovery date", ("discovery_date_accuracy",)),
    ("dates slot P/R/F1", ("dates_precision", "dates_recall", "dates_f1")),
    ("data types P/R/F1", ("data_types_precision", "data_types_recall", "data_types_f1")),
    ("agencies P/R/F1", ("agencies_precision", "agencies_recall", "agencies_f1")),
)


def _fmt(v: Optional[float]) -> str:
    return "n/a" if v is None else f"{v:.2f}"


def format_table(report: Report) -> str:
    """A compact table: one row per figure group, one column per scope (``all``, ``fr``, ``en``).
    It ends with the figures, so its last lines are the per-language figures."""
    figs = report.figures
    scopes = list(figs)
    t = report.tallies
    langs = ", ".join(f"{t[s].documents} {s}" for s in scopes if s != "all")
    head = (f"{report.corpus}: {t['all'].documents} documents ({langs}), "
            f"{t['all'].incidents} gold incidents, {t['all'].failed} failed")
    cells = [[" / ".join(_fmt(figs[s][n]) for n in names) for s in scopes] for _, names in _ROWS]
    widths = [max(len(scopes[i]), *(len(row[i]) for row in cells)) for i in range(len(scopes))]
    label_w = max(len(label) for label, _ in _ROWS)
    lines = [head, "  ".join([" " * label_w] + [s.rjust(w) for s, w in zip(scopes, widths)])]
    for (label, _), row in zip(_ROWS, cells):
        lines.append("  ".join([label.ljust(label_w)] + [c.rjust(w) for c, w in zip(row, widths)]))
    return "\n".join(lines)


def corpus_label(path: Optional[str]) -> str:
    """A short column name for a corpus: its file name without ``.jsonl``."""
    name = Path(path or "corpus").name
    return name[:-6] if name.endswith(".jsonl") else name


def side_by_side_rows(reports: Sequence[Report], scopes: Sequence[str] = ("fr", "en")) -> tuple[list[str], list[list[str]]]:
    """(headers, rows) of one table: a column per corpus and language, a row per figure."""
    columns = [(f"{corpus_label(r.corpus)} {s}", r, s) for r in reports for s in scopes if s in r.figures]
    headers = ["figure"] + [h for h, _, _ in columns]
    rows = []
    for name in FIGURES:
        rows.append([name] + [_fmt(r.figures[s].get(name)) for _, r, s in columns])
    return headers, rows


def train_dev_gaps(train: Report, dev: Report, scopes: Sequence[str] = ("fr", "en"),
                   tolerance: float = 0.05) -> list[tuple[str, str, float, float, float]]:
    """(scope, figure, train, dev, dev - train) for every figure both corpora have, worst first.

    A rule fitted to the articles of train and not to language shows as dev far below train; the
    issue's bar is a gap no worse than ``-tolerance``."""
    gaps = []
    for scope in scopes:
        a, b = train.figures.get(scope) or {}, dev.figures.get(scope) or {}
        for name in FIGURES:
            if a.get(name) is not None and b.get(name) is not None:
                gaps.append((scope, name, a[name], b[name], round(b[name] - a[name], 4)))
    return sorted(gaps, key=lambda g: g[4])


def format_side_by_side(reports: Sequence[Report]) -> str:
    """Every corpus side by side (a column per corpus and language); when a ``train`` and a ``dev``
    corpus are both given, then the dev - train gap of each figure, those worse than -0.05 marked."""
    headers, rows = side_by_side_rows(reports)
    widths = [max(len(headers[i]), *(len(r[i]) for r in rows)) for i in range(len(headers))]
    lines = ["  ".join([headers[0].ljust(widths[0])] + [h.rjust(w) for h, w in zip(headers[1:], widths[1:])])]
    for r in rows:
        lines.append("  ".join([r[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(r[1:], widths[1:])]))
    by_label = {corpus_label(r.corpus): r for r in reports}
    if "train" in by_label and "dev" in by_label:
        gaps = train_dev_gaps(by_label["train"], by_label["dev"])
        bad = [g for g in gaps if g[4] < -0.05]
        lines.append("")
        lines.append(f"dev - train: {len(bad)} figure(s) more than 0.05 below train"
                     + ("" if not bad else ": " + ", ".join(f"{s} {n} {d:+.2f}" for s, n, _, _, d in bad)))
    return "\n".join(lines)


def _short(v: Any, limit: int = 100) -> str:
    s = v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
    s = " ".join(s.split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


def format_errors(report: Report) -> str:
    lines = [f"{report.corpus}: {len(report.errors)} wrong values"]
    for e in report.errors:
        line = f"  {e.doc_id}  {e.field}: got {_short(e.got)}, expected {_short(e.expected)}"
        if e.evidence:
            line += f"  [evidence: {_short(e.evidence, 80)}]"
        lines.append(line)
    return "\n".join(lines)


def update_floors(floors: dict, figures: dict[str, dict[str, Optional[float]]], allow_lower: bool = False,
                  reason: Optional[str] = None) -> tuple[list[str], list[dict], list[str]]:
    """Move one corpus's floors (``{scope: {figure: floor}}``, changed in place) to its current figures.

    A floor rises to its figure; a figure below its floor lowers it only with ``allow_lower`` (and a
    reason). Returns (raised lines, lowered entries ``{scope, figure, from, to, reason}``, refused lines).
    A figure with nothing to count (``None``) leaves its floor as it is."""
    if allow_lower and not (reason and reason.strip()):
        raise InputError("lowering a floor needs a reason")
    raised, lowered, refused = [], [], []
    for scope, current in figures.items():
        scope_floors = floors.setdefault(scope, {})
        for name in FIGURES:
            value, old = current.get(name), scope_floors.get(name)
            if value is None:
                scope_floors.setdefault(name, None)
                continue
            if old is None or value > old + 1e-9:
                scope_floors[name] = value
                raised.append(f"{scope} {name} {'-' if old is None else f'{old:.4f}'} -> {value:.4f}")
            elif value < old - 1e-9:
                if allow_lower:
                    scope_floors[name] = value
                    lowered.append({"scope": scope, "figure": name, "from": old, "to": value, "reason": reason.strip()})
                else:
                    refused.append(f"{scope} {name} {value:.4f} < floor {old:.4f}")
    return raised, lowered, refused


def dump_baseline(baseline: dict) -> str:
    """The baseline as it is kept: one figure per line, so that a floor change is a one-line diff."""
    return json.dumps(baseline, ensure_ascii=False, indent=2) + "\n"
