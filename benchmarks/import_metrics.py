"""Import speed: 1,000,000-row metrics CSVs through Liftoff's full pipeline, against the sqlite3
command-line `.import` of the same file into a bare table (and, with --postgres, against
`psql \\copy` of it into a bare table), in the same run.

    .venv/bin/python benchmarks/import_metrics.py [--rows N] [--shape S] [--postgres URL]

Shapes: `plain` (initiative, iteration, metric, value), `dated` (iteration, metric, value,
recorded_at, segment; the initiative given on import) and `long` (an initiative per row,
timestamps and segments: 5 initiatives, 20 iterations, 10 metrics). Prints the median time of
each side (runs interleaved), rows/s, the ratio and the import's peak memory (max RSS of the
process that ran it). Target (issue 16): ratio at most 2x on every shape, peak under 400 MB.
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
LONG_METRICS = METRICS + ["precision", "recall", "cost_per_request_eur", "csat"]
LONG_INITIATIVES = [f"Benchmark {c}" for c in "ABCDE"]
RATIOS = {"accuracy", "f1", "error_rate", "conversion", "precision", "recall"}


def make_csv(path: Path, rows: int, shape: str) -> None:
    """Write `rows` rows of `shape` (seeded: the same file every run)."""
    rng = random.Random(42)
    with open(path, "w") as f:
        f.write(
            {
                "plain": "initiative,iteration,metric,value\n",
                "dated": "iteration,metric,value,recorded_at,segment\n",
                "long": "initiative,iteration,metric,value,recorded_at,segment\n",
            }[shape]
        )
        metrics = LONG_METRICS if shape == "long" else METRICS
        for i in range(rows):
            metric = metrics[i % len(metrics)]
            value = rng.random() if metric in RATIOS else rng.uniform(50, 900)
            when = f"2026-{1 + i % 9:02d}-{1 + i % 28:02d} {i % 24:02d}:00:00"
            if shape == "plain":
                f.write(f"Benchmark,{1 + i % 30},{metric},{value:.6f}\n")
            elif shape == "dated":
                f.write(f"{1 + i % 30},{metric},{value:.6f},{when},{'EU' if i % 7 == 0 else ''}\n")
            else:
                initiative = LONG_INITIATIVES[(i // len(metrics)) % len(LONG_INITIATIVES)]
                iteration = 1 + (i // (len(metrics) * len(LONG_INITIATIVES))) % 20
                segment = ("EU", "US", "APAC", "")[i % 4]
                f.write(f"{initiative},{iteration},{metric},{value:.6f},{when},{segment}\n")


def _columns(csv_path: Path) -> list[str]:
    with csv_path.open() as f:
        return f.readline().strip().split(",")


def time_sqlite3_import(csv_path: Path, folder: Path) -> float:
    db = folder / "bare.db"
    script = f".mode csv\n.import --skip 1 {csv_path} bare\n"
    subprocess.run(
        ["sqlite3", str(db), f"CREATE TABLE bare ({', '.join(_columns(csv_path))});"],
        check=True,
    )
    start = time.perf_counter()
    subprocess.run(["sqlite3", str(db)], input=script, text=True, check=True)
    return time.perf_counter() - start


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def _with_database(url: str, name: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + name


def _psql(url: str, command: str) -> None:
    subprocess.run(
        ["psql", _libpq(url), "-q", "-v", "ON_ERROR_STOP=1", "-c", command],
        check=True,
        capture_output=True,
    )


def time_psql_copy(csv_path: Path, url: str) -> float:
    """`psql \\copy` of the file into a bare table of text columns (the PostgreSQL baseline)."""
    columns = ", ".join(f"{c} text" for c in _columns(csv_path))
    _psql(url, f"DROP TABLE IF EXISTS bare; CREATE TABLE bare ({columns})")
    start = time.perf_counter()
    _psql(url, f"\\copy bare FROM '{csv_path}' WITH (FORMAT csv, HEADER true)")
    elapsed = time.perf_counter() - start
    _psql(url, "DROP TABLE bare")
    return elapsed


WORKER = """
import json, resource, sys, time
from liftoff import db, ingest
try:
    from liftoff.evidence import writes as evidence_writes
except ImportError:  # a checkout from before the writes moved (to measure it with PYTHONPATH)
    from liftoff import manage as evidence_writes
from liftoff.access.auth import SYSTEM
url, path, initiatives = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
engine = db.make_engine(url)
db.migrate(engine)
for name in initiatives:
    evidence_writes.set_initiative(engine, SYSTEM, name, create=True)
data = open(path, "rb").read()
options = ingest.Options(initiative="Benchmark" if initiatives == ["Benchmark"] else None, create=True)
start = time.perf_counter()
prepared, batch = ingest.import_file(engine, SYSTEM, data, "bench.csv", options)
elapsed = time.perf_counter() - start
print(json.dumps({"seconds": elapsed, "rows": prepared.rows_accepted,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def time_liftoff(url: str, csv_path: Path, shape: str) -> dict:
    initiatives = LONG_INITIATIVES if shape == "long" else ["Benchmark"]
    out = subprocess.run(
        [sys.executable, "-c", WORKER, url, str(csv_path), json.dumps(initiatives)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


_STORED = "iteration_id, metric_id, value, recorded_at, segment, candidate, batch_id"


def time_liftoff_postgres(url: str, csv_path: Path, shape: str, n: int) -> dict:
    """An import into a database of its own (the same file imported twice is refused); then
    the floor: `psql \\copy` of the very rows it stored, as CSV, into the same observations
    table (its primary key and (iteration, metric) index, foreign-key checks off as the
    importer has them), which no importer writing into this schema can beat."""
    name = f"liftoff_bench_{n}"
    _psql(url, f"DROP DATABASE IF EXISTS {name}")
    _psql(url, f"CREATE DATABASE {name}")
    here = _with_database(url, name)
    try:
        result = time_liftoff(here, csv_path, shape)
        rows = csv_path.with_name(f"stored{n}.csv")
        _psql(here, f"\\copy (SELECT {_STORED} FROM observations) TO '{rows}' WITH (FORMAT csv)")  # noqa: S608 - fixed names
        _psql(here, "TRUNCATE latest_observations, observations")
        start = time.perf_counter()
        _psql_session(
            here,
            "SET session_replication_role = replica",
            f"\\copy observations ({_STORED}) FROM '{rows}' WITH (FORMAT csv)",
        )
        result["floor"] = time.perf_counter() - start
        rows.unlink()
        return result
    finally:
        _psql(url, f"DROP DATABASE IF EXISTS {name}")


def _psql_session(url: str, *commands: str) -> None:
    """Several commands in one psql session (a SET holds for the commands after it)."""
    args = ["psql", _libpq(url), "-q", "-v", "ON_ERROR_STOP=1"]
    for command in commands:
        args += ["-c", command]
    subprocess.run(args, check=True, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument(
        "--postgres", help="also import into PostgreSQL (databases are created and dropped)"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of each side; the median is reported"
    )
    parser.add_argument("--shape", choices=["plain", "dated", "long", "all"], default="all")
    args = parser.parse_args()
    if not shutil.which("sqlite3"):
        sys.exit("sqlite3 command-line tool not found: apt-get install sqlite3")
    if args.postgres and not shutil.which("psql"):
        sys.exit("psql not found: apt-get install postgresql-client")
    shapes = ["plain", "dated", "long"] if args.shape == "all" else [args.shape]
    table = []
    for shape in shapes:
        with tempfile.TemporaryDirectory() as tmp:
            table += measure(Path(tmp), shape, args)
    print("\nshape   backend     baseline     liftoff   ratio  peak MB   floor")
    for row in table:
        floor = "" if row["floor"] is None else f"  {row['floor'] / row['baseline']:>5.2f}x"
        print(
            f"{row['shape']:<7} {row['backend']:<10} {row['baseline']:>7.2f} s  "
            f"{row['seconds']:>7.2f} s  {row['ratio']:>5.2f}x  {row['peak_mb']:>7.0f}{floor}"
        )
    print(
        "target: ratio at most 2x, peak under 400 MB. floor (PostgreSQL): psql \\copy of the rows "
        "Liftoff stored into its own observations table, against the bare \\copy"
    )


def measure(folder: Path, shape: str, args) -> list[dict]:
    csv_path = folder / "metrics.csv"
    make_csv(csv_path, args.rows, shape)
    size_mb = csv_path.stat().st_size / 1024 / 1024
    print(f"\nfile ({shape}): {args.rows:,} rows, {size_mb:.1f} MB, {','.join(_columns(csv_path))}")
    sides = {"sqlite": ([], [])}
    if args.postgres:
        sides["postgresql"] = ([], [])
    for n in range(args.repeat):
        run = folder / f"run{n}"
        run.mkdir()
        sides["sqlite"][0].append(time_sqlite3_import(csv_path, run))
        sides["sqlite"][1].append(time_liftoff(f"sqlite:///{run / 'liftoff.db'}", csv_path, shape))
        if args.postgres:
            sides["postgresql"][0].append(time_psql_copy(csv_path, args.postgres))
            sides["postgresql"][1].append(time_liftoff_postgres(args.postgres, csv_path, shape, n))
    rows = []
    for backend, (baselines, results) in sides.items():
        baseline = statistics.median(baselines)
        result = sorted(results, key=lambda r: r["seconds"])[len(results) // 2]
        peak = max(r["peak_mb"] for r in results)
        what = "sqlite3 .import" if backend == "sqlite" else "psql \\copy"
        print(
            f"{what + ' (bare table):':<30} {baseline:6.2f} s  {args.rows / baseline:>10,.0f} rows/s"
        )
        if backend == "postgresql":
            floor = statistics.median(r["floor"] for r in results)
            label = "psql \\copy into observations:"
            print(
                f"{label:<30} {floor:6.2f} s  "
                f"{args.rows / floor:>10,.0f} rows/s  ratio {floor / baseline:.2f}x: the floor, "
                "Liftoff's own rows copied into its observations table"
            )
        print(
            f"{'liftoff import (' + backend + '):':<30} {result['seconds']:6.2f} s  "
            f"{result['rows'] / result['seconds']:>10,.0f} rows/s  "
            f"ratio {result['seconds'] / baseline:.2f}x  peak memory {peak:.0f} MB"
        )
        rows.append(
            {
                "shape": shape,
                "backend": backend,
                "baseline": baseline,
                "seconds": result["seconds"],
                "ratio": result["seconds"] / baseline,
                "peak_mb": peak,
                "floor": statistics.median(r["floor"] for r in results)
                if backend == "postgresql"
                else None,
            }
        )
    return rows


if __name__ == "__main__":
    main()
