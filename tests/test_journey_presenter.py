"""The presenter's journey in Chromium: a steering meeting run from the projector, 1280x720 and
1920x1080, by mouse and by clicker keys, with the decision recorded and the pack frozen, all
without leaving presentation mode."""

from __future__ import annotations

from urllib.parse import parse_qs, quote, urlsplit

import pytest
from sqlalchemy import select

from conftest import ARTIFACTS, serve_demo, sign_in_in_browser, wait_until_idle
from liftoff import db
from liftoff.db.models import ActionItem, DecisionRecord, Snapshot
from liftoff.meeting import pack as steering_pack

CLAIMS = "Claims triage assistant"
SIZES = [(1280, 720), (1920, 1080)]
TITLES = [title for _, title in steering_pack.SLIDES]


@pytest.fixture(scope="module")
def meeting(sqlite_templates, tmp_path_factory):
    """The app on its own copy of the demo (the meeting writes a decision and a snapshot)."""
    folder = tmp_path_factory.mktemp("meeting")
    for url in serve_demo(sqlite_templates, folder):
        yield url, f"sqlite:///{folder / 'liftoff.db'}"


@pytest.fixture(params=SIZES, ids=["1280x720", "1920x1080"])
def screen(request, browser):
    width, height = request.param
    context = browser.new_context(viewport={"width": width, "height": height})
    yield context.new_page()
    context.close()


def query(page) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(page.url).query).items()}


def on_slide(page, k: int) -> None:
    """Wait until slide `k` is on the screen in presentation mode, fully drawn, then check what
    the room sees: the mode and slide number in the URL, the slide's title, and a slide that
    fits the screen with nothing to scroll, its type large and its chart's axes inside it."""
    page.wait_for_function(
        "k => new URLSearchParams(location.search).get('slide') === String(k)", arg=k
    )
    page.locator(".st-key-slide_where").get_by_text(f"Slide {k} of 8").wait_for(timeout=30_000)
    wait_until_idle(page)
    # The slide's style arrives with the script's last messages; measure once it applies.
    page.wait_for_function(
        "() => parseFloat(getComputedStyle(document.documentElement).fontSize) >= 20",
        timeout=30_000,
    )
    if steering_pack.SLIDES[k - 1][0] in ("model_vs_kpi", "scalability", "feedback", "governance"):
        # The x axis of the chart's lowest panel (a chart in two panels shows it once, as x2).
        page.wait_for_selector(
            ".js-plotly-plot .main-svg :is(.xtick, .x2tick, .x3tick)",
            state="attached",
            timeout=30_000,
        )
    assert query(page)["present"] == "1"
    assert query(page)["slide"] == str(k)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.get_by_role("heading", level=2).first.inner_text() == TITLES[k - 1]
    # Presentation mode: no sidebar, no page title.
    assert page.locator('[data-testid="stSidebar"]').is_hidden()
    assert page.get_by_role("heading", name="Steering pack").count() == 0
    m = settled(page)
    # Nothing to scroll: not the document, nor Streamlit's own scrolling main area (where the
    # page would scroll if it overflowed: the document itself is always one screen high).
    assert m["doc"] <= m["view"], m
    assert m["main"] <= m["main_view"], m
    assert m["top"] == 0, m  # the slide opens at its top
    assert m["nav_bottom"] <= m["view"], m  # the navigation is on the screen
    assert m["body"] >= 20 and all(c >= 20 for c in m["cells"]), m
    assert m["sentence"] > m["body"], m
    if m["axes"]:
        assert m["axes"]["ticks"] > 0 and m["axes"]["outside"] == [], m  # no cut axis labels
        assert m["axes"]["below_nav"], f"{k}: {m}"


MEASURE = """() => {
        // Streamlit may be swapping the slide's elements (a rerun after a reload): null until
        // every one is there, and the caller measures again.
        const required = ['[data-testid="stMain"]', '.st-key-slide_next',
            '.st-key-slide_sentence [data-testid="stText"]',
            '.st-key-slide_where [data-testid="stText"]'];
        if (required.some(sel => !document.querySelector(sel))) return null;
        const main = document.querySelector('[data-testid="stMain"]');
        const px = sel => parseFloat(getComputedStyle(document.querySelector(sel)).fontSize);
        const next = document.querySelector('.st-key-slide_next').getBoundingClientRect();
        const plot = document.querySelector('.st-key-slide_body .js-plotly-plot');
        let axes = null;
        if (plot) {
            const box = plot.getBoundingClientRect();
            const ticks = [...plot.querySelectorAll(
                    '.xtick text, .x2tick text, .ytick text, .y2tick text')]
                .map(t => t.getBoundingClientRect())
                .filter(t => t.width > 0 && t.height > 0);  // plotly keeps hidden spares
            axes = {box: [box.top, box.bottom, box.left, box.right], ticks: ticks.length,
                outside: ticks.filter(t => t.top < box.top - 1 || t.bottom > box.bottom + 1
                    || t.left < box.left - 1 || t.right > box.right + 1)
                    .map(t => [t.top, t.bottom, t.left, t.right]),
                below_nav: box.bottom <= next.top};
        }
        return {
            doc: document.scrollingElement.scrollHeight, view: window.innerHeight,
            main: main.scrollHeight, main_view: main.clientHeight, top: main.scrollTop,
            nav_bottom: next.bottom,
            sentence: px('.st-key-slide_sentence [data-testid="stText"]'),
            body: px('.st-key-slide_where [data-testid="stText"]'),
            cells: [...document.querySelectorAll('.st-key-slide_table [data-testid="stText"]')]
                .map(c => parseFloat(getComputedStyle(c).fontSize)),
            axes,
        };
    }"""


def settled(page) -> dict:
    """The slide's measures once its chart has stopped redrawing (plotly draws its ticks again
    as the chart takes the height the slide leaves it)."""
    previous = None
    for _ in range(60):
        m = page.evaluate(MEASURE)
        if m is not None and m == previous:
            return m
        previous = m
        page.wait_for_timeout(300)
    assert m is not None, "the slide's title, sentence or navigation never appeared"
    return m


def button(page, key: str):
    """A slide-navigation button by its widget key (its label carries the shortcut's name)."""
    return page.locator(f".st-key-{key} button:visible")


def press_and_wait(page, key: str, k: int) -> None:
    page.locator("body").press(key)
    on_slide(page, k)


def test_walk_the_slides_with_the_buttons(meeting, screen):
    url, _ = meeting
    page = screen
    page.goto(f"{url}/steering?initiative={quote(CLAIMS)}")
    wait_until_idle(page)
    page.get_by_role("button", name="Present: large type").click()
    on_slide(page, 1)
    size = f"{page.viewport_size['width']}x{page.viewport_size['height']}"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    if size == "1280x720":
        page.screenshot(path=str(ARTIFACTS / "present-slide-1.png"))
    for k in range(2, 9):
        button(page, "slide_next").click()
        on_slide(page, k)
        if size == "1280x720" and k == 4:
            page.screenshot(path=str(ARTIFACTS / "present-slide-4.png"))
    assert button(page, "slide_next").is_disabled()
    button(page, "slide_previous").click()
    on_slide(page, 7)
    button(page, "slide_jump_3").click()  # jump to a slide
    on_slide(page, 3)
    # A reload keeps the mode and the slide: both live in the URL.
    page.reload()
    on_slide(page, 3)
    page.get_by_role("button", name="Leave presentation mode").click()
    page.get_by_role("heading", name="Steering pack").wait_for(timeout=30_000)
    assert "present" not in query(page) and query(page)["slide"] == "3"


def test_walk_the_slides_with_the_clicker_keys(meeting, screen):
    url, _ = meeting
    page = screen
    page.goto(f"{url}/steering?initiative={quote(CLAIMS)}&present=1&slide=1")
    on_slide(page, 1)
    # A clicker sends PageDown / PageUp; the arrow keys do the same on a keyboard.
    for k, key in enumerate(["PageDown", "ArrowRight", "ArrowDown"] * 2 + ["PageDown"], start=2):
        press_and_wait(page, key, k)
    press_and_wait(page, "PageDown", 8)  # the last slide stays the last
    for k, key in zip(range(7, 3, -1), ["PageUp", "ArrowLeft", "ArrowUp", "PageUp"], strict=True):
        press_and_wait(page, key, k)


def test_record_the_decision_and_freeze_without_leaving_the_mode(meeting, browser):
    url, db_url = meeting
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    sign_in_in_browser(page, url)
    # A page switch in the app keeps the sign-in of this browser tab.
    page.locator('[data-testid="stSidebarNav"] a[href$="/steering"]').click()
    page.get_by_role("heading", name="Steering pack").wait_for(timeout=30_000)
    wait_until_idle(page)
    page.get_by_role("button", name="Present: large type").click()
    on_slide(page, 1)
    for k in range(2, 9):
        button(page, "slide_next").click()
        on_slide(page, k)

    page.get_by_role("button", name="Record the decision").click()
    dialog = page.get_by_role("dialog")
    dialog.wait_for(timeout=30_000)
    dialog.get_by_text("Go", exact=True).click()
    dialog.get_by_label("Rationale").fill("Peak plan agreed; rollback drill first.")
    dialog.get_by_label("Attendees (one per line)").fill("Anna Keller\nJonas Weber")
    dialog.get_by_label("Action items", exact=False).fill(
        "Scale out before December; Jonas Weber; 2026-12-01"
    )
    dialog.get_by_role("button", name="Save the decision").click()
    dialog.wait_for(state="detached", timeout=30_000)
    page.get_by_text("Decision recorded.").wait_for(timeout=30_000)
    on_slide(page, 8)
    # The slide now says what was recorded, with the action item.
    sentence = page.locator(".st-key-slide_sentence").inner_text()
    assert sentence.startswith("Decision: go, taken by Priya Editor on "), sentence
    assert "with Anna Keller, Jonas Weber. Rationale: Peak plan agreed" in sentence
    cells = page.locator(".st-key-slide_table").inner_text()
    assert "Scale out before December" in cells and "Jonas Weber" in cells, cells
    page.get_by_text("Decision recorded.").wait_for(state="hidden", timeout=30_000)
    page.screenshot(path=str(ARTIFACTS / "present-slide-8.png"))

    page.get_by_role("button", name="Freeze").click()
    page.get_by_label("Note for the snapshot").fill("Steering committee, 1 Dec")
    page.get_by_role("button", name="Freeze this pack").click()
    page.get_by_text("Frozen as snapshot #").first.wait_for(timeout=30_000)
    on_slide(page, 8)
    # The note is cleared once frozen: a second click would be a second snapshot on purpose.
    note = page.get_by_label("Note for the snapshot")
    assert note.count() == 0 or note.input_value() == ""
    context.close()

    engine = db.make_engine(db_url)
    try:
        with engine.connect() as conn:
            record = conn.execute(select(DecisionRecord)).one()
            actions = conn.execute(select(ActionItem.title, ActionItem.owner)).all()
            notes = conn.execute(select(Snapshot.note)).scalars().all()
    finally:
        engine.dispose()
    assert record.decision == "go" and record.attendees.splitlines() == [
        "Anna Keller",
        "Jonas Weber",
    ]
    assert [tuple(a) for a in actions] == [("Scale out before December", "Jonas Weber")]
    assert notes == ["Steering committee, 1 Dec"]
