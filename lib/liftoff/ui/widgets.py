"""Shared widgets of the screens: the initiative and iteration pickers kept in the URL, the page
picker, the one save helper for every write a screen makes, and CSV downloads."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st

from liftoff import errors, export
from liftoff.config import PACKAGE_DIR
from liftoff.evidence import reads as evidence_reads
from liftoff.people import reads as people_reads
from liftoff.ui import cache, session, text


def _remember(key: str, value: str | None) -> None:
    st.session_state[f"liftoff_{key}"] = value
    if value is None:
        st.query_params.pop(key, None)
    elif st.query_params.get(key) != value:
        st.query_params[key] = value


def restore_query_params() -> None:
    """Put the chosen initiative and iteration back into the URL after a page switch."""
    for key in ("initiative", "iteration"):
        remembered = st.session_state.get(f"liftoff_{key}")
        if key not in st.query_params and remembered is not None:
            st.query_params[key] = remembered


_ITERATION_SLOT = "liftoff_iteration_slot"
_NOTE_SLOT = "liftoff_note_slot"


def new_run() -> None:
    """Forget the previous run's picker row (the router calls this before the page runs)."""
    st.session_state.pop(_ITERATION_SLOT, None)
    st.session_state.pop(_NOTE_SLOT, None)


def _picker_slots():
    """Where the initiative and the iteration pickers go: one row under the screen's title, in
    view at once (in the sidebar they sat below 15 page links, half out of a 1440x900 screen for
    an editor). In presentation mode, where every pixel belongs to the slide, the sidebar."""
    if st.query_params.get("present") == "1":
        return st.sidebar, st.sidebar
    initiative, iteration, _ = st.columns([3, 3, 4], vertical_alignment="bottom")
    return initiative, iteration


def _picker(where, key: str, label: str, options: list, wanted, default, **kwargs):
    """A selectbox whose value follows the URL when the URL changed from outside
    (a shared link, a click on another page) and the user's pick otherwise.

    Each page has its own copy of the widget, so on arriving from another page it is set to
    the choice remembered for the session (the URL's, else the last pick)."""
    widget_key = f"pick_{key}"
    remembered = st.session_state.get(f"liftoff_{key}")
    url_changed = wanted is not None and str(wanted) != remembered
    page = st.session_state.get("liftoff_page")
    arrived = st.session_state.get(f"liftoff_{key}_page") != page
    st.session_state[f"liftoff_{key}_page"] = page
    if url_changed or arrived or st.session_state.get(widget_key) not in options:
        if wanted is not None:
            st.session_state[widget_key] = wanted
        else:
            known = next((o for o in options if str(o) == remembered), None)
            st.session_state[widget_key] = known if known is not None else default
    return where.selectbox(label, options, key=widget_key, **kwargs)


def pick_initiative(names: list[str]) -> str | None:
    """Picker of the initiative, kept in the URL (`?initiative=NAME`), with the place for the
    iteration picker beside it (pick_iteration)."""
    if not names:
        return None
    wanted = st.query_params.get("initiative")
    if wanted is not None and wanted not in names:
        st.warning(
            f"No initiative is named “{text.plain(wanted)}”. Showing {text.plain(names[0])} instead; "
            "choose another under Initiative.",
            icon=":material/search_off:",
        )
        wanted = None
        st.session_state.pop("pick_initiative", None)
    before = st.session_state.get("liftoff_initiative")
    here, beside = _picker_slots()
    st.session_state[_ITERATION_SLOT] = beside
    choice = _picker(here, "initiative", "Initiative", names, wanted, names[0])
    if before is not None and choice != before and wanted in (None, before):
        # The user picked another initiative: its iteration numbers mean something else.
        _remember("iteration", None)
        st.session_state.pop("pick_iteration", None)
    _remember("initiative", choice)
    return choice


def pick_iteration(numbers: list[int], labels: dict[int, str]) -> int | None:
    """Picker of the iteration (default: the latest), kept in the URL (`?iteration=N`): beside
    the initiative picker when the screen has one."""
    if not numbers:
        _remember("iteration", None)
        return None
    raw = st.query_params.get("iteration")
    wanted: int | None = None
    if raw is not None:
        wanted = int(raw) if raw.strip().isdigit() else None
        if wanted not in numbers:
            st.warning(
                f"This initiative has no iteration “{text.plain(raw)}”. Showing the latest, "
                f"iteration {numbers[-1]}.",
                icon=":material/search_off:",
            )
            wanted = None
            st.session_state.pop("pick_iteration", None)
            st.session_state.pop("liftoff_iteration", None)
    where = st.session_state.pop(_ITERATION_SLOT, None) or st.container()
    choice = _picker(
        where,
        "iteration",
        "Iteration",
        numbers,
        wanted,
        numbers[-1],
        format_func=lambda n: labels.get(n, f"Iteration {n}"),
    )
    _remember("iteration", str(choice))
    return choice


def whole_initiative_note(ev, scope: str) -> None:
    """For a screen about the whole initiative (no Iteration picker): where the picker would
    be, what the screen covers, so an iteration named in the URL or chosen on another screen is
    not taken for the one shown ("Iteration 4 stays chosen for the other screens")."""
    where = st.session_state.pop(_ITERATION_SLOT, None) or st.container()
    latest = ev.iterations[-1].number if ev.iterations else None
    raw = st.query_params.get("iteration")
    chosen = int(raw) if raw is not None and raw.strip().isdigit() else None
    note = scope.format(latest=latest)
    if chosen is not None and chosen != latest and chosen in {it.number for it in ev.iterations}:
        # In a box under the pickers, the whole page wide: small grey print was missed by
        # someone who had just picked iteration 6 (helper-26); in the picker's place the box
        # pushed the Initiative picker down.
        below = st.session_state.pop(_NOTE_SLOT, None) or st.container()
        below.info(
            text.plain(
                f"Iteration {chosen} stays chosen on the other screens; this one is about the "
                f"whole initiative. {note}"
            ),
            icon=":material/info:",
        )
        return
    where.caption(text.plain(note))


def pick_page(total: int) -> int:
    """A page number for a table of `total` rows shown people_reads.PAGE at a time (1, with no
    picker, when they fit on one page)."""
    pages = (total + people_reads.PAGE - 1) // people_reads.PAGE
    if pages == 1:
        return 1
    return st.number_input(f"Page (of {pages:,})", min_value=1, max_value=pages, value=1)


def initiative_screen(
    title: str | None, upload_hint: str, caption: bool = True, whole_initiative: bool = False
):
    """Title, the initiative picker and its evidence; stops with an empty state that says what
    to upload when there is nothing to show."""
    if title:
        st.title(title)
    names = [i["name"] for i in cache.read(evidence_reads.initiatives)]
    if not names:
        st.info(
            "No initiatives yet. Load the demo portfolio with `liftoff demo`, or upload data on the "
            "Upload data page (`liftoff import FILE --create` works too).",
            icon=":material/upload_file:",
        )
        st.stop()
    ev = cache.initiative_evidence(pick_initiative(names))
    ini = ev.initiative
    if whole_initiative:
        # Under the pickers, for a note about what the screen shows (whole_initiative_note).
        st.session_state[_NOTE_SLOT] = st.container()
    if caption:
        st.caption(
            text.plain(f"{ini['name']} · {ini['business_goal'] or 'no business goal written yet'}")
        )
    if not ev.iterations:
        st.info(
            text.plain(f"{ini['name']} has no iterations yet. {upload_hint}"),
            icon=":material/upload_file:",
        )
        st.stop()
    return ev


def save(write: Callable[..., Any], *args: Any, rerun: bool = True, **kwargs: Any) -> Any:
    """Run an editor's write as this person (`write(engine, actor, *args, **kwargs)`), then
    rerun so every part of the screen shows the new data.

    Anything the person can cause — a value the write refuses, a missing role, a database busy
    with another write for longer than the wait (every errors.LiftoffError) — is shown as its
    message instead; nothing was written and it returns None. With `rerun=False` it returns what
    the write returned (True when that is None), for a screen that keeps something to show after
    the write and reruns itself."""
    try:
        result = write(cache.engine(), session.actor(), *args, **kwargs)
    except errors.LiftoffError as exc:
        st.error(text.plain(str(exc)))
        return None
    if rerun:
        st.rerun()
    return True if result is None else result


def csv_download(label: str, frame: Callable[[], pd.DataFrame], file_name: str) -> None:
    """A button that downloads a table as CSV with spreadsheet formulas neutralised
    (export.safe_csv); `frame` is called only when the button is clicked."""
    st.download_button(
        label,
        lambda: export.safe_csv(frame()),
        file_name=file_name,
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",  # no rerun, which could drop the file before the browser fetches it
    )


def table(data: Any, **kwargs: Any) -> Any:
    """st.dataframe for every table a screen shows: `data` (a DataFrame, rows as dicts, or an
    Arrow table built by tables.arrow) with text that a spreadsheet would run as a formula
    neutralised, as the toolbar's own "Download as CSV" writes the cells it was sent."""
    import pyarrow as pa

    from liftoff import tables

    if not isinstance(data, pa.Table):
        data = tables.arrow(data if isinstance(data, pd.DataFrame) else pd.DataFrame(data))
    # One way of writing a day on every screen ("27 Oct 2026", as formatting.format_date and
    # the sentences write it), unless the screen chose a column's display itself.
    config = dict(kwargs.pop("column_config", None) or {})
    for field in data.schema:
        if field.name in config:
            continue
        if pa.types.is_date(field.type):
            config[field.name] = st.column_config.DateColumn(format=DATE_FORMAT)
        elif pa.types.is_timestamp(field.type):
            config[field.name] = st.column_config.DatetimeColumn(format=DATETIME_FORMAT)
    # A missing value reads "—", never "None".
    kwargs.setdefault("placeholder", "—")
    if kwargs.get("row_height", 0) > 40 and "height" not in kwargs:
        # Tall rows: every row on screen up to ten (the automatic height stopped at five of
        # six criteria and hid the sixth inside the table's own scroll).
        kwargs["height"] = 38 + min(data.num_rows, 10) * kwargs["row_height"] + 3
    elif "row_height" not in kwargs and "height" not in kwargs and 9 < data.num_rows <= 15:
        # One-line rows: the automatic height shows ten and left the tenth a sliver at the
        # bottom edge (helper-27 took a metric for not imported); up to fifteen all show.
        kwargs["height"] = 35 * (data.num_rows + 1) + 3
    return st.dataframe(data, column_config=config or None, **kwargs)


# Rows of three lines for tables of sentences (criteria, concerns, the checklist): Streamlit
# wraps a cell's text only in rows taller than 4rem; at one line it cut them off with "…".
WRAPPED_ROWS = 76

# Moment.js patterns of st.column_config: "27 Oct 2026" and "27 Oct 2026, 14:05".
DATE_FORMAT = "D MMM YYYY"
DATETIME_FORMAT = "D MMM YYYY, HH:mm"


def stylesheet(path: Path) -> None:
    """Apply one of Liftoff's own stylesheets, a .css file shipped inside the package."""
    _packaged(path, ".css")


def sign_in_button() -> None:
    """The Account page's "Sign in with email and password": to the sign-in form in this tab,
    coming back signed in to the page the person came from (ui/sign_in.html sends no `next`;
    the server reads the way back from the Account page's address, server.auth_routes.way_back)."""
    _packaged(Path(__file__).with_name("sign_in.html"), ".html")


def _packaged(path: Path, suffix: str) -> None:
    """Put one of Liftoff's own files on the page: a file of the package with this suffix,
    never text a user or a file brought (this is the only st.html in Liftoff;
    tests/test_auth.py holds it to that)."""
    path = Path(path).resolve()
    if path.suffix != suffix or not path.is_relative_to(PACKAGE_DIR) or not path.is_file():
        raise ValueError(f"Not one of Liftoff's own {suffix} files: {path}")
    st.html(path)


def fresh_uploader_key(name: str, imported_file_id: str | None) -> str:
    """The key of a file uploader that is emptied after its file was imported: a new key when
    the uploader still holds the file `imported_file_id` (the last run imported it), the same
    key otherwise, so a file chosen while the import ran is kept, not cleared with the old
    uploader."""
    round_key = f"{name}_round"
    current = f"{name}_{st.session_state.get(round_key, 0)}"
    held = st.session_state.get(current)
    if imported_file_id is not None and getattr(held, "file_id", None) == imported_file_id:
        st.session_state[round_key] = st.session_state.get(round_key, 0) + 1
        current = f"{name}_{st.session_state[round_key]}"
    return current
