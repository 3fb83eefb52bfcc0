"""The ASGI side of the bridge: Streamlit's app server (`st.App`) and its websocket messages,
for liftoff.server (which assembles Liftoff's routes and middleware around them)."""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st


def streamlit_app(script: str, routes: Sequence, middleware: Sequence) -> st.App:
    """Streamlit's ASGI app serving `script`, with `routes` in front of its own and
    `middleware` running before its own."""
    return st.App(script, routes=list(routes), middleware=list(middleware))


def is_clear_cache_message(data: bytes | None) -> bool:
    """Whether a websocket frame from a browser is Streamlit's clear-cache message."""
    if not data:
        return False
    from streamlit.proto.BackMsg_pb2 import BackMsg

    msg = BackMsg()
    try:
        msg.ParseFromString(data)
    except Exception:  # not ours to judge: Streamlit closes the socket on a bad frame
        return False
    return msg.WhichOneof("type") == "clear_cache"
