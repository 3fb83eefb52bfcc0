"""Model versus business: are model gains showing up in the business KPI?"""

import streamlit as st

from liftoff import charts
from liftoff.evidence import views
from liftoff.ui import cache, text, widgets

ev = widgets.initiative_screen(
    "Model versus business", "Upload metrics with a model metric and a business KPI per iteration."
)
number = widgets.pick_iteration(
    [it.number for it in ev.iterations], {it.number: it.title for it in ev.iterations}
)
# As of the chosen iteration: the sentence, the charts and the correlation end there.
ev = ev.as_of(number)
models = views.metric_choices(ev, "model")
kpis = views.metric_choices(ev, "business_kpi")
if not models or not kpis:
    missing = " and ".join(
        w for w, have in (("a model metric", models), ("a business KPI", kpis)) if not have
    )
    st.info(
        text.plain(
            f"This initiative reports no {missing} yet. Upload a metrics file with both "
            "(category model and business_kpi), one value per iteration."
        ),
        icon=":material/upload_file:",
    )
    st.stop()

left, right = st.columns(2)
primary = ev.initiative["primary_metric"]
model = left.selectbox(
    "Model metric",
    models,
    index=models.index(primary) if primary in models else 0,
    format_func=lambda k: views.label(ev, k),
)
kpi = right.selectbox(
    "Business KPI",
    kpis,
    index=kpis.index(ev.lead_kpi) if ev.lead_kpi in kpis else 0,
    format_func=lambda k: views.label(ev, k),
)

sentence, warning = views.model_business_sentence(ev, model, kpi)
st.markdown("**" + text.plain(sentence) + "**")
if views.later_note(ev):
    st.caption(text.plain(views.later_note(ev)))
st.plotly_chart(
    cache.figure(charts.model_and_kpi, ev.initiative["name"], model, kpi, through=number),
    width="stretch",
)

left, right = st.columns([3, 2])
with left:
    st.plotly_chart(
        cache.figure(charts.model_kpi_scatter, ev.initiative["name"], model, kpi, through=number),
        width="stretch",
    )
with right:
    st.subheader("How closely they move together", anchor=False)
    st.markdown(text.plain(views.correlation_text(ev, model, kpi)))
    if warning:
        st.warning(text.plain(warning), icon=":material/warning:")
    else:  # with too few iterations there is no rank-order figure to explain
        st.caption(
            "The rank-order figure looks only at which iterations were higher, so one unusual "
            "iteration sways it less."
        )

segments = cache.segments_figure(ev.initiative["name"], number, (model, kpi))
st.subheader(f"Segments in iteration {number}", anchor=False)
if segments is not None:
    st.plotly_chart(segments, width="stretch")
else:
    st.info(
        "No segment breakdown for this iteration. Add a `segment` column (for example region) "
        "to a metrics upload to compare segments.",
        icon=":material/segment:",
    )
