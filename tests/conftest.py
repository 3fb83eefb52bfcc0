"""Fixtures: a real SQLite file per test and, when LIFTOFF_TEST_POSTGRES_URL is set, a real
PostgreSQL database per test, each cloned from a template that was migrated once."""

from __future__ import annotations

import itertools
import os
import shutil
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from liftoff import db
from liftoff.access.auth import Actor
from liftoff.demo import builder as demo_builder
from liftoff.server.supervise import free_port

# Actors for direct library calls in tests (the app's role checks are tested on their own).
EDITOR = Actor(email="pm@example.com", role="editor", via="password")
ADMIN = Actor(email="admin@example.com", role="admin", via="password")
VIEWER = Actor(email="exec@example.com", role="viewer", via="password")

PROJECT_ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get("LIFTOFF_TEST_POSTGRES_URL", "").strip()
REQUIRE_POSTGRES = os.environ.get("LIFTOFF_REQUIRE_POSTGRES") == "1"
# The demo's "today" in tests, so its stories give the same figures on every run.
DEMO_TODAY = date(2026, 11, 23)
_counter = itertools.count()


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "browser" in item.nodeid.split("::")[0]:
            item.add_marker(pytest.mark.browser)


def _require_postgres() -> None:
    if not POSTGRES_URL:
        message = "LIFTOFF_TEST_POSTGRES_URL is not set: PostgreSQL tests cannot run"
        if REQUIRE_POSTGRES:
            pytest.fail(message + " (LIFTOFF_REQUIRE_POSTGRES=1)")
        pytest.skip(message)


class Postgres:
    """Creates and drops databases on the test server."""

    def __init__(self, url: str):
        self.url = make_url(url)
        self.admin = create_engine(self.url, isolation_level="AUTOCOMMIT")
        self.created: list[str] = []

    def url_for(self, name: str) -> str:
        return self.url.set(database=name).render_as_string(hide_password=False)

    def create(self, name: str, template: str | None = None) -> str:
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            suffix = f' TEMPLATE "{template}"' if template else ""
            conn.execute(text(f'CREATE DATABASE "{name}"{suffix}'))
        self.created.append(name)
        return self.url_for(name)

    def drop(self, name: str) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    def close(self) -> None:
        for name in self.created:
            self.drop(name)
        self.admin.dispose()


@pytest.fixture(scope="session")
def postgres():
    _require_postgres()
    pg = Postgres(POSTGRES_URL)
    yield pg
    pg.close()


def _migrated(url: str, with_demo: bool) -> None:
    engine = db.make_engine(url)
    db.migrate(engine)
    if with_demo:
        demo_builder.load_demo(engine, today=DEMO_TODAY)
    engine.dispose()


@pytest.fixture(scope="session")
def sqlite_templates(tmp_path_factory):
    folder = tmp_path_factory.mktemp("templates")
    paths = {}
    for name, with_demo in (("schema", False), ("demo", True)):
        path = folder / f"{name}.db"
        _migrated(f"sqlite:///{path}", with_demo)
        paths[name] = path
    return paths


@pytest.fixture(scope="session")
def postgres_templates(postgres):
    names = {}
    for name, with_demo in (("schema", False), ("demo", True)):
        db_name = f"liftoff_template_{name}_{os.getpid()}"
        _migrated(postgres.create(db_name), with_demo)
        names[name] = db_name
    return names


def _clone(request, tmp_path, template: str) -> str:
    if request.param == "sqlite":
        target = tmp_path / "liftoff.db"
        shutil.copyfile(request.getfixturevalue("sqlite_templates")[template], target)
        return f"sqlite:///{target}"
    pg = request.getfixturevalue("postgres")
    source = request.getfixturevalue("postgres_templates")[template]
    return pg.create(f"liftoff_test_{os.getpid()}_{next(_counter)}", template=source)


BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def backend(request):
    return request.param


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path):
    """A migrated, empty database."""
    return _clone(request, tmp_path, "schema")


@pytest.fixture(params=BACKENDS)
def demo_url(request, tmp_path):
    """A migrated database holding the demo portfolio (as of DEMO_TODAY)."""
    return _clone(request, tmp_path, "demo")


@pytest.fixture(params=BACKENDS)
def blank_url(request, tmp_path):
    """A database with no tables at all."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'blank.db'}"
    return request.getfixturevalue("postgres").create(
        f"liftoff_blank_{os.getpid()}_{next(_counter)}"
    )


def _engine_for(url: str):
    engine = db.make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(db_url):
    yield from _engine_for(db_url)


@pytest.fixture
def demo_engine(demo_url):
    yield from _engine_for(demo_url)


@pytest.fixture
def use_database(monkeypatch):
    """Point the app and CLI at a URL, with streamlit's caches cleared."""

    def use(url: str) -> str:
        import streamlit as st

        from liftoff.ui import cache

        monkeypatch.setenv("LIFTOFF_DATABASE_URL", url)
        # Pages open for viewers, as with `make run`; editing tests sign in (see sign_in_as).
        monkeypatch.setenv("LIFTOFF_ANONYMOUS_ROLE", "viewer")
        st.cache_data.clear()
        cache.clear_caches()
        return url

    return use


def table_checksums(engine) -> dict[str, str]:
    """A checksum of every table's full contents, to prove that nothing was written."""
    import hashlib

    from sqlalchemy import select

    from liftoff.db.models import Base

    out = {}
    with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            rows = sorted(repr(tuple(r)) for r in conn.execute(select(table)).all())
            out[table.name] = hashlib.sha256("\n".join(rows).encode()).hexdigest()
    return out


TEST_COOKIE = "liftoff_test_cookies"


@pytest.fixture(autouse=True)
def _apptest_cookies(monkeypatch):
    """AppTest cannot send cookies (st.context.cookies stays empty), so in tests the app's
    cookie source also reads the cookies an AppTest session was given by `sign_in_as`. The
    app itself never reads identity from the session state: only this test hook does."""
    import streamlit as st

    from liftoff.ui import session

    real = session.request_cookies

    def with_test_cookies():
        try:
            given = st.session_state.get(TEST_COOKIE) or {}
        except Exception:
            given = {}
        return {**real(), **given}

    monkeypatch.setattr(session, "request_cookies", with_test_cookies)


def sign_in_as(at, role: str, email: str | None = None):
    """Give the AppTest session a signed-in user with `role`, as the sign-in route would: the
    user is added to the database the app uses, a real session is started for them, and the
    AppTest browser holds its cookie."""
    from liftoff.access import auth, sessions
    from liftoff.config import database_url

    email = email or f"{role}@example.com"
    engine = db.make_engine(database_url())
    try:
        if auth.role_of(engine, email) is None:
            auth.add_user(engine, auth.SYSTEM, email, role)
        cookie = sessions.create(engine, auth.user_id(engine, email), hours=8)
    finally:
        engine.dispose()
    at.session_state[TEST_COOKIE] = {sessions.COOKIE: cookie}
    return at


def open_screen(page: str, role: str | None = None, *, timeout: int = 60, **params):
    """An AppTest of the app opened at `page` ("screens/x.py", or just "x"), signed in with
    `role` when given, with `params` in the address as a deep link gives them."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=timeout)
    if role:
        sign_in_as(at, role)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    return at.switch_page(page if page.endswith(".py") else f"screens/{page}.py").run()


@pytest.fixture
def bare_initiative(use_database, db_url, engine):
    """An initiative, "Bare", with one iteration holding one accuracy value and nothing else,
    the app using its database: the screens' empty states."""
    from liftoff import ingest
    from liftoff.evidence import writes as evidence_writes

    use_database(db_url)
    evidence_writes.set_initiative(engine, EDITOR, "Bare", create=True)
    ingest.import_file(
        engine,
        EDITOR,
        b"iteration,metric,value\n1,accuracy,0.8\n",
        "m.csv",
        ingest.Options(initiative="Bare", create=True),
    )
    return engine


@pytest.fixture
def busy_sqlite(use_database, sqlite_templates, tmp_path, monkeypatch):
    """The app on a copy of the demo on SQLite with a 0.2 s busy timeout; `hold()` keeps
    another connection in the middle of a write meanwhile (SQLite has one writer at a time)."""
    path = tmp_path / "liftoff.db"
    shutil.copyfile(sqlite_templates["demo"], path)
    url = f"sqlite:///{path}"
    monkeypatch.setattr(db, "SQLITE_BUSY_TIMEOUT_S", 0.2)
    use_database(url)
    engine = db.make_engine(url)

    @contextmanager
    def hold():
        holder = sqlite3.connect(path, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()

    yield SimpleNamespace(engine=engine, hold=hold)
    engine.dispose()


TEXT_ELEMENTS = (
    "title",
    "header",
    "subheader",
    "markdown",
    "caption",
    "info",
    "warning",
    "error",
    "success",
    "text",
)
# The elements that render markdown (st.text shows its text as is): where user text must arrive
# escaped.
MARKDOWN_ELEMENTS = tuple(kind for kind in TEXT_ELEMENTS if kind != "text")


def texts(at) -> str:
    """Everything an AppTest screen says in words, as one string, as a reader sees it: markdown
    escapes and the invisible joiners that keep user URLs and emails from becoming links removed."""
    parts = [str(e.value) for kind in TEXT_ELEMENTS for e in getattr(at, kind)]
    return "\n".join(parts).replace("\\", "").replace("\u2060", "")


def button(at, label: str):
    """The button labelled `label` (StopIteration names a missing button in the traceback)."""
    return next(b for b in at.button if b.label == label)


# ----------------------------------------------------------------------------- the real browser

CHROMIUM = "/usr/bin/chromium"  # Debian's: `playwright install` cannot download one here
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = PROJECT_ROOT / "artifacts" / "screenshots"
REQUIRE_BROWSER = os.environ.get("LIFTOFF_REQUIRE_BROWSER") == "1"
# The editor account of the browser tests' app (serve_demo adds it).
EDITOR_EMAIL, EDITOR_PASSWORD = "priya@example.com", "a long and unguessable phrase"


def require_browser() -> None:
    """Skip (or fail, with LIFTOFF_REQUIRE_BROWSER=1) when Chromium or Playwright is missing."""
    missing = None
    if not Path(CHROMIUM).exists():
        missing = f"{CHROMIUM} is missing (apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            missing = "the playwright package is missing (pip install playwright)"
    if missing:
        if REQUIRE_BROWSER:
            pytest.fail(f"Browser tests are required but {missing}")
        pytest.skip(missing)


@contextmanager
def serving(database_url: str, log_path: Path, **env: str) -> Iterator[str]:
    """`liftoff run` (Streamlit's st.App with Liftoff's sign-in routes and the HTTP API) on a
    free loopback port against `database_url`; yields its base URL and stops the server
    afterwards. `env` adds to the server's environment."""
    from liftoff.server import supervise

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [str(Path(sys.executable).parent / "liftoff"), "run", "--port", str(port)]
    environment = {
        **os.environ,
        "LIFTOFF_DATABASE_URL": database_url,
        "LIFTOFF_ANONYMOUS_ROLE": "viewer",
        **env,
    }
    try:
        with supervise.serving(command, url, log_path, env=environment, cwd=PROJECT_ROOT):
            yield url
    except supervise.DidNotStart as exc:
        pytest.fail(f"The app server did not start: {exc}")


def serve_app(folder: Path) -> Iterator[str]:
    """Serve the app as `liftoff run` does against folder/liftoff.db; yields its URL."""
    with serving(f"sqlite:///{folder / 'liftoff.db'}", folder / "server.log") as url:
        yield url


def serve_demo(sqlite_templates, folder: Path) -> Iterator[str]:
    """Serve the app against a copy of the demo database that has an editor account
    (EDITOR_EMAIL, EDITOR_PASSWORD); yields its URL."""
    from liftoff.access import auth

    require_browser()
    shutil.copyfile(sqlite_templates["demo"], folder / "liftoff.db")
    engine = db.make_engine(f"sqlite:///{folder / 'liftoff.db'}")
    auth.add_user(engine, auth.SYSTEM, EDITOR_EMAIL, "editor", EDITOR_PASSWORD, "Priya Editor")
    engine.dispose()
    yield from serve_app(folder)


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium through Playwright, one for the whole run."""
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


def wait_until_idle(pg) -> None:
    """Wait until the app has mounted and its script has finished running."""
    pg.wait_for_selector('[data-testid="stAppViewContainer"]', timeout=30_000)
    # Streamlit shows a "running" status widget while the script runs.
    pg.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=30_000
    )
    pg.wait_for_timeout(800)


def wait_for_count(pg, selector: str, n: int) -> None:
    """Wait until at least `n` elements match `selector`."""
    pg.wait_for_function(
        "([sel, n]) => document.querySelectorAll(sel).length >= n",
        arg=[selector, n],
        timeout=30_000,
    )


def sign_in_in_browser(
    pg,
    url: str,
    email: str = EDITOR_EMAIL,
    password: str = EDITOR_PASSWORD,
    then: str = "account",
):
    """Sign in on the sign-in page as a person would (the Account page's "Sign in with email
    and password" leads there); the browser is on the page `then` names afterwards."""
    pg.goto(f"{url}/auth/sign-in?next=/{then}")
    pg.get_by_label("Email").fill(email)
    pg.get_by_label("Password", exact=True).fill(password)
    pg.get_by_role("button", name="Sign in", exact=True).click()
    pg.wait_for_url(f"**/{then}*", timeout=30_000)
    wait_until_idle(pg)
    pg.get_by_text("Signed in as").first.wait_for(timeout=30_000)
