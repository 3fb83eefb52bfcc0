"""Running for a team: two app processes (`liftoff run`) on one PostgreSQL database behind a
real nginx started with deploy/nginx/liftoff.conf, and a real Chromium going through it.

- A browser on one replica sees, without a reload, an import made through the other replica's
  API and one made with the CLI.
- A replica killed while a browser is on it: the browser's next action lands on the other
  replica, still signed in.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import (
    ARTIFACTS,
    EDITOR_EMAIL,
    EDITOR_PASSWORD,
    PROJECT_ROOT,
    REQUIRE_BROWSER,
    require_browser,
    sign_in_in_browser,
    wait_until_idle,
)
from liftoff import db
from liftoff.access import auth, tokens
from liftoff.server import supervise

NGINX = supervise.NGINX  # the one the team is started with
LIFTOFF = str(Path(sys.executable).parent / "liftoff")
# Short, so the tests wait seconds for a screen to follow a write (the default is 10 s).
REFRESH_SECONDS = "2"


def _require_nginx() -> None:
    if not Path(NGINX).exists():
        message = f"{NGINX} is missing (apt-get install nginx)"
        if REQUIRE_BROWSER or os.environ.get("LIFTOFF_REQUIRE_NGINX") == "1":
            pytest.fail(f"The team tests are required but {message}")
        pytest.skip(message)


class Team:
    """The running parts: the nginx address, each replica's port and process, the database."""

    def __init__(self, url: str, db_url: str, replicas: dict[int, subprocess.Popen]):
        self.url = url
        self.db_url = db_url
        self.replicas = replicas

    def other(self, port: int) -> int:
        return next(p for p in self.replicas if p != port)


@pytest.fixture(scope="module")
def team(postgres, postgres_templates, tmp_path_factory):
    require_browser()
    _require_nginx()
    folder = tmp_path_factory.mktemp("team")
    db_url = postgres.create(f"liftoff_team_{os.getpid()}", template=postgres_templates["demo"])
    engine = db.make_engine(db_url)
    auth.add_user(engine, auth.SYSTEM, EDITOR_EMAIL, "editor", EDITOR_PASSWORD, "Priya Editor")
    engine.dispose()
    env = {
        **os.environ,
        "LIFTOFF_DATABASE_URL": db_url,
        "LIFTOFF_ANONYMOUS_ROLE": "viewer",
        "LIFTOFF_REFRESH_SECONDS": REFRESH_SECONDS,
        "LIFTOFF_NOTIFY_WORKER": "off",
    }
    with supervise.behind_nginx(LIFTOFF, 2, folder, env=env, cwd=PROJECT_ROOT) as (proxy, apps):
        yield Team(proxy, db_url, apps)


def _upstream(response) -> int:
    """The port of the app process that answered through nginx."""
    answered = response.headers.get("x-liftoff-upstream", "")
    assert answered, f"nginx named no upstream: {response.headers}"
    return int(answered.rsplit(":", 1)[-1])


def test_nginx_passes_the_health_check_sign_in_and_api_through(team):
    with urllib.request.urlopen(f"{team.url}/healthz", timeout=5) as r:
        assert r.status == 200 and r.read() == b"ok"
    with urllib.request.urlopen(f"{team.url}/auth/sign-in", timeout=5) as r:
        assert r.status == 200 and b'name="password"' in r.read()
    with urllib.request.urlopen(f"{team.url}/api/v1/openapi.json", timeout=5) as r:
        assert r.status == 200 and b'"openapi"' in r.read()


def test_browsers_from_one_address_spread_over_the_replicas_and_each_stays_on_its_own(team):
    """An office behind one address still uses every process: each new browser gets its own
    route cookie, and every request that carries it goes to the same process."""
    seen = {}
    for _ in range(40):
        with urllib.request.urlopen(f"{team.url}/", timeout=10) as r:
            routes = [c for c in r.headers.get_all("set-cookie") or [] if "liftoff_route=" in c]
            assert len(routes) == 1 and "HttpOnly" in routes[0], routes
            route = routes[0]
            seen[route.split(";")[0]] = _upstream(r)
    assert set(seen.values()) == set(team.replicas), "one process got every browser"
    cookie, port = next(iter(seen.items()))
    for _ in range(10):
        request = urllib.request.Request(f"{team.url}/_stcore/health", headers={"Cookie": cookie})
        with urllib.request.urlopen(request, timeout=10) as r:
            again = [c for c in r.headers.get_all("set-cookie") or [] if "liftoff_route=" in c]
            assert _upstream(r) == port and not again


def test_a_browser_on_one_replica_sees_writes_through_the_other_and_the_cli(team, browser):
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    pg = context.new_page()
    try:
        here = _upstream(pg.goto(f"{team.url}/"))
        wait_until_idle(pg)
        pg.get_by_text("Claims triage assistant").first.wait_for(timeout=30_000)
        # Any reload would forget this.
        pg.evaluate("window.__liftoff_not_reloaded = true")
        assert "Fraud scoring" not in pg.inner_text("body")

        # An import through the other replica's API, straight to it (not through nginx).
        engine = db.make_engine(team.db_url)
        token = tokens.create(engine, auth.SYSTEM, "team-pipeline", "editor")
        engine.dispose()
        there = team.other(here)
        body = b"iteration,metric,value\n1,accuracy,0.91\n"
        boundary = "liftoffboundary"
        form = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="initiative"\r\n\r\n'
                f'Fraud scoring\r\n--{boundary}\r\nContent-Disposition: form-data; name="create"'
                f'\r\n\r\ntrue\r\n--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                f'filename="fraud.csv"\r\nContent-Type: text/csv\r\n\r\n'
            ).encode()
            + body
            + f"\r\n--{boundary}--\r\n".encode()
        )
        request = urllib.request.Request(
            f"http://127.0.0.1:{there}/api/v1/imports",
            data=form,
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": f"multipart/form-data; boundary={boundary}",
            },
        )
        with urllib.request.urlopen(request, timeout=60) as r:
            assert r.status == 201
        started = time.monotonic()
        pg.get_by_text("Fraud scoring").first.wait_for(timeout=30_000)
        through_api = time.monotonic() - started

        # And one with the command line, which no app process sees being made.
        subprocess.run(
            [LIFTOFF, "initiative", "set", "Payments anomaly", "--create"],
            env={**os.environ, "LIFTOFF_DATABASE_URL": team.db_url},
            check=True,
            capture_output=True,
            timeout=60,
        )
        started = time.monotonic()
        pg.get_by_text("Payments anomaly").first.wait_for(timeout=30_000)
        through_cli = time.monotonic() - started

        assert pg.evaluate("window.__liftoff_not_reloaded === true"), "the page was reloaded"
        assert "5 initiatives" in pg.inner_text("body")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(ARTIFACTS / "team-live-overview.png"))
        print(
            f"seen on :{here}: API import via :{there} after {through_api:.1f} s, "
            f"CLI after {through_cli:.1f} s"
        )
    finally:
        context.close()


def test_a_refresh_for_a_write_elsewhere_keeps_what_the_editor_is_typing(team, browser, tmp_path):
    """The page redraws itself for a write made elsewhere while an editor is half-way through
    a form: the words typed so far, the open expander and the cursor stay."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    pg = context.new_page()
    try:
        sign_in_in_browser(pg, team.url, then="concerns")
        pg.get_by_text("Add a concern").first.click()
        title = pg.get_by_label("Title").first
        title.click()
        title.press_sequentially("Half-typed: latency at the peak", delay=10)
        concerns = tmp_path / "concerns.csv"
        concerns.write_text("key,title,severity\nLIVE-1,Raised by the risk tracker,high\n")
        subprocess.run(
            [
                LIFTOFF,
                "import",
                str(concerns),
                "--kind",
                "concerns",
                "--initiative",
                "Churn early-warning",
            ],
            env={**os.environ, "LIFTOFF_DATABASE_URL": team.db_url},
            check=True,
            capture_output=True,
            timeout=60,
        )
        # The register (a canvas grid, its cells kept in the page for screen readers) has it.
        pg.get_by_text("Raised by the risk tracker").first.wait_for(
            state="attached", timeout=30_000
        )
        wait_until_idle(pg)
        assert title.input_value() == "Half-typed: latency at the peak"
        assert pg.evaluate("document.activeElement.getAttribute('aria-label')") == "Title"
    finally:
        context.close()


def test_a_replica_killed_under_a_browser_hands_it_to_the_other_still_signed_in(team, browser):
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    pg = context.new_page()
    try:
        sign_in_in_browser(pg, team.url, then="iterations")
        pg.get_by_text("Signed in as Priya Editor").first.wait_for(timeout=30_000)
        # The same cookie, so the same replica as the page's websocket.
        on = _upstream(context.request.get(f"{team.url}/_stcore/health"))
        survivor = team.other(on)

        team.replicas[on].kill()  # SIGKILL: no goodbye to the browser
        team.replicas[on].wait(timeout=10)

        # The person's next action: the sidebar link to another screen.
        pg.get_by_role("link", name="Scalability").first.click()
        pg.wait_for_url("**/scalability*", timeout=30_000)
        pg.get_by_role("heading", name="Scalability").first.wait_for(timeout=60_000)
        wait_until_idle(pg)
        pg.get_by_text("Signed in as Priya Editor").first.wait_for(timeout=30_000)
        assert _upstream(context.request.get(f"{team.url}/_stcore/health")) == survivor
        body = pg.inner_text("body")
        assert "Sign in to upload" not in body and "Traceback" not in body
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(ARTIFACTS / "team-after-failover.png"))
    finally:
        context.close()
