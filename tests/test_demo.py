"""The demo portfolio: idempotent, restorable, and telling the stories it promises."""

from sqlalchemy import func, select, text, update

from conftest import DEMO_TODAY
from liftoff.access import audit
from liftoff.db.models import (
    FAILURE_CATEGORIES,
    Base,
    Concern,
    ImportBatch,
    Initiative,
    Iteration,
    Observation,
    StakeholderStance,
)
from liftoff.demo import builder as demo
from liftoff.evidence import initiative as evidence
from liftoff.evidence import summary

# Surrogate keys differ between loads; everything else must be identical.
_SKIP = {
    "id",
    "initiative_id",
    "iteration_id",
    "metric_id",
    "batch_id",
    "concern_id",
    "stakeholder_id",
    "rule_id",
    "criterion_id",
}


def snapshot(engine) -> dict[str, list[tuple]]:
    """Every table's rows without surrogate keys, sorted, for exact comparison."""
    out = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name in ("data_version", "audit_log"):  # the log only grows
                continue
            cols = [c for c in table.columns if c.name not in _SKIP]
            rows = conn.execute(select(*cols)).all()
            out[table.name] = sorted(tuple(map(repr, r)) for r in rows)
    return out


def test_demo_has_three_initiatives_at_different_stages(demo_engine):
    with demo_engine.connect() as conn:
        stages = dict(conn.execute(select(Initiative.name, Initiative.stage)).all())
        per_initiative = (
            conn.execute(
                select(func.count()).select_from(Iteration).group_by(Iteration.initiative_id)
            )
            .scalars()
            .all()
        )
    assert sorted(stages.values()) == ["pilot", "poc", "production"]
    assert all(5 <= n <= 8 for n in per_initiative)


def test_loading_the_demo_twice_adds_nothing(demo_engine):
    before = snapshot(demo_engine)
    message = demo.load_demo(demo_engine, today=DEMO_TODAY)
    assert "already loaded" in message
    assert snapshot(demo_engine) == before


def test_reset_restores_the_demo_exactly(demo_engine):
    before = snapshot(demo_engine)
    with demo_engine.begin() as conn:
        conn.execute(update(Initiative).values(stage="retired"))
        conn.execute(
            text(
                "DELETE FROM observations WHERE id IN (SELECT id FROM observations WHERE value > 0.5 LIMIT 20)"
            )
        )
    assert snapshot(demo_engine) != before
    demo.load_demo(demo_engine, reset=True, today=DEMO_TODAY)
    assert snapshot(demo_engine) == before
    latest = audit.entries(demo_engine, limit=1)[0]
    assert (latest["action"], latest["actor"]) == ("demo", "Liftoff")
    assert latest["summary"].startswith("Reloaded the demo portfolio")


def test_demo_covers_every_concern_status_and_failure_category(demo_engine):
    with demo_engine.connect() as conn:
        statuses = set(conn.execute(select(Concern.status)).scalars())
        categories = set(conn.execute(select(Concern.failure_category)).scalars())
        severities = set(conn.execute(select(Concern.severity)).scalars())
    assert statuses == {"open", "mitigating", "resolved", "accepted"}
    assert categories == set(FAILURE_CATEGORIES)
    assert severities == {"low", "medium", "high", "critical"}


def test_claims_story_headroom_runs_out_within_weeks(demo_engine):
    s = summary.summary(demo_engine, "Claims triage assistant")
    assert 0 < s["headroom"] < 0.25
    assert 7 <= s["runway"]["days"] <= 42
    caps = [it["capacity_rps"] for it in s["iterations"] if it["capacity_rps"]]
    assert caps == sorted(caps)  # every serving change added capacity
    assert s["iterations"][-1]["capacity_limited_by"] == "latency"


def test_churn_story_accuracy_rises_while_the_kpi_stays_flat(demo_engine):
    s = summary.summary(demo_engine, "Churn early-warning")
    auc = [it["metrics"]["churn_auc"] for it in s["iterations"]]
    retention = [it["metrics"]["retention_rate_90d"] for it in s["iterations"]]
    assert auc == sorted(auc) and auc[-1] - auc[0] > 0.1
    assert max(retention) - min(retention) < 0.01
    # Several MLflow-style runs per iteration: one is chosen and named.
    assert s["iterations"][-1]["candidate"] == "lgbm-offers"


def test_contracts_story_latest_evidence_resolves_a_concern(demo_engine):
    ev = evidence.for_initiative(demo_engine, "Contract clause extractor")
    with demo_engine.connect() as conn:
        concern = conn.execute(select(Concern).where(Concern.external_key == "CTR-1")).one()
    assert concern.status == "open"
    assert (
        ev.latest.metrics["p95_latency_ms"]
        <= concern.threshold
        < ev.previous.metrics["p95_latency_ms"]
    )


def test_stakeholders_change_their_stance_across_iterations(demo_engine):
    with demo_engine.connect() as conn:
        changes = conn.execute(
            select(
                StakeholderStance.stakeholder_id,
                func.count(func.distinct(StakeholderStance.stance)),
            ).group_by(StakeholderStance.stakeholder_id)
        ).all()
    assert sum(1 for _, n in changes if n > 1) >= 6


def test_every_demo_observation_traces_to_an_import_batch(demo_engine):
    # batch_id is NOT NULL, so counting observations without one proved nothing: what matters
    # is that each observation's batch is a committed import of a named file that accounts for
    # it (its accepted rows cover the observations it holds).
    with demo_engine.connect() as conn:
        per_batch = conn.execute(
            select(
                ImportBatch.id,
                ImportBatch.status,
                ImportBatch.file_name,
                ImportBatch.rows_accepted,
                func.count(Observation.id),
            )
            .join(Observation, Observation.batch_id == ImportBatch.id)
            .group_by(ImportBatch.id)
        ).all()
    assert sum(n for *_, n in per_batch) > 250
    for batch_id, status, file_name, accepted, n in per_batch:
        assert status == "committed", batch_id
        assert file_name, batch_id
        assert n <= accepted, (batch_id, file_name, n, accepted)
