"""Speed benchmark: the extractor against bare spaCy on a generated, reproducible mix.

    python eval/bench.py                 # default run (400 mixed documents, 100 breach articles)
    python eval/bench.py --quick         # a small run for CI smoke (numbers are not meaningful)
    python eval/bench.py --docs 800 --repeat 3 --json

Measured, side by side (wall clock; documents and words per second):
  reference   bare ``nlp.pipe`` (batch 16) with the pipelines exactly as ``spacy.load(name)``
              gives them (every component on), each document through its own language's pipeline;
  extractor   ``Extractor().extract_many`` in this process (language, prefilter, NER, rules, record),
              pipelines loaded beforehand, as for the reference;
  cli         ``incidents extract --docs`` end to end in a fresh process: process start to exit
              (the output file is complete), model loading included;
on two sets: breach articles only, and the realistic mix (about 1 breach article in 20).
Then: peak resident memory of the cli process on the mix (both languages loaded), start-up to the
first record (fresh process, one French document; one English document), and ``--workers 2``
against one worker on the breach set (steady state in this process, and the cli end to end).

The last line is the summary a script reads: ``key=value`` pairs separated by spaces.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "eval"))
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import benchgen  # noqa: E402

from extractor.nlp import pipeline_name  # noqa: E402
from extractor.resources import LANGUAGES  # noqa: E402

MODELS = {lang: pipeline_name(lang) for lang in LANGUAGES}
# The cli in a fresh interpreter that, on exit, writes its own peak resident memory (VmHWM: this
# process image only; getrusage's ru_maxrss would also count the benchmark process it was forked from).
_CLI_CODE = """
import atexit, os
def _hwm():
    path = os.environ.get("BENCH_HWM_FILE")
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:") and path:
                open(path, "w").write(line.split()[1])
    except OSError:
        pass
atexit.register(_hwm)
from extractor.cli import main
main()
"""
CLI = [sys.executable, "-c", _CLI_CODE]


def words(docs) -> int:
    return sum(len(d["text"].split()) for d in docs)


def loadavg() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:  # pragma: no cover
        return "?"


def median_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def run_child(args: list[str], env: dict | None = None, first_line: bool = False):
    """Run a child process; (seconds to exit or to its first stdout line, peak RSS MB, cpu s, rc)."""
    hwm = Path(tempfile.mkstemp(prefix="bench-hwm-")[1])
    env = dict(env if env is not None else os.environ, BENCH_HWM_FILE=str(hwm))
    t0 = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE if first_line else subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env=env, cwd=str(ROOT))
    t_first = None
    if first_line:
        line = proc.stdout.readline()
        t_first = time.perf_counter() - t0 if line else None
        proc.stdout.read()
    err = proc.stderr.read()
    _, status, ru = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"bench: child failed ({proc.returncode}): {' '.join(args[3:])}: {err.decode()[-400:]}")
    try:
        peak_kb = int(hwm.read_text() or 0) or ru.ru_maxrss
    except (OSError, ValueError):
        peak_kb = ru.ru_maxrss  # no /proc: an upper bound
    hwm.unlink(missing_ok=True)
    return {"seconds": t_first if first_line else elapsed, "exit_s": elapsed,
            "peak_rss_mb": peak_kb / 1024, "cpu_s": ru.ru_utime + ru.ru_stime}


def write_jsonl(path: Path, docs) -> Path:
    with open(path, "w", encoding="utf-8") as fh:
        for line in benchgen.iter_jsonl(docs):
            fh.write(line + "\n")
    return path


def reference(pipes: dict, docs, repeat: int) -> float:
    by_lang: dict = {}
    for d in docs:
        by_lang.setdefault(d["bench_language"], []).append(d["text"])

    def go():
        for lang, texts in by_lang.items():
            for _ in pipes[lang].pipe(texts, batch_size=16):
                pass
    return median_time(go, repeat)


def stage_costs(docs) -> dict:
    """Seconds per stage over `docs`: prepare (html, language), tokenizer, each pipe, record."""
    from extractor.nlp import MAX_CHARS, get_nlp
    from extractor.pipeline import build_record, prepare, to_document

    cost: dict = {}
    t = time.perf_counter()
    preps = [prepare(to_document(d)) for d in docs]
    cost["prepare (html, language)"] = time.perf_counter() - t
    for lang in sorted({p.language for p in preps}):
        nlp = get_nlp(lang)
        ps = [p for p in preps if p.language == lang]
        t = time.perf_counter()
        sdocs = [nlp.make_doc(p.text[:MAX_CHARS]) for p in ps]
        cost["tokenizer"] = cost.get("tokenizer", 0) + time.perf_counter() - t
        for d, p in zip(sdocs, ps):
            d._.meta = p.meta
        for name, proc in nlp.pipeline:
            t = time.perf_counter()
            sdocs = list(proc.pipe(sdocs, batch_size=16)) if hasattr(proc, "pipe") else [proc(d) for d in sdocs]
            cost[name] = cost.get(name, 0) + time.perf_counter() - t
        t = time.perf_counter()
        for p, d in zip(ps, sdocs):
            build_record(p, d, 0.5)
        cost["record"] = cost.get("record", 0) + time.perf_counter() - t
    return cost


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Extractor speed against bare spaCy nlp.pipe.")
    ap.add_argument("--docs", type=int, default=400, help="documents in the realistic mix (default 400)")
    ap.add_argument("--breach-docs", type=int, default=None, help="breach-only set size (default: docs/4)")
    ap.add_argument("--quick", action="store_true", help="a small run for CI smoke tests")
    ap.add_argument("--repeat", type=int, default=1, help="repeat the in-process timings, report the median")
    ap.add_argument("--startup-runs", type=int, default=3, help="fresh processes per start-up figure (median)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--json", action="store_true", help="print the results as one JSON object")
    args = ap.parse_args(argv)
    if args.quick:
        args.docs, args.breach_docs, args.startup_runs, args.repeat = 40, args.breach_docs or 8, 1, 1
    n_breach = args.breach_docs or max(args.docs // 4, 8)
    out = sys.stderr if args.json else sys.stdout

    def say(msg=""):
        print(msg, file=out, flush=True)

    import spacy

    from extractor import nlp as xnlp
    from extractor.parallel import extract_parallel
    from extractor.pipeline import Extractor

    mix = benchgen.generate(args.docs, args.seed, "mix")
    breach = benchgen.generate(n_breach, args.seed, "breach")
    sets = {"breach": breach, "mix": mix}
    tmp = Path(tempfile.mkdtemp(prefix="incidents-bench-"))
    res: dict = {"load_before": loadavg(), "cpus": os.cpu_count(), "docs": args.docs, "breach_docs": n_breach,
                 "words_mix": words(mix), "words_breach": words(breach), "quick": args.quick}
    say(f"bench: {args.docs} mixed documents ({sum(d['bench_breach'] for d in mix)} breach), "
        f"{n_breach} breach articles, seed {args.seed}; {os.cpu_count()} cpus, load {res['load_before']}")

    # -- in this process, interleaved so that a change of machine load hits every figure alike ---
    # reference: bare nlp.pipe, every component on; extractor: language, prefilter, NER, rules, record;
    # --workers 2: forked workers inherit the loaded pipelines (steady state, no start-up)
    full = {lang: spacy.load(name) for lang, name in MODELS.items()}
    for lang, nlp in full.items():
        list(nlp.pipe(["Warm up. " * 20], batch_size=16))
    ext = Extractor(batch_size=16)
    warm = [{"text": benchgen.generate(1, 99, "breach")[0]["text"], "language": lang} for lang in ("fr", "en")]
    list(ext.extract_many(warm))
    samples: dict = {}
    stats = {}

    def timed(key, fn):
        w, c = time.perf_counter(), time.process_time()
        fn()
        samples.setdefault(key, []).append((time.perf_counter() - w, time.process_time() - c))

    def run_ext(docs):
        ext.stats = {key: 0 for key in ext.stats}
        list(ext.extract_many(docs))
        return dict(ext.stats)

    for _ in range(args.repeat):
        for k, docs in sets.items():
            timed(("ref", k), lambda docs=docs: reference(full, docs, 1))
            timed(("ext", k), lambda k=k, docs=docs: stats.__setitem__(k, run_ext(docs)))
        timed(("par2", "breach"), lambda: list(extract_parallel(breach, workers=2, batch_size=16)))
    med = {key: statistics.median(w for w, _ in v) for key, v in samples.items()}
    med_cpu = {key: statistics.median(c for _, c in v) for key, v in samples.items()}
    ref = {k: med[("ref", k)] for k in sets}
    extr = {k: med[("ext", k)] for k in sets}
    par2 = med[("par2", "breach")]
    del full
    pass_rate = 1 - stats["mix"]["prefiltered"] / max(stats["mix"]["documents"], 1)

    # -- where the extractor's time goes on breach articles: stage by stage -------------------------
    stages = stage_costs(breach)

    # -- cli end to end ------------------------------------------------------------------------
    paths = {k: write_jsonl(tmp / f"{k}.jsonl", v) for k, v in sets.items()}
    cli = {}
    # one worker then two, back to back (the same code and rule files; others may be editing them)
    cli["breach"] = run_child(CLI + ["extract", "--docs", str(paths["breach"]), "--output", str(tmp / "breach.out.jsonl")])
    cli_w2 = run_child(CLI + ["extract", "--docs", str(paths["breach"]), "--workers", "2",
                              "--output", str(tmp / "breach.w2.jsonl")])
    cli["mix"] = run_child(CLI + ["extract", "--docs", str(paths["mix"]), "--output", str(tmp / "mix.out.jsonl")])
    same = (tmp / "breach.out.jsonl").read_bytes() == (tmp / "breach.w2.jsonl").read_bytes()

    # -- start-up to the first record ------------------------------------------------------------
    one = {}
    for lang in ("fr", "en"):
        d = next(x for x in benchgen.generate(40, args.seed + 1, "breach") if x["bench_language"] == lang)
        d = {"id": d["id"], "text": d["text"][:1200]}
        one[lang] = write_jsonl(tmp / f"one-{lang}.jsonl", [d])
    startup = {}
    for lang in ("fr", "en"):
        runs = [run_child(CLI + ["extract", "--docs", str(one[lang])], first_line=True)
                for _ in range(args.startup_runs)]
        startup[lang] = statistics.median(r["seconds"] for r in runs)
        startup[lang + "_cpu"] = statistics.median(r["cpu_s"] for r in runs)
    cold_env = dict(os.environ, INCIDENTS_CACHE_DIR=str(tmp / "empty-cache"))
    startup["fr_cold_cache"] = float("nan") if args.quick else run_child(
        CLI + ["extract", "--docs", str(one["fr"])], env=cold_env, first_line=True)["seconds"]
    res["load_after"] = loadavg()

    # -- report ----------------------------------------------------------------------------------
    def rate(k, t):
        return len(sets[k]) / t, res["words_" + k] / t

    rows = []
    for k in ("breach", "mix"):
        for name, t in (("reference nlp.pipe (all components)", ref[k]), ("extractor (in process)", extr[k]),
                        ("incidents extract --docs (end to end)", cli[k]["seconds"])):
            dps, wps = rate(k, t)
            rows.append((k, name, t, dps, wps, ref[k] / t))
    dps, wps = rate("breach", par2)
    rows.append(("breach", "extractor, --workers 2 (in process)", par2, dps, wps, ref["breach"] / par2))
    dps, wps = rate("breach", cli_w2["seconds"])
    rows.append(("breach", "incidents extract --workers 2 (end to end)", cli_w2["seconds"], dps, wps,
                 ref["breach"] / cli_w2["seconds"]))

    say("")
    say(f"{'set':<7} {'what':<44} {'seconds':>8} {'docs/s':>8} {'words/s':>9} {'x ref':>6}")
    for k, name, t, dps, wps, ratio in rows:
        say(f"{k:<7} {name:<44} {t:8.2f} {dps:8.1f} {wps:9.0f} {ratio:6.2f}")
    say("")
    say(f"the same ratios in process cpu time (less sensitive to other load on the machine): breach "
        f"{med_cpu[('ref', 'breach')] / med_cpu[('ext', 'breach')]:.2f}x, mix {med_cpu[('ref', 'mix')] / med_cpu[('ext', 'mix')]:.2f}x"
        f" (median of {args.repeat} interleaved runs)")
    say(f"prefilter pass rate on the mix: {pass_rate:.1%} ({stats['mix']['documents'] - stats['mix']['prefiltered']}"
        f" of {stats['mix']['documents']} documents reach spaCy)")
    say(f"peak RSS, incidents extract on the mix (fr + en loaded): {cli['mix']['peak_rss_mb']:.0f} MB")
    say(f"start-up to the first record (median of {args.startup_runs} fresh processes): French {startup['fr']:.2f} s"
        f" ({startup['fr_cpu']:.2f} s cpu), English {startup['en']:.2f} s ({startup['en_cpu']:.2f} s cpu);"
        f" French with an empty regex cache {startup['fr_cold_cache']:.2f} s")
    w_speed = extr["breach"] / par2
    w_e2e = cli["breach"]["seconds"] / cli_w2["seconds"]
    say(f"--workers 2 vs 1 on breach articles: {w_speed:.2f}x steady state (in process), {w_e2e:.2f}x end to end"
        f" incl. start-up; same output as one worker: {'yes' if same else 'NO'}")
    total = sum(stages.values())
    say(f"where the extractor's time goes on breach articles ({total:.2f} s in all, stage by stage):")
    say("  " + ", ".join(f"{k} {v:.2f} s ({v / total:.0%})" for k, v in sorted(stages.items(), key=lambda kv: -kv[1])))
    say(f"load average before {res['load_before']}, after {res['load_after']}")
    summary = {
        "breach_ratio": round(ref["breach"] / extr["breach"], 2),
        "mix_ratio": round(ref["mix"] / extr["mix"], 2),
        "breach_ratio_cpu": round(med_cpu[("ref", "breach")] / med_cpu[("ext", "breach")], 2),
        "mix_ratio_cpu": round(med_cpu[("ref", "mix")] / med_cpu[("ext", "mix")], 2),
        "cli_mix_ratio": round(ref["mix"] / cli["mix"]["seconds"], 2),
        "prefilter_pass": round(pass_rate, 4),
        "peak_rss_mb": round(cli["mix"]["peak_rss_mb"]),
        "startup_s": round(startup["fr"], 2),
        "startup_en_s": round(startup["en"], 2),
        "startup_cold_s": round(startup["fr_cold_cache"], 2),
        "workers_speedup": round(w_speed, 2),
        "workers_speedup_e2e": round(w_e2e, 2),
        "workers_same_output": int(same),
        "ref_breach_wps": round(res["words_breach"] / ref["breach"]),
        "ext_breach_wps": round(res["words_breach"] / extr["breach"]),
        "docs": args.docs,
        "load": res["load_before"].split()[0],
    }
    if args.json:
        res.update(summary=summary, rows=[dict(zip(("set", "what", "seconds", "docs_s", "words_s", "x_ref"), r))
                                          for r in rows], startup=startup, stages=stages, regex_cache=xnlp.last_load_stats)
        print(json.dumps(res, ensure_ascii=False))
    else:
        print(" ".join(f"{k}={v}" for k, v in summary.items()), flush=True)
    import shutil

    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
