"""Liftoff's router: page config, the database check, who the user is, and their pages."""

import streamlit as st

from liftoff import auth, ui

st.set_page_config(
    page_title="Liftoff",
    page_icon=":material/rocket_launch:",
    layout="wide",
    # A presentation link (?present=1) opens with the sidebar out of the way.
    initial_sidebar_state="collapsed" if st.query_params.get("present") == "1" else "auto",
)
ui.restore_query_params()
ui.require_database()
actor = ui.resolve_actor()

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

# Only the screens this person's role allows are registered: a URL to any other is "not found".
pages: dict[str, list] = {}
for key, (section, title, _) in auth.SCREENS.items():
    if actor.sees(key):
        page = st.Page(f"screens/{key}.py", title=title, icon=ICONS[key], default=key == "overview")
        pages.setdefault(section, []).append(page)
account = st.Page(
    "screens/account.py",
    title="Account" if actor.email else "Sign in",
    icon=":material/account_circle:",
    default=not pages,
)
pages.setdefault("Account", []).append(account)
ui.sidebar_identity()
current = st.navigation(pages, expanded=True)  # every screen listed, none behind "View more"
st.session_state["liftoff_page"] = current.url_path  # the sidebar pickers follow page switches
current.run()
