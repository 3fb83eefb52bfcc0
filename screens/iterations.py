"""Iterations and decision: the timeline, the chosen iteration's criteria, every headline metric."""

import streamlit as st

from liftoff import charts
from liftoff.db.models import COMPARATORS
from liftoff.evidence import reads as evidence_reads
from liftoff.evidence import views
from liftoff.evidence import writes as evidence_writes
from liftoff.formatting import DECISION_LABELS, KIND_LABELS, STAGE_LABELS, comparator_words
from liftoff.meeting import pack as steering_pack
from liftoff.meeting import reads as meeting_reads
from liftoff.meeting import writes as meeting_writes
from liftoff.ui import cache, session, text, widgets

st.title("Iterations and decision")
names = [i["name"] for i in cache.read(evidence_reads.initiatives)]
if not names:
    st.info(
        "No initiatives yet. Load the demo portfolio with `liftoff demo`, or import metrics "
        "with `liftoff import metrics.csv --create`.",
        icon=":material/upload_file:",
    )
    st.stop()

name = widgets.pick_initiative(names)
ev = cache.initiative_evidence(name)
st.caption(text.plain(f"{ev.initiative['name']} · {ev.initiative['business_goal'] or ''}"))
if not ev.iterations:
    st.info(
        "This initiative has no iterations yet. Import metrics with an `iteration` column "
        "(`liftoff import metrics.csv --initiative NAME --create`).",
        icon=":material/upload_file:",
    )
    st.stop()

number = widgets.pick_iteration(
    [it.number for it in ev.iterations], {it.number: it.title for it in ev.iterations}
)
view = cache.evidence_view(views.iteration_view, ev.initiative["name"], number)
st.markdown("**" + text.plain(view.headline) + "**")

if ev.dated:
    st.plotly_chart(
        cache.figure(charts.iteration_timeline, ev.initiative["name"], number), width="stretch"
    )
if undated := views.undated_iterations(ev):
    st.caption(text.plain(undated))

left, right = st.columns([1, 2])
with left:
    st.metric("Decision", view.decision, help=text.plain(view.decision_detail))
    st.caption(text.plain(view.decision_detail))
with right:
    if view.hypothesis:
        st.markdown("**Hypothesis**")
        st.text(view.hypothesis)
    if view.rationale:
        st.markdown("**Rationale**")
        st.text(view.rationale)
    if view.candidate:
        st.caption(text.plain(views.candidate_note(ev, view.candidate)))

records = cache.read(meeting_reads.decisions, ev.iteration(number).id)
if records:
    with st.expander(
        f"Decisions recorded in meetings ({len(records)})", icon=":material/gavel:", expanded=True
    ):
        widgets.table(steering_pack.decision_table(records), hide_index=True, width="stretch")
        items = [a for r in records for a in r["actions"]]
        if items:
            st.markdown("**Action items**")
            widgets.table(steering_pack.action_table(items), hide_index=True, width="stretch")
            still_open = [a for a in items if a["status"] == "open"]
            if still_open and session.can("edit"):
                done = st.selectbox(
                    "Mark an action item done",
                    [None, *[a["id"] for a in still_open]],
                    format_func=lambda i: (
                        "—"
                        if i is None
                        else next(
                            f"{a['title']} ({a['owner']})" for a in still_open if a["id"] == i
                        )
                    ),
                )
                if done is not None and st.button("Mark done", icon=":material/task_alt:"):
                    widgets.save(meeting_writes.set_action_done, done)

st.subheader("Criteria", anchor=False)
if view.criteria.empty:
    st.info(
        "No criteria for this iteration yet. Import a criteria file for it.", icon=":material/rule:"
    )
else:
    # Widths that add up to the page's at 1440x900: the evidence note and the batch in view.
    widgets.table(
        view.criteria.shown,
        hide_index=True,
        width="stretch",
        row_height=widgets.WRAPPED_ROWS,
        column_config={
            "Kind": st.column_config.TextColumn(width=130),
            "Criterion": st.column_config.TextColumn(width=250),
            "Target": st.column_config.TextColumn(width=115),
            "Value": st.column_config.TextColumn(width=80),
            "Status": st.column_config.TextColumn(width=90),
            "Change from previous iteration": st.column_config.TextColumn(
                "Change", width=85, help="From the previous iteration."
            ),
            "Evidence note": st.column_config.TextColumn(width=150),
            "Import batch": st.column_config.TextColumn(
                "Import",
                width=60,
                help="The import the value came from: its number in the Import history.",
            ),
        },
    )

st.subheader("Headline metrics across iterations", anchor=False)
if view.metrics.empty:
    st.info(
        "No metrics yet. Import a metrics file for this initiative.", icon=":material/upload_file:"
    )
else:
    st.caption(
        text.plain(
            " ".join(
                x
                for x in (
                    "★ marks the best value of each metric. Click a column to sort.",
                    views.later_note(ev.as_of(number)),
                )
                if x
            )
        )
    )
    # The metric's name pinned, then its latest change and the iterations newest first: what
    # an executive looks for is on the screen however many iterations there are.
    widgets.table(
        view.metrics.shown,
        hide_index=True,
        width="stretch",
        column_order=views.metrics_column_order(view.metrics.frame),
        column_config={
            "Metric": st.column_config.TextColumn(width=230, pinned=True),
            "Category": st.column_config.TextColumn(width=115),
            "Latest change": st.column_config.TextColumn(width=130),
        },
    )
    widgets.csv_download(
        "Download as CSV", lambda: view.metrics_raw, f"{ev.initiative['name']}-metrics.csv"
    )

st.divider()
if not session.can("edit"):
    session.edit_hint("record the decision, change the criteria and describe the iteration here")
    st.stop()
st.subheader("Record the decision", anchor=False)
it = ev.iteration(number)
with st.form(f"decision_{ev.initiative['id']}_{number}"):
    decision = st.radio(
        "Decision",
        list(DECISION_LABELS),
        index=list(DECISION_LABELS).index(it.decision),
        format_func=DECISION_LABELS.get,
        horizontal=True,
    )
    rationale = st.text_area(
        "Rationale", value=it.rationale or "", placeholder="Why, in a sentence or two"
    )
    decided_by = st.text_input(
        "Decided by", value=it.decided_by or session.who(), placeholder="A person or a committee"
    )
    if st.form_submit_button("Save the decision", type="primary"):
        widgets.save(
            evidence_writes.record_decision,
            ev.initiative["name"],
            number,
            decision=decision,
            rationale=rationale,
            decided_by=decided_by,
        )

st.subheader("Change the criteria", anchor=False)
metric_keys = views.all_metrics(ev)
choices = {c["id"]: c for c in it.criteria}
target_id = st.selectbox(
    "Criterion",
    [None, *choices],
    format_func=lambda i: "— add a new criterion —" if i is None else choices[i]["description"],
)
current = choices.get(target_id, {})
with st.form(f"criterion_{target_id}", clear_on_submit=target_id is None):
    a, b = st.columns(2)
    kind = a.selectbox(
        "Kind",
        list(KIND_LABELS),
        format_func=KIND_LABELS.get,
        index=list(KIND_LABELS).index(current.get("kind", "innovation")),
    )
    metric = b.selectbox(
        "Metric (none: judged by hand)",
        [None, *metric_keys],
        index=(
            [None, *metric_keys].index(current.get("metric"))
            if current.get("metric") in metric_keys
            else 0
        ),
        format_func=lambda k: "— none —" if k is None else views.label(ev, k),
    )
    description = st.text_input("Description", value=current.get("description", ""))
    c, d, e = st.columns(3)
    comparator = c.selectbox(
        "Met when the value is",
        COMPARATORS,
        index=COMPARATORS.index(current.get("comparator", ">=")),
        format_func=comparator_words,  # "at least", not ">="
    )
    target = d.number_input(
        "Target, in the metric's unit (a percentage as a fraction: 0.85 for 85%)",
        value=current.get("target"),
        format="%g",
    )
    manual = e.selectbox(
        "Judged by hand",
        [None, "met", "not_met"],
        format_func=lambda s: {None: "— no evidence yet —", "met": "Met", "not_met": "Not met"}[s],
        index=[None, "met", "not_met"].index(current.get("manual_status")),
    )
    note = st.text_input("Evidence note", value=current.get("evidence_note") or "")
    save, remove = st.columns(2)
    values = dict(
        kind=kind,
        description=description,
        metric=metric,
        comparator=comparator,
        target=target,
        manual_status=manual,
        evidence_note=note,
    )
    if save.form_submit_button("Add criterion" if target_id is None else "Save criterion"):
        if target_id is None:
            widgets.save(evidence_writes.add_criterion, ev.initiative["name"], number, **values)
        else:
            widgets.save(evidence_writes.update_criterion, target_id, **values)
    if target_id is not None and remove.form_submit_button("Remove criterion"):
        widgets.save(evidence_writes.remove_criterion, target_id)

st.subheader("Describe this iteration", anchor=False)
with st.form(f"describe_{ev.initiative['id']}_{number}"):
    name_col, first_col, last_col = st.columns([2, 1, 1])
    label = name_col.text_input(
        "Name", value=it.label or "", placeholder="What this iteration tried, in a few words"
    )
    first = first_col.date_input("First day", value=it.start_date)
    last = last_col.date_input("Last day", value=it.end_date)
    hypothesis = st.text_area(
        "Hypothesis",
        value=it.hypothesis or "",
        placeholder="If we …, then … will improve, because …",
    )
    if st.form_submit_button("Save the description"):
        widgets.save(
            evidence_writes.describe_iteration,
            ev.initiative["name"],
            number,
            label=label,
            start_date=first,
            end_date=last,
            hypothesis=hypothesis,
        )

st.subheader("Initiative settings", anchor=False)
ini = ev.initiative
models = views.metric_choices(ev, "model")
with st.form(f"initiative_{ini['id']}"):
    goal = st.text_area(
        "Business goal",
        value=ini["business_goal"] or "",
        placeholder="What the business gets, with a number: lift 90-day retention by 2 points",
    )
    a, b, c = st.columns(3)
    owner = a.text_input("Owner", value=ini["owner"] or "", placeholder="A person or a team")
    stage = b.selectbox(
        "Stage",
        list(STAGE_LABELS),
        index=list(STAGE_LABELS).index(ini["stage"]),
        format_func=STAGE_LABELS.get,
    )
    primary = c.selectbox(
        "Primary model metric",
        [None, *models],
        index=[None, *models].index(ini["primary_metric"])
        if ini["primary_metric"] in models
        else 0,
        format_func=lambda k: "— not chosen —" if k is None else views.label(ev, k),
        help="The metric that picks an iteration's best candidate and heads its cards.",
    )
    d, e = st.columns(2)
    slo = d.number_input(
        "Latency objective, p95 (ms)",
        min_value=1.0,
        value=float(ini["slo_p95_ms"]),
        step=50.0,
        format="%g",
    )
    errors = e.number_input(
        "Highest error rate (%)",
        min_value=0.0,
        max_value=100.0,
        value=float(ini["max_error_rate"]) * 100,
        step=0.5,
        format="%g",
    )
    if st.form_submit_button("Save the settings"):
        widgets.save(
            evidence_writes.set_initiative,
            ini["name"],
            business_goal=goal.strip(),
            owner=owner.strip(),
            stage=stage,
            primary_metric=primary,
            slo_p95_ms=slo,
            max_error_rate=errors / 100,
        )
