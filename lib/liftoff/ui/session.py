"""Who is using the app: settings in force, single sign-on, the password sign-in (a session
cookie set by the app server's /auth/sign-in, looked up in the database on every run) and the
role."""

from __future__ import annotations

from collections.abc import Mapping

import streamlit as st

from liftoff.access import auth, sessions
from liftoff.config import SettingError, Settings
from liftoff.ui import cache, text


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


def request_cookies() -> Mapping[str, str]:
    """The cookies the browser sent when it opened this session's connection (a client that
    attaches to someone else's session id brings its own, not theirs)."""
    try:
        return st.context.cookies or {}
    except Exception:  # no browser behind this run (a bare script run)
        return {}


def _session_cookie() -> str | None:
    return request_cookies().get(sessions.COOKIE)


def _identity_key() -> tuple:
    """What the browser of this connection proves about itself: its session cookie, or its
    single-sign-on email."""
    if single_sign_on():
        return ("oidc", st.user.get("email") if st.user.is_logged_in else None)
    return ("password", _session_cookie())


def resolve_actor() -> auth.Actor:
    """Who this run acts for, decided afresh on every run by the router: the single-sign-on
    user, or the person whose session cookie this browser sent (the session and the role are
    read from the database each time, so a sign-out, an expiry, a role change or a removal
    counts at once in every app process); else an anonymous visitor with
    LIFTOFF_ANONYMOUS_ROLE. Nothing in the session state decides it."""
    conf = settings()
    actor = auth.anonymous(conf)
    cookie = _session_cookie()
    if single_sign_on():
        if st.user.is_logged_in and st.user.get("email"):
            actor = auth.user_actor(
                cache.engine(), st.user["email"], "oidc", conf.oidc_default_role
            )
    elif cookie:
        found = sessions.lookup(cache.engine(), cookie)
        if found is not None:
            actor = found
        elif sessions.expired(cache.engine(), cookie):
            # Signing out on purpose needs no notice: the sidebar says "visitor" already.
            st.session_state["liftoff_notice"] = (
                f"Your sign-in ended after {conf.session_hours:g} hours. Sign in again."
            )
    st.session_state["liftoff_actor"] = (_identity_key(), actor)
    return actor


def actor() -> auth.Actor:
    """Who this run acts for (see resolve_actor). A widget callback runs before the router;
    it gets the person resolved for this browser's cookie, never one left in the session by
    another connection."""
    found = st.session_state.get("liftoff_actor")
    if isinstance(found, tuple) and found[0] == _identity_key():
        return found[1]
    return resolve_actor()


def can(action: str) -> bool:
    """Whether the person using the app may do `action`."""
    return actor().can(action)


def edit_hint(what: str, leaving: str | None = None) -> None:
    """Say, where editing controls would be, who may use them and how to sign in (`leaving`:
    the mode to leave first, where the sidebar is closed)."""
    how = f"Leave {leaving} and sign in" if leaving else "Sign in"
    st.caption(f"Editors {what}. {how} with an editor account (Sign in, in the sidebar) to do so.")


def sign_out(everywhere: bool = False) -> None:
    """End this browser's password sign-in in the database (`everywhere`: every browser of
    this person); the cookie the browser still holds then stands for nobody."""
    current = actor()
    if everywhere and current.email:
        sessions.revoke_all(cache.engine(), current.email)
    else:
        sessions.revoke(cache.engine(), _session_cookie())
    st.session_state.pop("liftoff_actor", None)
    st.session_state["liftoff_signed_out"] = True


def change_password(current: str, new: str) -> None:
    """Change the signed-in person's own password (the current one first); every other browser
    signed in as them is signed out. Raises auth.AccountError with the reason."""
    me = actor()
    auth.change_own_password(cache.engine(), me, current, new)
    if me.email:
        sessions.revoke_all(cache.engine(), me.email, keep=_session_cookie())


def sidebar_identity(sign_out_button: bool = True) -> None:
    """One line in the sidebar: who is signed in with which role, or how to sign in; and a
    Sign out button (not on the Account page, which has its own)."""
    current = actor()
    with st.sidebar:
        if current.email:
            role = current.role or "no role"
            # Signing out is one click from every screen, not only on the Account page; on
            # the same line, so the pickers below stay where they were.
            who_col, out_col = st.columns([3, 2], vertical_alignment="center", gap="small")
            who_col.caption(f"Signed in as {text.plain(current.display)} · {role}")
            if sign_out_button and out_col.button(
                "Sign out", key="sidebar_sign_out", icon=":material/logout:", type="tertiary"
            ):
                if current.via == "oidc":
                    st.logout()
                else:
                    sign_out()
                    st.rerun()
        elif current.role:
            st.caption(f"Browsing as a visitor ({current.role}). Sign in to upload or edit.")
    # Signed out from the sidebar of a screen: said there (the Account page says it itself).
    if not current.email and sign_out_button and st.session_state.pop("liftoff_signed_out", False):
        st.toast("You are signed out.", icon=":material/logout:")


def who() -> str:
    """The name to suggest for decisions: the signed-in person's."""
    current = actor()
    return current.display if current.email else ""
