"""A page with nothing on it and no Liftoff router: shown next to bare_app.py for reference."""

import streamlit as st

st.set_page_config(page_title="Liftoff", page_icon=":material/rocket_launch:", layout="wide")


def bare() -> None:
    st.title("Bare page")
    st.write("Nothing else.")


st.navigation({"Bare": [st.Page(bare, title="Bare page", default=True)]}).run()
