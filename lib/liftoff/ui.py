"""The one bridge between Liftoff and streamlit: cached engine and reads, shared pickers."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import streamlit as st
from sqlalchemy import Engine

from liftoff import (
    auth,
    charts,
    db,
    evidence,
    ingest,
    people_db,
    people_views,
    portfolio,
    queries,
    report,
)
from liftoff.config import SettingError, Settings, database_url

# Reads pages may ask for through `read`; results are cached per data version.
READS: dict[str, Callable[..., Any]] = {
    "overview": portfolio.overview,
    "initiative": evidence.for_initiative,
    "initiatives": queries.initiatives,
    "import_batches": queries.import_batches,
    "import_batch": queries.import_batch,
    "load_steps": queries.load_steps,
    "segment_values": queries.segment_values,
    "feedback_page": people_db.feedback_page,
    "concerns_page": people_db.concerns_page,
    "concern": people_db.concern,
    "concern_history": people_db.concern_history,
    "stakeholders": people_db.stakeholders,
    "pack": report.build,
    "snapshot": report.snapshot,
    "snapshots": report.snapshots,
    "decisions": report.decisions,
    "open_actions": report.open_actions,
}
# Reads of one initiative's evidence (first argument: its name), built on the cached evidence.
EVIDENCE_READS: dict[str, Callable[..., Any]] = {
    "feedback_view": people_views.feedback_view,
    "concerns_view": people_views.concerns_view,
    "governance_view": people_views.governance_view,
}

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|:<>~$&^=])")


# Markdown turns bare URLs, www. addresses and emails into links even when escaped; an
# invisible word joiner inside them keeps them text.
_AUTOLINK = re.compile(r"(?i)(://|www\.|@)")


def plain(text: object) -> str:
    """Escape `text` so markdown-rendering widgets show it literally (user text is data)."""
    unlinked = _AUTOLINK.sub(lambda m: m.group(1)[0] + "\u2060" + m.group(1)[1:], str(text))
    return _MARKDOWN_SPECIAL.sub(r"\\\1", unlinked).replace("\n", "  \n")


@st.cache_resource(show_spinner=False)
def _engine(url: str) -> Engine:
    return db.make_engine(url)


def engine() -> Engine:
    """The app's engine, one per process and URL."""
    return _engine(database_url())


def require_database() -> Engine:
    """The engine, once the database is reachable and its schema current; else a clear stop.

    Called by the router at the start of every run; it also reads the data-version stamp
    once for the run, so every cached read of this run is keyed by the same version.
    """
    try:
        eng = engine()
        db.require_current_schema(eng)
        st.session_state["liftoff_data_version"] = db.data_version(eng)
    except db.DatabaseError as exc:
        st.error(str(exc), icon=":material/database:")
        st.stop()
    return eng


# Shared, not copied: results are read-only by convention (screens and views build new objects
# from them), and copying a portfolio's evidence on every rerun costs more than drawing it.
@st.cache_resource(show_spinner=False, max_entries=64)
def _read(name: str, url: str, version: int, args: tuple) -> Any:
    if name in EVIDENCE_READS:
        ev = _read("initiative", url, version, args[:1])
        return EVIDENCE_READS[name](_engine(url), ev, *args[1:])
    return READS[name](_engine(url), *args)


def data_version() -> int:
    """The data-version stamp of this run (read by the router), or read now."""
    version = st.session_state.get("liftoff_data_version")
    return db.data_version(engine()) if version is None else version


@st.cache_resource(show_spinner=False, max_entries=300)
def _figure(name: str, url: str, version: int, initiative: str, args: tuple):
    ev = _read("initiative", url, version, (initiative,))
    if name == "load_curves":
        args = (_read("load_steps", url, version, ([ev.initiative["id"]],)),)
    if name == "segments":  # args: iteration number, metric keys
        rows = _read("segment_values", url, version, (ev.iteration(args[0]).id, list(args[1])))
        return charts.segments(rows, ev.catalog) if rows else None
    return getattr(charts, name)(ev, *args)


def figure(name: str, initiative: str, *args: Any):
    """A chart of one initiative's evidence, built once per data version and shared (plotly
    figures are slow to build; streamlit only reads them)."""
    return _figure(name, database_url(), data_version(), initiative, args)


def read(name: str, *args: Any) -> Any:
    """A registered read, cached until the data changes (in this process or any other).
    The result is shared between sessions: never mutate it."""
    return _read(name, database_url(), data_version(), args)


def prepare_upload(data: bytes, file_name: str, options) -> Any:
    """Check an uploaded file once per file, options and data version (not on every rerun),
    showing progress for large files. Raises ingest.ImportRejected for unreadable files."""

    key = (hashlib.sha256(data).hexdigest(), file_name, repr(options), data_version())
    cached = st.session_state.get("liftoff_prepared")
    if cached is not None and cached[0] == key:
        return cached[1]
    lines = max(data.count(b"\n"), 1)
    bar = st.progress(0.0, text="Checking every row…") if lines > 50_000 else None

    def progress(done: int) -> None:
        if bar is not None:
            bar.progress(min(done / lines, 1.0), text=f"Checked {done:,} of about {lines:,} rows")

    prepared = ingest.prepare(engine(), data, file_name, options, progress=progress)
    if bar is not None:
        bar.empty()
    st.session_state["liftoff_prepared"] = (key, prepared)
    return prepared


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


def _sidebar_select(key: str, label: str, options: list, wanted, default, **kwargs):
    """A sidebar selectbox whose value follows the URL when the URL changed from outside
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
    return st.sidebar.selectbox(label, options, key=widget_key, **kwargs)


def pick_initiative(names: list[str]) -> str | None:
    """Sidebar picker of the initiative, kept in the URL (`?initiative=NAME`)."""
    if not names:
        return None
    wanted = st.query_params.get("initiative")
    if wanted is not None and wanted not in names:
        st.warning(
            f"No initiative is named “{plain(wanted)}”. Showing {plain(names[0])} instead; "
            "choose another in the sidebar.",
            icon=":material/search_off:",
        )
        wanted = None
        st.session_state.pop("pick_initiative", None)
    before = st.session_state.get("liftoff_initiative")
    choice = _sidebar_select("initiative", "Initiative", names, wanted, names[0])
    if before is not None and choice != before and wanted in (None, before):
        # The user picked another initiative: its iteration numbers mean something else.
        _remember("iteration", None)
        st.session_state.pop("pick_iteration", None)
    _remember("initiative", choice)
    return choice


def pick_iteration(numbers: list[int], labels: dict[int, str]) -> int | None:
    """Sidebar picker of the iteration (default: the latest), kept in the URL (`?iteration=N`)."""
    if not numbers:
        _remember("iteration", None)
        return None
    raw = st.query_params.get("iteration")
    wanted: int | None = None
    if raw is not None:
        wanted = int(raw) if raw.strip().isdigit() else None
        if wanted not in numbers:
            st.warning(
                f"This initiative has no iteration “{plain(raw)}”. Showing the latest, "
                f"iteration {numbers[-1]}.",
                icon=":material/search_off:",
            )
            wanted = None
            st.session_state.pop("pick_iteration", None)
            st.session_state.pop("liftoff_iteration", None)
    choice = _sidebar_select(
        "iteration",
        "Iteration",
        numbers,
        wanted,
        numbers[-1],
        format_func=lambda n: labels.get(n, f"Iteration {n}"),
    )
    _remember("iteration", str(choice))
    return choice


def initiative_screen(title: str | None, upload_hint: str, caption: bool = True):
    """Title, the initiative picker and its evidence; stops with an empty state that says what
    to upload when there is nothing to show."""
    if title:
        st.title(title)
    names = [i["name"] for i in read("initiatives")]
    if not names:
        st.info(
            "No initiatives yet. Load the demo portfolio with `liftoff demo`, or upload data on the "
            "Upload data page (`liftoff import FILE --create` works too).",
            icon=":material/upload_file:",
        )
        st.stop()
    ev = read("initiative", pick_initiative(names))
    ini = ev.initiative
    if caption:
        st.caption(
            plain(f"{ini['name']} · {ini['business_goal'] or 'no business goal written yet'}")
        )
    if not ev.iterations:
        st.info(
            plain(f"{ini['name']} has no iterations yet. {upload_hint}"),
            icon=":material/upload_file:",
        )
        st.stop()
    return ev


# ----------------------------------------------------------------------------- who is using it


def settings() -> Settings:
    """The settings in force; a bad value stops the app with a message that names it."""
    try:
        return Settings.from_env()
    except SettingError as exc:
        st.error(str(exc), icon=":material/settings:")
        st.stop()


def single_sign_on() -> bool:
    """Whether `.streamlit/secrets.toml` has an `[auth]` section (Streamlit's OpenID Connect)."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all
        return False


def sso_providers() -> list[str]:
    """Named providers under `[auth]` (`[auth.google]` …); empty for a single unnamed one."""
    try:
        section = st.secrets["auth"]
        return [k for k in section if hasattr(section[k], "keys")]
    except Exception:
        return []


SIGNED_IN = "liftoff_signed_in"


def resolve_actor() -> auth.Actor:
    """Who this run acts for, decided once per run by the router: the single-sign-on user or the
    password sign-in of this session (with its role read afresh, so a role change or a removal
    counts at once), else an anonymous visitor with LIFTOFF_ANONYMOUS_ROLE."""
    conf = settings()
    actor = auth.anonymous(conf)
    if single_sign_on():
        if st.user.is_logged_in and st.user.get("email"):
            actor = auth.user_actor(engine(), st.user["email"], "oidc", conf.oidc_default_role)
    else:
        signed = st.session_state.get(SIGNED_IN)
        if signed is not None:
            if auth.session_expired(signed["at"], conf):
                st.session_state.pop(SIGNED_IN, None)
                st.session_state["liftoff_notice"] = (
                    f"Your session ended after {conf.session_hours:g} hours. Sign in again."
                )
            else:
                found = auth.user_actor(engine(), signed["email"], "password")
                if found.role is None:  # removed meanwhile
                    st.session_state.pop(SIGNED_IN, None)
                    st.session_state["liftoff_notice"] = (
                        "Your account was removed; you are signed out."
                    )
                else:
                    actor = found
    st.session_state["liftoff_actor"] = actor
    return actor


def actor() -> auth.Actor:
    """Who this run acts for (see resolve_actor)."""
    found = st.session_state.get("liftoff_actor")
    return found if found is not None else auth.anonymous(settings())


def can(action: str) -> bool:
    """Whether the person using the app may do `action`."""
    return actor().can(action)


def edit_hint(what: str) -> None:
    """Say, where editing controls would be, who may use them and how to sign in."""
    st.caption(
        f"Editors {what}. Sign in with an editor account on the Account page to do so.",
    )


def sign_in(email: str, password: str) -> auth.Actor:
    """Check a password sign-in and keep it for this session; raises auth.SignInFailed."""
    found = auth.sign_in(engine(), settings(), email, password)
    st.session_state[SIGNED_IN] = {"email": found.email, "at": datetime.now()}
    st.session_state.pop("liftoff_notice", None)
    return found


def sign_out() -> None:
    """End this session's password sign-in (single sign-on signs out through st.logout)."""
    st.session_state.pop(SIGNED_IN, None)
    st.session_state.pop("liftoff_actor", None)


def sidebar_identity() -> None:
    """One line in the sidebar: who is signed in with which role, or how to sign in."""
    current = actor()
    with st.sidebar:
        if current.email:
            role = current.role or "no role"
            st.caption(f"Signed in as {plain(current.display)} · {role}")
        elif current.role:
            st.caption(f"Browsing as a visitor ({current.role}). Sign in to upload or edit.")


def who() -> str:
    """The name to suggest for decisions: the signed-in person's."""
    current = actor()
    return current.display if current.email else ""


# Charts of the people screens: (the evidence read they draw from, how).
VIEW_FIGURES: dict[str, tuple[str, Callable[..., Any]]] = {
    "feedback_volume": ("feedback_view", lambda v: charts.feedback_volume(v.rows)),
    "rating_distribution": ("feedback_view", lambda v: charts.rating_distribution(v.rows)),
    "sentiment": ("feedback_view", lambda v: charts.sentiment(v.rows)),
    "themes": (
        "feedback_view",
        lambda v: charts.themes(v.themes["by_iteration"], v.themes["source"]),
    ),
    "concern_burndown": ("concerns_view", lambda v: charts.concern_burndown(v.burndown)),
    "concern_matrix": (
        "concerns_view",
        lambda v: charts.concern_matrix(
            v.facets["matrix"], people_views.CATEGORY_LABELS, people_views.SEVERITY_LIST[::-1]
        ),
    ),
    "rubric": (
        "governance_view",
        lambda v: charts.rubric_sections(
            v.readiness.sections, people_views.rubric_maxima(), v.floor_readiness
        ),
    ),
}


@st.cache_resource(show_spinner=False, max_entries=200)
def _view_figure(chart: str, url: str, version: int, args: tuple):
    view_name, draw = VIEW_FIGURES[chart]
    return draw(_read(view_name, url, version, args))


def view_figure(chart: str, initiative: str, *view_args: Any):
    """A people-screen chart, built once per data version from the same cached view."""
    return _view_figure(chart, database_url(), data_version(), (initiative, *view_args))


@st.cache_resource(show_spinner=False, max_entries=100)
def figure_from_json(text: str):
    """A plotly figure from a pack's chart JSON (parsed once per chart, shared, read-only)."""
    import plotly.io as pio

    return pio.from_json(text, skip_invalid=True)


@st.cache_resource(show_spinner=False, max_entries=100)
def _buy_in_figure(url: str, version: int, initiative_id: int, numbers: tuple):
    return charts.buy_in(_read("stakeholders", url, version, (initiative_id,)), list(numbers))


def buy_in_figure(initiative_id: int, numbers: list[int]):
    """The buy-in chart of an initiative, built once per data version."""
    return _buy_in_figure(database_url(), data_version(), initiative_id, tuple(numbers))
