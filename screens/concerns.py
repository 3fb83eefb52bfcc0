"""Stakeholders and concerns: the register, its history and burn-down, and who supports what."""

from datetime import date

import streamlit as st

from liftoff import charts
from liftoff.db.models import COMPARATORS, CONCERN_STATUSES, FAILURE_CATEGORIES, SEVERITIES, STANCES
from liftoff.evidence import views
from liftoff.people import reads as people_reads
from liftoff.people import views as people_views
from liftoff.people import writes as people_writes
from liftoff.ui import cache, session, text, widgets

ev = widgets.initiative_screen(
    "Stakeholders and concerns",
    "Upload a concerns file (title, category, severity) or add concerns here.",
    whole_initiative=True,
)
widgets.whole_initiative_note(ev, "The concerns of the whole initiative, whatever the iteration.")
name = ev.initiative["name"]
numbers = [it.number for it in ev.iterations]
today = date.today()
view = cache.evidence_read(people_views.concerns_view, name, today)
people = view.people
editor = session.can("edit")

st.markdown("**" + text.plain(view.headline) + "**\n\n" + text.plain(view.buy_in))
a, b, c, d = st.columns(4)
a.metric("Open concerns", view.metrics["open"], help="Open or mitigating.")
b.metric("High or critical", view.metrics["severe"], help="Open or mitigating, high or critical.")
c.metric("Overdue", view.metrics["overdue"], help="Open or mitigating and past the due date.")
d.metric(
    "Oldest open",
    f"{view.metrics['oldest_days']} days" if view.metrics["oldest_days"] is not None else "—",
    help="Days since the oldest open concern was raised.",
)

tab_register, tab_trends, tab_buy_in = st.tabs(
    ["Concern register", "Over time and by category", "Stakeholder buy-in"],
    key="tab",
    bind="query-params",
)

if tab_trends.open:
    with tab_trends:
        if view.facets["total"]:
            left, right = st.columns(2)
            left.plotly_chart(
                cache.view_figure(
                    people_views.concerns_view, charts.concern_burndown_of, name, today
                ),
                width="stretch",
            )
            right.plotly_chart(
                cache.view_figure(
                    people_views.concerns_view, charts.concern_matrix_of, name, today
                ),
                width="stretch",
            )
        else:
            st.info("No concerns recorded yet.", icon=":material/groups:")

if tab_register.open:  # only the chosen tab runs
    with tab_register:
        if not view.facets["total"]:
            st.info(
                "No concerns recorded yet. Upload a concerns file on the Upload data page (title, "
                "failure category, severity; optionally owner, due date, a linked metric and "
                "threshold)" + (", or add one below." if editor else "."),
                icon=":material/groups:",
            )
        else:
            f1, f2, f3, f4 = st.columns([3, 2, 3, 3])
            statuses = f1.multiselect(
                "Status",
                CONCERN_STATUSES,
                default=["open", "mitigating"],
                format_func=people_views.CONCERN_STATUS_LABELS.get,
            )
            severities = f2.multiselect("Severity", SEVERITIES, format_func=str.capitalize)
            categories = f3.multiselect(
                "Failure category",
                [*FAILURE_CATEGORIES, people_views.UNCATEGORISED],
                format_func=lambda c: people_views.category_label(
                    None if c == people_views.UNCATEGORISED else c
                ),
            )
            search = f4.text_input("Search", placeholder="title, description, people, key")
            groups, owners, raised_in = [], [], None
            # Off, these filters are not applied (and their choices are forgotten).
            if st.toggle("More filters: stakeholder group, owner, iteration raised"):
                g1, g2, g3 = st.columns([2, 2, 1])
                groups = g1.multiselect("Stakeholder group", view.facets["groups"])
                owners = g2.multiselect("Owner", view.facets["owners"])
                raised_in = g3.selectbox(
                    "Raised in",
                    [None, *numbers],
                    format_func=lambda n: "any" if n is None else f"It. {n}",
                )
            flt = people_reads.ConcernFilter(
                statuses=tuple(statuses),
                severities=tuple(severities),
                groups=tuple(groups),
                categories=tuple(categories),
                owners=tuple(owners),
                iteration=raised_in,
                search=search,
            )
            first = cache.evidence_read(people_views.register_page, name, flt, 1, today)
            if not first.total:
                st.caption("No concern matches these filters.")
            else:
                page = widgets.pick_page(first.total)
                shown = (
                    first
                    if page == 1
                    else cache.evidence_read(people_views.register_page, name, flt, page, today)
                )
                st.caption(people_views.register_order_line(first.total))
                # What an executive scans first fits at 1440 px; the rest (who raised it,
                # the group, the age, the due day) is in the CSV and in the one-concern view.
                widgets.table(
                    shown.table.shown,
                    hide_index=True,
                    width="stretch",
                    row_height=widgets.WRAPPED_ROWS,
                    column_order=people_views.REGISTER_SHOWN,
                    # Every width set, adding up to the page's at 1440x900: no sideways
                    # scroll whatever the rows hold (a long key or owner widened its column).
                    column_config={
                        "Key": st.column_config.TextColumn(width=70),
                        "Title": st.column_config.TextColumn(width=190),
                        "Severity": st.column_config.TextColumn(width=75),
                        "Status": st.column_config.TextColumn(width=85),
                        "Failure category": st.column_config.TextColumn(width=130),
                        "Owner": st.column_config.TextColumn(width=90),
                        "Raised": st.column_config.DateColumn(
                            width=100, format=widgets.DATE_FORMAT
                        ),
                        "Overdue": st.column_config.TextColumn(width=72),
                        "Evidence": st.column_config.TextColumn(
                            width=153,
                            help="The concern's metric now meets the condition that clears it: "
                            "resolve it if the evidence holds.",
                        ),
                    },
                )
                widgets.csv_download(
                    "Download this page as CSV",
                    lambda: shown.table.frame,
                    f"{name}-concerns.csv",
                )

                titles = {r["id"]: people_views.concern_choice(r) for r in shown.rows}
                chosen = st.selectbox(
                    "One concern",
                    list(titles),
                    index=None,
                    format_func=titles.get,
                    placeholder="Choose one to see its status history"
                    + (" and change it" if editor else ""),
                )
                if chosen is not None:
                    detail = cache.read(people_views.concern_detail, chosen)
                    item = detail.item
                    if item["description"]:
                        st.text(item["description"])
                    st.caption("Status history")
                    widgets.table(detail.history, hide_index=True, width="stretch")
                    if editor:
                        with st.form(f"edit_concern_{chosen}"):
                            st.markdown("**Change this concern**")
                            e1, e2, e3 = st.columns(3)
                            status = e1.selectbox(
                                "Status",
                                CONCERN_STATUSES,
                                index=CONCERN_STATUSES.index(item["status"]),
                                format_func=people_views.CONCERN_STATUS_LABELS.get,
                            )
                            severity = e2.selectbox(
                                "Severity", SEVERITIES, index=SEVERITIES.index(item["severity"])
                            )
                            owner = e3.text_input("Owner", value=item["owner"] or "")
                            # Imported registers may leave it empty: triage gives it one here.
                            category = st.selectbox(
                                "Failure category",
                                FAILURE_CATEGORIES,
                                index=FAILURE_CATEGORIES.index(item["failure_category"])
                                if item["failure_category"]
                                else None,
                                format_func=people_views.CATEGORY_LABELS.get,
                                placeholder=people_views.UNCATEGORISED_LABEL,
                            )
                            note = st.text_input(
                                "Note for the history (needed when the status changes)",
                                placeholder="What changed and why",
                            )
                            resolution = st.text_area(
                                "Resolution (needed when resolved or accepted)",
                                value=item["resolution"] or "",
                            )
                            due = st.date_input("Due", value=item["due"], format="YYYY-MM-DD")
                            if st.form_submit_button("Save the concern", type="primary"):
                                widgets.save(
                                    people_writes.update_concern,
                                    chosen,
                                    status=status,
                                    note=note,
                                    resolution=resolution,
                                    title=item["title"],
                                    description=item["description"],
                                    raised_by=item["raised_by"],
                                    stakeholder_group=item["stakeholder_group"],
                                    failure_category=category,
                                    severity=severity,
                                    owner=owner,
                                    due=due,
                                    raised_at=item["raised_at"],
                                    metric=item["metric"],
                                    comparator=item["comparator"],
                                    threshold=item["threshold"],
                                )

        if editor:
            with st.expander("Add a concern", icon=":material/add:"):
                with st.form("add_concern", clear_on_submit=True):
                    title = st.text_input(
                        "Title", placeholder="What worries the stakeholder, in a line"
                    )
                    description = st.text_area("Description")
                    g1, g2, g3 = st.columns(3)
                    raised_by = g1.text_input("Raised by")
                    group = g2.text_input("Stakeholder group")
                    owner = g3.text_input("Owner")
                    h1, h2, h3, h4 = st.columns(4)
                    category = h1.selectbox(
                        "Failure category",
                        FAILURE_CATEGORIES,
                        format_func=people_views.CATEGORY_LABELS.get,
                    )
                    severity = h2.selectbox("Severity", SEVERITIES, index=1)
                    iteration = h3.selectbox("Raised in iteration", numbers, index=len(numbers) - 1)
                    due = h4.date_input("Due", value=None, format="YYYY-MM-DD")
                    m1, m2, m3 = st.columns([3, 1, 2])
                    metric = m1.selectbox(
                        "Linked metric (optional)",
                        [None, *views.all_metrics(ev)],
                        format_func=lambda k: "— none —" if k is None else views.label(ev, k),
                    )
                    comparator = m2.selectbox("Resolved when", COMPARATORS, index=2)
                    threshold = m3.number_input(
                        "Threshold (stored units: 0.05 for 5%)", value=None, format="%g"
                    )
                    if st.form_submit_button("Add the concern", type="primary"):
                        widgets.save(
                            people_writes.add_concern,
                            name,
                            title=title,
                            description=description,
                            raised_by=raised_by,
                            stakeholder_group=group,
                            owner=owner,
                            failure_category=category,
                            severity=severity,
                            iteration=iteration,
                            due=due,
                            metric=metric,
                            comparator=comparator,
                            threshold=threshold,
                        )
        else:
            session.edit_hint("add concerns and change their status here")

if tab_buy_in.open:  # only the chosen tab runs
    with tab_buy_in:
        if not people:
            st.info(
                "No stakeholders recorded yet. Upload a stakeholders file (name, group, influence, "
                "iteration, stance)" + (" or add them below." if editor else "."),
                icon=":material/groups:",
            )
        else:
            st.plotly_chart(
                cache.view_figure(people_views.concerns_view, charts.buy_in_of, name, today),
                width="stretch",
            )
            widgets.table(
                view.stakeholder_table,
                hide_index=True,
                width="stretch",
                column_config={"Name": st.column_config.TextColumn(pinned=True)},
            )
            who = st.selectbox(
                "Concerns raised by",
                [p["id"] for p in people],
                format_func=lambda i: next(p["name"] for p in people if p["id"] == i),
            )
            person = next(p for p in people if p["id"] == who)
            if person["concerns"]:
                widgets.table(
                    [
                        {
                            "Concern": c["title"],
                            "Severity": c["severity"].capitalize(),
                            "Status": people_views.CONCERN_STATUS_LABELS[c["status"]],
                        }
                        for c in person["concerns"]
                    ],
                    hide_index=True,
                    width="stretch",
                )
            else:
                st.caption("No concerns raised under this name.")
            if editor:
                with st.form(f"stance_{who}"):
                    st.markdown("**Record a stance**")
                    s1, s2 = st.columns(2)
                    at_iteration = s1.selectbox("At iteration", numbers, index=len(numbers) - 1)
                    stance = s2.selectbox(
                        "Stance",
                        STANCES,
                        index=STANCES.index(person["stances"].get(at_iteration, "neutral")),
                        format_func=str.capitalize,
                    )
                    note = st.text_input(
                        "Note", placeholder="What they said, what would change their mind"
                    )
                    if st.form_submit_button("Save the stance", type="primary"):
                        widgets.save(
                            people_writes.set_stance, who, at_iteration, stance=stance, note=note
                        )
        if editor:
            with st.expander("Add a stakeholder", icon=":material/person_add:"):
                with st.form("add_stakeholder", clear_on_submit=True):
                    n1, n2, n3 = st.columns([2, 2, 1])
                    person_name = n1.text_input("Name")
                    group = n2.text_input("Group")
                    influence = n3.slider("Influence", 1, 5, 3)
                    if st.form_submit_button("Add the stakeholder", type="primary"):
                        widgets.save(
                            people_writes.save_stakeholder,
                            name,
                            person_name,
                            group=group,
                            influence=influence,
                        )
        else:
            session.edit_hint("add stakeholders and record their stance here")
