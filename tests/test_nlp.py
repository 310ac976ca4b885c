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


def test_a_bundle_keeps_the_patterns_of_other_load_orders(tmp_path):
    """What a load compiles depends on what loaded before it in the process (a pattern another language
    compiled first comes from `re`'s own cache): the bundle keeps both, so neither order compiles again."""
    from extractor import nlp

    def load(cache, patterns):
        re.purge()
        with cache.bundle("xx"):
            return [re.compile(p).pattern for p in patterns]

    alone = [r"\bvol(?:s)? d'identité\b(?#a)", r"(?i)stolen records?(?#b)", r"\d+ comptes?(?#c)"]
    first = nlp._RegexCache(tmp_path)
    if first.dir is None:
        pytest.skip("this Python's regex internals are not the ones the cache knows: no cache at all")
    assert load(first, alone) == alone and first.stats["writes"] == 1
    after_other = alone[:1] + [r"(?i)ransomware gangs?(?#d)"]  # the others came from re's cache this time
    second = nlp._RegexCache(tmp_path)
    load(second, after_other)
    assert second.stats["bundle_hits"] == 1 and second.stats["bundle_misses"] == 1 and second.stats["writes"] == 1
    for patterns in (alone, after_other, alone):  # either order again: every pattern from the bundle, no rewrite
        again = nlp._RegexCache(tmp_path)
        load(again, patterns)
        assert again.stats["bundle_misses"] == 0 and again.stats["writes"] == 0, patterns


def test_the_installation_cache_answers_a_miss_in_the_user_cache(tmp_path):
    """install.sh fills the installation's cache (warm_cache(install_cache_dir())): a fresh user cache finds the
    programs there, the same patterns, and writes nothing of its own."""
    from extractor import nlp

    installed, user = tmp_path / "installed", tmp_path / "user"
    big = "(?:" + "|".join(f"fichier{i}" for i in range(120)) + ")(?#install)"
    small = r"(?i)\bfuite(?:s)? massive(?#install)"
    filler = nlp._RegexCache(installed)
    if filler.dir is None:
        pytest.skip("this Python's regex internals are not the ones the cache knows: no cache at all")
    re.purge()
    with filler.bundle("xx"):
        re.compile(big), re.compile(small)
    assert filler.stats["misses"] == 1 and filler.stats["bundle_misses"] == 1
    reader = nlp._RegexCache(user, installed)
    re.purge()
    with reader.bundle("xx"):
        got_big, got_small = re.compile(big), re.compile(small)
    assert reader.stats["hits"] == 1 and reader.stats["misses"] == 0
    assert reader.stats["bundle_hits"] == 1 and reader.stats["bundle_misses"] == 0 and reader.stats["writes"] == 0
    assert not user.exists()  # read only from the installation's; nothing copied
    assert got_big.fullmatch("fichier117") and not got_big.fullmatch("fichier120")
    assert got_small.search("Une FUITE massive") and got_small.flags & re.IGNORECASE
    assert nlp._RegexCache(installed, installed).fallback is None  # the same directory is no fallback to itself
