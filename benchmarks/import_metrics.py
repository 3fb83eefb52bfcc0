"""Import speed: a 1,000,000-row long-format metrics CSV through Liftoff's full pipeline,
against the sqlite3 command-line `.import` of the same file into a bare table, in the same run.

    .venv/bin/python benchmarks/import_metrics.py [--rows N] [--postgres URL]

Prints time, rows/s, the ratio to sqlite3 and the import's peak memory (max RSS of the process
that ran it). Target (issue #3): ratio at most 3x, peak memory under 400 MB.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

METRICS = ["accuracy", "f1", "p95_latency_ms", "error_rate", "conversion", "weekly_active_users"]


def make_csv(path: Path, rows: int, shape: str) -> None:
    """`plain`: initiative, iteration, metric, value. `dated`: iteration, metric, value,
    recorded_at, segment (the initiative given on import)."""
    rng = random.Random(42)
    with open(path, "w") as f:
        if shape == "plain":
            f.write("initiative,iteration,metric,value\n")
        else:
            f.write("iteration,metric,value,recorded_at,segment\n")
        for i in range(rows):
            metric = METRICS[i % len(METRICS)]
            ratio = metric in ("accuracy", "f1", "error_rate", "conversion")
            value = rng.random() if ratio else rng.uniform(50, 900)
            if shape == "plain":
                f.write(f"Benchmark,{1 + i % 30},{metric},{value:.6f}\n")
            else:
                when = f"2026-{1 + i % 9:02d}-{1 + i % 28:02d} {i % 24:02d}:00:00"
                f.write(f"{1 + i % 30},{metric},{value:.6f},{when},{'EU' if i % 7 == 0 else ''}\n")


def time_sqlite3_import(csv_path: Path, folder: Path) -> float:
    db = folder / "bare.db"
    script = f".mode csv\n.import --skip 1 {csv_path} bare\n"
    subprocess.run(
        ["sqlite3", str(db), f"CREATE TABLE bare ({csv_path.open().readline().strip()});"],
        check=True,
    )
    start = time.perf_counter()
    subprocess.run(["sqlite3", str(db)], input=script, text=True, check=True)
    return time.perf_counter() - start


WORKER = """
import json, resource, sys, time
from liftoff import db, ingest
from liftoff.evidence import writes as evidence_writes
from liftoff.access.auth import SYSTEM
url, path = sys.argv[1], sys.argv[2]
engine = db.make_engine(url)
db.migrate(engine)
evidence_writes.set_initiative(engine, SYSTEM, "Benchmark", create=True)
data = open(path, "rb").read()
start = time.perf_counter()
prepared, batch = ingest.import_file(engine, SYSTEM, data, "bench.csv", ingest.Options(initiative="Benchmark", create=True))
elapsed = time.perf_counter() - start
print(json.dumps({"seconds": elapsed, "rows": prepared.rows_accepted,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def time_liftoff(url: str, csv_path: Path) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", WORKER, url, str(csv_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--postgres", help="also import into this PostgreSQL database (it is written to)"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of each side; the median is reported"
    )
    parser.add_argument(
        "--shape",
        choices=["plain", "dated", "both"],
        default="both",
        help="plain: initiative,iteration,metric,value; dated: iteration,metric,value,recorded_at,segment",
    )
    args = parser.parse_args()
    if not shutil.which("sqlite3"):
        sys.exit("sqlite3 command-line tool not found: apt-get install sqlite3")
    shapes = ["plain", "dated"] if args.shape == "both" else [args.shape]
    for shape in shapes:
        with tempfile.TemporaryDirectory() as tmp:
            measure(Path(tmp), shape, args)


def measure(folder: Path, shape: str, args) -> None:
    csv_path = folder / "metrics.csv"
    make_csv(csv_path, args.rows, shape)
    size_mb = csv_path.stat().st_size / 1024 / 1024
    print(
        f"\nfile ({shape}): {args.rows:,} rows, {size_mb:.1f} MB, header {csv_path.read_text().split(chr(10), 1)[0]}"
    )
    baselines, results = [], []
    for n in range(args.repeat):
        run = folder / f"run{n}"
        run.mkdir()
        baselines.append(time_sqlite3_import(csv_path, run))
        results.append(time_liftoff(f"sqlite:///{run / 'liftoff.db'}", csv_path))
    baseline = statistics.median(baselines)
    result = sorted(results, key=lambda r: r["seconds"])[len(results) // 2]
    peak = max(r["peak_mb"] for r in results)
    ratio = result["seconds"] / baseline
    print(
        f"runs: {args.repeat} of each, interleaved; medians shown, peak memory is the highest run's"
    )
    print(
        f"sqlite3 .import (bare table):   {baseline:6.2f} s  {args.rows / baseline:>10,.0f} rows/s"
    )
    print(
        f"liftoff import (SQLite):        {result['seconds']:6.2f} s  {result['rows'] / result['seconds']:>10,.0f} rows/s"
        f"  ratio {ratio:.2f}x (target <= 3x)  peak memory {peak:.0f} MB (target < 400 MB)"
    )
    if args.postgres:
        pg = time_liftoff(args.postgres, csv_path)
        print(
            f"liftoff import (PostgreSQL):    {pg['seconds']:6.2f} s  {pg['rows'] / pg['seconds']:>10,.0f} rows/s"
            f"  ratio {pg['seconds'] / baseline:.2f}x  peak memory {pg['peak_mb']:.0f} MB"
        )


if __name__ == "__main__":
    main()
