"""Loading a validated file: one transaction, one import batch, every row traceable to it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import date, datetime

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, delete, insert, select, update

from liftoff import db
from liftoff.ingest.pipeline import Prepared, options_json
from liftoff.models import (
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
    TrafficPoint,
)

FAST_CHUNK = 100_000


class RollbackError(Exception):
    """A batch cannot be rolled back; the message says why."""


def _none(values: Iterable) -> list:
    """NaN/NaT → None, numpy scalars → Python."""
    out = []
    for v in values:
        if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NaT:
            out.append(None)
        elif isinstance(v, np.generic):
            out.append(v.item())
        else:
            out.append(v)
    return out


def _datetimes(series: pd.Series, dialect: str) -> list:
    if dialect == "sqlite":
        # The text form SQLAlchemy's SQLite DateTime reads back.
        text = series.dt.strftime("%Y-%m-%d %H:%M:%S.%f")
        return [
            None if isinstance(v, float) or v is None else v
            for v in text.where(series.notna(), None)
        ]
    return [None if pd.isna(v) else v.to_pydatetime() for v in series]


def _resolve(
    conn: Connection, prepared: Prepared
) -> tuple[dict[str, int], dict[tuple[str, int], int], dict[str, int]]:
    now = datetime.now()
    initiatives = dict(conn.execute(select(Initiative.name, Initiative.id)).all())
    for name in prepared.new_initiatives:
        if name not in initiatives:
            initiatives[name] = conn.execute(
                insert(Initiative)
                .values(
                    name=name, stage="poc", slo_p95_ms=500.0, max_error_rate=0.01, created_at=now
                )
                .returning(Initiative.id)
            ).scalar_one()
    iterations = {
        (n, num): i
        for n, num, i in conn.execute(
            select(Initiative.name, Iteration.number, Iteration.id).join(
                Iteration, Iteration.initiative_id == Initiative.id
            )
        )
    }
    for name, number in prepared.new_iterations:
        if (name, number) not in iterations:
            iterations[(name, number)] = conn.execute(
                insert(Iteration)
                .values(initiative_id=initiatives[name], number=number, decision="pending")
                .returning(Iteration.id)
            ).scalar_one()
    metrics = dict(conn.execute(select(Metric.key, Metric.id)).all())
    for key, (display, category, unit, direction) in prepared.new_metrics.items():
        if key not in metrics:
            metrics[key] = conn.execute(
                insert(Metric)
                .values(
                    key=key, display_name=display, category=category, unit=unit, direction=direction
                )
                .returning(Metric.id)
            ).scalar_one()
    return initiatives, iterations, metrics


def _iteration_ids(frame: pd.DataFrame, iterations: dict) -> pd.Series:
    keys = list(zip(frame["initiative"], frame["iteration"].astype("Int64"), strict=True))
    return pd.Series(
        [iterations.get((i, int(n))) if n is not pd.NA else None for i, n in keys],
        index=frame.index,
    )


def _bulk(conn: Connection, table: str, columns: list[str], rows: list[tuple]) -> None:
    """Insert many rows through the driver: executemany on SQLite, COPY on PostgreSQL."""
    if not rows:
        return
    raw = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        with (
            raw.cursor() as cur,
            cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
    else:
        marks = ", ".join("?" for _ in columns)
        cur = raw.cursor()
        cur.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)  # noqa: S608 - fixed names
        cur.close()


def _load_observations(conn, frame, iterations, metrics, batch_id, progress):
    dialect = conn.dialect.name
    done = 0
    for start in range(0, len(frame), FAST_CHUNK):
        part = frame.iloc[start : start + FAST_CHUNK]
        it_ids = _iteration_ids(part, iterations)
        metric_ids = part["metric"].map(metrics)
        rows = list(
            zip(
                it_ids.tolist(),
                metric_ids.tolist(),
                part["value"].astype(float).tolist(),
                _datetimes(part["recorded_at"], dialect),
                _none(part["segment"]),
                _none(part["candidate"]),
                [batch_id] * len(part),
                strict=True,
            )
        )
        _bulk(
            conn,
            "observations",
            [
                "iteration_id",
                "metric_id",
                "value",
                "recorded_at",
                "segment",
                "candidate",
                "batch_id",
            ],
            rows,
        )
        done += len(part)
        if progress:
            progress(done)


def _records(frame: pd.DataFrame, columns: list[str]) -> list[dict]:
    out = []
    for row in frame[columns].itertuples(index=False):
        rec = {}
        for c, v in zip(columns, row, strict=True):
            if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NaT:
                rec[c] = None
            elif isinstance(v, pd.Timestamp):
                rec[c] = v.to_pydatetime()
            elif isinstance(v, np.generic):
                rec[c] = v.item()
            else:
                rec[c] = v
        out.append(rec)
    return out


def _as_date(v):
    return v.date() if isinstance(v, datetime) else v


def _snapshot(conn, model, row_id: int) -> dict:
    row = (
        conn.execute(select(model.__table__).where(model.__table__.c.id == row_id)).mappings().one()
    )
    return {k: (v.isoformat() if isinstance(v, date | datetime) else v) for k, v in row.items()}


def _remember(conn, batch_id: int, table: str, row_id: int, before: dict) -> None:
    conn.execute(
        insert(BatchChange).values(
            batch_id=batch_id, table_name=table, row_id=row_id, before=json.dumps(before)
        )
    )


def _load_concerns(conn, frame, initiatives, iterations, metrics, batch_id, uploaded_by):
    now = datetime.now()
    for rec in _records(frame, list(frame.columns)):
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
            "raised_at": _as_date(rec["raised_at"]),
            "due": _as_date(rec["due"]),
            "resolved_at": _as_date(rec["resolved_at"]),
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
            conn.execute(
                insert(ConcernStatusChange).values(
                    concern_id=concern_id,
                    changed_at=now,
                    changed_by=uploaded_by,
                    from_status=None,
                    to_status=values["status"],
                    note="Imported.",
                    batch_id=batch_id,
                )
            )
            continue
        concern_id, old_status = existing
        _remember(conn, batch_id, "concerns", concern_id, _snapshot(conn, Concern, concern_id))
        # Fields the file leaves empty keep what the register already says.
        changes = {k: v for k, v in values.items() if v is not None}
        conn.execute(update(Concern).where(Concern.id == concern_id).values(**changes))
        if changes.get("status", old_status) != old_status:
            conn.execute(
                insert(ConcernStatusChange).values(
                    concern_id=concern_id,
                    changed_at=now,
                    changed_by=uploaded_by,
                    from_status=old_status,
                    to_status=changes["status"],
                    note="Changed by re-import.",
                    batch_id=batch_id,
                )
            )


def _load_governance(conn, frame, initiatives, batch_id):
    now = datetime.now()
    for rec in _records(frame, list(frame.columns)):
        init_id = initiatives[rec["initiative"]]
        values = {
            "required_from": rec["required_from"],
            "status": rec["status"],
            "evidence": rec["evidence"],
            "owner": rec["owner"],
            "updated_at": now,
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
            _remember(conn, batch_id, "governance_items", new_id, {})
        else:
            _remember(
                conn,
                batch_id,
                "governance_items",
                existing,
                _snapshot(conn, GovernanceItem, existing),
            )
            conn.execute(
                update(GovernanceItem)
                .where(GovernanceItem.id == existing)
                .values(**{k: v for k, v in values.items() if v is not None})
            )


def commit(
    engine: Engine,
    prepared: Prepared,
    uploaded_by: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Load a prepared file in one transaction; returns the import batch id."""
    if not prepared.ok:
        raise prepared.rejection()
    with db.write(engine) as conn:
        initiatives, iterations, metrics = _resolve(conn, prepared)
        batch_id = conn.execute(
            insert(ImportBatch)
            .values(
                kind=prepared.kind,
                file_name=prepared.file_name,
                sha256=prepared.sha256,
                rows_read=prepared.rows_read,
                rows_accepted=prepared.rows_accepted,
                uploaded_by=uploaded_by,
                uploaded_at=datetime.now(),
                status="committed",
                raw=prepared.raw,
                warnings="\n".join(prepared.warnings) or None,
                options=options_json(prepared.options),
            )
            .returning(ImportBatch.id)
        ).scalar_one()
        for target, parts in prepared.frames.items():
            frame = pd.concat(parts, ignore_index=True)
            if target == "observations":
                _load_observations(conn, frame, iterations, metrics, batch_id, progress)
            elif target == "load_test_steps":
                frame = frame.assign(
                    iteration_id=_iteration_ids(frame, iterations), batch_id=batch_id
                )
                cols = [
                    "iteration_id",
                    "users",
                    "throughput_rps",
                    "p50_ms",
                    "p95_ms",
                    "p99_ms",
                    "failure_ratio",
                    "source_file",
                    "batch_id",
                ]
                recs = _records(frame, cols)
                for r in recs:
                    r["users"] = int(r["users"])
                conn.execute(insert(LoadTestStep), recs)
            elif target == "traffic":
                frame = frame.assign(
                    initiative_id=frame["initiative"].map(initiatives), batch_id=batch_id
                )
                conn.execute(
                    insert(TrafficPoint),
                    _records(frame, ["initiative_id", "observed_at", "peak_rps", "batch_id"]),
                )
            elif target == "feedback":
                its = [
                    iterations.get((i, int(n))) if not pd.isna(n) else None
                    for i, n in zip(frame["initiative"], frame["iteration"], strict=True)
                ]
                frame = frame.assign(
                    initiative_id=frame["initiative"].map(initiatives),
                    iteration_id=its,
                    batch_id=batch_id,
                )
                conn.execute(
                    insert(Feedback),
                    _records(
                        frame,
                        [
                            "initiative_id",
                            "iteration_id",
                            "received_at",
                            "source",
                            "rating",
                            "text",
                            "theme",
                            "tags",
                            "sentiment",
                            "status",
                            "action_taken",
                            "batch_id",
                        ],
                    ),
                )
            elif target == "criteria":
                frame = frame.assign(
                    iteration_id=_iteration_ids(frame, iterations),
                    metric_id=frame["metric"].map(lambda k: metrics.get(k) if k else None),
                    batch_id=batch_id,
                )
                conn.execute(
                    insert(Criterion),
                    _records(
                        frame,
                        [
                            "iteration_id",
                            "kind",
                            "metric_id",
                            "comparator",
                            "target",
                            "description",
                            "manual_status",
                            "evidence_note",
                            "batch_id",
                        ],
                    ),
                )
            elif target == "concerns":
                _load_concerns(conn, frame, initiatives, iterations, metrics, batch_id, uploaded_by)
            elif target == "governance_items":
                _load_governance(conn, frame, initiatives, batch_id)
    return batch_id


def rollback(engine: Engine, batch_id: int, by: str | None = None) -> str:
    """Remove exactly the rows a batch added and restore what it changed; the batch is kept,
    marked rolled back, with its original file."""
    with db.write(engine) as conn:
        batch = conn.execute(
            select(ImportBatch.id, ImportBatch.status, ImportBatch.file_name).where(
                ImportBatch.id == batch_id
            )
        ).one_or_none()
        if batch is None:
            raise RollbackError(
                f"There is no import batch #{batch_id}. See `liftoff batches` for the list."
            )
        if batch.status != "committed":
            raise RollbackError(
                f"Batch #{batch_id} ({batch.file_name}) is {batch.status.replace('_', ' ')}; only committed batches can be rolled back."
            )
        changes = conn.execute(
            select(BatchChange.table_name, BatchChange.row_id, BatchChange.before)
            .where(BatchChange.batch_id == batch_id)
            .order_by(BatchChange.id.desc())
        ).all()
        models = {"concerns": Concern, "governance_items": GovernanceItem}
        for table_name, row_id, before in changes:
            model = models[table_name]
            values = json.loads(before)
            if not values:  # the batch created this row
                conn.execute(delete(model).where(model.id == row_id))
                continue
            values.pop("id", None)
            for k, col in model.__table__.c.items():
                if k in values and values[k] is not None and isinstance(col.type.python_type, type):
                    if col.type.python_type is datetime:
                        values[k] = datetime.fromisoformat(values[k])
                    elif col.type.python_type is date:
                        values[k] = date.fromisoformat(values[k])
            conn.execute(update(model).where(model.id == row_id).values(**values))
        conn.execute(delete(ConcernStatusChange).where(ConcernStatusChange.batch_id == batch_id))
        counts = {}
        for model in (Observation, Criterion, LoadTestStep, TrafficPoint, Feedback, Concern):
            counts[model.__tablename__] = conn.execute(
                delete(model).where(model.batch_id == batch_id)
            ).rowcount
        conn.execute(delete(BatchChange).where(BatchChange.batch_id == batch_id))
        conn.execute(
            update(ImportBatch)
            .where(ImportBatch.id == batch_id)
            .values(status="rolled_back", rolled_back_by=by, rolled_back_at=datetime.now())
        )
    removed = sum(counts.values())
    restored = sum(1 for c in changes if json.loads(c[2]))
    text = f"Rolled back batch #{batch_id} ({batch.file_name}): removed {removed} rows"
    return text + (f", restored {restored} changed rows." if restored else ".")
