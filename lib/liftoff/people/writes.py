"""Writes of the people: feedback status, concerns, stakeholders and their stances, each one
transaction with its audit entry."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, insert, select

from liftoff import db
from liftoff.access import audit
from liftoff.access.auth import Actor, require
from liftoff.db.models import (
    COMPARATORS,
    CONCERN_STATUSES,
    FAILURE_CATEGORIES,
    FEEDBACK_STATUSES,
    SEVERITIES,
    STANCES,
    Concern,
    ConcernStatusChange,
    Feedback,
    Iteration,
    Stakeholder,
    StakeholderStance,
)
from liftoff.errors import InvalidValue
from liftoff.evidence.writes import clean_text, initiative_id_of, iteration_id_of, metric_id_of


def update_feedback(
    engine: Engine, actor: Actor, feedback_id: int, *, status: str, action_taken: str | None
) -> None:
    """Move a feedback item through new → triaged → actioned / won't fix, with the action taken."""
    require(actor, "edit")
    if status not in FEEDBACK_STATUSES:
        raise InvalidValue(f"Status {status!r} is not one of: {', '.join(FEEDBACK_STATUSES)}.")
    if status == "actioned" and not clean_text(action_taken):
        raise InvalidValue("Say what was done: feedback marked actioned needs the action taken.")
    with db.write(engine) as conn:
        before = audit.row(conn, Feedback, feedback_id)
        if before is None:
            raise InvalidValue(
                f"There is no feedback item #{feedback_id}; it may have been rolled back."
            )
        audit.change(
            conn,
            actor,
            Feedback,
            feedback_id,
            dict(
                status=status,
                action_taken=clean_text(action_taken),
                updated_by=actor.label,
                updated_at=datetime.now(),
            ),
            before=before,
            action="feedback.update",
            summary=f"Feedback #{feedback_id}: {before['status']} → {status}",
            target="feedback",
        )


def _concern_values(values: dict) -> dict:
    title = clean_text(values.get("title"))
    if not title:
        raise InvalidValue("Give the concern a title: what worries the stakeholder, in a line.")
    # A concern may stay not categorised yet (None): registers from other tools import so.
    for name, allowed in (
        ("failure_category", (*FAILURE_CATEGORIES, None)),
        ("severity", SEVERITIES),
    ):
        if values.get(name) not in allowed:
            raise InvalidValue(
                f"{name.replace('_', ' ').capitalize()} must be one of: "
                f"{', '.join(a for a in allowed if a)}."
            )
    comparator, threshold = values.get("comparator"), values.get("threshold")
    if values.get("metric") and (comparator not in COMPARATORS or threshold is None):
        raise InvalidValue("A concern linked to a metric needs a comparator and a threshold.")
    due, raised = values.get("due"), values.get("raised_at")
    if due is not None and raised is not None and due < raised:
        raise InvalidValue("The due date is before the date the concern was raised.")
    return dict(
        title=title,
        description=clean_text(values.get("description")),
        raised_by=clean_text(values.get("raised_by")),
        stakeholder_group=clean_text(values.get("stakeholder_group")),
        failure_category=values.get("failure_category"),
        severity=values["severity"],
        owner=clean_text(values.get("owner")),
        due=due,
        comparator=comparator if values.get("metric") else None,
        threshold=threshold if values.get("metric") else None,
    )


def add_concern(engine: Engine, actor: Actor, initiative: str, **values) -> int:
    """Add a concern (status open) with its first history entry; returns its id."""
    require(actor, "edit")
    clean = _concern_values(values)
    raised = values.get("raised_at") or datetime.now().date()
    with db.write(engine) as conn:
        init_id = initiative_id_of(conn, initiative)
        iteration = values.get("iteration")
        it_id = iteration_id_of(conn, initiative, iteration) if iteration else None
        concern_id = audit.add(
            conn,
            actor,
            Concern,
            dict(
                initiative_id=init_id,
                iteration_id=it_id,
                status="open",
                raised_at=raised,
                metric_id=metric_id_of(conn, values.get("metric")),
                **clean,
            ),
            action="concern.add",
            summary=f"Added concern “{clean['title']}” ({clean['severity']}) to {initiative}",
            target="concern",
        )
        conn.execute(
            insert(ConcernStatusChange).values(
                concern_id=concern_id,
                changed_at=datetime.now(),
                changed_by=actor.label,
                from_status=None,
                to_status="open",
                note=clean_text(values.get("note")) or "Raised.",
            )
        )
    return concern_id


def update_concern(
    engine: Engine,
    actor: Actor,
    concern_id: int,
    *,
    status: str,
    note: str | None = None,
    resolution: str | None = None,
    **values,
) -> None:
    """Change a concern; a status change is kept as history (who, when, from, to, note)."""
    require(actor, "edit")
    if status not in CONCERN_STATUSES:
        raise InvalidValue(f"Status {status!r} is not one of: {', '.join(CONCERN_STATUSES)}.")
    clean = _concern_values(values)
    closing = status in ("resolved", "accepted")
    if closing and not clean_text(resolution):
        raise InvalidValue("Say how it was resolved (or why the risk is accepted).")
    with db.write(engine) as conn:
        before = audit.row(conn, Concern, concern_id)
        if before is None:
            raise InvalidValue(f"There is no concern #{concern_id}; it may have been rolled back.")
        now = datetime.now()
        if status != before["status"]:
            if not clean_text(note):
                raise InvalidValue("Add a note to the status change: the history says why.")
            conn.execute(
                insert(ConcernStatusChange).values(
                    concern_id=concern_id,
                    changed_at=now,
                    changed_by=actor.label,
                    from_status=before["status"],
                    to_status=status,
                    note=clean_text(note),
                )
            )
        audit.change(
            conn,
            actor,
            Concern,
            concern_id,
            dict(
                status=status,
                resolution=clean_text(resolution),
                resolved_at=(before["resolved_at"] or now.date()) if closing else None,
                metric_id=metric_id_of(conn, values.get("metric")),
                **clean,
            ),
            before=before,
            action="concern.update",
            summary=f"Concern “{clean['title']}”: {before['status']} → {status}"
            if status != before["status"]
            else f"Changed concern “{clean['title']}”",
            target="concern",
        )


def save_stakeholder(
    engine: Engine,
    actor: Actor,
    initiative: str,
    name: str,
    *,
    group: str | None,
    influence: int,
    stakeholder_id: int | None = None,
) -> int:
    """Add a stakeholder (or change one with `stakeholder_id`); returns its id."""
    require(actor, "edit")
    name = clean_text(name)
    if not name:
        raise InvalidValue("Give the stakeholder's name.")
    if not 1 <= int(influence) <= 5:
        raise InvalidValue("Influence is a whole number from 1 (little) to 5 (decisive).")
    with db.write(engine) as conn:
        init_id = initiative_id_of(conn, initiative)
        clash = conn.execute(
            select(Stakeholder.id).where(
                Stakeholder.initiative_id == init_id, Stakeholder.name == name
            )
        ).scalar()
        if clash is not None and clash != stakeholder_id:
            raise InvalidValue(f"{name} is already a stakeholder of {initiative}.")
        values = dict(name=name, group=clean_text(group), influence=int(influence))
        if stakeholder_id is None:
            return audit.add(
                conn,
                actor,
                Stakeholder,
                dict(initiative_id=init_id, **values),
                action="stakeholder.add",
                summary=f"Added stakeholder {name} to {initiative}",
                target="stakeholder",
            )
        before = audit.row(conn, Stakeholder, stakeholder_id)
        if before is None:
            raise InvalidValue(f"There is no stakeholder #{stakeholder_id}.")
        audit.change(
            conn,
            actor,
            Stakeholder,
            stakeholder_id,
            values,
            before=before,
            action="stakeholder.update",
            summary=f"Changed stakeholder {name}",
            target="stakeholder",
        )
        return stakeholder_id


def set_stance(
    engine: Engine, actor: Actor, stakeholder_id: int, number: int, *, stance: str, note: str | None
) -> None:
    """Record a stakeholder's stance at an iteration (replacing what was recorded there)."""
    require(actor, "edit")
    if stance not in STANCES:
        raise InvalidValue(f"Stance {stance!r} is not one of: {', '.join(STANCES)}.")
    with db.write(engine) as conn:
        person = audit.row(conn, Stakeholder, stakeholder_id)
        if person is None:
            raise InvalidValue(f"There is no stakeholder #{stakeholder_id}.")
        it_id = conn.execute(
            select(Iteration.id).where(
                Iteration.initiative_id == person["initiative_id"], Iteration.number == number
            )
        ).scalar()
        if it_id is None:
            raise InvalidValue(f"The initiative has no iteration {number}.")
        existing = conn.execute(
            select(StakeholderStance.id).where(
                StakeholderStance.stakeholder_id == stakeholder_id,
                StakeholderStance.iteration_id == it_id,
            )
        ).scalar()
        before = audit.row(conn, StakeholderStance, existing) if existing else None
        audit.upsert(
            conn,
            actor,
            StakeholderStance,
            existing,
            dict(stance=stance, note=clean_text(note)),
            new=dict(stakeholder_id=stakeholder_id, iteration_id=it_id),
            before=before,
            action="stance",
            summary=f"{person['name']} at iteration {number}: "
            f"{(before or {}).get('stance', 'no stance')} → {stance}",
            target="stakeholder",
            target_id=stakeholder_id,
        )
