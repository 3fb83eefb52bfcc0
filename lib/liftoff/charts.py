"""Charts: pure functions from figures to plotly Figures. Never calls streamlit."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import timedelta

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from liftoff.db.models import SEVERITIES
from liftoff.evidence.initiative import InitiativeEvidence
from liftoff.formatting import (
    DECISION_COLOURS,
    comparator_words,
    format_date,
    format_value,
    shown_unit,
)
from liftoff.people import views as people_views
from liftoff.people.rules import STANCE_VALUE
from liftoff.readiness import views as readiness_views
from liftoff.readiness.rules import SECTION_LABELS

_LAYOUT = dict(margin=dict(l=10, r=10, t=40, b=10), template="plotly_white", height=260)
# A calendar axis writes days as the screens do ("9 Aug 2026"; plotly's own "Aug 9 2026" put
# the month first) and months as "Aug 2026"; its hover gives the day.
_DATE_AXIS = dict(
    type="date",
    tickformatstops=[
        dict(dtickrange=[None, "M1"], value="%-d %b %Y"),
        dict(dtickrange=["M1", None], value="%b %Y"),
    ],
    hoverformat="%-d %b %Y",
)

# The model metric and the business KPI keep one colour each on every chart that shows both.
MODEL_COLOUR = "#1f4e79"
KPI_COLOUR = "#ef6c00"


UNAVAILABLE = (
    "This chart cannot be drawn from the stored figures (a value is out of range). "
    "Check the latest import on the Import history screen."
)


def unavailable() -> go.Figure:
    """An empty chart that says why it is empty: what a screen shows when one figure cannot be
    computed, instead of an error for every visitor."""
    fig = go.Figure()
    fig.add_annotation(text=UNAVAILABLE, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
    fig.update_layout(**_LAYOUT, xaxis=dict(visible=False), yaxis=dict(visible=False))
    return fig


def drawn(draw: Callable[[], go.Figure | None]) -> go.Figure | None:
    """`draw()`, or the `unavailable` chart when arithmetic on the stored values fails."""
    try:
        return draw()
    except (ArithmeticError, ValueError):
        return unavailable()


def frozen(fig: go.Figure | None) -> go.Figure | None:
    """`fig` with its dict form worked out once, for a figure that is shared and never changed.

    st.plotly_chart asks the figure for its dict on every rerun, and plotly deep-copies and
    re-encodes every array for it each time: milliseconds per chart, per rerun. A figure kept
    in Liftoff's shared cache is read-only, so that dict never changes.
    """
    if fig is None:
        return None
    as_dict = fig.to_dict()
    fig.to_dict = lambda: as_dict  # plotly's BaseFigure allows setting its own attributes
    return fig


def headroom_bars(cards: list, warning: float) -> go.Figure:
    """Horizontal bars of capacity headroom per initiative with the warning line."""
    with_data = [c for c in cards if c.headroom is not None]
    fig = go.Figure(
        go.Bar(
            x=[c.headroom * 100 for c in with_data],
            y=[safe(c.name) for c in with_data],
            orientation="h",
            marker_color=["#c62828" if c.headroom < warning else "#2e7d32" for c in with_data],
            text=[c.headroom_text for c in with_data],
            textposition="auto",
            hovertemplate="%{y}: %{x:.0f}% of capacity free<extra></extra>",
        )
    )
    fig.add_vline(x=warning * 100, line_dash="dash", line_color="#616161")
    fig.update_layout(
        **_LAYOUT,
        title=f"Capacity headroom at latest peak traffic<br><sup>dashed: the {warning:.0%} "
        "warning level</sup>",
        # The axis holds every bar and the warning line (it ended at 70 beside a 71% bar).
        xaxis=dict(
            title="Free capacity (%)",
            range=[
                min([0, *(c.headroom * 100 for c in with_data)]),
                max([warning * 100, *(c.headroom * 100 for c in with_data)]) * 1.08 + 1,
            ],
        ),
        # In the overview's order, the most urgent on top (plotly puts the first bar lowest).
        yaxis=dict(title=None, autorange="reversed"),
    )
    fig.update_layout(height=max(180, 70 * len(with_data) + 80))
    return fig


def _timeline_row(number: int, chosen: int | None) -> str:
    later = chosen is not None and number > chosen
    return f"Iteration {number}" + (" (later)" if later else "")


def iteration_timeline(ev: InitiativeEvidence, chosen: int | None = None) -> go.Figure:
    """The initiative's iterations as bars on a calendar, coloured by decision. With `chosen`
    (the iteration the screen shows), that one is outlined and the later ones are faded and
    labelled "(later)": they are not part of its evidence."""
    fig = go.Figure()
    for decision, (_, colour) in DECISION_COLOURS.items():
        its = [it for it in ev.dated if it.decision == decision]
        if not its:
            continue
        fig.add_trace(
            go.Bar(
                base=[it.start_date.isoformat() for it in its],
                x=[(it.end_date - it.start_date).days * 86_400_000 + 86_400_000 for it in its],
                y=[_timeline_row(it.number, chosen) for it in its],
                orientation="h",
                name=decision.capitalize() if decision != "no-go" else "No-go",
                marker_color=colour,
                marker_opacity=[
                    0.35 if chosen is not None and it.number > chosen else 1.0 for it in its
                ],
                marker_line_width=[3 if it.number == chosen else 0 for it in its],
                marker_line_color="#111827",
                customdata=[
                    [safe(it.label or ""), format_date(it.start_date), format_date(it.end_date)]
                    for it in its
                ],
                hovertemplate="%{y}: %{customdata[0]}<br>%{customdata[1]} to %{customdata[2]}<extra>%{fullData.name}</extra>",
            )
        )
    fig.update_layout(
        **_LAYOUT,
        title="Iterations and decisions",
        barmode="overlay",
        xaxis=_DATE_AXIS,
        legend_title_text="Decision",
    )
    # Only iterations with dates have a place on a calendar (views.undated_iterations names the rest).
    order = [_timeline_row(it.number, chosen) for it in ev.dated]
    fig.update_yaxes(categoryorder="array", categoryarray=order, autorange="reversed")
    fig.update_layout(height=max(220, 34 * len(order) + 110))
    return fig


def _axis_title(meta: dict) -> str:
    unit = shown_unit(meta)
    suffix = {
        "ratio": " (%)",
        "fraction": "",
        "ms": " (ms)",
        "rps": " (req/s)",
        "min": " (min)",
        "h": " (h)",
        "EUR": " (€)",
        "count": "",
        "score": "",
    }.get(unit or "", f" ({unit})" if unit else "")
    name = meta.get("display_name", "") or ""
    if unit and unit not in ("ratio", "ms", "h", "s", "min") and unit.lower() in name.lower():
        suffix = ""  # "Weekly active users", not "Weekly active users (users)"
    if suffix and name.lower().rstrip().endswith(suffix.strip().lower()):
        suffix = ""  # a name with its unit in brackets: "Average queue wait (min)", once
    better = " · lower is better" if meta.get("direction") == "lower" else ""
    return safe(name) + suffix + better


def _scaled(values, meta):
    return [v * 100 if shown_unit(meta) == "ratio" and v is not None else v for v in values]


def _axis(meta: dict, values: list, target: float | None) -> dict:
    """A value axis written as the metric is (unit, decimals) that always shows its target:
    the range spans the values and the target, with a margin, and ticks carry the unit."""
    unit = shown_unit(meta)
    shown = [v for v in _scaled([*values, target], meta) if v is not None]
    axis: dict = {"title": _axis_title(meta)}
    if unit == "ratio":
        axis.update(ticksuffix="%", tickformat=".1f")
    elif unit == "fraction":
        axis.update(tickformat=".2f")
    if shown:
        lo, hi = min(shown), max(shown)
        pad = (hi - lo) * 0.12 or max(abs(hi) * 0.05, 0.01)
        axis["range"] = [lo - pad, hi + pad]
    return axis


def _target(ev: InitiativeEvidence, key: str) -> float | None:
    """The latest iteration's target of a metric, if a criterion sets one."""
    latest = ev.latest
    return next(
        (
            c["target"]
            for c in (latest.criteria if latest else [])
            if c["metric"] == key and c["target"] is not None
        ),
        None,
    )


def model_and_kpi(ev: InitiativeEvidence, model: str, kpi: str) -> go.Figure:
    """Model metric (upper panel) and business KPI (lower panel) across the iterations that
    report both (those the sentence above it compares), with the criteria targets as dotted
    lines in their panels and the candidate named on hover.

    Two panels on one iteration axis rather than two value axes over one plot: overlaid, a
    line landed on the other metric's target line (the AUC on the retention target) and the
    second axis got ticks like 87.2%, 87.8%, 88.5% to line up with the first one's grid."""
    meta_m, meta_k = (
        ev.catalog.get(model, {"display_name": model}),
        ev.catalog.get(kpi, {"display_name": kpi}),
    )
    both = [it for it in ev.iterations if model in it.metrics and kpi in it.metrics]
    # The chart draws what the sentence judges; with fewer than two such iterations (the
    # sentence then says there are too few) it shows whatever there is.
    its = (
        both
        if len(both) >= 2
        else [it for it in ev.iterations if model in it.metrics or kpi in it.metrics]
    )
    x = [f"Iteration {it.number}" for it in its]
    model_values = [it.metrics.get(model) for it in its]
    kpi_values = [it.metrics.get(kpi) for it in its]
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.16,
        subplot_titles=[_axis_title(meta_m), _axis_title(meta_k)],
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=_scaled(model_values, meta_m),
            name=safe(meta_m["display_name"]),
            mode="lines+markers",
            line=dict(color=MODEL_COLOUR, width=3),
            customdata=[
                [safe(it.candidate or "—"), format_value(v, shown_unit(meta_m))]
                for it, v in zip(its, model_values, strict=True)
            ],
            hovertemplate="%{x}: %{customdata[1]}<br>candidate %{customdata[0]}<extra>"
            + safe(meta_m["display_name"])
            + "</extra>",
        ),
        1,
        1,
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=_scaled(kpi_values, meta_k),
            name=safe(meta_k["display_name"]),
            mode="lines+markers",
            line=dict(color=KPI_COLOUR, width=3),
            customdata=[[format_value(v, shown_unit(meta_k))] for v in kpi_values],
            hovertemplate="%{x}: %{customdata[0]}<extra>"
            + safe(meta_k["display_name"])
            + "</extra>",
        ),
        2,
        1,
    )
    targets = {model: _target(ev, model), kpi: _target(ev, kpi)}
    for row, key, meta, colour in (
        (1, model, meta_m, MODEL_COLOUR),
        (2, kpi, meta_k, KPI_COLOUR),
    ):
        target = targets[key]
        if target is not None:
            fig.add_hline(
                y=_scaled([target], meta)[0],
                line_dash="dot",
                line_color=colour,
                row=row,
                col=1,
            )
    # Each panel's title names its metric and its target: a label on the plot sat on the
    # lines it crosses, and a legend above the panels ran into their titles on a slide.
    for annotation, key, meta in zip(
        fig.layout.annotations, (model, kpi), (meta_m, meta_k), strict=True
    ):
        if targets[key] is not None:
            annotation.text += " · dotted line: target " + safe(
                format_value(targets[key], shown_unit(meta))
            )
    # The panels carry the unit on their ticks.
    fig.update_layout(
        **{**_LAYOUT, "height": 420, "margin": dict(l=10, r=10, t=70, b=10)},
        title="Model metric and business KPI by iteration",
        yaxis={**_axis(meta_m, model_values, targets[model]), "title": None},
        yaxis2={**_axis(meta_k, kpi_values, targets[kpi]), "title": None},
        showlegend=False,
    )
    fig.update_annotations(font_size=13, xanchor="left", x=0)
    return fig


def _label_positions(xs: list[float], ys: list[float]) -> list[str]:
    """Where each point's label goes so that labels of points close together do not print
    over each other ("#7#8"): above, unless a near neighbour already has that place."""
    places = ["top center", "bottom center", "middle right", "middle left"]

    def spread(values):
        lo, hi = min(values), max(values)
        return (hi - lo) or 1.0

    sx, sy = spread(xs), spread(ys)
    chosen: list[str] = []
    for i, (x, y) in enumerate(zip(xs, ys, strict=True)):
        taken = {
            chosen[j] for j in range(i) if abs(xs[j] - x) / sx < 0.08 and abs(ys[j] - y) / sy < 0.12
        }
        chosen.append(next((p for p in places if p not in taken), places[0]))
    return chosen


def model_kpi_scatter(ev: InitiativeEvidence, model: str, kpi: str) -> go.Figure:
    """One labelled point per iteration: model metric against KPI."""
    meta_m, meta_k = (
        ev.catalog.get(model, {"display_name": model}),
        ev.catalog.get(kpi, {"display_name": kpi}),
    )
    its = [it for it in ev.iterations if model in it.metrics and kpi in it.metrics]
    xs = _scaled([it.metrics[model] for it in its], meta_m)
    ys = _scaled([it.metrics[kpi] for it in its], meta_k)
    fig = go.Figure(
        go.Scatter(
            x=xs,
            y=ys,
            mode="markers+text",
            text=[f"#{it.number}" for it in its],
            textposition=_label_positions(xs, ys) if its else "top center",
            marker=dict(
                size=12,
                color=[it.number for it in its],
                colorscale="Blues",
                line=dict(width=1, color="#333"),
            ),
            customdata=[
                [
                    format_value(it.metrics[model], shown_unit(meta_m)),
                    format_value(it.metrics[kpi], shown_unit(meta_k)),
                ]
                for it in its
            ],
            hovertemplate="Iteration %{text}<br>"
            + safe(meta_m["display_name"])
            + " %{customdata[0]}<br>"
            + safe(meta_k["display_name"])
            + " %{customdata[1]}<extra></extra>",
        )
    )
    y_axis = _axis(meta_k, [it.metrics[kpi] for it in its], None)
    # On two lines: in one, a long KPI name ran up into the chart's title.
    y_axis["title"] = y_axis["title"].replace(" · ", "<br>")
    fig.update_layout(
        **{**_LAYOUT, "height": 360, "margin": dict(l=10, r=10, t=50, b=10)},
        title="Each iteration: model metric against KPI",
        xaxis=_axis(meta_m, [it.metrics[model] for it in its], None),
        yaxis=y_axis,
    )
    return fig


def segments(rows: list[dict], catalog: dict, order: tuple = ()) -> go.Figure:
    """The latest value per segment, one panel per metric (their units differ), in the order
    of `order` (the model metric, then the KPI) and in the colours the line chart gives them."""

    present = set(r["metric"] for r in rows)
    keys = [k for k in order if k in present]
    keys += [k for k in dict.fromkeys(r["metric"] for r in rows) if k not in keys]
    titles = [_axis_title(catalog.get(k, {"display_name": k})) for k in keys]
    fig = make_subplots(rows=1, cols=len(keys), subplot_titles=titles)
    colours = [MODEL_COLOUR, KPI_COLOUR, "#2e7d32", "#6a1b9a"]
    for i, key in enumerate(keys, start=1):
        meta = catalog.get(key, {"display_name": key})
        mine = [r for r in rows if r["metric"] == key]
        fig.add_trace(
            go.Bar(
                x=[safe(r["segment"]) for r in mine],
                y=_scaled([r["value"] for r in mine], meta),
                marker_color=colours[(i - 1) % len(colours)],
                # Written as everywhere else, with the unit ("87.6%", "33.6 min").
                text=[format_value(r["value"], shown_unit(meta)) for r in mine],
                textposition="outside",
                cliponaxis=False,
                hovertemplate="%{x}: %{text}<extra></extra>",
                showlegend=False,
            ),
            1,
            i,
        )
        if shown_unit(meta) == "ratio":
            fig.update_yaxes(ticksuffix="%", row=1, col=i)
    fig.update_layout(**{**_LAYOUT, "height": 320})
    return fig


def load_curves(ev: InitiativeEvidence, steps_by_iteration: dict[int, list]) -> go.Figure:
    """Three panels: throughput against users, p95 latency against throughput (SLO line),
    failure ratio against users; one line per iteration."""

    fig = make_subplots(
        rows=1,
        cols=3,
        subplot_titles=(
            "Throughput (req/s) by users",
            # The dashed lines' meaning is in the titles: labels on the plot sat on the lines.
            f"Response time (ms, 95 in 100 faster) by req/s<br>"
            f"<sup>dashed: the {ev.initiative['slo_p95_ms']:.0f} ms target</sup>",
            f"Failures (%) by users<br><sup>dashed: the "
            f"{ev.initiative['max_error_rate'] * 100:g}% limit</sup>",
        ),
    )
    # Clearly distinct hues (Okabe-Ito, safe for colour-blind readers), not shades of one
    # blue; the newest iteration gets the last, a strong blue, and a thicker line.
    palette = [
        "#999999",
        "#CC79A7",
        "#E69F00",
        "#56B4E9",
        "#009E73",
        "#D55E00",
        "#7B3294",
        "#0072B2",
    ]
    numbered = [(it.number, steps_by_iteration.get(it.id, [])) for it in ev.iterations]
    numbered = [(n, s) for n, s in numbered if s]
    for i, (number, steps) in enumerate(numbered):
        colour = palette[min(i + max(0, len(palette) - len(numbered)), len(palette) - 1)]
        name = f"Iteration {number}"
        width = 3 if i == len(numbered) - 1 else 1.8
        common = dict(
            mode="lines+markers",
            line=dict(color=colour, width=width),
            legendgroup=name,
            name=name,
        )
        # Hover in words and units ("60 users: 43.1 req/s"), not plotly's "(60, 43.06061)".
        of = f"<extra>{name}</extra>"
        fig.add_trace(
            go.Scatter(
                x=[s.users for s in steps],
                y=[s.throughput_rps for s in steps],
                hovertemplate="%{x:,} users: %{y:,.1f} req/s" + of,
                **common,
            ),
            1,
            1,
        )
        fig.add_trace(
            go.Scatter(
                x=[s.throughput_rps for s in steps],
                y=[s.p95_ms for s in steps],
                showlegend=False,
                hovertemplate="%{x:,.1f} req/s: 95 in 100 within %{y:,.0f} ms" + of,
                **common,
            ),
            1,
            2,
        )
        fig.add_trace(
            go.Scatter(
                x=[s.users for s in steps],
                y=[s.failure_ratio * 100 for s in steps],
                showlegend=False,
                hovertemplate="%{x:,} users: %{y:.2f}% failed" + of,
                **common,
            ),
            1,
            3,
        )
    fig.add_hline(
        y=ev.initiative["slo_p95_ms"],
        line_dash="dash",
        line_color="#c62828",
        row=1,
        col=2,
    )
    fig.add_hline(
        y=ev.initiative["max_error_rate"] * 100,
        line_dash="dash",
        line_color="#c62828",
        row=1,
        col=3,
    )
    # Every axis says what it counts (the titles alone left "100" and "200" unexplained).
    for col, (x_title, y_title) in enumerate(
        (("Users", "req/s"), ("Requests per second", "ms"), ("Users", "% failed")), start=1
    ):
        fig.update_xaxes(title_text=x_title, title_font_size=12, row=1, col=col)
        fig.update_yaxes(title_text=y_title, title_font_size=12, row=1, col=col)
    fig.update_layout(**{**_LAYOUT, "height": 360}, legend=dict(orientation="h", y=-0.32))
    return fig


def capacity_trend(ev: InitiativeEvidence) -> go.Figure:
    """Capacity within the latency target per iteration that has load tests, against the
    latest peak traffic (a legend entry, not a label printed over the bars)."""
    tested = [
        it
        for it in ev.iterations
        if it.capacity.capacity_rps is not None or it.capacity.limiting_step
    ]
    fig = go.Figure(
        go.Bar(
            x=[f"Iteration {it.number}" for it in tested],
            y=[it.capacity.capacity_rps or 0 for it in tested],
            marker_color="#1f4e79",
            text=[
                # As the sentence and the table write req/s ("3.40", "98.9"), without the unit
                # the axis gives.
                format_value(it.capacity.capacity_rps, "rps").removesuffix(" req/s")
                if it.capacity.capacity_rps
                else "none"
                for it in tested
            ],
            # At the bars' foot, where the peak-traffic line does not run.
            textposition="inside",
            insidetextanchor="start",
            textfont=dict(color="white"),
            hovertemplate="%{x}: %{y:.1f} req/s within the latency target<extra></extra>",
            name="Capacity",
        )
    )
    if ev.peak_rps is not None and tested:
        fig.add_hline(y=ev.peak_rps, line_dash="dash", line_color="#ef6c00", line_width=2)
        _legend_line(
            fig, f"Latest peak traffic: {format_value(ev.peak_rps, 'rps')}", "#ef6c00", "dash"
        )
    fig.update_layout(
        **{**_LAYOUT, "height": 300},
        title="Capacity: requests per second served within the latency target and error limit",
        yaxis_title="Requests per second",
        showlegend=True,
        legend=dict(orientation="h", y=-0.2),
    )
    return fig


def headroom_gauge(ev: InitiativeEvidence, warning: float) -> go.Figure:
    """A gauge of the share of capacity still free at the latest peak traffic."""
    headroom = ev.headroom
    value = 0 if headroom is None else headroom * 100
    fig = go.Figure(
        go.Indicator(
            mode="gauge+number",
            value=value,
            # Whole percent, as the headroom is written everywhere else ("15%", not "15.1%").
            number={"suffix": "%", "valueformat": ".0f"},
            title={"text": "Capacity still free at peak"},
            # From 0 (a full arc is all capacity free): a scale from -20 made 15% fill a third
            # of it. Only traffic beyond capacity (negative headroom) extends it below 0.
            gauge={
                "axis": {
                    "range": [min(0, value), 100],
                    "tickvals": sorted(
                        {min(0, round(value)), 0, round(warning * 100), 50, 75, 100}
                    ),
                    "ticksuffix": "%",
                },
                "bar": {"color": "#c62828" if value < warning * 100 else "#2e7d32"},
                "steps": [{"range": [min(0, value), warning * 100], "color": "#ffebee"}],
                "threshold": {"line": {"color": "#616161", "width": 3}, "value": warning * 100},
            },
        )
    )
    # Side margins wide enough for the scale's end labels ("100" was cut to "10").
    fig.update_layout(margin=dict(l=45, r=45, t=60, b=10), height=260)
    return fig


def _legend_line(fig: go.Figure, name: str, colour: str, dash: str | None = None) -> None:
    """A legend entry for a line drawn across the plot (add_hline, add_vline): its label on the
    plot itself sat on the lines and bars it crosses."""
    fig.add_trace(
        go.Scatter(x=[None], y=[None], mode="lines", name=name, line=dict(color=colour, dash=dash))
    )


def runway(ev: InitiativeEvidence, what_if: tuple | None = None) -> go.Figure:
    """Peak traffic over time, the fitted trend projected to capacity, and a what-if line."""

    fig = go.Figure(
        go.Scatter(
            x=[d.isoformat() for d, _ in ev.traffic],
            y=[v for _, v in ev.traffic],
            mode="markers+lines",
            name="Peak traffic",
            line=dict(color="#616161"),
            hovertemplate="%{x}: %{y:.1f} req/s<extra></extra>",
        )
    )
    fit = ev.runway.fit
    if fit is not None and ev.traffic:
        last = ev.traffic[-1][0]
        end = ev.runway.crossing if ev.runway.crossing else last + timedelta(days=90)
        end = min(end + timedelta(days=14), last + timedelta(days=730))
        days = list(range(0, (end - fit.origin).days + 1, 3))
        label = f"Trend, projected ({fit.model} growth)"
        fig.add_trace(
            go.Scatter(
                x=[(fit.origin + timedelta(days=d)).isoformat() for d in days],
                y=[fit.predict(d) for d in days],
                mode="lines",
                name=label,
                line=dict(color="#1f4e79", dash="dash"),
            )
        )
    if what_if:
        dates, values = what_if
        fig.add_trace(
            go.Scatter(
                x=[d.isoformat() for d in dates],
                y=values,
                mode="lines",
                name="What-if growth",
                line=dict(color="#ef6c00", dash="dot"),
            )
        )
    if ev.capacity_rps:
        fig.add_hline(y=ev.capacity_rps, line_color="#c62828")
        _legend_line(fig, f"Capacity: {format_value(ev.capacity_rps, 'rps')}", "#c62828")
    if ev.runway.crossing:
        fig.add_vline(x=ev.runway.crossing.isoformat(), line_dash="dot", line_color="#c62828")
        _legend_line(fig, f"Capacity reached: {format_date(ev.runway.crossing)}", "#c62828", "dot")
    fig.update_layout(
        **{**_LAYOUT, "height": 360},
        title="Peak traffic and runway",
        yaxis_title="Requests per second",
        xaxis=_DATE_AXIS,
        legend=dict(orientation="h", y=-0.2),
    )
    return fig


def metric_history(
    ev: InitiativeEvidence, key: str, threshold: float, comparator: str
) -> go.Figure:
    """A rule's metric across iterations with its threshold line."""
    meta = ev.catalog.get(key, {"display_name": key})
    history = ev.history(key)
    fig = go.Figure(
        go.Scatter(
            # Short labels: in a chart a third of the page wide, "Iteration 1Iteration 2" ran
            # together.
            x=[f"It. {n}" for n, _ in history],
            y=_scaled([v for _, v in history], meta),
            mode="lines+markers",
            line=dict(color="#1f4e79"),
            name=safe(meta["display_name"]),
            customdata=[format_value(v, shown_unit(meta)) for _, v in history],
            hovertemplate="%{x}: %{customdata}<extra></extra>",
        )
    )
    fig.add_hline(y=_scaled([threshold], meta)[0], line_dash="dash", line_color="#c62828")
    fig.update_layout(
        **{**_LAYOUT, "height": 220},
        # The dashed line's meaning in the title: a label on the plot sat on the line.
        title=f"{_axis_title(meta)}<br><sup>dashed: alert when "
        f"{comparator_words(comparator)} {format_value(threshold, shown_unit(meta))}</sup>",
        # Every iteration of the initiative on the axis, whether this metric has a value there
        # or not: side by side, the rule charts' iterations line up (one started at It. 1, the
        # next at It. 3; helper-26).
        xaxis=dict(
            tickangle=0,
            categoryorder="array",
            categoryarray=[f"It. {it.number}" for it in ev.iterations],
            range=[-0.5, len(ev.iterations) - 0.5],
        ),
        showlegend=False,
    )
    return fig


# ----------------------------------------------------------------------------- people

STANCE_COLOURS = {
    "blocker": "#b71c1c",
    "skeptic": "#ef6c00",
    "neutral": "#9e9e9e",
    "supporter": "#66bb6a",
    "advocate": "#1b5e20",
}


def safe(text: object) -> str:
    """User text for a plotly label, the one helper for every text a figure shows (titles,
    annotations, hover, legend, axes): plotly reads a few HTML tags in labels (<a href> is a
    live link), so < > & are escaped to show as typed."""
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def feedback_volume(rows: list[dict]) -> go.Figure:
    """Comments per iteration (bars) and their mean rating (line, 1–5)."""
    rows = [r for r in rows if r["iteration"] is not None]
    x = [f"It. {r['iteration']}" for r in rows]
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_trace(
        go.Bar(
            x=x,
            y=[r["count"] for r in rows],
            name="Comments",
            marker_color="#90caf9",
            hovertemplate="%{x}: %{y:,} comments<extra></extra>",
        ),
        secondary_y=False,
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=[r["mean_rating"] for r in rows],
            name="Mean rating",
            mode="lines+markers",
            line=dict(color="#1f4e79", width=3),
            hovertemplate="%{x}: mean rating %{y:.1f} of 5<extra></extra>",
        ),
        secondary_y=True,
    )
    fig.update_layout(
        **_LAYOUT,
        title="Feedback volume and mean rating per iteration",
        legend=dict(orientation="h", y=-0.2),
    )
    # Whole comments on the axis, a step of at least one (it read 0.5, 1.5, 2.5, and with the
    # labels rounded, 0, 1, 1, 2, 2 on a slide).
    most = max((r["count"] for r in rows), default=0)
    step = max(1, math.ceil(most / 5))
    fig.update_yaxes(
        title_text="Comments",
        secondary_y=False,
        tick0=0,
        dtick=step,
        tickformat=",d",
        # Up to the gridline above the tallest bar: at 1.12 times it, the bar of 8 ended on the
        # top gridline and read as cut (helper-26).
        range=[0, (most // step + 1) * step],
    )
    fig.update_yaxes(
        title_text="Mean rating (1–5)", range=[1, 5], dtick=1, showgrid=False, secondary_y=True
    )
    return fig


def rating_distribution(rows: list[dict]) -> go.Figure:
    """Share of each rating (1–5) per iteration, stacked to 100%."""
    rows = [r for r in rows if r["iteration"] is not None and r["ratings"]]
    x = [f"It. {r['iteration']}" for r in rows]
    colours = {1: "#c62828", 2: "#ef6c00", 3: "#bdbdbd", 4: "#81c784", 5: "#2e7d32"}
    fig = go.Figure()
    for rating in range(1, 6):
        shares = [
            100 * r["ratings"].get(rating, 0) / max(sum(r["ratings"].values()), 1) for r in rows
        ]
        fig.add_trace(
            go.Bar(
                x=x,
                y=shares,
                name=f"{rating} ★",
                marker_color=colours[rating],
                hovertemplate=f"%{{x}}: %{{y:.0f}}% rated {rating}<extra></extra>",
            )
        )
    fig.update_layout(
        **_LAYOUT,
        barmode="stack",
        title="Rating distribution per iteration",
        yaxis_title="Share of rated comments (%)",
        legend=dict(orientation="h", y=-0.2),
    )
    return fig


def sentiment(rows: list[dict]) -> go.Figure:
    rows = [r for r in rows if r["iteration"] is not None and r["mean_sentiment"] is not None]
    fig = go.Figure(
        go.Scatter(
            x=[f"It. {r['iteration']}" for r in rows],
            y=[r["mean_sentiment"] for r in rows],
            mode="lines+markers",
            line=dict(color="#6a1b9a", width=3),
            hovertemplate="%{x}: mean sentiment %{y:+.2f}<extra></extra>",
        )
    )
    fig.add_hline(y=0, line_dash="dot", line_color="#9e9e9e")
    fig.update_layout(
        **_LAYOUT,
        title="Mean sentiment per iteration (−1 negative … +1 positive)",
        yaxis_title="Sentiment",
    )
    return fig


def themes(by_iteration: dict, source: str) -> go.Figure:
    """How often each top theme (or distinctive term) came up, per iteration."""
    labels = sorted({t for items in by_iteration.values() for t, _ in items})
    fig = go.Figure()
    for label in labels:
        fig.add_trace(
            go.Bar(
                x=[f"It. {k}" for k in by_iteration],
                y=[dict(v).get(label, 0) for v in by_iteration.values()],
                name=safe(label),
                hovertemplate="%{x}: %{y:,} comments<extra>" + safe(label) + "</extra>",
            )
        )
    what = "themes" if source == "themes" else "distinctive words"
    fig.update_layout(
        **_LAYOUT,
        barmode="stack",
        title=f"Top {what} per iteration",
        yaxis_title="Comments",
        legend=dict(orientation="h", y=-0.25),
    )
    fig.update_layout(height=320)
    return fig


def engagement(ev: InitiativeEvidence, keys: list[str]) -> go.Figure:
    """Engagement metrics across iterations, indexed to their first value (= 100) so metrics
    of different units share one axis; hover shows the values themselves."""
    fig = go.Figure()
    for key in keys:
        hist = ev.history(key)
        if not hist or not hist[0][1]:
            continue
        meta = ev.catalog.get(key, {})
        first = hist[0][1]
        fig.add_trace(
            go.Scatter(
                x=[f"It. {n}" for n, _ in hist],
                y=[100 * v / first for _, v in hist],
                customdata=[format_value(v, shown_unit(meta)) for _, v in hist],
                name=safe(meta.get("display_name", key)),
                mode="lines+markers",
                hovertemplate="%{x}: %{customdata} (index %{y:.0f})<extra></extra>",
            )
        )
    fig.add_hline(y=100, line_dash="dot", line_color="#9e9e9e")
    fig.update_layout(
        **_LAYOUT,
        title="Engagement metrics across iterations (first iteration = 100)",
        yaxis_title="Index",
        # Named even when there is one: plotly hides the legend of a single line, which left
        # the line unlabelled.
        showlegend=True,
        legend=dict(orientation="h", y=-0.2),
    )
    return fig


def concern_burndown(rows: list[dict]) -> go.Figure:
    """Open concerns at the end of each iteration, with the high and critical ones."""
    # On two lines, so the labels need no slant (slanted, they were cut and ran into the
    # legend); the day as every screen writes it, its year on the first day and where the
    # year changes, as calendars and axes do ("13 Jul 2026", "3 Aug", …: with the year on every
    # label they ran into each other), "today" for an iteration running.
    x = [f"It. {r['iteration']}<br>" + ("today" if r.get("so_far") else "") for r in rows]
    year = None
    for k, r in enumerate(rows):
        if r.get("so_far") or not r["date"]:
            continue
        x[k] += (
            format_date(r["date"]) if r["date"].year != year else f"{r['date'].day} {r['date']:%b}"
        )
        year = r["date"].year
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=x,
            y=[r["open"] for r in rows],
            name="Open",
            mode="lines+markers",
            fill="tozeroy",
            line=dict(color="#ef6c00", width=3),
            hovertemplate="%{x}: %{y} open<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=[r["severe"] for r in rows],
            name="High or critical",
            mode="lines+markers",
            line=dict(color="#b71c1c", dash="dot"),
            hovertemplate="%{x}: %{y} high or critical<extra></extra>",
        )
    )
    fig.update_layout(
        **_LAYOUT,
        title="Open concerns at the end of each iteration",
        yaxis_title="Concerns",
        xaxis=dict(tickangle=0, automargin=True),
        legend=dict(orientation="h", y=-0.3),
    )
    return fig


def concern_matrix(matrix: list, categories: dict, severities: list[str]) -> go.Figure:
    """Open concerns by failure category (rows) and severity (columns)."""
    counts = {(cat, sev): n for cat, sev, n in matrix}
    z = [[counts.get((cat, sev), 0) for sev in severities] for cat in categories]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=[s.capitalize() for s in severities],
            y=list(categories.values()),
            colorscale=[[0, "#fafafa"], [1, "#c62828"]],
            showscale=False,
            text=z,
            texttemplate="%{text}",
            hovertemplate="%{y}, %{x}: %{z} open<extra></extra>",
        )
    )
    fig.update_layout(**_LAYOUT, title="Open concerns: failure category × severity")
    fig.update_layout(height=300)
    return fig


def buy_in(people: list[dict], numbers: list[int]) -> go.Figure:
    """Stakeholders by stance per iteration (bars) and the influence-weighted support (line)."""
    x = [f"It. {n}" for n in numbers]
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    for stance, colour in STANCE_COLOURS.items():
        fig.add_trace(
            go.Bar(
                x=x,
                y=[sum(1 for p in people if p["stances"].get(n) == stance) for n in numbers],
                name=stance.capitalize(),
                marker_color=colour,
                hovertemplate=f"%{{x}}: %{{y}} {stance}s<extra></extra>",
            ),
            secondary_y=False,
        )
    weighted = []
    for n in numbers:
        with_stance = [p for p in people if n in p["stances"]]
        total = sum(p["influence"] for p in with_stance)
        weighted.append(
            sum(p["influence"] * STANCE_VALUE[p["stances"][n]] for p in with_stance) / total
            if total
            else None
        )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=weighted,
            name="Support weighted by influence",
            mode="lines+markers",
            line=dict(color="#1f4e79", width=3),
            hovertemplate="%{x}: %{y:+.2f} (from −2, all blockers, to +2, all advocates)<extra></extra>",
        ),
        secondary_y=True,
    )
    fig.update_layout(
        **_LAYOUT,
        barmode="stack",
        title="Stakeholder buy-in across iterations",
        legend=dict(orientation="h", y=-0.25),
    )
    fig.update_layout(height=320)
    fig.update_yaxes(title_text="Stakeholders", secondary_y=False)
    fig.update_yaxes(
        title_text="Weighted support",
        range=[-2.2, 2.2],
        tickvals=[-2, 0, 2],
        ticktext=["All blockers", "Neutral", "All advocates"],
        showgrid=False,
        secondary_y=True,
    )
    return fig


def rubric_sections(sections: dict[str, float], maxima: dict[str, int], floor: float) -> go.Figure:
    """Each rubric section's total against the gate's floor (the score is the lowest)."""
    lowest = min(sections.values())
    fig = go.Figure(
        go.Bar(
            x=[SECTION_LABELS[s] for s in sections],
            y=list(sections.values()),
            marker_color=[
                "#c62828" if v < floor else ("#ef6c00" if v == lowest else "#2e7d32")
                for v in sections.values()
            ],
            text=[f"{v:g} of {maxima[s]}" for s, v in sections.items()],
            textposition="auto",
            hovertemplate="%{x}: %{y:g} points<extra></extra>",
        )
    )
    fig.add_hline(y=floor, line_dash="dash", line_color="#616161")
    fig.update_layout(
        **_LAYOUT,
        title=f"Readiness rubric by section: the score is the lowest<br><sup>dashed: the "
        f"{floor:g} points each section needs for the gate</sup>",
        yaxis_title="Points",
        yaxis_range=[0, max(maxima.values())],
    )
    return fig


# ----------------------------------------------------------------------------- people views
# Each draws one view of the people screens (people.views), as ui.cache.view_figure caches it.


def feedback_volume_of(view) -> go.Figure:
    return feedback_volume(view.rows)


def rating_distribution_of(view) -> go.Figure:
    return rating_distribution(view.rows)


def sentiment_of(view) -> go.Figure:
    return sentiment(view.rows)


def themes_of(view) -> go.Figure:
    return themes(view.themes["by_iteration"], view.themes["source"])


def concern_burndown_of(view) -> go.Figure:
    return concern_burndown(view.burndown)


def buy_in_of(view) -> go.Figure:
    return buy_in(view.people, view.numbers)


def concern_matrix_of(view) -> go.Figure:
    labels = dict(people_views.CATEGORY_LABELS)
    if any(cat is None for cat, _, _ in view.facets["matrix"]):
        labels[None] = people_views.UNCATEGORISED_LABEL  # a row for those awaiting triage
    return concern_matrix(view.facets["matrix"], labels, list(SEVERITIES)[::-1])


def rubric_of(view) -> go.Figure:
    return rubric_sections(
        view.readiness.sections, readiness_views.rubric_maxima(), view.floor_readiness
    )


# Type on the projector: read from across a meeting room (the slide's own text is 20 px and up).
PROJECTOR_FONT_PX = 20


def for_projector(fig: go.Figure) -> go.Figure:
    """A copy of `fig` for a slide in presentation mode: large type, no fixed height (it takes
    the height the slide leaves), its title left to the slide's heading, the legend above the
    plot, and margins that grow to fit the axis labels so no axis is cut."""
    out = go.Figure(fig)
    # Room above the plot for the titles of panels in its top row (they sit just above it).
    titled = any(
        a.yref == "paper" and a.y is not None and a.y >= 0.99 for a in out.layout.annotations
    )
    out.update_layout(
        height=None,
        title=None,
        font=dict(size=PROJECTOR_FONT_PX),
        legend=dict(
            orientation="h",
            x=0,
            xanchor="left",
            y=1.02,
            yanchor="bottom",
            font=dict(size=PROJECTOR_FONT_PX),
        ),
        margin=dict(l=10, r=10, t=PROJECTOR_FONT_PX * 2 if titled else 10, b=10),
    )
    # A label over a line stays legible from the back of the room.
    out.update_annotations(font_size=PROJECTOR_FONT_PX - 2, bgcolor="rgba(255, 255, 255, 0.85)")
    out.update_xaxes(automargin=True, tickfont_size=PROJECTOR_FONT_PX - 2)
    out.update_yaxes(automargin=True, tickfont_size=PROJECTOR_FONT_PX - 2)
    return out
