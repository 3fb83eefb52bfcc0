"""Portfolio overview: every initiative on one screen."""

import streamlit as st

from liftoff.evidence import portfolio
from liftoff.formatting import NO_CHANGE
from liftoff.ui import cache, text, widgets

st.title("Portfolio")
cards = cache.read(portfolio.overview)
if not cards:
    st.info(
        "No initiatives yet. Load the demo portfolio with `liftoff demo` "
        "(`make run` does it on an empty database), or import your own metrics with "
        "`liftoff import metrics.csv --create`.",
        icon=":material/upload_file:",
    )
    st.stop()

st.markdown(text.plain(portfolio.headline(cards)))
default = "Cards" if len(cards) <= portfolio.CARDS_UP_TO else "Table"
layout = st.segmented_control(
    "Show the initiatives as",
    ["Cards", "Table"],
    default=default,
    key="view",
    # In the URL (?view=Table), so a shared link or a reload keeps the choice.
    bind="query-params",
    help="Cards give each initiative a panel; the table puts one initiative on each line.",
)

if (layout or default) == "Table":
    widgets.table(
        cache.overview_table().shown,
        hide_index=True,
        width="stretch",
        # Three lines a row: a long KPI name and its figure wrap in their column instead of
        # being cut, and every column up to Headroom is in view at 1440x900.
        row_height=widgets.WRAPPED_ROWS,
        column_config={
            "Initiative": st.column_config.TextColumn(pinned=True, width=128),
            "Open": st.column_config.LinkColumn(
                display_text="Open", help="The initiative's iterations and decision.", width=48
            ),
            "Decision": st.column_config.TextColumn(
                help="The decision recorded on the latest iteration, and whether the "
                "readiness gate lets it go to production.",
                width=92,
            ),
            "Criteria met": st.column_config.TextColumn(width=86),
            "Model metric": st.column_config.TextColumn(
                help="The primary model metric: latest value and change from the previous iteration.",
                width=132,
            ),
            "Model trend": st.column_config.LineChartColumn(
                "Trend",
                help="The model metric at every iteration, oldest first, on a scale from zero.",
                width=54,
                y_min=0,
            ),
            "Business KPI": st.column_config.TextColumn(
                help="The lead business KPI: latest value and change from the previous iteration.",
                width=142,
            ),
            "KPI trend": st.column_config.LineChartColumn(
                "Trend",
                help="The KPI at every iteration, oldest first, on a scale from zero.",
                width=54,
                y_min=0,
            ),
            "Severe concerns": st.column_config.NumberColumn(
                "Concerns",
                help="Open or mitigating concerns of high or critical severity.",
                format="%d severe",
                width=80,
                alignment="left",
            ),
            "Alerts firing": st.column_config.NumberColumn(
                "Alerts",
                help="Alert rules whose condition the latest evidence meets.",
                format="%d firing",
                width=70,
                alignment="left",
            ),
            "Headroom": st.column_config.TextColumn(
                help="Share of capacity still free at the latest peak traffic.", width=82
            ),
            "Runway": st.column_config.TextColumn(
                help="When capacity runs out at the current traffic trend.", width=170
            ),
            "Needs attention": st.column_config.TextColumn(width="large"),
        },
    )

for card in cards if (layout or default) == "Cards" else []:
    with st.container(border=True):
        head, link = st.columns([5, 1], vertical_alignment="center")
        head.subheader(text.plain(card.name), anchor=False)
        # The decision label is one of Liftoff's own words, never user text.
        badges = head.container(horizontal=True)
        badges.badge(f"Decision: {card.decision}", color=card.decision_colour)
        if card.ready is not None:
            badges.badge(
                "Ready" if card.ready else "Not ready",
                icon=":material/check_circle:" if card.ready else ":material/block:",
                color="green" if card.ready else "red",
            )
        head.caption(
            text.plain(" · ".join(x for x in (card.latest_iteration, card.stage, card.owner) if x))
        )
        if card.last_decision:
            head.caption(text.plain(card.last_decision))
        link.page_link(
            "screens/iterations.py",
            label="Open",
            icon=":material/arrow_forward:",
            query_params={"initiative": card.name},
        )
        # The KPI's name is the longest label ("90-day customer retention"): room for it.
        cols = st.columns([1, 1.35, 1.65, 1.05, 1, 1])
        # Each figure in its own tile, all of one height: side by side, the model metric's and
        # the KPI's bars read as one row of bars.
        tile_style = dict(border=True, height="stretch")
        cols[0].metric(
            "Criteria met",
            card.criteria,
            help="Criteria of the latest iteration met by its evidence (— when it has none).",
            **tile_style,
        )
        for col, tile, fallback, missing in (
            (cols[1], card.model, "Primary model metric", card.model_missing),
            (cols[2], card.kpi, "Lead business KPI", card.kpi_missing),
        ):
            if tile is None:
                col.metric(fallback, "—", help=text.plain(missing), **tile_style)
                continue
            col.metric(
                text.plain(tile.label),
                tile.value,
                tile.delta,
                delta_color="inverse" if tile.lower_is_better else "normal",
                # "no change" gets no arrow (an up arrow read as a gain).
                delta_arrow="off" if tile.delta == NO_CHANGE else "auto",
                chart_data=tile.trend if len(tile.trend) > 1 else None,
                # Bars stand on zero: a line is scaled to its own range, which makes a
                # 0.2-point change look like strong growth.
                chart_type="bar",
                help="Latest iteration, change from the previous one; the bars show every "
                "iteration, oldest first, from zero.",
                **tile_style,
            )
        cols[3].metric(
            "Severe concerns",
            card.open_severe_concerns,
            help="Open or mitigating concerns of high or critical severity.",
            **tile_style,
        )
        cols[5].metric(
            "Alerts firing",
            card.firing_alerts,
            help="Alert rules whose condition the latest evidence meets (Monitoring and alerts).",
            **tile_style,
        )
        cols[4].metric(
            "Headroom",
            card.headroom_text,
            help="Share of capacity still free at the latest peak traffic. " + card.runway_text,
            **tile_style,
        )
        st.caption(text.plain(card.runway_text))
        if card.candidate:
            st.caption(
                text.plain(
                    portfolio.candidate_line(card.candidate, card.model and card.model.label)
                )
            )
        if card.open_actions:
            st.caption(
                text.plain(
                    f"Open action items ({len(card.open_actions)}): "
                    + "; ".join(card.open_actions[:3])
                    + ("; …" if len(card.open_actions) > 3 else "")
                )
            )
        if card.gate_text and not card.ready:
            st.caption(text.plain("Readiness gate — " + card.gate_text))
        if card.attention:
            st.warning(
                text.plain("Needs attention: " + "; ".join(card.attention) + "."),
                icon=":material/warning:",
            )

if any(c.headroom is not None for c in cards):
    st.plotly_chart(cache.headroom_figure(), width="stretch")
