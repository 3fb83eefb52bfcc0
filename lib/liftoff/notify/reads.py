"""Reads of notification state: channels with their delivery health, silences, alert marks."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, func, select

from liftoff.db.models import (
    AlertState,
    Initiative,
    NotificationChannel,
    OutboxMessage,
    Silence,
)
from liftoff.notify import rules


def channels(engine: Engine) -> list[dict]:
    """Every channel with its last success and last error, messages waiting and given up."""
    o = OutboxMessage
    waiting = (
        select(o.channel_id, func.count().label("n"))
        .where(o.sent_at.is_(None), o.attempts < rules.MAX_ATTEMPTS)
        .group_by(o.channel_id)
        .subquery()
    )
    failed = (
        select(o.channel_id, func.count().label("n"))
        .where(o.sent_at.is_(None), o.attempts >= rules.MAX_ATTEMPTS)
        .group_by(o.channel_id)
        .subquery()
    )
    c = NotificationChannel
    stmt = (
        select(
            c.__table__,
            Initiative.name.label("initiative"),
            func.coalesce(waiting.c.n, 0).label("waiting"),
            func.coalesce(failed.c.n, 0).label("given_up"),
        )
        .outerjoin(Initiative, Initiative.id == c.initiative_id)
        .outerjoin(waiting, waiting.c.channel_id == c.id)
        .outerjoin(failed, failed.c.channel_id == c.id)
        .order_by(c.name)
    )
    with engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(stmt).mappings()]
    for r in rows:
        r["has_secret"] = bool(r.pop("secret"))
    return rows


def silences(engine: Engine, now: datetime | None = None) -> list[dict]:
    """Silences still in force, soonest to end first, with the initiative's name."""
    now = now or datetime.now()
    stmt = (
        select(Silence.__table__, Initiative.name.label("initiative"))
        .outerjoin(Initiative, Initiative.id == Silence.initiative_id)
        .where(Silence.until > now)
        .order_by(Silence.until)
    )
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(stmt).mappings()]


def alert_states(engine: Engine, initiative_id: int) -> dict[int, dict]:
    """Per rule id: what Liftoff last recorded for this initiative (acknowledgement included)."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(AlertState.__table__).where(AlertState.initiative_id == initiative_id)
        ).mappings()
        return {r["rule_id"]: dict(r) for r in rows}


def recent_messages(engine: Engine, limit: int = 20) -> list[dict]:
    """The newest outbox messages with their channel, for the notifications screen."""
    o = OutboxMessage
    stmt = (
        select(
            o.id,
            o.kind,
            o.subject,
            o.created_at,
            o.sent_at,
            o.attempts,
            o.last_error,
            o.address,
            NotificationChannel.name.label("channel"),
        )
        .outerjoin(NotificationChannel, NotificationChannel.id == o.channel_id)
        .order_by(o.id.desc())
        .limit(limit)
    )
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(stmt).mappings()]
