"""Ingestion behaviour: duplicates, rollback, re-import, the tools' exports, limits, concurrency."""

import os
import subprocess
import sys
import textwrap
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import create_engine, delete, func, make_url, select, text, update
from sqlalchemy.exc import DBAPIError, OperationalError

from conftest import ADMIN, EDITOR, table_checksums
from liftoff import db, ingest
from liftoff.db.models import (
    Concern,
    ConcernStatusChange,
    GovernanceItem,
    ImportBatch,
    Initiative,
    Iteration,
    LoadTestStep,
    Metric,
    Observation,
)
from liftoff.evidence import initiative as evidence
from liftoff.evidence import reads as evidence_reads
from liftoff.ingest import reader
from liftoff.ingest.values import parse_dates, parse_numbers

CORPUS = Path(__file__).parent / "data" / "ingest"
CHURN = "Churn early-warning"


def load(engine, name, data=None, **options):
    data = data if data is not None else (CORPUS / name).read_bytes()
    return ingest.import_file(engine, EDITOR, data, name, ingest.Options(**options))


def count(engine, model, *where):
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(model).where(*where)).scalar()


# ------------------------------------------------------------------ number and date parsing


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        (["1.234,5", "2,5"], [1234.5, 2.5]),
        (["1 234,5", "12"], [1234.5, 12.0]),
        (["1,234.5", "3"], [1234.5, 3.0]),
        (["87,5 %", "12%"], [0.875, 0.12]),
        (["\u22123.5", "+2"], [-3.5, 2.0]),
        (["0,875"], [0.875]),
    ],
)
def test_numbers_as_people_write_them(written, expected):
    assert parse_numbers(pd.Series(written)).values.tolist() == pytest.approx(expected)


def test_dates_day_first_month_first_excel_and_ambiguity():
    assert parse_dates(pd.Series(["13/03/2026", "01/03/2026"])).style == "dayfirst"
    assert parse_dates(pd.Series(["03/13/2026", "03/01/2026"])).style == "monthfirst"
    excel = parse_dates(pd.Series(["46000"]))
    assert excel.style == "excel" and excel.values[0] == pd.Timestamp("2025-12-09")
    ambiguous = parse_dates(pd.Series(["03/04/2026", "04/03/2026"]))
    assert ambiguous.ambiguous and ambiguous.values.isna().all()
    settled = parse_dates(pd.Series(["03/04/2026"]), order="dayfirst")
    assert settled.values[0] == pd.Timestamp("2026-04-03")
    assert parse_dates(pd.Series(["2026-01-02", "02/01/2026"])).mixed


@pytest.mark.parametrize(
    "distinct",
    [
        ["2026-01-02 10:00", "2026-01-03", "", None, "2026-13-40", " 2026-01-04T08:30:00Z "],
        ["13/03/2026", "01/03/2026", "", None, "40/40/2026"],
        ["03/04/2026", "04/03/2026", None],
        ["2026-01-02", "02/01/2026"],
        ["46000", "46001.5", ""],
    ],
)
def test_dates_with_repeats_read_like_each_value_alone(distinct):
    """A column whose values repeat is parsed once per distinct value: the outcome (dates,
    bad rows, style, ambiguity, mixture) is the same as for the distinct values alone."""
    alone = parse_dates(pd.Series(distinct, dtype=object))
    repeated = pd.Series(distinct * 3, dtype=object, index=range(100, 100 + 3 * len(distinct)))
    together = parse_dates(repeated)
    assert (together.style, together.ambiguous, together.mixed) == (
        alone.style,
        alone.ambiguous,
        alone.mixed,
    )
    assert list(together.values.index) == list(repeated.index)
    assert together.values.tolist() == alone.values.tolist() * 3
    assert together.bad.tolist() == alone.bad.tolist() * 3


# ------------------------------------------------------------------ duplicates and rollback


def test_the_same_file_twice_is_refused_naming_the_batch_unless_forced(demo_engine):
    _, first = load(demo_engine, "metrics_long.csv")
    before = table_checksums(demo_engine)
    with pytest.raises(ingest.ImportRejected, match=f"already imported as batch #{first}"):
        load(demo_engine, "metrics_long.csv")
    assert table_checksums(demo_engine) == before
    _, second = load(demo_engine, "metrics_long.csv", force=True)
    assert second != first


def test_rollback_removes_exactly_its_rows_and_allows_reimport(demo_engine):
    before = table_checksums(demo_engine)
    version = db.data_version(demo_engine)
    _, batch = load(demo_engine, "loadtest_generic.csv", initiative=CHURN)
    assert count(demo_engine, LoadTestStep, LoadTestStep.batch_id == batch) == 3
    message = ingest.rollback(demo_engine, ADMIN, batch)
    assert message == f"Rolled back batch #{batch} (loadtest_generic.csv): removed 3 rows."
    after = table_checksums(demo_engine)
    changed = {t for t in before if before[t] != after[t]}
    # The data itself is as before; the batch is marked, keeps its original file and the
    # initiative it was for, and the audit log tells who did it.
    assert changed == {
        "import_batches",
        "import_files",
        "batch_initiatives",
        "data_version",
        "audit_log",
    }
    with demo_engine.connect() as conn:
        row = conn.execute(select(ImportBatch).where(ImportBatch.id == batch)).one()
    assert (row.status, row.rolled_back_by) == ("rolled_back", ADMIN.email)
    assert row.rolled_back_at is not None
    original = (CORPUS / "loadtest_generic.csv").read_bytes()
    assert evidence_reads.original_file(demo_engine, batch) == original
    assert db.data_version(demo_engine) == version + 2
    # Duplicate detection ignores rolled-back batches: the same file imports again.
    _, again = load(demo_engine, "loadtest_generic.csv", initiative=CHURN)
    assert count(demo_engine, LoadTestStep, LoadTestStep.batch_id == again) == 3
    with pytest.raises(ingest.RollbackError, match="only committed batches can be rolled back"):
        ingest.rollback(demo_engine, EDITOR, batch)
    with pytest.raises(ingest.RollbackError, match="There is no import batch #99999"):
        ingest.rollback(demo_engine, EDITOR, 99999)


def test_the_headline_follows_an_import_and_its_rollback_through_the_read_model(demo_engine):
    """The latest values are kept as imports and rollbacks write (liftoff.evidence.latest):
    an executive sees a newer reading at once, and the one before it again after a rollback;
    what is kept is what ranking every observation from scratch gives."""
    from liftoff.evidence import latest

    def auc() -> float:
        ev = evidence.for_initiative(demo_engine, CHURN)
        return ev.iterations[-1].metrics["churn_auc"]

    def kept() -> list:
        with demo_engine.connect() as conn:
            return sorted(conn.execute(text("SELECT * FROM latest_observations")).all())

    ev = evidence.for_initiative(demo_engine, CHURN)
    number, candidate = ev.iterations[-1].number, ev.iterations[-1].candidate
    before, rows_before = auc(), kept()
    now = datetime.now().strftime("%Y-%m-%d %H:%M")
    newer = (
        "initiative,iteration,metric,value,recorded_at,candidate\n"
        f"{CHURN},{number},churn_auc,0.912,{now},{candidate}\n"
    )
    _, batch = load(demo_engine, "newer.csv", data=newer.encode())
    assert auc() == 0.912 != before
    with db.write(demo_engine) as conn:
        latest.rebuild(conn)
    assert auc() == 0.912
    ingest.rollback(demo_engine, ADMIN, batch)
    assert auc() == before
    assert kept() == rows_before


def test_rolling_back_an_import_removes_the_iteration_and_initiative_it_created(demo_engine):
    """A new user imported metrics into a new iteration 6 and rolled them back: iteration 6
    stayed, empty, and the overview read "Criteria met 0 of 3" where it had said 3 of 3. What
    the import created goes with it, unless something else was put there since."""
    from liftoff.evidence import portfolio
    from liftoff.evidence import writes as evidence_writes

    def cards():
        return {c.name: (c.criteria, c.latest_iteration) for c in portfolio.overview(demo_engine)}

    before = cards()
    ev = evidence.for_initiative(demo_engine, CHURN)
    number = ev.iterations[-1].number + 1
    now = datetime.now().strftime("%Y-%m-%d %H:%M")
    rows = (
        "initiative,iteration,metric,value,recorded_at\n"
        f"{CHURN},{number},churn_auc,0.9,{now}\nBrand new,1,churn_auc,0.7,{now}\n"
    )
    _, batch = load(demo_engine, "new.csv", data=rows.encode(), create=True)
    assert cards() != before
    plan_text = ingest.rollback_plan(demo_engine, batch).lines()
    assert any(
        f"iteration {number} of {CHURN}" in line and "the initiative Brand new" in line
        for line in plan_text
    ), plan_text
    said = ingest.rollback(demo_engine, ADMIN, batch)
    assert said.endswith(
        f"removed 2 rows, and iteration 1 of Brand new, iteration {number} of {CHURN} and the "
        "initiative Brand new, which it created."
    )
    assert cards() == before
    # Once an editor has decided on the new iteration, it is theirs: only the rows go.
    _, batch = load(demo_engine, "new.csv", data=rows.encode(), create=True, force=True)
    iteration = evidence.for_initiative(demo_engine, CHURN).iterations[-1]
    assert iteration.number == number
    evidence_writes.record_decision(
        demo_engine, EDITOR, CHURN, number, decision="go", rationale="Enough", decided_by="Ed"
    )
    ingest.rollback(demo_engine, ADMIN, batch)
    kept = evidence.for_initiative(demo_engine, CHURN).iterations[-1]
    assert (kept.number, kept.decision, kept.metrics) == (number, "go", {})
    assert "Brand new" not in cards()


def test_rolling_back_an_import_removes_the_metric_definition_it_created(demo_engine):
    """ "Exactly its rows go", yet the new metric an import defined stayed in every metric
    picker after its rollback. It goes too, unless other rows use it by then."""

    def defined():
        with demo_engine.connect() as conn:
            return set(conn.execute(select(Metric.key)).scalars())

    before = defined()
    rows = "iteration,metric,value\n6,Storm claims per day,120\n6,churn_auc,0.85\n"
    _, batch = load(demo_engine, "storm.csv", data=rows.encode(), initiative=CHURN)
    assert defined() == before | {"storm_claims_per_day"}
    plan = " ".join(ingest.rollback_plan(demo_engine, batch).lines())
    assert "the metric Storm claims per day" in plan
    said = ingest.rollback(demo_engine, ADMIN, batch)
    assert "the metric Storm claims per day, which it created" in said
    assert defined() == before
    # Used by another import since: the definition stays, only this batch's rows go.
    _, first = load(demo_engine, "storm.csv", data=rows.encode(), initiative=CHURN, force=True)
    other = "iteration,metric,value\n5,Storm claims per day,110\n"
    load(demo_engine, "storm-5.csv", data=other.encode(), initiative=CHURN)
    ingest.rollback(demo_engine, ADMIN, first)
    assert "storm_claims_per_day" in defined()


def test_concern_reimport_updates_by_key_records_history_and_rolls_back(demo_engine):
    _, first = load(demo_engine, "concerns.csv", initiative=CHURN)
    updated = b"Key,Title,Severity,Category,Status\nRISK-1,Model drift after price change,Critical,data gaps,Resolved\n"
    _, second = load(demo_engine, "concerns_update.csv", data=updated, initiative=CHURN)
    with demo_engine.connect() as conn:
        rows = conn.execute(
            select(Concern.status, Concern.severity, Concern.owner).where(
                Concern.external_key == "RISK-1"
            )
        ).all()
        history = conn.execute(
            select(ConcernStatusChange.from_status, ConcernStatusChange.to_status)
            .join(Concern, Concern.id == ConcernStatusChange.concern_id)
            .where(Concern.external_key == "RISK-1")
            .order_by(ConcernStatusChange.id)
        ).all()
    assert rows == [("resolved", "critical", "Lea")]  # one concern, updated; owner kept
    assert history == [(None, "open"), ("open", "resolved")]
    assert "restored 1 changed row" in ingest.rollback(demo_engine, EDITOR, second)
    with demo_engine.connect() as conn:
        assert conn.execute(
            select(Concern.status, Concern.severity).where(Concern.external_key == "RISK-1")
        ).one() == ("open", "high")
        assert count(demo_engine, ConcernStatusChange, ConcernStatusChange.batch_id == second) == 0


def lineage_status(engine) -> str:
    with engine.connect() as conn:
        return conn.execute(
            select(GovernanceItem.status)
            .join(Initiative, Initiative.id == GovernanceItem.initiative_id)
            .where(Initiative.name == CHURN, GovernanceItem.area == "lineage")
        ).scalar()


def test_governance_import_updates_items_in_place(demo_engine):
    n = count(demo_engine, GovernanceItem)
    _, batch = load(demo_engine, "governance.csv", initiative=CHURN)
    assert count(demo_engine, GovernanceItem) == n  # Churn already has every area
    status = lineage_status(demo_engine)
    assert status == "in_progress"
    ingest.rollback(demo_engine, EDITOR, batch)
    status = lineage_status(demo_engine)
    assert status == "missing"


def test_a_governance_item_keeps_the_date_its_tracker_last_updated_it(demo_engine):
    """A risk tracker's "Last updated" column is the item's Updated date on the checklist; a
    file without one is dated by its import (the demo's checklist read "updated" at the
    moment the demo was loaded, for every item)."""

    def updated(area):
        with demo_engine.connect() as conn:
            return conn.execute(
                select(GovernanceItem.updated_at)
                .join(Initiative, Initiative.id == GovernanceItem.initiative_id)
                .where(Initiative.name == CHURN, GovernanceItem.area == area)
            ).scalar()

    data = (
        "initiative,area,status,Last updated\n"
        f"{CHURN},lineage,in_progress,2026-10-12\n"
        f"{CHURN},fairness,in_progress,\n"
    )
    before = datetime.now().replace(microsecond=0)
    load(demo_engine, "tracker.csv", data.encode())
    assert updated("lineage") == datetime(2026, 10, 12)
    assert updated("fairness") >= before
    # The demo's own items carry their tracker's dates, weeks apart, not the load's moment.
    assert len({updated(a) for a in ("data_sources", "pii_consent", "retention")}) == 3
    assert updated("data_sources") < before - pd.Timedelta(days=7)


# ------------------------------------------------------------------ the tools' own files


def test_locust_history_becomes_one_step_per_user_plateau(demo_engine):
    prepared, batch = load(
        demo_engine, "locust_scoring_stats_history.csv", initiative=CHURN, iteration=6
    )
    with demo_engine.connect() as conn:
        steps = conn.execute(
            select(
                LoadTestStep.users,
                LoadTestStep.throughput_rps,
                LoadTestStep.p95_ms,
                LoadTestStep.failure_ratio,
            )
            .where(LoadTestStep.batch_id == batch)
            .order_by(LoadTestStep.users)
        ).all()
    assert [s.users for s in steps] == [5, 10, 20, 40, 60]
    # Throughput from the request counter over each plateau: 1182 → 1512 requests in 4 s at 40 users.
    assert steps[3].throughput_rps == pytest.approx((1512 - 1182) / 4)
    assert steps[4].failure_ratio == pytest.approx(10 / (1722 - 1512))
    assert steps[4].p95_ms > steps[0].p95_ms  # latency bends upward at the knee


def test_locust_stats_aggregated_row_is_one_step(demo_engine):
    _, batch = load(
        demo_engine, "locust_scoring_stats.csv", initiative=CHURN, iteration=6, users=60
    )
    with demo_engine.connect() as conn:
        step = conn.execute(select(LoadTestStep).where(LoadTestStep.batch_id == batch)).one()
    assert (step.users, step.p95_ms, step.p99_ms) == (60, 1100, 1400)
    assert step.throughput_rps == pytest.approx(86.10061173396818)
    assert step.failure_ratio == pytest.approx(10 / 1722)


def test_mlflow_runs_become_candidates_and_the_best_run_leads(demo_engine):
    load(demo_engine, "mlflow_runs.csv", initiative=CHURN)
    runs = pd.read_csv(CORPUS / "mlflow_runs.csv")
    latest = runs[runs["tags.iteration"] == 6]
    best = latest.loc[latest["metrics.auc"].idxmax()]
    # The demo's primary metric is churn_auc; MLflow's "auc" is another metric, so make it primary.
    from liftoff.evidence import writes as evidence_writes

    evidence_writes.set_initiative(demo_engine, EDITOR, CHURN, primary_metric="auc")
    it6 = evidence.for_initiative(demo_engine, CHURN).iteration(6)
    assert it6.candidate == best["tags.mlflow.runName"]
    assert it6.metrics["auc"] == pytest.approx(best["metrics.auc"])
    assert it6.metrics["val_loss"] == pytest.approx(best["metrics.val_loss"])


# ------------------------------------------------------------------ limits and safety


def test_a_file_over_the_size_limit_is_refused(demo_engine, monkeypatch):
    monkeypatch.setattr(reader, "MAX_FILE_MB", 0.0001)
    with pytest.raises(ingest.ImportRejected, match="Liftoff imports files up to 0.0001 MB"):
        load(demo_engine, "metrics_long.csv")


def test_dry_run_writes_nothing(demo_engine):
    before = table_checksums(demo_engine)
    prepared, batch = ingest.import_file(
        demo_engine,
        EDITOR,
        (CORPUS / "metrics_long.csv").read_bytes(),
        "metrics_long.csv",
        dry_run=True,
    )
    assert batch is None and prepared.rows_accepted == 3
    assert table_checksums(demo_engine) == before


def test_every_problem_is_collected_not_only_the_first(demo_engine):
    rows = "\n".join(f"6,churn_auc,{v}" for v in ("1.5", "x", "0.8", "-0.2", "", "0.9"))
    with pytest.raises(ingest.ImportRejected) as info:
        load(
            demo_engine,
            "many.csv",
            data=f"iteration,metric,value\n{rows}\n".encode(),
            initiative=CHURN,
        )
    assert sorted(p.row for p in info.value.problems) == [2, 3, 5, 6]


def test_preview_shows_rows_as_stored(demo_engine):
    prepared = ingest.prepare(
        demo_engine, (CORPUS / "metrics_bom_semicolon_decimal_comma.csv").read_bytes(), "x.csv"
    )
    preview = prepared.preview()
    assert list(preview["metric"]) == ["churn_auc", "retention_rate_90d", "cost_per_1k_requests"]
    assert list(preview["value"]) == pytest.approx([0.853, 0.875, 1234.5])
    assert ("Value", "value") in prepared.mapping


def test_user_cannot_trigger_a_traceback_with_garbage(demo_engine):
    for garbage in (b"\xff\xfe\x00", b'"""\n"', b",,,\n,,,\n", b"a\n" + b"\x80" * 2000):
        try:
            prepared = ingest.prepare(demo_engine, garbage, "garbage.csv")
            assert not prepared.ok
        except ingest.ImportRejected:
            pass


# ------------------------------------------------------------------ concurrency

_WORKER = textwrap.dedent(
    """
    import sys
    from liftoff import db, ingest
    from liftoff.access.auth import SYSTEM
    engine = db.make_engine(sys.argv[1])
    data = open(sys.argv[2], "rb").read()
    try:
        _, batch = ingest.import_file(engine, SYSTEM, data, sys.argv[3], ingest.Options(initiative="Churn early-warning"))
        print("ok", batch)
    except db.DatabaseError as exc:
        print("busy", exc)
    """
)


def test_two_processes_importing_at_once_lose_and_duplicate_nothing(
    demo_url, demo_engine, tmp_path
):
    files = []
    for n in range(2):
        rows = "\n".join(f"{1 + (i % 6)},concurrency_{n},{i}" for i in range(20_000))
        path = tmp_path / f"load{n}.csv"
        path.write_text(f"iteration,metric,value\n{rows}\n")
        files.append(path)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, demo_url, str(p), p.name],
            stdout=subprocess.PIPE,
            text=True,
        )
        for p in files
    ]
    results = [p.communicate(timeout=120)[0].split()[0] for p in procs]
    assert all(r in ("ok", "busy") for r in results)
    total = count(
        demo_engine,
        Observation,
        Observation.batch_id.in_(select(ImportBatch.id).where(ImportBatch.file_name.like("load%"))),
    )
    assert total == 20_000 * results.count("ok")
    assert results.count("ok") == 2  # with the busy timeout both wait their turn


_PIPELINE = textwrap.dedent(
    """
    import sys, time
    from liftoff import db, ingest
    from liftoff.access.auth import SYSTEM
    engine = db.make_engine(sys.argv[1])
    worker, imports, rows = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    retries = 0
    for k in range(imports):
        # Every worker writes the same five new metrics: the first import of each creates it.
        lines = [f"{1 + i % 6},team_metric_{k % 5},{worker * 1_000_000 + k * 1_000 + i}"
                 for i in range(rows)]
        data = ("iteration,metric,value\\n" + "\\n".join(lines) + "\\n").encode()
        while True:
            try:
                ingest.import_file(engine, SYSTEM, data, f"team-{worker}-{k}.csv",
                                   ingest.Options(initiative="Churn early-warning"))
                break
            except db.DatabaseBusy:  # what a person is told: busy, retry in a moment
                retries += 1
                time.sleep(0.05)
    print("ok", retries)
    """
)


def test_eight_pipelines_of_25_imports_at_once_lose_and_duplicate_nothing(demo_url, demo_engine):
    """8 processes x 25 imports at once, all naming the same five new metrics: every row
    arrives once, no batch twice, and nothing but the importer's own "busy, retry" (retried
    here) reaches a caller."""
    workers, imports, rows = 8, 25, 40
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _PIPELINE, demo_url, str(w), str(imports), str(rows)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(workers)
    ]
    outcomes = [p.communicate(timeout=300) for p in procs]
    for out, err in outcomes:
        assert out.startswith("ok"), err[-3000:]
        assert "Traceback" not in err and "locked" not in err.lower(), err[-3000:]
    with demo_engine.connect() as conn:
        batches = (
            conn.execute(select(ImportBatch.file_name).where(ImportBatch.file_name.like("team-%")))
            .scalars()
            .all()
        )
        stored = conn.execute(
            select(func.count(), func.count(func.distinct(Observation.value)))
            .select_from(Observation)
            .join(ImportBatch, ImportBatch.id == Observation.batch_id)
            .where(ImportBatch.file_name.like("team-%"))
        ).one()
        metrics = conn.execute(
            select(func.count()).select_from(Metric).where(Metric.key.like("team_metric_%"))
        ).scalar_one()
    assert len(batches) == len(set(batches)) == workers * imports
    assert tuple(stored) == (workers * imports * rows, workers * imports * rows)
    assert metrics == 5
    print("retries after busy:", sum(int(out.split()[1]) for out, _ in outcomes))


def test_an_iteration_cannot_be_deleted_while_an_import_writes_into_it(demo_url, demo_engine):
    """While an import writes readings of an iteration, deleting that iteration from another
    connection waits for it (here: gives up after a short wait), instead of leaving the new
    readings pointing at nothing once the import commits."""
    with demo_engine.connect() as conn:
        iteration = conn.execute(
            select(Iteration.id)
            .join(Initiative, Initiative.id == Iteration.initiative_id)
            .where(Initiative.name == CHURN, Iteration.number == 6)
        ).scalar_one()
    sqlite = demo_engine.dialect.name == "sqlite"
    other = create_engine(demo_url, connect_args={"timeout": 0.3} if sqlite else {})
    attempts = []

    def delete_meanwhile(_written: int) -> None:
        if attempts:
            return
        with other.connect() as conn:
            if not sqlite:
                conn.exec_driver_sql("SET lock_timeout = '300ms'")
            try:
                conn.execute(delete(Iteration).where(Iteration.id == iteration))
                conn.commit()
                attempts.append("deleted")
            except OperationalError:
                attempts.append("waited")

    data = (CORPUS / "metrics_long.csv").read_bytes()
    prepared, batch = ingest.import_file(
        demo_engine, EDITOR, data, "metrics_long.csv", ingest.Options(), progress=delete_meanwhile
    )
    other.dispose()
    assert attempts == ["waited"]
    with demo_engine.connect() as conn:
        assert conn.execute(select(Iteration.id).where(Iteration.id == iteration)).scalar()
    assert count(demo_engine, Observation, Observation.batch_id == batch) == prepared.rows_accepted


@pytest.mark.postgres
def test_an_import_by_a_role_that_may_not_turn_off_foreign_key_checks(postgres, postgres_templates):
    """The fast path turns PostgreSQL's per-row foreign-key checks off where the role may; an
    ordinary role imports with the checks on."""
    role = f"liftoff_app_{os.getpid()}"
    name = f"liftoff_role_{os.getpid()}"
    url = postgres.create(name, template=postgres_templates["demo"])
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE ROLE "{role}" LOGIN')
        conn.exec_driver_sql(f'GRANT ALL ON ALL TABLES IN SCHEMA public TO "{role}"')
        conn.exec_driver_sql(f'GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO "{role}"')
    engine = db.make_engine(make_url(url).set(username=role).render_as_string(hide_password=False))
    try:
        with engine.begin() as conn, pytest.raises(DBAPIError, match="permission denied"):
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        _, batch = load(engine, "metrics_long.csv")
        assert count(engine, Observation, Observation.batch_id == batch) == 3
        assert (
            evidence_reads.original_file(engine, batch)
            == (CORPUS / "metrics_long.csv").read_bytes()
        )
    finally:
        engine.dispose()
        admin.dispose()
        postgres.drop(name)
        with postgres.admin.connect() as conn:
            conn.exec_driver_sql(f'DROP ROLE IF EXISTS "{role}"')


def _big_file(rows: int, bad_last: bool = False) -> bytes:
    body = "\n".join(f"{1 + i % 6},bulk_metric,{(i % 1000) / 1000}" for i in range(rows))
    tail = "\n6,bulk_metric,not-a-number" if bad_last else ""
    return f"iteration,metric,value\n{body}{tail}\n".encode()


def test_a_large_import_keeps_the_indexes_and_every_row(demo_engine):
    from sqlalchemy import inspect

    _, batch = load(demo_engine, "big.csv", data=_big_file(60_000), initiative=CHURN)
    assert count(demo_engine, Observation, Observation.batch_id == batch) == 60_000
    names = {ix["name"] for ix in inspect(demo_engine).get_indexes("observations")}
    assert {ix.name for ix in Observation.__table__.indexes} <= names
    it6 = evidence.for_initiative(demo_engine, CHURN).iteration(6)
    assert it6.metrics["bulk_metric"] == pytest.approx(0.999)  # row 59,999, the last of iteration 6


def test_a_large_import_with_one_bad_row_at_the_end_writes_nothing(demo_engine):
    from sqlalchemy import inspect

    before = table_checksums(demo_engine)
    with pytest.raises(ingest.ImportRejected) as info:
        load(demo_engine, "big.csv", data=_big_file(60_000, bad_last=True), initiative=CHURN)
    assert [p.row for p in info.value.problems] == [60_002]
    assert table_checksums(demo_engine) == before
    names = {ix["name"] for ix in inspect(demo_engine).get_indexes("observations")}
    assert {ix.name for ix in Observation.__table__.indexes} <= names


def test_a_checked_file_whose_iteration_vanished_is_refused_plainly(demo_engine):
    from sqlalchemy import delete

    from liftoff.db.models import Iteration

    prepared = ingest.prepare(
        demo_engine,
        b"iteration,metric,value\n6,churn_auc,0.9\n",
        "late.csv",
        ingest.Options(initiative=CHURN),
    )
    assert prepared.ok and prepared.complete
    with demo_engine.begin() as conn:  # someone removes iteration 6 meanwhile
        conn.execute(
            delete(Iteration).where(
                Iteration.number == 6,
                Iteration.initiative_id.in_(select(Initiative.id).where(Initiative.name == CHURN)),
            )
        )
    before = table_checksums(demo_engine)
    with pytest.raises(ingest.ImportRejected, match="was removed while it was being imported"):
        ingest.commit(demo_engine, EDITOR, prepared)
    assert table_checksums(demo_engine) == before


_IMPORT_ONE = textwrap.dedent(
    """
    import sys
    from liftoff import db, ingest
    from liftoff.access.auth import SYSTEM
    engine = db.make_engine(sys.argv[1])
    data = open(sys.argv[2], "rb").read()
    ingest.import_file(engine, SYSTEM, data, sys.argv[3],
                       ingest.Options(initiative="Churn early-warning", force=sys.argv[4] == "1"))
    print("ok")
    """
)


@pytest.mark.postgres
def test_an_import_killed_at_twenty_random_moments_leaves_all_or_nothing(
    postgres, postgres_templates, tmp_path
):
    """`kill -9` of `liftoff import`'s work at 20 random moments (seeded) on PostgreSQL: after
    each, every batch is whole (its stored rows equal its count) or absent, nothing points at a
    batch that is not there, and the same file imports afterwards."""
    import random
    import signal
    import time

    url = postgres.create(f"liftoff_kill_{os.getpid()}", template=postgres_templates["demo"])
    engine = db.make_engine(url)
    rows = "\n".join(f"{1 + i % 6},kill_metric_{i % 7},{i}" for i in range(150_000))
    path = tmp_path / "big.csv"
    path.write_text(f"iteration,metric,value\n{rows}\n")

    def run(force: bool = False) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-c", _IMPORT_ONE, url, str(path), "big.csv", "1" if force else "0"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def whole_or_absent() -> int:
        with engine.connect() as conn:
            per_batch = conn.execute(
                select(
                    ImportBatch.id,
                    ImportBatch.status,
                    ImportBatch.rows_accepted,
                    func.count(Observation.id),
                )
                .outerjoin(Observation, Observation.batch_id == ImportBatch.id)
                .where(ImportBatch.file_name == "big.csv")
                .group_by(ImportBatch.id, ImportBatch.status, ImportBatch.rows_accepted)
            ).all()
            stray = conn.execute(
                select(func.count())
                .select_from(Observation)
                .where(~Observation.batch_id.in_(select(ImportBatch.id)))
            ).scalar_one()
        assert stray == 0
        for batch_id, status, accepted, stored in per_batch:
            # Committed: every row; rolled back: none (a killed import leaves no batch at all).
            whole = stored == accepted == 150_000 if status == "committed" else stored == 0
            assert whole, (batch_id, status, accepted, stored)
        return sum(1 for _, status, _, _ in per_batch if status == "committed")

    # How long a whole import takes here, from process start to exit (then rolled back).
    started = time.monotonic()
    first = run()
    out, err = first.communicate(timeout=300)
    took = time.monotonic() - started
    assert out.startswith("ok"), err[-2000:]
    with engine.connect() as conn:
        batch = conn.execute(select(func.max(ImportBatch.id))).scalar_one()
    ingest.rollback(engine, EDITOR, batch)
    assert whole_or_absent() == 0
    rng = random.Random(20)
    committed_before = 0
    for _ in range(20):
        proc = run()
        time.sleep(rng.uniform(0.1, took))
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
        committed_before = whole_or_absent()
    print(f"a whole import took {took:.1f} s; {committed_before} of 20 had committed when killed")
    # And once more to the end: a batch that did commit before a kill makes this an import
    # of the same file again, on purpose.
    last = run(force=committed_before > 0)
    out, err = last.communicate(timeout=300)
    assert out.startswith("ok"), err[-2000:]
    assert whole_or_absent() == committed_before + 1
    engine.dispose()


def test_latest_change_is_the_change_into_the_newest_iteration(demo_engine):
    """A new iteration with one metric: the others' "Latest change" is "—" beside its "—", not
    a change between older iterations (a new user read "-0.3 pts" beside an empty iteration)."""
    from liftoff.evidence import views

    ev = evidence.for_initiative(demo_engine, CHURN)
    number = ev.iterations[-1].number + 1
    now = datetime.now().strftime("%Y-%m-%d %H:%M")
    rows = f"initiative,iteration,metric,value,recorded_at\n{CHURN},{number},churn_auc,0.9,{now}\n"
    load(demo_engine, "one.csv", data=rows.encode(), create=True)
    shown, _ = views.metrics_across_iterations(evidence.for_initiative(demo_engine, CHURN))
    table = shown.set_index("Metric")
    others = table.drop(index="Churn model AUC")
    assert (others[f"Iteration {number}"] == "—").all()
    assert (others["Latest change"] == "—").all()
    assert table.loc["Churn model AUC", "Latest change"] != "—"
    # Stars go to every value that reads as the best.
    for _, row in table.iterrows():
        cells = [v for k, v in row.items() if k.startswith("Iteration ")]
        starred = {c.removeprefix("★ ") for c in cells if c.startswith("★")}
        assert len(starred) <= 1 and not any(c in starred for c in cells)


def test_an_imported_file_is_kept_compressed_and_one_kept_by_an_older_release_still_reads(engine):
    """Files are kept as Zstandard (a third of zlib's time on a 45 MB import); those an older
    release kept as zlib streams come back byte for byte all the same."""
    import zlib

    from liftoff.db.models import ImportFile
    from liftoff.evidence import writes as evidence_writes

    evidence_writes.set_initiative(engine, EDITOR, "Churn early-warning", create=True)
    data = (CORPUS / "metrics_long.csv").read_bytes()
    _, batch = ingest.import_file(
        engine, EDITOR, data, "metrics_long.csv", ingest.Options(create=True)
    )
    with engine.connect() as conn:
        kept = conn.execute(
            select(ImportFile.compressed).where(ImportFile.batch_id == batch)
        ).scalar_one()
    assert kept.startswith(b"\x28\xb5\x2f\xfd") and len(kept) < len(data)
    assert evidence_reads.original_file(engine, batch) == data
    with db.write(engine) as conn:
        conn.execute(
            update(ImportFile)
            .where(ImportFile.batch_id == batch)
            .values(compressed=zlib.compress(data, 1))
        )
    assert evidence_reads.original_file(engine, batch) == data
