"""The app factory: st.App over app.py with Liftoff's routes and middleware."""

from __future__ import annotations

from starlette.middleware import Middleware

from liftoff.config import PROJECT_ROOT
from liftoff.server import auth_routes
from liftoff.server.middleware import AccessGuard
from liftoff.ui import asgi

#: Liftoff's own routes, in front of Streamlit's. Another part (an HTTP API) appends its own.
ROUTES = [*auth_routes.ROUTES]
#: Liftoff's middleware; it runs before Streamlit's own.
MIDDLEWARE = [Middleware(AccessGuard)]


def create_app(script: str | None = None):
    """The ASGI app (st.App): Streamlit serving `script` (default: the project's app.py) with
    ROUTES and MIDDLEWARE added."""
    return asgi.streamlit_app(script or str(PROJECT_ROOT / "app.py"), ROUTES, MIDDLEWARE)
