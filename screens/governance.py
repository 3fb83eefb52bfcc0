"""Governance and readiness: the gate for the chosen iteration, the checklist, the rubric."""

import streamlit as st

from liftoff import charts
from liftoff.db.models import GOVERNANCE_AREAS, GOVERNANCE_STATUSES, STAGES
from liftoff.formatting import STAGE_WORDS
from liftoff.readiness import rules as readiness_rules
from liftoff.readiness import views as readiness_views
from liftoff.readiness import writes as readiness_writes
from liftoff.ui import cache, session, text, widgets

ev = widgets.initiative_screen(
    "Governance and readiness",
    "Upload a governance checklist (area, status, evidence, owner) or fill it in here.",
)
name, stage = ev.initiative["name"], ev.initiative["stage"]
number = widgets.pick_iteration(
    [it.number for it in ev.iterations], {it.number: it.title for it in ev.iterations}
)
view = cache.evidence_read(readiness_views.governance_view, name, number)
editor = session.can("edit")

st.subheader(f"Readiness gate for iteration {number}", anchor=False)
if view.gate.ready:
    st.success(text.plain(view.gate.sentence), icon=":material/check_circle:")
else:
    st.warning(
        "**Not ready**, because (each opens the screen that shows it):", icon=":material/block:"
    )
    for reason in view.gate.reasons:
        st.page_link(
            f"screens/{reason.screen}.py",
            label=text.plain(reason.text[0].upper() + reason.text[1:] + "."),
            icon=":material/arrow_forward:",
            query_params={"initiative": name, "iteration": str(number)},
        )
st.caption(
    "The gate holds when the iteration's criteria are met, no critical concern is open, no "
    "critical alert fires, capacity headroom is at least "
    f"{view.floor_headroom:.0%} and the readiness score at least {view.floor_readiness:g}. "
    + text.plain(view.as_of_line)
)

st.markdown(text.plain(readiness_views.readiness_sentence(view)))
a, b, c = st.columns(3)
a.metric(
    "Readiness score",
    f"{view.readiness.score:g} of {min(readiness_views.rubric_maxima().values())} points",
    help="The lowest section total of the rubric (ML Test Score): "
    + readiness_rules.score_meaning(view.readiness.score)
    + ".",
)
b.metric(
    "Governance items done",
    f"{view.score.done} of {view.score.required}",
    help="Items required at this stage that are done or not applicable.",
)
c.metric(
    "Gate conditions failing",
    len(view.gate.reasons),
    help="Each is listed above with a link to its screen.",
)

tab_checklist, tab_rubric = st.tabs(
    ["Governance checklist", "Readiness rubric"], key="tab", bind="query-params"
)
if tab_checklist.open:  # only the chosen tab runs
    with tab_checklist:
        st.caption(
            "Essentials first: a proof of concept needs data sources, PII and consent; a pilot adds "
            "access control, data retention and monitoring; production adds lineage, model card, "
            "fairness, runbook and on-call, and a rollback plan."
        )
        widgets.table(
            view.checklist,
            hide_index=True,
            width="stretch",
            row_height=widgets.WRAPPED_ROWS,
            # Widths that add up to the page's at 1440x900 (no sideways scroll).
            column_config={
                "Area": st.column_config.TextColumn(width=135),
                "Status": st.column_config.TextColumn(width=95),
                "Gap": st.column_config.TextColumn(width=95),
                "Required from": st.column_config.TextColumn(width=120),
                "Required now": st.column_config.TextColumn(width=105),
                "Owner": st.column_config.TextColumn(width=100),
                "Updated": st.column_config.DateColumn(width=105, format=widgets.DATE_FORMAT),
                "Evidence": st.column_config.TextColumn(width=205),
            },
        )
        if editor:
            existing = {i["area"]: i for i in view.items}
            area = st.selectbox(
                "Item", GOVERNANCE_AREAS, format_func=readiness_views.GOVERNANCE_LABELS.get
            )
            item = existing.get(area, {})
            with st.form(f"governance_{area}"):
                g1, g2, g3 = st.columns(3)
                status = g1.selectbox(
                    "Status",
                    GOVERNANCE_STATUSES,
                    index=GOVERNANCE_STATUSES.index(item.get("status", "missing")),
                    format_func=readiness_views.GOVERNANCE_STATUS_LABELS.get,
                )
                from_stage = g2.selectbox(
                    "Required from",
                    STAGES[:3],
                    index=STAGES[:3].index(item["required_from"]) if item else 0,
                    format_func=STAGE_WORDS.get,
                )
                owner = g3.text_input("Owner", value=item.get("owner") or "")
                evidence = st.text_area(
                    "Evidence", value=item.get("evidence") or "", placeholder="A link or a sentence"
                )
                if st.form_submit_button("Save the item", type="primary"):
                    widgets.save(
                        readiness_writes.save_governance_item,
                        name,
                        area,
                        status=status,
                        evidence=evidence,
                        owner=owner,
                        required_from=from_stage if item else None,
                    )
        else:
            session.edit_hint("set each item's status, evidence and owner here")

if tab_rubric.open:  # only the chosen tab runs
    with tab_rubric:
        st.plotly_chart(
            cache.view_figure(readiness_views.governance_view, charts.rubric_of, name, number),
            width="stretch",
        )
        st.caption(
            "Modelled on Google's ML Test Score (Breck et al., 2017): each test scores 0 (not done), "
            "0.5 (done by hand) or 1 (automated); a section's points add up and the score is the "
            "lowest section. Liftoff fills three monitoring tests from what it holds."
        )
        for section, label in readiness_rules.SECTION_LABELS.items():
            st.markdown(f"**{label}: {view.readiness.sections[section]:g} points**")
            widgets.table(
                view.rubric_tables[section],
                hide_index=True,
                width="stretch",
                row_height=widgets.WRAPPED_ROWS,
                # Widths that add up to the page's: no sideways scrolling at 1440x900.
                column_config={
                    "Test": st.column_config.TextColumn(width=380),
                    "Score": st.column_config.TextColumn(width=140),
                    "Scored by": st.column_config.TextColumn(width=170),
                    "Note": st.column_config.TextColumn(width=270),
                },
            )
            for note in readiness_views.rubric_long_notes(view.readiness, section):
                st.caption(text.plain(note))
        if editor:
            scorable = [i for i in view.readiness.items if i.key not in readiness_rules.AUTOMATIC]
            with st.form("score_item"):
                st.markdown("**Score a test**")
                key = st.selectbox(
                    "Test",
                    [i.key for i in scorable],
                    format_func=lambda k: (
                        f"{readiness_rules.SECTION_LABELS[readiness_rules.RUBRIC_ITEMS[k][0]]} · "
                        + readiness_rules.RUBRIC_ITEMS[k][1]
                    ),
                )
                score = st.radio(
                    "Score",
                    readiness_rules.SCORES,
                    format_func=readiness_rules.SCORE_LABELS.get,
                    horizontal=True,
                )
                note = st.text_input("Note", placeholder="How it is done, or what is missing")
                if st.form_submit_button("Save the score", type="primary"):
                    widgets.save(
                        readiness_writes.score_readiness, name, key, score=score, note=note
                    )
            with st.form("floors"):
                st.markdown("**Gate floors for this initiative**")
                f1, f2 = st.columns(2)
                headroom = f1.number_input(
                    "Headroom floor (fraction: 0.25 is 25%)",
                    value=float(view.floor_headroom),
                    min_value=0.0,
                    max_value=0.95,
                    step=0.05,
                )
                readiness = f2.number_input(
                    "Readiness floor (score)",
                    value=float(view.floor_readiness),
                    min_value=0.0,
                    max_value=8.0,
                    step=0.5,
                )
                if st.form_submit_button("Save the floors"):
                    widgets.save(
                        readiness_writes.set_gate_floors,
                        name,
                        min_headroom=headroom,
                        min_readiness=readiness,
                    )
        else:
            session.edit_hint("score the rubric and set the gate's floors here")
