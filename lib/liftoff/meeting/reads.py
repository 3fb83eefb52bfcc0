"""Reads of meetings: decision records, open action items, frozen snapshots."""

from __future__ import annotations

import json

from sqlalchemy import Engine, select

from liftoff.db.models import ActionItem, DecisionRecord, Initiative, Snapshot, name_of
from liftoff.errors import LiftoffError


class SnapshotNotFound(LiftoffError, LookupError):
    """No snapshot has that id; the message says where to find the list."""


def decisions(engine: Engine, iteration_id: int) -> list[dict]:
    """Decision records of an iteration, newest first, with their action items."""
    with engine.connect() as conn:
        recs = [
            dict(r)
            for r in conn.execute(
                select(DecisionRecord.__table__)
                .where(DecisionRecord.iteration_id == iteration_id)
                .order_by(DecisionRecord.recorded_at.desc(), DecisionRecord.id.desc())
            ).mappings()
        ]
        ids = [r["id"] for r in recs]
        items = (
            [
                dict(r)
                for r in conn.execute(
                    select(ActionItem.__table__)
                    .where(ActionItem.decision_id.in_(ids))
                    .order_by(ActionItem.id)
                ).mappings()
            ]
            if ids
            else []
        )
    for r in recs:
        r["actions"] = [i for i in items if i["decision_id"] == r["id"]]
    return recs


def open_actions(engine: Engine, initiative_ids: list[int]) -> dict[int, list[dict]]:
    """Open action items per initiative, soonest due first."""
    out: dict[int, list[dict]] = {i: [] for i in initiative_ids}
    if not initiative_ids:
        return out
    with engine.connect() as conn:
        for r in conn.execute(
            select(ActionItem.__table__)
            .where(ActionItem.initiative_id.in_(initiative_ids), ActionItem.status == "open")
            .order_by(ActionItem.due.is_(None), ActionItem.due, ActionItem.id)
        ).mappings():
            out[r["initiative_id"]].append(dict(r))
    return out


def snapshot(engine: Engine, snapshot_id: int) -> dict:
    """A frozen pack, labelled with when and by whom it was frozen."""
    with engine.connect() as conn:
        row = conn.execute(
            select(
                Snapshot.id,
                Snapshot.created_at,
                name_of(Snapshot.created_by).label("created_by"),
                Snapshot.note,
                Snapshot.pack,
            ).where(Snapshot.id == snapshot_id)
        ).first()
    if row is None:
        raise SnapshotNotFound(
            f"There is no snapshot #{snapshot_id}. The Steering pack page lists the snapshots of each initiative."
        )
    pack = json.loads(row.pack)
    pack["snapshot"] = {
        "id": row.id,
        "created_at": row.created_at.isoformat(timespec="seconds"),
        "created_by": row.created_by,
        "note": row.note,
    }
    return pack


def snapshots(engine: Engine, initiative: str) -> list[dict]:
    """The snapshots of an initiative, newest first (without their packs)."""
    with engine.connect() as conn:
        return [
            dict(r)
            for r in conn.execute(
                select(
                    Snapshot.id,
                    Snapshot.iteration_number,
                    Snapshot.created_at,
                    name_of(Snapshot.created_by).label("created_by"),
                    Snapshot.note,
                )
                .join(Initiative, Initiative.id == Snapshot.initiative_id)
                .where(Initiative.name == initiative)
                .order_by(Snapshot.id.desc())
            ).mappings()
        ]
