"""Speed benchmark: the extractor against bare spaCy on a generated, reproducible mix.

    python eval/bench.py                 # default run (400 mixed documents, 100 breach articles)
    python eval/bench.py --quick         # a small run for CI smoke (numbers are not meaningful)
    python eval/bench.py --docs 800 --repeat 5 --json
    python eval/bench.py --expect before.jsonl   # the mix's records must equal an earlier run's

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

Every figure is the median of ``--repeat`` (at least 3) interleaved repeats: in process, each repeat
times the reference, the extractor and two workers one after the other; the cli runs and the start-up
processes are interleaved the same way, so that a change of load on a shared machine hits every
figure alike. Cpu-time ratios (``*_cpu``) are printed beside the wall-clock ones: on a shared machine
read those. The mix's records (in process and through the cli) are compared with each other and, with
``--expect FILE``, with the records of an earlier run (``--save FILE`` writes them): the extraction
output must not change when only speed does. The store section (``eval/bench_store.py``) runs unless
``--no-store``.

The last line is the summary a script reads: ``key=value`` pairs separated by spaces.
"""

from __future__ import annotations

import argparse
import hashlib
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


def reference(pipes: dict, docs) -> None:
    by_lang: dict = {}
    for d in docs:
        by_lang.setdefault(d["bench_language"], []).append(d["text"])
    for lang, texts in by_lang.items():
        for _ in pipes[lang].pipe(texts, batch_size=16):
            pass


def records_digest(lines) -> str:
    """SHA-256 of record lines (one JSON record each), to compare runs."""
    h = hashlib.sha256()
    for line in lines:
        h.update(line.rstrip("\n").encode("utf-8") + b"\n")
    return h.hexdigest()


CORPUS = ROOT.parent / "shared" / "corpus"


def prefilter_recall() -> dict:
    """On each gold corpus: the share of documents the prefilter passes, and of gold incidents."""
    from extractor.prefilter import passes

    out = {}
    for name in ("train", "dev"):
        path = CORPUS / f"{name}.jsonl"
        if not path.exists():
            continue
        docs = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        ok = [passes(d["text"]) for d in docs]
        gold = [p for d, p in zip(docs, ok) if d["gold"]["is_incident"]]
        out[name] = {"docs": len(docs), "pass": sum(ok) / len(docs), "incidents": len(gold),
                     "recall": sum(gold) / max(len(gold), 1)}
    return out


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


def median(samples: dict, key, cpu: bool = False) -> float:
    return statistics.median(c if cpu else w for w, c in samples[key])


def in_process(sets: dict, repeat: int) -> tuple[dict, dict, list]:
    """Reference, extractor and two forked workers, interleaved `repeat` times: (samples, stats, mix lines)."""
    import spacy

    from extractor.parallel import extract_parallel
    from extractor.pipeline import Extractor

    full = {lang: spacy.load(name) for lang, name in MODELS.items()}
    for nlp in full.values():
        list(nlp.pipe(["Warm up. " * 20], batch_size=16))
    ext = Extractor(batch_size=16)
    warm = [{"text": benchgen.generate(1, 99, "breach")[0]["text"], "language": lang} for lang in ("fr", "en")]
    list(ext.extract_many(warm))
    samples: dict = {}
    stats: dict = {}
    mix_lines: list = []

    def timed(key, fn):
        w, c = time.perf_counter(), time.process_time()
        fn()
        samples.setdefault(key, []).append((time.perf_counter() - w, time.process_time() - c))

    def run_ext(k, docs):
        ext.stats = {key: 0 for key in ext.stats}
        recs = list(ext.extract_many(docs))
        stats[k] = dict(ext.stats)
        if k == "mix" and not mix_lines:
            mix_lines.extend(r.model_dump_json() for r in recs)

    for _ in range(repeat):
        for k, docs in sets.items():
            timed(("ref", k), lambda docs=docs: reference(full, docs))
            timed(("ext", k), lambda k=k, docs=docs: run_ext(k, docs))
        timed(("par2", "breach"), lambda: list(extract_parallel(sets["breach"], workers=2, batch_size=16)))
    return samples, stats, mix_lines


def end_to_end(paths: dict, tmp: Path, repeat: int) -> tuple[dict, bool]:
    """The cli on the breach set (one worker, two) and the mix, interleaved `repeat` times."""
    samples: dict = {}
    same = True
    for _ in range(repeat):
        for key, src, extra in (("breach", "breach", []), ("breach_w2", "breach", ["--workers", "2"]),
                                ("mix", "mix", [])):
            out = tmp / f"{key}.out.jsonl"
            samples.setdefault(key, []).append(
                run_child(CLI + ["extract", "--docs", str(paths[src]), *extra, "--output", str(out)]))
        same = same and (tmp / "breach.out.jsonl").read_bytes() == (tmp / "breach_w2.out.jsonl").read_bytes()
    cli = {k: {f: statistics.median(r[f] for r in v) for f in ("seconds", "cpu_s")} for k, v in samples.items()}
    cli["mix"]["peak_rss_mb"] = max(r["peak_rss_mb"] for r in samples["mix"])
    return cli, same


def startups(tmp: Path, seed: int, runs: int) -> dict:
    """Fresh process to the first record, interleaved: French, English, French on the first run after install
    (an empty user cache; the installation's cache, filled by install.sh, answers) and French with no cache at
    all (INCIDENTS_NO_CACHE=1: every pattern compiled, langdetect's profiles parsed)."""
    one = {}
    for lang in ("fr", "en"):
        d = next(x for x in benchgen.generate(40, seed + 1, "breach") if x["bench_language"] == lang)
        one[lang] = write_jsonl(tmp / f"one-{lang}.jsonl", [{"id": d["id"], "text": d["text"][:1200]}])
    got: dict = {}
    for r in range(runs):
        for key, lang, env in (("fr", "fr", None), ("en", "en", None),
                               ("fr_cold_cache", "fr", dict(os.environ, INCIDENTS_CACHE_DIR=str(tmp / f"empty-{r}"))),
                               ("fr_no_cache", "fr", dict(os.environ, INCIDENTS_NO_CACHE="1"))):
            got.setdefault(key, []).append(run_child(CLI + ["extract", "--docs", str(one[lang])], env=env,
                                                     first_line=True))
    out = {}
    for key, v in got.items():
        out[key] = statistics.median(x["seconds"] for x in v)
        out[key + "_cpu"] = statistics.median(x["cpu_s"] for x in v)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Extractor speed against bare spaCy nlp.pipe.")
    ap.add_argument("--docs", type=int, default=400, help="documents in the realistic mix (default 400)")
    ap.add_argument("--breach-docs", type=int, default=None, help="breach-only set size (default: docs/4)")
    ap.add_argument("--quick", action="store_true",
                    help="small sets, still 3 interleaved repeats: a few minutes on a 2-core machine")
    ap.add_argument("--repeat", type=int, default=3, help="interleaved repeats of every timing, median reported (>= 3)")
    ap.add_argument("--startup-runs", type=int, default=3, help="fresh processes per start-up figure (median)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--expect", type=Path, help="records of the mix from an earlier run: the output must be the same")
    ap.add_argument("--save", type=Path, help="write the mix's records here (for a later --expect)")
    ap.add_argument("--no-store", action="store_true", help="skip the store section")
    ap.add_argument("--store-sizes", default=None,
                    help="reports per store run, comma-separated (default 2000,10000; --quick 500,2000)")
    ap.add_argument("--json", action="store_true", help="print the results as one JSON object")
    args = ap.parse_args(argv)
    if args.repeat < 3 or args.startup_runs < 1:
        ap.error("--repeat must be at least 3 (every ratio is a median of interleaved repeats)")
    if args.quick:
        args.docs, args.breach_docs = min(args.docs, 80), args.breach_docs or 12
    n_breach = args.breach_docs or max(args.docs // 4, 8)
    sizes = [int(x) for x in (args.store_sizes or ("500,2000" if args.quick else "2000,10000")).split(",") if x]
    out = sys.stderr if args.json else sys.stdout

    def say(msg=""):
        print(msg, file=out, flush=True)

    from extractor import nlp as xnlp

    mix = benchgen.generate(args.docs, args.seed, "mix")
    breach = benchgen.generate(n_breach, args.seed, "breach")
    sets = {"breach": breach, "mix": mix}
    tmp = Path(tempfile.mkdtemp(prefix="incidents-bench-"))
    res: dict = {"load_before": loadavg(), "cpus": os.cpu_count(), "docs": args.docs, "breach_docs": n_breach,
                 "words_mix": words(mix), "words_breach": words(breach), "quick": args.quick, "repeats": args.repeat}
    say(f"bench: {args.docs} mixed documents ({sum(d['bench_breach'] for d in mix)} breach), "
        f"{n_breach} breach articles, seed {args.seed}; {os.cpu_count()} cpus, load {res['load_before']}; "
        f"{args.repeat} interleaved repeats")

    samples, stats, mix_lines = in_process(sets, args.repeat)
    ref = {k: median(samples, ("ref", k)) for k in sets}
    extr = {k: median(samples, ("ext", k)) for k in sets}
    ref_cpu = {k: median(samples, ("ref", k), True) for k in sets}
    extr_cpu = {k: median(samples, ("ext", k), True) for k in sets}
    par2 = median(samples, ("par2", "breach"))
    pass_rate = 1 - stats["mix"]["prefiltered"] / max(stats["mix"]["documents"], 1)
    stages = stage_costs(breach)
    recall = prefilter_recall()

    paths = {k: write_jsonl(tmp / f"{k}.jsonl", v) for k, v in sets.items()}
    cli, same = end_to_end(paths, tmp, args.repeat)
    cli_mix_lines = (tmp / "mix.out.jsonl").read_text(encoding="utf-8").splitlines()
    digest = records_digest(mix_lines)
    cli_same = records_digest(cli_mix_lines) == digest
    expected = None
    if args.expect:
        expected = records_digest(args.expect.read_text(encoding="utf-8").splitlines()) == digest
    if args.save:
        args.save.write_text("".join(line + "\n" for line in mix_lines), encoding="utf-8")
    startup = startups(tmp, args.seed, args.startup_runs)
    store = None
    if not args.no_store:
        import bench_store

        store = bench_store.run(sizes, tmp / "store", args.seed, say)
    res["load_after"] = loadavg()

    # -- report ----------------------------------------------------------------------------------
    def rate(k, t):
        return len(sets[k]) / t, res["words_" + k] / t

    rows = []
    for k in ("breach", "mix"):
        for name, t in (("reference nlp.pipe (all components)", ref[k]), ("extractor (in process)", extr[k]),
                        ("incidents extract --docs (end to end)", cli[k]["seconds"])):
            rows.append((k, name, t, *rate(k, t), ref[k] / t))
    rows.append(("breach", "extractor, --workers 2 (in process)", par2, *rate("breach", par2), ref["breach"] / par2))
    t = cli["breach_w2"]["seconds"]
    rows.append(("breach", "incidents extract --workers 2 (end to end)", t, *rate("breach", t), ref["breach"] / t))

    say("")
    say(f"{'set':<7} {'what':<44} {'seconds':>8} {'docs/s':>8} {'words/s':>9} {'x ref':>6}   (medians of {args.repeat})")
    for k, name, t, dps, wps, ratio in rows:
        say(f"{k:<7} {name:<44} {t:8.2f} {dps:8.1f} {wps:9.0f} {ratio:6.2f}")
    say("")
    say(f"the same ratios in cpu time (less sensitive to other load on the machine): breach "
        f"{ref_cpu['breach'] / extr_cpu['breach']:.2f}x, mix {ref_cpu['mix'] / extr_cpu['mix']:.2f}x in process, "
        f"mix {ref_cpu['mix'] / cli['mix']['cpu_s']:.2f}x through the cli (cpu of the child process)")
    say(f"prefilter pass rate on the mix: {pass_rate:.1%} ({stats['mix']['documents'] - stats['mix']['prefiltered']}"
        f" of {stats['mix']['documents']} documents reach spaCy)")
    for name, r in recall.items():
        say(f"prefilter on {name}: passes {r['pass']:.1%} of {r['docs']} documents, recall {r['recall']:.1%} of its "
            f"{r['incidents']} gold incidents")
    say(f"mix records {digest[:16]}: cli the same as in process: {'yes' if cli_same else 'NO'}"
        + ("" if expected is None else f"; the same as {args.expect}: {'yes' if expected else 'NO'}"))
    say(f"peak RSS, incidents extract on the mix (fr + en loaded): {cli['mix']['peak_rss_mb']:.0f} MB")
    say(f"start-up to the first record (median of {args.startup_runs} fresh processes): French {startup['fr']:.2f} s"
        f" ({startup['fr_cpu']:.2f} s cpu), English {startup['en']:.2f} s ({startup['en_cpu']:.2f} s cpu);"
        f" French on the first run after install (empty user cache) {startup['fr_cold_cache']:.2f} s,"
        f" with no cache at all {startup['fr_no_cache']:.2f} s")
    w_speed = extr["breach"] / par2
    w_e2e = cli["breach"]["seconds"] / cli["breach_w2"]["seconds"]
    say(f"--workers 2 vs 1 on breach articles: {w_speed:.2f}x steady state (in process), {w_e2e:.2f}x end to end"
        f" incl. start-up; same output as one worker: {'yes' if same else 'NO'}")
    total = sum(stages.values())
    say(f"where the extractor's time goes on breach articles ({total:.2f} s in all, stage by stage):")
    say("  " + ", ".join(f"{k} {v:.2f} s ({v / total:.0%})" for k, v in sorted(stages.items(), key=lambda kv: -kv[1])))
    say(f"load average before {res['load_before']}, after {res['load_after']}")
    summary = {
        "breach_ratio": round(ref["breach"] / extr["breach"], 2),
        "mix_ratio": round(ref["mix"] / extr["mix"], 2),
        "breach_ratio_cpu": round(ref_cpu["breach"] / extr_cpu["breach"], 2),
        "mix_ratio_cpu": round(ref_cpu["mix"] / extr_cpu["mix"], 2),
        "cli_mix_ratio": round(ref["mix"] / cli["mix"]["seconds"], 2),
        "cli_mix_ratio_cpu": round(ref_cpu["mix"] / cli["mix"]["cpu_s"], 2),
        "prefilter_pass": round(pass_rate, 4),
        **{f"prefilter_recall_{name}": round(r["recall"], 4) for name, r in recall.items()},
        "peak_rss_mb": round(cli["mix"]["peak_rss_mb"]),
        "startup_s": round(startup["fr"], 2),
        "startup_cold_s": round(startup["fr_cold_cache"], 2),
        "startup_nocache_s": round(startup["fr_no_cache"], 2),
        "startup_en_s": round(startup["en"], 2),
        "workers_speedup": round(w_speed, 2),
        "workers_speedup_e2e": round(w_e2e, 2),
        "workers_same_output": int(same),
        "attach_growth": round(store["attach_growth"], 2) if store else float("nan"),
        "mix_same_output": int(cli_same and expected is not False),
        "ref_breach_wps": round(res["words_breach"] / ref["breach"]),
        "ext_breach_wps": round(res["words_breach"] / extr["breach"]),
        "docs": args.docs,
        "repeats": args.repeat,
        "load": res["load_before"].split()[0],
    }
    if args.json:
        res.update(summary=summary, rows=[dict(zip(("set", "what", "seconds", "docs_s", "words_s", "x_ref"), r))
                                          for r in rows], startup=startup, stages=stages, store=store,
                   mix_records_sha256=digest, regex_cache=xnlp.last_load_stats)
        print(json.dumps(res, ensure_ascii=False))
    else:
        print(" ".join(f"{k}={v}" for k, v in summary.items()), flush=True)
    import shutil

    shutil.rmtree(tmp, ignore_errors=True)
    return 0 if (same and cli_same and expected is not False) else 1


if __name__ == "__main__":
    sys.exit(main())
