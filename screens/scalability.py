"""Scalability: load-test curves, capacity at the SLO, headroom and runway."""

import streamlit as st

from liftoff import charts
from liftoff.evidence import portfolio, views
from liftoff.evidence import reads as evidence_reads
from liftoff.ui import cache, text, widgets

ev = widgets.initiative_screen(
    "Scalability", "Upload load-test results and peak traffic for it.", whole_initiative=True
)
widgets.whole_initiative_note(
    ev, "Every iteration's load tests; headroom and runway of the latest, iteration {latest}."
)
ini = ev.initiative
st.markdown("**" + text.plain(views.scalability_sentence(ev)) + "**")
st.caption(
    text.plain(
        f"Capacity is the most requests per second a load-test step served while 95 in 100 "
        f"responses came within the {ini['slo_p95_ms']:,.0f} ms latency target and failures stayed "
        f"within {ini['max_error_rate'] * 100:.1f}%."
    )
)

steps = cache.read(evidence_reads.load_steps, [ini["id"]])
if not steps:
    st.info(
        "No load-test results yet. Upload a load-test file (iteration, users, rps, p95_ms, "
        "error_rate) or Locust's _stats_history.csv on the Upload data page.",
        icon=":material/speed:",
    )
else:
    st.plotly_chart(cache.load_curves_figure(ini["name"]), width="stretch")
    left, right = st.columns([3, 2])
    with left:
        st.plotly_chart(cache.figure(charts.capacity_trend, ini["name"]), width="stretch")
    with right:
        st.plotly_chart(
            cache.figure(charts.headroom_gauge, ini["name"], portfolio.HEADROOM_WARNING),
            width="stretch",
        )
    widgets.table(
        cache.evidence_table(views.capacity_table, ini["name"]).shown,
        hide_index=True,
        width="stretch",
    )

st.subheader("Runway", anchor=False)
if not ev.traffic:
    st.info(
        "No peak traffic yet. Upload a traffic file (date, peak_rps) to see when capacity runs out.",
        icon=":material/trending_up:",
    )
    st.stop()
fit = ev.runway.fit
fitted = views.fitted_weekly_growth(ev)
growth = views.what_if_growth(
    ev,
    st.slider(
        "What if peak traffic grows by this much a week (%)",
        -5.0,
        30.0,
        round(fitted * 100, 1),
        0.5,
        format="%.1f%%",  # "5.8%", not "5.80"
        help="Starts at the fitted trend's growth.",
    ),
)
what_if, what_if_text = views.what_if_series(ev, growth)
st.plotly_chart(cache.figure(charts.runway, ini["name"], what_if), width="stretch")
if fit:
    st.caption(text.plain(views.trend_caption(ev, what_if_text)))
