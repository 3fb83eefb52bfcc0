"""Writes of readiness: governance items, rubric scores and the gate's floors, each one
transaction with its audit entry."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, select

from liftoff import db
from liftoff.access import audit
from liftoff.access.auth import Actor, require
from liftoff.db.models import (
    GOVERNANCE_AREAS,
    GOVERNANCE_STATUSES,
    GovernanceItem,
    Initiative,
    ReadinessItem,
)
from liftoff.errors import InvalidValue
from liftoff.evidence.writes import clean_text, initiative_id_of
from liftoff.ingest.columns import GOVERNANCE_DEFAULT_STAGE


def save_governance_item(
    engine: Engine,
    actor: Actor,
    initiative: str,
    area: str,
    *,
    status: str,
    evidence: str | None,
    owner: str | None,
    required_from: str | None = None,
) -> None:
    """Set a governance item's status, evidence and owner (creating it when missing)."""
    require(actor, "edit")
    if area not in GOVERNANCE_AREAS:
        raise InvalidValue(f"Area {area!r} is not one of: {', '.join(GOVERNANCE_AREAS)}.")
    if status not in GOVERNANCE_STATUSES:
        raise InvalidValue(f"Status {status!r} is not one of: {', '.join(GOVERNANCE_STATUSES)}.")
    if status == "done" and not clean_text(evidence):
        raise InvalidValue("Link or describe the evidence: a done item needs it.")
    with db.write(engine) as conn:
        init_id = initiative_id_of(conn, initiative)
        existing = conn.execute(
            select(GovernanceItem.id).where(
                GovernanceItem.initiative_id == init_id, GovernanceItem.area == area
            )
        ).scalar()
        values = dict(
            status=status,
            evidence=clean_text(evidence),
            owner=clean_text(owner),
            updated_at=datetime.now(),
        )
        if required_from:
            values["required_from"] = required_from
        before = audit.row(conn, GovernanceItem, existing) if existing else None
        if existing is None:
            values.setdefault("required_from", GOVERNANCE_DEFAULT_STAGE[area])
        audit.upsert(
            conn,
            actor,
            GovernanceItem,
            existing,
            values,
            new=dict(initiative_id=init_id, area=area),
            before=before,
            action="governance.update",
            summary=f"{initiative} governance {area.replace('_', ' ')}: "
            f"{(before or {}).get('status', 'not listed')} → {status}",
            target="governance_item",
        )


def score_readiness(
    engine: Engine, actor: Actor, initiative: str, item: str, *, score: float, note: str | None
) -> None:
    """Score one rubric item 0, 0.5 or 1 (items Liftoff fills itself cannot be set by hand)."""
    require(actor, "edit")
    from liftoff.readiness.rules import AUTOMATIC, RUBRIC_ITEMS, SCORES

    if item not in RUBRIC_ITEMS:
        raise InvalidValue(f"There is no readiness item {item!r}.")
    if item in AUTOMATIC:
        raise InvalidValue("Liftoff scores this item from what it holds; it cannot be set by hand.")
    if float(score) not in SCORES:
        raise InvalidValue("Score 0 (not done), 0.5 (done by hand) or 1 (automated).")
    with db.write(engine) as conn:
        init_id = initiative_id_of(conn, initiative)
        existing = conn.execute(
            select(ReadinessItem.id).where(
                ReadinessItem.initiative_id == init_id, ReadinessItem.item == item
            )
        ).scalar()
        values = dict(
            score=float(score),
            note=clean_text(note),
            updated_by=actor.label,
            updated_at=datetime.now(),
        )
        before = audit.row(conn, ReadinessItem, existing) if existing else None
        audit.upsert(
            conn,
            actor,
            ReadinessItem,
            existing,
            values,
            new=dict(initiative_id=init_id, item=item),
            before=before,
            action="rubric.update",
            summary=f"{initiative} readiness “{RUBRIC_ITEMS[item][1]}”: "
            f"{(before or {}).get('score', 'unscored')} → {float(score):g}",
            target="readiness_item",
        )


def set_gate_floors(
    engine: Engine,
    actor: Actor,
    initiative: str,
    *,
    min_headroom: float | None,
    min_readiness: float | None,
) -> None:
    """Set the readiness gate's floors for an initiative (None: the stage's default)."""
    require(actor, "edit")
    if min_headroom is not None and not 0 <= min_headroom < 1:
        raise InvalidValue("The headroom floor is a fraction from 0 to below 1 (25% is 0.25).")
    if min_readiness is not None and not 0 <= min_readiness <= 8:
        raise InvalidValue("The readiness floor is a score from 0 to 8.")
    with db.write(engine) as conn:
        init_id = initiative_id_of(conn, initiative)
        audit.change(
            conn,
            actor,
            Initiative,
            init_id,
            dict(min_headroom=min_headroom, min_readiness=min_readiness),
            before=audit.row(conn, Initiative, init_id),
            action="initiative.update",
            summary=f"Changed {initiative}'s readiness-gate floors",
            target="initiative",
        )
