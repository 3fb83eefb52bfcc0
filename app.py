"""Liftoff: `streamlit run app.py` (what `make run` does). The router is liftoff.ui.run_app:
page config, the database check, who the user is, and st.navigation over screens/."""

from liftoff import ui

ui.run_app()
