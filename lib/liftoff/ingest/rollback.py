"""Rolling back an import batch: what it removes and restores, shown first, and never a silent
undo of a change someone made after the batch."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Connection, Engine, delete, func, select, update

from liftoff import db
from liftoff.access import audit
from liftoff.access.auth import Actor, require
from liftoff.db.models import (
    AuditEntry,
    BatchChange,
    Concern,
    ConcernStatusChange,
    Criterion,
    Feedback,
    GovernanceItem,
    ImportBatch,
    Initiative,
    Iteration,
    LoadTestStep,
    Metric,
    Observation,
    Stakeholder,
    StakeholderStance,
    TrafficPoint,
)
from liftoff.errors import LiftoffError
from liftoff.evidence import latest
from liftoff.formatting import count, listed
from liftoff.notify import outbox as notify


class RollbackError(LiftoffError):
    """A batch cannot be rolled back; the message says why."""


class RollbackConflict(RollbackError):
    """Rows the batch touched were changed since by someone; rolling back would undo that."""

    def __init__(self, message: str, later: list[LaterChange]):
        super().__init__(message)
        self.later = later


# Tables a batch may have changed in place (BatchChange), and the rows it added (batch_id).
_CHANGED = {
    "concerns": Concern,
    "governance_items": GovernanceItem,
    "stakeholders": Stakeholder,
    "stakeholder_stances": StakeholderStance,
}
_ADDED = (Observation, Criterion, LoadTestStep, TrafficPoint, Feedback, Concern)
# Rows a batch created to hold what it added (recorded in BatchChange with "{}"): a rollback
# removes them when nothing else was put there since.
_CREATED = {"iterations": Iteration, "initiatives": Initiative, "metrics": Metric}
# What an iteration a batch created may hold and still count as empty: the read model of its
# values, and the criteria carried forward into it when it was made. An initiative, likewise,
# the record of which batches were for it (it goes with the initiative).
_DERIVED = {"latest_observations", "batch_initiatives"}


def _created_names(conn: Connection, table: str, row_id: int) -> list[str]:
    if table == "iterations":
        row = conn.execute(
            select(Iteration.number, Initiative.name)
            .join(Initiative, Initiative.id == Iteration.initiative_id)
            .where(Iteration.id == row_id)
        ).one_or_none()
        return [f"iteration {row.number} of {row.name}"] if row else []
    if table == "metrics":
        name = conn.execute(select(Metric.display_name).where(Metric.id == row_id)).scalar()
        return [f"the metric {name}"] if name else []
    name = conn.execute(select(Initiative.name).where(Initiative.id == row_id)).scalar()
    return [f"the initiative {name}"] if name else []


def _remove_if_empty(conn: Connection, model, row_id: int) -> bool:
    """Delete a row the batch created if no other row points at it (every table with a foreign
    key to it, found from the schema), and an iteration only while its decision is pending
    and nobody described it. True when it was deleted."""
    table = model.__table__
    if model is Iteration:
        row = conn.execute(select(table).where(table.c.id == row_id)).mappings().one_or_none()
        if row is None or row["decision"] != "pending":
            return False
        if any(row[c] for c in ("label", "hypothesis", "start_date", "end_date", "rationale")):
            return False
    for child in table.metadata.sorted_tables:
        if child.name in _DERIVED:
            continue
        for fk in child.foreign_keys:
            if fk.column.table is not table:
                continue
            where = fk.parent == row_id
            if child.name == "criteria":
                where = where & child.c.carried_over.is_(False)
            if conn.execute(select(func.count()).select_from(child).where(where)).scalar():
                return False
    return conn.execute(delete(model).where(table.c.id == row_id)).rowcount == 1


# The audit log's name for edits of each table's rows (stances are recorded on the person).
_AUDIT_TARGET = {
    "concerns": "concern",
    "governance_items": "governance_item",
    "stakeholders": "stakeholder",
    "feedback": "feedback",
    "criteria": "criterion",
}
_ROW_NAMES = {
    "concerns": "concern",
    "governance_items": "governance item",
    "stakeholders": "stakeholder",
    "stakeholder_stances": "stance",
    "feedback": "feedback item",
    "criteria": "criterion",
}


@dataclass(frozen=True)
class LaterChange:
    """A change made after the batch to a row the batch touched: who, when, what."""

    who: str
    when: datetime
    what: str

    def sentence(self) -> str:
        return f"{self.who} on {self.when:%d %b %Y %H:%M}: {self.what}"


@dataclass
class RollbackPlan:
    """What rolling a batch back would do, for the page and the CLI to show before doing it."""

    batch_id: int
    file_name: str
    removes: dict[str, int] = field(default_factory=dict)  # table → rows the batch added
    restores: list[str] = field(default_factory=list)  # rows put back as they were
    created: list[str] = field(default_factory=list)  # initiatives, iterations, metrics it made
    later: list[LaterChange] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The plan in plain sentences."""
        out = []
        removed = sum(self.removes.values())
        if removed:
            parts = ", ".join(
                f"{table.replace('_', ' ')}: {n:,}" for table, n in self.removes.items() if n
            )
            noun = "row" if removed == 1 else "rows"
            out.append(f"Removes {removed:,} {noun} it added ({parts}).")
        out += [f"Restores {r}" for r in self.restores]
        if self.created:
            out.append(
                f"Removes {' and '.join(self.created)}, which it created, unless something "
                "else was added there since."
            )
        if not out:
            out.append("Nothing to remove or restore: the batch added no rows.")
        return out

    def conflict_message(self) -> str:
        changes = "; ".join(c.sentence() for c in self.later)
        return (
            f"Rows of batch #{self.batch_id} ({self.file_name}) were changed since it was "
            f"imported, and rolling back would undo those changes: {changes}."
        )


def _parse(model, values: dict) -> dict:
    """A row remembered as JSON, with its dates and times as Python objects again."""
    for k, col in model.__table__.c.items():
        if k in values and values[k] is not None and isinstance(col.type.python_type, type):
            if col.type.python_type is datetime:
                values[k] = datetime.fromisoformat(values[k])
            elif col.type.python_type is date:
                values[k] = date.fromisoformat(values[k])
    return values


def _label(table: str, row: dict) -> str:
    name = row.get("title") or row.get("name") or row.get("area") or row.get("stance") or ""
    key = row.get("external_key")
    head = _ROW_NAMES.get(table, table)
    if key:
        head += f" {key}"
    return f"{head} {name!r}" if name else f"{head} #{row.get('id')}"


def _plan(conn: Connection, batch) -> RollbackPlan:
    plan = RollbackPlan(batch.id, batch.file_name)
    changes = conn.execute(
        select(BatchChange.table_name, BatchChange.row_id, BatchChange.before).where(
            BatchChange.batch_id == batch.id
        )
    ).all()
    for model in _ADDED:
        n = conn.execute(
            select(func.count()).select_from(model).where(model.batch_id == batch.id)
        ).scalar()
        plan.removes[model.__tablename__] = n or 0
    touched: dict[str, set[int]] = {}
    for table, row_id, before in changes:
        if table in _CREATED:
            plan.created += _created_names(conn, table, row_id)
            continue
        touched.setdefault(table, set()).add(row_id)
        values = json.loads(before)
        model = _CHANGED[table]
        current = (
            conn.execute(select(model.__table__).where(model.__table__.c.id == row_id))
            .mappings()
            .one_or_none()
        )
        if not values:
            if model is not Concern:  # concerns it added are counted with their batch id
                plan.removes[table] = plan.removes.get(table, 0) + 1
            continue
        if current is None:
            continue
        now = {
            k: (v.isoformat() if isinstance(v, date | datetime) else v) for k, v in current.items()
        }
        back = [
            f"{k.replace('_', ' ')} {now.get(k)!r} → {v!r}"
            for k, v in values.items()
            if k not in ("id", "updated_at") and now.get(k) != v
        ]
        if back:
            plan.restores.append(f"{_label(table, dict(current))}: " + ", ".join(back) + ".")
    # The load tests it replaced, unless a later one replaced its own steps meanwhile.
    replaced_since = select(LoadTestStep.iteration_id).where(
        LoadTestStep.batch_id == batch.id, LoadTestStep.replaced_by.is_not(None)
    )
    plan.restores += [
        f"the earlier load test of iteration {number} of {name} "
        f"({count(n, 'step')}, batch #{earlier}), which this batch replaced."
        for name, number, earlier, n in conn.execute(
            select(Initiative.name, Iteration.number, LoadTestStep.batch_id, func.count())
            .join(Iteration, Iteration.id == LoadTestStep.iteration_id)
            .join(Initiative, Initiative.id == Iteration.initiative_id)
            .where(
                LoadTestStep.replaced_by == batch.id,
                LoadTestStep.iteration_id.not_in(replaced_since),
            )
            .group_by(Initiative.name, Iteration.number, LoadTestStep.batch_id)
            .order_by(Initiative.name, Iteration.number, LoadTestStep.batch_id)
        )
    ]
    for model in (Feedback, Criterion, Concern):
        ids = conn.execute(select(model.id).where(model.batch_id == batch.id)).scalars().all()
        touched.setdefault(model.__tablename__, set()).update(ids)
    plan.later = _later_changes(conn, batch, touched)
    return plan


def _later_changes(conn: Connection, batch, touched: dict[str, set[int]]) -> list[LaterChange]:
    """Edits in the app (the audit log) and later imports (their remembered rows) of rows the
    batch touched, after it was imported."""
    out: list[LaterChange] = []
    stance_people = set()
    if touched.get("stakeholder_stances"):
        stance_people = set(
            conn.execute(
                select(StakeholderStance.stakeholder_id).where(
                    StakeholderStance.id.in_(sorted(touched["stakeholder_stances"]))
                )
            ).scalars()
        )
    for table, target in _AUDIT_TARGET.items():
        ids = set(touched.get(table, set()))
        if table == "stakeholders":
            ids |= stance_people
        if not ids:
            continue
        rows = conn.execute(
            select(AuditEntry.actor, AuditEntry.at, AuditEntry.summary)
            .where(
                AuditEntry.target == target,
                AuditEntry.target_id.in_(sorted(str(i) for i in ids)),
                AuditEntry.at > batch.uploaded_at,
                AuditEntry.action.not_in(("import", "rollback")),
            )
            .order_by(AuditEntry.at)
        ).all()
        out += [LaterChange(who, when, summary) for who, when, summary in rows]
    for table, ids in touched.items():
        if not ids or table not in _CHANGED:
            continue
        rows = conn.execute(
            select(ImportBatch.id, ImportBatch.uploaded_by, ImportBatch.uploaded_at)
            .join(BatchChange, BatchChange.batch_id == ImportBatch.id)
            .where(
                BatchChange.table_name == table,
                BatchChange.row_id.in_(sorted(ids)),
                ImportBatch.id > batch.id,
                ImportBatch.status == "committed",
            )
            .distinct()
        ).all()
        out += [
            LaterChange(
                who or "someone",
                when,
                f"imported batch #{bid}, which changed the same {_ROW_NAMES[table]} rows",
            )
            for bid, who, when in rows
        ]
    return sorted(out, key=lambda c: c.when)


def _batch(conn: Connection, batch_id: int):
    batch = conn.execute(
        select(
            ImportBatch.id, ImportBatch.status, ImportBatch.file_name, ImportBatch.uploaded_at
        ).where(ImportBatch.id == batch_id)
    ).one_or_none()
    if batch is None:
        raise RollbackError(
            f"There is no import batch #{batch_id}. See `liftoff batches` for the list."
        )
    if batch.status != "committed":
        raise RollbackError(
            f"Batch #{batch_id} ({batch.file_name}) is {batch.status.replace('_', ' ')}; only committed batches can be rolled back."
        )
    return batch


def _bring_back_replaced_steps(conn: Connection, batch_id: int) -> int:
    """The load-test steps this batch replaced count again, unless a later load test of the
    same iteration replaced this batch's own steps meanwhile: they then stay replaced, by
    that later one (else rolling back the middle of three runs would mix the first and the
    third). How many count again."""
    replaced = conn.execute(
        select(LoadTestStep.iteration_id).where(LoadTestStep.replaced_by == batch_id).distinct()
    ).scalars()
    back = 0
    for iteration_id in list(replaced):
        successor = conn.execute(
            select(func.max(LoadTestStep.replaced_by)).where(
                LoadTestStep.batch_id == batch_id, LoadTestStep.iteration_id == iteration_id
            )
        ).scalar()
        changed = conn.execute(
            update(LoadTestStep)
            .where(LoadTestStep.replaced_by == batch_id, LoadTestStep.iteration_id == iteration_id)
            .values(replaced_by=successor)
        ).rowcount
        back += changed if successor is None else 0
    return back


def rollback_plan(engine: Engine, batch_id: int) -> RollbackPlan:
    """What rolling back `batch_id` would remove and restore, and the later changes it would
    undo (RollbackError when it cannot be rolled back at all)."""
    with engine.connect() as conn:
        return _plan(conn, _batch(conn, batch_id))


def rollback(engine: Engine, actor: Actor, batch_id: int, force: bool = False) -> str:
    """Remove exactly the rows a batch added and restore what it changed; the batch is kept,
    marked rolled back, with its original file. When rows it touched were changed since,
    RollbackConflict says who changed what and when, unless `force` (confirmed by the user)."""
    require(actor, "rollback")
    with db.write(engine) as conn:
        batch = _batch(conn, batch_id)
        plan = _plan(conn, batch)  # inside the write: nobody changes the rows meanwhile
        if plan.later and not force:
            raise RollbackConflict(plan.conflict_message(), plan.later)
        touched = notify.initiatives_of_batch(conn, batch_id)  # before its rows go
        ranked_again = latest.iterations_of_batch(conn, batch_id)
        changes = conn.execute(
            select(BatchChange.table_name, BatchChange.row_id, BatchChange.before)
            .where(BatchChange.batch_id == batch_id)
            .order_by(BatchChange.id.desc())
        ).all()
        created = [(t, r) for t, r, _ in changes if t in _CREATED]
        for table_name, row_id, before in changes:
            if table_name in _CREATED:
                continue  # below, once the rows it added are gone
            model = _CHANGED[table_name]
            values = json.loads(before)
            if not values:  # the batch created this row
                conn.execute(delete(model).where(model.id == row_id))
                continue
            values.pop("id", None)
            conn.execute(update(model).where(model.id == row_id).values(**_parse(model, values)))
        conn.execute(delete(ConcernStatusChange).where(ConcernStatusChange.batch_id == batch_id))
        back = _bring_back_replaced_steps(conn, batch_id)
        counts = {}
        for model in _ADDED:
            counts[model.__tablename__] = conn.execute(
                delete(model).where(model.batch_id == batch_id)
            ).rowcount
        latest.rebuild(conn, ranked_again)  # the values it held give way to the next latest
        # Iterations first: an initiative it made can only go once its iterations have.
        made_gone = []
        order = {"iterations": 0, "initiatives": 1, "metrics": 2}
        for table_name, row_id in sorted(created, key=lambda c: order[c[0]]):
            names = _created_names(conn, table_name, row_id)
            if _remove_if_empty(conn, _CREATED[table_name], row_id):
                made_gone += names
        conn.execute(delete(BatchChange).where(BatchChange.batch_id == batch_id))
        conn.execute(
            update(ImportBatch)
            .where(ImportBatch.id == batch_id)
            .values(status="rolled_back", rolled_back_by=actor.label, rolled_back_at=datetime.now())
        )
        # Alerts the rollback stops (or starts) and criteria it flips, committed with it.
        notify.evaluate(conn, touched)
        removed = sum(counts.values())
        restored = sum(1 for c in changes if json.loads(c[2]))
        text = f"Rolled back batch #{batch_id} ({batch.file_name}): removed {count(removed, 'row')}"
        if made_gone:
            text += f", and {listed(made_gone)}, which it created"
        text += f", restored {count(restored, 'changed row')}." if restored else "."
        if back:
            verb = "counts" if back == 1 else "count"
            text += f" {count(back, 'earlier load-test step')} it had replaced {verb} again."
        if plan.later:
            text += f" It undid {count(len(plan.later), 'later change')}, as confirmed."
        audit.record(
            conn,
            actor,
            "rollback",
            text,
            target="import_batch",
            target_id=batch_id,
            before={"status": "committed"},
            after={
                "status": "rolled_back",
                "rows_removed": counts,
                "rows_restored": restored,
                "later_changes_undone": [c.sentence() for c in plan.later],
            },
        )
    return text
