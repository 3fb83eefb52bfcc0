"""The app factory: st.App over app.py with Liftoff's routes and middleware."""

from __future__ import annotations

from starlette.middleware import Middleware

from liftoff import api
from liftoff.config import PROJECT_ROOT
from liftoff.server import auth_routes
from liftoff.server.middleware import AccessGuard
from liftoff.ui import asgi

#: Liftoff's own routes, in front of Streamlit's: sign-in and sign-out, and the HTTP API
#: mounted at /api/v1. Another part adds its routes here.
ROUTES = [*auth_routes.ROUTES, *api.routes()]
#: Liftoff's middleware; it runs before Streamlit's own.
MIDDLEWARE = [Middleware(AccessGuard)]


def create_app(script: str | None = None):
    """The ASGI app (st.App): Streamlit serving `script` (default: the project's app.py) with
    ROUTES and MIDDLEWARE added."""
    return asgi.streamlit_app(script or str(PROJECT_ROOT / "app.py"), ROUTES, MIDDLEWARE)
