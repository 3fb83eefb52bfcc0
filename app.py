"""Liftoff: `streamlit run app.py` (what `make run` does). The router is liftoff.ui.router.run_app:
page config, the database check, who the user is, and st.navigation over screens/."""

from liftoff.ui import router

router.run_app()
