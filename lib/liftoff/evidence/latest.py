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

import numpy as np
import pandas as pd
from sqlalchemy import Connection, bindparam, delete, text

from liftoff.db import stored
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
_UPSERT = """
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
_MERGE = f"INSERT INTO latest_observations ({_COLUMNS})\n{{winners}}{_UPSERT}"
_MERGE_ROWS = text(
    f"INSERT INTO latest_observations ({_COLUMNS}) VALUES (:iteration_id, :metric_id, "  # noqa: S608 - fixed names
    f":candidate, :observation_id, :value, :recorded_at, :batch_id){_UPSERT}"
)


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


class BatchWinners:
    """An import's own winners, ranked as its chunks are written, so that committing it needs
    no pass over its million rows (`merge_batch` took 0.7 s of a 2 s import on SQLite, 1.3 s
    of 3.4 s on PostgreSQL).

    Rows are ranked by their place in the batch, which follows their ids: SQLite gives a row
    inserted without an id the highest id plus one, and the import holds the write lock from
    its batch row on, so its rows get the ids after `floor` in the order they are written. On
    PostgreSQL each chunk's COPY takes its ids from the sequence in row order; the writer notes
    where each chunk's ids begin and whether they ran without a gap (`placed`). `merge` checks
    that this held (SQLite: the highest id is `floor` plus the rows written) and otherwise
    ranks the batch in SQL, as `merge_batch` does.
    """

    def __init__(self, floor: int):
        self.floor = floor
        self.written = 0
        self.kept: dict[str, np.ndarray | None] | None = None  # the winners so far, by column
        # PostgreSQL: (place of the chunk's first row, its id), and whether every chunk's ids
        # ran without a gap; None on SQLite.
        self.chunks: list[tuple[int, int]] | None = None
        self.contiguous = True

    def placed(self, start: int, first_id: int, rows: int, last_id: int) -> None:
        """The ids a chunk written from place `start` took (PostgreSQL, from the writer)."""
        if self.chunks is None:
            self.chunks = []
        self.chunks.append((start, first_id))
        self.contiguous = self.contiguous and last_id - first_id + 1 == rows

    def add(self, rows: dict) -> int:
        """A chunk's observation columns, in the order they are inserted; returns the place
        of its first row in the batch."""
        n = len(rows["value"])
        start = self.written
        self.written += n
        plain = np.flatnonzero(pd.isna(rows["segment"]))
        if not len(plain):
            return start
        candidate = rows["candidate"][plain]
        missing = pd.isna(candidate)
        chunk = {
            "iteration_id": np.asarray(rows["iteration_id"], dtype=np.int64)[plain],
            "metric_id": np.asarray(rows["metric_id"], dtype=np.int64)[plain],
            "candidate": None if missing.all() else np.where(missing, "", candidate),
            "place": plain + start,
            "value": np.asarray(rows["value"])[plain],
            "recorded_at": np.asarray(rows["recorded_at"], dtype="datetime64[us]")[plain],
        }
        if self.kept is not None:
            if (chunk["candidate"] is None) != (self.kept["candidate"] is None):
                for part in (chunk, self.kept):
                    if part["candidate"] is None:
                        part["candidate"] = np.full(len(part["value"]), "", dtype=object)
            chunk = {
                k: None if v is None else np.concatenate([self.kept[k], v])
                for k, v in chunk.items()
            }
        # One integer per group (compact codes); a group's winner is the last row of those with
        # its newest date (as an integer, where NaT is the smallest value: undated readings rank
        # below dated ones), since places grow down the frame. Two passes, no sort.
        codes = (
            np.zeros(len(chunk["value"]), dtype=np.int64)
            if chunk["candidate"] is None
            else pd.factorize(chunk["candidate"])[0].astype(np.int64)
        )
        metrics = int(chunk["metric_id"].max()) + 1
        group = (chunk["iteration_id"] * metrics + chunk["metric_id"]) * (int(codes.max()) + 1)
        group, distinct = pd.factorize(group + codes)
        dates = chunk["recorded_at"].view(np.int64)
        newest = np.full(len(distinct), np.iinfo(np.int64).min)
        np.maximum.at(newest, group, dates)
        top = np.flatnonzero(dates == newest[group])
        winners = np.full(len(distinct), -1)
        np.maximum.at(winners, group[top], top)
        self.kept = {k: None if v is None else v[winners] for k, v in chunk.items()}
        return start

    def _ids(self, conn: Connection, places: np.ndarray) -> np.ndarray | None:
        """The ids the rows at these places got (None: not known for sure)."""
        if self.chunks is None:  # SQLite
            if id_floor(conn) != self.floor + self.written:
                return None
            return places + self.floor + 1
        if not self.contiguous or not self.chunks:
            return None
        starts = np.array([s for s, _ in self.chunks], dtype=np.int64)
        firsts = np.array([f for _, f in self.chunks], dtype=np.int64)
        at = np.searchsorted(starts, places, side="right") - 1
        return firsts[at] + places - starts[at]

    def merge(self, conn: Connection, batch_id: int) -> None:
        if self.kept is None:
            return
        kept = self.kept
        ids = self._ids(conn, kept["place"])
        if ids is None:  # ids not as expected: rank in SQL
            merge_batch(conn, batch_id, self.floor)
            return
        size = len(kept["value"])
        rows = zip(
            kept["iteration_id"].tolist(),
            kept["metric_id"].tolist(),
            [""] * size if kept["candidate"] is None else kept["candidate"].tolist(),
            ids.tolist(),
            kept["value"].tolist(),
            stored.moments(kept["recorded_at"]),
            strict=True,
        )
        names = ("iteration_id", "metric_id", "candidate", "observation_id", "value", "recorded_at")
        conn.execute(
            _MERGE_ROWS, [dict(zip(names, row, strict=True), batch_id=batch_id) for row in rows]
        )


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
