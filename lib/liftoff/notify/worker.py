"""The worker: takes due messages from the outbox and sends them (webhook POST, SMTP),
retrying with backoff. It runs as a background thread of the app server (`liftoff run`) or as
`liftoff notify run`; several may run at once (each message is claimed by one for a while)."""

from __future__ import annotations

import json
import logging
import smtplib
import ssl
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import unquote, urlsplit

from sqlalchemy import Engine, and_, or_, select, update

from liftoff import config, db
from liftoff.db.models import NotificationChannel, OutboxMessage
from liftoff.notify import digest, messages, rules, writes

log = logging.getLogger("liftoff.notify")

#: Seconds a webhook or mail server may take before the attempt counts as failed.
DEFAULT_TIMEOUT_S = 10.0
#: Seconds before the first retry; each further failure doubles it (capped at an hour).
DEFAULT_BACKOFF_S = 30.0
#: Seconds between two looks at the outbox.
DEFAULT_INTERVAL_S = 5.0


class DeliveryFailed(Exception):
    """A message could not be sent this time; the message says why (kept as the last error)."""


@dataclass
class Outcome:
    sent: int = 0
    failed: int = 0


def _lease(timeout_s: float) -> timedelta:
    # Longer than one attempt can take: a message claimed by a worker that died is taken up
    # again once its lease is over.
    return timedelta(seconds=3 * timeout_s + 5)


def _claim(engine: Engine, now: datetime, timeout_s: float, only: list[int] | None, limit: int):
    o = OutboxMessage
    due = [
        o.sent_at.is_(None),
        o.attempts < rules.MAX_ATTEMPTS,
        o.next_attempt_at <= now,
        or_(o.claimed_until.is_(None), o.claimed_until < now),
    ]
    if only is not None:
        due.append(o.id.in_(only))
    with engine.connect() as conn:
        ids = conn.execute(select(o.id).where(and_(*due)).order_by(o.id).limit(limit)).scalars()
        ids = list(ids)
    claimed = []
    for message_id in ids:
        # Claimed by whoever changes the row first: the others see rowcount 0 and skip it.
        with engine.begin() as conn:
            done = conn.execute(
                update(o)
                .where(o.id == message_id, *due)
                .values(claimed_until=now + _lease(timeout_s))
            ).rowcount
            if done:
                row = conn.execute(select(o.__table__).where(o.id == message_id)).mappings().one()
                channel = None
                if row["channel_id"] is not None:
                    channel = (
                        conn.execute(
                            select(NotificationChannel.__table__).where(
                                NotificationChannel.id == row["channel_id"]
                            )
                        )
                        .mappings()
                        .one_or_none()
                    )
                claimed.append((dict(row), dict(channel) if channel else None))
    return claimed


def deliver_due(
    engine: Engine,
    *,
    now: datetime | None = None,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    backoff_s: float = DEFAULT_BACKOFF_S,
    only: list[int] | None = None,
    limit: int = 100,
) -> Outcome:
    """Send the messages that are due (or only those ids), each once; a failure is kept as the
    message's and channel's last error and retried later with backoff."""
    now = now or datetime.now()
    outcome = Outcome()
    for row, channel in _claim(engine, now, timeout_s, only, limit):
        try:
            _send(row, channel, timeout_s)
        except DeliveryFailed as exc:
            outcome.failed += 1
            _record_failure(engine, row, channel, str(exc), backoff_s)
        else:
            outcome.sent += 1
            _record_success(engine, row, channel)
    return outcome


def _record_success(engine: Engine, row: dict, channel: dict | None) -> None:
    at = datetime.now()
    with engine.begin() as conn:
        conn.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row["id"])
            .values(sent_at=at, attempts=row["attempts"] + 1, claimed_until=None)
        )
        if channel:
            conn.execute(
                update(NotificationChannel)
                .where(NotificationChannel.id == channel["id"])
                .values(last_success_at=at)
            )


def _record_failure(engine, row: dict, channel: dict | None, error: str, backoff_s: float) -> None:
    at = datetime.now()
    attempts = row["attempts"] + 1
    if attempts >= rules.MAX_ATTEMPTS:
        error += f" Gave up after {attempts} attempts."
    log.warning("Notification #%s not sent: %s", row["id"], error)
    with engine.begin() as conn:
        conn.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row["id"])
            .values(
                attempts=attempts,
                last_error=error,
                claimed_until=None,
                next_attempt_at=at + timedelta(seconds=rules.backoff(attempts, backoff_s)),
            )
        )
        if channel:
            conn.execute(
                update(NotificationChannel)
                .where(NotificationChannel.id == channel["id"])
                .values(last_error=error, last_error_at=at)
            )


def _send(row: dict, channel: dict | None, timeout_s: float) -> None:
    payload = json.loads(row["payload"])
    if channel is None and row["address"] is None:
        raise DeliveryFailed("Its channel was removed.")
    kind = channel["kind"] if channel else "email"
    if kind == "webhook":
        body = messages.webhook_body(channel["format"], row["subject"], payload)
        post_webhook(channel["target"], body, channel.get("secret"), row["id"], timeout_s)
        return
    to = channel["target"] if channel else row["address"]
    if row["kind"] == "digest":
        text, html_body = digest.render(payload)
    elif row["kind"] == "test":
        text = payload["text"]
        html_body = messages.page("Liftoff", payload["text"], "")
    else:
        text, html_body = messages.alert_email(row["subject"], payload)
    msg = messages.email_message(
        config.value("LIFTOFF_SMTP_FROM"), to, row["subject"], text, html_body, str(row["id"])
    )
    send_email(config.value("LIFTOFF_SMTP_URL"), msg, timeout_s)


def post_webhook(
    url: str, body: bytes, secret: str | None, message_id: int, timeout_s: float
) -> None:
    """POST `body` as JSON to `url`, signed when there is a secret; DeliveryFailed unless 2xx."""
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Liftoff notifications",
        "X-Liftoff-Message-Id": str(message_id),
    }
    if secret:
        stamp = str(int(time.time()))
        headers[rules.TIMESTAMP_HEADER] = stamp
        headers[rules.SIGNATURE_HEADER] = rules.signature(secret, stamp, body)
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    host = urlsplit(url).netloc
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            response.read(1024)
    except urllib.error.HTTPError as exc:
        raise DeliveryFailed(f"{host} answered HTTP {exc.code} {exc.reason}.") from None
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DeliveryFailed(f"Could not reach {host}: {reason}.") from None


def send_email(smtp_url: str, msg, timeout_s: float) -> None:
    """Send through LIFTOFF_SMTP_URL: smtp:// (STARTTLS whenever the server offers it) or
    smtps:// (TLS from the start), logging in when the URL has a user."""
    if not smtp_url:
        raise DeliveryFailed(
            "LIFTOFF_SMTP_URL is not set: set it to your mail server, e.g. smtp://user:password@host:587."
        )
    parts = urlsplit(smtp_url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise DeliveryFailed(
            "LIFTOFF_SMTP_URL is not an smtp:// or smtps:// address with a host name."
        )
    context = ssl.create_default_context()
    try:
        if parts.scheme == "smtps":
            server = smtplib.SMTP_SSL(
                parts.hostname, parts.port or 465, timeout=timeout_s, context=context
            )
        else:
            server = smtplib.SMTP(parts.hostname, parts.port or 25, timeout=timeout_s)
        with server:
            server.ehlo()
            if parts.scheme == "smtp" and server.has_extn("starttls"):
                server.starttls(context=context)
                server.ehlo()
            if parts.username:
                server.login(unquote(parts.username), unquote(parts.password or ""))
            server.send_message(msg)
    except smtplib.SMTPException as exc:
        raise DeliveryFailed(f"The mail server {parts.hostname} refused: {exc}.") from None
    except (OSError, TimeoutError) as exc:
        raise DeliveryFailed(f"Could not reach the mail server {parts.hostname}: {exc}.") from None


def tick(engine: Engine, *, timeout_s: float, backoff_s: float) -> Outcome:
    """One round: queue repeats and a due scheduled digest, then send what is due."""
    writes.queue_repeats(engine)
    digest.queue_scheduled(engine)
    return deliver_due(engine, timeout_s=timeout_s, backoff_s=backoff_s)


def run(
    engine: Engine,
    *,
    once: bool = False,
    interval_s: float = DEFAULT_INTERVAL_S,
    timeout_s: float = DEFAULT_TIMEOUT_S,
    backoff_s: float = DEFAULT_BACKOFF_S,
    stop: threading.Event | None = None,
) -> Outcome:
    """Send due messages every `interval_s` until `stop` is set (or once)."""
    stop = stop or threading.Event()
    total = Outcome()
    while True:
        try:
            outcome = tick(engine, timeout_s=timeout_s, backoff_s=backoff_s)
            total.sent += outcome.sent
            total.failed += outcome.failed
        except db.DatabaseError as exc:  # busy or gone for a moment: try again next round
            log.warning("Notifications: %s", exc)
        if once or stop.wait(interval_s):
            return total


_started: dict[str, threading.Thread] = {}
_start_lock = threading.Lock()


def start_in_background(url: str) -> None:
    """Start the worker thread for this database, once per process (`liftoff run` starts it
    beside the app server)."""
    with _start_lock:
        if url in _started and _started[url].is_alive():
            return

        def loop() -> None:
            engine = db.make_engine(url)
            while True:
                try:
                    run(engine)
                except Exception:  # keep sending after an unexpected error; it is logged
                    log.exception("The notification worker stopped; restarting in a minute")
                    time.sleep(60)

        thread = threading.Thread(target=loop, name="liftoff-notify", daemon=True)
        thread.start()
        _started[url] = thread
