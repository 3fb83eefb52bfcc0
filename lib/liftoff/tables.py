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
    return pa.Table.from_pandas(export.shown_frame(frame), preserve_index=False)


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
