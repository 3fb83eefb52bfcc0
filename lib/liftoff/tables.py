"""Tables as the screens send them: built once per data version, kept with their Arrow form.

st.dataframe turns a pandas DataFrame into Arrow on every rerun, milliseconds for a small
table; a table kept in Liftoff's shared cache is converted once, when it is built.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pyarrow as pa

from liftoff import export


def arrow(frame: pd.DataFrame) -> pa.Table:
    """`frame` as the Arrow table st.dataframe sends to the browser, text that a spreadsheet
    would run as a formula neutralised: the table toolbar's "Download as CSV" writes the cells
    as sent (it gave 9 live formulas across the overview, concerns and import history)."""
    shown = export.shown_frame(frame)
    try:
        return pa.Table.from_pandas(shown, preserve_index=False)
    except (pa.ArrowTypeError, pa.ArrowInvalid):
        # A column mixing text and numbers ("" beside 0.05): Arrow needs one type per column,
        # so such a column is sent as the text it shows.
        shown = shown.copy()
        for c in shown.columns:
            if shown[c].dtype == object:
                shown[c] = shown[c].map(as_text)
        return pa.Table.from_pandas(shown, preserve_index=False)


def as_text(value) -> str:
    """A cell as text: empty for a missing value, a float in up to ten significant digits."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, float):
        return f"{value:.10g}"
    return str(value)


@dataclass(frozen=True)
class Table:
    """A table to show: `frame` for downloads and tests, `shown` (the same as Arrow) for
    st.dataframe."""

    frame: pd.DataFrame
    shown: pa.Table

    @classmethod
    def of(cls, frame: pd.DataFrame) -> Table:
        return cls(frame, arrow(frame))

    @property
    def empty(self) -> bool:
        return self.frame.empty


def fitted_widths(
    frame: pd.DataFrame, total: int = 960, short: int = 170, least: int = 120
) -> dict[str, int]:
    """Column widths in pixels that add up to at most `total` (the main column's width at
    1440x900) where they can, so a wide table shows its columns without sideways scrolling.
    Short columns (numbers, dates, codes: up to `short` pixels) keep the width they need,
    never a cut date; the long text columns share what is left, each in proportion to what it
    needs and at least `least` pixels (a cut cell shows its start; the value is stored whole).
    A table that cannot fit that way is as narrow as it can be, and scrolls."""
    if not len(frame.columns):
        return {}
    char, pad = 7.5, 30  # the grid's text, about 7.5 px a character, and its cell padding
    need = {}
    for c in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[c]):
            longest = len("27 Nov 2026 09:00")  # as the screens' date columns write a moment
        else:
            longest = frame[c].astype(str).str.len().max() if len(frame) else 0
        need[str(c)] = int(max(len(str(c)), longest or 0) * char + pad)
    if sum(need.values()) <= total:
        return need
    long = {c: w for c, w in need.items() if w > short}
    left = total - sum(w for c, w in need.items() if c not in long)
    # The long columns share what is left in proportion to their need; one that would fall
    # under `least` gets `least`, and the others share the rest (so the total still fits).
    floored: set[str] = set()
    while True:
        shared = {c: w for c, w in long.items() if c not in floored}
        room = left - least * len(floored)
        scale = room / sum(shared.values()) if shared else 1
        under = {c for c, w in shared.items() if w * scale < least}
        if not under:
            break
        floored |= under
    return {
        c: ((least if c in floored else int(w * scale)) if c in long else w)
        for c, w in need.items()
    }
