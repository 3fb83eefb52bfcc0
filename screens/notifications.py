"""Notifications (editors): where alerts and digests go, whether they arrive, what was sent."""

import streamlit as st

from liftoff.db.models import SEVERITIES, WEBHOOK_FORMATS
from liftoff.evidence import reads as evidence_reads
from liftoff.notify import views as notify_views
from liftoff.notify import worker
from liftoff.notify import writes as notify_writes
from liftoff.ui import cache, session, text, widgets

st.title("Notifications")
st.caption(
    "Alerts reach people here: a message when a rule starts or stops firing, by webhook or email, "
    "one per initiative and evaluation. Silence or acknowledge alerts on Monitoring and alerts."
)

channels = cache.read(notify_views.channels_table)
if channels.empty:
    st.info(
        "No channels yet: add a webhook (Slack, Teams or your own endpoint) or an email address "
        "below, and alerts go out from the next import.",
        icon=":material/add_alert:",
    )
else:
    st.subheader("Channels", anchor=False)
    widgets.table(channels, hide_index=True, width="stretch")

done = st.session_state.pop("liftoff_notify_done", None)
if done:
    st.success(text.plain(done))

names = [i["name"] for i in cache.read(evidence_reads.initiatives)]
if not names:
    st.caption(
        text.plain(
            "No initiatives yet, so nothing can fire: load the demo portfolio with `liftoff demo` "
            "or upload metrics on Upload data. Channels added now serve every initiative to come."
        )
    )
with st.form("add_channel", clear_on_submit=True):
    st.markdown("**Add a channel**")
    a, b, c = st.columns([2, 1, 3])
    name = a.text_input("Name", placeholder="e.g. ops on-call")
    kind = b.selectbox("Kind", ["webhook", "email"], format_func=str.capitalize)
    target = c.text_input("Webhook address or email", placeholder="https://… or team@example.org")
    d, e, f, g = st.columns(4)
    initiative = d.selectbox(
        "For", [None, *names], format_func=lambda n: "Every initiative" if n is None else n
    )
    min_severity = e.selectbox("From severity", SEVERITIES)
    fmt = f.selectbox(
        "Webhook body",
        WEBHOOK_FORMATS,
        format_func={"json": "Liftoff JSON", "slack": "Slack", "teams": "Teams"}.get,
    )
    secret = g.text_input("Signing secret (optional)", type="password")
    if st.form_submit_button("Add channel", icon=":material/add:"):
        widgets.save(
            notify_writes.add_channel,
            name,
            kind=kind,
            target=target,
            initiative=initiative,
            min_severity=min_severity,
            format=fmt,
            secret=secret or None,
        )

if not channels.empty:
    chosen = st.selectbox("Channel", list(channels["Channel"]))
    test, remove = st.columns(2)
    if test.button("Send a test message", icon=":material/send:"):
        try:
            message_id = notify_writes.queue_test(cache.engine(), session.actor(), chosen)
        except notify_writes.InvalidSetting as exc:
            st.error(text.plain(str(exc)))
        else:
            outcome = worker.deliver_due(cache.engine(), only=[message_id])
            st.session_state["liftoff_notify_done"] = (
                f"Test message sent to {chosen}."
                if outcome.sent
                else f"The test message to {chosen} failed; it is retried (see its state below)."
            )
            st.rerun()
    if remove.button("Remove this channel", icon=":material/delete:"):
        widgets.save(notify_writes.remove_channel, chosen)

messages = cache.read(notify_views.messages_table)
if not messages.empty:
    st.subheader("Recent messages", anchor=False)
    widgets.table(messages, hide_index=True, width="stretch")
