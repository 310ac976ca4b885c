"""The benchmark's store section: attach time per report as the store grows, and interactive reads on it.

For each size N (2,000 and 10,000 reports by default; 50,000 with ``--sizes 2000,10000,50000``),
generated incident records of a few hundred organizations (several reports per breach, across both
languages, dates spread over four years) are imported into a fresh SQLite store the way ``incidents
import`` does it (``merge.import_record``: store the report, attach it to its incident), committed every
100 reports. Printed: seconds per report for each tenth of the run, the database size, and
``attach_growth`` (last tenth ÷ first tenth: 1.0 is flat); then ``incidents export``, ``status`` and
``show`` on the largest store, each a fresh process (start-up included), median of 3. Every figure is given in
wall-clock and in process (CPU) time: the machine is shared, and CPU time is the fairer measure of the work.
``--dump DIR`` writes each store's incidents (id -> sorted source ids) as ``DIR/incidents-N.json``, to compare
two versions incident by incident.

    python eval/bench_store.py --sizes 2000,10000
    nice -n 19 python eval/bench_store.py --sizes 50000 --progress   # each tenth on stderr as it ends
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Optional

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Name parts of generated organizations (our own; a few hundred distinct names from their products).
_HEADS = ["Alder", "Birch", "Cedar", "Dune", "Ember", "Fjord", "Glacier", "Harbor", "Iris", "Juniper", "Kestrel",
          "Lumen", "Meadow", "Nimbus", "Orchard", "Prairie", "Quartz", "Ridge", "Sable", "Tundra"]
_TAILS = ["Health", "Credit Union", "School Board", "Insurance", "Logistics", "Pharmacy", "Telecom", "Payroll",
          "Dental Clinic", "Municipal Services", "Hydro", "Travel", "Fitness", "Bank", "University"]
_DATA = ["name", "address", "phone", "email", "date_of_birth", "sin", "bank_account", "medical", "credentials", "passport"]
_UNITS = ["customers", "patients", "employees", "students", "members"]


def organizations(n: int, seed: int) -> list[str]:
    names = [f"{h} {t}" for h in _HEADS for t in _TAILS]
    random.Random(f"orgs:{seed}").shuffle(names)
    return names[:n]


def records(n: int, seed: int = 7, n_orgs: int = 300) -> list[dict]:
    """`n` incident records: breaches of `n_orgs` organizations, one to eight reports each, in time order."""
    rng = random.Random(f"bench_store:{seed}:{n}")
    orgs = organizations(n_orgs, seed)
    start = date(2022, 1, 1)
    out: list[dict] = []
    i = 0
    while len(out) < n:
        org = rng.choice(orgs)
        day = start + timedelta(days=int(len(out) / n * 1400) + rng.randint(0, 5))
        count = rng.randint(50, 500_000)
        types = rng.sample(_DATA, rng.randint(1, 4))
        unit = rng.choice(_UNITS)
        for k in range(rng.randint(1, 8)):
            if len(out) >= n:
                break
            lang = rng.choice(["fr", "en"])
            published = (day + timedelta(days=k * rng.randint(0, 3))).isoformat()
            ev = {"text": org, "start": 0, "end": len(org)}
            out.append({
                "schema_version": "1.0.0",
                "source": {"id": f"store-{seed}-{i:06d}", "url": f"https://news.example/{i}", "title": None,
                           "publisher": None, "language": lang, "published": published,
                           "published_precision": "day", "kind": "news", "place": None},
                "is_incident": True, "relevance": 0.95,
                "organization": {"name": org, "acronym": None, "aliases": [], "evidence": ev},
                "victims": {"count": count, "qualifier": "exact", "unit": unit,
                            "evidence": {"text": str(count), "start": 40, "end": 40 + len(str(count))}},
                "data_types": [{"code": c, "evidence": {"text": c, "start": 80, "end": 80 + len(c)}} for c in types],
                "dates": {"disclosed": {"date": published, "evidence": {"text": published, "start": 100, "end": 110}}},
                "agencies": [], "text_sha256": "0" * 64, "error": None, "extractor_version": "bench",
            })
            i += 1
    return out


def ingest(path: Path, recs: list[dict], commit_every: int = 100, progress=None) -> dict:
    """Import `recs` into a fresh store at `path`; seconds per report for each tenth (wall-clock and process
    time), and the file size. `progress(text)`, when given, hears each tenth as it ends (a long run that is cut
    short still tells)."""
    from extractor.merge import import_record
    from extractor.store import Store

    tenth = max(len(recs) // 10, 1)
    per_tenth: list[float] = []
    cpu_tenth: list[float] = []
    with Store(path) as store:
        t_all, c_all = time.perf_counter(), time.process_time()
        for lo in range(0, len(recs), tenth):
            t, c0 = time.perf_counter(), time.process_time()
            chunk = recs[lo:lo + tenth]
            for c in range(0, len(chunk), commit_every):
                with store.transaction() as conn:
                    for rec in chunk[c:c + commit_every]:
                        import_record(conn, rec)
            per_tenth.append((time.perf_counter() - t) / len(chunk))
            cpu_tenth.append((time.process_time() - c0) / len(chunk))
            if progress:
                progress(f"store: {len(recs)} reports, tenth {len(per_tenth)}: {per_tenth[-1] * 1000:.2f} ms per report,"
                         f" cpu {cpu_tenth[-1] * 1000:.2f} ms, {path.stat().st_size / 2 ** 20:.1f} MB")
        total, cpu = time.perf_counter() - t_all, time.process_time() - c_all
        incidents = store.conn.execute("SELECT COUNT(*) FROM incidents").fetchone()[0]
        some_id = store.conn.execute("SELECT id FROM incidents ORDER BY id LIMIT 1").fetchone()[0]
        members: dict[str, list[str]] = {}
        for iid, sid in store.conn.execute("SELECT ir.incident_id, r.source_id FROM incident_reports ir "
                                           "JOIN reports r ON r.id = ir.report_id"):
            members.setdefault(iid, []).append(sid)
    per_tenth, cpu_tenth = per_tenth[:10], cpu_tenth[:10]
    return {"reports": len(recs), "seconds": total, "cpu_seconds": cpu,
            "per_report_ms": [round(x * 1000, 3) for x in per_tenth],
            "cpu_per_report_ms": [round(x * 1000, 3) for x in cpu_tenth],
            "attach_growth": per_tenth[-1] / per_tenth[0], "attach_growth_cpu": cpu_tenth[-1] / cpu_tenth[0],
            "db_mb": path.stat().st_size / 2 ** 20, "incidents": incidents, "some_incident": some_id,
            "members": {k: sorted(v) for k, v in sorted(members.items())}}


def reads(db: Path, incident_id: str, runs: int = 3) -> dict:
    """Seconds of `incidents export`, `status` and `show` on `db`, each a fresh process (median of `runs`), and
    their process time (`NAME_cpu`: user + system of the child, median of `runs`)."""
    verbs = {"export": ["export", "--output", str(db.with_suffix(".export.jsonl"))], "status": ["status"],
             "show": ["show", incident_id]}
    out = {}
    for name, args in verbs.items():
        times, cpus = [], []
        for _ in range(runs):
            t, c = time.perf_counter(), _children_cpu()
            proc = subprocess.run([sys.executable, "-m", "extractor", *args, "--db", str(db)],
                                  capture_output=True, text=True, cwd=str(ROOT))
            times.append(time.perf_counter() - t)
            cpus.append(_children_cpu() - c)
            if proc.returncode != 0:
                raise SystemExit(f"bench: incidents {name} failed: {proc.stderr[-400:]}")
        out[name] = statistics.median(times)
        out[name + "_cpu"] = statistics.median(cpus)
    t = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import extractor.cli"], cwd=str(ROOT), check=True)
    out["python_start"] = time.perf_counter() - t
    return out


def _children_cpu() -> float:
    import resource

    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def _progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def run(sizes: list[int], tmp: Path, seed: int, say=print, progress=None, dump: Optional[Path] = None) -> dict:
    import json

    tmp.mkdir(parents=True, exist_ok=True)
    runs = []
    for n in sizes:
        res = ingest(tmp / f"store-{n}.db", records(n, seed), progress=progress)
        members = res.pop("members")
        if dump is not None:
            dump.mkdir(parents=True, exist_ok=True)
            (dump / f"incidents-{n}.json").write_text(json.dumps(members, indent=0, sort_keys=True) + "\n")
        runs.append(res)
        say(f"store: {n} reports in {res['seconds']:.1f} s (cpu {res['cpu_seconds']:.1f} s), {res['incidents']} incidents,"
            f" {res['db_mb']:.1f} MB; ms per report by tenth: {' '.join(f'{x:.2f}' for x in res['per_report_ms'])};"
            f" cpu: {' '.join(f'{x:.2f}' for x in res['cpu_per_report_ms'])};"
            f" last tenth / first tenth {res['attach_growth']:.2f} (cpu {res['attach_growth_cpu']:.2f})")
    last = runs[-1]
    rd = reads(tmp / f"store-{last['reports']}.db", last["some_incident"])
    say(f"store: on the {last['reports']}-report store, fresh processes (median of 3): export {rd['export']:.2f} s"
        f" (cpu {rd['export_cpu']:.2f}), status {rd['status']:.2f} s (cpu {rd['status_cpu']:.2f}), show {rd['show']:.2f} s"
        f" (cpu {rd['show_cpu']:.2f}) (importing the cli alone: {rd['python_start']:.2f} s)")
    return {"runs": runs, "reads": rd, "attach_growth": last["attach_growth"],
            "attach_growth_cpu": last["attach_growth_cpu"]}


def main(argv=None) -> int:
    import tempfile

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="2000,10000", help="reports per run, comma-separated")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--progress", action="store_true", help="print each tenth on stderr as it ends")
    ap.add_argument("--dump", type=Path, help="write each store's incidents (id -> source ids) in this folder")
    args = ap.parse_args(argv)
    sizes = [int(x) for x in args.sizes.split(",") if x]
    with tempfile.TemporaryDirectory(prefix="incidents-bench-store-") as tmp:
        res = run(sizes, Path(tmp), args.seed, progress=_progress if args.progress else None, dump=args.dump)
    print(f"attach_growth={res['attach_growth']:.2f} attach_growth_cpu={res['attach_growth_cpu']:.2f} " + " ".join(
        f"{k}_s={v:.2f}" for k, v in res["reads"].items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
