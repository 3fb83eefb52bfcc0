"""Liftoff's router: page config, the database check, and the pages."""

import streamlit as st

from liftoff import ui

st.set_page_config(page_title="Liftoff", page_icon=":material/rocket_launch:", layout="wide")
ui.restore_query_params()
ui.require_database()

pages = {
    "Portfolio": [
        st.Page("screens/overview.py", title="Overview", icon=":material/dashboard:", default=True),
    ],
    "Initiative": [
        st.Page("screens/iterations.py", title="Iterations and decision", icon=":material/flag:"),
        st.Page("screens/model_business.py", title="Model versus business", icon=":material/insights:"),
        st.Page("screens/scalability.py", title="Scalability", icon=":material/speed:"),
        st.Page("screens/monitoring.py", title="Monitoring and alerts", icon=":material/notifications:"),
    ],
    "Data": [
        st.Page("screens/upload.py", title="Upload data", icon=":material/upload_file:"),
        st.Page("screens/imports.py", title="Import history", icon=":material/history:"),
    ],
}
st.navigation(pages).run()
