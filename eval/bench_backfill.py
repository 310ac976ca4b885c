"""Backfill benchmark: documents a second through `incidents backfill` on 1 and 2 local Dask workers.

    python eval/bench_backfill.py                  # 400 pages (the benchgen mix) in 4 gzip WARCs, 1 then 2 workers
    python eval/bench_backfill.py --docs 1200 --repeat 3 --kind breach
    python eval/bench_backfill.py --quick          # a small run (numbers are not meaningful)

The pages are benchgen's reproducible French/English mix (about 1 breach article in 20, near
misses included, 150 to 1,500 words), each written as an HTML page (title, publication date, lang)
in a ``response`` record with its ``request`` record, 4 gzip WARC files. For each worker count a
LocalCluster is started (one thread per worker process), every worker loads its pipelines and a
few breach pages are run as a warm-up (start-up is timed apart); then `run_backfill` runs over the archives into a fresh
directory: planning (one task per archive), extraction and writing the JSONL partitions, timed
from submission to the last partition written. The median of --repeat runs is kept.

Besides wall-clock documents a second (what the speed-up is computed from), it prints documents
per CPU-second of the worker processes: on a machine shared with other jobs the wall clock
measures the others too, the CPU time much less so (it is the per-core rate a quiet core gives).
``cores used`` (worker CPU seconds over wall seconds) shows how much of the machine the workers
got; ``cpu_scaling_2`` (twice the per-CPU rate of 2 workers over that of 1) is the speed-up 2
workers would give with a core each: an estimate for a shared machine, not a measurement.

The last line is the summary a script reads: ``key=value`` pairs separated by spaces.
"""

from __future__ import annotations

import argparse
import html
import io
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "eval"))
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import benchgen  # noqa: E402


def loadavg() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:  # pragma: no cover
        return "?"


def page(doc: dict) -> bytes:
    lang = doc.get("bench_language", "fr")
    paras = "".join(f"<p>{html.escape(p.strip())}</p>\n" for p in doc["text"].split("\n") if p.strip())
    return (f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><title>{html.escape(doc["title"])}</title>'
            f'<meta property="article:published_time" content="{doc["published"]}T08:00:00-05:00">'
            f'<meta property="og:site_name" content="Bench News"></head><body><nav>Accueil | Nouvelles</nav>'
            f'<article><h1>{html.escape(doc["title"])}</h1>\n{paras}</article><footer>© Bench News</footer></body></html>'
            ).encode("utf-8")


def write_archives(directory: Path, docs: list[dict], n_archives: int) -> list[Path]:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    paths = []
    per = -(-len(docs) // n_archives)
    for k in range(n_archives):
        path = directory / f"bench-{k:02d}.warc.gz"
        with open(path, "wb") as fh:
            w = WARCWriter(fh, gzip=True)
            w.write_record(w.create_warcinfo_record(path.name, {"software": "bench_backfill"}))
            for doc in docs[k * per:(k + 1) * per]:
                url = f"https://bench.example/{doc['id']}"
                w.write_record(w.create_warc_record(url, "request", payload=io.BytesIO(b"GET / HTTP/1.1\r\n\r\n"),
                                                    warc_headers_dict={"Content-Type": "application/http; msgtype=request"}))
                hh = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
                w.write_record(w.create_warc_record(url, "response", payload=io.BytesIO(page(doc)), http_headers=hh))
        paths.append(path)
    return paths


def measure(archives: list[Path], workers: int, repeat: int, partition_docs: int, work: Path, warmup: list[Path]) -> dict:
    from extractor.backfill import find_archives
    from extractor.backfill.runner import BackfillOptions, connect, run_backfill
    from extractor.backfill.tasks import ExtractorPlugin

    started = time.perf_counter()
    with connect(workers=workers, dashboard_address=":0") as client:
        client.register_plugin(ExtractorPlugin(languages="all"))  # every worker loads both pipelines first
        # one-time costs of each process (language profiles, date locales, first calls) are paid before timing
        run_backfill(find_archives([str(p) for p in warmup]), work / f"warmup-{workers}", client, BackfillOptions(max_docs=4))
        startup = time.perf_counter() - started
        found = find_archives([str(p) for p in archives])
        runs = []
        for r in range(repeat):
            out = work / f"out-{workers}-{r}"
            cpu0 = client.run(time.process_time)
            t = time.perf_counter()
            summary = run_backfill(found, out, client, BackfillOptions(max_docs=partition_docs))
            seconds = time.perf_counter() - t
            cpu1 = client.run(time.process_time)
            cpu = sum(cpu1[w] - cpu0.get(w, 0.0) for w in cpu1)  # CPU seconds of the worker processes
            if summary.failures:
                raise SystemExit(f"bench_backfill: failures: {summary.failures}")
            runs.append({"seconds": seconds, "cpu_s": cpu, "documents": summary.documents, "partitions": summary.partitions,
                         "pass_rate": summary.pass_rate, "incidents": summary.incidents, "load": loadavg()})
            shutil.rmtree(out, ignore_errors=True)
    secs = statistics.median(r["seconds"] for r in runs)
    cpu = statistics.median(r["cpu_s"] for r in runs)
    docs = runs[0]["documents"]
    return {"workers": workers, "documents": docs, "partitions": runs[0]["partitions"], "seconds": round(secs, 2),
            "docs_per_s": round(docs / secs, 1), "docs_per_cpu_s": round(docs / cpu, 1) if cpu > 0 else None,
            "cores_used": round(cpu / secs, 2), "startup_s": round(startup, 1), "pass_rate": runs[0]["pass_rate"],
            "incidents": runs[0]["incidents"], "runs": runs}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--docs", type=int, default=400)
    ap.add_argument("--kind", choices=["mix", "breach", "ordinary"], default="mix")
    ap.add_argument("--archives", type=int, default=4)
    ap.add_argument("--partition-docs", type=int, default=25, help="documents per partition (a task)")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--quick", action="store_true", help="60 documents, one run each")
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    args = ap.parse_args(argv)
    if args.quick:
        args.docs, args.repeat = 60, 1
    docs = benchgen.generate(args.docs, seed=11, kind=args.kind)
    with tempfile.TemporaryDirectory(prefix="bench-backfill-") as tmp:
        work = Path(tmp)
        archives = write_archives(work, docs, args.archives)
        (work / "warmup").mkdir()
        warmup = write_archives(work / "warmup", benchgen.generate(8 * max(args.workers), seed=12, kind="breach"), 1)
        mb = sum(p.stat().st_size for p in archives) / 1e6
        print(f"bench_backfill: {len(docs)} pages ({args.kind}) in {len(archives)} gzip WARCs ({mb:.1f} MB), "
              f"{args.partition_docs} documents a partition, {os.cpu_count()} cores, load average {loadavg()}", file=sys.stderr)
        results = []
        for n in args.workers:
            res = measure(archives, n, args.repeat, args.partition_docs, work, warmup)
            results.append(res)
            print(f"workers={n}: {res['documents']} documents in {res['seconds']}s = {res['docs_per_s']} docs/s, "
                  f"{res['docs_per_cpu_s']} docs per worker CPU-second, {res['cores_used']} cores used by the workers "
                  f"({res['partitions']} partitions, prefilter pass {res['pass_rate']:.1%}, {res['incidents']} incidents; "
                  f"cluster start, pipelines and warm-up {res['startup_s']}s; load average {res['runs'][-1]['load']})", file=sys.stderr)
    by = {r["workers"]: r for r in results}
    summary = {f"docs_per_s_{n}": r["docs_per_s"] for n, r in by.items()}
    summary.update({f"docs_per_cpu_s_{n}": r["docs_per_cpu_s"] for n, r in by.items()})
    if 1 in by and 2 in by:
        summary["speedup_2"] = round(by[2]["docs_per_s"] / by[1]["docs_per_s"], 2)
        # what 2 workers would give with a core each: twice the per-CPU rate they kept (an estimate, for a shared machine)
        if by[1]["docs_per_cpu_s"] and by[2]["docs_per_cpu_s"]:
            summary["cpu_scaling_2"] = round(2 * by[2]["docs_per_cpu_s"] / by[1]["docs_per_cpu_s"], 2)
    summary["pass_rate"] = round(results[0]["pass_rate"] or 0, 3)
    summary["load_avg"] = loadavg().split()[0]
    if args.json:
        print(json.dumps({"results": results, "summary": summary}, indent=2))
    print(" ".join(f"{k}={v}" for k, v in summary.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
