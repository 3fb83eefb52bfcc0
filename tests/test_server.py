"""The app server over HTTP: the sign-in routes, sessions in the database across processes,
throttling under concurrent guesses, and who may use Streamlit's own endpoints. Each test
speaks to real `liftoff run` processes on loopback, on SQLite and on PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from conftest import BACKENDS, serving
from liftoff import db
from liftoff.access import audit, auth, sessions
from liftoff.db.models import SignInSession, SignInThrottle
from liftoff.server import middleware
from server import request as http
from server import script_run

EDITOR, ADMIN_EMAIL = "priya@example.com", "ada@example.com"
PASSWORD = "correct horse battery staple"
WRONG = "Wrong email or password."


@pytest.fixture(scope="module", params=BACKENDS)
def site(request, tmp_path_factory):
    """Two `liftoff run` processes on one demo database (as behind a load balancer), with an
    editor and an admin account; yields (first URL, second URL, engine)."""
    param = request.param
    folder = tmp_path_factory.mktemp(f"server-{param}")
    if param == "sqlite":
        shutil.copyfile(request.getfixturevalue("sqlite_templates")["demo"], folder / "l.db")
        url = f"sqlite:///{folder / 'l.db'}"
    else:
        pg = request.getfixturevalue("postgres")
        template = request.getfixturevalue("postgres_templates")["demo"]
        url = pg.create(f"liftoff_server_{os.getpid()}", template=template)
    engine = db.make_engine(url)
    auth.add_user(engine, auth.SYSTEM, EDITOR, "editor", PASSWORD, "Priya Editor")
    auth.add_user(engine, auth.SYSTEM, ADMIN_EMAIL, "admin", PASSWORD, "Ada Admin")
    with serving(url, folder / "a.log") as first, serving(url, folder / "b.log") as second:
        yield first, second, engine
    engine.dispose()


def _sign_in(base: str, email: str = EDITOR, password: str = PASSWORD, next_path="/", **kw):
    return http(
        base,
        "POST",
        "/auth/sign-in",
        form={"email": email, "password": password, "next": next_path},
        **kw,
    )


def _cookie(answer) -> str:
    morsel, _ = answer.cookie(sessions.COOKIE)
    return morsel.value


def _opens_upload(base: str, cookie: str | None) -> bool:
    """Whether GET /upload serves the app (True) or sends the browser to sign in (False)."""
    answer = http(base, "GET", "/upload", cookies={sessions.COOKIE: cookie} if cookie else {})
    assert answer.status in (200, 303), answer.status
    return answer.status == 200


def test_the_sign_in_page_carries_its_own_csrf_token(site):
    first, _, _ = site
    page = http(first, "GET", "/auth/sign-in?next=/upload")
    assert page.status == 200
    morsel, raw = page.cookie("liftoff_csrf")
    assert f'name="csrf" value="{morsel.value}"' in page.body
    assert "HttpOnly" in raw and "SameSite=strict" in raw
    assert 'name="next" value="/upload"' in page.body
    # Nothing on it comes from another site.
    assert not re.search(r"(src|href)=\"https?://", page.body)
    # Written for the person signing in, not the operator: no command line on it.
    assert "Ask an admin of this Liftoff to add you on its Users page." in page.body
    assert "liftoff users" not in page.body


def test_an_editor_sent_to_sign_in_for_an_admin_page_is_told_why(site):
    # A signed-in editor opening /users met a bare sign-in form that read as if they had been
    # signed out; it now says the page is for admins and who they are signed in as.
    first, _, _ = site
    cookie = _cookie(_sign_in(first, headers=_ip("10.1.9.1")))
    page = http(first, "GET", "/auth/sign-in?next=/users", cookies={sessions.COOKIE: cookie})
    assert page.status == 200
    assert (
        f"Users and settings opens for admins; you are signed in as {EDITOR} (editor). "
        "Sign in with an admin account to open it, or go back." in page.body
    ), page.body
    # A page the role opens keeps the usual note.
    upload = http(first, "GET", "/auth/sign-in?next=/upload", cookies={sessions.COOKIE: cookie})
    assert "Signing in again switches the account." in upload.body


def test_wrong_email_and_wrong_password_are_one_401(site):
    first, _, _ = site
    wrong_password = _sign_in(first, password="not the password at all", headers=_ip("10.1.0.1"))
    no_account = _sign_in(first, email="nobody@example.com", headers=_ip("10.1.0.1"))
    assert wrong_password.status == no_account.status == 401
    assert WRONG in wrong_password.body and WRONG in no_account.body
    assert wrong_password.cookie(sessions.COOKIE) is None


def _ip(address: str) -> dict:
    # Each test guesses from an address of its own (uvicorn trusts X-Forwarded-For from
    # loopback, as from a reverse proxy on the same machine), so throttles do not mix.
    return {"X-Forwarded-For": address}


def test_sign_in_sets_a_signed_httponly_lax_cookie_and_goes_back(site):
    first, _, engine = site
    answer = _sign_in(first, next_path="/upload?initiative=Churn+early-warning")
    assert answer.status == 303
    assert answer.headers["location"] == "/upload?initiative=Churn+early-warning"
    morsel, raw = answer.cookie(sessions.COOKIE)
    assert "HttpOnly" in raw and "SameSite=lax" in raw and "Path=/" in raw
    token, signature = morsel.value.split(".")
    # Only the id's hash is stored; the cookie's id alone is not in the database.
    with engine.connect() as conn:
        hashes = conn.execute(select(SignInSession.token_hash)).scalars().all()
    assert token not in hashes and all(len(h) == 64 for h in hashes)
    assert _opens_upload(first, morsel.value)
    # An id without its signature, or with another, is nobody.
    assert not _opens_upload(first, token)
    assert not _opens_upload(first, f"{token}.{'A' * len(signature)}")


@pytest.mark.parametrize(
    "target", ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:x"]
)
def test_next_can_only_be_a_path_on_this_server(site, target):
    first, _, _ = site
    answer = _sign_in(first, next_path=target)
    assert answer.status == 303
    assert answer.headers["location"] == "/"


@pytest.mark.parametrize(
    "referer,back",
    [
        (
            "/account?back=scalability&initiative=Claims+triage+assistant&iteration=7",
            "/scalability?initiative=Claims+triage+assistant&amp;iteration=7",
        ),
        ("/account", "/"),  # came to Account first: the overview
        ("/scalability?back=users", "/"),  # only the Account page's address counts
        ("/account?back=..%2F..%2Fevil", "/"),
        ("/account?back=https://evil.example/", "/"),
        ("https://evil.example/account?back=upload", "/upload"),  # a path here, nothing else
    ],
)
def test_the_account_pages_sign_in_leads_back_to_the_page_before_it(site, referer, back):
    """The Account page's button asks for the form without `next`: the way back is the page
    the person was reading before Account, kept in its address (`?back=`), with its
    initiative and iteration; never another site, never a path the router did not write."""
    first, _, _ = site
    full = referer if referer.startswith("http") else first + referer
    page = http(first, "GET", "/auth/sign-in?next=", headers={"Referer": full})
    assert page.status == 200
    assert f'name="next" value="{back}"' in page.body


def test_an_editor_page_opened_signed_out_leads_to_sign_in_and_back(site):
    first, _, _ = site
    answer = http(first, "GET", "/upload?initiative=Churn+early-warning")
    assert answer.status == 303
    assert answer.headers["location"] == (
        "/auth/sign-in?next=%2Fupload%3Finitiative%3DChurn%2Bearly-warning"
    )
    page = http(first, "GET", answer.headers["location"])
    assert 'name="next" value="/upload?initiative=Churn+early-warning"' in page.body


def test_a_form_posted_from_another_site_is_refused(site):
    first, _, _ = site
    answer = _sign_in(first, headers={"Origin": "https://evil.example"})
    assert answer.status == 403
    assert answer.cookie(sessions.COOKIE) is None
    # Our own page's form: same origin, and the token of the page it came from.
    page = http(first, "GET", "/auth/sign-in")
    token = page.cookie("liftoff_csrf")[0].value
    host = first.removeprefix("http://")
    forged = http(
        first,
        "POST",
        "/auth/sign-in",
        form={"email": EDITOR, "password": PASSWORD, "csrf": "guessed"},
        cookies={"liftoff_csrf": token},
        headers={"Origin": first, "Host": host},
    )
    assert forged.status == 403
    good = http(
        first,
        "POST",
        "/auth/sign-in",
        form={"email": EDITOR, "password": PASSWORD, "csrf": token},
        cookies={"liftoff_csrf": token},
        headers={"Origin": first, "Host": host},
    )
    assert good.status == 303


def test_sessions_hold_across_processes_and_sign_out_ends_them_everywhere(site):
    first, second, _ = site
    cookie = _cookie(_sign_in(first))
    assert _opens_upload(second, cookie)  # signed in on one process, known to the other
    out = http(second, "POST", "/auth/sign-out", cookies={sessions.COOKIE: cookie})
    assert out.status == 303
    morsel, _ = out.cookie(sessions.COOKIE)
    assert morsel.value == "" and morsel["max-age"] == "0"
    # The old cookie, replayed to either process, is a visitor's.
    assert not _opens_upload(first, cookie)
    assert not _opens_upload(second, cookie)


def test_sign_out_everywhere_ends_every_browser(site):
    first, second, _ = site
    one, two = _cookie(_sign_in(first)), _cookie(_sign_in(second))
    assert http(first, "POST", "/auth/sign-out-everywhere").status == 401
    out = http(first, "POST", "/auth/sign-out-everywhere", cookies={sessions.COOKIE: one})
    assert out.status == 303
    assert not _opens_upload(second, two)
    assert not _opens_upload(first, one)


def test_a_role_change_counts_at_once(site):
    first, second, engine = site
    auth.add_user(engine, auth.SYSTEM, "kim@example.com", "editor", PASSWORD)
    cookie = _cookie(_sign_in(first, email="kim@example.com"))
    assert _opens_upload(second, cookie)
    auth.set_role(engine, auth.SYSTEM, "kim@example.com", "viewer")
    assert not _opens_upload(first, cookie)
    assert not _opens_upload(second, cookie)


def test_twenty_concurrent_wrong_passwords_check_only_the_limit(site):
    first, _, engine = site
    auth.add_user(engine, auth.SYSTEM, "target@example.com", "editor", PASSWORD)
    before = audit.count(engine, audit.Filter(actions=("sign_in.failed",)))

    def guess(n: int):
        return _sign_in(
            first,
            email="target@example.com",
            password=f"guess number {n:02d} of twenty",
            headers=_ip("10.2.0.1"),
        )

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(guess, range(20)))
    statuses = sorted(a.status for a in answers)
    limit = 5  # LIFTOFF_MAX_SIGN_IN_FAILURES' default
    # Exactly `limit` passwords were checked (401); every other guess was refused unchecked.
    assert statuses == [401] * limit + [429] * (20 - limit)
    assert all(int(a.headers["retry-after"]) > 14 * 60 for a in answers if a.status == 429)
    # Every one of the 20 is counted and recorded.
    with engine.connect() as conn:
        counts = dict(conn.execute(select(SignInThrottle.key, SignInThrottle.failures)).all())
    assert counts["account:target@example.com|address:10.2.0.1"] == 20
    after = audit.count(engine, audit.Filter(actions=("sign_in.failed",)))
    assert after - before == 20
    # Even the right password is refused from that client now; its owner elsewhere signs in.
    assert _sign_in(first, "target@example.com", headers=_ip("10.2.0.1")).status == 429
    assert _sign_in(first, "target@example.com", headers=_ip("10.2.0.2")).status == 303


@pytest.mark.parametrize(
    ("email", "status"),
    [
        ("correct horse battery staple", 400),  # a password typed in the email field
        ("priya@example.com\nsign_in ada@example.com signed in", 400),
        ("priya\x00@example.com", 400),
        ("p" * 300 + "@example.com", 400),
        ("a" * 20_000 + "@example.com", 413),
    ],
    ids=["password", "newline", "NUL", "long", "huge"],
)
def test_what_is_no_email_is_refused_before_anything_is_stored(site, email, status):
    first, _, engine = site
    before = audit.count(engine)
    answer = _sign_in(first, email=email, headers=_ip("10.3.0.1"))
    assert answer.status == status
    assert "Traceback" not in answer.body
    assert audit.count(engine) == before


def test_uploads_need_an_editor_and_metrics_an_admin(site):
    first, _, _ = site
    put = "/_stcore/upload_file/some-session/some-file"
    visitor = http(first, "PUT", put, body=b"x" * 1000)
    assert visitor.status == 403
    assert visitor.body == "Sign in as an editor to upload files."
    editor = _cookie(_sign_in(first))
    # Past the guard: Streamlit itself answers (it wants its XSRF token; the id is made up).
    passed = http(first, "PUT", put, body=b"x", cookies={sessions.COOKIE: editor})
    assert passed.body != visitor.body and "XSRF" in passed.body
    assert http(first, "GET", "/_stcore/metrics").status == 403
    assert http(first, "GET", "/_stcore/metrics", cookies={sessions.COOKIE: editor}).status == 403
    admin = _cookie(_sign_in(first, email=ADMIN_EMAIL))
    assert http(first, "GET", "/_stcore/metrics", cookies={sessions.COOKIE: admin}).status == 200


def test_the_clear_cache_message_never_reaches_streamlit():
    from streamlit.proto.BackMsg_pb2 import BackMsg

    clear, rerun = BackMsg(), BackMsg()
    clear.clear_cache = True
    rerun.rerun_script.query_string = ""
    frames = [
        {"type": "websocket.receive", "bytes": clear.SerializeToString()},
        {"type": "websocket.receive", "bytes": rerun.SerializeToString()},
        {"type": "websocket.disconnect"},
    ]

    async def receive():
        return frames.pop(0)

    async def drain():
        filtered = middleware._without_clear_cache(receive)
        return [await filtered(), await filtered()]

    # On a thread of its own: Playwright's sync API may hold an event loop on this one.
    with ThreadPoolExecutor(1) as pool:
        passed = pool.submit(asyncio.run, drain()).result(timeout=30)
    assert [BackMsg.FromString(m["bytes"]).WhichOneof("type") for m in passed[:1]] == [
        "rerun_script"
    ]
    assert passed[1]["type"] == "websocket.disconnect"


def test_a_session_id_alone_gives_nothing(site):
    first, _, _ = site
    cookie = _cookie(_sign_in(first))
    editor = script_run(first, cookie=f"{sessions.COOKIE}={cookie}")
    assert "upload" in editor.pages
    assert any("Signed in as Priya Editor · editor" in t for t in editor.texts)
    # Someone who learnt that session's id attaches to it without the cookie: a visitor.
    stranger = script_run(first, session_id=editor.session_id)
    assert stranger.session_id == editor.session_id  # the same Streamlit session
    assert "upload" not in stranger.pages
    assert "Browsing as a visitor (viewer). Sign in to upload or edit." in stranger.texts
    assert not any("Signed in" in t for t in stranger.texts)
