"""Parsing the numbers and dates that spreadsheets and exports write, column by column.

Each parser takes a column of strings and returns parsed values plus the positions that could
not be read. Ambiguity is decided for the whole column, never cell by cell: a column of dates
that could be day-first or month-first is an error that asks which, not a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

_SPACES = re.compile(r"[\s\u00a0\u202f\u2009']")
_PERCENT = re.compile(r"%\s*$")
# 1,234 or 12,345,678.5 — but not 0,875 (a leading zero is never a thousands group).
_ONLY_COMMA_THOUSANDS = re.compile(r"^[+-]?[1-9]\d{0,2}(,\d{3})+(\.\d+)?$")
_EXCEL_EPOCH = datetime(1899, 12, 30)


@dataclass
class Numbers:
    values: pd.Series  # float64, NaN where empty or bad
    bad: pd.Series  # bool: not empty and not a number
    percent: pd.Series  # bool: written with a % sign (already divided by 100)


def parse_numbers(column: pd.Series, decimal_comma: bool | None = None) -> Numbers:
    """Numbers as people write them: `1234.5`, `1,234.5`, `1.234,5`, `1 234,5`, `87,5 %`.

    `decimal_comma` None decides for the column: a comma is the decimal mark when some value
    has a comma not followed by exactly three digits, or uses `.` for thousands.
    """
    no = pd.Series(False, index=column.index)
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        values = column.astype("float64")  # parsed by the CSV reader already
        infinite = ~np.isfinite(values.to_numpy())
        if infinite.any():  # NaN, inf, 1e309: no figure can be computed from them
            bad = pd.Series(infinite, index=column.index)
            return Numbers(values.where(~bad), bad, no)
        return Numbers(values, no, no)
    text = column.fillna("").astype(str).str.strip()
    empty = text.eq("")
    fast = pd.to_numeric(text.where(~empty), errors="coerce")
    if not (fast.isna() & ~empty).any() and np.isfinite(fast[~empty].to_numpy()).all():
        return Numbers(
            fast.astype("float64"),
            pd.Series(False, index=column.index),
            pd.Series(False, index=column.index),
        )

    percent = text.str.contains("%", regex=False)
    cleaned = text.str.replace(_PERCENT, "", regex=True).str.replace(_SPACES, "", regex=True)
    cleaned = cleaned.str.replace("\u2212", "-", regex=False)  # typographic minus
    with_comma = cleaned[cleaned.str.contains(",", regex=False)]
    if decimal_comma is None:
        european = with_comma.str.contains(r"\.\d{3},", regex=True) | with_comma.str.contains(
            r"^[+-]?\d*,\d*$", regex=True
        )
        not_thousands = ~with_comma.str.match(_ONLY_COMMA_THOUSANDS)
        decimal_comma = bool((european & not_thousands).any())
    if decimal_comma:
        cleaned = cleaned.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    else:
        cleaned = cleaned.str.replace(",", "", regex=False)
    values = pd.to_numeric(cleaned.where(~empty), errors="coerce").astype("float64")
    values = values.where(~percent, values / 100.0)
    values = values.where(np.isfinite(values.to_numpy()))  # "inf", "Infinity", "1e309", "NaN"
    bad = values.isna() & ~empty
    return Numbers(values, bad, percent & ~bad)


@dataclass
class Dates:
    values: pd.Series  # datetime64[ns], NaT where empty or bad
    bad: pd.Series
    style: str  # "iso", "dayfirst", "monthfirst", "excel", "unix", "empty"
    ambiguous: bool = False
    mixed: bool = False
    # With `ambiguous`: the rows whose date reads as two different days (03/12/2026), for the
    # problem to name one.
    both_ways: pd.Series | None = None


_NUMERIC_DATE = re.compile(
    r"^(\d{1,2})[./-](\d{1,2})[./-](\d{2,4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$"
)
_ISO = re.compile(
    r"^\d{4}-\d{1,2}-\d{1,2}(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$"
)


def _from_parts(parts: pd.DataFrame, day_col: int, month_col: int) -> pd.Series:
    year = pd.to_numeric(parts[2], errors="coerce")
    year = year.where(year >= 100, year + 2000)
    frame = pd.DataFrame(
        {
            "year": year,
            "month": pd.to_numeric(parts[month_col], errors="coerce"),
            "day": pd.to_numeric(parts[day_col], errors="coerce"),
            "hour": pd.to_numeric(parts[3], errors="coerce").fillna(0),
            "minute": pd.to_numeric(parts[4], errors="coerce").fillna(0),
            "second": pd.to_numeric(parts[5], errors="coerce").fillna(0),
        }
    )
    return pd.to_datetime(frame, errors="coerce")


def parse_dates(column: pd.Series, order: str | None = None) -> Dates:
    """Dates in ISO form, day-first or month-first numeric form, or Excel serial numbers.

    `order` ("dayfirst" or "monthfirst") settles numeric dates that could be read both ways;
    without it such a column is reported as ambiguous.

    Exports repeat their timestamps (one per run or load step, many metrics each), so a column
    with repeats is parsed once per distinct value and spread back.
    """
    codes, distinct = pd.factorize(column, use_na_sentinel=True)
    if len(distinct) * 2 <= len(column):
        once = parse_dates(pd.Series(distinct, dtype=object), order)
        spread = np.where(codes < 0, len(distinct), codes)  # missing -> the appended empty
        values = np.append(once.values.to_numpy(dtype="datetime64[ns]"), np.datetime64("NaT"))
        bad = np.append(once.bad.to_numpy(dtype=bool), False)
        both = (
            None
            if once.both_ways is None
            else pd.Series(
                np.append(once.both_ways.to_numpy(dtype=bool), False)[spread], index=column.index
            )
        )
        return Dates(
            pd.Series(values[spread], index=column.index),
            pd.Series(bad[spread], index=column.index),
            once.style,
            once.ambiguous,
            once.mixed,
            both,
        )
    text = column.fillna("").astype(str).str.strip()
    empty = text.eq("")
    idx = column.index
    nat = pd.Series(pd.NaT, index=idx, dtype="datetime64[ns]")
    if empty.all():
        return Dates(nat, pd.Series(False, index=idx), "empty")
    filled = text[~empty]

    is_iso = filled.str.match(_ISO)
    is_numeric_date = filled.str.match(_NUMERIC_DATE)
    is_serial = filled.str.fullmatch(r"\d{5}(\.\d+)?")
    kinds = int(is_iso.any()) + int(is_numeric_date.any()) + int(is_serial.any())
    if kinds > 1:
        bad = pd.Series(False, index=idx)
        return Dates(nat, bad, "mixed", mixed=True)

    if is_serial.all():
        serial = pd.to_numeric(filled, errors="coerce")
        out = nat.copy()
        out[~empty] = pd.to_datetime(_EXCEL_EPOCH) + pd.to_timedelta(serial, unit="D")
        bad = pd.Series(False, index=idx)
        bad[~empty] = (serial < 20_000) | (serial > 80_000)
        return Dates(out.where(~bad), bad, "excel")

    if is_iso.any():
        parsed = pd.to_datetime(filled, errors="coerce", format="ISO8601", utc=True)
        parsed = parsed.dt.tz_convert(None)
        out = nat.copy()
        out[~empty] = parsed
        bad = out.isna() & ~empty
        return Dates(out, bad, "iso")

    parts = filled.str.extract(_NUMERIC_DATE)
    day_first = _from_parts(parts, 0, 1)
    month_first = _from_parts(parts, 1, 0)
    ok_d, ok_m = day_first.notna(), month_first.notna()
    if order == "dayfirst" or (order is None and ok_d.all() and not ok_m.all()):
        chosen, style = day_first, "dayfirst"
    elif order == "monthfirst" or (order is None and ok_m.all() and not ok_d.all()):
        chosen, style = month_first, "monthfirst"
    elif ok_d.all() and ok_m.all() and not (day_first == month_first).all():
        both = pd.Series(False, index=idx)
        both[filled.index] = (day_first != month_first).to_numpy()
        return Dates(nat, pd.Series(False, index=idx), "ambiguous", ambiguous=True, both_ways=both)
    else:
        chosen, style = day_first.where(ok_d, month_first), "dayfirst"
    out = nat.copy()
    out[~empty] = chosen
    bad = out.isna() & ~empty
    return Dates(out, bad, style)


def parse_unix_seconds(column: pd.Series) -> Dates:
    """Unix timestamps in seconds (as Locust writes them)."""
    nums = parse_numbers(column)
    out = pd.to_datetime(nums.values, unit="s", errors="coerce")
    return Dates(pd.Series(out, index=column.index), nums.bad, "unix")


def future_mask(values: pd.Series, tolerance: timedelta = timedelta(days=1)) -> pd.Series:
    """Dates later than now plus `tolerance`."""
    limit = np.datetime64(datetime.now() + tolerance)
    return values.notna() & (values.to_numpy(dtype="datetime64[ns]") > limit)


def distinct_pairs(first: pd.Series, second: pd.Series) -> tuple[np.ndarray, list[tuple]]:
    """The distinct (first, second) pairs of two columns, such as (initiative, iteration), and
    for each row the position of its pair in that list (-1 where either is missing). Worked
    out on integer codes: a file names few pairs in many rows."""
    a_codes, a_values = pd.factorize(first, use_na_sentinel=True)
    b_codes, b_values = pd.factorize(second, use_na_sentinel=True)
    width = len(b_values)
    combined = a_codes.astype(np.int64) * width + b_codes
    present = (a_codes >= 0) & (b_codes >= 0)
    codes = np.full(len(combined), -1, dtype=np.int64)
    codes[present], uniques = pd.factorize(combined[present])
    pairs = [(a_values[u // width], b_values[u % width]) for u in uniques.tolist()]
    return codes, pairs
