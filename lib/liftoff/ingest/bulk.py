"""Writing many rows fast: columns as arrays, sent in the fewest statements each database allows
(SQLite's bound-parameter limit, PostgreSQL's COPY)."""

from __future__ import annotations

import io
import sqlite3
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv
from sqlalchemy import Connection

from liftoff.db import stored

FAST_CHUNK = 50_000


def id_series(ids: np.ndarray, index: pd.Index) -> pd.Series:
    """Ids (-1 where unknown) as a nullable integer column."""
    return pd.Series(pd.arrays.IntegerArray(ids, ids < 0), index=index)


def observation_columns(frame: pd.DataFrame, iteration_ids: np.ndarray, metrics) -> dict[str, Any]:
    """The chunk as the observations table's columns (arrays, no Python object per row), in
    the order of the table's index (iteration, metric): the index then grows in a few runs
    per chunk instead of at a random place for every row. The sort is stable, so readings of
    one iteration and metric keep the file's order (it ranks readings taken at the same time)."""
    metric = frame["metric"]
    if not isinstance(metric.dtype, pd.CategoricalDtype):
        metric = metric.astype("category")
    lookup = np.array([metrics.get(k, -1) for k in metric.cat.categories] + [-1], dtype=np.int64)
    metric_ids = lookup[metric.cat.codes.to_numpy()]
    order = _by_pair(iteration_ids, metric_ids)
    iteration_ids, metric_ids = iteration_ids[order], metric_ids[order]
    return {
        "iteration_id": pd.arrays.IntegerArray(iteration_ids, iteration_ids < 0),
        "metric_id": pd.arrays.IntegerArray(metric_ids, metric_ids < 0),
        "value": frame["value"].to_numpy(dtype="float64")[order],
        "recorded_at": frame["recorded_at"].to_numpy(dtype="datetime64[us]")[order],
        "segment": frame["segment"].to_numpy(dtype=object)[order],
        "candidate": frame["candidate"].to_numpy(dtype=object)[order],
    }


def _by_pair(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """The stable order of rows by (first, second), both non-negative ids or -1: the pairs as
    sorted codes, whose few distinct values a radix sort orders (4x a lexsort's speed)."""
    codes, distinct = pd.factorize(first * (int(second.max()) + 2) + second + 1, sort=True)
    if len(distinct) >= 1 << 16:
        return np.lexsort((second, first))
    return np.argsort(codes.astype(np.uint16), kind="stable")


@dataclass(frozen=True)
class Payload:
    """A chunk ready for the bulk path: its columns and rows, serialised for the driver."""

    columns: list[str]  # the columns that vary from row to row, in the order of `data`
    rows: int
    data: bytes | list  # CSV for COPY (PostgreSQL); one flat list of values (SQLite)
    # SQL literals for columns with one value for the whole chunk (SQLite): NULL, or an id.
    literals: dict[str, str] = field(default_factory=dict)


def plain_list(values) -> list | None:
    """A column as a list of plain Python values for the driver: None for every kind of
    missing, timestamps in the text form SQLAlchemy stores on SQLite
    (`YYYY-MM-DD HH:MM:SS.ffffff`). None when every value is missing."""
    # An object array stays one: pandas would otherwise infer its text a string column and
    # copy every value into Arrow first.
    column = (
        values
        if isinstance(values, pd.Series)
        else pd.Series(values, copy=False, dtype=object if values.dtype == object else None)
    )
    if pd.api.types.is_datetime64_any_dtype(column.dtype):
        if column.isna().all():
            return None
        return stored.moments(column.to_numpy(dtype="datetime64[us]"))
    missing = column.isna().to_numpy()
    if missing.all():
        return None
    if pd.api.types.is_integer_dtype(column.dtype):
        array = column.to_numpy(dtype="int64", na_value=0)
    elif pd.api.types.is_float_dtype(column.dtype):
        array = column.to_numpy(dtype="float64", na_value=np.nan)
    else:
        array = column.to_numpy(dtype=object)
    if missing.any():  # None in place of each missing value, in one step (not row by row)
        array = array.astype(object)
        array[missing] = None
    return array.tolist()


def bulk_payload(dialect: str, columns, ids: dict[str, int] | None = None) -> Payload:
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
        return Payload(list(frame.columns), len(frame), out.getvalue())
    literals = {name: str(int(value)) for name, value in ids.items()}
    items = list(columns.items())
    rows = len(items[0][1]) if items else 0
    names, lists = [], []
    for name, values in items:
        plain = plain_list(values)
        if plain is None:
            literals[name] = "NULL"
        else:
            names.append(name)
            lists.append(plain)
    data: list = [None] * (rows * len(lists))
    for i, plain in enumerate(lists):
        data[i :: len(lists)] = plain
    return Payload(names, rows, data, literals)


# Values bound to one statement, at most (SQLite's own limit may be lower).
_SQLITE_PARAMETERS = 30_000


def bulk_frame(conn: Connection, table: str, payload: Payload) -> None:
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
