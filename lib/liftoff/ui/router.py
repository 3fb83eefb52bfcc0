"""The router (app.py runs it): page config, the database check, who the user is, and
st.navigation over the screens this person may use."""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from liftoff import config, db
from liftoff.access import auth
from liftoff.ui import cache, session, widgets

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
    "notifications": ":material/campaign:",
    "users": ":material/manage_accounts:",
    "audit": ":material/policy:",
}


ICON = Path(__file__).with_name("icon.png")
APP_CSS = Path(__file__).with_name("app.css")


def _remember_the_way_back(previous: str | None, account: str) -> None:
    """On the Account page, the page the person came from, in the URL (`?back=scalability`):
    signing in is a round trip through the app server's form, which starts a new session, and
    the form sends the person back there (server.auth_routes.way_back), not to the overview."""
    if previous and previous != account and auth.SCREENS.get(previous):
        if st.query_params.get("back") != previous:
            st.query_params["back"] = previous


def run_app(first: st.Page | None = None, screens: str | Path = "screens") -> None:
    """The router (app.py runs it): page config, the database check, who the user is, and the
    pages this person may use; then the page the URL asks for.

    `screens` is the folder of screen files, relative to the main script. `first`, when
    given, is registered in front of the screens as the default page (the benchmarks' bare
    page)."""
    st.set_page_config(
        page_title="Liftoff",
        # A file shipped in the package: a ":material/...:" icon makes every page ask
        # fonts.gstatic.com for the favicon, and nothing on a page may come from off the machine.
        page_icon=str(ICON),
        layout="wide",
        # A presentation link (?present=1) opens with the sidebar out of the way.
        initial_sidebar_state="collapsed" if st.query_params.get("present") == "1" else "auto",
    )
    widgets.stylesheet(APP_CSS)
    widgets.restore_query_params()
    cache.require_database()
    actor = session.resolve_actor()

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
    current = st.navigation(pages, expanded=True)  # every screen listed, none behind "View more"
    session.sidebar_identity(sign_out_button=current.url_path != account.url_path)
    if current.url_path == account.url_path:
        _remember_the_way_back(st.session_state.get("liftoff_page"), account.url_path)
    st.session_state["liftoff_page"] = current.url_path  # the sidebar pickers follow page switches
    _follow_writes_elsewhere()
    widgets.new_run()
    current.run()


def _follow_writes_elsewhere() -> None:
    """Redraw the page when the data changed since it was drawn: a write made through another
    browser, another app process on the same database, the CLI or the API bumps the data
    version, and an open screen (a projector in a meeting, a dashboard left open) shows it
    within LIFTOFF_REFRESH_SECONDS without anyone reloading. The check is one small query;
    the page itself reruns only when the version moved."""
    try:
        every = config.refresh_seconds()
    except config.SettingError as exc:
        st.warning(str(exc), icon=":material/settings:")
        return
    if every is None:
        return

    @st.fragment(run_every=every)
    def watch() -> None:
        drawn = st.session_state.get("liftoff_data_version")
        try:
            now = db.data_version(cache.engine())
        except SQLAlchemyError:  # the next full run says what is wrong with the database
            return
        if drawn is not None and now != drawn:
            st.rerun()

    with st.sidebar:
        watch()
