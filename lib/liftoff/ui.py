"""The one bridge between Liftoff and streamlit: cached engine and reads, shared pickers."""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import streamlit as st
from sqlalchemy import Engine

from liftoff import charts, db, export, ingest, manage
from liftoff.access import auth
from liftoff.config import SettingError, Settings, database_url
from liftoff.evidence import initiative as evidence
from liftoff.evidence import portfolio, views
from liftoff.evidence import reads as queries
from liftoff.meeting import pack as report
from liftoff.meeting import reads as meeting_reads
from liftoff.people import reads as people_db
from liftoff.people import views as people_views
from liftoff.tables import Table

# Reads pages may ask for through `read`; results are cached per data version.
READS: dict[str, Callable[..., Any]] = {
    "overview": portfolio.overview,
    "initiative": evidence.for_initiative,
    "initiatives": queries.initiatives,
    "import_batches": queries.import_batches,
    "import_batch": queries.import_batch,
    "load_steps": queries.load_steps,
    "segment_values": queries.segment_values,
    "concern_detail": people_views.concern_detail,
    "snapshot": meeting_reads.snapshot,
    "snapshots": meeting_reads.snapshots,
    "decisions": meeting_reads.decisions,
}
# Reads of one initiative's evidence (first argument: its name), built on the cached evidence.
EVIDENCE_READS: dict[str, Callable[..., Any]] = {
    "feedback_view": people_views.feedback_view,
    "concerns_view": people_views.concerns_view,
    "governance_view": people_views.governance_view,
    "comments_page": people_views.comments_page,
    "register_page": people_views.register_page,
    "iteration_view": lambda _engine, ev, number: views.iteration_view(ev, number),
    "pack": report.pack_of,
}
# Tables of one initiative's evidence (first argument: its name), kept with their Arrow form.
EVIDENCE_TABLES: dict[str, Callable[..., pd.DataFrame]] = {
    "capacity": views.capacity_table,
    "firing": views.firing_table,
    "rules": views.rules_table,
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
        st.session_state["liftoff_data_version"] = db.checked_data_version(eng)
    except db.DatabaseError as exc:
        st.error(str(exc), icon=":material/database:")
        st.stop()
    return eng


class Shared:
    """Values shared by every session of this process, each built once per key.

    What st.cache_resource does for Liftoff's reads, without its cost on every call (it hashes
    each argument and inspects the function's signature, several milliseconds a rerun on a
    busy screen): keys here are plain tuples whose parts are already hashable. The oldest
    entries go when there are more than `max_entries`; concurrent sessions asking for the same
    missing key build it once.
    """

    registry: list[Shared] = []

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._values: OrderedDict[Hashable, Any] = OrderedDict()
        self._building: dict[Hashable, threading.Lock] = {}
        self._lock = threading.Lock()
        Shared.registry.append(self)

    def get(self, key: Hashable, build: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
            building = self._building.setdefault(key, threading.Lock())
        with building:
            with self._lock:
                if key in self._values:
                    return self._values[key]
            try:
                value = build()
            finally:
                with self._lock:
                    self._building.pop(key, None)
            with self._lock:
                self._values[key] = value
                while len(self._values) > self.max_entries:
                    self._values.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


def _key(value: Any) -> Hashable:
    """`value` as a hashable key part: lists and sets become tuples, dicts sorted pairs."""
    if isinstance(value, list | tuple):
        return tuple(_key(v) for v in value)
    if isinstance(value, set | frozenset):
        return tuple(sorted(_key(v) for v in value))
    if isinstance(value, dict):
        return tuple(sorted((k, _key(v)) for k, v in value.items()))
    return value


def clear_caches() -> None:
    """Forget every shared read and chart (tests and benchmarks start cold with it)."""
    for shared in Shared.registry:
        shared.clear()
    st.cache_resource.clear()


# Shared, not copied: results are read-only by convention (screens and views build new objects
# from them), and copying a portfolio's evidence on every rerun costs more than drawing it.
_READS = Shared(max_entries=64)


def _read(name: str, url: str, version: int, args: tuple) -> Any:
    def build() -> Any:
        if name in EVIDENCE_READS:
            ev = _read("initiative", url, version, args[:1])
            return EVIDENCE_READS[name](_engine(url), ev, *args[1:])
        return READS[name](_engine(url), *args)

    return _READS.get((name, url, version, args), build)


def data_version() -> int:
    """The data-version stamp of this run (read by the router), or read now."""
    version = st.session_state.get("liftoff_data_version")
    return db.data_version(engine()) if version is None else version


_FIGURES = Shared(max_entries=300)


def _figure(name: str, url: str, version: int, initiative: str, args: tuple):
    def build():
        ev = _read("initiative", url, version, (initiative,))
        if name == "load_curves":
            steps = _read("load_steps", url, version, ((ev.initiative["id"],),))
            return charts.frozen(charts.load_curves(ev, steps))
        if name == "segments":  # args: iteration number, metric keys
            rows = _read("segment_values", url, version, (ev.iteration(args[0]).id, tuple(args[1])))
            return charts.frozen(charts.segments(rows, ev.catalog)) if rows else None
        return charts.frozen(getattr(charts, name)(ev, *args))

    return _FIGURES.get((name, url, version, initiative, args), build)


def figure(name: str, initiative: str, *args: Any):
    """A chart of one initiative's evidence, built once per data version and shared (plotly
    figures are slow to build; streamlit only reads them)."""
    return _figure(name, database_url(), data_version(), initiative, _key(args))


def read(name: str, *args: Any) -> Any:
    """A registered read, cached until the data changes (in this process or any other).
    The result is shared between sessions: never mutate it."""
    return _read(name, database_url(), data_version(), _key(args))


def original_file(batch_id: int) -> Callable[[], bytes | None]:
    """The file a batch came from, for st.download_button: read only when it is clicked."""
    url = database_url()
    return lambda: queries.original_file(_engine(url), batch_id)


_TABLES = Shared(max_entries=200)


def overview_table() -> Table:
    """The portfolio overview as one table (portfolio.table), once per data version."""
    url, version = database_url(), data_version()
    return _TABLES.get(
        ("overview", url, version),
        lambda: Table.of(portfolio.table(_read("overview", url, version, ()))),
    )


def headroom_figure():
    """The portfolio's capacity headroom chart, once per data version."""
    url, version = database_url(), data_version()
    return _FIGURES.get(
        ("headroom", url, version),
        lambda: charts.frozen(
            charts.headroom_bars(_read("overview", url, version, ()), portfolio.HEADROOM_WARNING)
        ),
    )


def evidence_table(name: str, initiative: str, *args: Any) -> Table:
    """A table of one initiative's evidence (EVIDENCE_TABLES), built and converted for display
    once per data version."""
    url, version, key = database_url(), data_version(), _key(args)

    def build() -> Table:
        ev = _read("initiative", url, version, (initiative,))
        return Table.of(EVIDENCE_TABLES[name](ev, *key))

    return _TABLES.get((name, url, version, initiative, key), build)


def prepare_upload(data: bytes, file_name: str, options) -> Any:
    """Check an uploaded file once per file, options and data version (not on every rerun),
    showing progress for large files. Raises ingest.ImportRejected for unreadable files."""

    sha = hashlib.sha256(data).hexdigest()
    key = (sha, file_name, repr(options), data_version())
    cached = st.session_state.get("liftoff_prepared")
    if cached is not None and cached[0] == key:
        return cached[1]
    lines = max(data.count(b"\n"), 1)
    bar = st.progress(0.0, text="Checking every row…") if lines > 50_000 else None

    def progress(done: int) -> None:
        if bar is not None:
            bar.progress(min(done / lines, 1.0), text=f"Checked {done:,} of about {lines:,} rows")

    prepared = ingest.prepare(engine(), data, file_name, options, progress=progress, sha256=sha)
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


def pick_page(total: int) -> int:
    """A page number for a table of `total` rows shown people_db.PAGE at a time (1, with no
    picker, when they fit on one page)."""
    pages = (total + people_db.PAGE - 1) // people_db.PAGE
    if pages == 1:
        return 1
    return st.number_input(f"Page (of {pages:,})", min_value=1, max_value=pages, value=1)


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


def save(write: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Run an editor's write as this person (`write(engine, actor, *args, **kwargs)`), then
    rerun so every part of the screen shows the new data; a value the write refuses
    (manage.InvalidValue), or a database busy with another write for longer than the wait, is
    shown as its message instead, and nothing was written."""
    try:
        write(engine(), actor(), *args, **kwargs)
    except (manage.InvalidValue, db.DatabaseError) as exc:
        st.error(plain(str(exc)))
        return
    st.rerun()


def csv_download(label: str, frame: Callable[[], pd.DataFrame], file_name: str) -> None:
    """A button that downloads a table as CSV with spreadsheet formulas neutralised
    (export.safe_csv); `frame` is called only when the button is clicked."""
    st.download_button(
        label,
        lambda: export.safe_csv(frame()),
        file_name=file_name,
        mime="text/csv",
        icon=":material/download:",
    )


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
    "buy_in": ("concerns_view", lambda v: charts.buy_in(v.people, v.numbers)),
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


def _view_figure(chart: str, url: str, version: int, args: tuple):
    def build():
        view_name, draw = VIEW_FIGURES[chart]
        return charts.frozen(draw(_read(view_name, url, version, args)))

    return _FIGURES.get(("view", chart, url, version, args), build)


def view_figure(chart: str, initiative: str, *view_args: Any):
    """A people-screen chart, built once per data version from the same cached view."""
    return _view_figure(chart, database_url(), data_version(), _key((initiative, *view_args)))


_PACK_FIGURES = Shared(max_entries=100)


def figure_from_json(text: str):
    """A plotly figure from a pack's chart JSON (parsed once per chart, shared, read-only)."""
    import plotly.io as pio

    return _PACK_FIGURES.get(
        hashlib.sha256(text.encode()).digest(),
        lambda: charts.frozen(pio.from_json(text, skip_invalid=True)),
    )


# ----------------------------------------------------------------------------- the router

ICONS = {
    "overview": ":material/dashboard:",
    "iterations": ":material/flag:",
    "model_business": ":material/insights:",
    "scalability": ":material/speed:",
    "monitoring": ":material/notifications:",
    "feedback": ":material/forum:",
    "concerns": ":material/groups:",
    "governance": ":material/verified_user:",
    "steering": ":material/co_present:",
    "upload": ":material/upload_file:",
    "imports": ":material/history:",
    "users": ":material/manage_accounts:",
    "audit": ":material/policy:",
}


def run_app(first: st.Page | None = None, screens: str | Path = "screens") -> None:
    """The router (app.py runs it): page config, the database check, who the user is, and the
    pages this person may use; then the page the URL asks for.

    `screens` is the folder of screen files, relative to the main script. `first`, when
    given, is registered in front of the screens as the default page (the benchmarks' bare
    page)."""
    st.set_page_config(
        page_title="Liftoff",
        page_icon=":material/rocket_launch:",
        layout="wide",
        # A presentation link (?present=1) opens with the sidebar out of the way.
        initial_sidebar_state="collapsed" if st.query_params.get("present") == "1" else "auto",
    )
    restore_query_params()
    require_database()
    actor = resolve_actor()

    # Only the screens this person's role allows are registered: a URL to any other is
    # "not found".
    pages: dict[str, list] = {"": [first]} if first is not None else {}
    for key, (section, title, _) in auth.SCREENS.items():
        if actor.sees(key):
            page = st.Page(
                Path(screens) / f"{key}.py",
                title=title,
                icon=ICONS[key],
                default=key == "overview" and first is None,
            )
            pages.setdefault(section, []).append(page)
    account = st.Page(
        Path(screens) / "account.py",
        title="Account" if actor.email else "Sign in",
        icon=":material/account_circle:",
        default=not pages,
    )
    pages.setdefault("Account", []).append(account)
    sidebar_identity()
    current = st.navigation(pages, expanded=True)  # every screen listed, none behind "View more"
    st.session_state["liftoff_page"] = current.url_path  # the sidebar pickers follow page switches
    current.run()
