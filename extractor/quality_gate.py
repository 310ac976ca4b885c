"""The quality gate of ``incidents eval --check``: floors per corpus, scope and figure (eval/baseline.json), checked and moved.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

from .errors import GateError, InputError
from .evaluate import FIGURES, Report


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
