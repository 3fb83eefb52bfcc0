"""Who is using the app: settings in force, single sign-on, the password sign-in and the role."""

from __future__ import annotations

from datetime import datetime

import streamlit as st

from liftoff.access import auth
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


SIGNED_IN = "liftoff_signed_in"


def resolve_actor() -> auth.Actor:
    """Who this run acts for, decided once per run by the router: the single-sign-on user or the
    password sign-in of this session (with its role read afresh, so a role change or a removal
    counts at once), else an anonymous visitor with LIFTOFF_ANONYMOUS_ROLE."""
    conf = settings()
    actor = auth.anonymous(conf)
    if single_sign_on():
        if st.user.is_logged_in and st.user.get("email"):
            actor = auth.user_actor(
                cache.engine(), st.user["email"], "oidc", conf.oidc_default_role
            )
    else:
        signed = st.session_state.get(SIGNED_IN)
        if signed is not None:
            if auth.session_expired(signed["at"], conf):
                st.session_state.pop(SIGNED_IN, None)
                st.session_state["liftoff_notice"] = (
                    f"Your session ended after {conf.session_hours:g} hours. Sign in again."
                )
            else:
                found = auth.user_actor(cache.engine(), signed["email"], "password")
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
    found = auth.sign_in(cache.engine(), settings(), email, password)
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
            st.caption(f"Signed in as {text.plain(current.display)} · {role}")
        elif current.role:
            st.caption(f"Browsing as a visitor ({current.role}). Sign in to upload or edit.")


def who() -> str:
    """The name to suggest for decisions: the signed-in person's."""
    current = actor()
    return current.display if current.email else ""
