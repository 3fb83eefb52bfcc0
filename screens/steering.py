"""Steering pack: one iteration's evidence as slides for the meeting, the decision recorded on
the last slide, frozen snapshots, and the pack to send round (HTML or CSV)."""

from datetime import date

import streamlit as st

from liftoff.formatting import DECISION_LABELS, format_moment
from liftoff.meeting import export as meeting_export
from liftoff.meeting import pack as steering_pack
from liftoff.meeting import reads as meeting_reads
from liftoff.meeting import writes as meeting_writes
from liftoff.ui import cache, session, text, widgets

present = st.query_params.get("present") == "1"
raw_snapshot = st.query_params.get("snapshot")

if raw_snapshot is not None:
    try:
        pack = cache.read(meeting_reads.snapshot, int(raw_snapshot))
    except (ValueError, meeting_reads.SnapshotNotFound):
        st.title("Steering pack")
        st.error(
            f"There is no snapshot “{text.plain(raw_snapshot)}”. Open the Steering pack page "
            "without ?snapshot= to see the list of snapshots of each initiative.",
            icon=":material/search_off:",
        )
        st.stop()
    name = pack["initiative"]["name"]
    number = pack["iteration"]["number"]
else:
    ev = widgets.initiative_screen(
        None if present else "Steering pack",
        "Import metrics for it: the pack is built from an iteration's evidence.",
        caption=False,
    )
    name = ev.initiative["name"]
    number = widgets.pick_iteration(
        [it.number for it in ev.iterations], {it.number: it.title for it in ev.iterations}
    )
    pack = cache.evidence_read(steering_pack.pack_of, name, number, date.today())

slides = pack["slides"]
total = len(slides)
raw_slide = st.query_params.get("slide", "1")
index = min(max(int(raw_slide) if raw_slide.isdigit() else 1, 1), total)

if raw_snapshot is not None and not present:
    st.title("Steering pack")
stamp = steering_pack.as_of(pack)


def go(to: int) -> None:
    st.query_params["slide"] = str(to)


def set_present(on: bool) -> None:
    # The mode lives in the URL, like the slide: every rerun (Next, a saved decision, a freeze)
    # and a reload keep it, and a copied link opens the same slide in the same mode.
    if on:
        st.query_params.update(present="1", slide=str(index))
    else:
        st.query_params.pop("present", None)


def decision_form() -> None:
    """The decision of this meeting, with rationale, attendees and action items."""
    with st.form(f"meeting_decision_{name}_{number}"):
        if not present:
            st.markdown("**Record the decision taken in this meeting**")
        # Two columns, so the form fits one screen (in a dialog on the projector).
        a, b = st.columns(2)
        # Nothing chosen until the room has decided: a preselected "Go" was one click from
        # being recorded in a no-go meeting.
        decision = a.radio(
            "Decision",
            ["go", "no-go", "pivot", "extend"],
            index=None,
            format_func=DECISION_LABELS.get,
            horizontal=True,
        )
        decided_by = b.text_input(
            "Decided by", value=session.who(), placeholder="The chair or the board"
        )
        box = 80 if present else 100  # text boxes of three lines
        c, d = st.columns(2)
        rationale = c.text_area("Rationale", placeholder="Why, in a sentence or two", height=box)
        attendees = d.text_area("Attendees (one per line)", height=box)
        actions = st.text_area(
            "Action items, one per line: what; owner; due date (YYYY-MM-DD, optional)",
            placeholder="Load-test the new peak; Jonas Weber; 2026-12-10",
            height=box,
            key="meeting_actions",
        )
        if st.form_submit_button("Save the decision", type="primary"):
            saved = widgets.save(
                meeting_writes.record_meeting_decision,
                name,
                number,
                decision=decision,
                rationale=rationale,
                decided_by=decided_by,
                attendees=attendees.splitlines(),
                actions=actions,
                rerun=False,
            )
            if saved:
                for key in [k for k in st.session_state if str(k).startswith("meeting_")]:
                    del st.session_state[key]  # a clean form for the next decision
                st.session_state["liftoff_decided"] = True
                st.rerun()


@st.dialog("Record the decision", width="large")
def decision_dialog() -> None:
    decision_form()


def slide_table(table: dict) -> None:
    """A slide's table as rows of plain text cells (st.text: no markdown), so its type can be
    as large as the rest of the slide."""

    def row(cells: list[str]) -> None:
        for column, cell in zip(st.columns(table["widths"]), cells, strict=True):
            column.text(cell)

    with st.container(key="slide_table"):
        if table["head"]:
            with st.container(key="slide_table_head"):
                row(table["columns"])
        for cells in table["rows"]:
            row(cells)


slide = slides[index - 1]
editing = raw_snapshot is None and session.can("edit")
if st.session_state.pop("liftoff_decided", False):
    st.toast("Decision recorded.", icon=":material/check_circle:")

if present:
    # One slide fills the screen: where we are, the title, its sentence, its chart or table, the
    # navigation; nothing to scroll.
    widgets.stylesheet(steering_pack.PRESENT_CSS)
    with st.container(key="slide_where"):
        st.text(
            f"{name} · {pack['iteration']['title']} · Slide {index} of {total}"
            + (f" · {stamp}, read-only" if stamp else "")
        )
    with st.container(key="slide_title"):
        st.header(slide["title"], anchor=False)
    with st.container(key="slide_sentence"):
        st.text(slide["sentence"])
    if slide["missing"]:
        st.info(text.plain(slide["missing"]), icon=":material/info:")
    table = steering_pack.projector_table(slide)
    # A fixed height lets the chart shrink to the space left (Streamlit grows a "stretch" chart
    # but never shrinks it below 450 px otherwise); the style then makes that height whatever
    # the screen leaves between the sentence and the navigation.
    with st.container(key="slide_body", height=400, border=False):
        # The governance slide has both: the rubric's chart beside the conditions failing.
        left, right = (
            st.columns([3, 2], gap="large") if slide["chart"] and table else [st.container()] * 2
        )
        if slide["chart"]:
            left.plotly_chart(
                cache.figure_from_json(slide["chart"], projector=True),
                width="stretch",
                height="stretch",
                key=f"slide_chart_{index}",
                # No toolbar on a slide: where the pointer rests after a click, it hid the legend.
                config={"displayModeBar": False},
            )
        if table:
            with right:
                slide_table(table)
        if slide["key"] == "decision" and editing:
            if st.button(
                "Record the decision" if not slide["table"] else "Record another decision",
                icon=":material/gavel:",
                type="primary" if slide["missing"] else "secondary",
                key="slide_record",
            ):
                decision_dialog()
        elif slide["key"] == "decision" and raw_snapshot is None:
            # "Record it here" with no way to do so, for a visitor: say who can, and how (the
            # sidebar is closed in this mode).
            session.edit_hint(
                "record the decision, attendees and action items on this slide",
                leaving="presentation mode",
            )

    with st.container(key="slide_nav", horizontal=True, vertical_alignment="center"):
        # A presenter's clicker sends PageDown / PageUp; a keyboard has the arrows too.
        st.button(
            "Previous",
            icon=":material/arrow_back:",
            disabled=index == 1,
            on_click=go,
            args=(index - 1,),
            shortcut="PageUp",
            key="slide_previous",
        )
        for k, other in enumerate(slides, start=1):
            st.button(
                str(k),
                type="primary" if k == index else "tertiary",
                on_click=go,
                args=(k,),
                help=other["title"],
                key=f"slide_jump_{k}",
            )
        st.button(
            "Next",
            icon=":material/arrow_forward:",
            disabled=index == total,
            on_click=go,
            args=(index + 1,),
            shortcut="PageDown",
            key="slide_next",
        )
        st.space("stretch")
        if editing:
            with st.popover("Freeze", icon=":material/photo_camera:"):
                frozen = st.session_state.pop("liftoff_slide_frozen", None)
                if frozen:
                    # Said where the click was, with the note cleared: a second click is a
                    # second snapshot on purpose, not the first one left standing.
                    st.success(f"Frozen as snapshot #{frozen}.", icon=":material/check_circle:")
                    st.toast(f"Frozen as snapshot #{frozen}.", icon=":material/check_circle:")
                    st.session_state["slide_freeze_note"] = ""
                note = st.text_input("Note for the snapshot", key="slide_freeze_note")
                if st.button("Freeze this pack", type="primary", key="slide_freeze"):
                    snap_id = widgets.save(meeting_writes.freeze, name, number, note, rerun=False)
                    if snap_id:
                        st.session_state["liftoff_slide_frozen"] = snap_id
                        st.rerun()
        st.button(
            "Leave presentation mode",
            icon=":material/close_fullscreen:",
            on_click=set_present,
            args=(False,),
            key="slide_leave",
        )
    with st.container(key="slide_keys"):
        for shortcut, step in (("Right", 1), ("Down", 1), ("Left", -1), ("Up", -1)):
            st.button(
                f"Slide {index + step} ({shortcut} key)",
                disabled=not 1 <= index + step <= total,
                on_click=go,
                args=(index + step,),
                shortcut=shortcut,
                key=f"slide_key_{shortcut.lower()}",
            )
    st.stop()

if stamp:
    st.warning(
        text.plain(stamp + ". Read-only: these are the figures as they were then."),
        icon=":material/photo_camera:",
    )
# Where a presenter looks first, above the slide (at the page's foot it was below the fold).
st.button(
    "Present: large type, sidebar closed, one slide per screen",
    icon=":material/co_present:",
    type="primary",
    on_click=set_present,
    args=(True,),
)
nav = st.columns([1.4, 5.2, 1.4], vertical_alignment="center")
nav[0].button(
    "Previous",
    icon=":material/arrow_back:",
    disabled=index == 1,
    on_click=go,
    args=(index - 1,),
    width="stretch",
)
nav[1].progress(index / total, text=f"Slide {index} of {total} · {slide['title']}")
nav[2].button(
    "Next",
    icon=":material/arrow_forward:",
    disabled=index == total,
    on_click=go,
    args=(index + 1,),
    width="stretch",
)

st.caption(text.plain(f"{name} · {pack['iteration']['title']}"))
st.header(slide["title"], anchor=False, divider="gray")
st.subheader(text.plain(slide["sentence"]), anchor=False)
if slide["missing"]:
    st.info(text.plain(slide["missing"]), icon=":material/info:")
if slide["chart"]:
    st.plotly_chart(
        cache.figure_from_json(slide["chart"]), width="stretch", key=f"slide_chart_{index}"
    )
facts = steering_pack.projector_table(slide)
if facts and not facts["head"]:
    # The ask is a list of facts (name, value), as on the projector: a grid's header row would
    # read "" and "Value".
    slide_table(facts)
elif slide["table"]:
    frame, widths = meeting_export.screen_table(slide["table"])
    widgets.table(
        frame,
        hide_index=True,
        width="stretch",
        row_height=widgets.WRAPPED_ROWS,
        column_config={c: st.column_config.Column(width=w) for c, w in widths.items()},
    )

if slide["key"] == "decision" and raw_snapshot is None:
    if session.can("edit"):
        decision_form()
    else:
        session.edit_hint("record the decision, attendees and action items on this slide")

st.divider()
left, right = st.columns(2)
with left:
    slug = f"{name}-iteration-{number}" + (f"-snapshot-{pack['snapshot']['id']}" if stamp else "")
    st.download_button(
        "Download the pack (HTML, opens offline, prints to PDF)",
        lambda: meeting_export.to_html(pack).encode("utf-8"),
        file_name=f"{slug}.html",
        mime="text/html",
        icon=":material/download:",
        on_click="ignore",
    )
    st.download_button(
        "Download the figures (ZIP of CSVs)",
        lambda: meeting_export.to_csv_zip(pack),
        file_name=f"{slug}.zip",
        mime="application/zip",
        icon=":material/table:",
        on_click="ignore",
    )
with right:
    if raw_snapshot is None and session.can("edit"):
        note = st.text_input("Note for the snapshot", placeholder="e.g. Steering committee, 25 Nov")
        if st.button("Freeze this pack", icon=":material/photo_camera:", type="primary"):
            snap_id = widgets.save(meeting_writes.freeze, name, number, note, rerun=False)
            if snap_id:
                # Rerun so the list below reads the new data version and names the snapshot.
                st.session_state["liftoff_frozen"] = snap_id
                st.rerun()
    frozen = st.session_state.pop("liftoff_frozen", None)
    if frozen:
        st.success(f"Frozen as snapshot #{frozen}.", icon=":material/check_circle:")
    past = cache.read(meeting_reads.snapshots, name)
    if past:
        st.markdown("**Snapshots of this initiative**")
        for snap in past[:10]:
            st.page_link(
                "screens/steering.py",
                label=text.plain(
                    f"#{snap['id']} · iteration {snap['iteration_number']} · "
                    f"{format_moment(snap['created_at'])} · {snap['created_by']}"
                    + (f" · {snap['note']}" if snap["note"] else "")
                ),
                icon=":material/photo_camera:",
                query_params={"snapshot": str(snap["id"]), "initiative": name},
            )
        if raw_snapshot is not None:
            st.page_link(
                "screens/steering.py",
                label="Back to the live pack",
                icon=":material/update:",
                query_params={"initiative": name, "iteration": str(number)},
            )
    else:
        st.caption("No snapshots yet. Freeze the pack to keep today's figures for later.")
