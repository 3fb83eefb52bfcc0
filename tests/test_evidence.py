"""The headline rule and criteria computed from a real database (SQL side plus rules)."""

from datetime import date, datetime

import pytest
from sqlalchemy import insert, select

from liftoff import db
from liftoff.db.models import (
    Criterion,
    ImportBatch,
    Initiative,
    Iteration,
    LoadTestStep,
    Metric,
    Observation,
    TrafficPoint,
)
from liftoff.errors import InvalidValue
from liftoff.evidence import initiative as evidence
from liftoff.evidence import latest


@pytest.fixture
def fixture_ids(engine):
    """One initiative, two iterations, observations with candidates, segments and re-recordings."""
    with db.write(engine) as conn:

        def batch(n):
            return conn.execute(
                insert(ImportBatch)
                .values(
                    kind="metrics",
                    file_name=f"file{n}.csv",
                    sha256=str(n) * 64,
                    rows_read=1,
                    rows_accepted=1,
                    uploaded_at=datetime(2026, 5, n),
                    status="committed",
                )
                .returning(ImportBatch.id)
            ).scalar_one()

        b1, b2 = batch(1), batch(2)
        ini = conn.execute(
            insert(Initiative)
            .values(
                name="Fixture",
                stage="pilot",
                slo_p95_ms=400,
                max_error_rate=0.02,
                primary_metric_key="acc",
                created_at=datetime(2026, 1, 1),
            )
            .returning(Initiative.id)
        ).scalar_one()
        it1, it2 = (
            conn.execute(
                insert(Iteration)
                .values(initiative_id=ini, number=n, decision="pending")
                .returning(Iteration.id)
            ).scalar_one()
            for n in (1, 2)
        )
        m = {}
        for key, cat, unit, direction in (
            ("acc", "model", "ratio", "higher"),
            ("lat", "system", "ms", "lower"),
            ("conv", "business_kpi", "ratio", "higher"),
        ):
            m[key] = conn.execute(
                insert(Metric)
                .values(key=key, display_name=key, category=cat, unit=unit, direction=direction)
                .returning(Metric.id)
            ).scalar_one()
        t = datetime(2026, 5, 1, 12)
        later = datetime(2026, 5, 3, 12)
        obs = [
            # iteration 1: no candidates; accuracy re-recorded later (0.71 wins), a segment ignored
            (it1, "acc", 0.70, t, None, None, b1),
            (it1, "acc", 0.71, later, None, None, b1),
            (it1, "acc", 0.99, later, "EU", None, b2),
            (it1, "lat", 380, t, None, None, b1),
            (it1, "conv", 0.020, t, None, None, b1),
            # iteration 2: runs A and B; B is best on accuracy, so B's latency is the headline
            (it2, "acc", 0.80, t, None, "A", b1),
            (it2, "lat", 250, t, None, "A", b1),
            (it2, "acc", 0.84, t, None, "B", b1),
            (it2, "lat", 450, t, None, "B", b1),
            (it2, "acc", 0.79, later, None, "B", b2),  # B re-recorded: now worse than A (0.80)
            (it2, "conv", 0.021, t, None, None, b2),
        ]
        conn.execute(
            insert(Observation),
            [
                dict(
                    iteration_id=i,
                    metric_id=m[k],
                    value=v,
                    recorded_at=at,
                    segment=s,
                    candidate=c,
                    batch_id=b,
                )
                for i, k, v, at, s, c, b in obs
            ],
        )
        latest.rebuild(conn)  # written around the importer: its read model ranked here
        # executemany takes its columns from the first row: every row names every column.
        conn.execute(
            insert(Criterion),
            [
                dict(
                    iteration_id=it2,
                    kind="innovation",
                    metric_id=m["acc"],
                    comparator=">=",
                    target=0.8,
                    description="acc",
                    manual_status=None,
                ),
                dict(
                    iteration_id=it2,
                    kind="production",
                    metric_id=m["lat"],
                    comparator="<=",
                    target=300,
                    description="lat",
                    manual_status=None,
                ),
                dict(
                    iteration_id=it2,
                    kind="innovation",
                    metric_id=m["conv"],
                    comparator=">",
                    target=0.025,
                    description="conv",
                    manual_status=None,
                ),
                dict(
                    iteration_id=it2,
                    kind="learning",
                    metric_id=None,
                    comparator=">=",
                    target=None,
                    description="q",
                    manual_status="met",
                    evidence_note="interviews",
                ),
                dict(
                    iteration_id=it2,
                    kind="learning",
                    metric_id=None,
                    comparator=">=",
                    target=None,
                    description="q2",
                    manual_status=None,
                ),
            ],
        )
        conn.execute(
            insert(LoadTestStep),
            [
                dict(
                    iteration_id=it2,
                    users=u,
                    throughput_rps=r,
                    p95_ms=p,
                    failure_ratio=f,
                    batch_id=b1,
                )
                for u, r, p, f in (
                    (10, 10, 100, 0),
                    (20, 19, 220, 0),
                    (40, 33, 390, 0.01),
                    (80, 36, 800, 0.05),
                )
            ],
        )
        conn.execute(
            insert(TrafficPoint),
            [
                dict(
                    initiative_id=ini, observed_at=datetime(2026, 5, d, 12), peak_rps=v, batch_id=b1
                )
                for d, v in ((1, 20.0), (1, 24.0), (8, 26.0), (15, 28.0))
            ],
        )
    return {"b1": b1, "b2": b2}


def test_headline_values_from_the_database(engine, fixture_ids):
    ev = evidence.for_initiative(engine, "Fixture")
    one, two = ev.iterations
    assert one.candidate is None
    assert one.metrics == {"acc": 0.71, "lat": 380, "conv": 0.020}
    # After B's re-recording A is best on accuracy (0.80 > 0.79): every metric is A's.
    assert two.candidate == "A"
    assert two.metrics == {"acc": 0.80, "lat": 250, "conv": 0.021}
    assert two.metric_batches["conv"] == fixture_ids["b2"]


def test_criteria_met_not_met_and_no_evidence(engine, fixture_ids):
    two = evidence.for_initiative(engine, "Fixture").iterations[1]
    assert [(c["description"], c["status"]) for c in two.criteria] == [
        ("acc", "met"),
        ("lat", "met"),
        ("conv", "not_met"),
        ("q", "met"),
        ("q2", "no_evidence"),
    ]
    assert two.criteria_met == 3


def test_capacity_headroom_and_daily_peak(engine, fixture_ids):
    ev = evidence.for_initiative(engine, "Fixture")
    assert ev.iterations[1].capacity.capacity_rps == 33
    assert ev.traffic[0] == (date(2026, 5, 1), 24.0)  # two readings on one day: the higher
    assert ev.headroom == pytest.approx(1 - 28 / 33)
    assert ev.lead_kpi == "conv"


def test_unknown_initiative_names_the_ones_that_exist(engine, fixture_ids):
    with pytest.raises(LookupError, match="No initiative is named 'Nope'. Initiatives: Fixture."):
        evidence.for_initiative(engine, "Nope")


def test_latest_values_rank_dated_then_date_then_batch_then_row_for_one_and_many(engine):
    """Each (iteration, metric, candidate) keeps one row: dated before undated, the newest date,
    then the newest batch, then the last row; segmented rows never count. The importer keeps them
    batch by batch (in any order of commit), a rollback ranks its iterations again."""
    import random

    from liftoff.evidence import reads as evidence_reads

    rng = random.Random(5)
    owner = {}  # iteration id -> initiative id
    with db.write(engine) as conn:
        batches = [
            conn.execute(
                insert(ImportBatch)
                .values(
                    kind="metrics",
                    file_name=f"f{n}.csv",
                    sha256=f"{n:064d}",
                    rows_read=1,
                    rows_accepted=1,
                    uploaded_at=datetime(2026, 5, 1),
                    status="committed",
                )
                .returning(ImportBatch.id)
            ).scalar_one()
            for n in range(3)
        ]
        metric = conn.execute(
            insert(Metric)
            .values(key="m", display_name="M", category="model", unit="ratio")
            .returning(Metric.id)
        ).scalar_one()
        initiatives = []
        for name in ("A", "B"):
            ini = conn.execute(
                insert(Initiative)
                .values(name=name, stage="pilot", created_at=datetime(2026, 1, 1))
                .returning(Initiative.id)
            ).scalar_one()
            initiatives.append(ini)
            for n in (1, 2):
                it = conn.execute(
                    insert(Iteration).values(initiative_id=ini, number=n).returning(Iteration.id)
                ).scalar_one()
                owner[it] = ini
        dates = [None, datetime(2026, 3, 1), datetime(2026, 3, 2, 9, 30)]
        rows = [
            dict(
                iteration_id=rng.choice(list(owner)),
                metric_id=metric,
                value=float(i),
                recorded_at=rng.choice(dates),
                segment=rng.choice([None, None, "EU"]),
                candidate=rng.choice([None, "run-a"]),
                batch_id=rng.choice(batches),
            )
            for i in range(300)
        ]
    # Imported as the importer does, a batch at a time, merged into the read model; the batches
    # commit out of their numbering, so a later row id can belong to an older batch.
    for b in (batches[2], batches[0], batches[1]):
        with db.write(engine) as conn:
            floor = latest.id_floor(conn)
            conn.execute(insert(Observation), [r for r in rows if r["batch_id"] == b])
            latest.merge_batch(conn, b, floor)

    def expected() -> dict:
        with engine.connect() as conn:
            every = conn.execute(Observation.__table__.select()).mappings().all()
        best: dict = {}
        for r in every:
            if r["segment"] is not None:
                continue
            rank = (
                r["recorded_at"] is not None,
                r["recorded_at"] or datetime.min,
                r["batch_id"],
                r["id"],
            )
            key = (r["iteration_id"], r["candidate"])
            best[key] = max(best.get(key, rank), rank)
        return {key: rank[-1] for key, rank in best.items()}

    def read(scope) -> dict:
        return {
            (it, v.candidate): v.observation_id
            for it, values in evidence_reads.latest_values(engine, scope).items()
            for v in values
        }

    want = expected()
    assert len(want) == 8  # every iteration has both an unnamed and a named candidate
    for scope in ([initiatives[0]], [initiatives[1]], initiatives):
        assert read(scope) == {k: oid for k, oid in want.items() if owner[k[0]] in scope}
    # Ranked again from scratch: the same rows.
    with db.write(engine) as conn:
        latest.rebuild(conn)
    assert read(initiatives) == want
    # A batch's rows gone (a rollback): its iterations ranked again give the next latest.
    with db.write(engine) as conn:
        again = latest.iterations_of_batch(conn, batches[2])
        conn.execute(Observation.__table__.delete().where(Observation.batch_id == batches[2]))
        latest.rebuild(conn, again)
    assert again and read(initiatives) == expected() != want


@pytest.mark.parametrize("ranked", ["as written", "in SQL"])
def test_imports_keep_the_latest_values_a_ranking_from_scratch_gives(engine, monkeypatch, ranked):
    """An import ranks its own rows as it writes them, chunk by chunk, instead of in one pass
    over the table at the end (0.7 s of a 2 s import of a million rows on SQLite); when the
    row ids are not known for sure, it ranks in SQL. Either way, on both databases, the
    headline values after imports that overlap in iterations, metrics and candidates, with dated
    and undated readings and ties, are those of a ranking of every observation from scratch."""
    import random

    from sqlalchemy import text

    from conftest import EDITOR
    from liftoff import ingest
    from liftoff.evidence import writes as evidence_writes

    monkeypatch.setattr("liftoff.ingest.load.FAST_CHUNK", 7)  # many chunks per import
    if ranked == "in SQL":
        monkeypatch.setattr(latest.BatchWinners, "_ids", lambda self, conn, places: None)
    evidence_writes.set_initiative(engine, EDITOR, "Ranked", create=True)
    rng = random.Random(11)
    dates = ["", "", "2026-03-01", "2026-03-02 09:30", "2026-03-02 09:30"]
    for n in range(4):
        lines = ["initiative,iteration,metric,value,recorded_at,segment,candidate"]
        for i in range(60):
            lines.append(
                f"Ranked,{rng.choice([1, 2])},{rng.choice(['accuracy', 'recall'])},"
                f"0.{n}{i:02d},{rng.choice(dates)},{rng.choice(['', '', 'EU'])},"
                f"{rng.choice(['', 'run-a'])}"
            )
        ingest.import_file(
            engine,
            EDITOR,
            "\n".join(lines).encode(),
            f"ranked{n}.csv",
            ingest.Options(create=True),
        )

    def kept() -> list:
        with engine.connect() as conn:
            return sorted(conn.execute(text("SELECT * FROM latest_observations")).all())

    imported = kept()
    assert len(imported) == 2 * 2 * 2  # iterations x metrics x candidates
    with db.write(engine) as conn:
        latest.rebuild(conn)
    assert kept() == imported


@pytest.mark.postgres
def test_a_postgresql_import_whose_ids_another_session_drew_between_ranks_in_sql(
    postgres, postgres_templates, monkeypatch
):
    """On PostgreSQL an import's rows take their ids from a sequence other sessions draw from
    too: when one draws while a chunk is copied in, the chunk's ids have a gap, the place of a
    row no longer tells its id, and the import ranks its rows in SQL. The headline values are
    still those of a ranking from scratch."""
    from dataclasses import replace

    from sqlalchemy import text

    from conftest import EDITOR
    from liftoff import ingest
    from liftoff.evidence import writes as evidence_writes
    from liftoff.ingest import load

    url = postgres.create("liftoff_ids_drawn", template=postgres_templates["schema"])
    engine = db.make_engine(url)
    other = db.make_engine(url)
    copy = load.bulk_frame

    def copied_with_a_draw_between(conn, table, payload):
        lines = payload.data.splitlines(keepends=True)
        half = len(lines) // 2
        copy(conn, table, replace(payload, rows=half, data=b"".join(lines[:half])))
        with other.connect() as elsewhere:  # another import, say, taking an id meanwhile
            elsewhere.execute(text("SELECT nextval(pg_get_serial_sequence('observations', 'id'))"))
        copy(conn, table, replace(payload, rows=len(lines) - half, data=b"".join(lines[half:])))

    monkeypatch.setattr(load, "bulk_frame", copied_with_a_draw_between)
    ranked_in_sql = []
    merge_batch = latest.merge_batch
    monkeypatch.setattr(
        latest, "merge_batch", lambda *a: ranked_in_sql.append(a[1]) or merge_batch(*a)
    )
    evidence_writes.set_initiative(engine, EDITOR, "Drawn", create=True)
    lines = ["initiative,iteration,metric,value,recorded_at"]
    lines += [f"Drawn,{1 + i % 2},accuracy,0.{i:03d},2026-03-0{1 + i % 3}" for i in range(90)]
    _, batch = ingest.import_file(
        engine, EDITOR, "\n".join(lines).encode(), "drawn.csv", ingest.Options(create=True)
    )
    assert ranked_in_sql == [batch]

    def kept() -> list:
        with engine.connect() as conn:
            return sorted(conn.execute(text("SELECT * FROM latest_observations")).all())

    imported = kept()
    assert len(imported) == 2
    with db.write(engine) as conn:
        latest.rebuild(conn)
    assert kept() == imported
    engine.dispose()
    other.dispose()


def test_one_screens_evidence_is_read_from_one_snapshot(demo_engine, monkeypatch):
    # Each read used to take its own connection: an import landing between two of them gave
    # evidence mixing before and after (cached for the whole data version that was read first).
    from conftest import EDITOR
    from liftoff import ingest
    from liftoff.evidence import reads as evidence_reads

    name = "Claims triage assistant"
    before = evidence.for_initiative(demo_engine, name)
    latest = before.iterations[-1]
    real_catalog = evidence_reads.metric_catalog
    fired = []

    def catalog_then_an_import(conn):
        found = real_catalog(conn)
        if not fired:  # another process imports while this screen reads
            fired.append(True)
            ingest.import_file(
                demo_engine,
                EDITOR,
                f"iteration,metric,value,recorded_at\n{latest.number},triage_accuracy,0.999,"
                f"{datetime.now():%Y-%m-%dT%H:%M:%S}\n".encode(),
                "late.csv",
                ingest.Options(initiative=name),
            )
        return found

    monkeypatch.setattr(evidence_reads, "metric_catalog", catalog_then_an_import)
    during = evidence.for_initiative(demo_engine, name)
    assert fired
    assert during.iterations[-1].metrics == latest.metrics  # wholly before the import
    after = evidence.for_initiative(demo_engine, name)
    assert after.iterations[-1].metrics["triage_accuracy"] == 0.999  # and then wholly after


def test_a_defined_metric_is_what_an_import_then_uses(engine):
    # An import guesses a new metric's category, unit and direction from its name; a metric
    # defined first is taken as defined (the demo relies on this), and a redefinition changes it.
    from liftoff import ingest
    from liftoff.access.auth import SYSTEM
    from liftoff.evidence import writes

    writes.define_metric(
        engine,
        SYSTEM,
        "handling_time_min",
        display_name="Average claim handling time",
        category="business_kpi",
        unit="min",
        direction="lower",
    )
    data = b"initiative,iteration,metric,value\nClaims,1,handling_time_min,31.5\n"
    prepared, _ = ingest.import_file(engine, SYSTEM, data, "m.csv", ingest.Options(create=True))
    assert not any(w.startswith("New metrics") for w in prepared.warnings)
    writes.define_metric(
        engine,
        SYSTEM,
        "handling_time_min",
        display_name="Handling time",
        category="business_kpi",
        unit="min",
        direction="lower",
    )
    with engine.connect() as conn:
        rows = conn.execute(
            select(Metric.display_name, Metric.category, Metric.unit, Metric.direction)
        ).all()
    assert rows == [("Handling time", "business_kpi", "min", "lower")]
    with pytest.raises(InvalidValue, match="Category 'kpi' is not one of: model, "):
        writes.define_metric(
            engine, SYSTEM, "x", display_name="X", category="kpi", unit=None, direction="higher"
        )


def test_a_decision_taken_in_an_earlier_meeting_keeps_its_day(engine):
    from liftoff import ingest
    from liftoff.access.auth import SYSTEM
    from liftoff.evidence import writes

    data = b"initiative,iteration,metric,value\nClaims,1,accuracy,0.8\n"
    ingest.import_file(engine, SYSTEM, data, "m.csv", ingest.Options(create=True))
    when = datetime(2026, 10, 2, 10, 30)
    writes.record_decision(
        engine,
        SYSTEM,
        "Claims",
        1,
        decision="go",
        rationale="Accuracy 80%.",
        decided_by="Steering committee",
        decided_at=when,
    )
    with engine.connect() as conn:
        assert conn.execute(select(Iteration.decided_at)).scalar_one() == when


def test_needs_attention_counts_the_severe_concerns_the_card_shows(demo_engine):
    # Regression: a card said "Severe concerns 2" (high and critical) while the headline's
    # Needs attention said "1 critical concern open" for the same initiative.
    from liftoff.evidence import portfolio

    checked = 0
    for ev in evidence.portfolio(demo_engine):
        c = portfolio.card(ev)
        words = " ".join(c.attention)
        if c.open_severe_concerns:
            assert f"{c.open_severe_concerns} " in words and "concern" in words, words
            checked += 1
        else:
            assert "concern" not in words
    assert checked >= 1
    assert portfolio.severe_concerns_words(2, 1) == "2 severe concerns open (1 critical)"
    assert portfolio.severe_concerns_words(1, 1) == "1 critical concern open"
    assert portfolio.severe_concerns_words(3, 0) == "3 high-severity concerns open"


def test_the_portfolio_headline_leads_with_the_most_urgent_initiative(demo_engine):
    # Capacity running out outranks a longer list: Churn early-warning's criterion, concerns
    # and alert come after Claims triage assistant's runway of days.
    from dataclasses import replace

    from liftoff.evidence import portfolio

    cards = portfolio.overview(demo_engine)
    claims = next(c for c in cards if c.name == "Claims triage assistant")
    assert claims.urgency == max(c.urgency for c in cards)
    assert portfolio.headline(cards).count("Most urgent:") == 1
    # Once Claims' runway is long, the initiative with a critical concern and the most
    # attention items leads.
    calm = [
        replace(c, urgency=(False, 0, 0, 0, 0), attention=["1 alert firing"]) if c is claims else c
        for c in cards
    ]
    assert "Most urgent: Churn early-warning — " in portfolio.headline(calm)
    assert "Claims triage assistant and Contract clause extractor need attention too." in (
        portfolio.headline(calm)
    )
    # One initiative needing attention: no "most", no "too".
    alone = [c if c is claims else replace(c, attention=[]) for c in cards]
    line = portfolio.headline(alone)
    assert "Needs attention: Claims triage assistant — " in line and "too" not in line


def test_the_alerts_sentence_agrees_in_number(demo_engine):
    # Regression: "1 of 4 alert rules are firing; ... 87.4% (high)".
    from liftoff.evidence import views

    ev = evidence.for_initiative(demo_engine, "Churn early-warning")
    text = views.alerts_sentence(ev)
    assert text.startswith(f"1 of {len(ev.alerts)} alert rules is firing; the most severe: ")
    assert text.endswith(" severity).")
