"""Files users download: CSV with spreadsheet formulas neutralised."""

from __future__ import annotations

import pandas as pd

# OWASP "CSV injection": a cell starting with one of these runs as a formula in spreadsheets.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def neutralise(value: object) -> object:
    """Prefix text that a spreadsheet would run as a formula with a quote; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def safe_csv(frame: pd.DataFrame) -> bytes:
    """`frame` as UTF-8 CSV (with BOM, for Excel) with every text cell neutralised."""
    clean = frame.copy()
    for column in clean.columns:
        if clean[column].dtype == object or pd.api.types.is_string_dtype(clean[column]):
            clean[column] = clean[column].map(neutralise)
    clean.columns = [neutralise(str(c)) for c in clean.columns]
    return clean.to_csv(index=False).encode("utf-8-sig")
