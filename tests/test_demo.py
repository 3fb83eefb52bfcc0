"""The demo portfolio: idempotent, restorable, and telling the stories it promises."""

import csv
import io
import json
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, text, update

from conftest import DEMO_TODAY
from liftoff import ingest
from liftoff.access import audit
from liftoff.access.auth import SYSTEM
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
from liftoff.demo import builder as demo_builder
from liftoff.demo import story
from liftoff.evidence import initiative as evidence
from liftoff.evidence import summary, writes

# Surrogate keys differ between loads, and so do the times at which the load itself wrote its
# rows (the demo goes through the importer and the editors' write path, which record when they
# wrote); everything else, every date of the story included, must be identical.
_SKIP = {
    "id",
    "initiative_id",
    "iteration_id",
    "metric_id",
    "batch_id",
    "observation_id",
    "concern_id",
    "stakeholder_id",
    "rule_id",
    "criterion_id",
    "row_id",
    "uploaded_at",
    "created_at",
    "updated_at",
    "changed_at",
    # Adding an alert rule evaluates it at once (alert_states, notify_events): at load time.
    "last_sent_at",
    "at",
}


def _without_keys(value) -> str:
    # What a batch changed is kept as the row's JSON (for rollback), surrogate keys and all.
    if isinstance(value, str) and value.startswith("{"):
        row = json.loads(value)
        return repr(sorted((k, v) for k, v in row.items() if k not in _SKIP))
    return repr(value)


def snapshot(engine) -> dict[str, list[tuple]]:
    """Every table's rows without surrogate keys, sorted, for exact comparison."""
    out = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            if table.name in ("data_version", "audit_log"):  # the log only grows
                continue
            cols = [c for c in table.columns if c.name not in _SKIP]
            if not cols:  # keys alone (batch_initiatives): how many rows
                out[table.name] = [conn.execute(select(func.count()).select_from(table)).one()]
                continue
            rows = conn.execute(select(*cols)).all()
            out[table.name] = sorted(tuple(map(_without_keys, r)) for r in rows)
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
    message = demo_builder.load_demo(demo_engine, today=DEMO_TODAY)
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
    demo_builder.load_demo(demo_engine, reset=True, today=DEMO_TODAY)
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
    # Weeks from the demo's day. Counted from its crossing date, not from `days`: those count
    # from the day the test runs (the reader's today), and the fixed demo day falls behind
    # it; the test began failing on 3 Dec with "7 <= 6".
    crossing = date.fromisoformat(s["runway"]["date"][:10])
    assert 7 <= (crossing - DEMO_TODAY).days <= 42
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


def test_every_demo_batch_is_an_upload_of_a_file_in_data(demo_engine):
    # The demo is not a writer of its own: every row it holds came in through the importer.
    with demo_engine.connect() as conn:
        batches = conn.execute(select(ImportBatch.file_name, ImportBatch.kind)).all()
    assert sorted(batches) == sorted(("data/demo/" + name, kind) for name, kind, _ in story.FILES)


@pytest.mark.parametrize("name", [n for n, _, _ in story.FILES])
def test_a_demo_file_uploaded_again_is_the_batch_already_imported(demo_engine, name):
    """The demo moves the files' dates to the day it is loaded, yet a person who uploads
    data/demo/feedback.csv again is told it was imported already (a walker doubled the
    feedback of an initiative that way), and only "Import anyway" brings it in twice."""
    data = (demo_builder.DEMO_DIR / name).read_bytes()
    asked = next(a for n, _, a in story.FILES if n == name)
    prepared = ingest.prepare(demo_engine, data, name, ingest.Options(**asked))
    with demo_engine.connect() as conn:
        batch = conn.execute(
            select(ImportBatch.id).where(ImportBatch.file_name == "data/demo/" + name)
        ).scalar_one()
    assert prepared.duplicate_of == batch
    assert f"This exact file was already imported as batch #{batch}." in [
        p.message for p in prepared.problems.items
    ]


def test_story_files_are_every_file_in_data_demo():
    assert sorted(p.name for p in demo_builder.DEMO_DIR.iterdir()) == sorted(
        n for n, _, _ in story.FILES
    )


@pytest.mark.parametrize("name,kind,asked", story.FILES, ids=[f[0] for f in story.FILES])
def test_each_demo_file_imports_on_its_own(engine, name, kind, asked):
    """Each file in data/demo is an upload a product manager could make: into a database that
    knows the demo's metrics (a risk register links to metrics imported before) and nothing
    else, taken as the Upload page takes it (kind detected; for a Locust file, the initiative
    and iteration the page asks for), every row accepted."""
    for key, (display, category, unit, direction) in story.METRICS.items():
        writes.define_metric(
            engine,
            SYSTEM,
            key,
            display_name=display,
            category=category,
            unit=unit,
            direction=direction,
        )
    data = (demo_builder.DEMO_DIR / name).read_bytes()
    header, *rows = list(csv.reader(io.StringIO(data.decode("utf-8"))))
    prepared, batch_id = ingest.import_file(
        engine, SYSTEM, data, name, ingest.Options(create=True, **asked)
    )
    assert prepared.kind == kind
    # An MLflow run is one row with a value for each of its metrics.
    # A Locust history is samples of a few user-count steps: one load-test step a step.
    per_row = sum(h.startswith("metrics.") for h in header) if kind == "mlflow-runs" else 1
    expected = len({r[1] for r in rows if r[1] != "0"}) if kind == "locust" else len(rows) * per_row
    assert (prepared.rows_read, prepared.rows_accepted) == (len(rows), expected)
    # The only warnings: the initiatives and iterations the file creates in an empty database.
    assert all(w.startswith(("New initiatives", "New iterations")) for w in prepared.warnings)
    with engine.connect() as conn:
        status = conn.execute(
            select(ImportBatch.status).where(ImportBatch.id == batch_id)
        ).scalar_one()
    assert status == "committed"


def test_dates_move_with_the_day_of_loading(db_url):
    # Loaded a week after the anchor, every date of the story is a week later: the latest
    # iteration is still the one under way, and nothing is recorded after today.
    from liftoff import db
    from liftoff.db.models import Observation

    engine = db.make_engine(db_url)
    later = story.ANCHOR + timedelta(days=7)
    demo_builder.load_demo(engine, today=later)
    with engine.connect() as conn:
        latest = conn.execute(select(func.max(Observation.recorded_at))).scalar()
        ends = conn.execute(
            select(func.max(Iteration.end_date)).group_by(Iteration.initiative_id)
        ).scalars()
        assert latest.date() == later
        assert all(0 < (end - later).days <= 21 for end in ends)
    engine.dispose()


def test_the_demo_rubric_is_scored_by_the_team_not_by_whoever_loaded_it(demo_engine):
    """The rubric's "Scored by" read "root (command line)": the person who ran `liftoff demo`
    on the machine. It names the story's team member, marked as the demo's."""
    from liftoff.readiness import views as readiness_views

    ev = evidence.for_initiative(demo_engine, "Churn early-warning")
    view = readiness_views.governance_view(demo_engine, ev, None)
    scorers = set()
    for section in view.rubric_tables:
        table = readiness_views.rubric_table(view.readiness, section)
        scorers |= set(table["Scored by"])
    by_hand = scorers - {"Liftoff, from its data", "not scored yet"}
    assert by_hand == {"Lea Fischer (demo)"}
