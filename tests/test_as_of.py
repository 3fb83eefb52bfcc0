"""Evidence as of the iteration being decided: once iteration 7 is imported, the pack of
iteration 6 (the one on the table), its snapshot and its HTML and CSV exports still show
iteration 6's evidence alone; and every figure has one value and one way of writing it."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import date, timedelta

import pytest

from conftest import EDITOR
from liftoff import formatting, ingest
from liftoff.evidence import initiative as evidence
from liftoff.evidence import portfolio, views
from liftoff.evidence import rules as evidence_rules
from liftoff.evidence import writes as evidence_writes
from liftoff.meeting import export as meeting_export
from liftoff.meeting import pack as steering_pack
from liftoff.meeting import reads as meeting_reads
from liftoff.meeting import writes as meeting_writes
from liftoff.people import writes as people_writes

NAME = "Fraud scoring"
FIRST_DAY = date(2026, 6, 1)
SPRINT = 14


def _days(k: int) -> tuple[date, date]:
    start = FIRST_DAY + timedelta(days=SPRINT * (k - 1))
    return start, start + timedelta(days=SPRINT - 1)


def _import(engine, text: str, file_name: str) -> None:
    # Raises ImportRejected with the file's problems if it is refused.
    ingest.import_file(
        engine,
        EDITOR,
        text.encode(),
        file_name,
        ingest.Options(initiative=NAME, create=True, force=True),
    )


def _iteration(engine, k: int, auc: float, retention: float, comment: str) -> None:
    """Import one iteration's evidence as a PM would: metrics, feedback, traffic, a load test."""
    start, end = _days(k)
    _import(
        engine,
        f"iteration,metric,value\n{k},churn_auc,{auc}\n{k},retention_rate_90d,{retention}\n",
        f"metrics-{k}.csv",
    )
    _import(
        engine,
        "iteration,date,comment,rating\n"
        + "".join(
            f'{k},{start + timedelta(days=d)},"{comment} ({d})",{3 + (d + k) % 3}\n'
            for d in range(3)
        ),
        f"feedback-{k}.csv",
    )
    _import(
        engine,
        "date,peak_rps\n"
        + "".join(f"{start + timedelta(days=d)},{20 + 2 * k + d / 7:.2f}\n" for d in (0, 7)),
        f"traffic-{k}.csv",
    )
    _import(
        engine,
        "iteration,users,rps,p50_ms,p95_ms,p99_ms,error_rate\n"
        f"{k},10,{40 + k},40,90,120,0\n{k},50,{60 + 4 * k},80,210,300,0.2%\n",
        f"loadtest-{k}.csv",
    )
    evidence_writes.describe_iteration(
        engine,
        EDITOR,
        NAME,
        k,
        label=f"Sprint {k}",
        start_date=start,
        end_date=end,
        hypothesis=None,
    )


@pytest.fixture
def six_iterations(demo_engine):
    """An initiative with six iterations of evidence (the demo's metric catalogue: churn_auc
    is a model metric, 90-day retention a business KPI) and a criterion on iteration 6."""
    evidence_writes.set_initiative(
        demo_engine, EDITOR, NAME, create=True, stage="pilot", primary_metric="churn_auc"
    )
    for k in range(1, 7):
        _iteration(demo_engine, k, 0.70 + 0.02 * k, 0.86 + 0.002 * k, f"sprint {k} comment")
    evidence_writes.add_criterion(
        demo_engine,
        EDITOR,
        NAME,
        6,
        kind="innovation",
        description="AUC at least 0.80",
        metric="churn_auc",
        comparator=">=",
        target=0.80,
    )
    return demo_engine


def _import_seven(engine) -> None:
    # Iteration 7's first figures arrive while iteration 6 is still on the table: a worse
    # AUC, a higher retention, its own comments and a traffic spike.
    _iteration(engine, 7, 0.65, 0.95, "SEVENTH sprint remark")


def _words(pack: dict) -> str:
    parts = []
    for s in pack["slides"]:
        parts += [s["sentence"], s["missing"] or "", s["chart"] or ""]
        if s["table"]:
            parts += [str(c) for c in s["table"]["columns"]]
            parts += [str(v) for row in s["table"]["rows"] for v in row]
    if pack["metrics"]:
        parts += [str(c) for c in pack["metrics"]["columns"]]
    return "\n".join(parts)


def _leaks_seven(text: str) -> list[str]:
    return [
        w
        for w in ("over 7 iterations", "Iteration 7", "iteration 7", "iteration_7", "SEVENTH")
        if w in text
    ]


def test_the_pack_of_iteration_6_is_unchanged_when_iteration_7_is_imported(six_iterations):
    engine = six_iterations
    before = steering_pack.build(engine, NAME, 6)
    assert "over 6 iterations" in _words(before)
    _import_seven(engine)
    after = steering_pack.build(engine, NAME, 6)
    # Regression: the pack of 6 said "over 7 iterations", charted iteration 7, quoted its
    # feedback and carried iteration_7 in its metrics.
    assert _leaks_seven(_words(after)) == []
    for key, slide in meeting_export.values_of(before).items():
        assert meeting_export.values_of(after)[key] == slide, key
    assert after["metrics"] == before["metrics"]
    assert after["later_iterations"] == [7]
    # The latest iteration's pack has it all.
    latest = steering_pack.build(engine, NAME, 7)
    assert "over 7 iterations" in _words(latest)


def _concerns_slide(pack: dict) -> dict:
    return next(s for s in pack["slides"] if s["key"] == "concerns")


def test_the_pack_of_iteration_6_lists_the_concerns_open_at_its_end(six_iterations):
    # Regression: a past iteration's pack listed the concerns open today: one raised during
    # iteration 7 appeared, and one resolved since iteration 6 vanished from it.
    engine = six_iterations
    drift = dict(title="Drift on weekends", failure_category="operations", severity="high")
    early = people_writes.add_concern(engine, EDITOR, NAME, raised_at=_days(3)[0], **drift)
    _import_seven(engine)
    people_writes.add_concern(
        engine,
        EDITOR,
        NAME,
        title="SEVENTH sprint worry",
        failure_category="misalignment",
        severity="critical",
        raised_at=_days(7)[0],
    )
    people_writes.update_concern(
        engine, EDITOR, early, status="resolved", note="retrained", resolution="retrained", **drift
    )
    six = _concerns_slide(steering_pack.build(engine, NAME, 6))
    rows = six["table"]["rows"]
    assert [r[0] for r in rows] == ["Drift on weekends"]
    assert rows[0][2] == "Open"  # its status then, not today's "Resolved"
    assert rows[0][4] == (_days(6)[1] - _days(3)[0]).days  # aged at iteration 6's end
    assert six["sentence"].startswith("1 open concern.")
    # The latest iteration's pack lists what is open now.
    seven = _concerns_slide(steering_pack.build(engine, NAME, 7))
    assert [r[0] for r in seven["table"]["rows"]] == ["SEVENTH sprint worry"]


def test_snapshot_html_and_csv_of_iteration_6_leave_iteration_7_out(six_iterations):
    engine = six_iterations
    _import_seven(engine)
    snap_id = meeting_writes.freeze(engine, EDITOR, NAME, 6, note="before the meeting")
    snap = meeting_reads.snapshot(engine, snap_id)
    assert _leaks_seven(_words(snap)) == []
    page = meeting_export.to_html(snap)
    # The HTML page inlines plotly.js; the pack's own words come after it.
    body = page[page.index("</head>") :]
    assert _leaks_seven(body) == []
    assert "over 6 iterations" in body
    with zipfile.ZipFile(io.BytesIO(meeting_export.to_csv_zip(snap))) as z:
        for name in z.namelist():
            text = z.read(name).decode("utf-8-sig")
            assert _leaks_seven(text) == [], name
        metrics = list(csv.reader(io.StringIO(z.read("metrics-across-iterations.csv").decode())))
    assert metrics[0][-1] == "iteration_6"


def test_traffic_and_runway_of_iteration_6_end_on_its_last_day(six_iterations):
    engine = six_iterations
    _import_seven(engine)
    ev = evidence.for_initiative(engine, NAME)
    six = ev.as_of(6)
    last_day = _days(6)[1]
    assert six.through_day == last_day
    assert six.traffic[-1][0] <= last_day < ev.traffic[-1][0]
    # Capacity comes from iteration 6's load test, not from iteration 7's.
    assert six.capacity_iteration == 6 and ev.capacity_iteration == 7
    assert six.capacity_rps == 60 + 4 * 6
    assert six.runway.last_day == six.traffic[-1][0]
    assert [it.number for it in six.iterations] == [1, 2, 3, 4, 5, 6]
    # The latest iteration is its own as-of evidence.
    assert ev.as_of(7) is ev


def test_the_feedback_of_iteration_6_as_of_6_leaves_7_out(six_iterations):
    from liftoff.people import views as people_views

    engine = six_iterations
    _import_seven(engine)
    ev = evidence.for_initiative(engine, NAME)
    full = people_views.feedback_view(engine, ev)
    six = people_views.feedback_view(engine, ev.as_of(6))
    assert full.totals["count"] == 21 and six.totals["count"] == 18
    assert "iteration 7" in full.headline
    assert "iteration 7" not in six.headline and "iteration 6" in six.headline
    assert [r["iteration"] for r in six.rows] == [1, 2, 3, 4, 5, 6]


# ----------------------------------------------------------------------------- one runway


def test_the_runway_headline_and_the_what_if_at_the_fitted_growth_give_one_date(demo_engine):
    # Regression: the headline said "16 December (17 days)" above a what-if at the fitted
    # growth saying "20 Dec 2026 (21 days)": one started from the last observed peak, the
    # other from the fitted trend, and the slider rounded the growth.
    for ev in evidence.portfolio(demo_engine):
        if ev.runway.crossing is None or ev.runway.days == 0:
            continue
        growth = views.what_if_growth(ev, round(views.fitted_weekly_growth(ev) * 100, 1))
        _, text = views.what_if_series(ev, growth)
        # One way of saying how long: the headline said "about 35 weeks", the what-if "247 days".
        days = f"({formatting.time_left(ev.runway.days)})"
        assert days in text, (ev.initiative["name"], text, ev.runway)
        assert days in portfolio.runway_sentence(ev), ev.initiative["name"]
        assert portfolio.runway_sentence(ev).split("around ")[1].split(" (")[0] in text


def test_the_runway_counts_its_days_from_the_day_it_is_read(demo_engine):
    # Regression: on 1 Dec the headline said "16 Dec (17 days)": the days were counted from
    # the last traffic point (29 Nov), not from the day the reader stands on.
    checked = 0
    for ev in evidence.portfolio(demo_engine):
        rw = ev.runway
        if rw.crossing is None or rw.already_over:
            continue
        assert rw.days == max(0, (rw.crossing - date.today()).days), ev.initiative["name"]
        sentence = portfolio.runway_sentence(ev)
        if 1 < rw.days < 21:
            assert f"({rw.days} days)" in sentence
        past = ev.as_of(ev.latest.number - 1)
        if past.runway.crossing is not None and not past.runway.already_over:
            assert past.runway.days == max(0, (past.runway.crossing - date.today()).days)
        checked += 1
    assert checked >= 1


def test_a_runway_day_count_from_a_given_day():
    points = [(date(2026, 11, 1) + timedelta(days=7 * i), 100.0 + 10 * i) for i in range(5)]
    fixed = evidence_rules.runway(points, 200.0, date(2026, 12, 1))
    from_last = evidence_rules.runway(points, 200.0)
    assert fixed.crossing == from_last.crossing
    assert from_last.days == (from_last.crossing - date(2026, 11, 29)).days
    assert fixed.days == (fixed.crossing - date(2026, 12, 1)).days


def test_a_runway_date_carries_its_year_this_year_too(use_database, demo_url, demo_engine):
    # One date format across screens (helper-25 read "9 Dec" on one screen beside
    # "4 Aug 2026" on the next): the runway's day is written as every other day.
    from liftoff.formatting import format_date

    card = _overview_card(demo_engine, "Claims triage assistant")  # runs out in 16 days
    crossing = card.runway_text.split("runs out around ")[1].split(" (")[0]
    assert re.fullmatch(r"\d{1,2} [A-Z][a-z]{2} \d{4}", crossing), card.runway_text
    assert format_date(date(2026, 12, 16)) == "16 Dec 2026"


# ----------------------------------------------------------------------------- criteria carry forward


def _overview_card(engine, name):
    return next(c for c in portfolio.overview(engine) if c.name == name)


@pytest.mark.parametrize("path", ["library", "cli"])
def test_a_new_iteration_starts_with_the_previous_criteria_carried_over(
    path, db_url, engine, tmp_path, monkeypatch
):
    from liftoff import cli

    evidence_writes.set_initiative(engine, EDITOR, "Carry", create=True, primary_metric="accuracy")
    ingest.import_file(
        engine,
        EDITOR,
        b"iteration,metric,value\n1,accuracy,0.70\n",
        "one.csv",
        ingest.Options(initiative="Carry", create=True),
    )
    evidence_writes.add_criterion(
        engine,
        EDITOR,
        "Carry",
        1,
        kind="innovation",
        description="Accuracy at least 80%",
        metric="accuracy",
        target=0.80,
    )
    # Iteration 2 arrives by import (the Upload page and `liftoff import` share the loader).
    two = b"iteration,metric,value\n2,accuracy,0.75\n"
    if path == "cli":
        (tmp_path / "two.csv").write_bytes(two)
        monkeypatch.setenv("LIFTOFF_DATABASE_URL", db_url)
        code = cli.main(
            ["import", str(tmp_path / "two.csv"), "--initiative", "Carry", "--create", "--json"]
        )
        assert code == 0
    else:
        ingest.import_file(
            engine, EDITOR, two, "two.csv", ingest.Options(initiative="Carry", create=True)
        )
    ev = evidence.for_initiative(engine, "Carry")
    (criterion,) = ev.latest.criteria
    assert criterion["carried_over"] and criterion["status"] == "not_met"
    # Regression: the overview showed "Criteria met —" and nothing under Needs attention.
    card = _overview_card(engine, "Carry")
    assert card.criteria == "0 of 1"
    assert "1 criterion not met" in card.attention
    view = views.iteration_view(ev, 2)
    assert "carried over from iteration 1" in view.headline
    assert view.criteria.frame["Kind"].tolist() == ["Innovation goal · carried over"]
    # An edit confirms it for iteration 2.
    evidence_writes.update_criterion(
        engine,
        EDITOR,
        criterion["id"],
        kind="innovation",
        description="Accuracy at least 75%",
        metric="accuracy",
        target=0.75,
    )
    (criterion,) = evidence.for_initiative(engine, "Carry").latest.criteria
    assert not criterion["carried_over"] and criterion["status"] == "met"
    # Iteration 1 keeps its own criterion.
    assert evidence.for_initiative(engine, "Carry").iteration(1).criteria[0]["target"] == 0.80


# ----------------------------------------------------------------------------- the overview


def test_each_overview_card_names_its_iteration_and_the_last_decision(use_database, demo_url):
    from streamlit.testing.v1 import AppTest

    from conftest import PROJECT_ROOT, texts

    use_database(demo_url)
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=60).run()
    assert not at.exception
    shown = texts(at)
    # Regression: a card showed iteration 8's figures without saying so, and "Decision:
    # Pending" without the go taken on iteration 7.
    assert "Figures of Iteration 8 · Peak-season readiness" in shown
    assert "Last decision: go on iteration 7, 7 Nov 2026." in shown
    assert "Figures of Iteration 6 · Targeted offers" in shown


# ----------------------------------------------------------------------------- screens as of an iteration


def _open(page: str, **params):
    from conftest import open_screen

    return open_screen(page, **params)


def test_feedback_screen_counts_and_ratings_agree_with_its_sentence(use_database, demo_url):
    import re

    use_database(demo_url)
    at = _open("feedback", initiative="Claims triage assistant")
    assert not at.exception
    sentence = at.markdown[0].value.replace("\\", "")
    waiting = re.search(r"([\d,]+) waiting for triage", sentence).group(1)
    cards = {m.label: m.value for m in at.metric}
    # Regression: "7 waiting" in the sentence above a card that said 4.
    # And the card says it counts every iteration so far, not only the chosen one beside it.
    label = next(k for k in cards if k.startswith("Waiting for triage"))
    assert label == "Waiting for triage, up to iteration 8" and cards[label] == waiting
    # One precision for ratings: the sentence's "4.1 of 5" is the card's.
    assert re.fullmatch(r"\d\.\d of 5", cards["Mean rating"])
    for rating in re.findall(r"mean rating (\S+) of 5", sentence):
        assert re.fullmatch(r"\d\.\d", rating)


def test_feedback_and_model_screens_as_of_an_earlier_iteration(use_database, demo_url):
    use_database(demo_url)
    at = _open("feedback", initiative="Claims triage assistant", iteration="6")
    assert not at.exception
    sentence = at.markdown[0].value.replace("\\", "")
    assert "iteration 6:" in sentence and "iteration 8" not in sentence
    at = _open("model_business", initiative="Claims triage assistant", iteration="6")
    assert not at.exception
    said = " ".join(m.value for m in at.markdown).replace("\\", "")
    assert "over 6 iterations" in said and "over 8 iterations" not in said
    captions = " ".join(c.value for c in at.caption)
    # "7 and 8", and "choose one" of them (it read "7 to 8 … choose it").
    assert (
        "Iterations 7 and 8 come later and are left out: choose one under Iteration to see it."
    ) in captions.replace("\\", ""), captions
    chart = next(c for c in at.get("plotly_chart"))
    assert "Iteration 8" not in chart.proto.spec and "Iteration 6" in chart.proto.spec


# ----------------------------------------------------------------------------- one display per metric


def test_a_score_is_a_decimal_and_a_rate_a_percentage_everywhere(demo_engine):
    ev = evidence.for_initiative(demo_engine, "Churn early-warning")
    table = views.iteration_view(ev, ev.latest.number).criteria.frame.set_index("Criterion")
    # Regression: "at least 0.80" (the words) sat next to "at least 80.0%" and "84.2%".
    auc = table.loc["Churn model AUC at least 0.80"]
    assert (auc["Target"], auc["Value"], auc["Change from previous iteration"]) == (
        "at least 0.800",
        "0.842",
        "+0.013, better",  # whether the change is good news, by the metric's direction
    )
    retention = table.loc["90-day retention at least 89%"]
    assert (retention["Target"], retention["Value"]) == ("at least 89.0%", "87.4%")
    card = _overview_card(demo_engine, "Churn early-warning")
    assert (card.model.value, card.model.delta) == ("0.842", "+0.013")
    assert card.kpi.value == "87.4%"
    pack = steering_pack.build(demo_engine, "Churn early-warning")
    slide = next(s for s in pack["slides"] if s["key"] == "criteria")
    assert ["at least 0.800", "0.842"] == [
        slide["table"]["rows"][0][slide["table"]["columns"].index(c)] for c in ("Target", "Value")
    ]
    sentence = next(s for s in pack["slides"] if s["key"] == "model_vs_kpi")["sentence"]
    assert sentence.startswith("Churn model AUC moved +0.154 and 90-day customer retention +")


def test_the_model_versus_kpi_chart_shows_units_and_its_targets(demo_engine):
    from liftoff import charts

    ev = evidence.for_initiative(demo_engine, "Churn early-warning")
    fig = charts.model_and_kpi(ev, "churn_auc", "retention_rate_90d")
    layout = fig.layout
    # Regression: the 89% target line fell off the chart and the axis read 87.052, 87.2, 87.349.
    # Two panels, the model metric above the KPI: on one plot with two value axes, the AUC
    # line landed on the retention target line.
    assert [a.text for a in layout.annotations] == [
        "Churn model AUC · dotted line: target 0.800",
        "90-day customer retention (%) · dotted line: target 89.0%",
    ]
    assert layout.yaxis2.ticksuffix == "%" and layout.yaxis2.tickformat == ".1f"
    assert layout.yaxis2.overlaying is None and layout.yaxis2.domain[1] < layout.yaxis.domain[0]
    lo, hi = layout.yaxis2.range
    assert lo < 89.0 < hi
    lo, hi = layout.yaxis.range
    assert lo < 0.80 < hi
    # The targets are named in the panel titles: labels on the plot were printed over the lines
    # they cross, and a legend ran into the panel titles on a slide. Each target is drawn in
    # its own panel.
    assert sorted((s.yref, s.y0) for s in layout.shapes) == [("y", 0.8), ("y2", 89.0)]
    assert layout.showlegend is False
    # The chart draws the iterations the sentence compares.
    n = int(
        views.model_business_sentence(ev, "churn_auc", "retention_rate_90d")[0]
        .split("over ")[1]
        .split()[0]
    )
    assert len(fig.data[0].x) == n


def test_the_scatter_and_segment_charts_keep_labels_apart_and_colours_as_the_line_chart(
    demo_engine,
):
    from liftoff import charts
    from liftoff.evidence import reads as evidence_reads

    ev = evidence.for_initiative(demo_engine, "Claims triage assistant")
    model, kpi = "triage_accuracy", "handling_time_min"
    scatter = charts.model_kpi_scatter(ev, model, kpi)
    points = scatter.data[0]
    where = dict(zip(points.text, points.textposition, strict=True))
    # Iterations 7 and 8 sit almost on one spot: their labels printed as "#7#8".
    assert where["#7"] != where["#8"]
    # The long KPI name is on two lines, so it does not run up into the chart's title.
    assert scatter.layout.yaxis.title.text == "Average claim handling time (min)<br>lower is better"

    rows = evidence_reads.segment_values(demo_engine, ev.iteration(8).id, (model, kpi))
    bars = charts.segments(rows, ev.catalog, (model, kpi))
    line = charts.model_and_kpi(ev, model, kpi)
    # The model metric first and in the line chart's colour; the KPI second in its own.
    assert [a.text for a in bars.layout.annotations] == [
        "Triage accuracy (%)",
        "Average claim handling time (min) · lower is better",
    ]
    assert [a.text.split(" · dotted")[0] for a in line.layout.annotations] == [
        a.text for a in bars.layout.annotations
    ]
    assert [b.marker.color for b in bars.data] == [line.data[0].line.color, line.data[1].line.color]
    # Each bar's label carries its unit, as the tables write it.
    assert all(t.endswith("%") for t in bars.data[0].text)
    assert all(t.endswith(" min") for t in bars.data[1].text)


def test_exports_write_numbers_as_numbers_at_their_real_precision(demo_engine, tmp_path):
    evidence_writes.set_initiative(demo_engine, EDITOR, "Precise", create=True)
    # 23.4% is stored as 23.4 / 100 = 0.23399999999999999.
    ingest.import_file(
        demo_engine,
        EDITOR,
        b"iteration,metric,value\n1,error_rate,23.4%\n2,error_rate,22.1%\n",
        "p.csv",
        ingest.Options(initiative="Precise", create=True),
    )
    evidence_writes.add_criterion(
        demo_engine,
        EDITOR,
        "Precise",
        2,
        kind="production",
        description="Error rate at most 25%",
        metric="error_rate",
        comparator="<=",
        target=0.25,
    )
    pack = steering_pack.build(demo_engine, "Precise", 2)
    with zipfile.ZipFile(io.BytesIO(meeting_export.to_csv_zip(pack))) as z:
        metrics = z.read("metrics-across-iterations.csv").decode("utf-8-sig")
        criteria = list(csv.DictReader(io.StringIO(z.read("02-criteria.csv").decode("utf-8-sig"))))
    assert "0.234" in metrics and "0.23399999999999999" not in metrics
    (row,) = criteria
    # Regression: "'+1.3 pts" (a word, quoted against formulas) stood in a number column.
    assert (row["Value"], row["Target"], row["Change from previous iteration"]) == (
        "0.221",
        "0.25",
        "-0.013",
    )
    assert row["Unit"] == "ratio" and row["Import batch"].isdigit()


def test_the_readiness_score_has_one_denominator_on_the_governance_screen(use_database, demo_url):
    from liftoff.readiness import views as readiness_views

    use_database(demo_url)
    at = _open("governance", initiative="Churn early-warning")
    assert not at.exception
    card = next(m.value for m in at.metric if m.label == "Readiness score")
    out_of = f"of {min(readiness_views.rubric_maxima().values())} points"
    assert card.endswith(out_of)
    # Regression: the card gave the score out of its maximum, the sentence gave it bare.
    said = " ".join(m.value for m in at.markdown).replace("\\", "")
    assert f"Readiness score {card.split()[0]} {out_of} (" in said  # "1.5 of 7 points"


def test_the_timeline_of_iteration_6_sets_iteration_7_apart(six_iterations):
    # Regression: the timeline on Iterations and decision showed every iteration alike, so
    # with iteration 6 chosen iteration 7 looked like part of its evidence.
    from liftoff import charts

    engine = six_iterations
    _import_seven(engine)
    fig = charts.iteration_timeline(evidence.for_initiative(engine, NAME), 6)
    bars = {
        y: (opacity, width)
        for trace in fig.data
        for y, opacity, width in zip(
            trace.y, trace.marker.opacity, trace.marker.line.width, strict=True
        )
    }
    assert bars["Iteration 7 (later)"][0] < 1
    assert bars["Iteration 6"] == (1.0, 3)
    assert "Iteration 7" not in bars
