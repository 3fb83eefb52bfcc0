"""Liftoff's web server: Streamlit's ASGI app (`st.App`) with Liftoff's own routes and middleware.

`create_app()` is the one place the server is assembled: `ROUTES` (sign-in and sign-out today;
an HTTP API adds its routes to the same list) and `MIDDLEWARE` (who may use Streamlit's own
upload and metrics endpoints, and which websocket messages a browser may send).
"""

from __future__ import annotations

from liftoff.server.app import create_app
from liftoff.server.engine import engine

__all__ = ["create_app", "engine"]
