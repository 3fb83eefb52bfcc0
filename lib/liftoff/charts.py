"""Charts: pure functions from figures to plotly Figures. Never calls streamlit."""

from __future__ import annotations

import plotly.graph_objects as go

from liftoff.evidence import InitiativeEvidence

DECISION_COLOURS = {
    "go": "#2e7d32",
    "no-go": "#c62828",
    "pivot": "#ef6c00",
    "extend": "#1565c0",
    "pending": "#9e9e9e",
}
_LAYOUT = dict(margin=dict(l=10, r=10, t=40, b=10), template="plotly_white", height=260)


def headroom_bars(cards: list, warning: float) -> go.Figure:
    """Horizontal bars of capacity headroom per initiative with the warning line."""
    with_data = [c for c in cards if c.headroom is not None]
    fig = go.Figure(
        go.Bar(
            x=[c.headroom * 100 for c in with_data],
            y=[c.name for c in with_data],
            orientation="h",
            marker_color=["#c62828" if c.headroom < warning else "#2e7d32" for c in with_data],
            text=[c.headroom_text for c in with_data],
            textposition="auto",
            hovertemplate="%{y}: %{x:.0f}% of capacity free<extra></extra>",
        )
    )
    fig.add_vline(
        x=warning * 100,
        line_dash="dash",
        line_color="#616161",
        annotation_text=f"{warning:.0%} warning",
        annotation_position="top",
    )
    fig.update_layout(
        **_LAYOUT,
        title="Capacity headroom at latest peak traffic",
        xaxis_title="Free capacity (%)",
        yaxis_title=None,
    )
    fig.update_layout(height=max(180, 70 * len(with_data) + 80))
    return fig


def iteration_timeline(ev: InitiativeEvidence) -> go.Figure:
    """The initiative's iterations as bars on a calendar, coloured by decision."""
    fig = go.Figure()
    for decision, colour in DECISION_COLOURS.items():
        its = [
            it for it in ev.iterations if it.decision == decision and it.start_date and it.end_date
        ]
        if not its:
            continue
        fig.add_trace(
            go.Bar(
                base=[it.start_date.isoformat() for it in its],
                x=[(it.end_date - it.start_date).days * 86_400_000 + 86_400_000 for it in its],
                y=[f"Iteration {it.number}" for it in its],
                orientation="h",
                name=decision.capitalize() if decision != "no-go" else "No-go",
                marker_color=colour,
                customdata=[
                    [it.label or "", it.start_date.isoformat(), it.end_date.isoformat()]
                    for it in its
                ],
                hovertemplate="%{y}: %{customdata[0]}<br>%{customdata[1]} to %{customdata[2]}<extra>%{fullData.name}</extra>",
            )
        )
    fig.update_layout(
        **_LAYOUT,
        title="Iterations and decisions",
        barmode="overlay",
        xaxis_type="date",
        legend_title_text="Decision",
    )
    order = [f"Iteration {it.number}" for it in ev.iterations]
    fig.update_yaxes(categoryorder="array", categoryarray=order, autorange="reversed")
    fig.update_layout(height=max(220, 34 * len(order) + 110))
    return fig
