"""Reads. Aggregation happens in SQL; what comes back is small enough for the screens."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime

from sqlalchemy import (
    Engine,
    case,
    func,
    select,
)

from liftoff import db
from liftoff.db import files
from liftoff.db.models import (
    AlertRule,
    BatchInitiative,
    Criterion,
    ImportBatch,
    ImportFile,
    Initiative,
    Iteration,
    LatestObservation,
    LoadTestStep,
    Metric,
    Observation,
    TrafficPoint,
    name_of,
)
from liftoff.errors import LiftoffError
from liftoff.evidence.rules import LatestValue, LoadStep
from liftoff.names import closest as closest_name


class NotFound(LiftoffError, LookupError):
    """A named initiative or iteration does not exist; the message says which ones do."""


def initiatives(engine: Engine) -> list[dict]:
    """Every initiative with its settings, by name."""
    with db.reading(engine) as conn:
        rows = conn.execute(select(Initiative.__table__).order_by(Initiative.name)).mappings().all()
    return [_initiative_dict(r) for r in rows]


def _initiative_dict(row) -> dict:
    return {
        "id": row["id"],
        "name": row["name"],
        "business_goal": row["business_goal"],
        "owner": row["owner"],
        "stage": row["stage"],
        "slo_p95_ms": row["slo_p95_ms"],
        "max_error_rate": row["max_error_rate"],
        "primary_metric": row["primary_metric_key"],
        "min_headroom": row["min_headroom"],
        "min_readiness": row["min_readiness"],
    }


def initiative_by_name(engine: Engine, name: str) -> dict:
    """One initiative by its exact name; NotFound lists the names that exist."""
    with db.reading(engine) as conn:
        row = (
            conn.execute(select(Initiative.__table__).where(Initiative.name == name))
            .mappings()
            .one_or_none()
        )
        if row is None:
            names = conn.execute(select(Initiative.name).order_by(Initiative.name)).scalars().all()
            known = ", ".join(names) if names else "none yet: load the demo or import data"
            meant = closest_name(name, names)
            if meant is not None:  # the importer answers a misspelt name the same way
                raise NotFound(f"No initiative is named {name!r}. Did you mean {meant!r}?")
            raise NotFound(f"No initiative is named {name!r}. Initiatives: {known}.")
        return _initiative_dict(row)


def iterations(engine: Engine, initiative_ids: list[int]) -> dict[int, list[dict]]:
    """Iterations of each initiative, by number."""
    out: dict[int, list[dict]] = defaultdict(list)
    if not initiative_ids:
        return out
    stmt = (
        select(Iteration.__table__)
        .where(Iteration.initiative_id.in_(initiative_ids))
        .order_by(Iteration.initiative_id, Iteration.number)
    )
    with db.reading(engine) as conn:
        for it in conn.execute(stmt).mappings():
            row = dict(it)
            out[row.pop("initiative_id")].append(row)
    return out


def iteration_numbers(engine: Engine, initiative: str) -> list[int]:
    """The iteration numbers of the initiative named `initiative`, in order (the Upload page's
    hint, which needs nothing else of the initiative's evidence)."""
    stmt = (
        select(Iteration.number)
        .join(Initiative, Initiative.id == Iteration.initiative_id)
        .where(Initiative.name == initiative)
        .order_by(Iteration.number)
    )
    with db.reading(engine) as conn:
        return list(conn.execute(stmt).scalars())


def metric_catalog(engine: Engine) -> dict[str, dict]:
    """Every metric definition by key."""
    with db.reading(engine) as conn:
        rows = conn.execute(select(Metric.__table__).order_by(Metric.id)).mappings().all()
    return {m["key"]: dict(m) for m in rows}


def latest_values(engine: Engine, initiative_ids: list[int]) -> dict[int, list[LatestValue]]:
    """Per iteration: the latest unsegmented observation of each (metric, candidate), from the
    read model the importer keeps (liftoff.evidence.latest); the headline rule then picks among
    these few rows. What this reads does not grow with the observations table."""
    out: dict[int, list[LatestValue]] = defaultdict(list)
    if not initiative_ids:
        return out
    lo = LatestObservation
    stmt = (
        select(
            lo.iteration_id,
            lo.candidate,
            lo.value,
            lo.recorded_at,
            lo.batch_id,
            lo.observation_id,
            Metric.key,
        )
        .join(Metric, Metric.id == lo.metric_id)
        .where(
            lo.iteration_id.in_(
                select(Iteration.id).where(Iteration.initiative_id.in_(initiative_ids))
            )
        )
        .order_by(lo.iteration_id, Metric.id, lo.candidate)
    )
    with db.reading(engine) as conn:
        for r in conn.execute(stmt).mappings():
            out[r["iteration_id"]].append(
                LatestValue(
                    metric_key=r["key"],
                    candidate=r["candidate"] or None,
                    value=r["value"],
                    recorded_at=r["recorded_at"],
                    batch_id=r["batch_id"],
                    observation_id=r["observation_id"],
                )
            )
    return out


def criteria(engine: Engine, initiative_ids: list[int]) -> dict[int, list[dict]]:
    """Criteria per iteration id, in the order they were written."""
    out: dict[int, list[dict]] = defaultdict(list)
    if not initiative_ids:
        return out
    stmt = (
        select(Criterion.__table__, Metric.key.label("metric"))
        .join(Iteration, Iteration.id == Criterion.iteration_id)
        .outerjoin(Metric, Metric.id == Criterion.metric_id)
        .where(Iteration.initiative_id.in_(initiative_ids))
        .order_by(Criterion.iteration_id, Criterion.id)
    )
    with db.reading(engine) as conn:
        for c in conn.execute(stmt).mappings():
            out[c["iteration_id"]].append(
                {
                    "id": c["id"],
                    "kind": c["kind"],
                    "metric": c["metric"],
                    "comparator": c["comparator"],
                    "target": c["target"],
                    "description": c["description"],
                    "manual_status": c["manual_status"],
                    "evidence_note": c["evidence_note"],
                    "carried_over": bool(c["carried_over"]),
                }
            )
    return out


def load_steps(engine: Engine, initiative_ids: list[int]) -> dict[int, list[LoadStep]]:
    """Load-test steps per iteration id (not those a later load test replaced)."""
    out: dict[int, list[LoadStep]] = defaultdict(list)
    if not initiative_ids:
        return out
    s = LoadTestStep
    stmt = (
        select(s.iteration_id, s.users, s.throughput_rps, s.p95_ms, s.failure_ratio)
        .join(Iteration, Iteration.id == s.iteration_id)
        .where(Iteration.initiative_id.in_(initiative_ids), s.replaced_by.is_(None))
        .order_by(s.iteration_id, s.users, s.id)
    )
    with db.reading(engine) as conn:
        for it_id, users, rps, p95, fail in conn.execute(stmt):
            out[it_id].append(LoadStep(users, rps, p95, fail))
    return out


def traffic(engine: Engine, initiative_ids: list[int]) -> dict[int, list[tuple[date, float]]]:
    """Peak traffic per initiative: (day, highest peak rps that day), oldest first."""
    out: dict[int, list[tuple[date, float]]] = defaultdict(list)
    if not initiative_ids:
        return out
    t = TrafficPoint
    stmt = (
        select(t.initiative_id, t.observed_at, t.peak_rps)
        .where(t.initiative_id.in_(initiative_ids))
        .order_by(t.initiative_id, t.observed_at)
    )
    with db.reading(engine) as conn:
        for init_id, at, peak in conn.execute(stmt):
            day = at.date() if isinstance(at, datetime) else at
            series = out[init_id]
            if series and series[-1][0] == day:
                series[-1] = (day, max(series[-1][1], peak))
            else:
                series.append((day, peak))
    return out


def import_batches(engine: Engine, limit: int = 500) -> list[dict]:
    """The newest import batches first, without their raw files."""
    b = ImportBatch
    stmt = (
        select(
            b.id,
            b.kind,
            b.file_name,
            b.rows_read,
            b.rows_accepted,
            name_of(b.uploaded_by).label("uploaded_by"),
            b.uploaded_at,
            b.status,
            name_of(b.rolled_back_by).label("rolled_back_by"),
            b.rolled_back_at,
        )
        .order_by(b.id.desc())
        .limit(limit)
    )
    with db.reading(engine) as conn:
        rows = [dict(r) for r in conn.execute(stmt).mappings()]
        # The initiatives each batch brought data for, by their names now (one renamed since
        # reads under its new name).
        names = conn.execute(
            select(BatchInitiative.batch_id, Initiative.name)
            .join(Initiative, Initiative.id == BatchInitiative.initiative_id)
            .where(BatchInitiative.batch_id >= (rows[-1]["id"] if rows else 0))
            .order_by(BatchInitiative.batch_id, Initiative.name)
        ).all()
    of: dict[int, list[str]] = defaultdict(list)
    for batch_id, name in names:
        of[batch_id].append(name)
    for r in rows:
        r["initiatives"] = of.get(r["id"], [])
    return rows


def replaced_load_steps(engine: Engine) -> dict[int, list[tuple[int, int]]]:
    """Per batch, the load-test steps of it that later imports replaced: [(by batch, steps)]."""
    s = LoadTestStep
    stmt = (
        select(s.batch_id, s.replaced_by, func.count())
        .where(s.replaced_by.is_not(None))
        .group_by(s.batch_id, s.replaced_by)
        .order_by(s.batch_id, s.replaced_by)
    )
    out: dict[int, list[tuple[int, int]]] = defaultdict(list)
    with db.reading(engine) as conn:
        for batch_id, by, n in conn.execute(stmt):
            out[batch_id].append((by, n))
    return dict(out)


def import_batch(engine: Engine, batch_id: int) -> dict | None:
    """One import batch with its warnings and options; `file_size` is the original file's
    size in bytes (None for a batch with no file, such as the demo's)."""
    stmt = (
        select(
            ImportBatch.__table__,
            ImportFile.size.label("file_size"),
            # People by their names for the screen, as the history table shows them.
            name_of(ImportBatch.uploaded_by).label("uploaded_by_name"),
            name_of(ImportBatch.rolled_back_by).label("rolled_back_by_name"),
        )
        .outerjoin(ImportFile, ImportFile.batch_id == ImportBatch.id)
        .where(ImportBatch.id == batch_id)
    )
    with db.reading(engine) as conn:
        row = conn.execute(stmt).mappings().one_or_none()
    return dict(row) if row else None


def original_file(engine: Engine, batch_id: int) -> bytes | None:
    """The file a batch was imported from, byte for byte (None if it kept none)."""
    with db.reading(engine) as conn:
        kept = conn.execute(
            select(ImportFile.compressed, ImportFile.size).where(ImportFile.batch_id == batch_id)
        ).one_or_none()
    return None if kept is None else files.unpack(kept.compressed, kept.size)


def alert_rules(engine: Engine, initiative_ids: list[int]) -> dict[int, list[dict]]:
    """Alert rules per initiative id, each initiative's own and those for all initiatives."""

    out: dict[int, list[dict]] = defaultdict(list)
    if not initiative_ids:
        return out
    stmt = (
        select(AlertRule.__table__, Metric.key.label("metric"))
        .join(Metric, Metric.id == AlertRule.metric_id)
        .where((AlertRule.initiative_id.in_(initiative_ids)) | (AlertRule.initiative_id.is_(None)))
        .order_by(AlertRule.id)
    )
    with db.reading(engine) as conn:
        rows = [dict(r) for r in conn.execute(stmt).mappings()]
    for init_id in initiative_ids:
        out[init_id] = [r for r in rows if r["initiative_id"] in (init_id, None)]
    return out


def segment_values(engine: Engine, iteration_id: int, metric_keys: list[str]) -> list[dict]:
    """Latest value per (metric, segment) of one iteration, for segmented observations."""
    o = Observation
    rank = (
        func.row_number()
        .over(
            partition_by=(o.metric_id, o.segment),
            order_by=(
                case((o.recorded_at.is_(None), 0), else_=1).desc(),
                o.recorded_at.desc(),
                o.id.desc(),
            ),
        )
        .label("rank")
    )
    inner = (
        select(o.metric_id, o.segment, o.value, rank)
        .where(o.iteration_id == iteration_id, o.segment.is_not(None))
        .subquery()
    )
    stmt = (
        select(Metric.key, inner.c.segment, inner.c.value)
        .join(Metric, Metric.id == inner.c.metric_id)
        .where(inner.c.rank == 1, Metric.key.in_(metric_keys))
        .order_by(Metric.key, inner.c.segment)
    )
    with db.reading(engine) as conn:
        return [{"metric": k, "segment": s, "value": v} for k, s, v in conn.execute(stmt)]
