"""Audit log (admins): every write and sign-in, filtered, paged and exported."""

from datetime import date, timedelta

import streamlit as st

from liftoff.access import audit
from liftoff.evidence import views
from liftoff.ui import cache, widgets

PAGE = 100

st.title("Audit log")
st.caption(
    "Every import, rollback, decision, criterion, concern, feedback status, governance item, "
    "alert rule, user change and sign-in failure: who, when, what, before and after."
)
a, b, c, d = st.columns([2, 3, 2, 2])
who = a.text_input("Who (contains)")
actions = b.multiselect("What", list(audit.ACTIONS), format_func=lambda k: audit.ACTIONS[k])
period = c.date_input(
    "Between", value=(date.today() - timedelta(days=30), date.today()), format="YYYY-MM-DD"
)
text = d.text_input("Text in the description")
period = period if isinstance(period, tuple) else (period,)
since, until = period[0] if period else None, period[1] if len(period) > 1 else None
f = audit.Filter(actor=who, actions=tuple(actions), since=since, until=until, text=text)

total = audit.count(cache.engine(), f)
if not total:
    st.info("Nothing in the audit log matches these filters. Widen the dates or clear a filter.")
    st.stop()
pages = (total + PAGE - 1) // PAGE
page = (
    st.number_input(f"Page (of {pages})", min_value=1, max_value=pages, value=1) if pages > 1 else 1
)
rows = audit.entries(cache.engine(), f, limit=PAGE, offset=(page - 1) * PAGE)
st.caption(
    f"{total:,} entries match; showing {len(rows)} from number {(page - 1) * PAGE + 1:,}, newest first."
)
widgets.table(views.audit_table(rows), hide_index=True, width="stretch")
if total <= 50_000:
    widgets.csv_download(
        f"Download the {total:,} matching entries as CSV",
        lambda: views.audit_table(audit.entries(cache.engine(), f, limit=total)),
        "liftoff-audit-log.csv",
    )
else:
    st.caption("Narrow the filters to 50,000 entries or fewer to download them.")
