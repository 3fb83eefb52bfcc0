"""Values in the form the database is sent them when they are written in bulk."""

from __future__ import annotations

import numpy as np
import pandas as pd


def moments(values) -> list[str | None]:
    """Timestamps as the text SQLAlchemy stores on SQLite (`YYYY-MM-DD HH:MM:SS.ffffff`,
    fixed width, so that they compare as text), None for a missing one. Each distinct value
    is formatted once: exports repeat their timestamps."""
    codes, distinct = pd.factorize(np.asarray(values, dtype="datetime64[us]"))
    text = [t.replace("T", " ") for t in np.datetime_as_string(distinct, unit="us").tolist()]
    return np.array([*text, None], dtype=object)[codes].tolist()
