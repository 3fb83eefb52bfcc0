"""The audit log: every write and sign-in event, who, when, what, before and after."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from liftoff import db
from liftoff.db.models import AuditEntry

#: What each recorded action means, for the audit screen's filter and the README.
ACTIONS: dict[str, str] = {
    "import": "imported a file",
    "rollback": "rolled back an import",
    "initiative.create": "created an initiative",
    "initiative.update": "changed an initiative's settings",
    "decision": "recorded a decision",
    "iteration.update": "named or dated an iteration",
    "metric.create": "defined a metric",
    "metric.update": "changed a metric's definition",
    "criterion.add": "added a criterion",
    "criterion.update": "changed a criterion",
    "criterion.remove": "removed a criterion",
    "alert_rule.add": "added an alert rule",
    "alert_rule.update": "changed an alert rule",
    "alert_rule.remove": "removed an alert rule",
    "concern.add": "added a concern",
    "concern.update": "changed a concern",
    "feedback.update": "changed a feedback item's status",
    "stakeholder.add": "added a stakeholder",
    "stakeholder.update": "changed a stakeholder",
    "stance": "recorded a stakeholder's stance",
    "governance.update": "changed a governance item",
    "rubric.update": "scored a readiness item",
    "action_item.add": "added an action item",
    "action_item.update": "changed an action item",
    "snapshot": "froze a steering pack",
    "demo": "loaded the demo portfolio",
    "user.add": "added a user",
    "user.update": "changed a user",
    "user.remove": "removed a user",
    "token.create": "created an API token",
    "token.revoke": "revoked an API token",
    "sign_in": "signed in",
    "sign_in.failed": "failed to sign in",
    "sign_in.locked": "was locked out",
    "channel.add": "added a notification channel",
    "channel.remove": "removed a notification channel",
    "silence.add": "silenced alerts",
    "silence.remove": "ended a silence",
    "alert.acknowledge": "acknowledged an alert",
}


def _json_default(value):
    if isinstance(value, datetime | date):
        return (
            value.isoformat(sep=" ", timespec="seconds")
            if isinstance(value, datetime)
            else value.isoformat()
        )
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return str(value)


def as_json(values: dict | None) -> str | None:
    """`values` as JSON for the before / after columns (None stays None)."""
    if values is None:
        return None
    return json.dumps(values, default=_json_default, sort_keys=True, ensure_ascii=False)


def row(conn: Connection, model, row_id) -> dict | None:
    """A row of `model` as a plain dict (for before / after), or None when it is gone."""
    found = conn.execute(select(model.__table__).where(model.id == row_id)).mappings().first()
    return dict(found) if found is not None else None


def record(
    conn: Connection,
    actor,
    action: str,
    summary: str,
    *,
    target: str | None = None,
    target_id=None,
    before: dict | None = None,
    after: dict | None = None,
) -> None:
    """Record one event inside the caller's transaction, so it stands or falls with the write."""
    conn.execute(
        insert(AuditEntry).values(
            at=datetime.now(),
            actor=actor.label,
            role=actor.role,
            via=actor.via,
            action=action,
            target=target,
            # The column holds 100 characters (PostgreSQL refuses more; an email may be 254).
            target_id=None if target_id is None else str(target_id)[:100],
            summary=summary,
            before=as_json(before),
            after=as_json(after),
        )
    )


def add(conn: Connection, actor, model, values: dict, *, action: str, summary: str, target: str):
    """Insert one row of `model` and record it as it now is, in the caller's transaction.
    Returns the new row's id."""
    return upsert(
        conn,
        actor,
        model,
        None,
        values,
        new={},
        before=None,
        action=action,
        summary=summary,
        target=target,
    )


def change(
    conn: Connection,
    actor,
    model,
    row_id,
    values: dict,
    *,
    before: dict,
    action: str,
    summary: str,
    target: str,
) -> None:
    """Update one row of `model` by id and record it with the row as it was (`before`, read by
    the caller) and as it is now, in the caller's transaction."""
    upsert(
        conn,
        actor,
        model,
        row_id,
        values,
        new={},
        before=before,
        action=action,
        summary=summary,
        target=target,
    )


def remove(
    conn: Connection, actor, model, row_id, *, before: dict, action: str, summary: str, target: str
) -> None:
    """Delete one row of `model` by id and record it as it was (`before`, read by the caller),
    in the caller's transaction."""
    conn.execute(delete(model).where(model.id == row_id))
    record(conn, actor, action, summary, target=target, target_id=row_id, before=before)


def upsert(
    conn: Connection,
    actor,
    model,
    row_id,
    values: dict,
    *,
    new: dict,
    before: dict | None,
    action: str,
    summary: str,
    target: str,
    target_id=None,
):
    """Change row `row_id` of `model` to `values`, or insert `values` with `new` (its keys) when
    `row_id` is None; record it with the row as it was (`before`, read by the caller for its
    summary) and as it is now, in the caller's transaction. Returns the row's id."""
    if row_id is None:
        row_id = conn.execute(
            insert(model).values(**new, **values).returning(model.id)
        ).scalar_one()
    else:
        conn.execute(update(model).where(model.id == row_id).values(**values))
    record(
        conn,
        actor,
        action,
        summary,
        target=target,
        target_id=row_id if target_id is None else target_id,
        before=before,
        after=row(conn, model, row_id),
    )
    return row_id


@dataclass(frozen=True)
class Filter:
    """What the audit screen asks for."""

    actor: str = ""
    actions: tuple[str, ...] = ()
    since: date | None = None
    until: date | None = None
    text: str = ""


def _where(query, f: Filter):
    if f.actor.strip():
        query = query.where(func.lower(AuditEntry.actor).like(db.contains(f.actor), escape="!"))
    if f.actions:
        query = query.where(AuditEntry.action.in_(f.actions))
    if f.since is not None:
        query = query.where(AuditEntry.at >= datetime.combine(f.since, datetime.min.time()))
    if f.until is not None:
        end = datetime.combine(f.until, datetime.min.time()) + timedelta(days=1)
        query = query.where(AuditEntry.at < end)
    if f.text.strip():
        query = query.where(func.lower(AuditEntry.summary).like(db.contains(f.text), escape="!"))
    return query


def count(engine: Engine, f: Filter = Filter()) -> int:
    """How many entries match."""
    with engine.connect() as conn:
        return conn.execute(_where(select(func.count(AuditEntry.id)), f)).scalar_one()


def entries(engine: Engine, f: Filter = Filter(), limit: int = 100, offset: int = 0) -> list[dict]:
    """Matching entries, newest first, one page at a time."""
    query = _where(select(AuditEntry.__table__), f).order_by(AuditEntry.id.desc())
    with engine.connect() as conn:
        rows = conn.execute(query.limit(limit).offset(offset)).mappings().all()
    return [dict(r) for r in rows]
