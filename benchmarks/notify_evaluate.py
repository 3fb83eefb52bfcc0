"""What evaluating alert rules costs an import: a 1,000,000-row metrics CSV imported with the
evaluation that runs inside every import (liftoff.notify.outbox.evaluate, with one alert rule
and a webhook channel, so a message is queued) against the same import with the evaluation
switched off, in the same run, runs interleaved, on a fresh SQLite file each time.

    .venv/bin/python benchmarks/notify_evaluate.py [--rows N] [--repeat N]

Prints the median of each side and the ratio.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from import_metrics import make_csv  # noqa: E402

from liftoff import db, ingest  # noqa: E402
from liftoff.access.auth import SYSTEM  # noqa: E402
from liftoff.evidence import writes as evidence_writes  # noqa: E402
from liftoff.notify import outbox  # noqa: E402
from liftoff.notify import writes as notify_writes  # noqa: E402


def one_import(folder: Path, data: bytes, evaluate: bool) -> float:
    path = folder / f"bench-{time.monotonic_ns()}.db"
    engine = db.make_engine(f"sqlite:///{path}")
    db.migrate(engine)
    # The initiative and its rule exist before the timed import, as in real use.
    evidence_writes.set_initiative(engine, SYSTEM, "Benchmark", create=True, stage="pilot")
    ingest.import_file(
        engine,
        SYSTEM,
        b"initiative,iteration,metric,value\nBenchmark,1,error_rate,1%\n",
        "seed.csv",
        ingest.Options(create=True),
    )
    evidence_writes.add_alert_rule(
        engine,
        SYSTEM,
        "Benchmark",
        metric="error_rate",
        comparator=">",
        threshold=0.0,
        severity="high",
        stages=["pilot"],
    )
    notify_writes.add_channel(
        engine, SYSTEM, "hook", kind="webhook", target="http://127.0.0.1:9/never-sent"
    )
    original = outbox.evaluate
    if not evaluate:
        outbox.evaluate = lambda *args, **kwargs: 0
    try:
        start = time.perf_counter()
        ingest.import_file(engine, SYSTEM, data, "bench.csv", ingest.Options(create=True))
        return time.perf_counter() - start
    finally:
        outbox.evaluate = original
        engine.dispose()
        path.unlink()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        csv_path = folder / "metrics.csv"
        make_csv(csv_path, args.rows, "plain")
        data = csv_path.read_bytes()  # every row for the initiative "Benchmark"
        with_eval, without = [], []
        for _ in range(args.repeat):
            without.append(one_import(folder, data, evaluate=False))
            with_eval.append(one_import(folder, data, evaluate=True))
    a, b = statistics.median(with_eval), statistics.median(without)
    print(f"{args.rows:,} rows, medians of {args.repeat}:")
    print(f"  import with alert evaluation:    {a:.2f} s")
    print(f"  import without alert evaluation: {b:.2f} s")
    print(f"  ratio: {a / b:.2f}x")


if __name__ == "__main__":
    main()
