"""nlp: loading a pipeline leaves Python's `re` exactly as it was (the regex cache is scoped)."""

from __future__ import annotations

import re
from re import _compiler

import pytest


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


def test_small_patterns_of_a_load_come_back_from_one_bundle(tmp_path):
    from extractor import nlp

    small = [r"\bfuite(?:s)? de données\b", r"(?i)breach(?:es)?", r"(?P<n>\d+) (?:clients|patients)"]
    probes = ["une fuite de données", "Data BREACHES here", "12 patients", "rien"]

    def load(cache):
        with cache.bundle("xx"):
            got = [re.compile(p + "(?#probe)") for p in small]  # a text of its own: not in re's own cache
        return [(c.pattern, c.flags, c.groupindex, [bool(c.search(t)) for t in probes]) for c in got]

    first = nlp._RegexCache(tmp_path)
    if first.dir is None:
        pytest.skip("this Python's regex internals are not the ones the cache knows: no cache at all")
    expected = [(c.pattern, c.flags, c.groupindex, [bool(c.search(t)) for t in probes])
                for c in (re.compile(p + "(?#probe)") for p in small)]
    re.purge()  # re's own cache answers before ours
    assert load(first) == expected
    assert first.stats["bundle_misses"] == 3 and first.stats["writes"] == 1
    re.purge()
    second = nlp._RegexCache(tmp_path)
    assert load(second) == expected
    assert second.stats["bundle_hits"] == 3 and second.stats["writes"] == 0  # nothing new: not rewritten
    assert _compiler.compile is not second._compile  # `re` is itself again
    for f in (tmp_path / first.engine).glob("bundle-*"):
        f.write_bytes(f.read_bytes()[:40])  # truncated: ignored, compiled normally, rewritten
    re.purge()
    third = nlp._RegexCache(tmp_path)
    assert load(third) == expected
    assert third.stats["bundle_misses"] == 3 and third.stats["writes"] == 1
