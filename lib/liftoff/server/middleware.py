"""Who may use Streamlit's own endpoints, decided before Streamlit sees the request.

- `PUT /_stcore/upload_file/…` (and every other method there) only for a signed-in editor or
  admin: without it any visitor could park files in server memory (4 x 50 MB in 0.6 s).
- `/_stcore/metrics` only for a signed-in admin: it tells outsiders how busy the server is.
- A page for editors or admins (`/upload`, `/users`, `/audit`) opened by someone who may not
  use it goes to the sign-in page, with a way back to it (Streamlit would say "Page not found").
- The websocket's "clear cache" message is dropped: Streamlit would empty the caches every
  session shares, for everybody, on any visitor's request (Liftoff's reads are keyed by the
  data version and never need it).
"""

from __future__ import annotations

import functools
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection
from starlette.responses import PlainTextResponse, RedirectResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from liftoff import db
from liftoff.access import auth, sessions
from liftoff.server.engine import engine
from liftoff.ui import asgi, session

UPLOAD_PREFIX = "/_stcore/upload_file/"
METRICS_PATH = "/_stcore/metrics"
STREAM_PATH = "/_stcore/stream"


def _role(scope: Scope) -> str | None:
    """The role of the signed-in person of this request's session cookie, if any."""
    try:
        actor = sessions.from_cookies(engine(), HTTPConnection(scope).cookies)
    except db.DatabaseError:
        return None
    return actor.role if actor is not None else None


class AccessGuard:
    """Pure ASGI middleware (it must see websockets too, which BaseHTTPMiddleware cannot)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http":
            redirect = await _sign_in_first(scope)
            if redirect is not None:
                await redirect(scope, receive, send)
                return
            needs = (
                "upload"
                if path.startswith(UPLOAD_PREFIX)
                else "manage_users"
                if path.rstrip("/") == METRICS_PATH
                else None
            )
            if needs is not None and scope.get("method") != "OPTIONS":
                role = await run_in_threadpool(_role, scope)
                if auth.RANK.get(role, 0) < auth.RANK[auth.ACTIONS[needs][0]]:
                    response = PlainTextResponse(
                        "Sign in as an editor to upload files."
                        if needs == "upload"
                        else "Only a signed-in admin may read the server's metrics.",
                        status_code=403,
                    )
                    await response(scope, receive, send)
                    return
        elif scope["type"] == "websocket" and path.rstrip("/").endswith(STREAM_PATH):
            receive = _without_clear_cache(receive)
        await self.app(scope, receive, send)


#: Screens (by URL path) that need more than a viewer, and the action that stands for the role.
_GUARDED_PAGES = {
    f"/{key}": least for key, (_, _, least) in auth.SCREENS.items() if auth.RANK[least] > 1
}


async def _sign_in_first(scope: Scope):
    """A redirect to the sign-in page for a browser opening a guarded page without the role."""
    path = scope.get("path", "").rstrip("/")
    if scope.get("method") != "GET" or path not in _GUARDED_PAGES or _single_sign_on():
        return None
    role = await run_in_threadpool(_role, scope)
    if auth.RANK.get(role, 0) >= auth.RANK[_GUARDED_PAGES[path]]:
        return None
    from liftoff.server.auth_routes import SIGN_IN

    query = scope.get("query_string", b"").decode("latin-1")
    back = path + (f"?{query}" if query else "")
    return RedirectResponse(
        f"{SIGN_IN}?{urlencode({'next': back})}",
        status_code=303,
        headers={"Cache-Control": "no-store"},
    )


@functools.cache
def _single_sign_on() -> bool:
    """Whether `[auth]` is configured (st.login signs people in; its page is the Account one)."""
    return session.single_sign_on()


def _without_clear_cache(receive: Receive) -> Receive:
    async def filtered() -> Message:
        while True:
            message = await receive()
            if message["type"] == "websocket.receive" and asgi.is_clear_cache_message(
                message.get("bytes")
            ):
                continue
            return message

    return filtered
