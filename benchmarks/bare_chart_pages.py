"""Three bare pages with one small plotly chart each and Streamlit's own sidebar navigation, no
Liftoff at all: the chart floor of benchmarks/browser.py, served with `streamlit run` beside the
app. What it costs to open a page that draws any plotly chart (Streamlit loads and starts
plotly's bundle, about 4.7 MB, on the first chart of a tab) is the least a Liftoff screen with a
chart can cost."""

import plotly.graph_objects as go
import streamlit as st

st.set_page_config(page_title="Bare charts", layout="wide")


def chart(title: str) -> None:
    st.title(title)
    st.write("One chart of ten points.")
    figure = go.Figure(go.Scatter(x=list(range(10)), y=[1, 3, 2, 4, 3, 5, 4, 6, 5, 7]))
    st.plotly_chart(figure, width="stretch")


st.navigation(
    [
        st.Page(lambda: chart("First page"), title="First page", url_path="first", default=True),
        st.Page(lambda: chart("Second page"), title="Second page", url_path="second"),
        st.Page(lambda: chart("Third page"), title="Third page", url_path="third"),
    ],
    position="sidebar",
).run()
