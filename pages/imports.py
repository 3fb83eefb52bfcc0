"""Import history: every batch of data that came in."""

import streamlit as st

from liftoff import ui, views

st.title("Import history")
table = views.import_history(ui.read("import_batches"))
if table.empty:
    st.info(
        "Nothing imported yet. Import a file with `liftoff import FILE`, or load the demo "
        "portfolio with `liftoff demo`.",
        icon=":material/upload_file:",
    )
else:
    st.caption("Every number on a screen traces back to one of these batches.")
    st.dataframe(table, hide_index=True, width="stretch")
