"""A page with nothing on it behind Liftoff's own router: the baseline of the screen benchmarks.

Every Liftoff page pays for the router (page config, the database check, who the user is, the
navigation), so the bare page does too; benchmarks/bare_streamlit.py is a page without it."""

import streamlit as st

from liftoff.ui import router


def bare() -> None:
    st.title("Bare page")
    st.write("Nothing else.")


router.run_app(first=st.Page(bare, title="Bare page", default=True), screens="../screens")
