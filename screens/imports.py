"""Import history: every batch of data that came in; download the original, roll back."""

import streamlit as st

from liftoff import ingest
from liftoff.evidence import reads as evidence_reads
from liftoff.evidence import views
from liftoff.formatting import format_bytes
from liftoff.ui import cache, session, text, widgets

st.title("Import history")
rolled_back = st.session_state.pop("liftoff_rolled_back", None)
if rolled_back:
    st.success(text.plain(rolled_back), icon=":material/check_circle:")
batches = cache.read(evidence_reads.import_batches)
table = views.import_history(batches, cache.read(evidence_reads.replaced_load_steps))
if table.empty:
    st.info(
        "Nothing imported yet. Upload a file on the Upload data page, or import one with "
        "`liftoff import FILE`; `liftoff demo` loads the demo portfolio.",
        icon=":material/upload_file:",
    )
    st.stop()

st.caption("Every number on a screen traces back to one of these batches.")
# Rows of two lines (Streamlit wraps text only in rows over 4rem), at widths that add up to the
# page's at 1440x900: every column in view, a long kind or file name wrapped rather than cut.
widgets.table(
    table,
    hide_index=True,
    width="stretch",
    row_height=66,
    column_config={
        "Batch": st.column_config.TextColumn(width=60, pinned=True),
        "Kind": st.column_config.TextColumn(width=110),
        "Initiative": st.column_config.TextColumn(
            width=150, help="The initiatives the batch brought data for."
        ),
        "File": st.column_config.TextColumn(width=150),
        "Stored": st.column_config.TextColumn(
            width=150,
            help="What the batch stored: a wide file (one column per metric, as MLflow exports) "
            "gives a value per metric and row, so more than it has rows; a Locust history keeps "
            "one step per user count, so fewer.",
        ),
        "Uploaded by": st.column_config.TextColumn(width=120),
        "Uploaded at": st.column_config.DatetimeColumn(format=widgets.DATETIME_FORMAT, width=140),
        "Status": st.column_config.TextColumn(width=90),
    },
)

st.subheader("One batch", anchor=False)
chosen = st.selectbox(
    "Batch",
    [b["id"] for b in batches],
    format_func=lambda i: next(views.batch_label(b) for b in batches if b["id"] == i),
    key="import_batch_pick",  # the same batch stays chosen when its label changes (rolled back)
)
batch = cache.read(evidence_reads.import_batch, chosen)
listed_batch = next(b for b in batches if b["id"] == chosen)
if listed_batch["initiatives"]:
    st.caption(text.plain(views.batch_for_line(listed_batch["initiatives"])))
if batch["warnings"]:
    # Written before the import ("will be created"): said so, since it reads after it.
    st.caption(text.plain("What the check said before the import: " + batch["warnings"]))
left, right = st.columns(2)
if batch["file_size"] is not None:
    left.download_button(
        f"Download the original file ({format_bytes(batch['file_size'])})",
        cache.original_file(chosen),
        file_name=batch["file_name"],
        icon=":material/download:",
        key=f"raw_{chosen}",
        on_click="ignore",
    )
if batch["status"] == "committed" and not session.can("rollback"):
    right.caption("Editors can roll back a batch. Sign in with an editor account to do so.")
elif batch["status"] == "committed":
    try:
        plan = ingest.rollback_plan(cache.engine(), chosen)
    except ingest.RollbackError as exc:  # rolled back elsewhere a moment ago
        right.caption(text.plain(str(exc)))
        st.stop()
    right.markdown("**Rolling back this batch**")
    for line in plan.lines():
        right.caption(text.plain(line))
    if plan.later:
        right.warning(
            text.plain(
                "Changed since it was imported; rolling back undoes these changes: "
                + "; ".join(c.sentence() for c in plan.later)
                + "."
            ),
            icon=":material/warning:",
        )
    sure = right.checkbox("Yes, remove every row of this batch", key=f"sure_{chosen}")
    undo_later = bool(plan.later) and right.checkbox(
        "Yes, undo the later changes listed above too", key=f"later_{chosen}"
    )
    if right.button(
        "Roll back this batch",
        disabled=not sure or (bool(plan.later) and not undo_later),
        icon=":material/undo:",
        key=f"rollback_{chosen}",
    ):
        said = widgets.save(ingest.rollback, chosen, force=bool(plan.later), rerun=False)
        if said:
            # Rerun so the batch shows as rolled back; the message waits for that run.
            st.session_state["liftoff_rolled_back"] = said
            st.rerun()
else:
    right.caption(text.plain(views.rollback_note(batch)))
