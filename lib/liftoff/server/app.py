"""The app factory: st.App over app.py with Liftoff's routes and middleware."""

from __future__ import annotations

import threading

import streamlit as st
from sqlalchemy import Engine
from starlette.middleware import Middleware

from liftoff import db
from liftoff.config import PROJECT_ROOT, database_url
from liftoff.server import auth_routes
from liftoff.server.middleware import AccessGuard

#: Liftoff's own routes, in front of Streamlit's. Another part (an HTTP API) appends its own.
ROUTES = [*auth_routes.ROUTES]
#: Liftoff's middleware; it runs before Streamlit's own.
MIDDLEWARE = [Middleware(AccessGuard)]

_engines: dict[str, Engine] = {}
_engines_lock = threading.Lock()


def engine() -> Engine:
    """The server's engine for LIFTOFF_DATABASE_URL (one per process and URL)."""
    url = database_url()
    with _engines_lock:
        if url not in _engines:
            _engines[url] = db.make_engine(url)
        return _engines[url]


def create_app(script: str | None = None) -> st.App:
    """The ASGI app: Streamlit serving `script` (default: the project's app.py) with ROUTES and
    MIDDLEWARE added."""
    return st.App(
        script or str(PROJECT_ROOT / "app.py"),
        routes=list(ROUTES),
        middleware=list(MIDDLEWARE),
    )
