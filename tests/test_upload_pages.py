"""The Upload and Import history screens through AppTest, on SQLite and PostgreSQL."""

from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from streamlit.testing.v1 import AppTest

from conftest import EDITOR, PROJECT_ROOT, open_screen, sign_in_as, table_checksums, texts
from liftoff import ingest
from liftoff.db.models import ImportBatch, Observation, User
from liftoff.demo import story
from liftoff.formatting import format_bytes
from liftoff.ingest.templates import TEMPLATES, template

APP = str(PROJECT_ROOT / "app.py")
CORPUS = Path(__file__).parent / "data" / "ingest"
CHURN = "Churn early-warning"


def upload_page(**params) -> AppTest:
    at = sign_in_as(AppTest.from_file(APP, default_timeout=60), "editor")
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    return at.switch_page("screens/upload.py").run()


def test_upload_preview_import_success(use_database, demo_url, demo_engine):
    use_database(demo_url)
    at = upload_page(initiative="Churn early-warning")
    assert "Choose a file to upload" in texts(at)
    data = (CORPUS / "metrics_bom_semicolon_decimal_comma.csv").read_bytes()
    at.file_uploader[0].set_value(("metrics.csv", data, "text/csv")).run()
    assert not at.exception
    assert "Metrics: 3 rows read, 3 ready to import" in texts(at)
    # How it was read, in words: the encoding by its name, each column by the header the
    # preview gives it ("Recorded"), not the stored field (recorded_at).
    assert "Text read as UTF-8 (with a byte-order mark), semicolon-separated." in texts(at)
    read_as = list(at.dataframe[0].value["Read as"])
    assert read_as == ["Initiative", "Iteration", "Metric", "Value", "Recorded"], read_as
    preview = at.dataframe[1].value
    # The metrics by the names the screens show (and the file typed), not their keys.
    assert list(preview["Metric"]) == [
        "Churn model AUC",
        "90-day customer retention",
        "Cost per 1,000 requests",
    ]
    assert list(preview["Iteration"]) == ["6", "6", "6"]  # not "6.0"
    # With their units, as typed ("87,5 %"), not the stored fraction 0.875.
    assert list(preview["Value"]) == ["0.853", "87.5%", "1,234 €"]
    assert list(preview["Recorded"]) == ["20 Nov 2026"] * 3  # the screens' date format
    button = next(b for b in at.button if b.label == "Import")
    assert not button.disabled
    button.click().run()
    assert "Imported 3 rows of metrics from metrics.csv as batch #" in texts(at)
    # Regression (issue 14): the page kept "3 ready to import" and an enabled Import button for
    # the batch just stored, the success below them. Now it starts over, the success on top.
    assert at.success[0].value.startswith("Imported 3 rows of metrics")
    assert "ready to import" not in texts(at)
    assert not [b for b in at.button if b.label == "Import"]
    assert "Choose a file to upload" in texts(at)
    assert at.file_uploader[0].value is None
    # The message stays while the next file is chosen and checked, until it is dismissed (a
    # new user choosing the next file right after the import never saw it).
    at.file_uploader[0].set_value(("again.csv", data, "text/csv")).run()
    # Said as the last import, not as a fresh success above the new file's preview.
    assert at.info[0].value.replace("\\", "").startswith("Last import: Imported 3 rows of")
    assert not at.success
    assert "3 rows read, not ready to import" in texts(at)  # the same file: a duplicate
    next(b for b in at.button if b.label == "Dismiss").click().run()
    assert not [m for m in at.info if m.value.startswith("Last import")]  # dismissed
    with demo_engine.connect() as conn:
        batch = conn.execute(select(ImportBatch).order_by(ImportBatch.id.desc())).first()
        n = conn.execute(
            select(func.count()).select_from(Observation).where(Observation.batch_id == batch.id)
        ).scalar()
    assert (batch.file_name, batch.kind, n) == ("metrics.csv", "metrics", 3)


def test_upload_with_errors_shows_the_table_and_writes_nothing(use_database, demo_url, demo_engine):
    use_database(demo_url)
    at = upload_page(initiative="Churn early-warning")
    before = table_checksums(demo_engine)  # with the signed-in editor's account
    at.file_uploader[0].set_value(
        ("bad.csv", (CORPUS / "bad_out_of_range.csv").read_bytes(), "text/csv")
    ).run()
    assert "2 problems found; nothing will be imported until they are fixed." in texts(at)
    problems = at.dataframe[1].value
    assert list(problems.columns) == ["Row", "Column", "Value", "Problem", "Fix"]
    assert list(problems["Row"]) == ["2", "3"]
    assert next(b for b in at.button if b.label == "Import").disabled
    assert table_checksums(demo_engine) == before


def test_upload_offers_to_create_unknown_initiatives(use_database, demo_url):
    use_database(demo_url)
    at = upload_page()
    data = (CORPUS / "metrics_create_new_initiative.csv").read_bytes()
    at.file_uploader[0].set_value(("new.csv", data, "text/csv")).run()
    assert (
        "There is no initiative named 'Fraud screening'" in at.dataframe[1].value["Problem"].iloc[0]
    )
    # By its label: the page's MLflow form above the file has a checkbox of its own.
    next(c for c in at.checkbox if c.label.startswith("Create the initiatives")).check().run()
    assert "ready to import" in texts(at)
    next(b for b in at.button if b.label == "Import").click().run()
    assert "Imported 2 rows" in texts(at)


def test_unreadable_file_gets_one_clear_message(use_database, demo_url):
    use_database(demo_url)
    at = upload_page()
    at.file_uploader[0].set_value(
        ("photo.csv", (CORPUS / "bad_png_renamed.csv").read_bytes(), "text/csv")
    ).run()
    assert not at.exception
    assert at.error[0].value.replace("\\", "") == "This file is a PNG image, not a table."


def test_import_history_rolls_back_a_batch_and_offers_the_original(
    use_database, demo_url, demo_engine
):
    use_database(demo_url)
    data = (CORPUS / "traffic.csv").read_bytes()
    _, batch = ingest.import_file(
        demo_engine, EDITOR, data, "traffic.csv", ingest.Options(initiative="Churn early-warning")
    )
    at = sign_in_as(AppTest.from_file(APP, default_timeout=60), "editor")
    with demo_engine.begin() as conn:  # an editor with a name, shown instead of the email
        conn.execute(
            update(User).where(User.email == "editor@example.com").values(display_name="Erin Ede")
        )
    at.run()
    at.switch_page("screens/imports.py").run()
    assert at.selectbox[0].value == batch  # newest first
    # A newer batch arrives; the editor picks the older one and rolls it back below: the picker
    # stays on it (it jumped to the newest when the label said "rolled back").
    _, newer = ingest.import_file(
        demo_engine,
        EDITOR,
        (CORPUS / "loadtest_generic.csv").read_bytes(),
        "loadtest_generic.csv",
        ingest.Options(initiative="Churn early-warning"),
    )
    at.run()
    at.selectbox[0].set_value(batch).run()
    # The label gives the file's size; the bytes are read only when the button is clicked
    # (checked in the browser test).
    size = format_bytes(len(data))
    assert at.get("download_button")[0].proto.label == f"Download the original file ({size})"
    rollback = next(b for b in at.button if b.label == "Roll back this batch")
    assert rollback.disabled  # until confirmed
    at.checkbox[0].check().run()
    next(b for b in at.button if b.label == "Roll back this batch").click().run()
    assert f"Rolled back batch #{batch} (traffic.csv): removed 3 rows." in texts(at)
    assert at.selectbox[0].value == batch != newer
    # By name and with its time, as the table shows who uploaded (it read the email).
    note = next(c.value for c in at.caption if "Rolled back by" in c.value).replace("\\", "")
    assert note.startswith("Rolled back by Erin Ede on ") and ", " in note, note
    with demo_engine.connect() as conn:
        assert (
            conn.execute(select(ImportBatch.status).where(ImportBatch.id == batch)).scalar()
            == "rolled_back"
        )


def test_the_import_history_names_each_batchs_initiative_after_a_rollback_too(
    use_database, demo_url, demo_engine
):
    # Regression (helper-24): the history named a batch's kind and file but not whose data it
    # was, so a PM with several initiatives could not tell which batch to roll back.
    use_database(demo_url)
    data = b"iteration,metric,value\n6,history_check,0.5\n"
    _, batch = ingest.import_file(
        demo_engine, EDITOR, data, "week.csv", ingest.Options(initiative="Churn early-warning")
    )
    ingest.rollback(demo_engine, EDITOR, batch)
    at = open_screen("imports")
    table = at.dataframe[0].value.set_index("Batch")
    assert table.loc[f"#{batch}", "Initiative"] == "Churn early-warning"
    assert table.loc[f"#{batch}", "Status"] == "Rolled back"
    # It holds nothing now: not "1 value" beside "Rolled back" (helper-27).
    assert table.loc[f"#{batch}", "Stored"] == "Nothing now (1 value removed)"
    assert table.loc["#1", "Initiative"] == "3 initiatives"  # the demo's metrics span all three
    assert list(table.columns)[:2] == ["Kind", "Initiative"]
    at.selectbox(key="import_batch_pick").set_value(1).run()
    captions = [c.value.replace("\\", "") for c in at.caption]
    # By name, every one (the table cell only counts them).
    assert (
        "Data for Churn early-warning, Claims triage assistant and Contract clause extractor."
        in captions
    )


@pytest.mark.parametrize("kind", sorted(TEMPLATES))
def test_every_template_imports_cleanly(demo_engine, kind):
    options = ingest.Options(
        kind=kind, initiative="Churn early-warning", iteration=6, users=50, create=True
    )
    prepared = ingest.prepare(demo_engine, template(kind), f"{kind}.csv", options)
    assert prepared.ok, [p.describe() for p in prepared.problems.items]
    assert prepared.rows_accepted >= 1


def test_a_file_imported_elsewhere_meanwhile_is_refused_with_a_message(
    use_database, demo_url, demo_engine
):
    """Someone imports the same file (the CLI, another tab) between the check and the click:
    the page checks it again, names the batch, and writes nothing."""
    use_database(demo_url)
    at = upload_page(initiative="Churn early-warning")
    data = (CORPUS / "metrics_bom_semicolon_decimal_comma.csv").read_bytes()
    at.file_uploader[0].set_value(("metrics.csv", data, "text/csv")).run()
    assert "Metrics: 3 rows read, 3 ready to import" in texts(at)
    _, other = ingest.import_file(
        demo_engine, EDITOR, data, "metrics.csv", ingest.Options(initiative="Churn early-warning")
    )
    before = table_checksums(demo_engine)
    next(b for b in at.button if b.label == "Import").click().run()
    assert not at.exception
    problems = next(d.value for d in at.dataframe if "Problem" in d.value.columns)
    assert f"This exact file was already imported as batch #{other}." in set(problems["Problem"])
    assert next(b for b in at.button if b.label == "Import").disabled
    assert table_checksums(demo_engine) == before


def test_a_database_busy_with_another_write_gets_a_message_not_a_traceback(busy_sqlite):
    """SQLite has one writer at a time; an import that waits longer than the busy timeout
    says so and writes nothing. (PostgreSQL imports do not wait for each other.)"""
    at = upload_page(initiative="Churn early-warning")
    data = (CORPUS / "metrics_bom_semicolon_decimal_comma.csv").read_bytes()
    at.file_uploader[0].set_value(("metrics.csv", data, "text/csv")).run()
    assert "Metrics: 3 rows read, 3 ready to import" in texts(at)
    before = table_checksums(busy_sqlite.engine)
    with busy_sqlite.hold():
        next(b for b in at.button if b.label == "Import").click().run()
    assert not at.exception
    shown = [e.value.replace("\\", "") for e in at.error]
    busy = "The database is busy with another write. Nothing was changed; retry in a moment."
    assert busy in shown
    assert table_checksums(busy_sqlite.engine) == before
    # The message stays through the next run (another file chosen while the import ran reran
    # the page at once, and the failure was never seen), until it is dismissed.
    at.run()
    assert busy in [e.value.replace("\\", "") for e in at.error]
    next(b for b in at.button if b.label == "Dismiss").click().run()
    assert busy not in [e.value.replace("\\", "") for e in at.error]


def test_the_user_count_is_asked_only_for_a_locust_stats_file(use_database, demo_url):
    """A Locust _stats.csv does not record how many users ran: the page asks for them there,
    beside the problem that names them, and not for any other file (a 'Users (Locust
    _stats.csv)' box stood on the page for every kind); 'Values are percentages' is offered for
    metrics files, the only ones it changes."""
    use_database(demo_url)
    at = upload_page(initiative="Churn early-warning")
    data = (CORPUS / "metrics_bom_semicolon_decimal_comma.csv").read_bytes()
    at.file_uploader[0].set_value(("metrics.csv", data, "text/csv")).run()
    assert "ready to import" in texts(at)
    assert not [n for n in at.number_input if n.label == "Users"]
    percent = [c for c in at.checkbox if c.label.startswith("Values are percentages")]
    assert len(percent) == 1  # a metrics file may hold percentages written without a % sign

    stats = (CORPUS / "locust_scoring_stats.csv").read_bytes()
    at.file_uploader[0].set_value(("scoring_stats.csv", stats, "text/csv")).run()
    next(n for n in at.number_input if n.label.startswith("Iteration")).set_value(6).run()
    assert not at.exception
    assert not [c for c in at.checkbox if c.label.startswith("Values are percentages")]
    problems = next(d.value for d in at.dataframe if "Fix" in d.value.columns)
    assert list(problems["Fix"]) == ["Give the user count under 'Users'."], problems
    assert next(b for b in at.button if b.label == "Import").disabled
    users = next(n for n in at.number_input if n.label == "Users")
    users.set_value(60).run()
    assert not at.exception
    assert "not ready" not in texts(at) and "ready to import" in texts(at), texts(at)
    assert next(n for n in at.number_input if n.label == "Users").value == 60
    # How the columns were read, in words: the percentiles read "p95_ms" there.
    read_as = list(next(d.value for d in at.dataframe if "Read as" in d.value.columns)["Read as"])
    assert "p50 (ms) / p95 (ms) / p99 (ms)" in read_as, read_as
    assert not [r for r in read_as if "_" in r], read_as
    assert not next(b for b in at.button if b.label == "Import").disabled


def test_the_order_of_dates_is_asked_only_for_a_file_whose_dates_read_both_ways(
    use_database, demo_url
):
    """'Dates like 03/04/2026 are' stood on the page for every file, one without dates too.
    It now comes with the problem it settles, and the file is ready once it is answered."""
    use_database(demo_url)
    at = upload_page(initiative="Churn early-warning")
    plain = b"iteration,metric,value\n6,churn_auc,0.85\n"
    at.file_uploader[0].set_value(("plain.csv", plain, "text/csv")).run()
    assert "ready to import" in texts(at)
    assert not [s for s in at.selectbox if s.label.startswith("Dates like")]

    both_ways = b"iteration,metric,value,recorded_at\n6,churn_auc,0.85,03/04/2026\n"
    at.file_uploader[0].set_value(("both-ways.csv", both_ways, "text/csv")).run()
    assert not at.exception
    problems = next(d.value for d in at.dataframe if "Fix" in d.value.columns)
    assert "can be read day-first or month-first" in problems["Problem"].iloc[0], problems
    # Which date, and where the answer goes: the box is above the problems (the fix said
    # "below"; helper-27).
    assert "(row 2: 03/04/2026)" in problems["Problem"].iloc[0]
    assert problems["Fix"].iloc[0].endswith("'Dates like 03/04/2026 are', above.")
    order = next(s for s in at.selectbox if s.label == "Dates like 03/04/2026 are")
    order.select("dayfirst").run()
    assert not at.exception
    assert "not ready" not in texts(at) and "ready to import" in texts(at), texts(at)
    preview = next(d.value for d in at.dataframe if "Recorded" in d.value.columns)
    assert list(preview["Recorded"]) == ["3 Apr 2026"]
    assert next(s for s in at.selectbox if s.label.startswith("Dates like")).value == "dayfirst"


def test_a_rerun_load_test_can_replace_the_earlier_one_from_the_upload_page(
    use_database, demo_url, demo_engine
):
    """A PM uploads a re-run of iteration 6's load test: the page says the iteration has one,
    offers to replace it, and after the import the iteration's steps are the new run's."""
    from liftoff.evidence import initiative as evidence

    use_database(demo_url)
    at = upload_page(initiative="Churn early-warning")
    rerun = b"users,throughput_rps,p95_ms,failure_ratio\n20,19.5,150,0\n80,74,210,0\n"
    at.file_uploader[0].set_value(("rerun.csv", rerun, "text/csv")).run()
    next(n for n in at.number_input if n.label.startswith("Iteration")).set_value(6).run()
    assert not at.exception
    warnings = [w.value.replace("\\", "") for w in at.warning]  # text.plain's escapes
    said = next(w for w in warnings if "already has load-test results" in w)
    assert "will be added beside them" in said and "tick 'Replace the earlier" in said, said
    replace = next(c for c in at.checkbox if c.label.startswith("Replace the earlier load-test"))
    replace.check().run()
    warnings = [w.value.replace("\\", "") for w in at.warning]
    said = next(w for w in warnings if "already has load-test results" in w)
    assert "This file's 2 steps replace them" in said, said
    next(b for b in at.button if b.label == "Import").click().run()
    assert not at.exception
    success = at.success[0].value.replace("\\", "")
    assert success.startswith("Imported 2 rows of load-test results"), success
    assert success.endswith("It replaced the earlier load-test results of the iterations it tests.")
    assert not [c for c in at.checkbox if c.label.startswith("Replace the earlier")]
    churn = next(e for e in evidence.portfolio(demo_engine) if e.initiative["name"] == CHURN)
    assert churn.capacity_rps == 74.0  # the new run's, not the demo's 50.0 req/s


@pytest.mark.parametrize("name,kind,asked", story.FILES, ids=[f[0] for f in story.FILES])
def test_every_demo_file_previews_on_the_upload_page(use_database, demo_url, name, kind, asked):
    """The files a product manager would upload (the demo's own) each show their preview, with
    what the page asks for when the file does not say it: the risk register's preview crashed
    the page, its threshold column holding numbers and gaps."""
    use_database(demo_url)
    at = upload_page(**({"initiative": asked["initiative"]} if "initiative" in asked else {}))
    path = PROJECT_ROOT / "data" / "demo" / name
    at.file_uploader[0].set_value((name, path.read_bytes(), "text/csv")).run()
    if "iteration" in asked:
        field = next(n for n in at.number_input if n.label == "Iteration (if the file has none)")
        field.set_value(asked["iteration"]).run()
    again = [c for c in at.checkbox if c.key == "upload_force"]
    if again:  # the demo imported this very file
        again[0].check().run()
    assert not at.exception, name
    assert "ready to import" in texts(at) and "not ready" not in texts(at), texts(at)
    assert "**Preview: the first rows as the screens will show them**" in texts(at)
    preview = at.dataframe[-1].value
    assert len(preview) > 0
    cells = {str(v) for v in preview.to_numpy().ravel()}
    assert not cells & {"None", "nan", "NaN", "NaT"}, name


def test_the_preview_fits_the_page_and_never_cuts_a_date(demo_engine):
    """The preview's columns add up to the page's width at 1440x900 where they can (the
    governance file's six did not, behind a sideways scroll), short columns such as dates keep
    their whole width, and columns no previewed row fills are named instead of shown."""
    demo = PROJECT_ROOT / "data" / "demo"
    governance = ingest.preview(
        ingest.prepare(
            demo_engine, (demo / "governance.csv").read_bytes(), "g.csv", ingest.Options()
        )
    )
    assert sum(governance.widths.values()) <= 960
    feedback = ingest.preview(
        ingest.prepare(demo_engine, (demo / "feedback.csv").read_bytes(), "f.csv", ingest.Options())
    )
    assert feedback.widths["Received"] >= len("2026-07-27 09:00") * 7.5
    assert "Sentiment" not in feedback.frame.columns
    assert feedback.empty_note == "Left empty in these rows, so not shown: Sentiment."
    # Headers in words, not the stored field names.
    assert {"Received", "Source", "Rating", "Text"} <= set(feedback.frame.columns)
    assert not {c for c in feedback.frame.columns if "_" in c}
    # Choices as the concern register writes them, not as stored (data_gaps, high).
    concerns = ingest.preview(
        ingest.prepare(
            demo_engine, (CORPUS / "concerns.csv").read_bytes(), "c.csv", ingest.Options()
        )
    ).frame
    assert list(concerns["Failure category"]) == [
        "Real-world data gaps",
        "Operational underestimation",
    ]
    assert list(concerns["Severity"]) == ["High", "Medium"]
    assert list(concerns["Status"]) == ["Open", "Mitigating"]
    # A load test's failures as the Scalability screen writes them; each field headed alike in
    # the preview and in "How the columns were read" (they said "Failure share" and "Error rate").
    prepared = ingest.prepare(
        demo_engine,
        (CORPUS / "loadtest_generic.csv").read_bytes(),
        "l.csv",
        ingest.Options(initiative="Churn early-warning"),
    )
    steps = ingest.preview(prepared).frame
    assert list(steps["Failures"]) == ["0.0%", "0.2%", "1.5%"]
    read_as = set(ingest.describe(prepared).mapping["Read as"])
    assert {"Throughput (requests/s)", "Failures", "p95 (ms)"} <= read_as <= set(steps.columns)


def test_the_iteration_box_says_which_iterations_the_initiative_has(use_database, demo_url):
    """A PM typing the iteration of a file had to look the numbers up on another screen."""
    use_database(demo_url)
    at = upload_page(initiative=CHURN)
    data = b"metric,value\nchurn_auc,0.85\n"
    at.file_uploader[0].set_value(("no-iteration.csv", data, "text/csv")).run()
    box = next(n for n in at.number_input if n.label.startswith("Iteration"))
    assert box.help.replace("\\", "") == f"{CHURN} has iterations 1 to 6; 7 creates the next one."
