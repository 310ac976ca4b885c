"""The text of ``incidents eval``: the figures table of a corpus, corpora side by side with the train/dev gap, the wrong values.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional, Sequence

from .evaluate import FIGURES, Report


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
