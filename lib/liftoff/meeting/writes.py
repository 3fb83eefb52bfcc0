"""Writes of meetings: frozen packs, decisions with their action items, actions done."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import Engine, insert, select

from liftoff import db
from liftoff.access import audit
from liftoff.access.auth import Actor, require
from liftoff.db.models import ActionItem, DecisionRecord, Initiative, Iteration, Snapshot
from liftoff.errors import InvalidValue  # raised here, caught by the screen
from liftoff.evidence import writes as evidence_writes
from liftoff.meeting import pack as steering_pack


def freeze(
    engine: Engine,
    actor: Actor,
    initiative: str,
    number: int | None = None,
    note: str | None = None,
) -> int:
    """Store the pack as it is now; returns the snapshot id (`?snapshot=ID`)."""
    require(actor, "edit")
    pack = steering_pack.build(engine, initiative, number)
    with db.write(engine) as conn:
        init_id = conn.execute(
            select(Initiative.id).where(Initiative.name == initiative)
        ).scalar_one()
        now = datetime.now()
        snap_id = conn.execute(
            insert(Snapshot)
            .values(
                initiative_id=init_id,
                iteration_number=pack["iteration"]["number"],
                created_by=actor.label,
                created_at=now,
                note=(note or "").strip() or None,
                pack=json.dumps(pack, ensure_ascii=False),
            )
            .returning(Snapshot.id)
        ).scalar_one()
        audit.record(
            conn,
            actor,
            "snapshot",
            f"Froze the steering pack of {initiative} iteration {pack['iteration']['number']} as snapshot #{snap_id}",
            target="snapshot",
            target_id=snap_id,
        )
    return snap_id


def record_meeting_decision(
    engine: Engine,
    actor: Actor,
    initiative: str,
    number: int,
    *,
    decision: str,
    rationale: str,
    decided_by: str,
    attendees: list[str],
    actions: list[dict] | str,
) -> int:
    """Record the decision taken in the meeting with who was there and the action items
    (title, owner, due; or as typed, one per line: what; owner; due); it becomes the
    iteration's decision. Returns the record id."""
    require(actor, "edit")
    if isinstance(actions, str):
        actions = steering_pack.parse_actions(actions)
    if decision not in ("go", "no-go", "pivot", "extend"):
        raise InvalidValue("Choose the decision: go, no-go, pivot or extend.")
    clean_actions = []
    for k, a in enumerate(actions, start=1):
        title = (a.get("title") or "").strip()
        if not title and not (a.get("owner") or "").strip() and not a.get("due"):
            continue  # a blank entry
        if not title:
            raise InvalidValue(f"Action item {k} needs a description of what to do.")
        if not (a.get("owner") or "").strip():
            raise InvalidValue(f"Action item {k} (“{title}”) needs an owner.")
        due = a.get("due")
        due = due.date() if isinstance(due, datetime) else due  # a date, or a datetime's day
        clean_actions.append({"title": title, "owner": a["owner"].strip(), "due": due})
    # One transaction: a refused action item or a failure anywhere leaves neither the decision
    # nor any action item behind.
    with db.write(engine) as conn:
        it_id = evidence_writes.decide(
            conn,
            actor,
            initiative,
            number,
            decision=decision,
            rationale=rationale,
            decided_by=decided_by,
        )
        initiative_id = conn.execute(
            select(Iteration.initiative_id).where(Iteration.id == it_id)
        ).scalar_one()
        now = datetime.now()
        rec = conn.execute(
            insert(DecisionRecord)
            .values(
                iteration_id=it_id,
                decision=decision,
                rationale=rationale.strip(),
                decided_by=decided_by.strip(),
                attendees="\n".join(a.strip() for a in attendees if a.strip()) or None,
                recorded_by=actor.label,
                recorded_at=now,
            )
            .returning(DecisionRecord.id)
        ).scalar_one()
        for a in clean_actions:
            conn.execute(
                insert(ActionItem).values(
                    initiative_id=initiative_id,
                    decision_id=rec,
                    status="open",
                    created_by=actor.label,
                    created_at=now,
                    **a,
                )
            )
            audit.record(
                conn,
                actor,
                "action_item.add",
                f"Action for {a['owner']}: {a['title']}",
                target="action_item",
                after=a,
            )
    return rec


def set_action_done(engine: Engine, actor: Actor, action_id: int, done: bool = True) -> None:
    """Mark an action item done (or open again)."""
    require(actor, "edit")
    with db.write(engine) as conn:
        before = audit.row(conn, ActionItem, action_id)
        if before is None:
            raise InvalidValue(f"There is no action item #{action_id}.")
        audit.change(
            conn,
            actor,
            ActionItem,
            action_id,
            dict(status="done" if done else "open", done_at=datetime.now() if done else None),
            before=before,
            action="action_item.update",
            summary=f"Action “{before['title']}” marked {'done' if done else 'open'}",
            target="action_item",
        )
