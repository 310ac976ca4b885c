"""Golden cases per stage and language: loading and checking through the public API.

Files: ``tests/golden/<lang>/<stage>.jsonl``, one case a line::

    {"text": "..." | "html": "...", "published": "2024-06-20" (optional),
     "expected": {...}, "why": "the mechanism exercised"}

``tests/golden/<lang>/known_failures.jsonl`` holds cases in the same format plus
``"stage"``: what a correct extractor should output but today's rules do not.

``check(stage, lang, case, extractor)`` returns the list of mismatches (empty: the case passes).
Only the keys present in ``expected`` are checked, except where a stage says otherwise.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any, Optional

GOLDEN = Path(__file__).resolve().parent
LANGS = ("fr", "en")
STAGES = ("html", "language", "counts", "data_types", "agencies", "dates", "organization", "relevance")
EXTRACTOR_STAGES = ("counts", "data_types", "agencies", "dates", "organization", "relevance")
DATE_ROLES = ("incident", "discovered", "contained", "disclosed")


def load(lang: str, name: str) -> list[dict]:
    """The cases of one file, each with `_where` ("fr/counts.jsonl:3") for test ids."""
    path = GOLDEN / lang / f"{name}.jsonl"
    cases = []
    if not path.exists():
        return cases
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        case = json.loads(line)
        if not isinstance(case, dict) or "expected" not in case or "why" not in case:
            raise ValueError(f"{path}:{n}: a case needs 'expected' and 'why'")
        if not ("text" in case or "html" in case):
            raise ValueError(f"{path}:{n}: a case needs 'text' or 'html'")
        if name == "known_failures" and case.get("stage") not in STAGES:
            raise ValueError(f"{path}:{n}: unknown stage {case.get('stage')!r}")
        case["_where"] = f"{lang}/{name}.jsonl:{n}"
        cases.append(case)
    return cases


def cases_of(stage: str) -> list[tuple[str, dict]]:
    """(lang, case) for every golden case of a stage, both languages."""
    return [(lang, c) for lang in LANGS for c in load(lang, stage)]


def case_id(item) -> str:
    lang, case = item
    return f"{case['_where']}:{case['why'][:40]}"


# ---------------------------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------------------------

def _iso(d: Optional[date]) -> Optional[str]:
    return d.isoformat() if d else None


def _cmp(out: list, key: str, got: Any, want: Any) -> None:
    if got != want:
        out.append(f"{key}: expected {want!r}, got {got!r}")


def check_html(case: dict) -> list[str]:
    from extractor.html import extract_page, find_dateline

    exp, out = case["expected"], []
    if "html" in case:
        page = extract_page(case["html"], url=case.get("url"))
        for key in ("title", "language", "publisher", "published_precision"):
            if key in exp:
                _cmp(out, key, getattr(page, key), exp[key])
        if "published" in exp:
            _cmp(out, "published", _iso(page.published), exp["published"])
        for s in exp.get("text_contains", []):
            if s not in page.text:
                out.append(f"text should contain {s!r}; text is {page.text[:300]!r}")
        for s in exp.get("text_excludes", []):
            if s in page.text:
                out.append(f"text should not contain {s!r}; text is {page.text[:300]!r}")
        return out
    text = case["text"]
    dl = find_dateline(text)
    if "dateline" in exp and exp["dateline"] is None:
        if dl is not None:
            out.append(f"dateline: expected none, got {dl.place!r} {dl.published}")
        return out
    if dl is None:
        return [f"dateline: expected {exp}, got none"]
    if "place" in exp:
        _cmp(out, "place", dl.place, exp["place"])
    if "published" in exp:
        _cmp(out, "published", dl.published.isoformat(), exp["published"])
    if "body_starts" in exp and not text[dl.end:].startswith(exp["body_starts"]):
        out.append(f"body should start with {exp['body_starts']!r}, starts with {text[dl.end:dl.end + 40]!r}")
    return out


def check_language(case: dict) -> list[str]:
    from extractor import errors
    from extractor.language import detect

    exp = case["expected"]
    try:
        got = detect(case["text"], explicit=case.get("explicit"), hint=case.get("hint"))
    except errors.ExtractorError as err:
        if exp.get("raises") == type(err).__name__:
            return []
        return [f"expected {exp}, raised {type(err).__name__}: {err}"]
    if "raises" in exp:
        return [f"expected {exp['raises']}, got {got!r}"]
    return [] if got == exp["language"] else [f"language: expected {exp['language']!r}, got {got!r}"]


def extract(extractor, lang: str, case: dict):
    doc = {"text": case["text"], "language": lang}
    if case.get("published"):
        doc["published"] = case["published"]
    return extractor.extract(doc)


def check_record(stage: str, rec, case: dict) -> list[str]:
    from extractor.evaluate import names_match

    exp, out = case["expected"], []
    if stage == "counts":
        v = rec.victims
        for key in ("count", "qualifier", "unit"):
            if key in exp:
                _cmp(out, key, getattr(v, key), exp[key])
    elif stage == "data_types":
        got = sorted({d.code for d in rec.data_types})
        _cmp(out, "codes", got, sorted(exp["codes"]))
    elif stage == "agencies":
        got = {a.code: a.role for a in rec.agencies}
        _cmp(out, "agencies", got, exp["agencies"])
    elif stage == "dates":
        for role in DATE_ROLES:
            if role in exp:
                dv = getattr(rec.dates, role)
                _cmp(out, role, _iso(dv.date) if dv else None, exp[role])
    elif stage == "organization":
        org = rec.organization
        got = None if org is None else {"name": org.name, "acronym": org.acronym, "aliases": org.aliases}
        names = [] if org is None else [n for n in [org.name, org.acronym, *org.aliases] if n]
        if "name" in exp:
            if exp["name"] is None:
                if org is not None:
                    out.append(f"organization: expected none, got {got}")
            elif org is None or not any(names_match(n, exp["name"]) for n in (org.name, org.acronym) if n):
                out.append(f"name: expected {exp['name']!r}, got {got}")
        if "acronym" in exp and (org is None or org.acronym != exp["acronym"]):
            out.append(f"acronym: expected {exp['acronym']!r}, got {got}")
        for alias in exp.get("aliases_include", []):
            if not any(names_match(n, alias) for n in names):
                out.append(f"aliases should include {alias!r}, got {got}")
        for bad in exp.get("not", []):
            if any(names_match(n, bad) for n in names):
                out.append(f"{bad!r} must not be the organization or an alias, got {got}")
    elif stage == "relevance":
        _cmp(out, "is_incident", rec.is_incident, exp["is_incident"])
    else:
        raise ValueError(f"unknown stage {stage!r}")
    return out


def check(stage: str, lang: str, case: dict, extractor=None) -> list[str]:
    if stage == "html":
        return check_html(case)
    if stage == "language":
        return check_language(case)
    return check_record(stage, extract(extractor, lang, case), case)


def report(stage: str, lang: str, case: dict, problems: list[str]) -> str:
    src = case.get("text") or case.get("html", "")
    return f"[{lang}/{stage}] {case['why']}\n  input: {src!r}\n  " + "\n  ".join(problems)


def stage_tests(stage: str, *, needs_extractor: bool = True):
    """The two tests every stage module runs on its golden files (French and English).

    A stage module does ``test_both_languages_have_cases, test_golden = stage_tests("counts")``;
    stages that need the extractor share one per module through the ``extractor`` fixture.
    """
    import pytest

    cases = cases_of(stage)

    def test_both_languages_have_cases():
        assert {lang for lang, _ in cases} == {"fr", "en"}

    if needs_extractor:
        @pytest.mark.slow
        @pytest.mark.parametrize("item", cases, ids=case_id)
        def test_golden(item, extractor):
            lang, case = item
            problems = check(stage, lang, case, extractor)
            assert not problems, report(stage, lang, case, problems)
    else:
        @pytest.mark.parametrize("item", cases, ids=case_id)
        def test_golden(item):
            lang, case = item
            problems = check(stage, lang, case)
            assert not problems, report(stage, lang, case, problems)

    return test_both_languages_have_cases, test_golden
