"""People-screen speed: one initiative with 30 iterations, 100,000 feedback rows, 5,000 concerns
(each with history) and 40 stakeholders; each people screen rendered with AppTest, cold (empty
caches) and warm, next to a bare page measured in the same run.

    .venv/bin/python benchmarks/people.py [--postgres URL] [--runs N]

Targets and the last figures measured: benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "lib"))

from screens import generated_batch, measure  # noqa: E402  (the same measurement)

SCREENS = {
    "User feedback": "screens/feedback.py",
    "Stakeholders and concerns": "screens/concerns.py",
    "Governance and readiness": "screens/governance.py",
    "Portfolio overview": "screens/overview.py",
}
WORDS = (
    "slow fast accurate wrong helpful confusing login export report chart mobile search "
    "latency claims routing review contract clause offer retention score reason team agent"
).split()


def build(url: str) -> None:
    """A migrated database with one big initiative named like screens.py expects."""
    import numpy as np
    import pandas as pd
    from sqlalchemy import insert

    from liftoff import db
    from liftoff.db.models import (
        Concern,
        ConcernStatusChange,
        GovernanceItem,
        Initiative,
        Iteration,
        Stakeholder,
        StakeholderStance,
    )
    from liftoff.ingest.bulk import bulk_frame, bulk_payload

    engine = db.make_engine(url)
    db.migrate(engine)
    rng = random.Random(7)
    nprng = np.random.default_rng(7)
    start = datetime(2025, 1, 6)
    with db.write(engine, bulk=True) as conn:
        batch = generated_batch(conn, start)
        init = conn.execute(
            insert(Initiative)
            .values(
                name="Initiative 07",
                stage="pilot",
                slo_p95_ms=500,
                max_error_rate=0.01,
                created_at=start,
            )
            .returning(Initiative.id)
        ).scalar_one()
        its = []
        for n in range(1, 31):
            its.append(
                conn.execute(
                    insert(Iteration)
                    .values(
                        initiative_id=init,
                        number=n,
                        label=f"Sprint {n}",
                        start_date=(start + timedelta(days=14 * (n - 1))).date(),
                        end_date=(start + timedelta(days=14 * n - 1)).date(),
                        decision="go" if n < 30 else "pending",
                    )
                    .returning(Iteration.id)
                ).scalar_one()
            )
        n = 100_000
        k = nprng.integers(0, 30, n)
        texts = [" ".join(rng.choices(WORDS, k=8)) for _ in range(2_000)]
        frame = pd.DataFrame(
            {
                "initiative_id": init,
                "iteration_id": np.array(its)[k],
                "received_at": (
                    np.datetime64(start)
                    + (k * 14 * 86400 + nprng.integers(0, 14 * 86400, n)).astype("timedelta64[s]")
                ).astype("datetime64[us]"),
                "source": nprng.choice(
                    np.array(["end_user", "stakeholder", "support"], dtype=object), n
                ),
                "rating": nprng.integers(1, 6, n).astype(float),
                "text": np.array(texts, dtype=object)[nprng.integers(0, len(texts), n)],
                "theme": nprng.choice(
                    np.array(["speed", "accuracy", "usability", "trust", None], dtype=object), n
                ),
                "status": nprng.choice(
                    np.array(["new", "triaged", "actioned", "wont_fix"], dtype=object), n
                ),
                "batch_id": batch,
            }
        )
        for s in range(0, n, 50_000):
            bulk_frame(
                conn, "feedback", bulk_payload(conn.dialect.name, frame.iloc[s : s + 50_000])
            )
        cats = ["unclear_criteria", "scalability", "data_gaps", "misalignment", "operations"]
        sevs = ["low", "medium", "high", "critical"]
        concerns = []
        for i in range(5_000):
            it = rng.randrange(30)
            raised = (start + timedelta(days=14 * it + rng.randrange(14))).date()
            status = rng.choice(["open", "mitigating", "resolved", "resolved", "accepted"])
            concerns.append(
                dict(
                    initiative_id=init,
                    iteration_id=its[it],
                    external_key=f"R-{i}",
                    title=f"Concern {i}: " + " ".join(rng.choices(WORDS, k=5)),
                    raised_by=f"Person {i % 40}",
                    stakeholder_group=f"Group {i % 7}",
                    failure_category=rng.choice(cats),
                    severity=rng.choices(sevs, weights=[4, 4, 2, 1 if status != "open" else 0])[0],
                    status=status,
                    owner=f"Owner {i % 12}",
                    raised_at=raised,
                    due=raised + timedelta(days=30),
                    resolved_at=raised + timedelta(days=20)
                    if status in ("resolved", "accepted")
                    else None,
                    resolution="Done." if status in ("resolved", "accepted") else None,
                    batch_id=batch,
                )
            )
        ids = (
            [r[0] for r in conn.execute(insert(Concern).returning(Concern.id), concerns).all()]
            if conn.dialect.name == "postgresql"
            else None
        )
        if ids is None:
            for c in concerns:
                conn.execute(insert(Concern).values(**c))
            ids = list(range(1, 5_001))
        conn.execute(
            insert(ConcernStatusChange),
            [
                dict(
                    concern_id=cid,
                    changed_at=start,
                    changed_by="bench",
                    from_status=None,
                    to_status="open",
                    note="Raised.",
                )
                for cid in ids
            ],
        )
        for p in range(40):
            sid = conn.execute(
                insert(Stakeholder)
                .values(
                    initiative_id=init,
                    name=f"Person {p}",
                    group=f"Group {p % 7}",
                    influence=1 + p % 5,
                )
                .returning(Stakeholder.id)
            ).scalar_one()
            conn.execute(
                insert(StakeholderStance),
                [
                    dict(
                        stakeholder_id=sid,
                        iteration_id=it,
                        stance=rng.choice(
                            ["blocker", "skeptic", "neutral", "supporter", "advocate"]
                        ),
                    )
                    for it in its
                ],
            )
        conn.execute(
            insert(GovernanceItem),
            [
                dict(initiative_id=init, area=a, required_from=f, status="in_progress")
                for a, f in (
                    ("data_sources", "poc"),
                    ("pii_consent", "poc"),
                    ("access_control", "pilot"),
                )
            ],
        )
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", help="also measure on this (empty) PostgreSQL database")
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        targets = [("SQLite", f"sqlite:///{Path(tmp) / 'people.db'}")]
        if args.postgres:
            targets.append(("PostgreSQL", args.postgres))
        for label, url in targets:
            t = time.perf_counter()
            build(url)
            print(
                f"\n{label}: built 1 initiative x 30 iterations, 100,000 feedback rows, "
                f"5,000 concerns, 40 stakeholders in {time.perf_counter() - t:.1f} s"
            )
            measure(SCREENS, url, args.runs)
            print(
                f"  peak memory {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB"
            )


if __name__ == "__main__":
    main()
