"""nlp: loading a pipeline leaves Python's `re` exactly as it was (the regex cache is scoped)."""

from __future__ import annotations

import re
from re import _compiler


def test_importing_and_loading_do_not_patch_re():
    original = _compiler.compile
    import extractor  # noqa: F401
    from extractor import nlp

    assert _compiler.compile is original
    nlp.get_nlp("en")
    assert _compiler.compile is original
    assert re.compile("(?:alpha|beta){2}").fullmatch("alphabeta")


def test_cache_is_used_during_load_only(tmp_path, monkeypatch):
    from extractor import nlp

    cache = nlp._RegexCache(tmp_path)
    original = _compiler.compile
    with cache:
        if cache.dir is not None:  # a supported CPython: compilation goes through the cache here
            assert _compiler.compile == cache._compile
            big = "(?:" + "|".join(f"word{i}" for i in range(200)) + ")"
            assert re.compile(big).fullmatch("word150")
            assert cache.stats["misses"] + cache.stats["hits"] >= 1
    assert _compiler.compile is original
