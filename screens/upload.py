"""Upload: a file in, checked row by row, previewed, then loaded all or nothing."""

import streamlit as st

from liftoff import db, ingest
from liftoff.errors import LiftoffError
from liftoff.evidence import reads as evidence_reads
from liftoff.evidence import views
from liftoff.ingest import pull
from liftoff.ingest.columns import KIND_LABELS
from liftoff.ingest.templates import template
from liftoff.ui import background, cache, session, text, widgets

st.title("Upload data")
st.caption(
    "CSV in any common encoding and delimiter, or an Excel workbook (.xlsx), up to 200 MB. "
    "Liftoff checks every row first and imports nothing until the whole file is right."
)

with st.expander(
    "Templates: a header and an example row for each kind of file", icon=":material/download:"
):
    cols = st.columns(3)
    for i, kind in enumerate(ingest.KINDS):
        cols[i % 3].download_button(
            KIND_LABELS[kind],
            template(kind),
            file_name=f"liftoff-{kind}-template.csv",
            mime="text/csv",
            key=f"template_{kind}",
            width="stretch",
            on_click="ignore",
        )

# After an import the page starts over (a fresh uploader unless another file was chosen while
# the import ran, the file's choices forgotten) with what was imported at the top, where the
# eye is; nothing stale invites a second Import.
finished = background.wait("upload_import")
if finished is not None:
    prepared_then, imported = finished.context
    # A failure is kept, as a success is, until dismissed or the next import: shown in one run
    # only, it was gone when another file chosen meanwhile reran the page at once.
    if isinstance(finished.error, ingest.ImportRejected):  # the same file was imported since
        problem = finished.error.problems[0]
        st.session_state["upload_failed"] = {
            "message": problem.message + " Nothing was imported.",
            "fix": "Fix: " + problem.fix,
            "icon": ":material/block:",
        }
    elif isinstance(finished.error, db.DatabaseError):  # busy for longer than the wait
        st.session_state["upload_failed"] = {
            "message": str(finished.error),
            "fix": "",
            "icon": ":material/hourglass_empty:",
        }
    elif isinstance(finished.error, LiftoffError):  # e.g. the role was taken away meanwhile
        st.session_state["upload_failed"] = {
            "message": str(finished.error),
            "fix": "",
            "icon": ":material/block:",
        }
    elif finished.error is not None:
        raise finished.error
    else:
        st.session_state["upload_done"] = {
            "message": ingest.describe_success(prepared_then, finished.result),
            "target": ingest.screen_for(prepared_then),
        }
        st.session_state["upload_imported"] = imported
        for key in (
            "upload_create",
            "upload_force",
            "upload_users",
            "upload_replace",
            "liftoff_prepared",
        ):
            st.session_state.pop(key, None)
        st.rerun()
failed = st.session_state.get("upload_failed")
if failed is not None:
    st.error(text.plain(failed["message"]), icon=failed["icon"])
    if failed["fix"]:
        st.caption(text.plain(failed["fix"]))
    st.button(
        "Dismiss",
        key="upload_failed_dismiss",
        icon=":material/close:",
        type="tertiary",
        on_click=lambda: st.session_state.pop("upload_failed", None),
    )
# The message stays, through the next file's check, until it is dismissed or the next import.
done = st.session_state.get("upload_done")
if done is not None:
    if not done.get("shown"):
        st.success(text.plain(done["message"]), icon=":material/check_circle:")
        done["shown"] = True
    else:  # above the next file's check: plainly the import before it
        st.info(text.plain("Last import: " + done["message"]), icon=":material/history:")
    links = st.columns([1, 1, 1, 1], vertical_alignment="center")  # Dismiss in line with them
    if done["target"]:
        links[0].page_link(
            "screens/iterations.py",
            label=text.plain(f"Open {done['target']}"),
            icon=":material/arrow_forward:",
            query_params={"initiative": done["target"]},
        )
    links[1].page_link(
        "screens/imports.py", label="See the import history", icon=":material/history:"
    )
    links[2].button(
        "Dismiss",
        key="upload_done_dismiss",
        icon=":material/close:",
        type="tertiary",
        on_click=lambda: st.session_state.pop("upload_done", None),
    )

names = [i["name"] for i in cache.read(evidence_reads.initiatives)]
with st.expander("From an MLflow server", icon=":material/cloud_download:"):
    st.caption(
        "Each run of the experiment becomes a candidate of the iteration its tag names, with its "
        "latest metrics. Pulling again updates the runs and adds new ones, never twice; runs "
        "deleted in MLflow are named and removed."
    )
    with st.form("mlflow_pull"):
        left, right = st.columns(2)
        tracking_uri = left.text_input("Tracking server", placeholder="http://127.0.0.1:5000")
        experiment = right.text_input("Experiment")
        pull_initiative = left.selectbox(
            "Initiative",
            names,
            index=names.index(st.query_params["initiative"])
            if st.query_params.get("initiative") in names
            else 0,
        )
        iteration_tag = right.text_input("Run tag that names the iteration", value="iteration")
        since = left.date_input("Only runs started on or after", value=None)
        pull_create = right.checkbox("Create the iterations the runs name")
        if st.form_submit_button("Pull runs", type="primary", icon=":material/cloud_download:"):
            try:
                pulled = pull.pull_mlflow(
                    cache.engine(),
                    session.actor(),
                    tracking_uri,
                    experiment.strip(),
                    pull_initiative,
                    iteration_tag=iteration_tag.strip() or "iteration",
                    since=since,
                    create=pull_create,
                )
            except ingest.ImportRejected as exc:
                st.error(text.plain(exc.summary().splitlines()[0]), icon=":material/block:")
                widgets.table(ingest.problems_table(exc.problems), hide_index=True)
            except LiftoffError as exc:
                st.error(text.plain(str(exc)), icon=":material/block:")
            else:
                for warning in pulled.warnings:
                    st.warning(text.plain(warning), icon=":material/info:")
                st.success(text.plain(pulled.message), icon=":material/check_circle:")


upload = st.file_uploader(
    "File",
    type=["csv", "txt", "tsv", "xlsx"],
    key=widgets.fresh_uploader_key("upload_file", st.session_state.pop("upload_imported", None)),
)
if upload is None:
    st.info(
        "Choose a file to upload: metrics (long or wide), user feedback, stakeholder concerns, "
        "load-test results, peak traffic, criteria, governance items, MLflow runs or Locust results.",
        icon=":material/upload_file:",
    )
    st.stop()

data = upload.getvalue()
left, right = st.columns(2)
kind = left.selectbox(
    "What the file holds",
    ["auto", *ingest.KINDS],
    format_func=lambda k: "Detect from the columns" if k == "auto" else KIND_LABELS[k],
)
# The initiative chosen here stays chosen for the next file (the picker is redrawn after an
# import); before any choice it is the one the person was looking at.
chosen = st.session_state.get("upload_initiative", st.query_params.get("initiative"))
initiative = right.selectbox(
    "Initiative (for files without an initiative column)",
    [None, *names],
    format_func=lambda n: "— as the file says —" if n is None else n,
    index=names.index(chosen) + 1 if chosen in names else 0,
)
st.session_state["upload_initiative"] = initiative
a, b, _ = st.columns(3)
known = cache.read(evidence_reads.iteration_numbers, initiative) if initiative else []
iteration = a.number_input(
    "Iteration (if the file has none)",
    min_value=1,
    step=1,
    value=None,
    help=text.plain(views.iteration_hint(initiative, known)),  # the name is user text
)
sheet = None
if ingest.is_workbook(data):
    sheets = ingest.workbook_sheets(data)
    sheet = b.selectbox("Sheet", sheets)
# Create and Import anyway are asked only when the checked file needs them (a new initiative,
# a gap in the iterations, a file imported before): their ticks live in the session, read
# here, and the boxes are drawn below once the check says whether they matter.
create = bool(st.session_state.get("upload_create"))
force = bool(st.session_state.get("upload_force"))
# So are the user count, which only a Locust _stats.csv needs (it does not record it), and
# whether plain numbers are percentages, which only metrics files hold.
users = st.session_state.get("upload_users")
# And the order of dates like 03/04/2026, which only a file of such dates needs.
date_order = st.session_state.get("upload_date_order")
# And whether a load test replaces the tested iterations' earlier one, asked only then.
replace_load_tests = bool(st.session_state.get("upload_replace"))
percent_values = bool(st.session_state.get("upload_percent"))

options = ingest.Options(
    kind=kind,
    initiative=initiative,
    iteration=int(iteration) if iteration else None,
    users=int(users) if users else None,
    create=create,
    force=force,
    sheet=sheet,
    date_order=date_order,
    audience="page",
    percent_values=percent_values,
    replace_load_tests=replace_load_tests,
)
try:
    prepared = cache.prepare_upload(data, upload.name, options)
except ingest.ImportRejected as exc:
    st.error(text.plain(exc.problems[0].message), icon=":material/block:")
    st.caption(text.plain("Fix: " + exc.problems[0].fix))
    st.stop()
if prepared.kind == "metrics" or percent_values:
    st.checkbox(
        "Values are percentages (87.5 means 87.5 %)",
        key="upload_percent",
        help="For rates, accuracies and other ratios written without a % sign.",
    )
if prepared.asks_create or create:
    st.checkbox(
        "Create the initiatives and iterations this file names that do not exist yet",
        key="upload_create",
    )
if prepared.duplicate_of is not None or force:
    st.checkbox("Import anyway if this exact file was imported before", key="upload_force")
if prepared.asks_date_order or date_order is not None:
    st.columns(3)[0].selectbox(  # as narrow as the options above it
        "Dates like 03/04/2026 are",
        [None, "dayfirst", "monthfirst"],
        format_func=lambda o: {
            None: "— choose —",
            "dayfirst": "day first (3 April)",
            "monthfirst": "month first (4 March)",
        }[o],
        key="upload_date_order",
    )
if prepared.asks_users or (prepared.kind == "locust" and users is not None):
    st.columns(4)[0].number_input(  # as narrow as the options above it
        "Users",
        min_value=1,
        step=1,
        value=None,
        key="upload_users",
        help="How many users the Locust run had: a _stats.csv file does not record it.",
    )

summary = ingest.describe(prepared)
st.subheader(text.plain(summary.title), anchor=False)
st.caption(text.plain(summary.detail))
if prepared.mapping:
    st.markdown("**How the columns were read**")
    widgets.table(summary.mapping, hide_index=True)
for warning in prepared.warnings:
    st.warning(text.plain(warning), icon=":material/info:")
if prepared.asks_replace or replace_load_tests:
    # Under the warning that names the earlier run and tells to tick it.
    st.checkbox(
        "Replace the earlier load-test results of the iterations this file tests",
        key="upload_replace",
        help="The earlier steps stay in their batch and count again if this import is rolled "
        "back. Unticked, both runs count and the curves mix them.",
    )

if not prepared.ok:
    st.error(text.plain(summary.problems_sentence), icon=":material/error:")
    # Rows tall enough to wrap: the fix is the part to read, and at one line it was cut off.
    widgets.table(
        summary.problems,
        hide_index=True,
        width="stretch",
        row_height=widgets.WRAPPED_ROWS,
        column_config={
            "Row": st.column_config.Column(width=60),
            "Column": st.column_config.Column(width=120),
            "Value": st.column_config.Column(width=150),
            "Problem": st.column_config.Column(width=300),
            "Fix": st.column_config.Column(width=320),
        },
    )
else:
    st.markdown("**Preview: the first rows as the screens will show them**")
    preview = ingest.preview(prepared)
    widgets.table(
        preview.frame,
        hide_index=True,
        width="stretch",
        column_config={c: st.column_config.Column(width=w) for c, w in preview.widths.items()},
    )
    if preview.empty_note:
        st.caption(text.plain(preview.empty_note))


def start_import(checked, file_id: str) -> None:
    """Start the import of the checked file. A callback: Streamlit runs it first thing in the
    run the click causes, so the import starts even when that run is cut short at once (a file
    chosen right after the click reran the page before it reached the button, and the click
    was lost)."""
    engine, actor = cache.engine(), session.actor()
    st.session_state.pop("upload_done", None)  # the last import's message gives way
    st.session_state.pop("upload_failed", None)
    background.start(
        "upload_import",
        lambda progress: ingest.commit(engine, actor, checked, progress=progress),
        label="Importing…",
        total=checked.rows_accepted,
        context=(checked, file_id),  # the file, and which upload it was
    )


st.button(
    "Import",
    type="primary",
    disabled=not prepared.ok,
    icon=":material/upload:",
    on_click=start_import,
    args=(prepared, upload.file_id),
)
