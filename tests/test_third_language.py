"""Languages are data: a third language works by adding a resource folder, with no code.

The test writes a small Spanish folder (under $INCIDENTS_RESOURCES, outside the package): the
shape of every per-language file, with words that never match except for the few Spanish cue
words, units, data-type terms and months written here; its `language.json` names spaCy's blank
Spanish pipeline. A fresh process then extracts a Spanish text and sees counts, data types and
agencies fire, with evidence in the text.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from extractor.resources import ROOT

NEVER = "zzqxnunca"  # a word no text has: keeps a cue list's shape without making it match


def _blank(node, path=""):
    """The same structure with every word replaced by NEVER (numbers and flags kept)."""
    if isinstance(node, dict):
        if node and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in node.values()):
            return {NEVER: next(iter(node.values()))}  # a word -> value table (months, numbers)
        return {k: (v if k.startswith("_") else _blank(v, f"{path}.{k}")) for k, v in node.items()}
    if isinstance(node, list):
        if node and any(x is None or (isinstance(x, (int, float)) and not isinstance(x, bool)) for x in node):
            return [_blank(x) for x in node]  # a record such as [pattern, days]: its shape and values kept
        return [NEVER] if node and all(isinstance(x, str) for x in node) else [_blank(x) for x in node[:1]] if node else []
    if isinstance(node, str):
        return NEVER
    return node


SPANISH = {
    "cues.json": {
        "breach_terms": ["filtración de datos", "ciberataque"],
        "strong_breach_terms": ["filtración de datos"],
        "incident_terms": ["incidente"],
        "clause_break": [";", r"\."],
        "agency_roles": {"notified": ["notificad[oa]s?", "informad[oa]s?"], "investigating": ["investiga"]},
        "dates": {"months": {"enero": 1, "febrero": 2, "marzo": 3, "abril": 4, "mayo": 5, "junio": 6, "julio": 7,
                             "agosto": 8, "septiembre": 9, "octubre": 10, "noviembre": 11, "diciembre": 12},
                  "weekdays": {"lunes": 0, "martes": 1, "miércoles": 2, "jueves": 3, "viernes": 4, "sábado": 5,
                               "domingo": 6}},
    },
    "data_types_cues.json": {"exposure": ["expuest[oa]s?", "comprometid[oa]s?", "robad[oa]s?"],
                             "introducer": ["incluid[oa]s?", "como"], "list_joiner": ["y", ","]},
    "numbers.json": {"decimal_separator": ","},
    "counts.json": {"affected_after": ["afectad[oa]s?"], "data_of_before": ["datos de"]},
    "agencies.json": {"coordination": [",", r"\by\b"], "conjoined_predicate": [r"\by\b"]},
}
JSONL = {
    "count_units.jsonl": [{"pattern": "personas", "unit": "people", "class": "people"},
                          {"pattern": "clientes", "unit": "customers", "class": "people"}],
    "data_types.jsonl": [{"code": "sin", "pattern": "números? de seguro social"},
                         {"code": "email", "pattern": "(?:direcciones? de )?correos? electrónicos?"}],
}


def _merge(base, extra):
    for k, v in extra.items():
        base[k] = _merge(base.get(k, {}), v) if isinstance(v, dict) and isinstance(base.get(k), dict) else v
    return base


def write_spanish(root: Path) -> Path:
    es = root / "es"
    es.mkdir(parents=True)
    template = ROOT / "en"
    for path in sorted(template.iterdir()):
        if path.suffix == ".json" and path.name != "language.json":
            data = _merge(_blank(json.loads(path.read_text(encoding="utf-8"))), SPANISH.get(path.name, {}))
            (es / path.name).write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
        elif path.suffix == ".jsonl":
            rows = JSONL.get(path.name)
            if rows is None:  # the shape of the first row, its words blanked
                first = json.loads(next(l for l in path.read_text(encoding="utf-8").splitlines() if l.strip()))
                rows = [{k: (NEVER if k == "pattern" else v) for k, v in first.items()}]
            (es / path.name).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                                        encoding="utf-8")
    (es / "language.json").write_text(json.dumps({"name": "español", "spacy_pipeline": "blank:es",
                                                  "dateline": {"before_date": [], "day_suffixes": []}}),
                                      encoding="utf-8")
    return es


TEXT = ("Empresa Ficticia Soluna informó de una filtración de datos. El incidente afectó a 2 500 personas: "
        "los números de seguro social y las direcciones de correo electrónico fueron expuestos. "
        "La CAI fue notificada y la SQ investiga.")

CHILD = r"""
import json, sys
from extractor.resources import LANGUAGES
from extractor import Extractor
assert "es" in LANGUAGES, LANGUAGES
rec = Extractor().extract({"id": "es-1", "text": sys.argv[1], "language": "es"})
print(json.dumps(json.loads(rec.model_dump_json())))
"""


@pytest.mark.slow
def test_a_third_language_is_a_folder(tmp_path):
    write_spanish(tmp_path)
    env = dict(os.environ, INCIDENTS_RESOURCES=str(tmp_path))
    res = subprocess.run([sys.executable, "-c", CHILD, TEXT], capture_output=True, text=True, env=env, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    rec = json.loads(res.stdout.strip().splitlines()[-1])
    assert rec["error"] is None and rec["source"]["language"] == "es"
    assert rec["victims"] and rec["victims"]["count"] == 2500 and rec["victims"]["unit"] == "people"
    assert {d["code"] for d in rec["data_types"]} == {"sin", "email"}
    roles = {a["code"]: a["role"] for a in rec["agencies"]}
    assert roles == {"CAI": "notified", "SQ": "investigating"}, roles
    for item in [rec["victims"], *rec["data_types"], *rec["agencies"]]:
        ev = item["evidence"]
        assert TEXT[ev["start"]:ev["end"]] == ev["text"]


def test_the_shipped_languages_are_the_folders():
    from extractor.resources import LANGUAGES

    assert LANGUAGES == tuple(sorted(p.parent.name for p in ROOT.glob("*/language.json")))
    assert {"fr", "en"} <= set(LANGUAGES)


# -- no language in the code --------------------------------------------------------------------------------------

import ast  # noqa: E402
import re  # noqa: E402

CODE = Path(__file__).resolve().parents[1] / "extractor"
LANGUAGE_FREE = sorted([*CODE.glob("components/*.py"), CODE / "merge.py", CODE / "names.py", CODE / "matching.py",
                        CODE / "html.py", CODE / "prefilter.py"])
_WORD = re.compile(r"^[^\W\d_]{2,}(?:['’ -][^\W\d_]+)*$")
_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")  # codes, roles, tags: the project's identifiers, not words


def _wordy(strings: list[str]) -> bool:
    """Natural-language words, as opposed to identifiers: a collection of three or more words, at
    least one of which is no plain ASCII identifier (an accent, a space, an apostrophe, a capital).
    A list of plain lowercase English words is not caught by this (it reads like identifiers)."""
    return (len(strings) >= 3 and all(_WORD.match(w) for w in strings)
            and any(not _IDENTIFIER.match(w) for w in strings))


def _findings(path: Path) -> list[str]:
    """Language codes as string constants, and literal collections of words."""
    out = []
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and node.value in ("fr", "en"):
            out.append(f"{path.name}:{node.lineno}: language literal {node.value!r}")
        elif isinstance(node, (ast.List, ast.Set, ast.Tuple)):
            words = [e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
            if len(words) == len(node.elts) and _wordy(words):
                out.append(f"{path.name}:{node.lineno}: word list {words[:4]}...")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "split" \
                and isinstance(node.func.value, ast.Constant) and isinstance(node.func.value.value, str):
            words = node.func.value.value.split()
            if len(words) >= 3 and all(_WORD.match(w) for w in words):
                out.append(f"{path.name}:{node.lineno}: word list in a string {words[:4]}...")
    return out


@pytest.mark.parametrize("path", LANGUAGE_FREE, ids=lambda p: p.name)
def test_no_language_literal_or_word_list_in_the_code(path):
    found = _findings(path)
    assert not found, "words belong in extractor/resources/<lang>/:\n" + "\n".join(found)


def test_the_scanner_sees_what_it_looks_for(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text('LANG = "fr"\nWORDS = {"banque", "société", "caisse"}\nOK = ("incident", "discovered", "end")\n'
                      'S = set("le la les un une des du".split())\n', encoding="utf-8")
    found = _findings(sample)
    assert len(found) == 3 and "language literal" in found[0] and "word list" in found[1]
