"""Iterations and decision: the timeline, the chosen iteration's criteria, every headline metric."""

import streamlit as st

from liftoff import charts, export, ui, views

st.title("Iterations and decision")
names = [i["name"] for i in ui.read("initiatives")]
if not names:
    st.info(
        "No initiatives yet. Load the demo portfolio with `liftoff demo`, or import metrics "
        "with `liftoff import metrics.csv --create`.",
        icon=":material/upload_file:",
    )
    st.stop()

name = ui.pick_initiative(names)
ev = ui.read("initiative", name)
st.caption(ui.plain(f"{ev.initiative['name']} · {ev.initiative['business_goal'] or ''}"))
if not ev.iterations:
    st.info(
        "This initiative has no iterations yet. Import metrics with an `iteration` column "
        "(`liftoff import metrics.csv --initiative NAME --create`).",
        icon=":material/upload_file:",
    )
    st.stop()

number = ui.pick_iteration(
    [it.number for it in ev.iterations], {it.number: it.title for it in ev.iterations}
)
view = views.iteration_view(ev, number)
st.markdown("**" + ui.plain(view.headline) + "**")

st.plotly_chart(charts.iteration_timeline(ev), width="stretch")

left, right = st.columns([1, 2])
with left:
    st.metric("Decision", view.decision, help=view.decision_detail)
    st.caption(ui.plain(view.decision_detail))
with right:
    if view.hypothesis:
        st.markdown("**Hypothesis**")
        st.text(view.hypothesis)
    if view.rationale:
        st.markdown("**Rationale**")
        st.text(view.rationale)
    if view.candidate:
        st.caption(
            ui.plain(
                f"Headline figures come from candidate {view.candidate}, the best on the primary metric."
            )
        )

st.subheader("Criteria", anchor=False)
if view.criteria.empty:
    st.info(
        "No criteria for this iteration yet. Import a criteria file for it.", icon=":material/rule:"
    )
else:
    st.dataframe(view.criteria, hide_index=True, width="stretch")

st.subheader("Headline metrics across iterations", anchor=False)
if view.metrics.empty:
    st.info(
        "No metrics yet. Import a metrics file for this initiative.", icon=":material/upload_file:"
    )
else:
    st.caption("★ marks the best value of each metric. Click a column to sort.")
    st.dataframe(view.metrics, hide_index=True, width="stretch")
    st.download_button(
        "Download as CSV",
        export.safe_csv(view.metrics_raw),
        file_name=f"{ev.initiative['name']}-metrics.csv",
        mime="text/csv",
        icon=":material/download:",
    )
