"""Users and settings (admins): who may do what, and the settings in force."""

import streamlit as st

from liftoff.access import auth, tokens
from liftoff.config import SETTINGS
from liftoff.db.models import ROLES
from liftoff.evidence import reads as evidence_reads
from liftoff.evidence import views
from liftoff.ui import cache, session, text, widgets

st.title("Users and settings")
admin = session.actor()
users = auth.list_users(cache.engine())

if users:
    st.caption(
        f"{len(users)} account{'s' if len(users) != 1 else ''}. Roles: "
        + "; ".join(
            f"{r} — "
            + ", ".join(
                a for a, (least, _) in auth.ACTIONS.items() if auth.RANK[r] >= auth.RANK[least]
            )
            for r in ROLES
        )
    )
    widgets.table(views.users_table(users), hide_index=True, width="stretch")
else:
    st.info("No accounts yet. Add the first below.", icon=":material/person_add:")


def attempt(fn, *args, done: str) -> None:
    try:
        fn(cache.engine(), admin, *args)
        st.session_state["liftoff_users_done"] = done
        st.rerun()
    except (auth.AccountError, auth.PermissionDenied, tokens.TokenError) as exc:
        st.error(text.plain(str(exc)))


done = st.session_state.pop("liftoff_users_done", None)
if done:
    st.success(text.plain(done), icon=":material/check_circle:")

add, change = st.columns(2)
with add.form("add_user", clear_on_submit=True):
    st.markdown("**Add a user**")
    email = st.text_input("Email")
    name = st.text_input("Display name (optional)")
    role = st.selectbox("Role", ROLES)
    sso = session.single_sign_on()
    password = st.text_input(
        "Password" + (" (leave empty: signs in with single sign-on)" if sso else ""),
        type="password",
        autocomplete="new-password",
        help=f"At least {auth.MIN_PASSWORD_LENGTH} characters.",
    )
    if st.form_submit_button("Add user", type="primary", icon=":material/person_add:"):
        try:
            auth.add_user(
                cache.engine(),
                admin,
                email,
                role,
                password or (None if sso else ""),
                display_name=name,
            )
            st.session_state["liftoff_users_done"] = f"Added {email.strip().lower()} as {role}."
            st.rerun()
        except (auth.AccountError, auth.PermissionDenied) as exc:
            st.error(text.plain(str(exc)))

if users:
    with change.container(border=True):
        st.markdown("**Change a user**")
        emails = [u["email"] for u in users]
        chosen = st.selectbox("User", emails)
        user = next(u for u in users if u["email"] == chosen)
        new_role = st.selectbox("Role", ROLES, index=ROLES.index(user["role"]), key="change_role")
        if st.button("Save role", disabled=new_role == user["role"]):
            attempt(auth.set_role, chosen, new_role, done=f"{chosen} is now {new_role}.")
        new_password = st.text_input("New password", type="password", autocomplete="new-password")
        if st.button("Set password", disabled=not new_password):
            attempt(
                auth.set_password, chosen, new_password, done=f"Set a new password for {chosen}."
            )
        if user["locked_until"] is not None and st.button("Unlock"):
            attempt(auth.unlock, chosen, done=f"Unlocked {chosen}.")
        sure = st.checkbox(f"Yes, remove {text.plain(chosen)}", key=f"remove_{chosen}")
        if st.button("Remove user", disabled=not sure, icon=":material/person_remove:"):
            attempt(auth.remove_user, chosen, done=f"Removed {chosen}.")

st.subheader("API tokens", anchor=False)
st.caption(
    "Pipelines send their files to /api/v1 with a token (see the README's HTTP API). A token "
    "is a viewer's or an editor's, never an admin's; it is shown once, and only its hash is kept."
)
created = st.session_state.pop("liftoff_new_token", None)
if created:
    st.success(
        text.plain(f"Created the token {created[0]!r}. Copy it now: it is not shown again."),
        icon=":material/key:",
    )
    st.code(created[1], language=None)
token_rows = tokens.list_tokens(cache.engine())
if token_rows:
    widgets.table(views.tokens_table(token_rows), hide_index=True, width="stretch")
else:
    st.info(
        "No API tokens yet. Create one below for each pipeline that reports to Liftoff.",
        icon=":material/key:",
    )
make, stop = st.columns(2)
with make.form("create_token", clear_on_submit=True):
    st.markdown("**Create a token**")
    token_name = st.text_input("Name", placeholder="training-pipeline")
    token_role = st.selectbox("Role", tokens.TOKEN_ROLES, index=1)
    initiative_names = [i["name"] for i in cache.read(evidence_reads.initiatives)]
    token_initiative = st.selectbox(
        "May write to",
        [None, *initiative_names],
        format_func=lambda n: "any initiative" if n is None else n,
    )
    token_days = st.number_input("Expires after (days)", min_value=1, value=90, step=1)
    if st.form_submit_button("Create token", type="primary", icon=":material/key:"):
        try:
            secret = tokens.create(
                cache.engine(),
                admin,
                token_name,
                token_role,
                initiative=token_initiative,
                expires_days=float(token_days),
            )
            st.session_state["liftoff_new_token"] = (token_name.strip(), secret)
            st.rerun()
        except (tokens.TokenError, auth.PermissionDenied) as exc:
            st.error(text.plain(str(exc)))
active = [t["name"] for t in token_rows if t["state"] == "active"]
if active:
    with stop.container(border=True):
        st.markdown("**Revoke a token**")
        revoked_name = st.selectbox("Token", active)
        sure = st.checkbox(f"Yes, revoke {text.plain(revoked_name)}", key=f"revoke_{revoked_name}")
        if st.button("Revoke token", disabled=not sure, icon=":material/key_off:"):
            attempt(tokens.revoke, revoked_name, done=f"Revoked the token {revoked_name!r}.")

st.subheader("Settings in force", anchor=False)
st.caption(
    "Set in the environment of the app (see the README); secrets such as single sign-on "
    "credentials live in .streamlit/secrets.toml and are never shown here."
)
widgets.table(
    views.settings_table(session.settings(), session.single_sign_on(), SETTINGS),
    hide_index=True,
    width="stretch",
)
