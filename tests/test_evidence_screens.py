"""The evidence screens through AppTest: what they say matches `liftoff summary`, and editors
can change criteria, decisions and alert rules."""

import re
from datetime import date

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from conftest import EDITOR, PROJECT_ROOT, button, open_screen, table_checksums, texts
from liftoff import errors, ingest
from liftoff.access import audit
from liftoff.db.models import AlertRule, Criterion, Iteration
from liftoff.evidence import initiative as evidence
from liftoff.evidence import summary
from liftoff.evidence import writes as evidence_writes
from liftoff.formatting import format_percent, format_value, time_left

APP = str(PROJECT_ROOT / "app.py")
CHURN = "Churn early-warning"


# ----------------------------------------------------------------------------- model versus business


def test_model_versus_business_says_whether_gains_reach_the_kpi(
    use_database, demo_url, demo_engine
):
    use_database(demo_url)
    at = open_screen("screens/model_business.py", initiative="Churn early-warning")
    assert not at.exception
    body = texts(at)
    # AUC is a score, written as a decimal (it read "+15.4 pts" next to "at least 0.80").
    assert "Churn model AUC moved +0.154 and 90-day customer retention" in body
    # Retention rose with the AUC, by less than a point: said so, where "model gains are not
    # showing up in the KPI yet" stood above a correlation saying they move together.
    assert (
        "the KPI moves with the model, but has gained less than the 1 percentage point that "
        "would show the model's gains reaching the business." in body
    )
    assert "not showing up" not in body
    data = summary.summary(demo_engine, "Churn early-warning")["model_vs_kpi"]
    # In plain words for an executive, the figures after them (it read "Pearson r = …").
    assert (
        f"across 6 iterations, they rise and fall together. As the model gets better, the KPI "
        f"tends to get better too. Correlation {data['pearson']:+.2f}, by rank order {data['spearman']:+.2f} "
        "(+1 would be in step, 0 no link, -1 opposite). This is about direction, not size" in body
    )
    # A KPI where lower is better: rising accuracy beside falling handling time is good news.
    claims = texts(open_screen("screens/model_business.py", initiative="Claims triage assistant"))
    assert "one rises as the other falls. As the model gets better, so does the KPI." in claims
    # And why its figure is negative (helper-26 stopped at "-0.94" beside "gets better").
    assert (
        "(+1 would be in step, 0 no link, -1 opposite). The figure is negative because lower "
        "is better for Average claim handling time." in claims
    )
    assert "The figure is negative" not in body  # Churn's is positive
    assert "Pearson" not in body and "Spearman" not in body
    assert len(at.get("plotly_chart")) == 3  # dual axis, scatter, segments


def test_model_versus_business_warns_when_n_is_too_small(use_database, demo_url):
    use_database(demo_url)
    at = open_screen("screens/model_business.py", initiative="Contract clause extractor")
    assert (
        "Only 4 iterations report both: a correlation needs at least 5 to mean anything."
        in texts(at)
    )
    # Regression: the headline said gains were showing up while the warning beside it said four
    # iterations mean nothing; the verdict and the correlation now say how sure they are.
    assert (
        "model gains are showing up in the KPI, so far (too few iterations to be sure)."
        in texts(at)
    )
    assert "Too few iterations (4) to tell how closely they move together" in texts(at)


def test_model_versus_business_segments_follow_the_iteration(use_database, demo_url):
    use_database(demo_url)
    at = open_screen(
        "screens/model_business.py", initiative="Claims triage assistant", iteration="3"
    )
    assert "No segment breakdown for this iteration" in texts(at)
    at = open_screen(
        "screens/model_business.py", initiative="Claims triage assistant", iteration="8"
    )
    assert "Segments in iteration 8" in texts(at)


# ----------------------------------------------------------------------------- scalability


def test_scalability_figures_match_the_summary(use_database, demo_url, demo_engine):
    use_database(demo_url)
    at = open_screen("screens/scalability.py", initiative="Claims triage assistant")
    assert not at.exception
    data = summary.summary(demo_engine, "Claims triage assistant")
    body = texts(at)
    # Written as the capacity table and the tiles write it (it read "99" beside "98.9").
    assert f"Capacity is {format_value(data['capacity_rps'], 'rps')} (iteration 8)" in body
    assert f"{format_percent(data['headroom'])} headroom" in body
    assert f"({time_left(data['runway']['days'])})" in body
    # The fit in plain words: how much of the ups and downs it explains, not "R² 1.00".
    caption = next(c.value for c in at.caption if c.value.startswith("Traffic trend"))
    assert "fit that explains nearly all of the ups and downs" in caption.replace("\\", "")
    assert data["runway"]["r_squared"] >= 0.995 and "R²" not in body
    table = at.dataframe[0].value
    assert list(table["Iteration"]) == [3, 4, 5, 6, 7, 8]
    # One display of each capacity, with its unit, as the bars and the headline write it (the
    # table read "50" beside the bar's "50.0").
    assert list(table["Capacity"]) == [
        format_value(it["capacity_rps"], "rps") for it in data["iterations"][2:]
    ]
    assert table["Capacity"].iloc[-1].endswith(" req/s")
    assert len(at.get("plotly_chart")) == 4  # curves, capacity trend, headroom gauge, runway


@pytest.mark.parametrize(
    ("screen", "scope"),
    [
        (
            "scalability",
            "Every iteration's load tests; headroom and runway of the latest, iteration 8.",
        ),
        ("monitoring", "Alert rules checked against the latest evidence, iteration 8."),
        ("concerns", "The concerns of the whole initiative, whatever the iteration."),
    ],
)
def test_a_whole_initiative_screen_says_so_when_the_url_names_an_earlier_iteration(
    use_database, demo_url, screen, scope
):
    # Regression (helper-25): opened with ?iteration=4 from another screen, these showed the
    # latest evidence and never said so; the URL named iteration 4.
    use_database(demo_url)
    at = open_screen(screen, initiative="Claims triage assistant", iteration="4")
    assert not at.exception
    boxes = [i.value.replace("\\", "") for i in at.info]  # in a box, not small print
    assert (
        "Iteration 4 stays chosen on the other screens; this one is about the whole "
        f"initiative. {scope}" in boxes
    )
    at = open_screen(screen, initiative="Claims triage assistant")
    assert scope in [c.value.replace("\\", "") for c in at.caption]
    assert "stays chosen" not in texts(at) and not at.info


def test_scalability_what_if_growth(use_database, demo_url):
    use_database(demo_url)
    at = open_screen("screens/scalability.py", initiative="Claims triage assistant")
    at.slider[0].set_value(0.0).run()
    assert "At +0.0% a week, peak traffic never reaches capacity." in texts(at)
    at.slider[0].set_value(20.0).run()
    assert "At +20.0% a week, capacity runs out around" in texts(at)


def test_scalability_says_which_upload_fills_the_gap(bare_initiative):
    at = open_screen("screens/scalability.py", initiative="Bare")
    body = texts(at)
    assert "No load-test results yet. Upload a load-test file" in body
    assert "No peak traffic yet. Upload a traffic file (date, peak_rps)" in body


# ----------------------------------------------------------------------------- monitoring


def test_monitoring_lists_firing_alerts_like_the_summary(use_database, demo_url, demo_engine):
    use_database(demo_url)
    at = open_screen("screens/monitoring.py", initiative="Churn early-warning")
    firing = summary.summary(demo_engine, "Churn early-warning")["alerts"]["firing"]
    table = at.dataframe[0].value
    assert len(table) == len(firing) == 1
    assert list(table.iloc[0]) == [
        "High",
        "90-day customer retention",
        "87.4%",
        "below 89.0%",  # in words, as the rule editor and the criteria say it
        "Iteration 1 (25 Jul 2026)",
        "—",  # neither silenced nor acknowledged
    ]


def test_a_rules_latest_value_from_an_earlier_iteration_says_which(
    use_database, demo_url, demo_engine
):
    # Iteration 9 arrived without an error rate: its criterion said "No evidence" while the
    # Error rate rule's latest value read "0.7%" as if it were iteration 9's (helper-27).
    from liftoff.evidence import views

    ingest.import_file(
        demo_engine,
        EDITOR,
        b"iteration,metric,value\n9,triage_accuracy,0.91\n",
        "week.csv",
        ingest.Options(initiative="Claims triage assistant", create=True),
    )
    ev = evidence.for_initiative(demo_engine, "Claims triage assistant")
    rules = views.rules_table(ev).set_index("Metric")
    assert rules.loc["Error rate", "Latest value"].endswith(" (iteration 8)")
    assert "(iteration" not in rules.loc["Triage accuracy", "Latest value"]


def test_the_rule_charts_share_one_axis_of_iterations(demo_engine):
    # Side by side, one rule's chart started at It. 1 and the next at It. 3 (helper-26).
    from liftoff import charts

    ev = evidence.for_initiative(demo_engine, "Claims triage assistant")
    every = [f"It. {it.number}" for it in ev.iterations]
    late = charts.metric_history(ev, "weekly_active_users", 200, "<")
    assert list(late.data[0].x)[0] != every[0]  # its values start later
    assert list(late.layout.xaxis.categoryarray) == every
    assert tuple(late.layout.xaxis.range) == (-0.5, len(every) - 0.5)


def test_an_alert_tighter_than_its_criterion_says_it_is_an_early_warning(use_database, demo_url):
    # Regression (helper-25): "p95 latency is 735 ms (high severity)" firing beside the
    # criterion "p95 latency within the 800 ms SLO: met" read as a contradiction.
    use_database(demo_url)
    at = open_screen("screens/monitoring.py", initiative="Claims triage assistant")
    body = texts(at)
    assert "the most severe: p95 latency is " in body
    assert (
        "An early warning: the alert fires above 700 ms while the criterion, at most 800 ms, "
        "is still met." in body
    )
    assert "below 88.0%" in list(at.dataframe[1].value["Alert when"])  # the rules table
    at = open_screen("screens/monitoring.py", initiative="Churn early-warning")
    assert "early warning" not in texts(at)  # its firing KPI misses its criterion


def test_editor_adds_suggested_and_own_alert_rules_and_edits_one(
    use_database, demo_url, demo_engine
):
    use_database(demo_url)
    at = open_screen("screens/monitoring.py", "editor", initiative="Contract clause extractor")
    before = len(evidence.for_initiative(demo_engine, "Contract clause extractor").rules)
    button(at, "Add the suggested rules").click().run()
    after = evidence.for_initiative(demo_engine, "Contract clause extractor").rules
    assert len(after) > before
    # add an own rule through the form
    next(s for s in at.selectbox if s.label == "Metric").select("review_hours_saved")
    next(s for s in at.selectbox if s.label == "Alert when it is").select("<")
    next(n for n in at.number_input if n.label.startswith("Threshold, in the metric")).set_value(
        8.0
    )
    button(at, "Add rule").click().run()
    with demo_engine.connect() as conn:
        rule = conn.execute(select(AlertRule).order_by(AlertRule.id.desc())).first()
    assert (rule.comparator, rule.threshold, rule.stages) == ("<", 8.0, "poc,pilot,production")
    # switch a rule off
    at = open_screen("screens/monitoring.py", "editor", initiative="Contract clause extractor")
    chosen = next(s for s in at.selectbox if s.label == "Rule").value
    at.checkbox[0].uncheck()
    button(at, "Save rule").click().run()
    assert not at.exception
    with demo_engine.connect() as conn:
        assert (
            conn.execute(select(AlertRule.enabled).where(AlertRule.id == chosen)).scalar() is False
        )
    rules = next(d.value for d in at.dataframe if "Now" in d.value.columns)
    assert rules.loc[rules["Rule"] == f"#{chosen}", "Now"].item() == "off"


# ----------------------------------------------------------------------------- iterations


def test_editor_records_a_decision_with_who_and_when(use_database, demo_url, demo_engine):
    use_database(demo_url)
    at = open_screen(
        "screens/iterations.py", "editor", initiative="Churn early-warning", iteration="6"
    )
    at.radio[0].set_value("no-go")
    at.text_area[0].input("Retention did not move after six iterations.")
    at.text_input[0].input("Steering committee")
    button(at, "Save the decision").click().run()
    assert not at.exception
    with demo_engine.connect() as conn:
        it = conn.execute(
            select(Iteration).where(Iteration.number == 6, Iteration.initiative_id == 2)
        ).one()
    assert (it.decision, it.decided_by) == ("no-go", "Steering committee")
    assert it.decided_at is not None
    assert at.metric[0].value == "No-go"
    assert "Decided by Steering committee on" in texts(at)


def test_a_form_saved_while_the_database_is_busy_says_so_and_writes_nothing(busy_sqlite):
    at = open_screen("screens/iterations.py", "editor", initiative=CHURN, iteration="6")
    at.radio[0].set_value("no-go")
    at.text_area[0].input("Retention did not move after six iterations.")
    at.text_input[0].input("Steering committee")
    before = table_checksums(busy_sqlite.engine)
    with busy_sqlite.hold():
        button(at, "Save the decision").click().run()
    assert not at.exception
    assert "The database is busy with another write. Nothing was changed; retry in a moment." in (
        texts(at)
    )
    assert table_checksums(busy_sqlite.engine) == before


def test_a_decision_without_rationale_is_refused_plainly(use_database, demo_url):
    use_database(demo_url)
    at = open_screen(
        "screens/iterations.py", "editor", initiative="Churn early-warning", iteration="6"
    )
    at.radio[0].set_value("go")
    at.text_input[0].input("Tom")
    button(at, "Save the decision").click().run()
    assert "Give the rationale: the room will want to know why." in texts(at)


def test_an_imported_iteration_gets_its_name_dates_and_hypothesis(
    use_database, demo_url, demo_engine
):
    """Imports create iterations with a number only: the timeline says it leaves them out
    until an editor gives them dates, and then shows them."""
    use_database(demo_url)
    data = b"iteration,metric,value\n7,churn_auc,0.88\n"
    ingest.import_file(
        demo_engine, EDITOR, data, "it7.csv", ingest.Options(initiative=CHURN, create=True)
    )
    at = open_screen("screens/iterations.py", "editor", initiative=CHURN, iteration="7")
    assert (
        "Iteration 7 has no dates yet, so the timeline leaves it out. Editors give an "
        "iteration its dates under “Describe this iteration” below."
    ) in texts(at)
    assert "Iteration 7" not in at.get("plotly_chart")[0].proto.spec
    next(t for t in at.text_input if t.label == "Name").input("Retrain on the winter cohort")
    next(d for d in at.date_input if d.label == "First day").set_value(date(2026, 11, 16))
    next(d for d in at.date_input if d.label == "Last day").set_value(date(2026, 11, 29))
    next(t for t in at.text_area if t.label == "Hypothesis").input("Winter churn looks different.")
    button(at, "Save the description").click().run()
    assert not at.exception
    assert "no dates yet" not in texts(at)
    assert "Iteration 7" in at.get("plotly_chart")[0].proto.spec
    with demo_engine.connect() as conn:
        it = conn.execute(
            select(Iteration).where(Iteration.number == 7, Iteration.initiative_id == 2)
        ).one()
    assert (it.label, it.start_date, it.end_date, it.hypothesis) == (
        "Retrain on the winter cohort",
        date(2026, 11, 16),
        date(2026, 11, 29),
        "Winter churn looks different.",
    )
    entry = audit.entries(demo_engine, audit.Filter(actions=("iteration.update",)))[0]
    assert entry["summary"] == (
        "Churn early-warning iteration 7: Retrain on the winter cohort, 16 Nov 2026 to 29 Nov 2026"
    )


def test_editor_chooses_the_primary_metric_and_owner_of_an_imported_initiative(
    use_database, db_url, engine
):
    """An initiative made by an import has no primary metric: its card says who can choose
    one and where, and the settings form on the Iterations screen does it."""
    use_database(db_url)
    data = b"iteration,metric,value\n1,accuracy,0.81\n2,accuracy,0.86\n"
    ingest.import_file(
        engine, EDITOR, data, "m.csv", ingest.Options(initiative="Fraud screening", create=True)
    )
    overview = open_screen("screens/overview.py")
    tile = next(m for m in overview.metric if m.label == "Primary model metric")
    assert tile.value == "—"
    assert "No primary model metric chosen yet" in tile.proto.help
    at = open_screen("screens/iterations.py", "editor", initiative="Fraud screening")
    next(s for s in at.selectbox if s.label == "Primary model metric").select("accuracy")
    next(t for t in at.text_input if t.label == "Owner").input("Risk analytics team")
    next(s for s in at.selectbox if s.label == "Stage").select("pilot")
    button(at, "Save the settings").click().run()
    assert not at.exception
    ini = evidence.for_initiative(engine, "Fraud screening").initiative
    assert (ini["primary_metric"], ini["owner"], ini["stage"]) == (
        "accuracy",
        "Risk analytics team",
        "pilot",
    )
    overview = open_screen("screens/overview.py")
    tile = next(m for m in overview.metric if m.label == "accuracy")
    assert tile.value == "86.0%"
    entry = audit.entries(engine, audit.Filter(actions=("initiative.update",)))[0]
    assert "primary_metric_key None → accuracy" in entry["summary"]
    assert "slo_p95_ms" not in entry["summary"]  # unchanged settings are not listed


@pytest.mark.parametrize(
    ("first", "last", "message"),
    [
        (date(2026, 11, 16), None, "Give both dates, the first and the last day, or neither."),
        (
            date(2026, 11, 16),
            date(2026, 11, 2),
            "The last day (2 Nov 2026) is before the first (16 Nov 2026).",
        ),
    ],
)
def test_iteration_dates_that_make_no_sense_are_refused(demo_engine, first, last, message):
    before = table_checksums(demo_engine)
    with pytest.raises(errors.InvalidValue, match=re.escape(message)):
        evidence_writes.describe_iteration(
            demo_engine,
            EDITOR,
            CHURN,
            6,
            label="x",
            start_date=first,
            end_date=last,
            hypothesis=None,
        )
    assert table_checksums(demo_engine) == before


def test_editor_adds_edits_and_removes_a_criterion(use_database, demo_url, demo_engine):
    use_database(demo_url)
    at = open_screen(
        "screens/iterations.py", "editor", initiative="Contract clause extractor", iteration="5"
    )
    form_selects = [s for s in at.selectbox if s.label == "Metric (none: judged by hand)"]
    form_selects[0].select("clause_f1")
    # The comparison in words, as the criteria table writes it ("at least 0.800"), not ">=".
    comparison = next(s for s in at.selectbox if s.label == "Met when the value is")
    assert comparison.options == ["at least", "above", "at most", "below", "exactly"]
    next(t for t in at.text_input if t.label == "Description").input(
        "F1 at least 0.85 on scanned contracts"
    )
    next(n for n in at.number_input if n.label.startswith("Target")).set_value(0.85)
    button(at, "Add criterion").click().run()
    assert not at.exception
    criteria = at.dataframe[0].value
    assert list(criteria["Criterion"])[-1] == "F1 at least 0.85 on scanned contracts"
    assert list(criteria["Status"])[-1] == "Not met"  # F1 is 82.6%
    with demo_engine.connect() as conn:
        new_id = conn.execute(select(Criterion.id).order_by(Criterion.id.desc())).scalar()
    next(s for s in at.selectbox if s.label == "Criterion").select(new_id).run()
    next(n for n in at.number_input if n.label.startswith("Target")).set_value(0.8)
    button(at, "Save criterion").click().run()
    assert list(at.dataframe[0].value["Status"])[-1] == "Met"
    next(s for s in at.selectbox if s.label == "Criterion").select(new_id).run()
    button(at, "Remove criterion").click().run()
    assert "F1 at least 0.85 on scanned contracts" not in list(at.dataframe[0].value["Criterion"])


def test_overview_shows_firing_alerts_per_initiative(use_database, demo_url, demo_engine):
    use_database(demo_url)
    at = AppTest.from_file(APP, default_timeout=60).run()
    shown = [m.value for m in at.metric if m.label == "Alerts firing"]
    expected = [
        len(summary.summary(demo_engine, n)["alerts"]["firing"])
        for n in ("Churn early-warning", "Claims triage assistant", "Contract clause extractor")
    ]
    assert [int(v) for v in shown] == expected


@pytest.mark.parametrize(
    "page", ["screens/model_business.py", "screens/scalability.py", "screens/monitoring.py"]
)
def test_screens_have_a_headline_sentence(use_database, demo_url, page):
    use_database(demo_url)
    at = open_screen(page, initiative="Claims triage assistant")
    assert at.markdown[0].value.startswith("**") and len(at.markdown[0].value) > 40


def test_the_headroom_gauge_writes_the_headroom_as_everywhere_and_keeps_its_scale(demo_engine):
    # Regression: the gauge said 15.1% where every other place said 15%, and its side margins
    # cut the scale's "100" to "10".
    from liftoff import charts
    from liftoff.evidence import portfolio
    from liftoff.formatting import format_percent

    ev = evidence.for_initiative(demo_engine, "Claims triage assistant")
    fig = charts.headroom_gauge(ev, portfolio.HEADROOM_WARNING)
    shown = f"{fig.data[0].value:{fig.data[0].number.valueformat}}{fig.data[0].number.suffix}"
    assert shown == format_percent(ev.headroom)
    assert fig.layout.margin.l >= 40 and fig.layout.margin.r >= 40
    # The arc runs from 0 to 100% (from -20, 15% filled a third of it), and the warning
    # threshold is labelled on the scale.
    gauge = fig.data[0].gauge
    assert tuple(gauge.axis.range) == (0, 100)
    assert {0, round(portfolio.HEADROOM_WARNING * 100), 100} <= set(gauge.axis.tickvals)


def test_load_curves_give_each_iteration_its_own_hue(demo_engine):
    # Regression: six iterations were drawn in six shades of navy, hard to tell apart.
    from liftoff import charts
    from liftoff.evidence import reads as evidence_reads

    ev = evidence.for_initiative(demo_engine, "Claims triage assistant")
    fig = charts.load_curves(ev, evidence_reads.load_steps(demo_engine, (ev.initiative["id"],)))
    colours = {t.name: t.line.color for t in fig.data if t.showlegend is not False}
    assert len(colours) >= 6
    assert len(set(colours.values())) == len(colours)
    hues = set()
    for c in colours.values():
        r, g, b = (int(c[i : i + 2], 16) / 255 for i in (1, 3, 5))
        import colorsys

        hues.add(round(colorsys.rgb_to_hls(r, g, b)[0] * 6))  # six hue sectors
    assert len(hues) >= 4, colours
    # Hovering a point says what it is in words and units, not "(60, 86.10061)".
    hovers = {t.hovertemplate for t in fig.data}
    assert {h.split("<extra>")[0] for h in hovers} == {
        "%{x:,} users: %{y:,.1f} req/s",
        "%{x:,.1f} req/s: 95 in 100 within %{y:,.0f} ms",
        "%{x:,} users: %{y:.2f}% failed",
    }
    assert all(h.endswith(f"<extra>{t.name}</extra>") for t in fig.data for h in [t.hovertemplate])


def test_headline_metrics_show_the_metric_pinned_and_the_newest_iteration_first(
    use_database, demo_url
):
    """However many iterations, an executive sees each metric's name, its latest change and the
    newest iterations without scrolling sideways: the name pinned, the newest first."""
    import json

    use_database(demo_url)
    at = open_screen("screens/iterations.py", initiative="Claims triage assistant")
    assert not at.exception
    table = next(d for d in at.dataframe if "Latest change" in d.value.columns)
    order = list(table.proto.column_order)
    assert order[:5] == ["Metric", "Category", "Latest change", "Iteration 8", "Iteration 7"], order
    assert order[-1] == "Iteration 1", order
    config = json.loads(table.proto.columns)
    assert config["Metric"]["pinned"] is True
