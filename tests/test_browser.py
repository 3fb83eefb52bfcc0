"""The real app in the real browser: Debian's Chromium driven by Playwright."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from conftest import (
    ARTIFACTS,
    EDITOR,
    EDITOR_EMAIL,
    EDITOR_PASSWORD,
    PROJECT_ROOT,
    require_browser,
    serve_app,
    serve_demo,
    sign_in_in_browser,
    wait_for_count,
    wait_until_idle,
)
from liftoff import db
from liftoff.people import writes as people_writes


@pytest.fixture(scope="module")
def app_url(sqlite_templates, tmp_path_factory):
    """The app against a copy of the demo database, with an editor account."""
    yield from serve_demo(sqlite_templates, tmp_path_factory.mktemp("browser"))


@pytest.fixture(scope="module")
def payload_url(sqlite_templates, tmp_path_factory):
    """The app against a demo database whose concerns, feedback and stakeholders hold the
    payload battery."""
    require_browser()
    from test_people import _plant_payloads

    folder = tmp_path_factory.mktemp("payloads")
    shutil.copyfile(sqlite_templates["demo"], folder / "liftoff.db")
    engine = db.make_engine(f"sqlite:///{folder / 'liftoff.db'}")
    _plant_payloads(engine)
    # A title a spreadsheet would run as a formula, for the CSV download.
    people_writes.add_concern(
        engine,
        EDITOR,
        "Churn early-warning",
        title='=HYPERLINK("http://example.invalid","click")',
        failure_category="operations",
        severity="low",
    )
    engine.dispose()
    yield from serve_app(folder)


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 2200})
    pg = context.new_page()
    yield pg
    context.close()


def shot(pg, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    pg.screenshot(path=str(path), full_page=True)
    return path


def test_overview_in_the_browser(page, app_url):
    page.goto(app_url)
    wait_until_idle(page)
    for name in ("Churn early-warning", "Claims triage assistant", "Contract clause extractor"):
        page.get_by_role("heading", name=name).wait_for(timeout=30_000)
    wait_for_count(page, '[data-testid="stMetric"]', 18)
    wait_for_count(page, ".js-plotly-plot", 1)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator('[data-testid="stMetric"]').count() == 18
    assert (
        page.get_by_text(
            "Needs attention: 2 severe concerns open (1 critical); only 15% capacity headroom"
        ).count()
        == 1
    )
    assert shot(page, "overview").stat().st_size > 10_000


def test_overview_as_a_table_in_the_browser(page, app_url):
    page.goto(app_url)
    wait_until_idle(page)
    page.locator('[data-testid="stButtonGroup"]').get_by_text("Table", exact=True).click()
    wait_until_idle(page)
    wait_for_count(page, '[data-testid="stDataFrame"] canvas', 1)
    page.wait_for_timeout(1500)  # the data grid paints its canvas after it mounts
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator('[data-testid="stMetric"]').count() == 0  # no cards
    assert page.get_by_role("heading", name="Churn early-warning").count() == 0
    wait_for_count(page, ".js-plotly-plot", 1)
    assert shot(page, "overview-table").stat().st_size > 10_000


def test_open_link_leads_to_the_initiative_with_its_url(page, app_url):
    page.goto(app_url)
    wait_until_idle(page)
    page.locator('[data-testid="stPageLink-NavLink"][href*="Claims"]').click()
    page.wait_for_url("**/iterations?initiative=Claims+triage+assistant*", timeout=30_000)
    wait_until_idle(page)
    page.get_by_text("Iteration 8 · Peak-season readiness: 5 of 6 criteria met").wait_for(
        timeout=30_000
    )
    assert page.locator('[data-testid="stException"]').count() == 0
    wait_for_count(page, ".js-plotly-plot", 1)
    page.wait_for_url("**iteration=8*", timeout=10_000)
    wait_for_count(page, '[data-testid="stDataFrame"] canvas', 2)
    page.wait_for_timeout(1500)  # the data grid paints its canvas after it mounts
    shot(page, "iterations")


def test_a_shared_link_opens_the_same_view(page, app_url):
    page.goto(f"{app_url}/iterations?initiative={quote('Churn early-warning')}&iteration=4")
    wait_until_idle(page)
    page.get_by_text(
        "Iteration 4 · Weekly instead of monthly scores: 3 of 4 criteria met"
    ).wait_for(timeout=30_000)
    wait_for_count(page, ".js-plotly-plot", 1)
    assert page.locator('[data-testid="stException"]').count() == 0


@pytest.mark.parametrize(
    ("path", "name", "charts"),
    [
        ("iterations", "iterations", 1),
        ("model_business", "model-versus-business", 3),
        ("scalability", "scalability", 4),
        ("monitoring", "monitoring", 5),
    ],
)
def test_evidence_screen_in_the_browser(page, app_url, path, name, charts):
    page.goto(f"{app_url}/{path}?initiative={quote('Claims triage assistant')}")
    wait_until_idle(page)
    wait_for_count(page, ".js-plotly-plot", charts)
    assert page.locator('[data-testid="stException"]').count() == 0
    page.wait_for_timeout(800)
    assert shot(page, name).stat().st_size > 10_000


def _signed_in_as_editor(pg) -> None:
    pg.get_by_text("Signed in as Priya Editor · editor").wait_for(timeout=30_000)


def test_the_editor_stays_signed_in_through_reloads_tabs_and_deep_links(browser, app_url):
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    # A visitor opening the upload page by its link is sent to sign in, with the way back.
    page.goto(f"{app_url}/upload?initiative=Churn+early-warning")
    page.wait_for_url("**/auth/sign-in?next=*", timeout=30_000)
    assert page.get_by_role("heading", name="Sign in").is_visible()
    page.get_by_label("Email").fill(EDITOR_EMAIL)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("Wrong email or password.").wait_for(timeout=30_000)
    page.get_by_label("Password").fill(EDITOR_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/upload?initiative=Churn+early-warning", timeout=30_000)
    wait_until_idle(page)
    _signed_in_as_editor(page)
    page.get_by_text("Choose a file to upload").first.wait_for(timeout=30_000)
    cookie = next(c for c in context.cookies() if c["name"] == "liftoff_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"

    # F5: still the editor, on the same page.
    page.reload()
    wait_until_idle(page)
    _signed_in_as_editor(page)
    page.get_by_text("Choose a file to upload").first.wait_for(timeout=30_000)

    # A new tab with a pasted deep link: signed in there too. Upload and import in it.
    tab = context.new_page()
    tab.goto(f"{app_url}/upload")
    wait_until_idle(tab)
    _signed_in_as_editor(tab)
    tab.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
        str(PROJECT_ROOT / "tests" / "data" / "ingest" / "traffic.csv")
    )
    tab.locator('[data-testid="stSelectbox"]').filter(
        has_text="Initiative (for files without an initiative column)"
    ).locator("input").click()
    tab.get_by_role("option", name="Churn early-warning").click()
    tab.get_by_text("Peak traffic: 3 rows read, 3 ready to import").wait_for(timeout=30_000)
    wait_until_idle(tab)
    tab.get_by_role("button", name="Import").click()
    tab.get_by_text("Imported 3 rows").first.wait_for(timeout=30_000)
    wait_until_idle(tab)
    assert tab.locator('[data-testid="stException"]').count() == 0
    # The page starts over: nothing stale, no Import button for the batch just stored.
    tab.get_by_text("Choose a file to upload").first.wait_for(timeout=30_000)
    assert tab.get_by_text("ready to import").count() == 0
    assert tab.get_by_role("button", name="Import").count() == 0

    # Reload: still signed in, and the new batch is on the import history.
    tab.reload()
    wait_until_idle(tab)
    _signed_in_as_editor(tab)
    tab.locator('[data-testid="stSidebarNav"] a[href$="/imports"]').click()
    wait_until_idle(tab)
    # The history's table is a canvas grid: its first row's cells are in the DOM, not visible.
    tab.locator('[role="gridcell"]', has_text="traffic.csv").first.wait_for(
        state="attached", timeout=30_000
    )
    page.reload()
    wait_until_idle(page)
    _signed_in_as_editor(page)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "editor-signed-in.png"))

    # Sign out from the sidebar, on an editor's page: this browser is a visitor again, in
    # every tab, and lands on a page a visitor may see.
    page.goto(f"{app_url}/upload")
    wait_until_idle(page)
    page.locator('[data-testid="stSidebar"]').get_by_role("button", name="Sign out").click()
    page.get_by_text("Browsing as a visitor (viewer)").wait_for(timeout=30_000)
    page.get_by_text("You are signed out.").wait_for(timeout=30_000)  # said, not only done
    wait_until_idle(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.get_by_text("Page not found").count() == 0
    assert page.locator('[data-testid="stSidebarNav"] a[href$="/upload"]').count() == 0
    tab.reload()
    wait_until_idle(tab)
    tab.get_by_text("Browsing as a visitor (viewer)").wait_for(timeout=30_000)
    context.close()

    # The old cookie, replayed in a fresh browser, is a visitor's.
    replay = browser.new_context(viewport={"width": 1440, "height": 900})
    replay.add_cookies([cookie])
    again = replay.new_page()
    again.goto(f"{app_url}/upload")
    again.wait_for_url("**/auth/sign-in?next=*", timeout=30_000)
    again.goto(app_url)
    wait_until_idle(again)
    again.get_by_text("Browsing as a visitor (viewer)").wait_for(timeout=30_000)
    assert again.locator('[data-testid="stSidebarNav"] a[href$="/upload"]').count() == 0
    replay.close()


def test_an_editor_uploads_and_gets_the_original_file_back(page, app_url):
    page.goto(f"{app_url}/auth/sign-in?next=/upload")
    page.get_by_label("Email").fill(EDITOR_EMAIL)
    page.get_by_label("Password").fill(EDITOR_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/upload", timeout=30_000)
    wait_until_idle(page)
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(
        str(PROJECT_ROOT / "tests" / "data" / "ingest" / "traffic.csv")
    )
    page.locator('[data-testid="stSelectbox"]').filter(
        has_text="Initiative (for files without an initiative column)"
    ).locator("input").click()
    page.get_by_role("option", name="Churn early-warning").click()
    wait_until_idle(page)
    again = page.get_by_text("Import anyway if this exact file was imported before")
    if again.count():  # the journey above imported it already
        again.click()
        wait_until_idle(page)
    page.get_by_text("3 ready to import").first.wait_for(timeout=30_000)
    page.get_by_role("button", name="Import").click()
    page.get_by_text("Imported 3 rows").first.wait_for(timeout=30_000)
    assert page.locator('[data-testid="stException"]').count() == 0
    shot(page, "upload-as-editor")

    # The import history offers the file back, byte for byte (read when the button is clicked).
    page.locator('[data-testid="stSidebarNav"] a[href$="/imports"]').click()
    wait_until_idle(page)
    button = page.get_by_role("button", name="Download the original file")
    with page.expect_download(timeout=30_000) as download:
        button.click()
    assert download.value.suggested_filename == "traffic.csv"
    original = (PROJECT_ROOT / "tests" / "data" / "ingest" / "traffic.csv").read_bytes()
    assert Path(download.value.path()).read_bytes() == original
    assert page.locator('[data-testid="stException"]').count() == 0
    shot(page, "import-history")


@pytest.mark.parametrize(
    ("path", "name", "charts"),
    [("feedback", "feedback", 3), ("concerns", "concerns", 0), ("governance", "governance", 0)],
)
def test_people_screen_in_the_browser(page, app_url, path, name, charts):
    page.goto(f"{app_url}/{path}?initiative={quote('Churn early-warning')}")
    if path == "concerns":  # the trends tab, as a link to it opens it
        page.goto(
            f"{app_url}/{path}?initiative={quote('Churn early-warning')}"
            f"&tab={quote('Over time and by category')}"
        )
        charts = 2
    wait_until_idle(page)
    if charts:
        wait_for_count(page, ".js-plotly-plot", charts)
    assert page.locator('[data-testid="stException"]').count() == 0
    page.wait_for_timeout(1000)
    assert shot(page, name).stat().st_size > 10_000


def _no_injection(page, dialogs: list) -> None:
    assert dialogs == [], f"a dialog opened: {dialogs}"
    for selector in (
        'img[src="x"]',
        'img[src*="example.invalid"]',
        'a[href*="example.invalid"]',
        "[onerror]",
        "[onload]",
        'a[href^="javascript:"]',
        'a[href^="data:"]',
    ):
        assert page.locator(selector).count() == 0, f"injected: {selector}"
    assert page.get_by_role("heading", name="HEADING").count() == 0
    assert page.locator('[data-testid="stException"]').count() == 0


@pytest.mark.parametrize("path", ["", "feedback", "concerns", "governance"])
def test_payloads_stay_text_in_the_browser(page, payload_url, path):
    from test_people import PAYLOADS

    dialogs: list = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{payload_url}/{path}?initiative={quote('Churn early-warning')}")
    wait_until_idle(page)
    page.wait_for_timeout(1500)
    _no_injection(page, dialogs)
    if path == "concerns":
        # The headline names the two most severe open concerns: one is a payload, as typed.
        body = page.locator('[data-testid="stMain"]').inner_text().replace("\u2060", "")
        assert f"“{PAYLOADS[0]}” (critical, open" in body
        page.get_by_role("tab", name="Stakeholder buy-in").click()
        page.wait_for_timeout(1500)
        _no_injection(page, dialogs)
        body = page.locator('[data-testid="stMain"]').inner_text().replace("\u2060", "")
        # Stakeholders still to win over are named, their payload names shown as typed.
        named = [f"{p} {i} (blocker, influence 5)" for i, p in enumerate(PAYLOADS)]
        assert sum(n in body for n in named) == 3, body[:2000]
        shot(page, "payloads-concerns")
    if path == "":
        # The overview's first render reads every initiative's evidence and gate: wait for its
        # cards to draw (a cold, busy machine took longer than the fixed pause above) before
        # reading what they say.
        page.locator('[data-testid="stMain"]').get_by_text("Churn early-warning").first.wait_for(
            timeout=60_000
        )
        _no_injection(page, dialogs)
        body = page.locator('[data-testid="stMain"]').inner_text().replace("\u2060", "")
        assert "Churn early-warning" in body


def test_a_csv_download_neutralises_formulas(page, payload_url):
    """The register's CSV button (ui.csv_download, as every table's): a title that starts like
    a formula arrives as text, not as a formula a spreadsheet would run."""
    page.goto(f"{payload_url}/concerns?initiative={quote('Churn early-warning')}")
    wait_until_idle(page)
    button = page.get_by_role("button", name="Download this page as CSV")
    with page.expect_download(timeout=30_000) as download:
        button.click()
    assert download.value.suggested_filename == "Churn early-warning-concerns.csv"
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text("utf-8-sig"))))
    cells = [cell for row in rows[1:] for cell in row]
    formula = '=HYPERLINK("http://example.invalid","click")'
    assert "'" + formula in cells
    assert not [c for c in cells if c.startswith(("=", "+", "@"))]


def test_no_screen_fetches_anything_from_off_the_machine(browser, app_url):
    """Every screen an editor can open, loaded fresh: each request the browser makes goes to
    the app's own address (the favicon used to come from fonts.gstatic.com)."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    outside: list[str] = []
    page.on(
        "request",
        lambda r: None if r.url.startswith((app_url, "data:", "blob:")) else outside.append(r.url),
    )
    try:
        sign_in_in_browser(page, app_url)
        links = page.locator('[data-testid="stSidebarNav"] a')
        paths = sorted({links.nth(i).get_attribute("href") for i in range(links.count())})
        assert len(paths) >= 12, paths
        for href in paths:
            page.goto(href if href.startswith("http") else app_url + href)
            wait_until_idle(page)
            assert page.locator('[data-testid="stException"]').count() == 0, href
        icon = page.locator('link[rel~="icon"]').first.get_attribute("href")
        assert icon and (not icon.startswith("http") or icon.startswith(app_url)), icon
    finally:
        context.close()
    assert outside == []


def test_the_chosen_initiative_follows_sidebar_navigation(page, app_url):
    page.goto(f"{app_url}/scalability?initiative={quote('Claims triage assistant')}")
    wait_until_idle(page)
    for path in ("iterations", "feedback", "steering"):
        page.locator(f'[data-testid="stSidebarNav"] a[href$="/{path}"]').click()
        page.wait_for_url(f"**/{path}?initiative=Claims+triage+assistant*", timeout=30_000)
        wait_until_idle(page)
        assert "iteration=8" in page.url  # the latest iteration of that initiative
        assert page.locator('[data-testid="stException"]').count() == 0


def test_an_editor_sees_the_initiative_and_iteration_pickers_without_scrolling(browser, app_url):
    """An editor's sidebar lists 15 pages; the pickers used to sit under them, the iteration's
    out of a 1440x900 screen. They are now under the screen's title, and choosing there works."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    try:
        _sign_in_as_editor(page, app_url)
        page.goto(f"{app_url}/iterations")
        wait_until_idle(page)
        for label in ("Initiative", "Iteration"):
            box = (
                page.locator('[data-testid="stMain"] [data-testid="stSelectbox"]')
                .filter(has=page.get_by_text(label, exact=True))
                .bounding_box()
            )
            assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 900, label
        picker = page.locator('[data-testid="stSelectbox"]').filter(
            has=page.get_by_text("Initiative", exact=True)
        )
        picker.locator("input").click()
        page.get_by_role("option", name="Claims triage assistant").click()
        page.wait_for_url("**/iterations?initiative=Claims+triage+assistant*", timeout=30_000)
        wait_until_idle(page)
        _see(page, "Iteration 8")
        shot(page, "editor-pickers")
    finally:
        context.close()


def _ready_to_import(page, app_url: str, path: Path, rows: int) -> None:
    """Signed in as the editor, `path` (a metrics file of `rows` rows) checked on the Upload
    page for Churn early-warning, its Import button ready."""
    _sign_in_as_editor(page, app_url)
    page.locator('[data-testid="stSidebarNav"] a[href$="/upload"]').click()
    wait_until_idle(page)
    _upload(page, path)
    page.locator('[data-testid="stSelectbox"]').filter(
        has_text="Initiative (for files without an initiative column)"
    ).locator("input").click()
    page.get_by_role("option", name="Churn early-warning").click()
    _see(page, f"Metrics: {rows:,} rows read, {rows:,} ready to import")
    wait_until_idle(page)


def test_a_file_chosen_while_an_import_runs_neither_stops_it_nor_is_lost(
    browser, app_url, tmp_path
):
    """A PM clicks Import on a large file and, while it runs, already chooses the next one.
    Streamlit reruns the page for the new file; the import used to die with that run, rolled
    back without a word. It now goes to its end: the page says it was imported, and the file
    chosen meanwhile is in the uploader with its own preview."""
    big = tmp_path / "big-week.csv"
    rows = "\n".join(f"{1 + i % 6},race_metric_{i % 5},{i}" for i in range(200_000))
    big.write_text(f"iteration,metric,value\n{rows}\n")
    small = tmp_path / "small-week.csv"
    small.write_text("iteration,metric,value\n6,race_small,0.5\n")
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    try:
        _ready_to_import(page, app_url, big, 200_000)
        page.get_by_role("button", name="Import").click()
        # The progress bar itself: "Importing" alone also matched the new-metric advice's
        # "before importing", so the next file was sometimes chosen before the click had run.
        page.locator('[data-testid="stProgress"]', has_text="Importing").wait_for(timeout=30_000)
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(small))
        _see(page, "Imported 200,000")
        _see(page, "Metrics: 1 row read, 1 ready to import")
        page.locator('[data-testid="stFileUploader"]', has_text="small").wait_for(timeout=30_000)
        wait_until_idle(page)
        shot(page, "upload-next-file-during-import")
    finally:
        context.close()


def test_a_file_chosen_right_after_the_import_click_does_not_lose_the_click(
    browser, app_url, tmp_path
):
    """The next file chosen the moment after Import, before the page has even shown the
    progress bar: the click's run was cut short before it reached the button, and the import
    never started, without a word. The import now starts first thing in that run."""
    first = tmp_path / "quick-week.csv"
    rows = "\n".join(f"{1 + i % 6},quick_metric_{i % 3},{i}" for i in range(20_000))
    first.write_text(f"iteration,metric,value\n{rows}\n")
    second = tmp_path / "after-week.csv"
    second.write_text("iteration,metric,value\n6,quick_after,0.5\n")
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    try:
        _ready_to_import(page, app_url, first, 20_000)
        page.get_by_role("button", name="Import").click()
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(second))
        _see(page, "Imported 20,000")
        _see(page, "Metrics: 1 row read, 1 ready to import")
    finally:
        context.close()


def _sign_in_from_the_account_page(page, url: str) -> None:
    """Open `url`, then the sidebar's "Sign in", the Account page's button and the form, as a
    visitor would; wait until signed in."""
    page.goto(url)
    wait_until_idle(page)
    page.locator('[data-testid="stSidebarNav"] a', has_text="Sign in").click()
    wait_until_idle(page)
    page.get_by_role("button", name="Sign in with email and password").click()
    page.wait_for_url("**/auth/sign-in*", timeout=30_000)
    page.get_by_label("Email").fill(EDITOR_EMAIL)
    page.get_by_label("Password", exact=True).fill(EDITOR_PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_text("Signed in as Priya Editor · editor").wait_for(timeout=30_000)


def test_a_visitor_signs_in_from_the_account_page_in_the_same_tab(browser, app_url):
    """Sidebar "Sign in", then the Account page's button: the sign-in form opens in this tab
    (a link button opened a second one, and this tab stayed signed out), and after the
    password the person is back on the page they were reading (it used to be the overview),
    with its initiative, signed in, with one tab open; from the overview, back to it."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    try:
        _sign_in_from_the_account_page(
            page, f"{app_url}/scalability?initiative=Claims+triage+assistant"
        )
        page.get_by_role("heading", name="Scalability").wait_for(timeout=30_000)
        assert "/scalability?" in page.url and "initiative=Claims" in page.url, page.url
        assert page.get_by_text("Claims triage assistant").count() >= 1
        assert len(context.pages) == 1
        # Signed out again, from the overview: the way back is the overview.
        page.context.clear_cookies()
        _sign_in_from_the_account_page(page, f"{app_url}/")
        assert page.get_by_role("heading", name="Portfolio").count() == 1
    finally:
        context.close()


def _sign_in_as_editor(page, app_url) -> None:
    sign_in_in_browser(page, app_url)
    page.get_by_text("Signed in as Priya Editor · editor").wait_for(timeout=30_000)


def _upload(page, path: Path) -> None:
    """Choose `path` in the uploader and wait until the page has read it."""
    page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(path))
    # The uploader shows the chosen file's name, shortened in the middle when long.
    page.locator('[data-testid="stFileUploader"]', has_text=path.name[:5]).wait_for(timeout=30_000)
    wait_until_idle(page)


def _see(page, text: str) -> None:
    """Wait for `text` on the page; when it never comes, fail with what the page says instead."""
    try:
        page.get_by_text(text).first.wait_for(timeout=30_000)
    except Exception:  # playwright's TimeoutError: say what the person saw
        shot(page, "unexpected")
        body = page.locator('[data-testid="stMain"]').inner_text()
        pytest.fail(f"{text!r} never showed; the page said:\n{body[:3000]}")


def test_a_product_manager_uploads_everyday_files(browser, app_url):
    """The Upload page walked as a PM would, at 1440x900, with files from other tools: a load
    test without p95 (refused as a load test), metrics under 'Week ending' for the next
    iteration (no Create tick), a risk register without categories (imported, flagged)."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    everyday = PROJECT_ROOT / "tests" / "data" / "everyday"
    try:
        _sign_in_as_editor(page, app_url)
        page.locator('[data-testid="stSidebarNav"] a[href$="/upload"]').click()
        wait_until_idle(page)
        _upload(page, everyday / "loadtest_without_p95.csv")
        page.locator('[data-testid="stSelectbox"]').filter(
            has_text="Initiative (for files without an initiative column)"
        ).locator("input").click()
        page.get_by_role("option", name="Churn early-warning").click()
        wait_until_idle(page)
        _see(page, "Load-test results: 2 rows read, not ready to import")
        body = page.locator('[data-testid="stMain"]').inner_text()
        assert "--" not in body.replace("— as the file says —", "").replace("— detect —", "")
        assert page.get_by_role("button", name="Import").is_disabled()
        shot(page, "upload-loadtest-without-p95")
        page.get_by_text("1 problem found").first.scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / "upload-loadtest-problem.png"))

        _upload(page, everyday / "dates_week_ending.csv")
        _see(page, "Metrics: 2 rows read, 4 values ready to import")
        shot(page, "upload-week-ending")
        wait_until_idle(page)
        page.get_by_role("button", name="Import").click()
        _see(page, "Imported 4 values (2 rows)")
        # The page starts over after an import; the next file is chosen once it has (a file
        # chosen during that rerun was cleared with the uploader: CI saw it once).
        _see(page, "Choose a file to upload")
        wait_until_idle(page)

        next_iteration = PROJECT_ROOT / "artifacts" / "next-iteration.csv"
        next_iteration.parent.mkdir(exist_ok=True)
        next_iteration.write_text("Sprint,As of,Churn AUC\n7,2026-11-20,0.86\n")
        _upload(page, next_iteration)
        # The initiative chosen for the first file is still chosen after the import.
        expect(
            page.locator('[data-testid="stSelectbox"]')
            .filter(has_text="Initiative (for files without an initiative column)")
            .locator("input")
        ).to_have_value("Churn early-warning", timeout=30_000)
        _see(page, "Iteration 7 of Churn early-warning will be created")
        assert page.get_by_text("Create the initiatives and iterations").count() == 0
        shot(page, "upload-next-iteration")

        _upload(page, everyday / "register_jira_no_category.csv")
        _see(page, "Stakeholder concerns: 2 rows read, 2 ready to import")
        wait_until_idle(page)
        page.get_by_role("button", name="Import").click()
        _see(page, "Imported 2 rows")
        shot(page, "upload-register-without-categories")
        page.goto(f"{app_url}/concerns?initiative={quote('Churn early-warning')}")
        wait_until_idle(page)
        _see(page, "2 are not categorised yet")
        wait_for_count(page, '[data-testid="stDataFrame"]', 1)
        wait_until_idle(page)
        assert page.locator('[data-testid="stException"]').count() == 0
        shot(page, "concerns-not-categorised")
    finally:
        context.close()


@pytest.fixture(scope="module")
def downloads_app(sqlite_templates, tmp_path_factory):
    """The app on its own copy of the demo, with its server log at hand."""
    folder = tmp_path_factory.mktemp("downloads")
    for url in serve_demo(sqlite_templates, folder):
        yield url, folder / "server.log"


def test_two_downloads_clicked_one_after_the_other_both_deliver(page, downloads_app):
    """The steering pack's two downloads, clicked back to back and then the first again, each
    give their whole file (the second used to give nothing at times, the server logging
    MediaFileStorageError as the first click's rerun dropped the file)."""
    import zipfile

    url, log = downloads_app
    page.goto(f"{url}/steering?initiative={quote('Claims triage assistant')}")
    wait_until_idle(page)
    html = page.get_by_role("button", name="Download the pack (HTML, opens offline, prints to PDF)")
    figures = page.get_by_role("button", name="Download the figures (ZIP of CSVs)")
    got = []
    for button in (html, figures, html, figures):
        with page.expect_download(timeout=30_000) as download:
            button.click()  # at once: no waiting for the page between the clicks
        got.append(download.value)
    names = [d.suggested_filename for d in got]
    assert (
        names
        == ["Claims triage assistant-iteration-8.html", "Claims triage assistant-iteration-8.zip"]
        * 2
    ), names
    pages = [Path(got[i].path()).read_text("utf-8") for i in (0, 2)]
    assert pages[0] == pages[1] and "Claims triage assistant" in pages[0]
    assert pages[0].rstrip().endswith("</html>")
    for i in (1, 3):
        with zipfile.ZipFile(got[i].path()) as archive:
            assert archive.testzip() is None
            assert any(n.endswith(".csv") for n in archive.namelist()), archive.namelist()
    assert page.locator('[data-testid="stException"]').count() == 0
    assert "MediaFileStorageError" not in log.read_text()


NO_SIDEWAYS = """() => ({
    cut: [...document.querySelectorAll('[data-testid="stMetricLabel"] .stMarkdownEllipsis')]
        .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.innerText),
    wide: [...document.querySelectorAll('[data-testid="stDataFrame"] .dvn-scroller')]
        .filter(s => s.scrollWidth > s.clientWidth + 1).length,
})"""


def test_an_executive_reads_each_screen_at_1440x900_without_sideways_scrolling(browser, app_url):
    """At 1440x900 no figure's name ends in "…" and no table hides columns behind a sideways
    scroll, but the headline metrics across iterations, whose metric name is pinned and whose
    newest iterations come first (the criteria's evidence note and batch, the register's
    evidence, the checklist's evidence were past the right edge). Walked as an executive does:
    one fresh load, then the sidebar."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.goto(f"{app_url}/?initiative={quote('Claims triage assistant')}")
    wait_until_idle(page)
    paths = [
        "",
        "iterations",
        "model_business",
        "scalability",
        "monitoring",
        "feedback",
        "concerns",
        "governance",
        "steering",
        "imports",
    ]
    for path in paths:
        if path:
            page.locator(f'[data-testid="stSidebarNav"] a[href$="/{path}"]').click()
            page.wait_for_url(f"**/{path}?*", timeout=30_000)
            wait_until_idle(page)
        views = [path]
        if path == "governance":
            views.append("rubric")
        for view in views:
            if view == "rubric":
                page.get_by_role("tab", name="Readiness rubric").click()
                wait_until_idle(page)
            page.wait_for_timeout(600)  # the grids size their columns once mounted
            m = page.evaluate(NO_SIDEWAYS)
            assert m["cut"] == [], (view, m)
            assert m["wide"] <= (1 if view == "iterations" else 0), (view, m)
            assert page.locator('[data-testid="stException"]').count() == 0, view
    context.close()
