"""Sign-in and sign-out as routes of the app server, so a reload, a new tab or a pasted link
keeps the sign-in, and scripts and proxies can rely on them:

- `GET /auth/sign-in?next=/upload`: the sign-in form (a small page styled like the app, with
  its own CSRF token).
- `POST /auth/sign-in` (form fields `email`, `password`, `next`): 303 to `next` with the session
  cookie; wrong email or password: 401, one message for both; too many failures: 429 with
  `Retry-After`; no email address at all: 400 (nothing stored).
- `POST /auth/sign-out`: ends the session in the database, clears the cookie, 303.
- `POST /auth/sign-out-everywhere`: ends every session of the signed-in person, 303.
"""

from __future__ import annotations

import hmac
import html
import re
import secrets
from urllib.parse import parse_qs, parse_qsl, urlencode, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from liftoff import db
from liftoff.access import auth, sessions
from liftoff.config import SettingError, Settings
from liftoff.server.engine import engine

SIGN_IN = "/auth/sign-in"
SIGN_OUT = "/auth/sign-out"
SIGN_OUT_EVERYWHERE = "/auth/sign-out-everywhere"
CSRF_COOKIE = "liftoff_csrf"
#: A sign-in form is a few hundred bytes; anything far larger is refused before it is parsed.
MAX_FORM_BYTES = 16 * 1024
_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    # The page loads nothing at all: its style is inline and it posts only to itself.
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
}


def safe_next(value: str | None) -> str:
    """`value` when it is a path on this server (`/upload?initiative=…`), else `/`: a sign-in
    link can never send anyone to another site."""
    value = (value or "").strip()
    if (
        not value.startswith("/")
        or value.startswith("//")
        or "\\" in value
        or any(ord(ch) < 32 or ord(ch) == 127 for ch in value)
        or len(value) > 2000
    ):
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return "/"
    return value


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _page(
    request: Request,
    *,
    next_path: str,
    message: str | None = None,
    email: str = "",
    status: int = 200,
    headers: dict | None = None,
    signed_in: auth.Actor | None = None,
) -> HTMLResponse:
    """The sign-in page with a fresh CSRF token (kept in a cookie the form must match)."""
    token = secrets.token_urlsafe(24)
    note = (
        f'<p class="note">You are signed in as {html.escape(signed_in.label)}. Signing in again '
        "switches the account.</p>"
        if signed_in is not None
        else ""
    )
    # Sent here for a page the account's role does not open (an editor at /users): say so,
    # rather than a sign-in form that reads as if they were signed out.
    screen = urlsplit(next_path).path.rsplit("/", 1)[-1]
    if signed_in is not None and screen in auth.SCREENS and not signed_in.sees(screen):
        _, title, role = auth.SCREENS[screen]
        article = "an" if role[0] in "aeiou" else "a"
        note = (
            f'<p class="note">{html.escape(title)} opens for {html.escape(role)}s; you are '
            f"signed in as {html.escape(signed_in.label)} "
            f"({html.escape(signed_in.role or 'no role')}). Sign in with {article} "
            f"{html.escape(role)} account to open it, or go back.</p>"
        )
    error = f'<p class="error" role="alert">{html.escape(message)}</p>' if message else ""
    body = _TEMPLATE.format(
        action=SIGN_IN,
        csrf=html.escape(token),
        next=html.escape(next_path),
        email=html.escape(email),
        error=error,
        note=note,
        back=html.escape(next_path),
    )
    response = HTMLResponse(body, status_code=status, headers={**_HEADERS, **(headers or {})})
    response.set_cookie(
        CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path="/auth",
    )
    return response


def _actor(request: Request) -> auth.Actor | None:
    try:
        return sessions.from_cookies(engine(), request.cookies)
    except db.DatabaseError:
        return None


async def _form(request: Request) -> dict[str, str] | None:
    """The urlencoded form, or None when it is larger than any sign-in form could be."""
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_FORM_BYTES:
            return None
    parsed = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {key: values[0] for key, values in parsed.items()}


def _same_origin(request: Request) -> bool:
    """Whether a browser sent this from one of our own pages (scripts send no Origin)."""
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return request.headers.get("sec-fetch-site") in (None, "same-origin", "none")
    return urlsplit(origin).netloc == request.headers.get("host")


def _csrf_ok(request: Request, form: dict[str, str]) -> bool:
    """A browser's form must carry the token of the page it came from; a script (no Origin,
    no Sec-Fetch-Site, no CSRF cookie) has no page and no cookies for another site to ride."""
    cookie = request.cookies.get(CSRF_COOKIE)
    sent = form.get("csrf", "")
    browser = "origin" in request.headers or "sec-fetch-site" in request.headers
    if cookie is None and not browser:
        return True
    return bool(cookie) and hmac.compare_digest(cookie.encode(), sent.encode())


def way_back(request: Request) -> str:
    """Where the Account page's sign-in button leads back to: the page the person was on before
    Account (the router keeps it in that page's address, `/account?back=scalability&initiative=…`,
    which the browser sends as the Referer), with its initiative and iteration; else `/`."""
    # Only the path is taken (behind a proxy the host may be written differently), and
    # safe_next keeps it on this server.
    referer = urlsplit(request.headers.get("referer", ""))
    path = referer.path or ""
    if not path.endswith("/account"):
        return "/"
    query = dict(parse_qsl(referer.query))
    back = query.pop("back", "")
    if not re.fullmatch(r"[a-z_]{1,40}", back):
        return "/"
    kept = {k: v for k, v in query.items() if k in ("initiative", "iteration")}
    target = path.removesuffix("account") + back
    return safe_next(target + (f"?{urlencode(kept)}" if kept else ""))


async def sign_in_page(request: Request) -> Response:
    """GET /auth/sign-in: the form. Without `next` (the Account page's button), the way back
    is the page the person was on before the Account page."""
    signed_in = await run_in_threadpool(_actor, request)
    asked = request.query_params.get("next")
    return _page(
        request,
        next_path=safe_next(asked) if asked else way_back(request),
        signed_in=signed_in,
    )


async def sign_in(request: Request) -> Response:
    """POST /auth/sign-in: check the password, start a session, 303 to `next`."""
    form = await _form(request)
    if form is None:
        return _page(
            request,
            next_path="/",
            message="That form is far larger than a sign-in; nothing was stored.",
            status=413,
        )
    next_path = safe_next(form.get("next"))
    if not _same_origin(request) or not _csrf_ok(request, form):
        return _page(
            request,
            next_path=next_path,
            message="This sign-in form has expired. Sign in again here.",
            status=403,
        )
    email, password = form.get("email", ""), form.get("password", "")
    address = request.client.host if request.client else "unknown"
    try:
        settings = Settings.from_env()
        eng = engine()
        actor = await run_in_threadpool(auth.sign_in, eng, settings, email, password, address)
        user_id = await run_in_threadpool(auth.user_id, eng, actor.email)
        cookie = await run_in_threadpool(sessions.create, eng, user_id, settings.session_hours)
    except auth.SignInThrottled as exc:
        return _page(
            request,
            next_path=next_path,
            message=str(exc),
            email=_shown(email),
            status=429,
            headers={"Retry-After": str(exc.retry_after)},
        )
    except auth.BadSignInInput as exc:
        return _page(request, next_path=next_path, message=str(exc), status=400)
    except auth.SignInFailed as exc:
        return _page(
            request, next_path=next_path, message=str(exc), email=_shown(email), status=401
        )
    except (db.DatabaseError, SettingError) as exc:
        return _page(request, next_path=next_path, message=str(exc), status=503)
    response = RedirectResponse(next_path, status_code=303, headers=_HEADERS)
    response.set_cookie(
        sessions.COOKIE,
        cookie,
        max_age=int(settings.session_hours * 3600),
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        path="/",
    )
    response.delete_cookie(CSRF_COOKIE, path="/auth")
    return response


def _shown(email: str) -> str:
    """The email to put back in the form: only when it is one (never a password typed there)."""
    try:
        return auth.valid_email(email)
    except auth.AccountError:
        return ""


def _signed_out(request: Request, form: dict[str, str] | None) -> Response:
    target = f"{SIGN_IN}?{urlencode({'next': safe_next((form or {}).get('next'))})}"
    response = RedirectResponse(target, status_code=303, headers=_HEADERS)
    response.delete_cookie(sessions.COOKIE, path="/", httponly=True, samesite="lax")
    return response


async def sign_out(request: Request) -> Response:
    """POST /auth/sign-out: end this browser's session (in the database) and clear its cookie."""
    form = await _form(request)
    if not _same_origin(request):
        return Response("Sign out from Liftoff's own pages.", status_code=403, headers=_HEADERS)
    try:
        await run_in_threadpool(sessions.revoke, engine(), request.cookies.get(sessions.COOKIE))
    except db.DatabaseError as exc:
        return Response(str(exc), status_code=503, headers=_HEADERS)
    return _signed_out(request, form)


async def sign_out_everywhere(request: Request) -> Response:
    """POST /auth/sign-out-everywhere: end every session of the signed-in person."""
    form = await _form(request)
    if not _same_origin(request):
        return Response("Sign out from Liftoff's own pages.", status_code=403, headers=_HEADERS)
    actor = await run_in_threadpool(_actor, request)
    if actor is None:
        return Response("You are not signed in.", status_code=401, headers=_HEADERS)
    await run_in_threadpool(sessions.revoke_all, engine(), actor.email)
    return _signed_out(request, form)


ROUTES = [
    Route(SIGN_IN, sign_in_page, methods=["GET"]),
    Route(SIGN_IN, sign_in, methods=["POST"]),
    Route(SIGN_OUT, sign_out, methods=["POST"]),
    Route(SIGN_OUT_EVERYWHERE, sign_out_everywhere, methods=["POST"]),
]

# Styled like the app (its light theme, primary colour and system sans-serif); nothing is
# fetched from anywhere.
_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · Liftoff</title>
<style>
body {{ margin: 0; font-family: "Source Sans Pro", "Segoe UI", system-ui, sans-serif;
  background: #f0f2f6; color: #31333f; }}
main {{ max-width: 400px; margin: 12vh auto; background: #fff; border-radius: 12px;
  padding: 32px 36px; box-shadow: 0 1px 4px rgba(0,0,0,.08); }}
.brand {{ color: #1f4e79; font-weight: 700; font-size: 15px; letter-spacing: .04em;
  text-transform: uppercase; margin: 0 0 6px; }}
h1 {{ font-size: 28px; margin: 0 0 20px; }}
label {{ display: block; font-size: 14px; margin: 14px 0 6px; }}
input[type=email], input[type=password] {{ box-sizing: border-box; width: 100%;
  font-size: 16px; padding: 10px 12px; border: 1px solid #d5d7de; border-radius: 8px;
  background: #f7f8fa; }}
input:focus {{ outline: 2px solid #1f4e79; outline-offset: 0; }}
button {{ margin-top: 22px; width: 100%; font-size: 16px; padding: 11px; border: 0;
  border-radius: 8px; background: #1f4e79; color: #fff; cursor: pointer; }}
button:hover {{ background: #173b5c; }}
.error {{ background: #fdecea; color: #7d1a12; border-radius: 8px; padding: 10px 12px;
  font-size: 15px; }}
.note, .back {{ font-size: 14px; color: #62646f; }}
.back a {{ color: #1f4e79; }}
</style></head>
<body><main>
<p class="brand">Liftoff</p>
<h1>Sign in</h1>
{note}{error}
<form method="post" action="{action}">
<input type="hidden" name="csrf" value="{csrf}">
<input type="hidden" name="next" value="{next}">
<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="username" required
  maxlength="254" value="{email}" autofocus>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password"
  required maxlength="1024">
<button type="submit">Sign in</button>
</form>
<p class="back"><a href="{back}">Back to Liftoff without signing in</a></p>
<p class="note">No account? Ask an admin of this Liftoff to add you on its Users page.</p>
</main></body></html>
"""
