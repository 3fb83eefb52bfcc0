"""The importer reads the files people actually have (issue 15) and keeps what the register
says (issue 13): kind from the best match, dates under everyday headers, "did you mean",
the next iteration without a Create tick, problems in file order, re-imports that keep what
a file leaves empty. Every test runs on SQLite and PostgreSQL."""

import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from conftest import EDITOR, table_checksums
from liftoff import cli, ingest
from liftoff.db.models import Concern, Initiative, Iteration, Metric, Observation
from liftoff.names import closest, fold

CHURN = "Churn early-warning"
CORPUS = Path(__file__).parent / "data" / "ingest"


def prepare(engine, text: str, name: str = "file.csv", **options):
    return ingest.prepare(engine, text.encode(), name, ingest.Options(**options))


def load(engine, text: str, name: str = "file.csv", **options):
    return ingest.import_file(engine, EDITOR, text.encode(), name, ingest.Options(**options))


def problems(prepared) -> list[str]:
    return [f"{p.row} {p.column} {p.message} {p.fix}" for p in prepared.problems.items]


# ------------------------------------------------------------------------ kind detection


def test_a_load_test_without_p95_is_refused_as_a_load_test_naming_the_column(demo_engine):
    # Regression: the first kind whose required columns were all present won, so this file
    # fell through to "wide metrics" with metrics users, rps, p50_ms… and Import enabled.
    p = prepare(
        demo_engine,
        "iteration,users,rps,p50_ms,p99_ms,error_rate\n6,10,20.5,40,120,0\n6,50,51,80,300,0.2%\n",
        initiative=CHURN,
    )
    assert p.kind == "loadtest"
    assert not p.ok and not p.new_metrics
    assert [(pr.column, pr.message) for pr in p.problems.items] == [
        (
            "p95_ms",
            "The file looks like load-test results, but the required column 'p95_ms' is missing "
            "(columns found: iteration, users, rps, p50_ms, p99_ms, error_rate).",
        )
    ]
    assert "--kind" in p.problems.items[0].fix


def test_a_number_that_is_not_one_gets_an_example_of_its_own_kind(demo_engine):
    """ "Write a plain number such as 12.5, 12,5 or 87.5%" was the fix for a latency in ms and a
    user count alike: each now gets an example it could be."""
    p = prepare(
        demo_engine,
        "iteration,users,rps,p95_ms,error_rate\n6,ten,20.5,abc,0\n6,50,51,80,x\n",
        initiative=CHURN,
    )
    fixes = {(pr.row, pr.column): pr.fix for pr in p.problems.items}
    assert fixes == {
        (2, "users"): "Write a number such as 42.",
        (2, "p95_ms"): "Write a number such as 12.5 or 12,5.",
        (3, "error_rate"): "Write a number such as 2.5% or 0.025.",
    }, fixes


def test_a_wide_metrics_file_is_still_wide_metrics(demo_engine):
    p = prepare(demo_engine, "Sprint,Churn AUC,Retention rate 90d %\n6,0.84,91\n", initiative=CHURN)
    assert (p.kind, p.ok, p.rows_accepted) == ("metrics", True, 2)


# ------------------------------------------------------------------------ dates


@pytest.mark.parametrize(
    "header",
    ["As of", "Week ending", "Date (UTC)", "Reporting date", "Measured", "Snapshot date"],
)
def test_dates_under_everyday_headers_are_the_reading_date_not_a_metric(demo_engine, header):
    # Regression: "As of" and the like became a metric whose every value "is not a number".
    p = prepare(demo_engine, f"Sprint,{header},Churn AUC\n6,2026-10-02,0.84\n", initiative=CHURN)
    assert p.ok, problems(p)
    assert list(p.new_metrics) == []
    row = p.preview().iloc[0]
    assert (row["metric"], row["recorded_at"]) == ("churn_auc", "2026-10-02 00:00")


def test_a_column_of_dates_is_found_by_its_content_when_the_header_says_nothing(demo_engine):
    p = prepare(
        demo_engine,
        "Sprint,Period,Churn AUC\n6,02/10/2026,0.84\n6,09/10/2026,0.85\n",
        initiative=CHURN,
        date_order="dayfirst",
    )
    assert p.ok, problems(p)
    assert list(p.preview()["recorded_at"]) == ["2026-10-02 00:00", "2026-10-09 00:00"]
    assert ("Period", "recorded_at (its cells are dates)") in p.mapping


def test_the_column_mapping_of_a_wide_file_lists_every_metric_column(demo_engine):
    """A file with one column per metric shows each of those columns in the preview's column
    mapping, with the metric it lands on (the mapping listed only the iteration)."""
    p = prepare(
        demo_engine,
        "Sprint,Churn AUC,Latency (ms),Retention %\n6,0.84,120,91\n",
        initiative=CHURN,
    )
    assert p.ok, problems(p)
    read_as = dict(p.mapping)
    assert read_as["Sprint"] == "iteration"
    # Each metric by its name, a known one by the name the screens give it (not its key).
    assert read_as["Latency (ms)"] == "the metric Latency (ms), in ms, one value per row"
    assert read_as["Retention %"].startswith("the metric Retention %, a share written in %")
    assert read_as["Churn AUC"].startswith("the metric Churn model AUC")
    assert len(p.mapping) == 4


# ------------------------------------------------------------------------ names and iterations


def test_a_new_metric_says_how_to_set_its_unit_and_category_and_the_file_can(demo_engine):
    """The note on new metrics said "edit them if wrong", and nothing edits a metric: it now
    names the columns that set them, and those columns do (the words it gives are accepted)."""
    guessed = prepare(
        demo_engine, "initiative,iteration,metric,value\nChurn early-warning,6,Queue depth,4\n"
    )
    note = next(w for w in guessed.warnings if w.startswith("New metrics will be created"))
    assert "Guessed from the name: the category, unit and direction of Queue depth." in note
    assert "'unit' column" in note and "'category' column" in note, note
    assert "'direction' column (higher or lower: which is better)" in note, note
    assert "edit them" not in note
    given = prepare(
        demo_engine,
        "initiative,iteration,metric,value,unit,category,direction\n"
        "Churn early-warning,6,Queue depth,4,jobs,business KPI,lower is better\n"
        "Churn early-warning,6,Label noise,0.1,,data quality,\n",
    )
    assert not problems(given)
    assert given.new_metrics["queue_depth"][1:] == ("business_kpi", "jobs", "lower")
    assert given.new_metrics["label_noise"][1] == "data_quality"
    # Only what was guessed is called guessed: Queue depth's came from the file. The direction
    # is said too: it decides whether a rise shows green or red, and was guessed unsaid.
    note = next(w for w in given.warnings if w.startswith("New metrics will be created"))
    assert note.startswith(
        "New metrics will be created: Queue depth (business KPI, jobs, lower is better), Label "
        "noise (data quality, no unit, higher is better). Guessed from the name: the unit and "
        "direction of Label noise. To set them"
    ), note
    ingest.commit(demo_engine, EDITOR, given)
    with demo_engine.connect() as conn:
        stored = conn.execute(
            select(Metric.direction).where(Metric.key == "queue_depth")
        ).scalar_one()
    assert stored == "lower"
    wrong = prepare(
        demo_engine,
        "iteration,metric,value,direction\n6,Other depth,4,sideways\n",
        initiative=CHURN,
    )
    assert [(p.column, p.value) for p in wrong.problems.items] == [("direction", "sideways")]


def test_a_new_iteration_names_the_criteria_its_file_leaves_without_evidence(demo_engine):
    # A weekly export without the error rate made iteration 9's "Error rate at most 1%" read
    # "No evidence", and the overview fell from 5 of 6 met to 4 of 6, unannounced (helper-27).
    checked = prepare(
        demo_engine,
        "iteration,metric,value\n9,triage_accuracy,0.91\n9,p95_latency_ms,700\n",
        initiative="Claims triage assistant",
        create=True,
    )
    assert not problems(checked)
    said = [w for w in checked.warnings if w.startswith("Of the criteria iteration 9")]
    assert said == [
        "Of the criteria iteration 9 of Claims triage assistant takes over from iteration 8, 3 "
        "have no value in this file and will read “No evidence”: Average handling time at most "
        "35 minutes; Error rate at most 1%; At least 60% of suggestions accepted. Add their "
        "metrics to the file to judge them."
    ], checked.warnings
    # A file with every criterion's metric hears nothing of it.
    full = prepare(
        demo_engine,
        "iteration,metric,value\n"
        + "".join(
            f"9,{k},1\n"
            for k in (
                "triage_accuracy",
                "handling_time_min",
                "p95_latency_ms",
                "error_rate",
                "suggestion_acceptance",
            )
        ),
        initiative="Claims triage assistant",
        create=True,
    )
    assert not [w for w in full.warnings if w.startswith("Of the criteria")], full.warnings


@pytest.mark.parametrize(
    ("name", "category", "direction"),
    [
        # A PM's weekly operations figures (helper-27's queue wait was guessed a model metric
        # where higher is better).
        ("average_queue_wait", "business_kpi", "lower"),
        ("time_to_resolution", "business_kpi", "lower"),
        ("agent_satisfaction", "business_kpi", "higher"),
        # A model-quality word wins over a lower-is-better one: an AUC of churn is an AUC.
        ("churn_auc", "model", "higher"),
        ("val_loss", "model", "lower"),
    ],
)
def test_a_new_metrics_category_and_direction_are_guessed_from_its_name(name, category, direction):
    from liftoff.ingest import columns

    guessed_category, _, guessed_direction = columns.guess_metric(name, None)
    assert (guessed_category, guessed_direction) == (category, direction)


def test_a_second_load_test_for_an_iteration_is_said_before_it_mixes_into_the_curves(
    demo_engine,
):
    """A Locust summary for iteration 6, which has the demo's load test already, was added
    beside it without a word, and the Scalability curves zig-zagged between the two 60-user
    steps. The preview now says so, with the batch to roll back; a new iteration hears nothing."""
    stats = (CORPUS / "locust_scoring_stats.csv").read_text()
    options = {"initiative": CHURN, "users": 60}
    again = prepare(demo_engine, stats, "scoring_stats.csv", iteration=6, **options)
    assert not problems(again)
    said = [w for w in again.warnings if "already has load-test results" in w]
    assert len(said) == 1, again.warnings
    assert said[0].startswith(f"Iteration 6 of {CHURN} already has load-test results (")
    assert "This file's 1 step will be added beside them, and at 60 users both runs" in said[0]
    assert "To replace the earlier run instead, add --replace-load-tests." in said[0]
    assert again.asks_replace
    # Counted as what is stored, named as people say it (it read "1 value (3 rows) of locust
    # results (_stats.csv or _stats_history.csv)").
    assert ingest.describe(again).title.endswith(": 3 rows read, 1 load-test step ready to import")
    assert ingest.describe_success(again, 7) == (
        "Imported 1 load-test step (3 rows) of Locust results from scoring_stats.csv as batch #7."
    )
    fresh = prepare(demo_engine, stats, "scoring_stats.csv", iteration=7, create=True, **options)
    assert not [w for w in fresh.warnings if "load-test results" in w], fresh.warnings


def _capacity_steps(engine, number: int) -> list[tuple[int, float]]:
    from liftoff.evidence import reads as evidence_reads

    with engine.connect() as conn:
        ini = conn.execute(select(Initiative.id).where(Initiative.name == CHURN)).scalar_one()
        it = conn.execute(
            select(Iteration.id).where(Iteration.initiative_id == ini, Iteration.number == number)
        ).scalar_one()
    return [(s.users, s.throughput_rps) for s in evidence_reads.load_steps(engine, [ini])[it]]


def test_a_rerun_load_test_replaces_the_iterations_earlier_one_and_rollback_brings_it_back(
    demo_engine,
):
    """A load test re-run after a fix could only be added beside the first run (the curves
    mixed them) or replace it by rolling back the demo's batch, which holds every iteration's
    steps. With replace the iteration's earlier steps stop counting; rolling the new batch
    back makes them count again; rolling back a middle run keeps the latest one alone."""
    from liftoff.evidence import initiative as evidence

    first = _capacity_steps(demo_engine, 6)
    others = _capacity_steps(demo_engine, 5)
    rerun = (
        "users,throughput_rps,p95_ms,failure_ratio\n20,19.5,150,0\n80,74,210,0\n120,105,280,0.001\n"
    )
    options = {"initiative": CHURN, "iteration": 6, "replace_load_tests": True}
    checked = prepare(demo_engine, rerun, "rerun.csv", **options)
    said = [w for w in checked.warnings if "already has load-test results" in w]
    assert len(said) == 1 and "This file's 3 steps replace them" in said[0], checked.warnings
    _, second = load(demo_engine, rerun, "rerun.csv", **options)
    assert _capacity_steps(demo_engine, 6) == [(20, 19.5), (80, 74.0), (120, 105.0)]
    assert _capacity_steps(demo_engine, 5) == others  # other iterations keep theirs
    assert evidence.portfolio(demo_engine)[0].capacity_rps is not None
    # The history says which part of the earlier batch was replaced, and by which batch.
    from liftoff.evidence import reads as evidence_reads
    from liftoff.evidence import views

    history = views.import_history(
        evidence_reads.import_batches(demo_engine), evidence_reads.replaced_load_steps(demo_engine)
    )
    earlier = history[history["File"] == "load-tests.csv"]["Stored"].iloc[0]
    assert earlier.endswith(f" ({len(first)} replaced by #{second})"), earlier
    plan = ingest.rollback_plan(demo_engine, second).lines()
    assert any(
        line.startswith(f"Restores the earlier load test of iteration 6 of {CHURN} (")
        for line in plan
    ), plan

    third_file = "users,throughput_rps,p95_ms,failure_ratio\n40,40,150,0\n"
    _, third = load(demo_engine, third_file, "third.csv", **options)
    assert _capacity_steps(demo_engine, 6) == [(40, 40.0)]
    # Rolling back the middle run: the latest stays alone, the first does not come back.
    ingest.rollback(demo_engine, EDITOR, second)
    assert _capacity_steps(demo_engine, 6) == [(40, 40.0)]
    message = ingest.rollback(demo_engine, EDITOR, third)
    assert "earlier load-test step" in message and "count again" in message, message
    assert _capacity_steps(demo_engine, 6) == first


def test_the_check_says_what_capacity_a_load_test_gives_before_it_is_imported(demo_engine):
    """A step over the latency target or the failure limit does not count toward capacity;
    a PM learned it only from the Scalability screen after the import."""
    run = (
        "users,throughput_rps,p95_ms,failure_ratio\n"
        "20,19.5,150,0\n80,74,210,0\n120,105,280,0.001\n160,121,420,0.004\n"
    )
    checked = prepare(demo_engine, run, "rerun.csv", initiative=CHURN, iteration=7, create=True)
    assert (
        f"This run of iteration 7 of {CHURN} serves up to 105 req/s (at 120 users) within the "
        "300 ms latency target and the 0.5% failure limit; from 160 users responses are too slow."
    ) in checked.warnings, checked.warnings
    slow = "users,throughput_rps,p95_ms,failure_ratio\n20,19.5,450,0\n40,30,900,0.2\n"
    checked = prepare(demo_engine, slow, "slow.csv", initiative=CHURN, iteration=7, create=True)
    assert (
        f"No step of this run of iteration 7 of {CHURN} stays within the 300 ms latency target "
        "and the 0.5% failure limit: on its own it gives the iteration no capacity."
    ) in checked.warnings, checked.warnings


def test_names_fold_case_accents_and_punctuation():
    assert fold("Équipe  Churn—Early_warning ") == fold("equipe churn early warning")
    assert closest("churn EARLY warning", [CHURN, "Claims triage assistant"]) == CHURN
    assert closest("Chrun early-warning", [CHURN]) == CHURN
    assert closest("Fraud screening", [CHURN]) is None


@pytest.mark.parametrize(
    "written", ["churn early warning", "CHURN EARLY-WARNING", "Chürn early-warning"]
)
def test_an_unknown_initiative_gets_did_you_mean_and_create_does_not_duplicate_it(
    demo_engine, written
):
    text = f"initiative,iteration,metric,value\n{written},6,churn_auc,0.8\n"
    p = prepare(demo_engine, text)
    assert [pr.message for pr in p.problems.items] == [
        f"There is no initiative named {written!r}. Did you mean {CHURN!r}?"
    ]
    # Ticking Create does not make a second Churn that differs only in case or accents.
    assert not prepare(demo_engine, text, create=True).ok


def test_an_unknown_initiative_is_reported_at_the_first_row_that_names_it(demo_engine):
    """The problem's Row read "—" for a misspelt initiative in rows 3 and 4 of the file."""
    lines = [
        "initiative,iteration,metric,value",
        f"{CHURN},6,churn_auc,0.8",
        "Fraud screening,6,churn_auc,0.8",
        "Fraud screening,6,f1,0.7",
    ]
    (problem,) = prepare(demo_engine, "\n".join(lines) + "\n").problems.items
    assert (problem.row, problem.column, problem.value) == (3, "initiative", "Fraud screening")
    assert problem.message.startswith("There is no initiative named 'Fraud screening' (in 2 rows")


def test_the_cli_answers_a_misspelt_initiative_the_same_way(
    demo_url, monkeypatch, capsys, tmp_path
):
    monkeypatch.setenv("LIFTOFF_DATABASE_URL", demo_url)
    path = tmp_path / "m.csv"
    path.write_text("iteration,metric,value\n6,churn_auc,0.8\n")
    with pytest.raises(SystemExit):
        cli.main(["import", str(path), "--initiative", "churn early warning", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert "Did you mean 'Churn early-warning'?" in out["errors"][0]["message"]
    assert cli.main(["summary", "--initiative", "Churn Early Warning", "--json"]) == 1
    assert "Did you mean 'Churn early-warning'?" in capsys.readouterr().err


def test_the_next_iteration_is_created_without_create_and_the_preview_says_so(demo_engine):
    # Regression: iteration 7 of Churn (latest 6) needed the Create tick like a new initiative.
    text = "iteration,metric,value\n7,churn_auc,0.86\n"
    p = prepare(demo_engine, text, initiative=CHURN)
    assert p.ok, problems(p)
    assert not p.asks_create
    said = next(w for w in p.warnings if w.startswith(f"Iteration 7 of {CHURN} will be created"))
    # It says what the screens will then show first (a few rows took them over silently).
    assert said == (
        f"Iteration 7 of {CHURN} will be created: it is the next one after iteration 6. It "
        "becomes the latest, which the overview and the steering pack show, with iteration 6's "
        "criteria carried over and judged on this file's values only."
    )
    _, batch = load(demo_engine, text, initiative=CHURN)
    with demo_engine.connect() as conn:
        number = conn.execute(
            select(Iteration.number)
            .join(Initiative, Initiative.id == Iteration.initiative_id)
            .join(Observation, Observation.iteration_id == Iteration.id)
            .where(Observation.batch_id == batch)
        ).scalar_one()
    assert number == 7


def test_a_gap_in_the_numbering_still_asks_for_create(demo_engine):
    before = table_checksums(demo_engine)
    p = prepare(demo_engine, "iteration,metric,value\n9,churn_auc,0.86\n", initiative=CHURN)
    assert p.asks_create and not p.ok
    assert p.problems.items[0].message == (
        f"{CHURN} has no iteration 9 (its latest is iteration 6; the next one would be 7)."
    )
    with pytest.raises(ingest.ImportRejected):
        load(demo_engine, "iteration,metric,value\n9,churn_auc,0.86\n", initiative=CHURN)
    assert table_checksums(demo_engine) == before
    assert prepare(
        demo_engine, "iteration,metric,value\n9,churn_auc,0.86\n", initiative=CHURN, create=True
    ).ok


def test_fixes_on_the_page_name_its_controls_never_cli_flags(demo_engine):
    cases = [
        ("initiative,iteration,metric,value\nFraud screening,1,accuracy,0.8\n", {}),
        ("iteration,metric,value\n9,churn_auc,0.8\n", {"initiative": CHURN}),
        ("metric,value\nchurn_auc,0.8\n", {}),
        ("initiative,iteration,metric,value\nchurn early warning,6,churn_auc,0.8\n", {}),
        ("iteration,users,rps\n6,10,20\n", {"initiative": CHURN}),
    ]
    for text, options in cases:
        page = prepare(demo_engine, text, audience="page", **options)
        cli_words = prepare(demo_engine, text, **options)
        assert page.problems.items, text
        for pr in page.problems.items:
            assert "--" not in pr.fix, pr.fix
        assert any("--" in pr.fix for pr in cli_words.problems.items), text


def test_problems_are_listed_in_file_order(demo_engine):
    p = prepare(
        demo_engine,
        "iteration,metric,value\n6,churn_auc,abc\n6,,0.5\n6,churn_auc,\n6,churn_auc,x\n",
        initiative=CHURN,
    )
    assert [pr.row for pr in p.problems.items] == [2, 3, 4, 5]


# ------------------------------------------------------------------------ concerns re-import


def test_reimporting_concerns_without_status_or_date_keeps_the_register(demo_engine):
    # Regression: a re-import that left Status and Raised empty reset a mitigating concern
    # to open and its raised date to today.
    load(
        demo_engine,
        "Key,Title,Severity,Category,Status,Raised at\n"
        "RISK-9,Drift after the price change,High,data gaps,Mitigating,2026-10-01\n",
        initiative=CHURN,
    )
    load(
        demo_engine,
        "Key,Title,Severity,Category\nRISK-9,Drift after the price change,Critical,data gaps\n",
        "again.csv",
        initiative=CHURN,
    )
    with demo_engine.connect() as conn:
        row = conn.execute(
            select(Concern.status, Concern.raised_at, Concern.severity).where(
                Concern.external_key == "RISK-9"
            )
        ).one()
    assert tuple(row) == ("mitigating", date(2026, 10, 1), "critical")


def test_a_new_concern_without_status_or_date_starts_open_today(demo_engine):
    load(
        demo_engine, "Key,Title,Severity,Category\nRISK-8,Budget,Low,operations\n", initiative=CHURN
    )
    with demo_engine.connect() as conn:
        row = conn.execute(
            select(Concern.status, Concern.raised_at).where(Concern.external_key == "RISK-8")
        ).one()
    assert tuple(row) == ("open", date.today())


# ------------------------------------------------------------------------ rollback


def _concern_id(engine, key):
    with engine.connect() as conn:
        return conn.execute(select(Concern.id).where(Concern.external_key == key)).scalar_one()


def _edit_concern(engine, concern_id, actor, **changes):
    from liftoff.people import writes as people_writes

    with engine.connect() as conn:
        row = conn.execute(select(Concern).where(Concern.id == concern_id)).one()
    values = dict(
        title=row.title,
        description=row.description,
        raised_by=row.raised_by,
        stakeholder_group=row.stakeholder_group,
        failure_category=row.failure_category,
        severity=row.severity,
        owner=row.owner,
        due=row.due,
        raised_at=row.raised_at,
        metric=None,
        comparator=None,
        threshold=None,
    )
    values.update(changes)
    people_writes.update_concern(engine, actor, concern_id, status=row.status, **values)


def test_rollback_refuses_to_undo_a_later_edit_silently_and_says_who_what_when(demo_engine):
    # Regression: rolling back a concerns import deleted a concern an editor had changed
    # since, and put re-imported rows back over later edits, without a word.
    from conftest import ADMIN

    _, first = load(
        demo_engine,
        "Key,Title,Severity,Category\nRISK-7,Latency under peak,High,scalability\n",
        initiative=CHURN,
    )
    concern = _concern_id(demo_engine, "RISK-7")
    _edit_concern(demo_engine, concern, ADMIN, owner="Priya")
    plan = ingest.rollback_plan(demo_engine, first)
    assert plan.removes["concerns"] == 1
    assert [c.who for c in plan.later] == [ADMIN.email]
    before = table_checksums(demo_engine)
    with pytest.raises(ingest.RollbackConflict) as refused:
        ingest.rollback(demo_engine, EDITOR, first)
    message = str(refused.value)
    assert f"Rows of batch #{first} (file.csv) were changed since it was imported" in message
    assert ADMIN.email in message and plan.later[0].when.strftime("%d %b %Y") in message
    assert table_checksums(demo_engine) == before
    assert "undid 1 later change, as confirmed" in ingest.rollback(
        demo_engine, EDITOR, first, force=True
    )


def test_rollback_shows_what_it_restores_and_a_later_import_counts_as_a_change(demo_engine):
    load(
        demo_engine,
        "Key,Title,Severity,Category\nRISK-6,Labels lag a week,High,data gaps\n",
        initiative=CHURN,
    )
    _, second = load(
        demo_engine,
        "Key,Title,Severity,Category\nRISK-6,Labels lag a week,Critical,data gaps\n",
        "second.csv",
        initiative=CHURN,
    )
    plan = ingest.rollback_plan(demo_engine, second)
    assert plan.later == []
    assert any(
        "concern RISK-6 'Labels lag a week': severity 'critical' → 'high'" in r
        for r in plan.restores
    )
    assert plan.lines()[0].startswith("Restores concern RISK-6")
    _, third = load(
        demo_engine,
        "Key,Title,Severity,Category\nRISK-6,Labels lag a week,Low,data gaps\n",
        "third.csv",
        initiative=CHURN,
    )
    later = ingest.rollback_plan(demo_engine, second).later
    assert [c.what for c in later] == [
        f"imported batch #{third}, which changed the same concern rows"
    ]


def test_cli_rollback_prints_the_plan_and_needs_force_after_a_later_edit(
    demo_url, demo_engine, monkeypatch, capsys
):
    from conftest import ADMIN

    monkeypatch.setenv("LIFTOFF_DATABASE_URL", demo_url)
    _, batch = load(
        demo_engine,
        "Key,Title,Severity,Category\nRISK-5,Runbook missing,Medium,operations\n",
        initiative=CHURN,
    )
    _edit_concern(demo_engine, _concern_id(demo_engine, "RISK-5"), ADMIN, owner="Sam")
    assert cli.main(["rollback", str(batch)]) == 1
    captured = capsys.readouterr()
    assert f"Rolling back batch #{batch} (file.csv):" in captured.out
    assert "Removes 1 row it added (concerns: 1)." in captured.out
    assert ADMIN.email in captured.err and "add --force" in captured.err
    assert cli.main(["rollback", str(batch), "--force"]) == 0
    assert "as confirmed" in capsys.readouterr().out


def test_the_import_history_page_shows_the_plan_and_asks_before_undoing_later_edits(
    use_database, demo_url, demo_engine
):
    from streamlit.testing.v1 import AppTest

    from conftest import ADMIN, PROJECT_ROOT, sign_in_as, texts

    use_database(demo_url)
    _, batch = load(
        demo_engine,
        "Key,Title,Severity,Category\nRISK-4,No rollback plan,High,operations\n",
        initiative=CHURN,
    )
    _edit_concern(demo_engine, _concern_id(demo_engine, "RISK-4"), ADMIN, owner="Ana")
    at = sign_in_as(AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=60), "editor")
    at.run()
    at.switch_page("screens/imports.py").run()
    assert at.selectbox[0].value == batch
    shown = texts(at)
    assert "Removes 1 row it added (concerns: 1)." in shown
    assert "rolling back undoes these changes" in shown and ADMIN.email in shown
    button = next(b for b in at.button if b.label == "Roll back this batch")
    at.checkbox[0].check().run()
    assert next(b for b in at.button if b.label == "Roll back this batch").disabled
    at.checkbox[1].check().run()
    next(b for b in at.button if b.label == "Roll back this batch").click().run()
    assert f"Rolled back batch #{batch}" in texts(at)
    assert button.disabled


# ------------------------------------------------------------------------ concern categories


REGISTER = (
    "ID,Risk,Owner,Impact,Category\n"
    "R-1,Peak season load untested,Ana,High,Scalability\n"
    "R-2,Labels arrive late,Ben,Medium,Data quality\n"
    "R-3,Branch staff ignore the scores,Cy,High,Adoption\n"
    "R-4,Nobody on call at weekends,Dee,Low,Operations\n"
    "R-5,Success not defined,Eve,Medium,Requirements\n"
    "R-6,Storm damage,Fay,Low,Weather\n"
)


def _categories(engine) -> dict:
    with engine.connect() as conn:
        return dict(
            conn.execute(
                select(Concern.external_key, Concern.failure_category).where(
                    Concern.external_key.like("R-%")
                )
            ).all()
        )


def test_free_text_categories_map_the_common_words_and_list_the_rest(demo_engine):
    # Regression: a category our five did not spell refused the whole register.
    prepared, _ = load(demo_engine, REGISTER, "register.csv", initiative=CHURN)
    assert _categories(demo_engine) == {
        "R-1": "scalability",
        "R-2": "data_gaps",
        "R-3": "misalignment",
        "R-4": "operations",
        "R-5": "unclear_criteria",
        "R-6": None,
    }
    assert (
        "Categories Liftoff does not know are imported as not categorised yet: 'Weather'. "
        "Give those concerns a failure category on the Stakeholders and concerns screen."
    ) in prepared.warnings


def test_a_register_without_categories_imports_flagged_for_triage_and_editable(demo_engine):
    from conftest import ADMIN
    from liftoff.evidence import initiative as evidence
    from liftoff.people import reads as people_reads
    from liftoff.people import views as people_views

    register = "ID,Risk,Impact\nR-1,Peak season load untested,High\nR-2,Labels late,Low\n"
    prepared, _ = load(demo_engine, register, "register.csv", initiative=CHURN)
    assert any("no category column" in w for w in prepared.warnings)
    assert _categories(demo_engine) == {"R-1": None, "R-2": None}
    ev = evidence.for_initiative(demo_engine, CHURN)
    view = people_views.concerns_view(demo_engine, ev, date.today())
    assert "2 are not categorised yet: give them a failure category in the register." in (
        view.headline
    )
    flt = people_reads.ConcernFilter(categories=(people_views.UNCATEGORISED,))
    page = people_views.register_page(demo_engine, ev, flt, 1, date.today())
    assert page.total == 2
    assert set(page.table.frame["Failure category"]) == {"Not categorised yet"}
    # Triage: the editor's save with the category chosen is accepted; so is one that keeps
    # it empty (a save that only changes the owner).
    _edit_concern(demo_engine, _concern_id(demo_engine, "R-2"), ADMIN, owner="Jo")
    _edit_concern(
        demo_engine, _concern_id(demo_engine, "R-1"), ADMIN, failure_category="scalability"
    )
    assert _categories(demo_engine) == {"R-1": "scalability", "R-2": None}


def test_summary_json_counts_uncategorised_concerns(demo_url, demo_engine, monkeypatch, capsys):
    monkeypatch.setenv("LIFTOFF_DATABASE_URL", demo_url)
    load(demo_engine, "ID,Risk,Impact\nR-1,Peak season load untested,High\n", initiative=CHURN)
    assert cli.main(["summary", "--initiative", CHURN, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    found = json.dumps(out)
    assert '"not_categorised": 1' in found


def test_the_category_migration_keeps_every_concern_and_its_history(blank_url):
    from sqlalchemy import text

    from liftoff import db

    engine = db.make_engine(blank_url)
    try:
        db.migrate(engine, "0010")
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO initiatives (name, stage, slo_p95_ms, max_error_rate, created_at)"
                    " VALUES ('A', 'poc', 500, 0.01, '2026-01-01')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO concerns (initiative_id, title, failure_category, severity,"
                    " status, raised_at) SELECT id, 't', 'scalability', 'low', 'open',"
                    " '2026-01-01' FROM initiatives"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO concern_history (concern_id, changed_at, to_status)"
                    " SELECT id, '2026-01-01', 'open' FROM concerns"
                )
            )
        db.migrate(engine)
        with engine.begin() as conn:
            assert conn.execute(text("SELECT count(*) FROM concern_history")).scalar() == 1
            conn.execute(text("UPDATE concerns SET failure_category = NULL"))
        db.downgrade(engine, "0010")
        with engine.connect() as conn:
            assert conn.execute(text("SELECT failure_category FROM concerns")).scalar() == (
                "unclear_criteria"
            )
            assert conn.execute(text("SELECT count(*) FROM concern_history")).scalar() == 1
    finally:
        engine.dispose()


def test_the_concerns_screen_flags_uncategorised_concerns(use_database, demo_url, demo_engine):
    from streamlit.testing.v1 import AppTest

    from conftest import PROJECT_ROOT, sign_in_as, texts

    use_database(demo_url)
    load(demo_engine, "ID,Risk,Impact\nR-1,Peak season load untested,High\n", initiative=CHURN)
    at = sign_in_as(AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=60), "editor")
    at.query_params["initiative"] = CHURN
    at.run()
    at = at.switch_page("screens/concerns.py").run()
    assert not at.exception
    assert "1 is not categorised yet" in texts(at)
    register = at.dataframe[0].value
    assert "Not categorised yet" in set(register["Failure category"])


# ------------------------------------------------------------------------ fix hints and sheets


def test_a_fraction_above_1_gets_a_hint_that_leads_to_the_right_value(demo_engine):
    # Regression: the hint said "write it with a percent sign", and 1.7 % for an AUC of 1.7
    # was then accepted as 0.017 without a word.
    p = prepare(demo_engine, "iteration,metric,value\n6,churn_auc,1.7\n", initiative=CHURN)
    assert [(pr.message, pr.fix) for pr in p.problems.items] == [
        (
            "Churn model AUC is above 1, and it is stored as a fraction between 0 and 1.",
            "If the column holds percentages, write 87.5 % or add --percent; otherwise correct it.",
        )
    ]
    page = prepare(
        demo_engine, "iteration,metric,value\n6,churn_auc,1.7\n", initiative=CHURN, audience="page"
    )
    assert "tick 'Values are percentages'" in page.problems.items[0].fix
    followed = prepare(demo_engine, "iteration,metric,value\n6,churn_auc,1.7%\n", initiative=CHURN)
    assert followed.ok
    assert any(
        w.startswith(
            "churn_auc: 1.7% is far outside its usual range (its values so far lie between"
        )
        for w in followed.warnings
    ), followed.warnings


def test_values_are_percentages_turns_plain_numbers_of_ratio_metrics_into_fractions(demo_engine):
    p = prepare(
        demo_engine,
        "iteration,metric,value\n6,churn_auc,84\n6,retention_rate_90d,91.5\n",
        initiative=CHURN,
        percent_values=True,
    )
    assert p.ok, problems(p)
    assert list(p.preview()["value"]) == pytest.approx([0.84, 0.915])
    assert not any("far outside" in w for w in p.warnings)


def _workbook(sheets: dict) -> bytes:
    import io

    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets.items():
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_workbook_of_several_sheets_names_them_and_the_option(
    demo_url, demo_engine, monkeypatch, capsys, tmp_path
):
    data = _workbook(
        {
            "Read me": [["This workbook holds the churn metrics"]],
            "Metrics": [["iteration", "metric", "value"], [6, "churn_auc", 0.84]],
        }
    )
    path = tmp_path / "book.xlsx"
    path.write_bytes(data)
    monkeypatch.setenv("LIFTOFF_DATABASE_URL", demo_url)
    with pytest.raises(SystemExit):
        cli.main(["import", str(path), "--initiative", CHURN, "--dry-run"])
    err = capsys.readouterr().err
    assert "The workbook has 2 sheets ('Read me', 'Metrics')" in err and "--sheet NAME" in err
    with pytest.raises(ingest.ImportRejected) as page:
        ingest.prepare(demo_engine, data, "book.xlsx", ingest.Options(audience="page"))
    assert "under 'Sheet'" in page.value.problems[0].fix
    assert "--" not in page.value.problems[0].fix
    assert cli.main(["import", str(path), "--initiative", CHURN, "--sheet", "Metrics"]) == 0
    # The first sheet read while others exist: the notes say which and how to choose.
    both = _workbook(
        {
            "Week 40": [["iteration", "metric", "value"], [6, "churn_auc", 0.84]],
            "Week 41": [["iteration", "metric", "value"], [6, "churn_auc", 0.85]],
        }
    )
    p = ingest.prepare(demo_engine, both, "weeks.xlsx", ingest.Options(initiative=CHURN))
    assert (
        "The workbook has 2 sheets; this is the first, 'Week 40'. To import another "
        "('Week 41'), add --sheet NAME." in p.warnings
    )


@pytest.mark.parametrize(
    "text",
    [
        "iteration,metric,value\n6,churn_auc,0.8\n",
        "iteration,metric,value\n6,churn_auc,1.7\n",
        "iteration,users,rps\n6,10,20\n",
        "nothing,to,see\n1,2,3\n",
    ],
)
def test_dry_run_exits_the_same_with_and_without_json(
    demo_url, monkeypatch, capsys, tmp_path, text
):
    monkeypatch.setenv("LIFTOFF_DATABASE_URL", demo_url)
    path = tmp_path / "f.csv"
    path.write_text(text)

    def exit_code(*extra):
        try:
            return cli.main(["import", str(path), "--initiative", CHURN, "--dry-run", *extra])
        except SystemExit as exc:
            return exc.code

    assert exit_code() == exit_code("--json")
    capsys.readouterr()


def test_the_upload_page_offers_percentages_and_asks_create_only_for_a_gap(use_database, demo_url):
    from streamlit.testing.v1 import AppTest

    from conftest import PROJECT_ROOT, sign_in_as, texts

    use_database(demo_url)
    at = sign_in_as(AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=60), "editor")
    at.query_params["initiative"] = CHURN
    at.run()
    at = at.switch_page("screens/upload.py").run()
    at.file_uploader[0].set_value(
        ("next.csv", b"iteration,metric,value\n7,churn_auc,0.86\n", "text/csv")
    ).run()
    assert not at.exception
    shown = texts(at)
    assert "Iteration 7 of Churn early-warning will be created" in shown
    assert not [c for c in at.checkbox if c.label.startswith("Create the initiatives")]
    assert not next(b for b in at.button if b.label == "Import").disabled
    at.file_uploader[0].set_value(
        ("gap.csv", b"iteration,metric,value\n9,churn_auc,1.7\n", "text/csv")
    ).run()
    problems_table = at.dataframe[-1].value
    assert "—" in list(problems_table["Row"]) and "None" not in list(problems_table["Row"])
    fixes = " ".join(problems_table["Fix"])
    assert "--" not in fixes and "Values are percentages" in fixes
    assert [c for c in at.checkbox if c.label.startswith("Create the initiatives")]
    next(c for c in at.checkbox if c.label.startswith("Values are percentages")).check().run()
    assert "churn_auc: 1.7% is far outside" in texts(at)


def test_a_concern_register_says_which_concerns_it_adds_and_which_it_updates(demo_engine):
    """A new user could not tell whether RISK-1 and RISK-2 would be added or would replace
    concerns already imported: the check says so, by key, before the import."""
    from pathlib import Path

    from liftoff import ingest

    root = Path(__file__).parent
    fresh = ingest.prepare(
        demo_engine,
        (root / "data" / "ingest" / "concerns.csv").read_bytes(),
        "c.csv",
        ingest.Options(initiative=CHURN),
    )
    assert "All 2 concerns in the file will be added as new." in fresh.warnings
    again = ingest.prepare(
        demo_engine,
        (root.parent / "data" / "demo" / "risk-register.csv").read_bytes(),
        "r.csv",
        ingest.Options(force=True),
    )
    (said,) = [w for w in again.warnings if "under their key" in w]
    assert said.startswith("17 concerns of the file are already in Liftoff under their key (")
    assert said.endswith("a rollback brings them back. None is new.")
