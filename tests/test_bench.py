"""The benchmark's generator is deterministic, `bench --quick` prints its summary, and the
compiled-regex cache behind fast start-up gives the very same patterns and tokenization.

No timing is asserted here: speed is measured by eval/bench.py.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "eval"))

import benchgen  # noqa: E402
from extractor import nlp as xnlp  # noqa: E402
from extractor.prefilter import passes  # noqa: E402

SUMMARY_KEYS = ["breach_ratio", "mix_ratio", "cli_mix_ratio", "workers_speedup", "workers_speedup_e2e", "startup_s",
                "startup_cold_s", "startup_en_s", "peak_rss_mb", "attach_growth", "repeats", "prefilter_pass",
                "breach_ratio_cpu", "mix_ratio_cpu", "cli_mix_ratio_cpu"]


def test_generator_is_deterministic_and_mixed():
    a = benchgen.generate(300, seed=5)
    assert a == benchgen.generate(300, seed=5)
    assert a != benchgen.generate(300, seed=6)
    breach = [d for d in a if d["bench_breach"]]
    assert 5 <= len(breach) <= 30  # about 1 in 20
    assert {d["bench_language"] for d in a} == {"fr", "en"}
    n_words = [len(d["text"].split()) for d in a]
    assert min(n_words) >= 150 and max(n_words) <= 1600
    assert len({d["id"] for d in a}) == len(a)
    # breach articles carry breach vocabulary; most ordinary news does not, a few do
    assert all(passes(d["text"]) for d in breach)
    ordinary = [d for d in a if not d["bench_breach"]]
    # the mix has decoys (ordinary news with a breach-like word), and the prefilter lets few through
    from extractor.prefilter import _vocabulary

    assert sum(_vocabulary().search(d["text"]) is not None for d in ordinary) > 0
    assert sum(passes(d["text"]) for d in ordinary) < 0.15 * len(ordinary)
    assert all(d["bench_breach"] for d in benchgen.generate(20, 1, "breach"))


def test_bench_quick_prints_summary(tmp_path):
    env = dict(os.environ, INCIDENTS_CACHE_DIR=str(tmp_path / "cache"))
    saved = tmp_path / "mix.jsonl"
    proc = subprocess.run([sys.executable, str(ROOT / "eval" / "bench.py"), "--quick", "--store-sizes", "200",
                           "--save", str(saved)], capture_output=True, text=True, env=env, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    last = proc.stdout.strip().splitlines()[-1]
    pairs = dict(kv.split("=", 1) for kv in last.split())
    for key in SUMMARY_KEYS:
        assert key in pairs, key
        float(pairs[key])
    assert float(pairs["peak_rss_mb"]) > 100
    assert pairs["repeats"] == "3" and pairs["mix_same_output"] == "1" and pairs["workers_same_output"] == "1"
    assert len(saved.read_text().splitlines()) == 80  # the mix's records, one a line, for a later --expect
    assert "store: 200 reports" in proc.stdout and "cli the same as in process: yes" in proc.stdout
    assert "reference nlp.pipe" in proc.stdout


def test_bench_refuses_fewer_than_three_repeats():
    proc = subprocess.run([sys.executable, str(ROOT / "eval" / "bench.py"), "--repeat", "2"], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 2 and "at least 3" in proc.stderr


def test_store_records_are_valid_and_ingest_reports_tenths(tmp_path):
    import bench_store
    from extractor.record import Record

    recs = bench_store.records(300, seed=3)
    assert recs == bench_store.records(300, seed=3) and len(recs) == 300
    assert len({r["source"]["id"] for r in recs}) == 300
    for r in recs[:50]:
        Record.model_validate(r)
    orgs = {r["organization"]["name"] for r in recs}
    assert 20 <= len(orgs) <= 300 and len(orgs) < len(recs)  # several reports per organization
    res = bench_store.ingest(tmp_path / "s.db", recs)
    assert len(res["per_report_ms"]) == 10 and res["reports"] == 300
    assert 0 < res["incidents"] < 300 and res["db_mb"] > 0
    assert res["attach_growth"] == pytest.approx(res["per_report_ms"][-1] / res["per_report_ms"][0], rel=0.01)


# -- regex program cache --------------------------------------------------------------------

BIG = "|".join(f"(?:{w}[a-zé]*-(?:[A-Z]\\w+|\\d{{1,3}}))" for w in
               ["saint", "sainte", "grand", "petit", "anti", "contre", "porte", "arc", "haut", "bas"] * 8)


def _probe(rx):
    words = ["saint-Jean", "Saint-Jean", "sainte-Foy", "anti-123", "porte-monnaie", "arc-en-ciel", "x", "",
             "grandes-Ecoles", "hautes-Alpes", "bas-99", "petit-Z"]
    return [(w, bool(rx.match(w)), rx.match(w) and rx.match(w).group(0)) for w in words]


def test_regex_cache_round_trip_and_fallbacks(tmp_path):
    assert len(BIG) >= xnlp.REGEX_CACHE_MIN_CHARS
    for flags in (0, re.IGNORECASE):
        reference = re.compile(BIG, flags)
        first = xnlp._RegexCache(tmp_path)
        miss = first._compile(BIG, flags)
        assert first.stats["misses"] == 1 and first.stats["writes"] == 1
        second = xnlp._RegexCache(tmp_path)
        hit = second._compile(BIG, flags)
        assert second.stats["hits"] == 1
        assert hit.pattern == reference.pattern and hit.flags == reference.flags
        assert _probe(hit) == _probe(miss) == _probe(reference)
    # a corrupt entry is ignored and rewritten
    for f in (tmp_path / first.engine).glob("*.bin"):
        f.write_bytes(f.read_bytes()[:-8] + b"\x00" * 8)
    third = xnlp._RegexCache(tmp_path)
    assert _probe(third._compile(BIG, 0)) == _probe(re.compile(BIG))
    assert third.stats["misses"] == 1 and third.stats["writes"] == 1
    # an unwritable cache directory: compiles normally, counts the failed write
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    fourth = xnlp._RegexCache(blocker)
    assert _probe(fourth._compile(BIG, 0)) == _probe(re.compile(BIG))
    assert fourth.stats["write_errors"] == 1
    # switched off
    assert xnlp._RegexCache(None).dir is None


TOKENIZE = r"""
import json, sys
from extractor import nlp
text = sys.stdin.read()
tok = nlp.get_nlp("fr").tokenizer
print(json.dumps({"tokens": [(t.text, t.idx, t.whitespace_) for t in tok(text)], "stats": nlp.last_load_stats["fr"]}))
"""

FRENCH = ("Aujourd'hui, l'hôpital Saint-Jean-sur-Richelieu a-t-il été piraté ? C'est-à-dire qu'on l'ignore. "
          "Peut-être 12 000 dossiers, 3,5 % des patients, ont-ils fuité vers http://exemple.qc.ca/fuite ou "
          "alerte@exemple.ca ; l'arc-en-ciel, le porte-monnaie, aux États-Unis, jusqu'au 1er mars 2025. "
          "Qu'est-ce que le rançongiciel « LockBit 3.0 » ? Anti-hameçonnage, vis-à-vis, grand-mère, après-midi.")


def _tokenize(env):
    proc = subprocess.run([sys.executable, "-c", TOKENIZE], input=FRENCH, capture_output=True, text=True,
                          env=env, cwd=str(ROOT), timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout)


@pytest.mark.parametrize("lang", ["fr"])
def test_cached_french_tokenizer_tokenizes_identically(tmp_path, lang):
    plain = _tokenize(dict(os.environ, INCIDENTS_NO_CACHE="1"))
    # a fixed hash seed: some of our rule alternations are ordered by set iteration (see eval/README "Speed"),
    # so their pattern text, hence their cache entry, changes with the seed
    # the user's cache alone: install.sh's installation cache would answer the misses this test counts
    env = dict(os.environ, INCIDENTS_CACHE_DIR=str(tmp_path), PYTHONHASHSEED="0", INCIDENTS_NO_INSTALL_CACHE="1")
    env.pop("INCIDENTS_NO_CACHE", None)
    filling = _tokenize(env)
    cached = _tokenize(env)
    assert filling["stats"]["writes"] >= 1
    assert cached["stats"]["hits"] >= 1 and cached["stats"]["misses"] == 0
    assert plain["tokens"] == filling["tokens"] == cached["tokens"]
    assert any(t[0] == "aujourd'hui" or t[0] == "Aujourd'hui" for t in plain["tokens"])  # token_match at work


def test_warm_cache_prepares_the_first_run_after_install(tmp_path):
    env = dict(os.environ, INCIDENTS_CACHE_DIR=str(tmp_path), PYTHONHASHSEED="0", INCIDENTS_NO_INSTALL_CACHE="1")
    env.pop("INCIDENTS_NO_CACHE", None)
    code = "import json; from extractor import nlp; print(json.dumps(nlp.warm_cache()))"
    warm = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=str(ROOT),
                          timeout=600)
    assert warm.returncode == 0, warm.stderr[-2000:]
    stats = json.loads(warm.stdout)
    assert set(stats) >= {"fr", "en"} and stats["fr"]["writes"] >= 1
    first = _tokenize(env)  # a fresh process after the install: every large pattern comes from the cache
    assert first["stats"]["misses"] == 0 and first["stats"]["hits"] >= 1
