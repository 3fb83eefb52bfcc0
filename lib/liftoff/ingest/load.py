"""Loading a validated file: one transaction, one import batch, every row traceable to it."""

from __future__ import annotations

import hashlib
import io
import json
import queue
import sqlite3
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import DBAPIError

from liftoff import db
from liftoff.access import audit
from liftoff.access.auth import Actor, require
from liftoff.db.models import (
    BatchChange,
    Concern,
    ConcernStatusChange,
    Criterion,
    Feedback,
    GovernanceItem,
    ImportBatch,
    ImportFile,
    Initiative,
    Iteration,
    LoadTestStep,
    Metric,
    Stakeholder,
    StakeholderStance,
    TrafficPoint,
)
from liftoff.evidence import writes as evidence_writes
from liftoff.formatting import count
from liftoff.ingest import pipeline
from liftoff.ingest.pipeline import duplicate_batch, options_json
from liftoff.ingest.prepared import Prepared
from liftoff.ingest.values import distinct_pairs
from liftoff.notify import outbox as notify

FAST_CHUNK = 50_000


def _id_series(ids: np.ndarray, index: pd.Index) -> pd.Series:
    """Ids (-1 where unknown) as a nullable integer column."""
    return pd.Series(pd.arrays.IntegerArray(ids, ids < 0), index=index)


def _observation_columns(frame: pd.DataFrame, iteration_ids: np.ndarray, metrics) -> dict[str, Any]:
    """The chunk as the observations table's columns (arrays, no Python object per row), in
    the order of the table's index (iteration, metric): the index then grows in a few runs
    per chunk instead of at a random place for every row. The sort is stable, so readings of
    one iteration and metric keep the file's order (it ranks readings taken at the same time)."""
    metric = frame["metric"]
    if not isinstance(metric.dtype, pd.CategoricalDtype):
        metric = metric.astype("category")
    lookup = np.array([metrics.get(k, -1) for k in metric.cat.categories] + [-1], dtype=np.int64)
    metric_ids = lookup[metric.cat.codes.to_numpy()]
    order = np.lexsort((metric_ids, iteration_ids))
    iteration_ids, metric_ids = iteration_ids[order], metric_ids[order]
    return {
        "iteration_id": pd.arrays.IntegerArray(iteration_ids, iteration_ids < 0),
        "metric_id": pd.arrays.IntegerArray(metric_ids, metric_ids < 0),
        "value": frame["value"].to_numpy(dtype="float64")[order],
        "recorded_at": frame["recorded_at"].to_numpy(dtype="datetime64[us]")[order],
        "segment": frame["segment"].to_numpy(dtype=object)[order],
        "candidate": frame["candidate"].to_numpy(dtype=object)[order],
    }


@dataclass(frozen=True)
class _Payload:
    """A chunk ready for the bulk path: its columns and rows, serialised for the driver."""

    columns: list[str]  # the columns that vary from row to row, in the order of `data`
    rows: int
    data: bytes | list  # CSV for COPY (PostgreSQL); one flat list of values (SQLite)
    # SQL literals for columns with one value for the whole chunk (SQLite): NULL, or an id.
    literals: dict[str, str] = field(default_factory=dict)


def _plain_list(values) -> list | None:
    """A column as a list of plain Python values for the driver: None for every kind of
    missing, timestamps in the text form SQLAlchemy stores on SQLite
    (`YYYY-MM-DD HH:MM:SS.ffffff`). None when every value is missing."""
    column = values if isinstance(values, pd.Series) else pd.Series(values, copy=False)
    if pd.api.types.is_datetime64_any_dtype(column.dtype):
        # Exports repeat timestamps: format each distinct value once.
        codes, uniques = pd.factorize(column.to_numpy(dtype="datetime64[us]"))
        if not len(uniques):
            return None
        text = [t.replace("T", " ") for t in np.datetime_as_string(uniques, unit="us").tolist()]
        return np.array([*text, None], dtype=object)[codes].tolist()
    missing = column.isna().to_numpy()
    if missing.all():
        return None
    if pd.api.types.is_integer_dtype(column.dtype):
        plain = column.to_numpy(dtype="int64", na_value=0).tolist()
    elif pd.api.types.is_float_dtype(column.dtype):
        plain = column.to_numpy(dtype="float64", na_value=np.nan).tolist()
    else:
        plain = column.to_numpy(dtype=object).tolist()
    for i in np.flatnonzero(missing).tolist():
        plain[i] = None
    return plain


def _bulk_payload(dialect: str, columns, ids: dict[str, int] | None = None) -> _Payload:
    """Serialise a chunk (a DataFrame, or a dict of equally long columns): CSV for COPY on
    PostgreSQL; on SQLite, the values of the columns that vary in one flat list (row after
    row), bound to multi-row INSERTs. `ids` are columns with one id for every row (the
    batch), written into the statement instead of into each row."""
    ids = ids or {}
    if dialect == "postgresql":
        # Arrow writes the CSV (ten times pandas' speed, without the GIL): missing values as
        # empty unquoted fields, which COPY reads as NULL, and text always quoted.
        frame = pd.DataFrame(columns).assign(**ids)
        out = io.BytesIO()
        pa_csv.write_csv(
            pa.Table.from_pandas(frame, preserve_index=False),
            out,
            pa_csv.WriteOptions(include_header=False),
        )
        return _Payload(list(frame.columns), len(frame), out.getvalue())
    literals = {name: str(int(value)) for name, value in ids.items()}
    items = list(columns.items())
    rows = len(items[0][1]) if items else 0
    names, lists = [], []
    for name, values in items:
        plain = _plain_list(values)
        if plain is None:
            literals[name] = "NULL"
        else:
            names.append(name)
            lists.append(plain)
    data: list = [None] * (rows * len(lists))
    for i, plain in enumerate(lists):
        data[i :: len(lists)] = plain
    return _Payload(names, rows, data, literals)


# Values bound to one statement, at most (SQLite's own limit may be lower).
_SQLITE_PARAMETERS = 30_000


def _bulk_frame(conn: Connection, table: str, payload: _Payload) -> None:
    """Insert a serialised chunk; the database writes with the GIL released.

    SQLite: a few INSERTs of thousands of rows each, values bound (no text for SQLite to
    parse). The driver lets go of the GIL while SQLite writes, and takes it back once per
    statement, so the next chunk is validated meanwhile. PostgreSQL: COPY from CSV.
    """
    raw = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        columns = ", ".join(payload.columns)
        with (
            raw.cursor() as cur,
            cur.copy(f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv)") as copy,
        ):
            copy.write(payload.data)
        return
    if not payload.rows:
        return
    columns = ", ".join([*payload.columns, *payload.literals])
    width = len(payload.columns)
    row = "(" + ", ".join(["?"] * width + list(payload.literals.values())) + ")"
    limit = min(_SQLITE_PARAMETERS, raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER))
    # Statements of equal size (the last may be smaller): two statement texts per chunk size.
    statements = -(-payload.rows * max(width, 1) // limit)
    per = -(-payload.rows // statements)
    cur = raw.cursor()
    for start in range(0, payload.rows, per):
        rows = min(per, payload.rows - start)
        sql = f"INSERT INTO {table} ({columns}) VALUES {', '.join([row] * rows)}"  # noqa: S608 - fixed names and literals
        cur.execute(sql, payload.data[start * width : (start + rows) * width])
    cur.close()


class _Loader:
    """Writes validated chunks as they come, inside the import's transaction.

    Observations go through a writer thread: it inserts one chunk while the reader validates
    the next (the database releases the GIL while it writes, so both cores work), and only a
    couple of chunks are ever held in memory. The writer uses the driver's connection only;
    SQLAlchemy's Connection stays with the importing thread.
    """

    def __init__(
        self,
        conn: Connection,
        batch_id: int,
        options,
        uploaded_by: str | None,
        progress,
    ):
        self.conn = conn
        self.batch_id = batch_id
        self.create = options.create
        self.uploaded_by = uploaded_by
        self.progress = progress
        self.dialect = conn.dialect.name
        self.written = 0
        self.blocked = False
        self.initiatives = dict(conn.execute(select(Initiative.name, Initiative.id)).all())
        self.iterations = {
            (n, num): i
            for n, num, i in conn.execute(
                select(Initiative.name, Iteration.number, Iteration.id).join(
                    Iteration, Iteration.initiative_id == Initiative.id
                )
            )
        }
        self.metrics = dict(conn.execute(select(Metric.key, Metric.id)).all())
        # Each initiative's latest iteration when the import began: one above it may be created
        # without Create (the validation refuses a gap in the numbering, and with it the batch).
        self.latest: dict[str, int] = {}
        for name, number in self.iterations:
            self.latest[name] = max(self.latest.get(name, 0), number)
        # A file checked before the import began may create the next iterations it was
        # checked with, and only those (None: it is checked as it loads, so any above latest).
        self.next_allowed: set[tuple[str, int]] | None = None
        self.pending: queue.Queue = queue.Queue(maxsize=1)
        self.failure: list[BaseException] = []
        self.compressed: bytes | None = None
        self.checks_skipped = False
        self.locked: dict[type, set[int]] = {Initiative: set(), Iteration: set(), Metric: set()}
        self.thread = threading.Thread(target=self._writer, name="liftoff-bulk-insert", daemon=True)
        self.thread.start()

    def _writer(self) -> None:
        while (job := self.pending.get()) is not None:
            if self.failure:
                continue
            try:
                job()
            except BaseException as exc:  # re-raised in the importing thread by close()
                self.failure.append(exc)

    def _skip_foreign_key_checks(self) -> None:
        """PostgreSQL checks a row's foreign keys with one trigger each: three per observation,
        11 of the 13 s a million rows took. Where the role may (a superuser, or after
        `GRANT SET ON PARAMETER session_replication_role`), they are off for this transaction:
        the loader resolved every id itself, in this transaction, and takes the row locks the
        checks would take (`_lock`). Otherwise the rows are checked as usual."""
        if self.dialect != "postgresql" or self.checks_skipped:
            return
        try:
            with self.conn.begin_nested():
                self.conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        except DBAPIError:
            return  # not allowed: the triggers stay on
        self.checks_skipped = True

    def _lock(self, model, ids) -> None:
        """Lock the parent rows that new rows point at against deletion until this import
        commits (FOR KEY SHARE, as a foreign-key check does), once per row; only while the
        checks are off (they lock the rows themselves otherwise)."""
        if not self.checks_skipped:
            return
        new = {int(i) for i in ids if i is not None and i >= 0} - self.locked[model]
        if new:
            self.conn.execute(
                select(model.id)
                .where(model.id.in_(sorted(new)))
                .with_for_update(read=True, key_share=True)
            ).all()
            self.locked[model] |= new

    def compress(self, data: bytes) -> None:
        """Compress the original file in the writer thread (zlib lets go of the GIL) while
        the first chunk is read; `compressed` holds it once the loader is closed."""

        def job() -> None:
            self.compressed = zlib.compress(data, 1)

        self.pending.put(job)

    def close(self) -> None:
        self.pending.put(None)
        self.thread.join()
        if self.failure:
            raise self.failure[0]

    def _ensure(self, prepared: Prepared, frame: pd.DataFrame, pairs: list[tuple]) -> bool:
        """Create what the chunk names and does not exist yet (when allowed); False if the
        chunk names an initiative or iteration that may not be created. `pairs`: the chunk's
        distinct (initiative, iteration number) pairs."""
        now = datetime.now()
        if "initiative" in frame:
            for name in frame["initiative"].dropna().unique():
                if name not in self.initiatives:
                    if not self.create:
                        return False
                    self.initiatives[name] = self.conn.execute(
                        insert(Initiative)
                        .values(
                            name=name,
                            stage="poc",
                            slo_p95_ms=500.0,
                            max_error_rate=0.01,
                            created_at=now,
                        )
                        .returning(Initiative.id)
                    ).scalar_one()
        for name, number in pairs:
            key = (name, int(number))
            if key not in self.iterations:
                follows = (
                    key[1] > self.latest.get(name, 0)
                    if self.next_allowed is None
                    else key in self.next_allowed
                )
                if not self.create and not follows:
                    return False
                self._lock(Initiative, [self.initiatives[name]])
                self.iterations[key] = self.conn.execute(
                    insert(Iteration)
                    .values(initiative_id=self.initiatives[name], number=key[1], decision="pending")
                    .returning(Iteration.id)
                ).scalar_one()
                if prepared.kind != "criteria":  # a criteria file brings the new ones itself
                    evidence_writes.carry_criteria_forward(
                        self.conn, self.initiatives[name], self.iterations[key], key[1]
                    )
        for key, (display, category, unit, direction) in prepared.new_metrics.items():
            if key not in self.metrics:
                self.metrics[key] = self.conn.execute(
                    insert(Metric)
                    .values(
                        key=key,
                        display_name=display,
                        category=category,
                        unit=unit,
                        direction=direction,
                    )
                    .returning(Metric.id)
                ).scalar_one()
        return True

    def write(self, prepared: Prepared, target: str, frame: pd.DataFrame) -> None:
        if self.blocked or prepared.problems or self.failure:
            return  # the import will be refused; keep validating to report every problem
        # (initiative, iteration number) pairs, found once for the chunk: to create those
        # missing, and for every row's iteration id (-1 where there is none).
        codes, pairs = (
            distinct_pairs(frame["initiative"], frame["iteration"])
            if "iteration" in frame and "initiative" in frame
            else (np.full(len(frame), -1, dtype=np.int64), [])
        )
        if not self._ensure(prepared, frame, pairs):
            self.blocked = True
            return
        lookup = [self.iterations.get((n, int(k)), -1) for n, k in pairs]
        iteration_ids = np.array([*lookup, -1], dtype=np.int64)[codes]
        conn, batch_id = self.conn, self.batch_id
        if target == "observations":
            self._skip_foreign_key_checks()
            for start in range(0, len(frame), FAST_CHUNK):
                part = frame.iloc[start : start + FAST_CHUNK]
                ids = iteration_ids[start : start + FAST_CHUNK]
                rows = _observation_columns(part, ids, self.metrics)
                self._lock(Iteration, np.unique(rows["iteration_id"].to_numpy(na_value=-1)))
                self._lock(Metric, np.unique(rows["metric_id"].to_numpy(na_value=-1)))
                payload = _bulk_payload(self.dialect, rows, {"batch_id": batch_id})
                self.pending.put(partial(_bulk_frame, conn, "observations", payload))
        elif target == "load_test_steps":
            frame = frame.assign(
                iteration_id=_id_series(iteration_ids, frame.index), batch_id=batch_id
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
                initiative_id=frame["initiative"].map(self.initiatives), batch_id=batch_id
            )
            conn.execute(
                insert(TrafficPoint),
                _records(frame, ["initiative_id", "observed_at", "peak_rps", "batch_id"]),
            )
        elif target == "feedback":
            frame = frame.assign(
                initiative_id=frame["initiative"].map(self.initiatives),
                iteration_id=_id_series(iteration_ids, frame.index),
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
                iteration_id=_id_series(iteration_ids, frame.index),
                metric_id=frame["metric"]
                .astype(object)
                .map(lambda k: self.metrics.get(k) if isinstance(k, str) else None),
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
            _load_concerns(
                conn,
                frame,
                self.initiatives,
                self.iterations,
                self.metrics,
                batch_id,
                self.uploaded_by,
            )
        elif target == "governance_items":
            _load_governance(conn, frame, self.initiatives, batch_id)
        elif target == "stakeholder_stances":
            _load_stakeholders(conn, frame, self.initiatives, self.iterations, batch_id)
        self.written += len(frame)
        if self.progress:
            self.progress(self.written)


def _records(frame: pd.DataFrame, columns: list[str]) -> list[dict]:
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
        _remember(conn, batch_id, "concerns", concern_id, _snapshot(conn, Concern, concern_id))
        # Fields the file leaves empty keep what the register already says.
        changes = {k: v for k, v in values.items() if v is not None}
        conn.execute(update(Concern).where(Concern.id == concern_id).values(**changes))
        if changes.get("status", old_status) != old_status:
            record(concern_id, old_status, changes["status"], "Changed by re-import.")


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


def _load_stakeholders(conn, frame, initiatives, iterations, batch_id):
    """Upsert stakeholders by (initiative, name) and their stance at each iteration; what was
    there before is kept for rollback."""
    for rec in _records(frame, list(frame.columns)):
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
            _remember(conn, batch_id, "stakeholders", sid, {})
        elif any(v is not None for v in person.values()):
            _remember(conn, batch_id, "stakeholders", sid, _snapshot(conn, Stakeholder, sid))
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
            _remember(conn, batch_id, "stakeholder_stances", new_id, {})
        else:
            _remember(
                conn,
                batch_id,
                "stakeholder_stances",
                existing,
                _snapshot(conn, StakeholderStance, existing),
            )
            conn.execute(
                update(StakeholderStance)
                .where(StakeholderStance.id == existing)
                .values(stance=rec["stance"], note=rec["note"])
            )


def load_file(
    engine: Engine,
    actor: Actor,
    data: bytes,
    file_name: str,
    options,
    progress: Callable[[int], None] | None = None,
    checked: Prepared | None = None,
) -> tuple[Prepared, int]:
    """Validate and load a file in one pass and one transaction; returns (prepared, batch id).

    Rows are written as they are validated; the first problem stops the writing, validation
    goes on to collect every problem, and the transaction is rolled back: nothing is written.
    `checked` is a `prepare` result that kept every row (a small file): it is loaded as is.
    """
    require(actor, "upload")
    uploaded_by = actor.label
    sha = checked.sha256 if checked is not None else hashlib.sha256(data).hexdigest()
    with db.write(engine, bulk=True) as conn:
        # The batch row first: on SQLite it takes the write lock, so nothing changes the
        # initiatives, iterations and metrics between resolving their ids and using them.
        batch_id = conn.execute(
            insert(ImportBatch)
            .values(
                kind=checked.kind if checked else "pending",
                file_name=file_name,
                sha256=sha,
                rows_read=0,
                rows_accepted=0,
                uploaded_by=uploaded_by,
                uploaded_at=datetime.now(),
                status="committed",
                options=options_json(options),
            )
            .returning(ImportBatch.id)
        ).scalar_one()
        loader = _Loader(conn, batch_id, options, uploaded_by, progress)
        loader.compress(data)
        try:
            # A small file checked a moment ago is loaded as checked, unless someone imported
            # the same file since: then, as a large file, it is read and checked as it loads.
            reuse = checked is not None and (
                options.force or duplicate_batch(conn, sha, exclude=batch_id) is None
            )
            if reuse:
                prepared = checked
                loader.next_allowed = set(prepared.next_iterations)
                for target, parts in prepared.frames.items():
                    for frame in parts:
                        loader.write(prepared, target, frame)
            else:
                prepared = pipeline.prepare(
                    conn,
                    data,
                    file_name,
                    options,
                    sink=loader.write,
                    exclude_batch=batch_id,
                    sha256=sha,
                )
        finally:
            loader.close()
        if loader.blocked and prepared.ok:
            # Checked earlier, but an initiative or iteration it names is gone since.
            prepared.problems.add(
                None,
                None,
                None,
                "An initiative or iteration this file names was removed while it was being imported.",
                "Check the names and upload the file again.",
            )
        if not prepared.ok:
            raise prepared.rejection()  # leaving the block rolls everything back
        conn.execute(
            insert(ImportFile).values(
                batch_id=batch_id, size=len(data), compressed=loader.compressed
            )
        )
        conn.execute(
            update(ImportBatch)
            .where(ImportBatch.id == batch_id)
            .values(
                kind=prepared.kind,
                rows_read=prepared.rows_read,
                rows_accepted=prepared.rows_accepted,
                warnings="\n".join(prepared.warnings) or None,
            )
        )
        # Alerts and criteria this batch may have changed, with their messages, commit with it.
        notify.evaluate(conn, notify.initiatives_of_batch(conn, batch_id))
        audit.record(
            conn,
            actor,
            "import",
            f"Imported {file_name}: {count(prepared.rows_accepted, 'row')} of {prepared.kind} "
            f"as batch #{batch_id}",
            target="import_batch",
            target_id=batch_id,
            after={
                "batch_id": batch_id,
                "file_name": file_name,
                "kind": prepared.kind,
                "rows_read": prepared.rows_read,
                "rows_accepted": prepared.rows_accepted,
                "sha256": prepared.sha256,
            },
        )
    return prepared, batch_id


def commit(
    engine: Engine,
    actor: Actor,
    prepared: Prepared,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Load a file that `prepare` found valid; returns the import batch id. A large file is
    read and checked again as it is loaded, so what is stored is what the database holds now."""
    if not prepared.ok:
        raise prepared.rejection()
    _, batch_id = load_file(
        engine,
        actor,
        prepared.raw,
        prepared.file_name,
        prepared.options,
        progress,
        checked=prepared if prepared.complete else None,
    )
    return batch_id
