"""Notifications in Chromium: a digest email as a mail reader renders it, and the Monitoring
screen with a silenced and an acknowledged alert (screenshots under artifacts/screenshots)."""

from __future__ import annotations

import shutil
from datetime import date, datetime, timedelta

import pytest

from conftest import ARTIFACTS, DEMO_TODAY, EDITOR, require_browser, serve_app, wait_until_idle
from liftoff import db
from liftoff.evidence import initiative as evidence
from liftoff.evidence import writes as evidence_writes
from liftoff.notify import digest, writes
from liftoff.people import writes as people_writes

CHURN = "Churn early-warning"
TITLE = '<img src=x onerror=alert(1)> Finance & "Legal"'


@pytest.fixture(scope="module")
def chromium(browser):
    """The run's one Chromium (conftest's `browser`: one Playwright per process)."""
    return browser


@pytest.fixture(scope="module")
def marked_app(sqlite_templates, tmp_path_factory):
    """The demo with a second firing rule on Churn early-warning: one silenced, one
    acknowledged."""
    require_browser()
    folder = tmp_path_factory.mktemp("notify-browser")
    shutil.copyfile(sqlite_templates["demo"], folder / "liftoff.db")
    engine = db.make_engine(f"sqlite:///{folder / 'liftoff.db'}")
    retention = evidence.for_initiative(engine, CHURN).firing[0].rule_id
    auc = evidence_writes.add_alert_rule(
        engine,
        EDITOR,
        CHURN,
        metric="churn_auc",
        comparator="<",
        threshold=0.9,
        severity="medium",
        stages=["pilot"],
    )
    writes.add_silence(
        engine,
        EDITOR,
        rule_id=retention,
        initiative=CHURN,
        until=datetime.combine(date.today() + timedelta(days=7), datetime.max.time()),
        reason="Retention is reviewed with Finance on Friday",
    )
    writes.acknowledge(engine, EDITOR, CHURN, auc)
    people_writes.add_concern(
        engine, EDITOR, CHURN, title=TITLE, failure_category="misalignment", severity="high"
    )
    html = digest.render(digest.build(engine, CHURN, DEMO_TODAY - timedelta(days=30)))[1]
    engine.dispose()
    for url in serve_app(folder):
        yield url, html


def test_a_digest_email_renders_in_chromium_with_user_text_as_text(chromium, marked_app):
    _, html = marked_app
    page = chromium.new_page(viewport={"width": 800, "height": 1200})
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.set_content(html)
    body = page.inner_text("body")
    assert "Liftoff digest · Churn early-warning" in body
    for heading in ("Decisions", "Criteria that changed", "Alerts", "Concerns opened"):
        assert heading in body
    assert TITLE in body  # shown as typed
    assert page.locator("img").count() == 0 and dialogs == []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "digest-email.png"), full_page=True)
    page.close()


def test_monitoring_shows_a_silenced_and_an_acknowledged_alert(chromium, marked_app):
    url, _ = marked_app
    page = chromium.new_page(viewport={"width": 1440, "height": 900})
    page.goto(f"{url}/monitoring?initiative=Churn+early-warning")
    wait_until_idle(page)
    page.wait_for_selector('[data-testid="stDataFrame"]', timeout=90_000)  # a busy CI machine
    page.wait_for_timeout(1500)
    text = page.inner_text("body")
    assert "Firing now" in text
    assert "Silenced alerts still show here" in text
    page.screenshot(path=str(ARTIFACTS / "monitoring-silenced-acknowledged.png"))
    page.close()
