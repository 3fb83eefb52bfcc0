"""Import history: every batch of data that came in; download the original, roll back."""

import streamlit as st

from liftoff import ingest, tables
from liftoff.evidence import reads as evidence_reads
from liftoff.evidence import views
from liftoff.formatting import format_bytes
from liftoff.ui import cache, session, text, widgets

st.title("Import history")
rolled_back = st.session_state.pop("liftoff_rolled_back", None)
if rolled_back:
    st.success(text.plain(rolled_back), icon=":material/check_circle:")
batches = cache.read(evidence_reads.import_batches)
table = views.import_history(batches)
if table.empty:
    st.info(
        "Nothing imported yet. Upload a file on the Upload data page, or import one with "
        "`liftoff import FILE`; `liftoff demo` loads the demo portfolio.",
        icon=":material/upload_file:",
    )
    st.stop()

st.caption("Every number on a screen traces back to one of these batches.")
# Widths that show every column, Status too, at 1440x900 (a long file name is cut; the batch
# picker below names it whole, with its folder).
widths = tables.fitted_widths(table)
widgets.table(
    table,
    hide_index=True,
    width="stretch",
    # Up to 15 batches in view (at the automatic height, the 11th was half hidden).
    height=38 + min(len(table), 15) * 35 + 3,
    column_config={
        **{c: st.column_config.Column(width=w) for c, w in widths.items()},
        "Rows read": st.column_config.NumberColumn(
            format="localized", help="Rows of the file below its header.", width=widths["Rows read"]
        ),
        "Rows accepted": st.column_config.NumberColumn(
            format="localized",
            help="Records stored: a wide file (one column per metric, as MLflow exports) gives "
            "one per metric and row, so more than it has rows; a Locust history keeps one per "
            "step, so fewer.",
            width=widths["Rows accepted"],
        ),
        "Uploaded at": st.column_config.DatetimeColumn(
            format="D MMM YYYY HH:mm", width=widths["Uploaded at"]
        ),
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
