"""Sign in and out: single sign-on when `[auth]` is configured, else Liftoff's own accounts
(the sign-in itself is a page of the app server, /auth/sign-in, which sets the session cookie)."""

import streamlit as st

from liftoff.access import auth
from liftoff.ui import session, text, widgets

current = session.actor()
conf = session.settings()
notice = st.session_state.pop("liftoff_notice", None)

if not current.email:
    st.title("Sign in")
    if st.session_state.pop("liftoff_signed_out", False):
        st.success("You are signed out.", icon=":material/logout:")
    if notice:
        st.warning(notice, icon=":material/schedule:")
    if current.role:
        st.caption(
            f"Without signing in you can {auth.ACTIONS['read'][1]} and "
            f"{auth.ACTIONS['export'][1]}. Sign in to upload files or edit."
        )
    else:
        st.info("Sign in to see Liftoff's screens.", icon=":material/lock:")
    if session.single_sign_on():
        providers = session.sso_providers()
        for provider in providers or [None]:
            label = (
                "Sign in with single sign-on" if provider is None else f"Sign in with {provider}"
            )
            if st.button(label, type="primary", icon=":material/login:", key=f"sso_{provider}"):
                st.login(provider) if provider else st.login()
    else:
        widgets.sign_in_button()
        st.caption(
            "No account? An admin adds one on the Users page or with "
            "`liftoff users add EMAIL --role editor`. A fresh installation has no accounts: "
            "create the first admin with `liftoff users add you@example.org --role admin`."
        )
    st.stop()

st.title("Account")
if current.role is None:
    st.warning(
        f"You are signed in as {text.plain(current.label)}, but Liftoff gives this email no role. "
        "Ask an admin to add it on the Users page.",
        icon=":material/block:",
    )
else:
    st.markdown(
        f"Signed in as **{text.plain(current.display)}** ({text.plain(current.label)}) with the "
        f"**{current.role}** role: you may "
        + "; ".join(m for a, (_, m) in auth.ACTIONS.items() if current.can(a))
        + "."
    )
if current.via == "oidc":
    if st.button("Sign out", icon=":material/logout:"):
        st.logout()
    st.stop()

st.caption(
    f"A sign-in lasts {conf.session_hours:g} hours, in every tab of this browser. "
    "Signing out here ends it on the server at once."
)
left, right = st.columns(2)
if left.button("Sign out", icon=":material/logout:", width="stretch"):
    session.sign_out()
    st.rerun()
if right.button(
    "Sign out everywhere",
    icon=":material/devices:",
    width="stretch",
    help="Ends your sign-in in every browser and on every device, this one too.",
):
    session.sign_out(everywhere=True)
    st.rerun()

with st.expander("Change my password"):
    with st.form("own_password", clear_on_submit=True):
        old = st.text_input("Current password", type="password", autocomplete="current-password")
        new = st.text_input("New password", type="password", autocomplete="new-password")
        again = st.text_input("New password again", type="password", autocomplete="new-password")
        st.caption(
            f"At least {auth.MIN_PASSWORD_LENGTH} characters and hard to guess: a few unrelated "
            "words work well. Your other browsers are signed out when it changes."
        )
        if st.form_submit_button("Change password"):
            if new != again:
                st.error("The two new passwords differ; nothing was changed.")
            else:
                try:
                    session.change_password(old, new)
                    st.success("Your password is changed.", icon=":material/check_circle:")
                except auth.AccountError as exc:
                    st.error(text.plain(str(exc)))
