"""The portfolio overview's first render as the observations grow: 100,000, 1,000,000 and
10,000,000 observations (20 initiatives x 30 iterations, as in screens.py), on SQLite and on
PostgreSQL. Each render runs in a fresh process with every cache empty, after a bare page
behind the same router has loaded the code, so what is timed is the screen and its reads.

    .venv/bin/python benchmarks/overview_scale.py [--postgres URL] [--sizes 100000,1000000,10000000] [--runs 3]

`--postgres` names an empty database that the benchmark may clear (its schema `public` is
dropped and made again for each size); after each build it is vacuumed and analysed, as
autovacuum would, so that this work does not run during the renders. Target: under 2 s at 10,000,000 observations and at most
1.5x the time at 100,000. Last figures: benchmarks/README.md.
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

ROOT = Path(__file__).resolve().parent.parent


def measure_here(url: str) -> None:
    """In this (fresh) process: a bare page, then the overview's first render; print JSON."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    sys.path.insert(0, str(ROOT / "lib"))
    from screens import SCREENS, first_render

    first_render(None, url)  # the router and Liftoff's code loaded, caches emptied again below
    seconds, rows, at = first_render(SCREENS["Portfolio overview"], url)
    assert any("Initiative 07" in str(getattr(e, "value", "")) for e in at.main), "no overview"
    print(json.dumps({"seconds": seconds, "rows": rows}))


def fresh_render(url: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--measure", url],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT / "lib")},
    )
    if out.returncode:
        raise SystemExit(f"the measuring process failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def settle_postgres(url: str) -> None:
    """What autovacuum would do to a freshly filled table, done before the clock starts:
    otherwise its work on ten million new rows shares the two cores with the render."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("VACUUM (ANALYZE)"))
        conn.execute(text("CHECKPOINT"))
    engine.dispose()


def clear_postgres(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", help="also measure on this PostgreSQL database (cleared)")
    parser.add_argument("--sizes", default="100000,1000000,10000000")
    parser.add_argument("--runs", type=int, default=3, help="fresh processes per size (median)")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure_here(args.measure)
        return
    sys.path.insert(0, str(ROOT / "benchmarks"))
    sys.path.insert(0, str(ROOT / "lib"))
    from screens import build

    sizes = [int(s) for s in args.sizes.split(",")]
    rows_out = []
    with tempfile.TemporaryDirectory() as tmp:
        targets = [("SQLite", None)]
        if args.postgres:
            targets.append(("PostgreSQL", args.postgres))
        for label, pg in targets:
            base = None
            for n in sizes:
                if pg:
                    clear_postgres(pg)
                    url = pg
                else:
                    url = f"sqlite:///{Path(tmp) / f'scale-{n}.db'}"
                t = time.perf_counter()
                build(url, observations=n)
                if pg:
                    settle_postgres(url)
                built = time.perf_counter() - t
                runs = [fresh_render(url) for _ in range(args.runs)]
                seconds = statistics.median(r["seconds"] for r in runs)
                base = base or seconds
                rows_out.append((label, n, built, seconds, seconds / base, runs[0]["rows"]))
                print(
                    f"{label:10} {n:>12,} observations  built in {built:6.1f} s  "
                    f"first render {seconds:6.2f} s ({seconds / base:4.2f}x the smallest)  "
                    f"rows read {runs[0]['rows']:,}",
                    flush=True,
                )
                if not pg:
                    Path(url.removeprefix("sqlite:///")).unlink()
    print("\n| database | observations | first render | / smallest | rows read | target |")
    print("|---|---|---|---|---|---|")
    for label, n, _built, seconds, ratio, rows in rows_out:
        met = "" if n < 10_000_000 else ("met" if seconds < 2 and ratio <= 1.5 else "MISSED")
        print(f"| {label} | {n:,} | {seconds:.2f} s | {ratio:.2f}x | {rows:,} | {met} |")


if __name__ == "__main__":
    main()
