"""Writes of notification settings: channels, silences, acknowledgements (each a transaction,
checked against the actor's role and recorded in the audit log)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import Engine, insert, select

from liftoff import db
from liftoff.access import audit
from liftoff.access.auth import Actor, require
from liftoff.db.models import (
    CHANNEL_KINDS,
    SEVERITIES,
    WEBHOOK_FORMATS,
    AlertRule,
    AlertState,
    Initiative,
    NotificationChannel,
    Silence,
)
from liftoff.errors import InvalidValue
from liftoff.notify import outbox

_EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")


class InvalidSetting(InvalidValue):
    """A channel, silence or acknowledgement that cannot be saved; the message says why (an
    InvalidValue: the CLI and the screens' save helper show it as any other refused value)."""


def _initiative_id(conn, name: str | None) -> int | None:
    if name is None:
        return None
    found = conn.execute(select(Initiative.id).where(Initiative.name == name)).scalar()
    if found is None:
        names = conn.execute(select(Initiative.name).order_by(Initiative.name)).scalars().all()
        raise InvalidSetting(
            f"No initiative is named {name!r}. Initiatives: {', '.join(names) or 'none yet'}."
        )
    return found


def check_target(kind: str, target: str) -> str:
    """The target cleaned, or InvalidSetting saying what a webhook URL or address looks like."""
    target = target.strip()
    if kind == "webhook":
        parts = urlsplit(target)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise InvalidSetting(f"A webhook needs an http:// or https:// address, not {target!r}.")
    elif not _EMAIL.match(target):
        raise InvalidSetting(
            f"{target!r} is not an email address; give one address, such as team@example.org."
        )
    return target


def add_channel(
    engine: Engine,
    actor: Actor,
    name: str,
    *,
    kind: str,
    target: str,
    initiative: str | None = None,
    min_severity: str = "low",
    format: str = "json",
    secret: str | None = None,
) -> int:
    """Add a channel; returns its id."""
    require(actor, "edit")
    name = name.strip()
    if not name:
        raise InvalidSetting("The channel needs a name.")
    if kind not in CHANNEL_KINDS:
        raise InvalidSetting(f"Kind {kind!r} is not one of: {', '.join(CHANNEL_KINDS)}.")
    if min_severity not in SEVERITIES:
        raise InvalidSetting(
            f"Minimum severity {min_severity!r} is not one of: {', '.join(SEVERITIES)}."
        )
    if format not in WEBHOOK_FORMATS:
        raise InvalidSetting(f"Format {format!r} is not one of: {', '.join(WEBHOOK_FORMATS)}.")
    target = check_target(kind, target)
    with db.write(engine) as conn:
        if conn.execute(
            select(NotificationChannel.id).where(NotificationChannel.name == name)
        ).scalar():
            raise InvalidSetting(f"A channel named {name!r} exists already; choose another name.")
        channel_id = conn.execute(
            insert(NotificationChannel)
            .values(
                name=name,
                kind=kind,
                target=target,
                format=format if kind == "webhook" else "json",
                initiative_id=_initiative_id(conn, initiative),
                min_severity=min_severity,
                secret=secret or None,
                created_by=actor.label,
                created_at=datetime.now(),
            )
            .returning(NotificationChannel.id)
        ).scalar_one()
        after = audit.row(conn, NotificationChannel, channel_id)
        after["secret"] = "(set)" if secret else None  # the audit log never holds a secret
        audit.record(
            conn,
            actor,
            "channel.add",
            f"Added the {kind} channel {name} ({target})",
            target="notification_channel",
            target_id=channel_id,
            after=after,
        )
        return channel_id


def remove_channel(engine: Engine, actor: Actor, name: str) -> None:
    """Remove a channel and the messages still waiting for it."""
    require(actor, "edit")
    with db.write(engine) as conn:
        row = conn.execute(
            select(NotificationChannel.id).where(NotificationChannel.name == name)
        ).scalar()
        if row is None:
            raise InvalidSetting(f"No channel is named {name!r}. See `liftoff channels list`.")
        before = audit.row(conn, NotificationChannel, row)
        before["secret"] = "(set)" if before["secret"] else None
        audit.remove(
            conn,
            actor,
            NotificationChannel,
            row,
            before=before,
            action="channel.remove",
            summary=f"Removed the channel {name}",
            target="notification_channel",
        )


def queue_test(engine: Engine, actor: Actor, name: str) -> int:
    """Queue a test message to a channel; returns the message id (the worker sends it)."""
    require(actor, "edit")
    with db.write(engine) as conn:
        ch = (
            conn.execute(
                select(NotificationChannel.__table__).where(NotificationChannel.name == name)
            )
            .mappings()
            .one_or_none()
        )
        if ch is None:
            raise InvalidSetting(f"No channel is named {name!r}. See `liftoff channels list`.")
        text = f"A test message from Liftoff to the channel {name}: it works."
        return outbox.enqueue(
            conn,
            kind="test",
            subject="Liftoff · test message",
            payload={
                "initiative": None,
                "iteration": None,
                "state": "test",
                "alerts": [],
                "text": text,
                "link": outbox.link("monitoring", "", None).split("?")[0],
            },
            channel_id=ch["id"],
        )


def add_silence(
    engine: Engine,
    actor: Actor,
    *,
    until: datetime,
    reason: str,
    initiative: str | None = None,
    rule_id: int | None = None,
) -> int:
    """Silence a rule, an initiative, or a rule of an initiative until a time; returns its id.
    Silenced alerts are still shown, marked, and not sent."""
    require(actor, "edit")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidSetting("Say why the alerts are silenced: the reason shows next to them.")
    if initiative is None and rule_id is None:
        raise InvalidSetting("Choose the rule or the initiative to silence.")
    now = datetime.now()
    if until <= now:
        raise InvalidSetting("A silence needs an end in the future.")
    with db.write(engine) as conn:
        ini_id = _initiative_id(conn, initiative)
        if (
            rule_id is not None
            and conn.execute(select(AlertRule.id).where(AlertRule.id == rule_id)).scalar() is None
        ):
            raise InvalidSetting(f"There is no alert rule #{rule_id}.")
        return audit.add(
            conn,
            actor,
            Silence,
            dict(
                rule_id=rule_id,
                initiative_id=ini_id,
                until=until,
                reason=reason,
                created_by=actor.label,
                created_at=now,
            ),
            action="silence.add",
            summary="Silenced "
            + (f"rule #{rule_id}" if rule_id else "every rule")
            + (f" of {initiative}" if initiative else "")
            + f" until {until:%d %b %Y %H:%M}: {reason}",
            target="silence",
        )


def remove_silence(engine: Engine, actor: Actor, silence_id: int) -> None:
    """End a silence now; alerts still firing are sent on the next evaluation."""
    require(actor, "edit")
    with db.write(engine) as conn:
        before = audit.row(conn, Silence, silence_id)
        if before is None:
            return
        audit.remove(
            conn,
            actor,
            Silence,
            silence_id,
            before=before,
            action="silence.remove",
            summary=f"Ended silence #{silence_id}",
            target="silence",
        )
        outbox.evaluate(conn, [before["initiative_id"]] if before["initiative_id"] else None)


def acknowledge(engine: Engine, actor: Actor, initiative: str, rule_id: int) -> None:
    """Record who acknowledged a firing alert and when (it stops its repeats)."""
    require(actor, "edit")
    with db.write(engine) as conn:
        ini_id = _initiative_id(conn, initiative)
        state = conn.execute(
            select(AlertState.id, AlertState.firing).where(
                AlertState.rule_id == rule_id, AlertState.initiative_id == ini_id
            )
        ).one_or_none()
        if state is None or not state.firing:
            raise InvalidSetting(
                f"Rule #{rule_id} is not firing for {initiative}; only firing alerts are acknowledged."
            )
        before = audit.row(conn, AlertState, state.id)
        audit.change(
            conn,
            actor,
            AlertState,
            state.id,
            {"acknowledged_by": actor.label, "acknowledged_at": datetime.now()},
            before=before,
            action="alert.acknowledge",
            summary=f"Acknowledged rule #{rule_id} firing for {initiative}",
            target="alert_state",
        )


def set_repeat(engine: Engine, actor: Actor, rule_id: int, minutes: int | None) -> None:
    """Set how often a still-firing critical rule is sent again (None: once per firing)."""
    require(actor, "edit")
    if minutes is not None and minutes <= 0:
        raise InvalidSetting("The repeat interval is a positive number of minutes.")
    with db.write(engine) as conn:
        before = audit.row(conn, AlertRule, rule_id)
        if before is None:
            raise InvalidSetting(f"There is no alert rule #{rule_id}.")
        audit.change(
            conn,
            actor,
            AlertRule,
            rule_id,
            {"repeat_minutes": minutes},
            before=before,
            action="alert_rule.update",
            summary=f"Rule #{rule_id} repeats "
            + (f"every {minutes} minutes while critical and firing" if minutes else "never"),
            target="alert_rule",
        )


def queue_repeats(engine: Engine, now: datetime | None = None) -> int:
    """Queue the repeats of still-firing critical rules whose interval has passed (the worker
    calls it each round); returns the number of messages queued. Writes nothing (and so
    leaves the screens' caches alone) while none is due."""
    now = now or datetime.now()
    with engine.connect() as conn:
        rows = conn.execute(
            select(AlertState.initiative_id, AlertState.last_sent_at, AlertRule.repeat_minutes)
            .join(AlertRule, AlertRule.id == AlertState.rule_id)
            .where(
                AlertState.firing.is_(True),
                AlertState.notified.is_(True),
                AlertState.acknowledged_at.is_(None),
                AlertRule.severity == "critical",
                AlertRule.repeat_minutes.is_not(None),
            )
        ).all()
    due = {
        r.initiative_id
        for r in rows
        if r.last_sent_at is not None
        and now - r.last_sent_at >= timedelta(minutes=r.repeat_minutes)
    }
    if not due:
        return 0
    with db.write(engine) as conn:
        return outbox.evaluate(conn, due, now=now)
