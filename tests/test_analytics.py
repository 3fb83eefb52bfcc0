"""The rules that keep the numbers honest, against hand-computed values."""

from datetime import date, datetime, timedelta

import pytest

from liftoff.evidence import rules as evidence_rules
from liftoff.evidence.rules import LatestValue, LoadStep

DIRECTIONS = {"accuracy": "higher", "latency": "lower", "conversion": "higher"}


def lv(metric, value, candidate=None, at=None, batch=1, obs=1):
    return LatestValue(metric, candidate, value, at, batch, obs)


def test_headline_takes_one_candidate_best_on_primary_metric_for_every_metric():
    rows = [
        lv("accuracy", 0.81, "run-a", obs=1),
        lv("latency", 120, "run-a", obs=2),
        lv("accuracy", 0.86, "run-b", obs=3),
        lv("latency", 340, "run-b", obs=4),
        lv("conversion", 0.031, None, obs=5),  # iteration-wide KPI, no candidate
    ]
    head = evidence_rules.headline(rows, "accuracy", DIRECTIONS)
    # run-b is best on accuracy, so its latency (340) is the headline, not run-a's better 120.
    assert head.candidate == "run-b"
    assert head.values == {"accuracy": 0.86, "latency": 340, "conversion": 0.031}


def test_headline_lower_is_better_primary_metric_picks_the_smallest():
    rows = [
        lv("latency", 300, "a"),
        lv("latency", 250, "b"),
        lv("accuracy", 0.7, "a"),
        lv("accuracy", 0.6, "b"),
    ]
    head = evidence_rules.headline(rows, "latency", DIRECTIONS)
    assert head.candidate == "b"
    assert head.values["accuracy"] == 0.6


def test_headline_prefers_the_later_recording_then_the_later_import():
    t1, t2 = datetime(2026, 3, 1, 9), datetime(2026, 3, 2, 9)
    rows = [
        lv("accuracy", 0.80, at=t2, batch=1, obs=1),
        lv("accuracy", 0.90, at=t1, batch=2, obs=2),  # imported later but recorded earlier
        lv("latency", 200, at=None, batch=1, obs=3),
        lv("latency", 180, at=None, batch=2, obs=4),  # same (no) time: later import wins
        lv("conversion", 0.02, at=None, batch=3, obs=5),
        lv("conversion", 0.03, at=t1, batch=1, obs=6),  # a timed value beats an untimed one
    ]
    head = evidence_rules.headline(rows, None, DIRECTIONS)
    assert head.candidate is None
    assert head.values == {"accuracy": 0.80, "latency": 180, "conversion": 0.03}
    assert head.batches == {"accuracy": 1, "latency": 2, "conversion": 1}


def test_candidate_own_value_beats_iteration_wide_value_of_same_metric():
    rows = [
        lv("latency", 500, None, obs=1),
        lv("latency", 210, "run-a", obs=2),
        lv("accuracy", 0.9, "run-a", obs=3),
    ]
    assert evidence_rules.headline(rows, "accuracy", DIRECTIONS).values["latency"] == 210


def test_candidate_without_primary_metric_falls_back_to_latest_candidate():
    rows = [
        lv("latency", 100, "old", at=datetime(2026, 1, 1)),
        lv("latency", 140, "new", at=datetime(2026, 1, 5)),
    ]
    assert evidence_rules.choose_candidate(rows, "accuracy", DIRECTIONS) == "new"


def test_candidate_ties_go_to_the_first_name():
    rows = [lv("accuracy", 0.9, "zeta"), lv("accuracy", 0.9, "alpha")]
    assert evidence_rules.choose_candidate(rows, "accuracy", DIRECTIONS) == "alpha"


@pytest.mark.parametrize(
    ("value", "comparator", "target", "expected"),
    [
        (0.88, ">=", 0.88, "met"),
        (0.879, ">=", 0.88, "not_met"),
        (0.88, ">", 0.88, "not_met"),
        (700, "<=", 800, "met"),
        (800, "<", 800, "not_met"),
        (0.1 + 0.2, "==", 0.3, "met"),
        (None, ">=", 0.5, "no_evidence"),
    ],
)
def test_criterion_status_from_headline_value(value, comparator, target, expected):
    assert evidence_rules.criterion_status(value, comparator, target) == expected


def test_qualitative_criterion_uses_the_status_set_by_hand():
    assert evidence_rules.criterion_status(None, ">=", None, "met", has_metric=False) == "met"
    assert (
        evidence_rules.criterion_status(None, ">=", None, "not_met", has_metric=False) == "not_met"
    )
    assert (
        evidence_rules.criterion_status(None, ">=", None, None, has_metric=False) == "no_evidence"
    )


KNEE = [
    LoadStep(10, 20.0, 110, 0.0),
    LoadStep(20, 40.0, 130, 0.0),
    LoadStep(40, 78.0, 190, 0.0),
    LoadStep(60, 95.0, 420, 0.001),  # the knee: last step within a 500 ms SLO
    LoadStep(80, 99.0, 900, 0.002),  # latency breaks the SLO
    LoadStep(100, 101.0, 1600, 0.03),
]


def test_capacity_is_highest_throughput_within_slo_and_error_budget():
    cap = evidence_rules.capacity(KNEE, slo_p95_ms=500, max_error_rate=0.01)
    assert cap.capacity_rps == 95.0
    assert cap.best_step.users == 60
    assert cap.limiting_step.users == 80
    assert cap.limited_by == "latency"


def test_capacity_limited_by_errors():
    cap = evidence_rules.capacity(KNEE, slo_p95_ms=5000, max_error_rate=0.01)
    assert cap.capacity_rps == 99.0
    assert (cap.limiting_step.users, cap.limited_by) == (100, "errors")


def test_capacity_without_any_step_inside_the_slo():
    cap = evidence_rules.capacity(KNEE, slo_p95_ms=50, max_error_rate=0.01)
    assert cap.capacity_rps is None
    assert cap.limiting_step.users == 10


def test_headroom():
    assert evidence_rules.headroom(75, 100) == pytest.approx(0.25)
    assert evidence_rules.headroom(120, 100) == pytest.approx(-0.2)
    assert evidence_rules.headroom(None, 100) is None
    assert evidence_rules.headroom(50, None) is None


def test_runway_linear_growth():
    start = date(2026, 1, 1)
    # 10 rps/week from 40: day 0 → 40, day 42 → 100. Capacity 150 is reached at day 77.
    points = [(start + timedelta(days=7 * w), 40 + 10 * w) for w in range(7)]
    rw = evidence_rules.runway(points, 150)
    assert rw.fit.model == "linear"
    assert rw.fit.r_squared == pytest.approx(1.0)
    assert rw.crossing == start + timedelta(days=77)
    assert rw.days == 35


def test_runway_exponential_growth():
    start = date(2026, 1, 1)
    # Doubling every 14 days from 10 rps: 10 * 2**(d/14). 160 rps is reached at day 56.
    points = [(start + timedelta(days=7 * w), 10 * 2 ** (w / 2)) for w in range(6)]
    rw = evidence_rules.runway(points, 160)
    assert rw.fit.model == "exponential"
    assert rw.fit.weekly_growth() == pytest.approx(2**0.5 - 1)
    assert rw.crossing == start + timedelta(days=56)
    assert rw.days == 21


def test_runway_flat_or_over_capacity():
    start = date(2026, 1, 1)
    flat = [(start + timedelta(days=d), 50.0 - d * 0.1) for d in range(5)]
    assert evidence_rules.runway(flat, 100).crossing is None
    over = [(start + timedelta(days=d), 100.0 + d) for d in range(5)]
    assert evidence_rules.runway(over, 90).already_over
    assert evidence_rules.runway(over[:2], 200).fit is None  # too few points to fit


# ----------------------------------------------------------------------------- correlation


def test_pearson_and_spearman_match_pandas():
    import pandas as pd

    xs = [0.70, 0.74, 0.79, 0.80, 0.83, 0.84, 0.84]
    ys = [0.871, 0.872, 0.870, 0.873, 0.872, 0.874, 0.869]
    frame = pd.DataFrame({"x": xs, "y": ys})
    assert evidence_rules.pearson(xs, ys) == pytest.approx(frame.x.corr(frame.y))
    # Spearman is Pearson of the ranks; ties in xs get their average rank (pandas' default).
    # (pandas' method="spearman" needs scipy, which Liftoff does not depend on.)
    ranked = frame.rank()
    assert evidence_rules.spearman(xs, ys) == pytest.approx(ranked.x.corr(ranked.y))


def test_correlation_needs_three_varied_pairs():
    assert evidence_rules.pearson([1, 2], [3, 4]) is None
    assert evidence_rules.pearson([1, 1, 1], [3, 4, 5]) is None
    assert evidence_rules.spearman([1, 2, 3], [3, 2, 1]) == pytest.approx(-1)


def test_model_gains_showing_or_not_in_the_kpi():
    # accuracy up, handling time (lower is better) down a lot: showing
    showing = evidence_rules.model_versus_kpi(
        "acc", "time", [(0.74, 42), (0.81, 41), (0.87, 34), (0.9, 31)], False, True, False
    )
    assert showing.verdict == "showing" and showing.spearman == pytest.approx(-1)
    # AUC up, retention flat within a point: not showing
    flat = evidence_rules.model_versus_kpi(
        "auc", "ret", [(0.69, 0.871), (0.79, 0.870), (0.84, 0.874)], False, False, True
    )
    assert flat.verdict == "not_showing" and flat.kpi_gain_too_small
    # the KPI fell while the model rose: not showing, and not a small gain either
    fell = evidence_rules.model_versus_kpi(
        "auc", "ret", [(0.69, 0.88), (0.79, 0.87), (0.84, 0.86)], False, False, True
    )
    assert fell.verdict == "not_showing" and not fell.kpi_gain_too_small
    # the model got worse: nothing to pass on
    assert (
        evidence_rules.model_versus_kpi(
            "auc", "ret", [(0.8, 0.8), (0.7, 0.9)], False, False, True
        ).verdict
        == "model_flat"
    )
    assert (
        evidence_rules.model_versus_kpi("auc", "ret", [(0.8, 0.8)], False, False, True).verdict
        == "unknown"
    )


# ----------------------------------------------------------------------------- alerts


@pytest.mark.parametrize(
    ("comparator", "threshold", "firing"),
    [
        (">", 700, True),
        (">", 735, False),
        (">=", 735, True),
        ("<", 736, True),
        ("<", 735, False),
        ("<=", 735, True),
        ("==", 735, True),
        ("==", 700, False),
    ],
)
def test_alert_evaluation_with_every_comparator(comparator, threshold, firing):
    status = evidence_rules.evaluate_alert(
        1,
        "p95",
        comparator,
        threshold,
        "high",
        ["production"],
        "production",
        [(6, 610.0), (7, 655.0), (8, 735.0)],
    )
    assert status.firing is firing
    assert status.value == 735.0 and status.iteration == 8


def test_alert_since_is_the_start_of_the_unbroken_run():
    history = [(1, 900.0), (2, 500.0), (3, 720.0), (4, 750.0), (5, 760.0)]
    status = evidence_rules.evaluate_alert(1, "p95", ">", 700, "high", ["pilot"], "pilot", history)
    assert status.since_iteration == 3


def test_alert_for_another_stage_does_not_fire():
    status = evidence_rules.evaluate_alert(
        1, "wau", "<", 200, "medium", ["production"], "pilot", [(1, 10.0)]
    )
    assert not status.applies and not status.firing
    assert not evidence_rules.evaluate_alert(1, "x", ">", 1, "low", ["poc"], "poc", []).firing


def test_what_if_runway_at_a_weekly_growth_rate():
    start = date(2026, 3, 1)
    # 100 → 121 at 10% a week takes exactly two weeks
    project = evidence_rules.project
    assert project("exponential", start, 100, 0.10, 121) == (start + timedelta(days=14), 14)
    assert project("exponential", start, 100, 0.0, 121) == (None, None)
    assert project("exponential", start, 130, 0.1, 121) == (start, 0)
    # A linear trend adds the same 10 req/s (10% of 100) every week: 121 after 2.1 weeks.
    assert project("linear", start, 100, 0.10, 121) == (start + timedelta(days=15), 15)


def test_a_change_is_written_with_the_digits_that_show_it():
    """An executive reads "+0.03 pts", not a "+0.0 pts" that says nothing changed; req/s keep
    the digits that make a headroom figure add up ("3.40 vs 0.98 req/s", not "3 vs 1")."""
    from liftoff.formatting import format_delta, format_value

    assert format_delta(0.0003, "ratio") == "+0.03 pts"
    assert format_delta(-0.0004, "ratio") == "-0.04 pts"
    assert format_delta(0.004, "ratio") == "+0.4 pts"
    assert format_delta(0.0, "ratio") == format_delta(-0.00001, "ratio") == "no change"
    assert (format_value(3.4, "rps"), format_value(0.98, "rps")) == ("3.40 req/s", "0.98 req/s")
    assert format_value(98.94, "rps") == "98.9 req/s"
    # A small value keeps two significant digits: a cost of 0.0012 € read "0.00 €", as if free.
    assert (format_value(0.0012, "EUR"), format_value(0.0012, None)) == ("0.0012 €", "0.0012")
    assert format_value(3e-9, "ms") == "3.0e-09 ms" and format_value(0.0, "h") == "0.00 h"
    # A change is written with the value's own precision: "11.5 h" beside "+4.0 h".
    assert (format_delta(4.0, "h"), format_delta(-0.03, "min")) == ("+4.0 h", "-0.03 min")
    assert format_delta(-3, "users") == "-3 users"


def test_a_metric_across_iterations_keeps_one_count_of_decimals(demo_engine):
    """The headline-metrics table read "11.5 h", "7.50 h", "4.50 h", "2.00 h" along one row:
    each value with the digits its own size gives. Along a row they now share the largest
    value's ("7.5 h"), and the best keeps its star."""
    from liftoff.evidence import initiative as evidence
    from liftoff.evidence import views
    from liftoff.formatting import shared_digits

    assert shared_digits([11.5, 7.5, 4.5, 2.0], "h") == 1
    assert shared_digits([0.35, 2.0], "h") == 2
    assert shared_digits([3376.0, 1142.0], "ms") == 0
    assert shared_digits([0.5, 0.0012], "EUR") == 4  # not "0.00 €" for the small one
    assert shared_digits([0.84, 0.9], "ratio") is None and shared_digits([], "h") is None
    shown, _ = views.metrics_across_iterations(
        evidence.for_initiative(demo_engine, "Contract clause extractor")
    )
    row = shown[shown["Metric"] == "Legal review hours saved per week"].iloc[0]
    cells = [row[c] for c in shown.columns if c.startswith("Iteration ") and row[c] != "—"]
    assert cells == ["2.0 h", "4.5 h", "7.5 h", "★ 11.5 h"], cells


def test_a_whole_number_of_a_files_own_unit_reads_as_a_count():
    """A metric in a unit the file named ("messages") read "42.0 messages"; its whole numbers
    are counts. The known units keep their decimals, so 50.0 req/s still sits beside 49.5."""
    from liftoff.formatting import format_value, shared_digits

    assert format_value(42.0, "messages") == "42 messages"
    assert format_value(42.5, "messages") == "42.5 messages"
    assert format_value(3.0, None) == "3" and format_value(0.5, None) == "0.50"
    assert format_value(50.0, "rps") == "50.0 req/s" and format_value(2.0, "h") == "2.00 h"
    assert shared_digits([42.0, 12.0], "tickets") == 0
    assert shared_digits([42.0, 1.5], "tickets") == 1


def test_a_chart_axis_does_not_repeat_a_unit_its_metric_names():
    """The monitoring chart read "Weekly active users (users)"."""
    from liftoff.charts import _axis_title

    assert _axis_title({"display_name": "Weekly active users", "unit": "users"}) == (
        "Weekly active users"
    )
    assert _axis_title({"display_name": "Tickets closed", "unit": "count"}) == "Tickets closed"
    assert _axis_title({"display_name": "p95 latency", "unit": "ms"}) == "p95 latency (ms)"
    # A name that carries its unit in brackets, as the import advice suggests writing it: the
    # unit once, not "Average queue wait (min) (min)" (helper-27).
    assert _axis_title(
        {"display_name": "Average queue wait (min)", "unit": "min", "direction": "lower"}
    ) == ("Average queue wait (min) · lower is better")
    assert _axis_title({"display_name": "Latency (ms)", "unit": "ms"}) == "Latency (ms)"


def test_a_change_says_whether_it_is_good_news_and_stays_a_plain_figure():
    """ "-1.3 min" for a handling time and "+6.6 ms" for a latency read alike; which way is
    better was the reader's to know (helper-27)."""
    from liftoff.export import neutralise_shown
    from liftoff.formatting import NO_CHANGE, judged_delta

    assert judged_delta(-1.3, "min", "lower") == "-1.3 min, better"
    assert judged_delta(6.6, "ms", "lower") == "+6.6 ms, worse"
    assert judged_delta(0.008, "ratio", "higher") == "+0.8 pts, better"
    assert judged_delta(0.0, "ratio", "higher") == NO_CHANGE
    assert judged_delta(None, "ms", "lower") is None
    # On a screen it is shown as written: no quote in front, as for "+0.8 pts".
    assert neutralise_shown("-1.3 min, better") == "-1.3 min, better"
    assert neutralise_shown("-1+cmd, better") == "'-1+cmd, better"
