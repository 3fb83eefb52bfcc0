"""Screen speed on a large portfolio: 20 initiatives x 30 iterations, 1,000,000 observations,
2,000 load-test steps and 5,000 traffic points; each evidence screen rendered with AppTest,
cold (empty caches) and warm, next to a bare page measured in the same run.

    .venv/bin/python benchmarks/screens.py [--postgres URL]

Targets and the last figures measured: benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager, nullcontext
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCREENS = {
    "Portfolio overview": "screens/overview.py",
    "Iterations and decision": "screens/iterations.py",
    "Model versus business": "screens/model_business.py",
    "Scalability": "screens/scalability.py",
    "Monitoring and alerts": "screens/monitoring.py",
}
METRICS = [
    ("accuracy", "Accuracy", "model", "ratio", "higher"),
    ("f1", "F1", "model", "ratio", "higher"),
    ("conversion", "Conversion", "business_kpi", "ratio", "higher"),
    ("revenue_keur", "Revenue", "business_kpi", "kEUR", "higher"),
    ("p95_latency_ms", "p95 latency", "system", "ms", "lower"),
    ("error_rate", "Error rate", "system", "ratio", "lower"),
    ("weekly_active_users", "Weekly active users", "engagement", "users", "higher"),
    ("missing_rate", "Missing fields", "data_quality", "ratio", "lower"),
]


def generated_batch(conn, when: datetime) -> int:
    """The import batch that a benchmark's generated rows belong to."""
    from sqlalchemy import insert

    from liftoff.db.models import ImportBatch

    return conn.execute(
        insert(ImportBatch)
        .values(
            kind="benchmark",
            file_name="generated",
            sha256="0" * 64,
            rows_read=0,
            rows_accepted=0,
            uploaded_at=when,
            status="committed",
        )
        .returning(ImportBatch.id)
    ).scalar_one()


def build(url: str, observations: int = 1_000_000) -> None:
    """Fill a migrated database with the large portfolio, fast (driver-level inserts), with
    `observations` readings spread over its iterations, metrics, segments and candidates."""
    import numpy as np
    import pandas as pd
    from sqlalchemy import insert

    from liftoff import db
    from liftoff.db.models import (
        AlertRule,
        Criterion,
        Initiative,
        Iteration,
        LoadTestStep,
        Metric,
        TrafficPoint,
    )
    from liftoff.evidence import latest
    from liftoff.ingest.bulk import bulk_frame, bulk_payload

    engine = db.make_engine(url)
    db.migrate(engine)
    rng = random.Random(42)
    nprng = np.random.default_rng(42)
    start = datetime(2024, 1, 1)
    with db.write(engine, bulk=True) as conn:
        batch = generated_batch(conn, start)
        metric_ids = [
            conn.execute(
                insert(Metric)
                .values(key=k, display_name=n, category=c, unit=u, direction=d)
                .returning(Metric.id)
            ).scalar_one()
            for k, n, c, u, d in METRICS
        ]
        iteration_ids = []
        for i in range(20):
            init = conn.execute(
                insert(Initiative)
                .values(
                    name=f"Initiative {i + 1:02d}",
                    stage=["poc", "pilot", "production"][i % 3],
                    slo_p95_ms=500,
                    max_error_rate=0.01,
                    primary_metric_key="accuracy",
                    created_at=start,
                )
                .returning(Initiative.id)
            ).scalar_one()
            for n in range(1, 31):
                it = conn.execute(
                    insert(Iteration)
                    .values(
                        initiative_id=init,
                        number=n,
                        label=f"Sprint {n}",
                        start_date=(start + timedelta(days=14 * n)).date(),
                        end_date=(start + timedelta(days=14 * n + 13)).date(),
                        decision="go" if n < 30 else "pending",
                    )
                    .returning(Iteration.id)
                ).scalar_one()
                iteration_ids.append(it)
                conn.execute(
                    insert(Criterion),
                    [
                        dict(
                            iteration_id=it,
                            kind="innovation",
                            metric_id=metric_ids[0],
                            comparator=">=",
                            target=0.8,
                            description="Accuracy at least 80%",
                            manual_status=None,
                        ),
                        dict(
                            iteration_id=it,
                            kind="production",
                            metric_id=metric_ids[4],
                            comparator="<=",
                            target=500,
                            description="p95 within SLO",
                            manual_status=None,
                        ),
                    ],
                )
                conn.execute(
                    insert(LoadTestStep),
                    [
                        dict(
                            iteration_id=it,
                            users=u,
                            throughput_rps=u * 0.9 * (1 - u / 500),
                            p50_ms=80 + u,
                            p95_ms=150 + u * 2.5,
                            p99_ms=300 + u * 4,
                            failure_ratio=0.0 if u < 150 else 0.02,
                            batch_id=batch,
                        )
                        for u in (10, 50, 100, 150)
                        if rng.random() < 0.85
                    ][:4]
                    or [
                        dict(
                            iteration_id=it,
                            users=10,
                            throughput_rps=9,
                            p50_ms=80,
                            p95_ms=150,
                            p99_ms=300,
                            failure_ratio=0.0,
                            batch_id=batch,
                        )
                    ],
                )
            conn.execute(
                insert(TrafficPoint),
                [
                    dict(
                        initiative_id=init,
                        observed_at=start + timedelta(days=d * 2),
                        peak_rps=20 * 1.01**d,
                        batch_id=batch,
                    )
                    for d in range(250)
                ],
            )
            for m in metric_ids[:5]:
                conn.execute(
                    insert(AlertRule).values(
                        initiative_id=init,
                        metric_id=m,
                        comparator=">",
                        threshold=0.9,
                        severity="high",
                        stages="poc,pilot,production",
                        enabled=True,
                    )
                )
        # The observations: 600 iterations x 8 metrics, some by segment, some by candidate;
        # generated a million at a time, so memory stays flat at any count.
        for first in range(0, observations, 1_000_000):
            n = min(1_000_000, observations - first)
            frame = pd.DataFrame(
                {
                    "iteration_id": nprng.choice(iteration_ids, n),
                    "metric_id": nprng.choice(metric_ids, n),
                    "value": nprng.random(n),
                    "recorded_at": (
                        np.datetime64("2024-01-01")
                        + nprng.integers(0, 700 * 86400, n).astype("timedelta64[s]")
                    ).astype("datetime64[us]"),
                    "segment": nprng.choice(
                        np.array([None, None, None, "EU", "US", "APAC"], dtype=object), n
                    ),
                    "candidate": nprng.choice(
                        np.array([None, None, "run-a", "run-b"], dtype=object), n
                    ),
                    "batch_id": batch,
                }
            )
            for s in range(0, n, 100_000):
                bulk_frame(
                    conn,
                    "observations",
                    bulk_payload(conn.dialect.name, frame.iloc[s : s + 100_000]),
                )
        latest.rebuild(conn)  # written around the importer: its read model ranked here
    engine.dispose()


# The baseline: a page with only a title behind Liftoff's router (what every page pays for:
# page config, the database check, who the user is, the navigation); and, for reference, the
# same page in a streamlit app with no router at all.
BARE = {None: "bare_app.py", "streamlit": "bare_streamlit.py"}


@contextmanager
def compiled_once():
    """Keep one script cache across AppTest runs, as the server does.

    The server compiles each page script once and keeps the bytecode for its lifetime
    (Runtime's ScriptCache); AppTest builds a new ScriptCache on every run, so it compiles the
    router and the page again each time, about 1 ms per 120 lines of page script. Inside this
    block AppTest's runs share one cache."""
    from streamlit.runtime.scriptrunner.script_cache import ScriptCache
    from streamlit.testing.v1 import app_test, local_script_runner

    shared = ScriptCache()
    saved = app_test.ScriptCache, local_script_runner.ScriptCache
    app_test.ScriptCache = local_script_runner.ScriptCache = lambda: shared
    try:
        yield
    finally:
        app_test.ScriptCache, local_script_runner.ScriptCache = saved


class RowsRead:
    """Counts the rows every query returns (through SQLAlchemy, in any thread) while active:
    the screens must aggregate in SQL, reading at most 50,000 raw rows for a render."""

    def __init__(self) -> None:
        from sqlalchemy.engine.cursor import CursorResult

        self.rows = 0
        self._saved = {}
        counter = self

        def counting(name):
            original = getattr(CursorResult, name)

            def fetch(result, *args, **kwargs):
                out = original(result, *args, **kwargs)
                if name == "_fetchiter_impl":
                    return counter._count_iter(out)
                if name == "_fetchone_impl":
                    counter.rows += out is not None
                else:
                    counter.rows += len(out)
                return out

            return original, fetch

        for name in ("_fetchiter_impl", "_fetchone_impl", "_fetchall_impl", "_fetchmany_impl"):
            self._saved[name], patched = counting(name)
            setattr(CursorResult, name, patched)

    def _count_iter(self, rows):
        for row in rows:
            self.rows += 1
            yield row

    def stop(self) -> int:
        from sqlalchemy.engine.cursor import CursorResult

        for name, original in self._saved.items():
            setattr(CursorResult, name, original)
        return self.rows


def first_render(page: str | None, url: str):
    """(seconds, rows read from the database, the AppTest) of a screen's first render with
    every cache empty, or of a bare page (see BARE)."""
    import streamlit as st
    from streamlit.logger import set_log_level
    from streamlit.testing.v1 import AppTest

    from liftoff.ui import cache

    set_log_level("error")  # AppTest outside a server warns about every run
    os.environ["LIFTOFF_DATABASE_URL"] = url
    os.environ["LIFTOFF_ANONYMOUS_ROLE"] = "viewer"  # the screens open for viewers (make run)
    st.cache_data.clear()
    cache.clear_caches()
    if page in BARE:  # a page that only has a title, behind Liftoff's router or none
        at = AppTest.from_file(str(ROOT / "benchmarks" / BARE[page]), default_timeout=120)
    else:
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
        at.query_params["initiative"] = "Initiative 07"
        at.switch_page(page)  # a shared link: the screen is the first thing rendered
    counter = RowsRead()
    t = time.perf_counter()
    try:
        at.run()
    finally:
        rows = counter.stop()
    seconds = time.perf_counter() - t
    assert not at.exception, at.exception
    if page not in BARE:  # the screen itself ran, not the sign-in page
        assert at.title and at.title[0].value not in ("Sign in", "Account"), at.title
    return seconds, rows, at


def warm_renders(apps: list, runs: int, once: bool) -> list[float]:
    """Median warm render of each app, their runs interleaved so that each sees the same
    machine (a slower spell hits them all alike). `once`: scripts compiled once (see
    compiled_once), else AppTest's own way, every run."""
    times: list[list[float]] = [[] for _ in apps]
    for _ in range(2):  # warm up: caches filled, widgets registered
        for at in apps:
            at.run()
    for _ in range(runs):
        for i, at in enumerate(apps):
            with compiled_once() if once else nullcontext():
                t = time.perf_counter()
                at.run()
                times[i].append(time.perf_counter() - t)
    return [statistics.median(t) for t in times]


def measure(screens: dict[str, str], url: str, runs: int) -> None:
    """Print each screen's first and warm render next to the bare page's, measured in this run
    and interleaved with it. The target is judged on the warm render with scripts compiled once,
    as the server runs them; the AppTest-as-is column compiles them on every run."""
    bare_cold, _, bare = first_render(None, url)
    plain_cold, _, plain = first_render("streamlit", url)
    print(
        f"  {'':30} {'':>8} {'':>8} {'scripts compiled once':^28} {'AppTest as is':^28}\n"
        f"  {'screen':30} {'first':>8} {'rows read':>9} {'warm':>8} {'bare':>8} {'ratio':>9} "
        f"{'warm':>8} {'bare':>8} {'ratio':>9}   targets: first < 2 s reading <= 50,000 rows, "
        "warm <= 3x bare"
    )

    def line(name: str, cold: float, rows: int, apps: list, note: str) -> None:
        (w1, b1), (w2, b2) = (warm_renders([*apps, bare], runs, once) for once in (True, False))
        met = cold < 2 and rows <= 50_000 and w1 <= 3 * b1
        print(
            f"  {name:30} {cold:7.3f}s {rows:9,} {w1 * 1e3:6.1f}ms {b1 * 1e3:6.1f}ms "
            f"{w1 / b1:8.1f}x {w2 * 1e3:6.1f}ms {b2 * 1e3:6.1f}ms {w2 / b2:8.1f}x   "
            + (note or ("ok" if met else "MISSED"))
        )

    line("bare page, no router", plain_cold, 0, [plain], "(for reference)")
    for name, page in screens.items():
        cold, rows, at = first_render(page, url)
        line(name, cold, rows, [at], "")
    print(f"  bare page (Liftoff router): first render {bare_cold:.3f}s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", help="also measure on this (empty) PostgreSQL database")
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "lib"))
    with tempfile.TemporaryDirectory() as tmp:
        targets = [("SQLite", f"sqlite:///{Path(tmp) / 'large.db'}")]
        if args.postgres:
            targets.append(("PostgreSQL", args.postgres))
        for label, url in targets:
            t = time.perf_counter()
            build(url)
            print(
                f"\n{label}: built 20 initiatives x 30 iterations, 1,000,000 observations in {time.perf_counter() - t:.1f} s"
            )
            measure(SCREENS, url, args.runs)


if __name__ == "__main__":
    main()
