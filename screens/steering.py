"""Steering pack: one iteration's evidence as slides for the meeting, the decision recorded on
the last slide, frozen snapshots, and the pack to send round (HTML or CSV)."""

from datetime import date

import streamlit as st

from liftoff.formatting import DECISION_LABELS
from liftoff.meeting import export as meeting_export
from liftoff.meeting import pack as report
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
    pack = cache.evidence_read(report.pack_of, name, number, date.today())

slides = pack["slides"]
total = len(slides)
raw_slide = st.query_params.get("slide", "1")
index = min(max(int(raw_slide) if raw_slide.isdigit() else 1, 1), total)

if raw_snapshot is not None and not present:
    st.title("Steering pack")
stamp = report.as_of(pack)
if stamp:
    st.warning(
        text.plain(stamp + ". Read-only: these are the figures as they were then."),
        icon=":material/photo_camera:",
    )


def go(to: int) -> None:
    st.query_params["slide"] = str(to)


nav = st.columns([1, 6, 1], vertical_alignment="center")
nav[0].button(
    "Previous",
    icon=":material/arrow_back:",
    disabled=index == 1,
    on_click=go,
    args=(index - 1,),
    width="stretch",
)
nav[1].progress(index / total, text=f"Slide {index} of {total} · {slides[index - 1]['title']}")
nav[2].button(
    "Next",
    icon=":material/arrow_forward:",
    disabled=index == total,
    on_click=go,
    args=(index + 1,),
    width="stretch",
)

slide = slides[index - 1]
st.caption(text.plain(f"{name} · {pack['iteration']['title']}"))
st.header(slide["title"], anchor=False, divider="gray")
st.subheader(text.plain(slide["sentence"]), anchor=False)
if slide["missing"]:
    st.info(text.plain(slide["missing"]), icon=":material/info:")
if slide["chart"]:
    st.plotly_chart(
        cache.figure_from_json(slide["chart"]), width="stretch", key=f"slide_chart_{index}"
    )
if slide["table"]:
    widgets.table(
        meeting_export.frame_of(slide["table"]),
        hide_index=True,
        width="stretch",
    )

if slide["key"] == "decision" and raw_snapshot is None:
    if session.can("edit"):
        with st.form(f"meeting_decision_{name}_{number}"):
            st.markdown("**Record the decision taken in this meeting**")
            decision = st.radio(
                "Decision",
                ["go", "no-go", "pivot", "extend"],
                format_func=DECISION_LABELS.get,
                horizontal=True,
            )
            rationale = st.text_area("Rationale", placeholder="Why, in a sentence or two")
            a, b = st.columns(2)
            decided_by = a.text_input(
                "Decided by", value=session.who(), placeholder="The chair or the board"
            )
            attendees = b.text_area("Attendees (one per line)", height=100)
            actions = st.text_area(
                "Action items, one per line: what; owner; due date (YYYY-MM-DD, optional)",
                placeholder="Load-test the new peak; Jonas Weber; 2026-12-10",
                height=110,
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
                    st.rerun()
    else:
        session.edit_hint("record the decision, attendees and action items on this slide")

if present:
    st.page_link(
        "screens/steering.py",
        label="Leave presentation mode",
        icon=":material/close_fullscreen:",
        query_params={k: v for k, v in st.query_params.to_dict().items() if k != "present"},
    )
    st.stop()

st.divider()
left, right = st.columns(2)
with left:
    st.page_link(
        "screens/steering.py",
        label="Present: large type, sidebar closed, one slide per screen",
        icon=":material/co_present:",
        query_params={**st.query_params.to_dict(), "present": "1", "slide": str(index)},
    )
    slug = f"{name}-iteration-{number}" + (f"-snapshot-{pack['snapshot']['id']}" if stamp else "")
    st.download_button(
        "Download the pack (HTML, opens offline, prints to PDF)",
        lambda: meeting_export.to_html(pack).encode("utf-8"),
        file_name=f"{slug}.html",
        mime="text/html",
        icon=":material/download:",
    )
    st.download_button(
        "Download the figures (ZIP of CSVs)",
        lambda: meeting_export.to_csv_zip(pack),
        file_name=f"{slug}.zip",
        mime="application/zip",
        icon=":material/table:",
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
                    f"{snap['created_at']:%Y-%m-%d %H:%M} · {snap['created_by']}"
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
