"""Notifications end to end on loopback: a real HTTP receiver and a real SMTP server (aiosmtpd)
started here, real imports through the pipeline, the real worker, on both backends."""

from __future__ import annotations

import email
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import date, datetime, timedelta
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from conftest import EDITOR, PROJECT_ROOT
from liftoff import ingest
from liftoff.db.models import NotificationChannel, OutboxMessage
from liftoff.evidence import writes as evidence_writes
from liftoff.ingest.columns import metric_key
from liftoff.notify import digest, rules, worker, writes

INITIATIVE = 'Pilot </td><script>alert(1)</script> "},{"x":1'
METRIC_NAME = 'Error <b>rate</b> & "quotes"'  # as a PM typed it in the file's header
METRIC = metric_key(METRIC_NAME)
SECRET = "s3cret-for-tests"
BASE_URL = "https://liftoff.example.org"


class Receiver:
    """A webhook receiver on 127.0.0.1: records every POST; fails the first `fail` with HTTP
    500; with `hang`, holds the first request open until `release` is set."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.fail = 0
        self.hang = False
        self.got_first = threading.Event()
        self.release = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (the standard library's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.requests.append({"headers": dict(self.headers), "body": body})
                outer.got_first.set()
                if outer.hang and len(outer.requests) == 1:
                    outer.release.wait(20)
                    return  # the sender was killed meanwhile: no answer
                status = 500 if len(outer.requests) <= outer.fail else 200
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def delivered(self) -> list[dict]:
        """Requests answered with success (all but the failed and the held ones)."""
        skip = 1 if self.hang else self.fail
        return self.requests[skip:]

    def bodies(self) -> list[dict]:
        return [json.loads(r["body"]) for r in self.delivered]

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


class Mailbox:
    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def __init__(self) -> None:
        self.messages: list = []


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def mailbox(monkeypatch):
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=_free_port())
    controller.start()
    monkeypatch.setenv("LIFTOFF_SMTP_URL", f"smtp://127.0.0.1:{controller.port}")
    monkeypatch.setenv("LIFTOFF_SMTP_FROM", "liftoff@example.org")
    yield box
    controller.stop()


@pytest.fixture
def setup(engine, receiver, mailbox, monkeypatch):
    """An initiative in pilot with one critical rule on its error rate (alert above 5%), a
    signed webhook channel and an email channel."""
    monkeypatch.setenv("LIFTOFF_BASE_URL", BASE_URL + "/")
    _import(engine, 1, 0.01)
    evidence_writes.set_initiative(engine, EDITOR, INITIATIVE, stage="pilot")
    rule_id = evidence_writes.add_alert_rule(
        engine,
        EDITOR,
        INITIATIVE,
        metric=METRIC,
        comparator=">",
        threshold=0.05,
        severity="critical",
        stages=["pilot", "production"],
    )
    writes.add_channel(
        engine, EDITOR, "ops hook", kind="webhook", target=receiver.url, secret=SECRET
    )
    writes.add_channel(engine, EDITOR, "owner", kind="email", target="owner@example.org")
    return rule_id


_files = iter(range(10**6))


def _import(engine, iteration: int, value: float, force: bool = False) -> None:
    data = (
        'initiative,iteration,"metric",value\n'
        f'"{INITIATIVE.replace(chr(34), chr(34) * 2)}",{iteration},'
        f'"{METRIC_NAME.replace(chr(34), chr(34) * 2)}",{value * 100}%\n'
    ).encode()
    ingest.import_file(
        engine,
        EDITOR,
        data,
        f"metrics-{next(_files)}.csv",
        ingest.Options(create=True, force=force),
    )


def _deliver(engine):
    return worker.deliver_due(engine, timeout_s=5, backoff_s=0.05)


def test_a_breach_gives_one_webhook_and_one_email_with_the_right_fields(
    engine, setup, receiver, mailbox
):
    _import(engine, 2, 0.12)
    outcome = _deliver(engine)
    assert (outcome.sent, outcome.failed) == (2, 0)

    [body] = receiver.bodies()
    assert body["initiative"] == INITIATIVE
    assert body["iteration"] == 2
    assert body["state"] == "firing"
    [alert] = body["alerts"]
    assert alert["rule"] == f"{METRIC} > 0.05"
    assert alert["rule_id"] == setup
    assert alert["metric"] == METRIC
    assert alert["metric_name"] == METRIC_NAME
    assert alert["value"] == pytest.approx(0.12)
    assert alert["threshold"] == 0.05
    assert alert["comparator"] == ">"
    assert alert["severity"] == "critical"
    assert alert["since_iteration"] == 2
    assert datetime.fromisoformat(alert["since"]) <= datetime.now()
    assert body["link"] == (
        f"{BASE_URL}/monitoring?initiative=Pilot+%3C%2Ftd%3E%3Cscript%3Ealert%281%29%3C%2F"
        "script%3E+%22%7D%2C%7B%22x%22%3A1&iteration=2"
    )

    [mail] = mailbox.messages
    assert mail["To"] == "owner@example.org"
    assert mail["From"] == "liftoff@example.org"
    assert mail["Subject"] == f"Liftoff · {INITIATIVE}: 1 alert firing"
    text = mail.get_body(("plain",)).get_content()
    assert "Critical: " + METRIC_NAME + " started firing — 12.0%, alert when > 5.0%" in text
    assert body["link"] in text


def test_the_same_state_again_sends_nothing(engine, setup, receiver, mailbox):
    _import(engine, 2, 0.12)
    _deliver(engine)
    _import(engine, 2, 0.12, force=True)  # the same breach, imported again
    _import(engine, 2, 0.15)  # worse, but still the same state: firing
    assert _deliver(engine).sent == 0
    assert len(receiver.requests) == 1 and len(mailbox.messages) == 1


def test_a_fix_gives_one_resolved(engine, setup, receiver, mailbox):
    _import(engine, 2, 0.12)
    _deliver(engine)
    _import(engine, 3, 0.02)
    _import(engine, 4, 0.01)  # still fine: nothing more
    assert _deliver(engine).sent == 2
    first, resolved = receiver.bodies()
    assert (first["state"], resolved["state"]) == ("firing", "resolved")
    assert resolved["iteration"] == 3
    assert [a["state"] for a in resolved["alerts"]] == ["resolved"]
    assert mailbox.messages[-1]["Subject"] == f"Liftoff · {INITIATIVE}: 1 resolved"


def test_a_silenced_rule_sends_nothing(engine, setup, receiver, mailbox):
    writes.add_silence(
        engine,
        EDITOR,
        rule_id=setup,
        until=datetime.now() + timedelta(days=2),
        reason="Known: the new tokenizer",
    )
    _import(engine, 2, 0.12)
    _import(engine, 3, 0.02)  # and its resolve is not sent either
    assert _deliver(engine).sent == 0
    assert receiver.requests == [] and mailbox.messages == []
    with engine.connect() as conn:
        assert conn.execute(select(OutboxMessage.id)).all() == []


def test_a_receiver_failing_three_times_then_succeeding_gets_it_once(engine, setup, receiver):
    receiver.fail = 3
    _import(engine, 2, 0.12)
    for _ in range(40):  # bounded: 3 retries at 0.05, 0.1, 0.2 s
        _deliver(engine)
        if len(receiver.requests) >= 4:
            break
        time.sleep(0.1)
    _deliver(engine)
    assert len(receiver.requests) == 4
    assert len(receiver.delivered) == 1
    assert receiver.bodies()[0]["state"] == "firing"
    with engine.connect() as conn:
        channel = conn.execute(
            select(NotificationChannel).where(NotificationChannel.name == "ops hook")
        ).one()
        message = conn.execute(
            select(OutboxMessage).where(OutboxMessage.channel_id == channel.id)
        ).one()
    assert message.attempts == 4 and message.sent_at is not None
    assert channel.last_success_at >= channel.last_error_at
    assert channel.last_error == "127.0.0.1:" + receiver.url.split(":")[2].split("/")[0] + (
        " answered HTTP 500 Internal Server Error."
    )


def test_a_kill_between_commit_and_send_delivers_after_restart(
    engine, db_url, setup, receiver, mailbox
):
    receiver.hang = True
    _import(engine, 2, 0.12)  # committed: the messages are in the outbox
    env = {**os.environ, "LIFTOFF_DATABASE_URL": db_url}
    command = [sys.executable, "-m", "liftoff.cli", "notify", "run", "--timeout", "1"]
    first = subprocess.Popen(
        command + ["--interval", "0.2"], env=env, cwd=PROJECT_ROOT, stderr=subprocess.DEVNULL
    )
    try:
        assert receiver.got_first.wait(30), "the worker never posted"
        first.send_signal(signal.SIGKILL)  # in the middle of the send
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    receiver.release.set()
    with engine.connect() as conn:
        pending = conn.execute(select(OutboxMessage.id).where(OutboxMessage.sent_at.is_(None)))
        assert len(pending.all()) >= 1  # the webhook message is still to send
    # The killed worker's claim lasts 3 x timeout + 5 s; a restarted worker takes it after.
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not receiver.delivered:
        subprocess.run(
            command + ["--once"],
            env=env,
            cwd=PROJECT_ROOT,
            check=True,
            capture_output=True,
            timeout=30,
        )
        time.sleep(0.5)
    [body] = receiver.bodies()
    assert body["state"] == "firing" and body["initiative"] == INITIATIVE
    assert len(mailbox.messages) == 1
    with engine.connect() as conn:
        assert conn.execute(select(OutboxMessage.sent_at)).scalars().all().count(None) == 0


def test_the_receiver_verifies_the_hmac_signature(engine, setup, receiver):
    _import(engine, 2, 0.12)
    _deliver(engine)
    [request] = receiver.requests
    headers = {k.lower(): v for k, v in request["headers"].items()}
    stamp = headers[rules.TIMESTAMP_HEADER.lower()]
    signature = headers[rules.SIGNATURE_HEADER.lower()]
    assert rules.verify(SECRET, stamp, request["body"], signature)
    assert not rules.verify("another secret", stamp, request["body"], signature)
    assert not rules.verify(SECRET, stamp, request["body"] + b" ", signature)
    assert abs(int(stamp) - time.time()) < 300


def test_user_text_is_escaped_in_the_html_email_and_cannot_break_the_json(
    engine, setup, receiver, mailbox
):
    _import(engine, 2, 0.12)
    _deliver(engine)
    body = receiver.requests[0]["body"].decode()
    parsed = json.loads(body)  # one document: the names did not close it
    assert parsed["initiative"] == INITIATIVE
    assert parsed["alerts"][0]["metric_name"] == METRIC_NAME
    assert set(parsed) == {"initiative", "iteration", "state", "alerts", "link"}

    html = mailbox.messages[0].get_body(("html",)).get_content()
    assert "<script>" not in html and "<b>rate</b>" not in html
    assert "&lt;/td&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Error &lt;b&gt;rate&lt;/b&gt; &amp; &quot;quotes&quot;" in html


def test_the_digest_says_what_changed_with_user_text_escaped(engine, setup, mailbox):
    _import(engine, 2, 0.12)
    _import(engine, 3, 0.02)
    concern = (
        "initiative,title,severity,failure_category,raised_at\n"
        f'"{INITIATIVE.replace(chr(34), chr(34) * 2)}","<img src=x onerror=alert(1)> & co",'
        f"high,scalability,{date.today().isoformat()}\n"
    )
    ingest.import_file(engine, EDITOR, concern.encode(), "concerns.csv", ingest.Options())
    ids = digest.queue(
        engine, EDITOR, INITIATIVE, date.today() - timedelta(days=7), to="board@example.org"
    )
    assert worker.deliver_due(engine, only=ids).sent == 1
    [mail] = mailbox.messages
    assert mail["To"] == "board@example.org"
    text = mail.get_body(("plain",)).get_content()
    assert f"{METRIC_NAME} fired (critical): 12.0%, alert when > 5.0%" in text
    assert f"{METRIC_NAME} resolved (critical): 2.0%, alert when > 5.0%" in text
    assert "<img src=x onerror=alert(1)> & co (high" in text
    assert f"{BASE_URL}/steering?initiative=" in text
    html = mail.get_body(("html",)).get_content()
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt; &amp; co" in html


# ----------------------------------------------------------------------------- screens


def _open(page: str, role: str | None = None, **params):
    from conftest import open_screen

    return open_screen(page, role, **params)


def _shown(markdown: str) -> str:
    """Markdown as a reader sees it: escapes and the joiners that keep URLs text removed."""
    return markdown.replace("\\", "").replace("\u2060", "")


def _two_firing(engine) -> tuple[int, int]:
    """Churn early-warning with two firing rules: the demo's retention rule and one more."""
    from liftoff.evidence import initiative as evidence

    ev = evidence.for_initiative(engine, CHURN)
    retention = ev.firing[0].rule_id
    auc = evidence_writes.add_alert_rule(
        engine,
        EDITOR,
        CHURN,
        metric="churn_auc",
        comparator=">",
        threshold=0.5,
        severity="medium",
        stages=["pilot"],
    )
    return retention, auc


CHURN = "Churn early-warning"


def test_monitoring_marks_a_silenced_and_an_acknowledged_alert(use_database, demo_url, demo_engine):
    use_database(demo_url)
    retention, auc = _two_firing(demo_engine)
    at = _open("screens/monitoring.py", "editor", initiative=CHURN)
    # An editor silences one rule through the form and acknowledges the other.
    next(s for s in at.selectbox if s.label == "Silence").select(retention)
    next(t for t in at.text_input if t.label == "Why").input("Finance review <b>pending</b>")
    next(b for b in at.button if b.label == "Silence").click().run()
    next(s for s in at.selectbox if s.label == "Firing alert").select(auc)
    next(b for b in at.button if b.label == "Acknowledge").click().run()
    assert not at.exception and not at.error

    table = at.dataframe[0].value
    marks = dict(zip(table["Metric"], table["Notifications"], strict=True))
    until = date.today() + timedelta(days=7)
    assert marks["90-day customer retention"] == f"Silenced until {until.day} {until:%b %Y} 23:59"
    assert marks["Churn model AUC"].startswith("Acknowledged by editor@example.com, ")
    silences = at.dataframe[1].value
    assert list(silences["Why"]) == ["Finance review <b>pending</b>"]  # as typed, not markup
    assert list(silences["By"]) == ["editor@example.com"]
    # Still shown to viewers, marked the same way.
    viewer = _open("screens/monitoring.py", initiative=CHURN)
    assert list(viewer.dataframe[0].value["Notifications"]) == list(table["Notifications"])


def test_the_notifications_screen_adds_tests_and_removes_a_channel(
    use_database, db_url, engine, receiver
):
    use_database(db_url)
    at = _open("screens/notifications.py", "editor")
    assert "No channels yet" in at.info[0].value
    next(t for t in at.text_input if t.label == "Name").input("ops")
    next(t for t in at.text_input if t.label.startswith("Webhook address")).input("ftp://x")
    next(b for b in at.button if b.label == "Add channel").click().run()
    assert _shown(at.error[0].value) == (
        "A webhook needs an http:// or https:// address, not 'ftp://x'."
    )
    next(t for t in at.text_input if t.label == "Name").input("ops")
    next(t for t in at.text_input if t.label.startswith("Webhook address")).input(receiver.url)
    next(b for b in at.button if b.label == "Add channel").click().run()
    assert list(at.dataframe[0].value["Channel"]) == ["ops"]
    next(b for b in at.button if b.label == "Send a test message").click().run()
    assert _shown(at.success[0].value) == "Test message sent to ops."
    assert json.loads(receiver.requests[0]["body"])["state"] == "test"
    assert at.dataframe[0].value["State"][0] == "Working"
    next(b for b in at.button if b.label == "Remove this channel").click().run()
    assert "No channels yet" in at.info[0].value


def test_channels_from_the_command_line(engine, db_url, receiver, monkeypatch, capsys):
    from liftoff import cli

    monkeypatch.setenv("LIFTOFF_DATABASE_URL", db_url)
    assert cli.main(["channels", "add", "ops", "--kind", "webhook", "--target", receiver.url]) == 0
    assert cli.main(["channels", "test", "ops"]) == 0
    assert cli.main(["channels", "add", "ops", "--kind", "email", "--target", "a@b.org"]) == 1
    capsys.readouterr()
    assert cli.main(["channels", "list"]) == 0
    listed = capsys.readouterr().out
    assert listed.startswith(f"ops: webhook to {receiver.url}, every initiative, low and above.")
    assert "Last sent " in listed and "never" not in listed
    assert cli.main(["channels", "remove", "ops"]) == 0
    assert cli.main(["channels", "test", "ops"]) == 1
    assert (
        capsys.readouterr()
        .err.strip()
        .endswith("liftoff: No channel is named 'ops'. See `liftoff channels list`.")
    )


# ----------------------------------------------------------------------------- the rules


def test_repeats_only_for_critical_rules_past_their_interval_and_not_once_acknowledged():
    now = datetime(2026, 12, 1, 12, 0)
    sent = rules.Seen(
        firing=True, notified=True, last_sent_at=now - timedelta(minutes=61), acknowledged=False
    )

    def change(seen, severity="critical", repeat=60, silenced=False):
        return rules.change(seen, True, silenced, severity=severity, repeat_minutes=repeat, now=now)

    assert change(sent) == "repeat"
    assert change(sent, repeat=None) is None
    assert change(sent, severity="high") is None
    assert change(sent, repeat=120) is None
    assert change(rules.Seen(True, True, sent.last_sent_at, acknowledged=True)) is None
    assert change(sent, silenced=True) is None
    # Silenced when it started, still firing when the silence ends: sent then.
    assert change(rules.Seen(True, False, None, False)) == "firing"


def test_an_editor_sets_a_repeat_interval_on_the_monitoring_screen(
    use_database, demo_url, demo_engine
):
    from liftoff.evidence import initiative as evidence

    use_database(demo_url)
    at = _open("screens/monitoring.py", "editor", initiative=CHURN)
    rule = evidence.for_initiative(demo_engine, CHURN).rules[0]
    next(s for s in at.selectbox if s.label == "Rule").select(rule["id"])
    at.run()
    next(n for n in at.number_input if n.label.startswith("Send again every")).set_value(90)
    next(b for b in at.button if b.label == "Save repeat interval").click().run()
    assert not at.exception and not at.error
    assert evidence.for_initiative(demo_engine, CHURN).rules[0]["repeat_minutes"] == 90


def test_slack_and_teams_bodies_keep_names_as_text():
    from liftoff.notify import messages

    payload = {
        "initiative": INITIATIVE,
        "iteration": 2,
        "state": "firing",
        "alerts": [
            {
                "metric_name": "<!channel> *bold*",
                "severity": "high",
                "state": "firing",
                "value": 0.12,
                "threshold": 0.05,
                "comparator": ">",
                "unit": "ratio",
                "iteration": 2,
            }
        ],
        "link": BASE_URL + "/monitoring?initiative=x",
    }
    slack = json.loads(messages.webhook_body("slack", "Liftoff · <x>", payload))
    # Slack would ping everyone on <!channel>: escaped, it is shown as typed.
    assert "<!channel>" not in slack["text"] and "&lt;!channel&gt; *bold*" in slack["text"]
    assert slack["text"].endswith(f"<{BASE_URL}/monitoring?initiative=x|Open in Liftoff>")
    teams = json.loads(messages.webhook_body("teams", "Liftoff · <x>", payload))
    assert teams["@type"] == "MessageCard"
    assert "\\*bold\\*" in teams["text"]
    assert teams["potentialAction"][0]["targets"][0]["uri"] == payload["link"]


def test_the_scheduled_digest_goes_once_per_slot(engine, mailbox, monkeypatch):
    _import(engine, 1, 0.01)
    writes.add_channel(engine, EDITOR, "board", kind="email", target="board@example.org")
    now = datetime.now()
    slot = now - timedelta(minutes=5)
    day = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[slot.weekday()]
    monkeypatch.setenv("LIFTOFF_DIGEST_SCHEDULE", f"{day} {slot:%H:%M}")
    assert digest.queue_scheduled(engine, now=now) == 1
    assert digest.queue_scheduled(engine, now=now) == 0  # another worker, the same slot
    assert worker.deliver_due(engine).sent == 1
    [mail] = mailbox.messages
    assert mail["Subject"].startswith(f"Liftoff digest · {INITIATIVE}, ")
    # A slot more than a day old is not sent late.
    assert digest.queue_scheduled(engine, now=now + timedelta(days=2)) == 0


def test_liftoff_run_sends_from_its_own_thread_with_nobody_on_the_app(engine, db_url, receiver):
    writes.add_channel(engine, EDITOR, "ops", kind="webhook", target=receiver.url)
    writes.queue_test(engine, EDITOR, "ops")
    env = {
        **os.environ,
        "LIFTOFF_DATABASE_URL": db_url,
        "STREAMLIT_SERVER_HEADLESS": "true",
        "STREAMLIT_SERVER_ADDRESS": "127.0.0.1",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "liftoff.cli", "run", "--port", str(_free_port())],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # the server and the streamlit process it starts, stopped together
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not receiver.requests:
            time.sleep(0.2)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(20)
    [body] = receiver.bodies()
    assert body["state"] == "test"
