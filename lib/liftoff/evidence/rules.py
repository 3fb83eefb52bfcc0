"""Pure functions for the numbers on the screens: headline values, criteria, capacity, runway.

Nothing here touches the database or streamlit; callers hand in small, already aggregated rows.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

MET, NOT_MET, NO_EVIDENCE = "met", "not_met", "no_evidence"


@dataclass(frozen=True)
class LatestValue:
    """The latest unsegmented observation of one metric for one candidate in one iteration."""

    metric_key: str
    candidate: str | None
    value: float
    recorded_at: datetime | None
    batch_id: int
    observation_id: int


@dataclass(frozen=True)
class Headline:
    """An iteration's headline metrics, all from one chosen candidate (or none)."""

    candidate: str | None
    values: dict[str, float] = field(default_factory=dict)
    batches: dict[str, int] = field(default_factory=dict)


def _recency(row: LatestValue) -> tuple:
    # Latest by recorded time, then by import order; an observation without a time counts as
    # older than any timed one.
    return (
        row.recorded_at is not None,
        row.recorded_at or datetime.min,
        row.batch_id,
        row.observation_id,
    )


def choose_candidate(
    rows: Sequence[LatestValue], primary_metric: str | None, directions: Mapping[str, str]
) -> str | None:
    """The candidate whose value of the primary metric is best, or None without candidates.

    When no candidate has a value of the primary metric, the most recently recorded candidate
    is chosen, so the choice is still one candidate for the whole iteration. Ties go to the
    candidate whose name sorts first.
    """
    candidates = sorted({r.candidate for r in rows if r.candidate is not None})
    if not candidates:
        return None
    if primary_metric:
        scored: dict[str, LatestValue] = {}
        for row in rows:
            if row.candidate is None or row.metric_key != primary_metric:
                continue
            if row.candidate not in scored or _recency(row) > _recency(scored[row.candidate]):
                scored[row.candidate] = row
        if scored:
            lower = directions.get(primary_metric) == "lower"
            return min(
                scored,
                key=lambda c: ((scored[c].value if lower else -scored[c].value), c),
            )
    latest = max((r for r in rows if r.candidate is not None), key=_recency)
    return latest.candidate


def headline(
    rows: Sequence[LatestValue], primary_metric: str | None, directions: Mapping[str, str]
) -> Headline:
    """Headline value of every metric of one iteration (the README's rule, "The rules behind the numbers").

    Only the chosen candidate's observations and those not tied to any candidate count; for a
    metric the chosen candidate reports, its own value wins over an iteration-wide one.
    """
    chosen = choose_candidate(rows, primary_metric, directions)
    best: dict[str, LatestValue] = {}
    for row in rows:
        if row.candidate not in (None, chosen):
            continue
        current = best.get(row.metric_key)
        key = (row.candidate is not None, _recency(row))
        if current is None or key > (current.candidate is not None, _recency(current)):
            best[row.metric_key] = row
    return Headline(
        candidate=chosen,
        values={k: v.value for k, v in best.items()},
        batches={k: v.batch_id for k, v in best.items()},
    )


def compare(value: float, comparator: str, target: float) -> bool:
    """Whether `value comparator target` holds (== allows float rounding)."""
    if comparator == ">=":
        return value >= target
    if comparator == ">":
        return value > target
    if comparator == "<=":
        return value <= target
    if comparator == "<":
        return value < target
    if comparator == "==":
        return math.isclose(value, target, rel_tol=1e-9, abs_tol=1e-12)
    raise ValueError(f"unknown comparator {comparator!r}")


def criterion_status(
    value: float | None,
    comparator: str,
    target: float | None,
    manual_status: str | None = None,
    has_metric: bool = True,
) -> str:
    """met / not_met / no_evidence for one criterion.

    A criterion with a metric is judged from its headline value; a qualitative one (no metric)
    from the status set by hand with its evidence note.
    """
    if not has_metric:
        return manual_status if manual_status in (MET, NOT_MET) else NO_EVIDENCE
    if value is None or target is None:
        return NO_EVIDENCE
    return MET if compare(value, comparator, target) else NOT_MET


@dataclass(frozen=True)
class LoadStep:
    users: int
    throughput_rps: float
    p95_ms: float
    failure_ratio: float


@dataclass(frozen=True)
class Capacity:
    """Capacity of an iteration and the load-test step that limits it."""

    capacity_rps: float | None
    best_step: LoadStep | None
    limiting_step: LoadStep | None
    limited_by: str | None  # "latency", "errors" or None when no step broke the limits


def capacity(steps: Iterable[LoadStep], slo_p95_ms: float, max_error_rate: float) -> Capacity:
    """The highest throughput among steps within the latency SLO and the error budget."""
    ordered = sorted(steps, key=lambda s: (s.users, s.throughput_rps))
    within = [s for s in ordered if s.p95_ms <= slo_p95_ms and s.failure_ratio <= max_error_rate]
    best = max(within, key=lambda s: s.throughput_rps, default=None)
    limiting = next(
        (
            s
            for s in ordered
            if (best is None or s.users > best.users)
            and (s.p95_ms > slo_p95_ms or s.failure_ratio > max_error_rate)
        ),
        None,
    )
    reason = None
    if limiting is not None:
        reason = "latency" if limiting.p95_ms > slo_p95_ms else "errors"
    return Capacity(best.throughput_rps if best else None, best, limiting, reason)


def headroom(peak_rps: float | None, capacity_rps: float | None) -> float | None:
    """1 − peak / capacity: the share of capacity still free (negative when over capacity)."""
    if peak_rps is None or not capacity_rps:
        return None
    return 1.0 - peak_rps / capacity_rps


@dataclass(frozen=True)
class TrendFit:
    """A fitted trend of peak traffic: rps = f(days since `origin`)."""

    model: str  # "linear" or "exponential"
    origin: date
    a: float  # linear: intercept; exponential: value at origin
    b: float  # linear: rps per day; exponential: growth rate per day (continuous)
    r_squared: float

    def predict(self, days: float) -> float:
        if self.model == "linear":
            return self.a + self.b * days
        return self.a * _exp(self.b * days)

    def weekly_growth(self) -> float:
        """Growth per week: rps for linear, a fraction for exponential."""
        return self.b * 7 if self.model == "linear" else _exp(self.b * 7) - 1


# Past this many days a forecast says "not in sight" rather than a date (and date arithmetic
# would overflow: a peak of 1e308 requests/s once ended `liftoff summary` in OverflowError).
HORIZON_DAYS = 36_500


def _scale(values: Sequence[float]) -> float:
    """What to divide `values` by before summing their squares: their largest magnitude when
    a square could overflow (past 1e150), else 1, so everyday figures are computed exactly as
    written (a runway of 77 days stays 77, not 77.000001 rounded up)."""
    top = max((abs(v) for v in values), default=0.0)
    return top if 1e150 < top < math.inf else 1.0


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return math.inf


def _least_squares(xs: Sequence[float], ys: Sequence[float]) -> tuple[float, float]:
    n = len(xs)
    sx, sy = _scale(xs), _scale(ys)
    xs, ys = [x / sx for x in xs], [y / sy for y in ys]
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return my * sy, 0.0
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx
    return (my - slope * mx) * sy, slope * sy / sx


def _r_squared(ys: Sequence[float], predicted: Sequence[float]) -> float:
    s = _scale(ys)
    if not all(math.isfinite(p) for p in predicted):
        return 0.0
    ys, predicted = [y / s for y in ys], [p / s for p in predicted]
    my = sum(ys) / len(ys)
    ss_tot = sum((y - my) ** 2 for y in ys)
    try:
        ss_res = sum((y - p) ** 2 for y, p in zip(ys, predicted, strict=True))
    except OverflowError:  # a prediction far off any value: no fit at all
        return 0.0
    return 1.0 - ss_res / ss_tot if ss_tot else 0.0


def fit_trend(points: Sequence[tuple[date, float]]) -> TrendFit | None:
    """Fit linear and exponential trends to (day, peak rps); keep the better R² (linear on ties).

    Needs at least three points on two different days.
    """
    pts = sorted(
        (d if isinstance(d, date) and not isinstance(d, datetime) else d.date(), v)
        for d, v in points
    )
    if len(pts) < 3 or pts[0][0] == pts[-1][0]:
        return None
    origin = pts[0][0]
    xs = [(d - origin).days for d, _ in pts]
    ys = [float(v) for _, v in pts]
    a, b = _least_squares(xs, ys)
    linear = TrendFit("linear", origin, a, b, _r_squared(ys, [a + b * x for x in xs]))
    fits = [linear]
    if all(y > 0 for y in ys):
        la, lb = _least_squares(xs, [math.log(y) for y in ys])
        pred = [_exp(la + lb * x) for x in xs]
        fits.append(TrendFit("exponential", origin, _exp(la), lb, _r_squared(ys, pred)))
    return max(fits, key=lambda f: (f.r_squared, f.model == "linear"))


@dataclass(frozen=True)
class Runway:
    fit: TrendFit | None
    crossing: date | None  # when the trend reaches capacity; None if it never does
    days: int | None  # from the day the evidence is read on (today)
    already_over: bool = False
    # Where the projection starts: the last day with traffic and the fitted trend's value on
    # it. The what-if starts from the same point, so at the fitted growth it gives this date.
    last_day: date | None = None
    start_rps: float | None = None


def runway(
    points: Sequence[tuple[date, float]], capacity_rps: float | None, today: date | None = None
) -> Runway:
    """When the fitted trend of peak traffic reaches capacity. Its days are counted from
    `today` (the day the reader stands on), not from the last traffic point, so
    "16 Dec (15 days)" read on 1 Dec adds up; without `today` they count from the last
    traffic point."""
    fit = fit_trend(points)
    if fit is None or not capacity_rps:
        return Runway(fit, None, None)
    last_day = max(d if not isinstance(d, datetime) else d.date() for d, _ in points)
    start = fit.predict((last_day - fit.origin).days)
    crossing, days = project(fit.model, last_day, start, trend_growth(fit, start), capacity_rps)
    over = days == 0
    if crossing is not None and today is not None:
        days = days_until(crossing, today)
    return Runway(fit, crossing, days, over, last_day, start)


def days_until(day: date, today: date) -> int:
    """Whole days from `today` to `day`; 0 when it is today or already past."""
    return max(0, (day - today).days)


def trend_growth(fit: TrendFit, start: float) -> float:
    """The fitted trend's growth per week as a fraction of its value `start` on the last day
    (a linear trend adds that fraction of `start` each week; an exponential one compounds)."""
    if fit.model == "exponential":
        return fit.weekly_growth()
    return fit.b * 7 / start if start else 0.0


def projected(model: str, start: float, weekly_growth: float, days: float) -> float:
    """Peak traffic `days` after the last day, growing `weekly_growth` a week from `start`."""
    if model == "linear":
        return start * (1 + weekly_growth * days / 7)
    try:
        return start * (1 + weekly_growth) ** (days / 7)
    except OverflowError:  # far past any capacity: the chart draws it off its top
        return math.inf


def project(
    model: str, last_day: date, start: float, weekly_growth: float, capacity_rps: float | None
) -> tuple[date | None, int | None]:
    """When traffic growing `weekly_growth` a week from `start` on `last_day` reaches capacity
    (the headline runway and the what-if both come from here, so they agree)."""
    if not capacity_rps or math.isnan(start) or start <= 0:
        return None, None
    if start >= capacity_rps:
        return last_day, 0
    if weekly_growth <= 0 or (model != "linear" and weekly_growth <= -1):
        return None, None
    if model == "linear":
        weeks = (capacity_rps / start - 1) / weekly_growth
    else:
        weeks = math.log(capacity_rps / start) / math.log(1 + weekly_growth)
    if not math.isfinite(weeks) or weeks * 7 > HORIZON_DAYS:
        return None, None
    days = max(1, math.ceil(weeks * 7 - 1e-9))
    return last_day + timedelta(days=days), days


def delta(current: float | None, previous: float | None) -> float | None:
    """The change from the previous iteration, or None when either side is missing."""
    if current is None or previous is None:
        return None
    return current - previous


# ----------------------------------------------------------------------------- correlation


def _ranks(values: Sequence[float]) -> list[float]:
    """Ranks 1..n, ties sharing their average rank."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def pearson(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Pearson's r, or None with fewer than three pairs or no variation."""
    if len(xs) != len(ys) or len(xs) < 3:
        return None
    n = len(xs)
    sx, sy = _scale(xs), _scale(ys)  # r does not change with scale; squares of 1e308 would
    xs, ys = [x / sx for x in xs], [y / sy for y in ys]
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    syy = sum((y - my) ** 2 for y in ys)
    if sxx == 0 or syy == 0:
        return None
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / math.sqrt(sxx * syy)


def spearman(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Spearman's rho: Pearson's r of the ranks."""
    if len(xs) != len(ys) or len(xs) < 3:
        return None
    return pearson(_ranks(xs), _ranks(ys))


# Below this many iterations a correlation says nothing worth a decision.
MIN_CORRELATION_N = 5


@dataclass(frozen=True)
class ModelVersusKpi:
    model: str
    kpi: str
    n: int
    pearson: float | None
    spearman: float | None
    model_change: float | None  # last − first, in stored units
    kpi_change: float | None
    verdict: str  # "showing", "not_showing", "model_flat", "unknown"
    # "not_showing" although the KPI moved the way the model did: it gained, too little yet.
    kpi_gain_too_small: bool = False


def model_versus_kpi(
    model: str,
    kpi: str,
    pairs: Sequence[tuple[float, float]],
    model_lower_is_better: bool,
    kpi_lower_is_better: bool,
    kpi_is_ratio: bool,
) -> ModelVersusKpi:
    """Whether model gains show up in the KPI across iterations (pairs in iteration order).

    "showing": the model improved, the KPI improved noticeably (one percentage point for a
    ratio, else 2% of its first value) and the two moved together (Spearman ≥ 0.5 once both are
    turned so that up is better).
    """
    xs = [p[0] for p in pairs]
    ys = [p[1] for p in pairs]
    r, rho = pearson(xs, ys), spearman(xs, ys)
    if len(pairs) < 2:
        return ModelVersusKpi(model, kpi, len(pairs), r, rho, None, None, "unknown")
    dm, dk = xs[-1] - xs[0], ys[-1] - ys[0]
    gain_m = -dm if model_lower_is_better else dm
    gain_k = -dk if kpi_lower_is_better else dk
    enough = 0.01 if kpi_is_ratio else 0.02 * abs(ys[0] or 1)
    aligned = (
        rho * (-1 if model_lower_is_better != kpi_lower_is_better else 1)
        if rho is not None
        else None
    )
    if gain_m <= 0:
        verdict = "model_flat"
    elif gain_k >= enough and (aligned is None or aligned >= 0.5):
        verdict = "showing"
    else:
        verdict = "not_showing"
    small = verdict == "not_showing" and 0 < gain_k < enough and (aligned is None or aligned >= 0.5)
    return ModelVersusKpi(model, kpi, len(pairs), r, rho, dm, dk, verdict, small)


# ----------------------------------------------------------------------------- alerts


@dataclass(frozen=True)
class AlertStatus:
    rule_id: int
    metric: str
    comparator: str
    threshold: float
    severity: str
    applies: bool  # the initiative's stage is one the rule watches
    value: float | None  # latest headline value
    iteration: int | None  # the iteration that value comes from
    firing: bool
    since_iteration: int | None  # first iteration of the current unbroken run of firing


def evaluate_alert(
    rule_id: int,
    metric: str,
    comparator: str,
    threshold: float,
    severity: str,
    stages: Sequence[str],
    stage: str,
    history: Sequence[tuple[int, float]],
) -> AlertStatus:
    """A rule against the latest evidence: `history` is (iteration number, headline value),
    oldest first. The rule fires when the latest value meets its condition."""
    applies = stage in stages
    if not history:
        return AlertStatus(
            rule_id, metric, comparator, threshold, severity, applies, None, None, False, None
        )
    number, value = history[-1]
    firing = applies and compare(value, comparator, threshold)
    since = None
    if firing:
        since = number
        for n, v in reversed(history):
            if not compare(v, comparator, threshold):
                break
            since = n
    return AlertStatus(
        rule_id, metric, comparator, threshold, severity, applies, value, number, firing, since
    )


def runway_at_growth(
    last_day: date, last_peak: float, weekly_growth: float, capacity_rps: float | None
) -> tuple[date | None, int | None]:
    """When peak traffic reaches capacity if it compounds `weekly_growth` (a fraction) every
    week from `last_peak` (project with an exponential shape)."""
    return project("exponential", last_day, last_peak, weekly_growth, capacity_rps)
