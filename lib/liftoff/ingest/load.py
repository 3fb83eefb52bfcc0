"""Loading a validated file: one transaction, one import batch, every row traceable to it."""

from __future__ import annotations

import hashlib
import queue
import threading
from collections.abc import Callable
from datetime import datetime
from functools import partial

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError

from liftoff import db
from liftoff.access import audit
from liftoff.access.auth import Actor, require
from liftoff.db import files
from liftoff.db.models import (
    BatchChange,
    BatchInitiative,
    Concern,
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
from liftoff.evidence import latest
from liftoff.evidence import writes as evidence_writes
from liftoff.formatting import count
from liftoff.ingest import pipeline
from liftoff.ingest.bulk import (
    FAST_CHUNK,
    bulk_frame,
    bulk_payload,
    id_series,
    observation_columns,
)
from liftoff.ingest.pipeline import duplicate_batch, options_json
from liftoff.ingest.prepared import Prepared
from liftoff.ingest.upserts import (
    load_concerns,
    load_governance,
    load_stakeholders,
    records,
)
from liftoff.ingest.values import distinct_pairs
from liftoff.notify import outbox as notify


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
        floor: int = 0,
    ):
        self.conn = conn
        self.batch_id = batch_id
        self.create = options.create
        self.replace_load_tests = options.replace_load_tests
        self.uploaded_by = uploaded_by
        self.progress = progress
        self.dialect = conn.dialect.name
        self.written = 0
        self.wrote_observations = False
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
        # The batch's winners for the latest-values read model, ranked as it is written.
        self.winners = latest.BatchWinners(floor)
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
        """Compress the original file in the writer thread (it lets go of the GIL) while
        the first chunk is read; `compressed` holds it once the loader is closed."""

        def job() -> None:
            self.compressed = files.pack(data)

        self.pending.put(job)

    def _copy_observations(self, payload, place: int) -> None:
        """COPY a chunk of observations (PostgreSQL) and note the ids it took: one drawn from
        the sequence before it (and left unused), the last after it. The chunk's rows took the
        ids in between, in order, unless another session drew some meanwhile."""
        raw = self.conn.connection.driver_connection
        sequence = "pg_get_serial_sequence('observations', 'id')"
        with raw.cursor() as cur:
            before = cur.execute(f"SELECT nextval({sequence})").fetchone()[0]
            bulk_frame(self.conn, "observations", payload)
            last = cur.execute(f"SELECT currval({sequence})").fetchone()[0]
        self.winners.placed(place, before + 1, payload.rows, last)

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
                if name not in self.initiatives and (found := self._find(Initiative, name=name)):
                    self.initiatives[name] = found  # made by another import meanwhile
                if name not in self.initiatives:
                    if not self.create:
                        return False
                    self.initiatives[name], _ = self._insert_or_find(
                        Initiative,
                        dict(name=name),
                        dict(stage="poc", slo_p95_ms=500.0, max_error_rate=0.01, created_at=now),
                    )
        for name, number in pairs:
            key = (name, int(number))
            if key not in self.iterations and (
                found := self._find(Iteration, initiative_id=self.initiatives[name], number=key[1])
            ):
                self.iterations[key] = found
            if key not in self.iterations:
                follows = (
                    key[1] > self.latest.get(name, 0)
                    if self.next_allowed is None
                    else key in self.next_allowed
                )
                if not self.create and not follows:
                    return False
                self._lock(Initiative, [self.initiatives[name]])
                self.iterations[key], created = self._insert_or_find(
                    Iteration,
                    dict(initiative_id=self.initiatives[name], number=key[1]),
                    dict(decision="pending"),
                )
                # A criteria file brings the new ones itself; an iteration another import
                # made meanwhile has had its criteria carried forward there.
                if created and prepared.kind != "criteria":
                    evidence_writes.carry_criteria_forward(
                        self.conn, self.initiatives[name], self.iterations[key], key[1]
                    )
        for key, (display, category, unit, direction) in prepared.new_metrics.items():
            if key not in self.metrics:
                self.metrics[key], _ = self._insert_or_find(
                    Metric,
                    dict(key=key),
                    dict(display_name=display, category=category, unit=unit, direction=direction),
                )
        if "metric" in frame:
            # Metrics the validation found, made by another import after this one read them.
            unknown = [k for k in frame["metric"].dropna().unique() if k not in self.metrics]
            if unknown:
                self.metrics.update(
                    self.conn.execute(
                        select(Metric.key, Metric.id).where(Metric.key.in_(unknown))
                    ).all()
                )
        return True

    def _find(self, model, **keys) -> int | None:
        return self.conn.execute(select(model.id).filter_by(**keys)).scalar()

    def _insert_or_find(self, model, keys: dict, values: dict) -> tuple[int, bool]:
        """The id of the row of `model` with `keys`, inserted with `values` unless it exists;
        and whether this import made it. Another import may have made the same metric,
        initiative or iteration since this one read what exists (several pipelines pushing at
        once): then it is used, where a plain INSERT would fail on the unique key. On
        PostgreSQL the INSERT waits for that other import to commit or roll back first."""
        dialect = postgresql if self.conn.dialect.name == "postgresql" else sqlite
        made = self.conn.execute(
            dialect.insert(model)
            .values(**keys, **values)
            .on_conflict_do_nothing(index_elements=list(keys))
            .returning(model.id)
        ).scalar()
        if made is not None:
            if model in (Initiative, Iteration, Metric):  # a rollback removes it again when empty
                self.conn.execute(
                    insert(BatchChange).values(
                        batch_id=self.batch_id,
                        table_name=model.__tablename__,
                        row_id=made,
                        before="{}",
                    )
                )
            return made, True
        return self.conn.execute(select(model.id).filter_by(**keys)).scalar_one(), False

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
            self.wrote_observations = True
            self._skip_foreign_key_checks()
            for start in range(0, len(frame), FAST_CHUNK):
                part = frame.iloc[start : start + FAST_CHUNK]
                ids = iteration_ids[start : start + FAST_CHUNK]
                rows = observation_columns(part, ids, self.metrics)
                self._lock(Iteration, np.unique(rows["iteration_id"].to_numpy(na_value=-1)))
                self._lock(Metric, np.unique(rows["metric_id"].to_numpy(na_value=-1)))
                payload = bulk_payload(self.dialect, rows, {"batch_id": batch_id})
                place = self.winners.add(rows)
                if self.dialect == "postgresql":
                    self.pending.put(partial(self._copy_observations, payload, place))
                else:
                    self.pending.put(partial(bulk_frame, conn, "observations", payload))
        elif target == "load_test_steps":
            frame = frame.assign(
                iteration_id=id_series(iteration_ids, frame.index), batch_id=batch_id
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
            recs = records(frame, cols)
            for r in recs:
                r["users"] = int(r["users"])
            if self.replace_load_tests:
                # The iterations' earlier steps stop counting; they stay in their batches and
                # count again when this one is rolled back (rollback.py).
                conn.execute(
                    update(LoadTestStep)
                    .where(
                        LoadTestStep.iteration_id.in_(sorted({r["iteration_id"] for r in recs})),
                        LoadTestStep.batch_id != batch_id,
                        LoadTestStep.replaced_by.is_(None),
                    )
                    .values(replaced_by=batch_id)
                )
            conn.execute(insert(LoadTestStep), recs)
        elif target == "traffic":
            frame = frame.assign(
                initiative_id=frame["initiative"].map(self.initiatives), batch_id=batch_id
            )
            conn.execute(
                insert(TrafficPoint),
                records(frame, ["initiative_id", "observed_at", "peak_rps", "batch_id"]),
            )
        elif target == "feedback":
            frame = frame.assign(
                initiative_id=frame["initiative"].map(self.initiatives),
                iteration_id=id_series(iteration_ids, frame.index),
                batch_id=batch_id,
            )
            conn.execute(
                insert(Feedback),
                records(
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
                iteration_id=id_series(iteration_ids, frame.index),
                metric_id=frame["metric"]
                .astype(object)
                .map(lambda k: self.metrics.get(k) if isinstance(k, str) else None),
                batch_id=batch_id,
            )
            conn.execute(
                insert(Criterion),
                records(
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
            load_concerns(
                conn,
                frame,
                self.initiatives,
                self.iterations,
                self.metrics,
                batch_id,
                self.uploaded_by,
            )
        elif target == "governance_items":
            load_governance(conn, frame, self.initiatives, batch_id)
        elif target == "stakeholder_stances":
            load_stakeholders(conn, frame, self.initiatives, self.iterations, batch_id)
        self.written += len(frame)
        if self.progress:
            self.progress(self.written)


def initiatives_of(conn: Connection, batch_id: int, known: set[int]) -> set[int]:
    """Every initiative a batch brought data for: `known` (those of its observations and
    criteria, which the alert evaluation has read already; one pass over the observations is
    enough), those of its load tests, traffic, feedback and concerns, and those of the rows it
    created or changed (an initiative, an iteration, a stakeholder, a governance item)."""
    ids = set(known)
    direct = (
        select(Iteration.initiative_id).where(
            Iteration.id.in_(
                select(LoadTestStep.iteration_id).where(LoadTestStep.batch_id == batch_id)
            )
        ),
        select(TrafficPoint.initiative_id).where(TrafficPoint.batch_id == batch_id),
        select(Feedback.initiative_id).where(Feedback.batch_id == batch_id),
        select(Concern.initiative_id).where(Concern.batch_id == batch_id),
    )
    for stmt in direct:
        ids.update(conn.execute(stmt.distinct()).scalars())
    changed = BatchChange
    # The initiative of a row the batch created or changed, by the table it is in.
    owners = {
        "initiatives": select(Initiative.id).where(Initiative.id == changed.row_id),
        "iterations": select(Iteration.initiative_id).where(Iteration.id == changed.row_id),
        "governance_items": select(GovernanceItem.initiative_id).where(
            GovernanceItem.id == changed.row_id
        ),
        "stakeholders": select(Stakeholder.initiative_id).where(Stakeholder.id == changed.row_id),
        "concerns": select(Concern.initiative_id).where(Concern.id == changed.row_id),
        "stakeholder_stances": select(Stakeholder.initiative_id)
        .join(StakeholderStance, StakeholderStance.stakeholder_id == Stakeholder.id)
        .where(StakeholderStance.id == changed.row_id),
    }
    for table, owner in owners.items():
        stmt = owner.where(changed.batch_id == batch_id, changed.table_name == table).distinct()
        ids.update(v for v in conn.execute(stmt).scalars() if v is not None)
    return ids


def load_file(
    engine: Engine,
    actor: Actor,
    data: bytes,
    file_name: str,
    options,
    progress: Callable[[int], None] | None = None,
    checked: Prepared | None = None,
    sha256: str | None = None,
) -> tuple[Prepared, int]:
    """Validate and load a file in one pass and one transaction; returns (prepared, batch id).

    Rows are written as they are validated; the first problem stops the writing, validation
    goes on to collect every problem, and the transaction is rolled back: nothing is written.
    `checked` is a `prepare` result that kept every row (a small file): it is loaded as is.
    """
    require(actor, "upload")
    uploaded_by = actor.label
    # `sha256`: the hash the batch is known by when it is not that of `data` (the demo's files
    # are recorded as they are on disk, though their dates are moved on the way in), so that the
    # same file uploaded again is seen for what it is.
    sha = sha256 or (checked.sha256 if checked is not None else hashlib.sha256(data).hexdigest())
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
        floor = latest.id_floor(conn)  # this batch's observations come after it
        loader = _Loader(conn, batch_id, options, uploaded_by, progress, floor)
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
        if loader.wrote_observations:
            loader.winners.merge(conn, batch_id)
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
        evaluated = notify.initiatives_of_batch(conn, batch_id)
        notify.evaluate(conn, evaluated)
        touched = initiatives_of(conn, batch_id, evaluated)
        if touched:
            conn.execute(
                insert(BatchInitiative),
                [{"batch_id": batch_id, "initiative_id": i} for i in sorted(touched)],
            )
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
