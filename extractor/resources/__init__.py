"""Per-language data files shipped inside the package (patterns, cue words, gazetteers).

Adding a language means adding a folder with the same file names, not code.
"""

from __future__ import annotations

import json
import os
import re
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent


EXTRA_ENV = "INCIDENTS_RESOURCES"  # more folders holding <lang>/ resource folders (os.pathsep-separated)


def _language_dirs() -> dict[str, Path]:
    """Every language folder: one with a ``language.json``, here or under $INCIDENTS_RESOURCES
    (``shared`` holds no language). The shipped folders win over same-named extra ones."""
    roots = [ROOT] + [Path(p) for p in os.environ.get(EXTRA_ENV, "").split(os.pathsep) if p.strip()]
    dirs: dict[str, Path] = {}
    for root in roots:
        for found in sorted(root.glob("*/language.json")):
            dirs.setdefault(found.parent.name, found.parent)
    return dirs


_DIRS = _language_dirs()

#: Supported languages, discovered from the folders: adding a language adds a folder, not code.
LANGUAGES = tuple(sorted(_DIRS))


def folder(lang: str) -> Path:
    """The folder of a language's data (``shared``: the data no language owns)."""
    return _DIRS.get(lang, ROOT / lang)


def has_file(lang: str, name: str) -> bool:
    return (folder(lang) / name).is_file()


@lru_cache(maxsize=None)
def load_json(lang: str, name: str):
    with open(folder(lang) / name, encoding="utf-8") as fh:
        return json.load(fh)


@lru_cache(maxsize=None)
def load_jsonl(lang: str, name: str) -> tuple:
    rows = []
    with open(folder(lang) / name, encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if line and not line.startswith("//"):
                rows.append(json.loads(line))
    return tuple(rows)


def cues(lang: str) -> dict:
    return load_json(lang, "cues.json")


def language_info(lang: str) -> dict:
    """``resources/<lang>/language.json``: the spaCy pipeline and the language's own patterns."""
    return load_json(lang, "language.json")


def shared(name: str):
    """A data file of ``resources/shared/`` (taxonomies, gazetteers, weights, source kinds)."""
    return load_json("shared", name)


@lru_cache(maxsize=None)
def alternation(patterns: tuple, flags: int = re.IGNORECASE, word_bounded: bool = True) -> re.Pattern:
    """One compiled regex matching any of `patterns` (regex fragments), longest alternatives first."""
    ordered = sorted(set(patterns), key=lambda p: (-len(p), p))  # deterministic whatever the hash seed
    body = "|".join(f"(?:{p})" for p in ordered)
    if word_bounded:
        body = rf"(?<![\w])(?:{body})(?![\w])"
    return re.compile(body, flags)


def cue_regex(lang: str, *path: str, word_bounded: bool = True, flags: int = re.IGNORECASE) -> re.Pattern:
    node = cues(lang)
    for key in path:
        node = node[key]
    if isinstance(node, dict):
        node = list(node.keys())
    return alternation(tuple(node), flags, word_bounded)
