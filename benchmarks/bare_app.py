"""A bare page behind the same router as app.py: the baseline of benchmarks/screens.py."""

import streamlit as st

from liftoff import ui

st.set_page_config(page_title="Liftoff", page_icon=":material/rocket_launch:", layout="wide")
ui.restore_query_params()
ui.require_database()


def bare() -> None:
    st.title("Bare page")
    st.write("Nothing else.")


st.navigation({"Bare": [st.Page(bare, title="Bare page", default=True)]}).run()
