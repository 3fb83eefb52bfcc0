"""Files users download: CSV with spreadsheet formulas neutralised."""

from __future__ import annotations

import re

import pandas as pd

# OWASP "CSV injection": a cell starting with one of these runs as a formula in spreadsheets.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


# Significant digits a number is written with: far more than any measurement has, and few
# enough to drop binary noise (23.4% imported is 23.4 / 100 = 0.23399999999999999).
SIGNIFICANT_DIGITS = 12


def real_precision(value: float) -> float:
    """A float at the precision it was measured with: 0.23399999999999999 → 0.234."""
    return float(f"{value:.{SIGNIFICANT_DIGITS}g}")


def neutralise(value: object) -> object:
    """Prefix text that a spreadsheet would run as a formula with a quote; numbers stay numbers
    (at their real precision)."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    if isinstance(value, float) and value == value and abs(value) != float("inf"):
        return real_precision(value)
    return value


# A plain signed figure as Liftoff writes it ("+15.4 pts", "-3%", "+2 req/s", and judged:
# "-1.3 min, better"): no spreadsheet runs it as anything, so a table shows it as it is.
_PLAIN_FIGURE = re.compile(
    r"^[+\-\u2212]?\d[\d.,\u202f ]*(?:%|\s?[A-Za-z/€$£]{1,6})?(?:, (?:better|worse))?$"
)


def neutralise_shown(value: object) -> object:
    """`neutralise` for a table on a screen, whose own "Download as CSV" (the st.dataframe
    toolbar) writes the cells as shown: the same quote, except on plain signed figures."""
    if isinstance(value, str) and _PLAIN_FIGURE.match(value):
        return value
    return neutralise(value)


def shown_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with every text cell (and column name) passed through `neutralise_shown`; the
    frame itself when nothing in it starts like a formula (most tables: no copy)."""
    text_columns = [
        c
        for c in frame.columns
        if frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c])
    ]
    changed = {}
    for c in text_columns:
        mapped = frame[c].map(neutralise_shown)
        if not mapped.equals(frame[c]):
            changed[c] = mapped
    names = [neutralise_shown(str(c)) if isinstance(c, str) else c for c in frame.columns]
    if not changed and names == list(frame.columns):
        return frame
    out = frame.assign(**{str(k): v for k, v in changed.items()}) if changed else frame.copy()
    out.columns = names
    return out


def safe_csv(frame: pd.DataFrame) -> bytes:
    """`frame` as UTF-8 CSV (with BOM, for Excel) with every text cell neutralised."""
    clean = frame.copy()
    for column in clean.columns:
        if (
            clean[column].dtype == object
            or pd.api.types.is_string_dtype(clean[column])
            or pd.api.types.is_float_dtype(clean[column])
        ):
            # Built as objects: Series.map would infer a float column from ints and a gap
            # (batch 2 written as 2.0).
            clean[column] = pd.Series(
                [neutralise(v) for v in clean[column]], index=clean.index, dtype=object
            )
    clean.columns = [neutralise(str(c)) for c in clean.columns]
    return clean.to_csv(index=False).encode("utf-8-sig")
