"""Steering-pack export speed and size: an initiative with 30 iterations (in the large portfolio of
screens.py: 20 initiatives x 30 iterations, 1,000,000 observations), its pack built, written as
HTML and as a ZIP of CSVs, next to `liftoff summary` of the same initiative in the same run.

    .venv/bin/python benchmarks/export.py [--postgres URL] [--runs N]

Targets and the last figures measured: benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "lib"))

from screens import build  # noqa: E402  (the same large portfolio)

NAME = "Initiative 07"


def timed(runs: int, fn, *args):
    times, result = [], None
    for _ in range(runs):
        t = time.perf_counter()
        result = fn(*args)
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", help="also measure on this (empty) PostgreSQL database")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    from liftoff import db
    from liftoff.evidence import summary
    from liftoff.meeting import export as meeting_export
    from liftoff.meeting import pack as steering_pack

    with tempfile.TemporaryDirectory() as tmp:
        targets = [("SQLite", f"sqlite:///{Path(tmp) / 'large.db'}")]
        if args.postgres:
            targets.append(("PostgreSQL", args.postgres))
        for label, url in targets:
            t = time.perf_counter()
            build(url)
            print(f"\n{label}: built the large portfolio in {time.perf_counter() - t:.1f} s")
            engine = db.make_engine(url)
            base, _ = timed(args.runs, summary.summary, engine, NAME)
            pack_s, pack = timed(args.runs, steering_pack.build, engine, NAME)
            html_s, page = timed(args.runs, meeting_export.to_html, pack)
            zip_s, archive = timed(args.runs, meeting_export.to_csv_zip, pack)
            html_total, csv_total = pack_s + html_s, pack_s + zip_s
            size = len(page.encode("utf-8")) / 1024 / 1024
            print(f"  {'step':34} {'median':>9}")
            print(f"  {'liftoff summary (baseline)':34} {base:8.3f}s")
            print(f"  {'build the pack (30 iterations)':34} {pack_s:8.3f}s")
            print(f"  {'write HTML':34} {html_s:8.3f}s  {size:.2f} MB")
            print(f"  {'write ZIP of CSVs':34} {zip_s:8.3f}s  {len(archive) / 1024:.0f} KB")
            ok = "ok" if html_total < 3 and size < 10 else "MISSED"
            print(
                f"  HTML export {html_total:.2f} s ({html_total / base:.1f}x the summary), "
                f"{size:.2f} MB; CSV export {csv_total:.2f} s  targets: < 3 s, < 10 MB  {ok}"
            )
            print(
                f"  peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB"
            )
            engine.dispose()


if __name__ == "__main__":
    main()
