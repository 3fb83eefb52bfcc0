"""Three bare pages and Streamlit's own sidebar navigation, no Liftoff at all: the baseline of
benchmarks/browser.py, served with `streamlit run` beside the app."""

import streamlit as st

st.set_page_config(page_title="Bare", layout="wide")


def first() -> None:
    st.title("First page")
    st.write("Nothing else on the first page.")


def second() -> None:
    st.title("Second page")
    st.write("Nothing else on the second page.")


def third() -> None:
    st.title("Third page")
    st.write("Nothing else on the third page.")


st.navigation(
    [
        st.Page(first, title="First page", default=True),
        st.Page(second, title="Second page"),
        st.Page(third, title="Third page"),
    ],
    position="sidebar",
).run()
