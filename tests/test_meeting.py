"""Steering-meeting mode: slides, decision capture with action items, frozen snapshots, and the
offline HTML and CSV exports."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import date

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from conftest import EDITOR, PROJECT_ROOT, button, open_screen, texts
from liftoff import cli, ingest
from liftoff.db.models import ActionItem, DecisionRecord, Initiative, Iteration
from liftoff.evidence import writes as evidence_writes
from liftoff.meeting import export as meeting_export
from liftoff.meeting import pack as steering_pack
from liftoff.meeting import reads as meeting_reads
from liftoff.meeting import writes as meeting_writes
from liftoff.people import writes as people_writes

APP = str(PROJECT_ROOT / "app.py")
CLAIMS, CHURN = "Claims triage assistant", "Churn early-warning"
FORMULAS = ["=1+1", '=HYPERLINK("http://x")', "+cmd|' /C calc'!A0", "@SUM(1,1)", "-2+3"]


def open_pack(role: str | None = None, **params) -> AppTest:
    return open_screen("steering", role, **params)


def test_walk_through_every_slide_with_next_and_previous(use_database, demo_url):
    use_database(demo_url)
    at = open_pack(initiative=CLAIMS)
    assert not at.exception
    seen = []
    for k, (_, title) in enumerate(steering_pack.SLIDES, start=1):
        progress = at.get("progress")[0].proto
        assert progress.text == f"Slide {k} of 8 · {title}"
        assert at.header[0].value == title
        assert at.subheader[0].value.strip()  # one plain sentence per slide
        assert at.query_params.get("slide", ["1"])[0] == str(k) or k == 1
        # one chart or one table (the ask's facts as lines of text), or a note that the data
        # is missing
        assert at.get("plotly_chart") or at.dataframe or at.info or (k == 1 and at.text)
        seen.append(title)
        if k < 8:
            button(at, "Next").click().run()
            assert not at.exception
    assert button(at, "Next").disabled
    button(at, "Previous").click().run()
    assert at.header[0].value == steering_pack.SLIDES[6][1]
    assert seen == [t for _, t in steering_pack.SLIDES]


def test_the_decision_slide_tells_a_visitor_who_records_the_decision(use_database, demo_url):
    """ "Record it here before the meeting ends", in presentation mode, with nothing to record
    it with for a visitor: the slide says editors do, and how to sign in."""
    use_database(demo_url)
    at = open_pack("viewer", initiative=CLAIMS, slide="8", present="1")
    assert not at.exception
    assert at.header[0].value == "Decision"
    assert not [b for b in at.button if b.label == "Record the decision"]
    assert any(
        c.value.startswith("Editors record the decision, attendees and action items")
        for c in at.caption
    )
    editor = open_pack("editor", initiative=CLAIMS, slide="8", present="1")
    assert [b for b in editor.button if b.label == "Record the decision"]
    assert not any(c.value.startswith("Editors record") for c in editor.caption)


def test_a_link_opens_on_its_slide_in_presentation_mode(use_database, demo_url):
    use_database(demo_url)
    at = open_pack(initiative=CLAIMS, slide="4", present="1")
    assert not at.exception
    assert at.header[0].value == "Scalability headroom and runway"
    assert "Steering pack" not in [t.value for t in at.title]  # large type, no page chrome
    # The sentence is plain text (st.text): user text on a slide never goes through markdown.
    assert "15% headroom" in " ".join(t.value for t in at.text)
    assert "Slide 4 of 8" in at.text[0].value
    assert button(at, "Leave presentation mode")
    # Every way through the slides keeps the mode: Next, Previous, a jump, leaving it.
    button(at, "Next").click().run()
    assert at.query_params["present"] == "1" and at.query_params["slide"] == "5"
    button(at, "Previous").click().run()
    button(at, "2").click().run()
    assert at.query_params["present"] == "1" and at.query_params["slide"] == "2"
    assert at.header[0].value == "Criteria met and missed"
    button(at, "Leave presentation mode").click().run()
    assert "present" not in at.query_params and at.query_params["slide"] == "2"
    assert at.title[0].value == "Steering pack"
    button(at, "Present: large type, sidebar closed, one slide per screen").click().run()
    assert at.query_params["present"] == "1" and at.query_params["slide"] == "2"


def test_missing_data_says_so_instead_of_disappearing(bare_initiative):
    engine = bare_initiative
    pack = steering_pack.build(engine, "Bare")
    missing = {s["key"]: s["missing"] for s in pack["slides"]}
    assert len(pack["slides"]) == 8
    assert missing["scalability"].startswith("Import load-test results")
    assert missing["feedback"] == "Import user feedback to close the loop."
    assert missing["criteria"] == "No criteria set for this iteration yet."
    assert dict(pack["slides"][0]["table"]["rows"])["Dates"] == "Not set yet"
    evidence_writes.describe_iteration(
        engine,
        EDITOR,
        "Bare",
        1,
        label=None,
        start_date=date(2026, 11, 2),
        end_date=date(2026, 11, 13),
        hypothesis=None,
    )
    ask = dict(steering_pack.build(engine, "Bare")["slides"][0]["table"]["rows"])
    assert ask["Dates"] == "2 Nov 2026 to 13 Nov 2026"


def test_editor_records_the_decision_with_attendees_and_action_items(
    use_database, demo_url, demo_engine
):
    use_database(demo_url)
    at = open_pack("editor", initiative=CLAIMS, slide="8")
    # No decision is chosen before the room has taken one: saving asks for it.
    assert at.radio[0].value is None
    button(at, "Save the decision").click().run()
    assert "Choose the decision: go, no-go, pivot or extend." in texts(at)
    at.radio[0].set_value("go")
    next(t for t in at.text_area if t.label == "Rationale").input("Peak plan agreed.")
    next(t for t in at.text_area if t.label.startswith("Attendees")).input(
        "Anna Keller\nJonas Weber"
    )
    next(t for t in at.text_area if t.label.startswith("Action items")).input(
        "Scale out before December; Jonas Weber; 2026-12-01\nRollback drill"
    )
    button(at, "Save the decision").click().run()
    assert "Action item line 2 (“Rollback drill”) needs an owner" in texts(at)
    next(t for t in at.text_area if t.label.startswith("Action items")).input(
        "Scale out before December; Jonas Weber; 2026-12-01\nRollback drill; Anna Keller"
    )
    button(at, "Save the decision").click().run()
    assert not at.exception
    with demo_engine.connect() as conn:
        rec = conn.execute(select(DecisionRecord)).one()
        it = conn.execute(select(Iteration).where(Iteration.id == rec.iteration_id)).one()
        actions = conn.execute(select(ActionItem).order_by(ActionItem.id)).all()
    assert (rec.decision, rec.attendees, rec.recorded_by) == (
        "go",
        "Anna Keller\nJonas Weber",
        "editor@example.com",
    )
    assert (it.decision, it.rationale) == ("go", "Peak plan agreed.")
    assert [(a.title, a.owner, str(a.due)) for a in actions] == [
        ("Scale out before December", "Jonas Weber", "2026-12-01"),
        ("Rollback drill", "Anna Keller", "None"),
    ]
    # The decision slide now tells it, the iterations screen lists it, the overview shows the
    # open action items until they are done.
    said = at.subheader[0].value.replace("\\", "").replace("\u2060", "")
    assert said.startswith("Decision: go, taken by editor@example.com on ")
    assert "with Anna Keller, Jonas Weber. Rationale: Peak plan agreed." in said
    at.switch_page("screens/iterations.py").run()
    assert not at.exception, at.exception
    assert "Decisions recorded in meetings (1)" in [e.label for e in at.expander], texts(at)[:500]
    at.switch_page("screens/overview.py").run()
    assert (
        "Open action items (2): Scale out before December — Jonas Weber, due 01 Dec 2026"
        in texts(at)
    )
    meeting_writes.set_action_done(demo_engine, EDITOR, actions[0].id)
    meeting_writes.set_action_done(demo_engine, EDITOR, actions[1].id)
    at.run()
    assert "Open action items" not in texts(at)


def test_freeze_then_new_import_leaves_the_snapshot_unchanged(use_database, demo_url, demo_engine):
    use_database(demo_url)
    at = open_pack("editor", initiative=CLAIMS)
    button(at, "Freeze this pack").click().run()
    assert not at.exception
    snap_id = meeting_reads.snapshots(demo_engine, CLAIMS)[0]["id"]
    assert f"Frozen as snapshot #{snap_id}." in texts(at)
    frozen = meeting_export.values_of(meeting_reads.snapshot(demo_engine, snap_id))
    # New evidence arrives for the same iteration, recorded now (so it is the headline value).
    from datetime import datetime, timedelta

    when = (datetime.now() - timedelta(minutes=1)).strftime("%Y-%m-%d %H:%M:%S")
    ingest.import_file(
        demo_engine,
        EDITOR,
        f"iteration,metric,value,recorded_at\n8,triage_accuracy,0.99,{when}\n".encode(),
        "late.csv",
        ingest.Options(initiative=CLAIMS),
    )
    live = meeting_export.values_of(steering_pack.build(demo_engine, CLAIMS))
    assert live["model_vs_kpi"] != frozen["model_vs_kpi"]
    assert meeting_export.values_of(meeting_reads.snapshot(demo_engine, snap_id)) == frozen
    # The link shows exactly the frozen figures, labelled with when they were frozen.
    at = open_pack(snapshot=str(snap_id))
    assert not at.exception
    assert f"Snapshot #{snap_id}, as of" in texts(at)
    button(at, "Next").click().run()
    button(at, "Next").click().run()
    assert at.subheader[0].value.replace("\\", "") == frozen["model_vs_kpi"]["sentence"]
    assert not [b for b in at.button if b.label == "Freeze this pack"]  # read-only
    at = open_pack(snapshot="999")
    assert "There is no snapshot “999”" in texts(at)


def test_viewers_cannot_freeze_or_record(use_database, demo_url, demo_engine):
    use_database(demo_url)
    at = open_pack(initiative=CLAIMS, slide="8")
    assert not [b for b in at.button if b.label in ("Freeze this pack", "Save the decision")]
    from conftest import VIEWER
    from liftoff.access import auth

    with pytest.raises(auth.PermissionDenied):
        meeting_writes.freeze(demo_engine, VIEWER, CLAIMS)
    with pytest.raises(auth.PermissionDenied):
        meeting_writes.record_meeting_decision(
            demo_engine,
            VIEWER,
            CLAIMS,
            8,
            decision="go",
            rationale="x",
            decided_by="x",
            attendees=[],
            actions=[],
        )


# ----------------------------------------------------------------------------- exports


def _formula_pack(engine):
    for text in FORMULAS:
        people_writes.add_concern(
            engine, EDITOR, CHURN, title=text, failure_category="operations", severity="high"
        )
    ingest.import_file(
        engine,
        EDITOR,
        b"iteration,metric,value\n6,net_change,-5\n",
        "net.csv",
        ingest.Options(initiative=CHURN),
    )
    return steering_pack.build(engine, CHURN)


def test_csv_export_neutralises_formulas_and_keeps_numbers(demo_engine):
    pack = _formula_pack(demo_engine)
    z = zipfile.ZipFile(io.BytesIO(meeting_export.to_csv_zip(pack)))
    names = z.namelist()
    assert "00-summary.csv" in names and "metrics-across-iterations.csv" in names
    concerns = list(csv.reader(io.StringIO(z.read("06-concerns.csv").decode("utf-8-sig"))))
    titles = [row[0] for row in concerns[1:]]
    for text in FORMULAS:
        assert "'" + text in titles, (text, titles)
    metrics = list(
        csv.DictReader(io.StringIO(z.read("metrics-across-iterations.csv").decode("utf-8-sig")))
    )
    net = next(r for r in metrics if r["metric"] == "net_change")
    assert float(net["iteration_6"]) == -5  # a number, not text: no quote in front


def test_cli_exports_html_and_csv(use_database, demo_url, tmp_path, capsys):
    use_database(demo_url)
    out = tmp_path / "pack.html"
    assert cli.main(["export", "--initiative", CLAIMS, "--format", "html", "-o", str(out)]) == 0
    assert "Wrote the HTML pack of Claims triage assistant iteration 8" in capsys.readouterr().out
    assert out.read_text().count("<section") == 8
    assert (
        cli.main(
            [
                "export",
                "--initiative",
                CLAIMS,
                "--iteration",
                "3",
                "--format",
                "csv",
                "-o",
                str(tmp_path / "p.zip"),
            ]
        )
        == 0
    )
    assert (
        cli.main(["export", "--snapshot", "77", "--format", "csv", "-o", str(tmp_path / "x.zip")])
        == 1
    )
    assert "There is no snapshot #77" in capsys.readouterr().err


def test_exported_html_opens_offline_in_chromium(demo_engine, tmp_path, browser):
    from test_people import PAYLOADS, _plant_payloads

    _plant_payloads(demo_engine)
    pack = steering_pack.build(demo_engine, CHURN)
    path = tmp_path / "pack.html"
    path.write_text(meeting_export.to_html(pack), encoding="utf-8")
    assert path.stat().st_size < 10 * 1024 * 1024
    charts = sum(1 for s in pack["slides"] if s["chart"])
    # The run's one Chromium (conftest's `browser`): a second Playwright in the same process
    # cannot start while it runs.
    context = browser.new_context(offline=True, viewport={"width": 1280, "height": 900})
    outside: list[str] = []

    def block(route):
        if route.request.url.startswith("file:"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", block)
    page = context.new_page()
    errors, dialogs = [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(path.as_uri())
    page.wait_for_function(
        "n => document.querySelectorAll('.js-plotly-plot .main-svg').length >= n", arg=charts
    )
    assert page.locator("section").count() == 8
    for _, title in steering_pack.SLIDES:
        assert page.get_by_role("heading", name=title).count() == 1
    assert page.locator(".js-plotly-plot").count() == charts
    assert errors == [] and dialogs == [] and outside == []
    # Scripts: plotly's and one per chart; none came from user text.
    assert page.locator("script").count() == 1 + charts
    assert page.locator('img[src="x"], [onerror], [onload], a[href^="javascript:"]').count() == 0
    body = page.locator("body").inner_text()
    assert PAYLOADS[0] in body  # the concern title, shown as typed
    page.screenshot(
        path=str(PROJECT_ROOT / "artifacts" / "screenshots" / "pack-offline.png"),
        full_page=True,
    )
    context.close()


def test_a_meeting_decision_and_its_action_items_are_one_write(demo_engine, monkeypatch):
    # A failure while the action items are stored used to leave the iteration decided (the
    # decision was its own transaction before them): the room would see "go" with no actions.
    from liftoff.access import audit

    real = audit.record

    def failing(conn, actor, action, *args, **kwargs):
        if action == "action_item.add":
            raise RuntimeError("the database went away")
        return real(conn, actor, action, *args, **kwargs)

    def decision_of_iteration_4():
        with demo_engine.connect() as conn:
            return conn.execute(
                select(Iteration.decision, Iteration.rationale)
                .join(Initiative, Initiative.id == Iteration.initiative_id)
                .where(Initiative.name == CLAIMS, Iteration.number == 4)
            ).one()

    before = decision_of_iteration_4()
    monkeypatch.setattr(audit, "record", failing)
    with pytest.raises(RuntimeError):
        meeting_writes.record_meeting_decision(
            demo_engine,
            EDITOR,
            CLAIMS,
            4,
            decision="no-go",
            rationale="Capacity runs out.",
            decided_by="Steering committee",
            attendees=["Anna Keller"],
            actions="Scale out; Jonas Weber",
        )
    assert decision_of_iteration_4() == before
    with demo_engine.connect() as conn:
        assert conn.execute(select(DecisionRecord)).all() == []
        assert conn.execute(select(ActionItem)).all() == []


def test_a_slide_on_the_projector_keeps_the_columns_the_room_reads(use_database, demo_url):
    use_database(demo_url)
    from liftoff import db

    engine = db.make_engine(demo_url)
    try:
        pack = steering_pack.build(engine, CLAIMS)
    finally:
        engine.dispose()
    criteria = steering_pack.projector_table(pack["slides"][1])
    assert criteria["columns"] == steering_pack.PROJECTOR_COLUMNS["criteria"]
    # Every cell is text, an empty one a dash (never "None" or a blank the eye skips).
    assert all(isinstance(c, str) and c for row in criteria["rows"] for c in row)
    assert "—" in [c for row in criteria["rows"] for c in row]  # the qualitative criterion
    assert len(criteria["widths"]) == len(criteria["columns"]) and criteria["head"]
    ask = steering_pack.projector_table(pack["slides"][0])
    assert not ask["head"] and ask["rows"][0][0] == "Business goal"
    assert steering_pack.projector_table(pack["slides"][2]) is None  # a chart, no table


def test_the_normal_view_shows_every_column_and_the_ask_without_a_blank_header(
    use_database, demo_url
):
    # Regression (helper-25): at 1440x900 the ask was a grid headed "" and "Value", and the
    # criteria's evidence note and import batch were off to the right.
    use_database(demo_url)
    at = open_pack(initiative=CLAIMS)
    assert not at.dataframe
    lines = [t.value for t in at.text]
    assert "Business goal" in lines and "Readiness gate" in lines and "Value" not in lines
    button(at, "Next").click().run()
    grid = json.loads(at.dataframe[0].proto.columns)
    columns = list(at.dataframe[0].value.columns)
    assert "Change" in columns and "Evidence note" in columns and "Batch" in columns
    assert sum(grid[c]["width"] for c in columns) <= 960


def test_a_chart_on_the_projector_has_large_type_and_takes_the_height_left():
    import plotly.graph_objects as go

    from liftoff import charts

    fig = go.Figure(go.Scatter(x=[1, 2], y=[3, 4]))
    fig.update_layout(height=360, title="Peak traffic", font=dict(size=12))
    fig.add_hline(y=3.5, annotation_text="capacity")
    big = charts.for_projector(fig)
    assert fig.layout.height == 360 and fig.layout.font.size == 12  # the screen's own, unchanged
    assert big.layout.height is None and big.layout.title.text is None
    assert big.layout.font.size >= 20 and big.layout.xaxis.tickfont.size >= 18
    assert big.layout.xaxis.automargin and big.layout.yaxis.automargin  # no cut axis labels
    assert big.layout.annotations[0].font.size >= 18


def test_people_appear_by_name_and_days_in_one_format(demo_engine):
    # Regression: snapshots, import batches and concern histories showed the email
    # ("frozen by pm@example.com") and the pack wrote days as 2026-11-27.
    from liftoff.access import auth
    from liftoff.evidence import reads as evidence_reads
    from liftoff.people import reads as people_reads

    auth.add_user(
        demo_engine,
        auth.SYSTEM,
        EDITOR.email,
        "editor",
        "a long and unguessable phrase",
        "Pat Manager",
    )
    snap_id = meeting_writes.freeze(
        demo_engine, EDITOR, "Churn early-warning", None, note="steering"
    )
    listed = meeting_reads.snapshots(demo_engine, "Churn early-warning")[0]
    assert listed["created_by"] == "Pat Manager"
    snap = meeting_reads.snapshot(demo_engine, snap_id)
    words = steering_pack.as_of(snap)
    assert "frozen by Pat Manager" in words and EDITOR.email not in words
    assert f"as of {date.today().day} {date.today():%b %Y}, " in words
    ingest.import_file(
        demo_engine,
        EDITOR,
        b"iteration,metric,value\n6,churn_auc,0.85\n",
        "m.csv",
        ingest.Options(initiative="Churn early-warning"),
    )
    assert evidence_reads.import_batches(demo_engine)[0]["uploaded_by"] == "Pat Manager"
    concern = people_writes.add_concern(
        demo_engine,
        EDITOR,
        "Churn early-warning",
        title="Who owns it",
        severity="low",
        failure_category="operations",
    )
    assert people_reads.concern_history(demo_engine, concern)[0]["changed_by"] == "Pat Manager"
    # Every day in the pack's tables is written as on the screens.
    cells = [
        str(v) for s in snap["slides"] if s["table"] for row in s["table"]["rows"] for v in row
    ]
    assert not [c for c in cells if len(c) >= 10 and c[4] == "-" and c[:4].isdigit()]


def test_the_governance_slide_lists_the_failing_conditions_once(demo_engine):
    """Slide 7 said every failing condition in its five-line sentence and again in its table;
    the sentence now counts them and the table lists them, and the projector table keeps
    "87.4%"-sized values on one line (at least 9 characters' share)."""
    slides = {s["key"]: s for s in steering_pack.build(demo_engine, CLAIMS)["slides"]}
    gov = slides["governance"]
    reasons = [row[0] for row in gov["table"]["rows"]]
    assert reasons and gov["sentence"].startswith(
        f"Not ready: {len(reasons)} gate condition{'s' if len(reasons) > 1 else ''} fail"
    )
    assert not any(r.lower().rstrip(".") in gov["sentence"].lower() for r in reasons)
    assert min(steering_pack.projector_table(slides["criteria"])["widths"]) >= 9
