"""The kinds whose rows update what is there (concerns, governance items, stakeholders): each row
inserted or updated, and what it was before remembered for rollback."""

from __future__ import annotations

import json
from datetime import date, datetime

import numpy as np
import pandas as pd
from sqlalchemy import insert, select, update

from liftoff.db.models import (
    BatchChange,
    Concern,
    ConcernStatusChange,
    GovernanceItem,
    Stakeholder,
    StakeholderStance,
)


def records(frame: pd.DataFrame, columns: list[str]) -> list[dict]:
    """Rows as dicts of plain Python values (None for every kind of missing)."""
    out = []
    for row in frame[columns].itertuples(index=False):
        rec = {}
        for c, v in zip(columns, row, strict=True):
            if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and np.isnan(v)):
                rec[c] = None
            elif isinstance(v, pd.Timestamp):
                rec[c] = v.to_pydatetime()
            elif isinstance(v, np.generic):
                rec[c] = v.item()
            else:
                rec[c] = v
        out.append(rec)
    return out


def as_date(v):
    return v.date() if isinstance(v, datetime) else v


def snapshot(conn, model, row_id: int) -> dict:
    row = (
        conn.execute(select(model.__table__).where(model.__table__.c.id == row_id)).mappings().one()
    )
    return {k: (v.isoformat() if isinstance(v, date | datetime) else v) for k, v in row.items()}


def remember(conn, batch_id: int, table: str, row_id: int, before: dict) -> None:
    conn.execute(
        insert(BatchChange).values(
            batch_id=batch_id, table_name=table, row_id=row_id, before=json.dumps(before)
        )
    )


def load_concerns(conn, frame, initiatives, iterations, metrics, batch_id, uploaded_by):
    now = datetime.now()

    def record(concern_id: int, from_status: str | None, to_status: str, note: str) -> None:
        """Keep the status change in the concern's history, tied to this batch."""
        conn.execute(
            insert(ConcernStatusChange).values(
                concern_id=concern_id,
                changed_at=now,
                changed_by=uploaded_by,
                from_status=from_status,
                to_status=to_status,
                note=note,
                batch_id=batch_id,
            )
        )

    for rec in records(frame, list(frame.columns)):
        init_id = initiatives[rec["initiative"]]
        values = {
            "title": rec["title"],
            "description": rec["description"],
            "raised_by": rec["raised_by"],
            "stakeholder_group": rec["stakeholder_group"],
            "failure_category": rec["failure_category"],
            "severity": rec["severity"],
            "status": rec["status"],
            "owner": rec["owner"],
            "raised_at": as_date(rec["raised_at"]),
            "due": as_date(rec["due"]),
            "resolved_at": as_date(rec["resolved_at"]),
            "resolution": rec["resolution"],
            "metric_id": metrics.get(rec["metric"]) if rec["metric"] else None,
            "comparator": rec["comparator"] or (">=" if rec["metric"] else None),
            "threshold": rec["threshold"],
            "iteration_id": iterations.get((rec["initiative"], int(rec["iteration"])))
            if rec["iteration"] is not None
            else None,
        }
        existing = None
        if rec["external_key"]:
            existing = conn.execute(
                select(Concern.id, Concern.status).where(
                    Concern.initiative_id == init_id, Concern.external_key == rec["external_key"]
                )
            ).one_or_none()
        if existing is None:
            values["status"] = values["status"] or "open"
            values["raised_at"] = values["raised_at"] or now.date()
            concern_id = conn.execute(
                insert(Concern)
                .values(
                    initiative_id=init_id,
                    external_key=rec["external_key"],
                    batch_id=batch_id,
                    **values,
                )
                .returning(Concern.id)
            ).scalar_one()
            record(concern_id, None, values["status"], "Imported.")
            continue
        concern_id, old_status = existing
        remember(conn, batch_id, "concerns", concern_id, snapshot(conn, Concern, concern_id))
        # Fields the file leaves empty keep what the register already says.
        changes = {k: v for k, v in values.items() if v is not None}
        conn.execute(update(Concern).where(Concern.id == concern_id).values(**changes))
        if changes.get("status", old_status) != old_status:
            record(concern_id, old_status, changes["status"], "Changed by re-import.")


def _at_start_of(day: date | None) -> datetime | None:
    return datetime.combine(day, datetime.min.time()) if day is not None else None


def load_governance(conn, frame, initiatives, batch_id):
    now = datetime.now()
    for rec in records(frame, list(frame.columns)):
        init_id = initiatives[rec["initiative"]]
        values = {
            "required_from": rec["required_from"],
            "status": rec["status"],
            "evidence": rec["evidence"],
            "owner": rec["owner"],
            # The tracker's own date when the file has one (at the start of that day).
            "updated_at": _at_start_of(as_date(rec["updated_at"])) or now,
        }
        existing = conn.execute(
            select(GovernanceItem.id).where(
                GovernanceItem.initiative_id == init_id, GovernanceItem.area == rec["area"]
            )
        ).scalar()
        if existing is None:
            new_id = conn.execute(
                insert(GovernanceItem)
                .values(initiative_id=init_id, area=rec["area"], **values)
                .returning(GovernanceItem.id)
            ).scalar_one()
            remember(conn, batch_id, "governance_items", new_id, {})
        else:
            remember(
                conn,
                batch_id,
                "governance_items",
                existing,
                snapshot(conn, GovernanceItem, existing),
            )
            conn.execute(
                update(GovernanceItem)
                .where(GovernanceItem.id == existing)
                .values(**{k: v for k, v in values.items() if v is not None})
            )


def load_stakeholders(conn, frame, initiatives, iterations, batch_id):
    """Upsert stakeholders by (initiative, name) and their stance at each iteration; what was
    there before is kept for rollback."""
    for rec in records(frame, list(frame.columns)):
        init_id = initiatives[rec["initiative"]]
        person = {"stakeholder_group": rec["group"], "influence": rec["influence"]}
        sid = conn.execute(
            select(Stakeholder.id).where(
                Stakeholder.initiative_id == init_id, Stakeholder.name == rec["name"]
            )
        ).scalar()
        if sid is None:
            sid = conn.execute(
                insert(Stakeholder)
                .values(
                    initiative_id=init_id,
                    name=rec["name"],
                    group=rec["group"],
                    influence=int(rec["influence"]) if rec["influence"] is not None else 3,
                )
                .returning(Stakeholder.id)
            ).scalar_one()
            remember(conn, batch_id, "stakeholders", sid, {})
        elif any(v is not None for v in person.values()):
            remember(conn, batch_id, "stakeholders", sid, snapshot(conn, Stakeholder, sid))
            changes = {}
            if rec["group"] is not None:
                changes["group"] = rec["group"]
            if rec["influence"] is not None:
                changes["influence"] = int(rec["influence"])
            conn.execute(update(Stakeholder).where(Stakeholder.id == sid).values(**changes))
        it_id = iterations[(rec["initiative"], int(rec["iteration"]))]
        existing = conn.execute(
            select(StakeholderStance.id).where(
                StakeholderStance.stakeholder_id == sid, StakeholderStance.iteration_id == it_id
            )
        ).scalar()
        if existing is None:
            new_id = conn.execute(
                insert(StakeholderStance)
                .values(
                    stakeholder_id=sid, iteration_id=it_id, stance=rec["stance"], note=rec["note"]
                )
                .returning(StakeholderStance.id)
            ).scalar_one()
            remember(conn, batch_id, "stakeholder_stances", new_id, {})
        else:
            remember(
                conn,
                batch_id,
                "stakeholder_stances",
                existing,
                snapshot(conn, StakeholderStance, existing),
            )
            conn.execute(
                update(StakeholderStance)
                .where(StakeholderStance.id == existing)
                .values(stance=rec["stance"], note=rec["note"])
            )
