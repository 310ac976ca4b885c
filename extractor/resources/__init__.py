"""Per-language data files shipped inside the package (patterns, cue words, gazetteers).

Adding a language means adding a folder with the same file names, not code.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent


def _discover() -> tuple[str, ...]:
    """The languages shipped: every folder with a ``language.json`` (``shared`` holds no language)."""
    return tuple(sorted(p.parent.name for p in ROOT.glob("*/language.json")))


#: Supported languages, discovered from the folders: adding a language adds a folder, not code.
LANGUAGES = _discover()


@lru_cache(maxsize=None)
def load_json(lang: str, name: str):
    with open(ROOT / lang / name, encoding="utf-8") as fh:
        return json.load(fh)


@lru_cache(maxsize=None)
def load_jsonl(lang: str, name: str) -> tuple:
    rows = []
    with open(ROOT / lang / name, encoding="utf-8") as fh:
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
