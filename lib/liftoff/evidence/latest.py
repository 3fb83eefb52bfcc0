"""The latest-values read model: per iteration, metric and candidate, the latest unsegmented
observation, kept in `latest_observations` as observations are written, so that what the
screens read does not grow with the observations table.

Latest means: dated before undated, then the newest date, the newest batch, the last row (the
highest id). An import merges its own batch's winners in (`merge_batch`); a rollback, which can
only take winners away, ranks its iterations again (`rebuild`), as does anything that writes
observations some other way (the benchmarks, a repair: `rebuild(conn)` for every iteration).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, bindparam, delete, text

from liftoff.db.models import LatestObservation

_COLUMNS = "iteration_id, metric_id, candidate, observation_id, value, recorded_at, batch_id"

# The winners among the observations that `where` keeps, one per (iteration, metric,
# candidate). SQLite, whose window sort takes seconds on a million rows, keeps the maximum of
# a text key per group: "1" + the date for dated rows ("0" for undated ones, which rank below),
# then batch and row id at fixed width, so the winner's id is the key's last 12 characters
# (dates are stored as fixed-width ISO text). PostgreSQL: DISTINCT ON in the same order.
_WINNERS = {
    "sqlite": """
SELECT o.iteration_id, o.metric_id, coalesce(o.candidate, ''), o.id, o.value, o.recorded_at,
       o.batch_id
FROM (
    SELECT max(
        CASE WHEN recorded_at IS NULL THEN '0' ELSE '1' || recorded_at END
        || char(1) || printf('%012d%012d', batch_id, id)
    ) AS k
    FROM observations
    WHERE segment IS NULL AND {where}
    GROUP BY iteration_id, metric_id, candidate
) AS latest
JOIN observations AS o ON o.id = CAST(substr(latest.k, -12) AS INTEGER)
WHERE true
ORDER BY 1, 2, 3
""",
    "postgresql": """
SELECT DISTINCT ON (iteration_id, metric_id, coalesce(candidate, ''))
       iteration_id, metric_id, coalesce(candidate, ''), id, value, recorded_at, batch_id
FROM observations
WHERE segment IS NULL AND {where}
ORDER BY iteration_id, metric_id, coalesce(candidate, ''),
         recorded_at IS NOT NULL DESC, recorded_at DESC, batch_id DESC, id DESC
""",
}

# A winner replaces the row kept for its group only when it ranks above it: the merge gives the
# same rows whatever order imports commit in.
_MERGE = f"""
INSERT INTO latest_observations ({_COLUMNS})
{{winners}}
ON CONFLICT (iteration_id, metric_id, candidate) DO UPDATE SET
    observation_id = excluded.observation_id,
    value = excluded.value,
    recorded_at = excluded.recorded_at,
    batch_id = excluded.batch_id
WHERE CASE
    WHEN excluded.recorded_at IS NULL THEN latest_observations.recorded_at IS NULL
        AND (excluded.batch_id, excluded.observation_id)
            > (latest_observations.batch_id, latest_observations.observation_id)
    WHEN latest_observations.recorded_at IS NULL THEN true
    ELSE (excluded.recorded_at, excluded.batch_id, excluded.observation_id)
        > (latest_observations.recorded_at, latest_observations.batch_id,
           latest_observations.observation_id)
END
"""


def _merge(conn: Connection, where: str, **params) -> None:
    winners = _WINNERS[conn.dialect.name].format(where=where)
    stmt = text(_MERGE.format(winners=winners))
    if "ids" in params:
        stmt = stmt.bindparams(bindparam("ids", expanding=True))
    conn.execute(stmt, params)


def id_floor(conn: Connection) -> int:
    """The highest observation id now: a batch written after this has only higher ids."""
    return conn.execute(text("SELECT coalesce(max(id), 0) FROM observations")).scalar_one()


def merge_batch(conn: Connection, batch_id: int, floor: int) -> None:
    """Merge a batch's own latest values in, inside its import's transaction. `floor` is
    `id_floor` before the batch's first row: its rows are found through the primary key, not
    by a pass over the whole table."""
    _merge(conn, "id > :floor AND batch_id = :batch", floor=floor, batch=batch_id)


def rebuild(conn: Connection, iteration_ids: Iterable[int] | None = None) -> None:
    """Rank these iterations' observations again (None: every iteration)."""
    if iteration_ids is None:
        conn.execute(delete(LatestObservation))
        _merge(conn, "true")
        return
    ids = sorted({int(i) for i in iteration_ids})
    if not ids:
        return
    conn.execute(delete(LatestObservation).where(LatestObservation.iteration_id.in_(ids)))
    _merge(conn, "iteration_id IN :ids", ids=ids)


def iterations_of_batch(conn: Connection, batch_id: int) -> list[int]:
    """The iterations where a batch holds a latest value: those a rollback must rank again."""
    return list(
        conn.execute(
            text("SELECT DISTINCT iteration_id FROM latest_observations WHERE batch_id = :b"),
            {"b": batch_id},
        ).scalars()
    )
