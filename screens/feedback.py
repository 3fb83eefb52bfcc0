"""User feedback: volume and ratings per iteration, themes, the closed loop, every comment."""

import streamlit as st

from liftoff import charts, tables
from liftoff.db.models import FEEDBACK_SOURCES, FEEDBACK_STATUSES
from liftoff.formatting import format_moment, format_rating
from liftoff.people import reads as people_reads
from liftoff.people import views as people_views
from liftoff.people import writes as people_writes
from liftoff.ui import cache, session, text, widgets

ev = widgets.initiative_screen(
    "User feedback", "Upload a feedback file (received_at, rating, text) for it."
)
name = ev.initiative["name"]
number = widgets.pick_iteration(
    [it.number for it in ev.iterations], {it.number: it.title for it in ev.iterations}
)
# As of the chosen iteration: what came later stays out of the sentence, the charts and the counts.
view = cache.evidence_read(people_views.feedback_view, name, number)
if not view.totals["count"]:
    st.info(
        "No feedback yet for this initiative. Upload a feedback file on the Upload data page: "
        "one row per comment with received_at, rating (1–5), text, and optionally source, "
        "theme or tags, sentiment and status.",
        icon=":material/forum:",
    )
    st.stop()

st.markdown("**" + text.plain(view.headline) + "**")
current = next((r for r in view.rows if r["iteration"] == number), None)
a, b, c, d = st.columns(4)
a.metric(
    f"Comments in iteration {number}",
    f"{current['count']:,}" if current else "0",
    help="Feedback received during the chosen iteration.",
)
b.metric(
    "Mean rating",
    format_rating(current["mean_rating"]) if current else "—",
    help="Mean of the 1–5 ratings given in the chosen iteration.",
)
c.metric(
    f"Acted on, up to iteration {number}",
    f"{view.totals['actioned_share']:.0%}",
    help=f"Share of the comments up to iteration {number} marked actioned with the action taken.",
)
# The same count as the sentence above: comments up to the chosen iteration still marked new.
# Labelled with their span: beside "Comments in iteration N" they read as that iteration's.
d.metric(
    f"Waiting for triage, up to iteration {number}",
    f"{view.totals['count'] - view.totals['handled']:,}",
    help=f"Comments up to iteration {number} still marked new"
    + (f", {current['status']['new']:,} of them from iteration {number}." if current else "."),
)

tab_ratings, tab_loop, tab_comments = st.tabs(
    ["Ratings and themes", "The closed loop", "Every comment"], key="tab", bind="query-params"
)
if tab_ratings.open:  # only the chosen tab runs
    with tab_ratings:
        left, right = st.columns(2)
        left.plotly_chart(
            cache.view_figure(people_views.feedback_view, charts.feedback_volume_of, name, number),
            width="stretch",
        )
        right.plotly_chart(
            cache.view_figure(
                people_views.feedback_view, charts.rating_distribution_of, name, number
            ),
            width="stretch",
        )
        if any(r["mean_sentiment"] is not None for r in view.rows):
            st.plotly_chart(
                cache.view_figure(people_views.feedback_view, charts.sentiment_of, name, number),
                width="stretch",
            )

        st.markdown("**Themes**")
        if view.themes["source"] is None:
            st.caption("No themes yet: add a theme or tags column to the feedback file.")
        else:
            st.plotly_chart(
                cache.view_figure(people_views.feedback_view, charts.themes_of, name, number),
                width="stretch",
            )
            if view.themes["source"] == "terms":
                st.caption(
                    "The file had no themes or tags, so these are the words most distinctive of each "
                    "iteration's comments compared with the others (the newest "
                    f"{people_reads.TERM_SAMPLE:,} comments of each iteration are read)."
                )

if tab_loop.open:
    with tab_loop:
        st.caption(
            "Feedback actioned in an iteration, and how ratings and engagement moved in the next one."
        )
        if view.loop.empty:
            st.caption("The loop shows once there is feedback in two iterations.")
        else:
            # Short figures: one line a row (rows of three lines left it mostly blank), each
            # column as wide as its header ("Weekly active users: this → next" was cut).
            widgets.table(
                view.loop.shown,
                hide_index=True,
                width="stretch",
                column_config={
                    c: st.column_config.Column(width=w)
                    for c, w in tables.fitted_widths(view.loop.frame).items()
                },
            )
        if view.engagement_keys:
            st.plotly_chart(
                cache.figure(charts.engagement, name, tuple(view.engagement_keys), through=number),
                width="stretch",
            )
        else:
            st.caption("No engagement metrics yet: import metrics of the engagement category.")

if tab_comments.open:
    with tab_comments:
        f1, f2, f3, f4 = st.columns([2, 2, 2, 2], vertical_alignment="bottom")
        only_iteration = f1.toggle(f"Only iteration {number}", value=True)
        statuses = f2.multiselect(
            "Status", FEEDBACK_STATUSES, format_func=people_views.FEEDBACK_STATUS_LABELS.get
        )
        sources = f3.multiselect(
            "Source", FEEDBACK_SOURCES, format_func=people_views.SOURCE_LABELS.get
        )
        ratings = f4.multiselect("Rating", [1, 2, 3, 4, 5], format_func=lambda r: f"{r} ★")
        s1, s2 = st.columns([3, 1])
        search = s1.text_input("Search the comments and actions", placeholder="a word or phrase")
        theme = s2.text_input("Theme or tag")
        flt = people_reads.FeedbackFilter(
            iteration=number if only_iteration else None,
            statuses=tuple(statuses),
            sources=tuple(sources),
            ratings=tuple(ratings),
            theme=theme,
            search=search,
        )
        first = cache.evidence_read(people_views.comments_page, name, flt, 1)
        if not first.total:
            st.caption("No comment matches these filters.")
        else:
            page = widgets.pick_page(first.total)
            shown = (
                first
                if page == 1
                else cache.evidence_read(people_views.comments_page, name, flt, page)
            )
            rows = shown.rows
            st.caption(
                f"{first.total:,} comments match; showing {len(rows)} from number "
                f"{(page - 1) * people_reads.PAGE + 1:,}, newest first."
            )
            widgets.table(
                shown.table.shown,
                hide_index=True,
                width="stretch",
                row_height=widgets.WRAPPED_ROWS,
                # Widths that add up to the page's at 1440x900: every header whole ("Actior").
                column_config={
                    "#": st.column_config.NumberColumn(width=55),
                    "Received": st.column_config.DatetimeColumn(
                        width=130, format=widgets.DATETIME_FORMAT
                    ),
                    "Iteration": st.column_config.NumberColumn(width=80),
                    "Source": st.column_config.TextColumn(width=95),
                    "Rating": st.column_config.NumberColumn(width=65),
                    "Comment": st.column_config.TextColumn(width=235),
                    "Theme": st.column_config.TextColumn(width=100),
                    "Status": st.column_config.TextColumn(width=90),
                    "Action taken": st.column_config.TextColumn(width=110),
                },
            )
            widgets.csv_download(
                "Download this page as CSV", lambda: shown.table.frame, f"{name}-feedback.csv"
            )

            if not session.can("edit"):
                session.edit_hint("move feedback from new to triaged, actioned or won't fix here")
                st.stop()
            st.markdown("**Triage a comment**")
            chosen = st.selectbox(
                "Comment",
                [r["id"] for r in rows],
                format_func=lambda i: next(
                    f"#{r['id']} · {people_views.FEEDBACK_STATUS_LABELS[r['status']]} · {r['text'][:80]}"
                    for r in rows
                    if r["id"] == i
                ),
            )
            item = next(r for r in rows if r["id"] == chosen)
            with st.form(f"triage_{chosen}"):
                st.text(item["text"])
                status = st.radio(
                    "Status",
                    FEEDBACK_STATUSES,
                    index=FEEDBACK_STATUSES.index(item["status"]),
                    format_func=people_views.FEEDBACK_STATUS_LABELS.get,
                    horizontal=True,
                )
                action = st.text_area(
                    "Action taken",
                    value=item["action_taken"] or "",
                    placeholder="What was done about it",
                )
                if st.form_submit_button("Save", type="primary"):
                    widgets.save(
                        people_writes.update_feedback, chosen, status=status, action_taken=action
                    )
            if item["updated_by"]:
                st.caption(
                    text.plain(
                        f"Last changed by {item['updated_by']} on {format_moment(item['updated_at'])}."
                    )
                )
