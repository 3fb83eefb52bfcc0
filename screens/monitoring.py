"""Monitoring and alerts: rules evaluated against the latest evidence."""

from datetime import date, datetime, time, timedelta

import streamlit as st

from liftoff import charts
from liftoff.db.models import COMPARATORS, SEVERITIES, STAGES
from liftoff.evidence import views
from liftoff.evidence import writes as evidence_writes
from liftoff.formatting import STAGE_LABELS, STAGE_WORDS, comparator_words
from liftoff.notify import views as notify_views
from liftoff.notify import writes as notify_writes
from liftoff.ui import cache, session, text, widgets

ev = widgets.initiative_screen(
    "Monitoring and alerts", "Upload metrics for it to evaluate alert rules.", whole_initiative=True
)
widgets.whole_initiative_note(
    ev, "Alert rules checked against the latest evidence, iteration {latest}."
)
ini = ev.initiative
st.markdown("**" + text.plain(views.alerts_sentence(ev)) + "**")
st.caption(
    text.plain(
        f"Stage: {STAGE_WORDS.get(ini['stage'], ini['stage'])}. A proof of concept "
        "watches system health, a pilot its success criteria, "
        "production engagement too."
    )
)

firing = cache.evidence_read(notify_views.firing_table, ini["name"])
if not firing.empty:
    st.subheader("Firing now", anchor=False)
    widgets.table(firing, hide_index=True, width="stretch")
silences = cache.read(notify_views.silences_table, ini["id"])
if not silences.empty:
    st.caption("Silenced alerts still show here, marked; they are not sent until the silence ends.")
    widgets.table(silences, hide_index=True, width="stretch")

if ev.rules:
    st.subheader("Rules", anchor=False)
    widgets.table(
        cache.evidence_table(views.rules_table, ev.initiative["name"]).shown,
        hide_index=True,
        width="stretch",
    )
    cols = st.columns(2)
    for i, rule in enumerate(r for r in ev.rules if r["enabled"]):
        cols[i % 2].plotly_chart(
            cache.figure(
                charts.metric_history,
                ini["name"],
                rule["metric"],
                rule["threshold"],
                rule["comparator"],
            ),
            width="stretch",
            key=f"rule_chart_{rule['id']}",
        )

if not session.can("edit"):
    session.edit_hint("add, change and remove alert rules here")
    st.stop()
st.subheader("Silence or acknowledge", anchor=False)
st.caption(
    "A silence stops notifications of a rule (or of every rule of this initiative) until a day, "
    "with a reason; acknowledging a firing alert records that you are on it and stops its repeats."
)
rule_names = {
    r["id"]: f"#{r['id']} {views.label(ev, r['metric'])} {r['comparator']} {r['threshold']:g}"
    for r in ev.rules
}
left, right = st.columns(2)
with left.form("silence", clear_on_submit=True):
    target = st.selectbox(
        "Silence",
        [None, *rule_names],
        format_func=lambda i: "Every rule of this initiative" if i is None else rule_names[i],
    )
    until_day = st.date_input("Until the end of", value=date.today() + timedelta(days=7))
    reason = st.text_input("Why", placeholder="e.g. known issue, fix deploys on Friday")
    if st.form_submit_button("Silence", icon=":material/notifications_off:"):
        widgets.save(
            notify_writes.add_silence,
            until=datetime.combine(until_day, time(23, 59)),
            reason=reason,
            initiative=ini["name"],
            rule_id=target,
        )
with right:
    choices = cache.evidence_read(notify_views.firing_choices, ini["name"])
    if choices:
        with st.form("acknowledge"):
            chosen = st.selectbox("Firing alert", list(choices), format_func=choices.get)
            if st.form_submit_button("Acknowledge", icon=":material/done:"):
                widgets.save(notify_writes.acknowledge, ini["name"], chosen)
    else:
        st.caption("No firing alert waits for an acknowledgement.")
    if not silences.empty:
        ended = st.selectbox("End a silence", list(silences["Silence"]))
        if st.button("End this silence"):
            widgets.save(notify_writes.remove_silence, int(ended.lstrip("#")))

st.subheader("Change the rules", anchor=False)
defaults = evidence_writes.default_alert_rules(ev)
if defaults:
    noun = "rule" if len(defaults) == 1 else "rules"
    st.caption(
        text.plain(
            f"{len(defaults)} suggested {noun} for this stage {'is' if len(defaults) == 1 else 'are'} not set yet."
        )
    )
    if st.button("Add the suggested rules", icon=":material/add_alert:"):
        widgets.save(evidence_writes.add_alert_rules, ini["name"], defaults)

metrics = views.reported_metrics(ev)
with st.form("add_rule", clear_on_submit=True):
    st.markdown("**Add a rule**")
    a, b, c = st.columns([3, 1, 2])
    metric = a.selectbox("Metric", metrics, format_func=lambda k: views.label(ev, k))
    comparator = b.selectbox(
        "Alert when it is",
        COMPARATORS,
        index=COMPARATORS.index(">"),
        format_func=comparator_words,  # "above", not ">"
    )
    threshold = c.number_input(
        # In a form the label cannot follow the metric chosen: both cases said (helper-27 read
        # "a percentage" beside a 1–5 score).
        "Threshold, in the metric's unit (a percentage as a fraction: 0.05 for 5%)",
        value=0.0,
        format="%g",
    )
    d, e = st.columns(2)
    severity = d.selectbox("Severity", SEVERITIES, index=1)
    stages = e.multiselect(
        "Stages", STAGES[:3], default=list(STAGES[:3]), format_func=STAGE_LABELS.get
    )
    if st.form_submit_button("Add rule"):
        widgets.save(
            evidence_writes.add_alert_rule,
            ini["name"],
            metric=metric,
            comparator=comparator,
            threshold=threshold,
            severity=severity,
            stages=stages,
        )

if ev.rules:
    st.markdown("**Edit or remove a rule**")
    rule_id = st.selectbox(
        "Rule",
        [r["id"] for r in ev.rules],
        format_func=lambda i: next(
            f"#{r['id']} {views.label(ev, r['metric'])} {comparator_words(r['comparator'])} "
            f"{r['threshold']:g}"
            for r in ev.rules
            if r["id"] == i
        ),
    )
    rule = next(r for r in ev.rules if r["id"] == rule_id)
    with st.form(f"edit_rule_{rule_id}"):
        a, b, c = st.columns([1, 2, 2])
        comparator = a.selectbox(
            "Alert when it is",
            COMPARATORS,
            index=COMPARATORS.index(rule["comparator"]),
            format_func=comparator_words,
            key="edit_cmp",
        )
        threshold = b.number_input(
            "Threshold", value=float(rule["threshold"]), format="%g", key="edit_threshold"
        )
        severity = c.selectbox(
            "Severity", SEVERITIES, index=SEVERITIES.index(rule["severity"]), key="edit_severity"
        )
        enabled = st.checkbox("Rule is on", value=rule["enabled"])
        save, remove = st.columns(2)
        if save.form_submit_button("Save rule"):
            widgets.save(
                evidence_writes.update_alert_rule,
                rule_id,
                metric=rule["metric"],
                comparator=comparator,
                threshold=threshold,
                severity=severity,
                stages=rule["stages"].split(","),
                enabled=enabled,
            )
        if remove.form_submit_button("Remove rule"):
            widgets.save(evidence_writes.remove_alert_rule, rule_id)
    with st.form(f"repeat_{rule_id}"):
        minutes = st.number_input(
            "Send again every … minutes while it keeps firing (critical rules only; 0: once)",
            min_value=0,
            step=30,
            value=int(rule.get("repeat_minutes") or 0),
            key="edit_repeat",
        )
        if st.form_submit_button("Save repeat interval"):
            widgets.save(notify_writes.set_repeat, rule_id, int(minutes) or None)
