"""One ingestion pipeline for the Upload page and `liftoff import`:

read bytes → detect kind → map columns → validate (collect every error) → preview →
load in one transaction with an import-batch record → bump the data version.
"""

from __future__ import annotations

import hashlib
import json
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import Engine, func, select

from liftoff.db.models import ImportBatch, Initiative, Iteration, Metric, Observation
from liftoff.ingest import columns as cols
from liftoff.ingest.columns import Field, Header
from liftoff.ingest.problems import ImportRejected, Problems, reject
from liftoff.ingest.reader import Table, inspect_workbook, is_xlsx, read_table
from liftoff.ingest.values import (
    distinct_pairs,
    future_mask,
    parse_dates,
    parse_numbers,
    parse_unix_seconds,
)
from liftoff.names import clean as clean_name
from liftoff.names import closest as closest_name
from liftoff.names import fold as fold_name
from liftoff.names import lookalikes

KINDS = (
    "metrics",
    "feedback",
    "concerns",
    "loadtest",
    "traffic",
    "criteria",
    "governance",
    "stakeholders",
    "mlflow-runs",
    "mlflow-history",
    "locust",
)
# Kinds whose rows belong to one iteration each.
_NEEDS_ITERATION = {
    "metrics",
    "loadtest",
    "criteria",
    "stakeholders",
    "mlflow-runs",
    "mlflow-history",
    "locust",
}


@dataclass
class Options:
    """What the user chose besides the file: the same for the page and the CLI."""

    kind: str = "auto"
    initiative: str | None = None
    iteration: int | None = None
    users: int | None = None
    create: bool = False
    force: bool = False
    sheet: str | None = None
    date_order: str | None = None  # "dayfirst" / "monthfirst" for ambiguous numeric dates
    iteration_tag: str = "tags.iteration"  # MLflow runs: the column that names the iteration
    # When set, every row must belong to this initiative (an API token limited to one).
    only_initiative: str | None = None
    # Who reads the fixes: "page" (the Upload page's controls) or "cli" (`liftoff import` flags).
    audience: str = "cli"

    # Plain numbers of ratio metrics are percentages (87.5 means 87.5 %): the page's
    # "Values are percentages", the CLI's --percent.
    percent_values: bool = False

    def say(self, page: str, cli: str) -> str:
        """A fix in the words of the controls the reader has in front of them."""
        return page if self.audience == "page" else cli


@dataclass
class Prepared:
    """A validated file, ready to load: its rows exactly as they will be stored."""

    file_name: str
    kind: str
    sha256: str
    raw: bytes
    options: Options
    rows_read: int = 0
    frames: dict[str, list[pd.DataFrame]] = field(default_factory=dict)
    mapping: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    problems: Problems = field(default_factory=Problems)
    new_initiatives: list[str] = field(default_factory=list)
    new_iterations: list[tuple[str, int]] = field(default_factory=list)
    # The next iterations of existing initiatives: created without asking (no Create tick).
    next_iterations: list[tuple[str, int]] = field(default_factory=list)
    # Whether Create matters for this file: it names a new initiative or leaves a gap.
    asks_create: bool = False
    new_metrics: dict[str, tuple[str, str, str | None, str]] = field(default_factory=dict)
    duplicate_of: int | None = None
    out_of_scope: bool = False
    sheet: str | None = None
    sheets: list[str] = field(default_factory=list)
    encoding: str | None = None
    delimiter: str | None = None
    accepted: int = 0
    preview_rows: list[pd.DataFrame] = field(default_factory=list)
    # Whether `frames` holds every validated row (small files), so commit need not read again.
    complete: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def rows_accepted(self) -> int:
        return self.accepted

    def preview(self, limit: int = 50) -> pd.DataFrame:
        """The first rows as they will be stored (stored units: fractions for ratios)."""
        if not self.preview_rows:
            return pd.DataFrame()
        shown = pd.concat(self.preview_rows, ignore_index=True).head(limit)
        for c in shown.columns:
            if pd.api.types.is_datetime64_any_dtype(shown[c]):
                shown[c] = shown[c].dt.strftime("%Y-%m-%d %H:%M").where(shown[c].notna(), "")
            elif isinstance(shown[c].dtype, pd.CategoricalDtype):
                shown[c] = shown[c].astype(object)
            elif shown[c].isna().any() and pd.api.types.is_numeric_dtype(shown[c]):
                # A number column with gaps, as text: the table would say "None", and numbers
                # mixed with "" in one column cannot be sent to the browser at all.
                shown[c] = shown[c].map(lambda v: "" if pd.isna(v) else f"{v:.10g}")
            if shown[c].dtype == object:  # an empty cell reads empty, never "None"
                shown[c] = shown[c].where(shown[c].notna(), "")
        return shown

    def rejection(self) -> ImportRejected:
        return ImportRejected(
            self.file_name,
            self.problems.items,
            self.problems.total,
            kind=self.kind,
            rows_read=self.rows_read,
            warnings=list(self.warnings),
            duplicate_of=self.duplicate_of,
            out_of_scope=self.out_of_scope,
        )

    def report(self, batch_id: int | None = None) -> dict:
        """The `--json` shape of `liftoff import` (README, "Command line")."""
        return {
            "batch_id": batch_id,
            "kind": self.kind,
            "rows_read": self.rows_read,
            "rows_accepted": self.rows_accepted if self.ok else 0,
            "warnings": list(self.warnings),
            "errors": [p.as_error() for p in self.problems.items],
        }


# The largest whole number a file may give (PostgreSQL's INTEGER), and the largest iteration.
MAX_WHOLE_NUMBER = 2_147_483_647
MAX_ITERATION = 100_000


def _plain(n: float) -> str:
    """A bound as a person writes it: 2,147,483,647 or 0.5 (not 2.14748e+09)."""
    return f"{int(n):,}" if float(n).is_integer() else f"{n:g}"


# ------------------------------------------------------------------------------ detection


def _keys(headers: list[Header]) -> set[str]:
    return {h.key for h in headers}


_DETECTED = (
    "metrics",
    "loadtest",
    "stakeholders",
    "concerns",
    "criteria",
    "feedback",
    "governance",
    "traffic",
)
# Fields every kind may carry: matching them says nothing about what a file holds.
_SHARED = {"initiative", "iteration"}


@dataclass(frozen=True)
class _Match:
    kind: str
    score: int  # fields of this kind's own found in the file
    required: int  # required fields of this kind
    found: int  # required fields found

    @property
    def complete(self) -> bool:
        return self.found == self.required


def _match(headers: list[Header], kind: str) -> _Match:
    mapping, _ = cols.match_columns(headers, cols.KINDS[kind])
    required = [f.name for f in cols.KINDS[kind] if f.required]
    score = sum(1 for name in mapping if name not in _SHARED)
    return _Match(kind, score, len(required), sum(1 for r in required if r in mapping))


def detect_kind(headers: list[Header]) -> str | None:
    """The kind of file a header row belongs to, or None.

    Every kind's columns are matched and the best match wins, complete or not: a load test
    without its p95 column is a load test missing a column (and says so), not a wide metrics
    file whose metrics are `users`, `rps` and `p50_ms`."""
    keys = _keys(headers)
    lowered = [h.original.strip().lower() for h in headers]
    if "run_id" in keys and any(x.startswith("metrics.") for x in lowered):
        return "mlflow-runs"
    if {"run_id", "key", "value", "step", "timestamp"} <= keys:
        return "mlflow-history"
    if {"type", "name", "requests_s"} <= keys and ("request_count" in keys or "user_count" in keys):
        return "locust"
    matches = []
    for kind in _DETECTED:
        m = _match(headers, kind)
        if kind == "criteria" and "iteration" not in keys:
            m = _Match(kind, m.score, m.required, min(m.found, m.required - 1))
        if kind == "traffic" and "iteration" in keys:
            continue
        matches.append(m)
    # The most columns of its own first; among equals, a complete match; then the order above.
    best = max(matches, key=lambda m: (m.score, m.complete))
    if best.complete and best.score:
        return best.kind
    # An incomplete match counts when it is clearly that kind: two or more of its own
    # columns, at least half of those it requires, and no complete kind as good.
    complete = [m for m in matches if m.complete and m.score]
    if best.score >= 2 and 2 * best.found >= best.required:
        if not complete or max(m.score for m in complete) < best.score:
            return best.kind
    if complete:
        return max(complete, key=lambda m: m.score).kind
    mapping, rest = cols.match_columns(headers, [cols.ITERATION])
    if "iteration" in mapping and rest:
        return "metrics"  # wide: one column per metric
    return None


# ------------------------------------------------------------------------------ context


def _empty(column: pd.Series) -> pd.Series:
    """Cells left empty (a column the reader parsed as numbers has none)."""
    if pd.api.types.is_numeric_dtype(column):
        return pd.Series(False, index=column.index)
    return column.astype(str).str.strip().eq("")


@contextmanager
def _connection(source):
    """A connection from an engine (opened here), or the caller's own connection."""
    if isinstance(source, Engine):
        with source.connect() as conn:
            yield conn
    else:
        yield source


# A cell written as a date: 2026-03-14 (and a time), 14/03/2026, 14.3.26, 14 Mar 2026, Mar 14, 2026.
_DATE_LIKE = re.compile(
    r"^(\d{4}-\d{1,2}-\d{1,2}([ T]\S+)?|\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}"
    r"|\d{1,2}\s+[A-Za-z]{3,9}\.?\s+\d{4}|[A-Za-z]{3,9}\.?\s+\d{1,2},?\s+\d{4})$"
)


class _Context:
    """State shared while validating one file: lookups, options and the problems found."""

    def __init__(self, source, prepared: Prepared, table: Table):
        self.p = prepared
        self.opt = prepared.options
        self.table = table
        self.problems = prepared.problems
        with _connection(source) as conn:
            self.initiatives = dict(conn.execute(select(Initiative.name, Initiative.id)).all())
            self.iterations = {
                (name, number)
                for name, number in conn.execute(
                    select(Initiative.name, Iteration.number).join(
                        Iteration, Iteration.initiative_id == Initiative.id
                    )
                )
            }
            self.metrics = {
                m.key: m
                for m in conn.execute(
                    select(
                        Metric.key,
                        Metric.display_name,
                        Metric.unit,
                        Metric.category,
                        Metric.direction,
                    )
                )
            }
        # A metric may be named by its key or by its display name ("Churn model AUC").
        self.metric_aliases = {cols.metric_key(m.display_name): k for k, m in self.metrics.items()}
        # key -> {a written name's plain form: the name as written}, to warn when two
        # different names land on one metric ("Churn model AUC!" on churn_model_auc).
        self.metric_spellings: dict[str, dict[str, str]] = {}
        self.missing_initiatives: dict[str, int] = {}
        self.missing_iterations: dict[tuple[str, int], int] = {}
        self.column_problem_reported: set[str] = set()
        self.missing_required = False  # a required column is missing: rows are not read
        self.source = source
        self.usual_ranges: dict[str, tuple[float, float] | None] = {}
        self.range_warned: set[str] = set()
        self.uncategorised_noted = False
        self.unknown_categories: list[str] = []  # concern categories that match none of ours
        self.dated_by_content: str | None = None
        self.dated_decided = False

    def date_column_by_content(self, frame: pd.DataFrame, candidates: list[str]) -> str | None:
        """The column that holds dates when no header says so ("Period", "When?", or none):
        every filled cell written as a date. Decided on the first chunk, for the whole file."""
        if not self.dated_decided:
            self.dated_decided = True
            for col in candidates:
                if col not in frame or pd.api.types.is_numeric_dtype(frame[col]):
                    continue
                text = frame[col].astype(str).str.strip()
                filled = text[text.ne("")]
                if len(filled) and filled.str.match(_DATE_LIKE).all():
                    self.dated_by_content = col
                    self.p.mapping.append(
                        (col or "(no header)", "recorded_at (its cells are dates)")
                    )
                    break
        return self.dated_by_content

    def rows(self, index: pd.Index) -> np.ndarray:
        return np.asarray(index) + self.table.row_offset

    def report(
        self,
        mask: pd.Series,
        frame: pd.DataFrame,
        column: str | None,
        message: str,
        fix: str,
        values: pd.Series | None = None,
    ) -> None:
        if not mask.any():
            return
        rows = self.rows(mask.index[mask.to_numpy()])
        shown = values if values is not None else frame[column] if column in frame else None
        for i, row in zip(mask.index[mask.to_numpy()][:50], rows[:50], strict=False):
            self.problems.add(
                int(row), column, None if shown is None else shown.loc[i], message, fix
            )
        for row in rows[50:]:
            self.problems.add(int(row), column, None, message, fix)

    def report_empty(self, frame: pd.DataFrame, col: str, label: str) -> None:
        """A problem for every row that leaves a required column empty."""
        self.report(
            _empty(frame[col]),
            frame,
            col,
            f"The {label} is empty.",
            f"Fill in the {label} in every row.",
        )

    def column_problem(self, column: str, message: str, fix: str) -> None:
        if column not in self.column_problem_reported:
            self.column_problem_reported.add(column)
            self.problems.add(None, column, None, message, fix)

    # typed readers ---------------------------------------------------------------------

    def text(self, frame: pd.DataFrame, col: str | None) -> pd.Series:
        if col is None:
            return pd.Series([None] * len(frame), index=frame.index, dtype=object)
        # Cleaned once per distinct value: names, units and keys repeat on every row.
        codes, uniques = pd.factorize(frame[col], use_na_sentinel=True)
        clean = [(str(u).strip() or None) for u in uniques]
        clean.append(None)  # what code -1 (a missing cell) maps to
        return pd.Series(np.array(clean, dtype=object)[codes], index=frame.index, dtype=object)

    def required_text(self, frame, col, label) -> pd.Series:
        s = self.text(frame, col)
        self.report(
            s.isna(), frame, col, f"The {label} is empty.", f"Fill in the {label} in every row."
        )
        return s

    def number(
        self,
        frame,
        col,
        label,
        *,
        required=False,
        minimum=None,
        maximum=None,
        integer=False,
        fraction=False,
        decimal_comma=None,
    ) -> pd.Series:
        if col is None:
            return pd.Series(np.nan, index=frame.index)
        parsed = parse_numbers(frame[col], decimal_comma)
        values = parsed.values
        self.report(
            parsed.bad,
            frame,
            col,
            f"The {label} is not a number.",
            "Write a plain number such as 12.5, 12,5 or 87.5%.",
        )
        if required:
            self.report_empty(frame, col, label)
        if integer:
            frac = values.notna() & (values != values.round())
            self.report(
                frac, frame, col, f"The {label} must be a whole number.", "Remove the decimals."
            )
        if fraction:
            over = values.notna() & (values > 1) & ~parsed.percent
            self.report(
                over,
                frame,
                col,
                f"The {label} is stored as a fraction between 0 and 1, and this looks like a percentage.",
                "Write it as a fraction (0.875) or with a percent sign (87.5%).",
            )
            values = values.where(~over)
            minimum, maximum = (
                0.0 if minimum is None else minimum,
                1.0 if maximum is None else maximum,
            )
        if integer and maximum is None:
            # The database's whole numbers are 32-bit on PostgreSQL: 1e30 users was a traceback.
            maximum = MAX_WHOLE_NUMBER
        if minimum is not None:
            low = values.notna() & (values < minimum)
            self.report(
                low,
                frame,
                col,
                f"The {label} cannot be below {_plain(minimum)}.",
                "Correct the value.",
            )
            values = values.where(~low)
        if maximum is not None:
            high = values.notna() & (values > maximum)
            self.report(
                high,
                frame,
                col,
                f"The {label} cannot be above {_plain(maximum)}.",
                "Correct the value.",
            )
            values = values.where(~high)
        return values

    def metric_keys(self, names: pd.Series) -> pd.Series:
        """Stored metric keys for names as written (key or display name), as a categorical:
        a file names few metrics in many rows, so each distinct name is worked out once."""

        def key(n):
            if not isinstance(n, str) or not n:
                return None
            k = cols.metric_key(n)
            return k if k in self.metrics else self.metric_aliases.get(k, k)

        codes, uniques = pd.factorize(names.astype(object), use_na_sentinel=True)
        keys = [key(u) for u in uniques]
        for u, k in zip(uniques, keys, strict=True):
            if k is not None:
                self.metric_spellings.setdefault(k, {}).setdefault(_plain_name(u), clean_name(u))
        categories = sorted({k for k in keys if k is not None})
        position = {k: i for i, k in enumerate(categories)}
        lookup = np.array(
            [position[k] if k is not None else -1 for k in keys] + [-1], dtype=np.int64
        )
        return pd.Series(
            pd.Categorical.from_codes(lookup[codes], categories=categories), index=names.index
        )

    def date(self, frame, col, label, *, required=False, unix=False, future_ok=False) -> pd.Series:
        nat = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
        if col is None:
            return nat
        parsed = (
            parse_unix_seconds(frame[col]) if unix else parse_dates(frame[col], self.opt.date_order)
        )
        if parsed.mixed:
            self.column_problem(
                col,
                f"The {label} column mixes date formats (for example 2026-03-04 and 04/03/2026).",
                "Use one date format for the whole column, preferably YYYY-MM-DD.",
            )
            return nat
        if parsed.ambiguous:
            self.column_problem(
                col,
                f"The dates in {col!r} can be read day-first or month-first (03/04/2026 is 3 April or 4 March).",
                self.opt.say(
                    "Say which: choose the order under 'Dates like 03/04/2026 are'.",
                    "Say which: add --dates dayfirst or --dates monthfirst.",
                ),
            )
            return nat
        self.report(
            parsed.bad,
            frame,
            col,
            f"This {label} cannot be read.",
            "Write dates as YYYY-MM-DD (for example 2026-03-14).",
        )
        future = (
            future_mask(parsed.values) if not future_ok else pd.Series(False, index=frame.index)
        )
        self.report(
            future,
            frame,
            col,
            f"The {label} is in the future.",
            "Correct the date; data cannot be recorded after today.",
        )
        if required:
            self.report_empty(frame, col, label)
        return parsed.values.where(~future)

    def choice(
        self, frame, col, f: Field, default: str | None = None, *, required=False
    ) -> pd.Series:
        if col is None:
            return pd.Series(default, index=frame.index, dtype=object)
        raw = frame[col].astype(str).str.strip()
        codes, uniques = pd.factorize(raw)
        resolved = [f.choices.get(u, f.choices.get(cols.normalize(u).key)) for u in uniques]
        mapped = pd.Series(np.array(resolved + [None], dtype=object)[codes], index=frame.index)
        empty = raw.eq("")
        allowed = ", ".join(sorted(set(f.choices.values())))
        self.report(
            mapped.isna() & ~empty,
            frame,
            col,
            f"This is not a known {f.name.replace('_', ' ')}.",
            f"Use one of: {allowed}.",
        )
        if required:
            self.report(
                empty,
                frame,
                col,
                f"The {f.name.replace('_', ' ')} is empty.",
                f"Use one of: {allowed}.",
            )
        return mapped.astype(object).where(~empty & mapped.notna(), default)

    # initiative and iteration ---------------------------------------------------------

    def names(self, frame: pd.DataFrame, col: str | None) -> pd.Series:
        """Names (of initiatives, metrics) as they are stored: NFC, without invisible
        characters, trimmed (names.clean), worked out once per distinct value."""
        codes, uniques = pd.factorize(frame[col], use_na_sentinel=True)
        clean = [(clean_name(u) or None) for u in uniques]
        clean.append(None)
        return pd.Series(np.array(clean, dtype=object)[codes], index=frame.index, dtype=object)

    def initiative(self, frame: pd.DataFrame, col: str | None) -> pd.Series:
        if col is not None:
            values = self.names(frame, col)
            if self.opt.initiative:
                values = values.fillna(clean_name(self.opt.initiative))
            self.report(
                values.isna(),
                frame,
                col,
                "The initiative is empty.",
                self.opt.say(
                    "Fill in the initiative, or choose one for the whole file under 'Initiative'.",
                    "Fill in the initiative, or name one for the whole file (--initiative NAME).",
                ),
            )
        elif self.opt.initiative:
            # One name for every row, as a categorical: later steps group by it for free.
            values = pd.Series(
                pd.Categorical.from_codes(
                    np.zeros(len(frame), np.int8), [clean_name(self.opt.initiative)]
                ),
                index=frame.index,
            )
        else:
            self.column_problem(
                "initiative",
                "The file does not say which initiative it belongs to.",
                self.opt.say(
                    "Choose the initiative under 'Initiative', or add an initiative column.",
                    "Add --initiative NAME, or an initiative column.",
                ),
            )
            return pd.Series(None, index=frame.index, dtype=object)
        allowed = self.opt.only_initiative
        if allowed is not None:
            outside = values.notna() & (values != allowed)
            if outside.any():
                self.p.out_of_scope = True
                self.report(
                    outside,
                    frame,
                    col,
                    f"This API token may write only to the initiative {allowed!r}.",
                    "Send rows of that initiative only, or ask an admin for a token for this one.",
                    values=values,
                )
        codes, names = pd.factorize(values, use_na_sentinel=True)
        for name, n in zip(
            names, np.bincount(codes[codes >= 0], minlength=len(names)), strict=True
        ):
            if name not in self.initiatives:
                self.missing_initiatives[name] = self.missing_initiatives.get(name, 0) + int(n)
        return values

    def iteration(
        self, frame: pd.DataFrame, col: str | None, initiative: pd.Series, required: bool = True
    ) -> pd.Series:
        if col is not None:
            values = self.number(
                frame, col, "iteration", integer=True, minimum=1, maximum=MAX_ITERATION
            )
            if self.opt.iteration is not None:
                values = values.fillna(self.opt.iteration)
            elif required:
                empty = _empty(frame[col])
                self.report(
                    empty,
                    frame,
                    col,
                    "The iteration is empty.",
                    "Fill in the iteration number in every row.",
                )
        elif self.opt.iteration is not None:
            values = pd.Series(float(self.opt.iteration), index=frame.index)
        elif required:
            self.column_problem(
                "iteration",
                "The file does not say which iteration it belongs to.",
                self.opt.say(
                    "Add an iteration column, or give the iteration under 'Iteration'.",
                    "Add an iteration column, or add --iteration N.",
                ),
            )
            return pd.Series(np.nan, index=frame.index)
        else:
            return pd.Series(np.nan, index=frame.index)
        for name, number in distinct_pairs(initiative, values)[1]:
            key = (name, int(number))
            if key not in self.iterations:
                self.missing_iterations[key] = self.missing_iterations.get(key, 0) + 1
        return values

    def merged_metric_names(self) -> list[str]:
        """Warnings for the keys that different names of the file (or a name of the file and
        an existing metric's name) are read as."""
        out = []
        for key, spellings in sorted(self.metric_spellings.items()):
            spellings = dict(spellings)
            known = self.metrics.get(key)
            if known is not None:
                spellings.pop(_plain_name(key), None)  # the key itself names it
                spellings.setdefault(_plain_name(known.display_name), known.display_name)
            if len(spellings) > 1:
                listed = " and ".join(repr(n) for n in sorted(spellings.values()))
                out.append(
                    f"{listed} are read as one metric, {key}. If they are different metrics, "
                    "rename one of them in the file."
                )
        return out

    def finish(self) -> None:
        """File-level problems: initiatives and iterations that do not exist; the concern
        categories that could not be matched, as a warning.

        A name that differs from a known initiative only in case, accents or punctuation
        (or by a typo) is answered with "did you mean" before any offer to create it. The
        next iteration of an existing initiative, one above its latest (or a run of them with
        no gap), is created without asking; a gap in the numbering needs Create."""
        if self.unknown_categories:
            listed = ", ".join(repr(w) for w in self.unknown_categories[:20])
            more = len(self.unknown_categories) - 20
            self.p.warnings.append(
                f"Categories Liftoff does not know are imported as not categorised yet: {listed}"
                + (f" and {more} more" if more > 0 else "")
                + ". Give those concerns a failure category on the Stakeholders and concerns screen."
            )
        known = ", ".join(sorted(self.initiatives)) or "none yet"
        create = self.opt.say(
            "tick 'Create the initiatives and iterations this file names' below",
            "add --create",
        )
        for name in sorted(self.missing_initiatives):
            meant = closest_name(name, self.initiatives)
            # Spelled like a known one but for case, accents or punctuation: never a new one.
            same = meant is not None and fold_name(meant) == fold_name(name)
            if self.opt.create and not same:
                self.p.new_initiatives.append(name)
                self.p.asks_create = True
                if meant is not None:
                    self.p.warnings.append(
                        f"{name!r} will be created as a new initiative; {meant!r} already exists."
                    )
            elif meant is not None:
                self.p.asks_create = True
                self.problems.add(
                    None,
                    "initiative",
                    name,
                    f"There is no initiative named {name!r}. Did you mean {meant!r}?"
                    + _looks_alike(name),
                    self.opt.say(
                        f"Write {meant!r} in the file, or choose {meant!r} under 'Initiative'.",
                        f"Write {meant!r} in the file (or --initiative {meant!r}).",
                    )
                    + ("" if same else f" If {name!r} is a new initiative, {create}."),
                )
            else:
                self.p.asks_create = True
                self.problems.add(
                    None,
                    "initiative",
                    name,
                    f"There is no initiative named {name!r} (initiatives: {known}).",
                    f"Correct the name, or to create it, {create}.",
                )
        latest: dict[str, int] = {}
        for name, number in self.iterations:
            latest[name] = max(latest.get(name, 0), number)
        wanted: dict[str, list[int]] = {}
        for name, number in sorted(self.missing_iterations):
            wanted.setdefault(name, []).append(number)
        for name, numbers in wanted.items():
            if name not in self.initiatives:
                if self.opt.create and name in self.p.new_initiatives:
                    self.p.new_iterations.extend((name, n) for n in numbers)
                continue
            top = latest.get(name, 0)
            # Iterations that continue the numbering (top+1, top+2, … without a hole) are
            # the normal next step of an initiative: no Create needed.
            run = 0
            while run < len(numbers) and numbers[run] == top + run + 1:
                run += 1
            self.p.next_iterations.extend((name, n) for n in numbers[:run])
            for number in numbers[run:]:
                self.p.asks_create = True
                if self.opt.create:
                    self.p.new_iterations.append((name, number))
                    continue
                newest = f"its latest is iteration {top}" if top else "it has no iterations yet"
                self.problems.add(
                    None,
                    "iteration",
                    str(number),
                    f"{name} has no iteration {number} ({newest}; the next one would be "
                    f"{top + 1}).",
                    f"Correct the number, or to create iteration {number} anyway, {create}.",
                )


def _plain_name(name) -> str:
    """A metric's name as compared for 'the same name': its unit, case, spacing and
    underscores aside ("Accuracy %" and "accuracy" are one name, "AUC!" and "AUC" are not)."""
    header = cols.normalize(clean_name(name))
    text = cols._UNIT_IN_BRACKETS.sub(" ", clean_name(name).casefold())
    if header.unit == "%":
        text = text.rstrip().removesuffix("%")
    return " ".join(text.replace("_", " ").split())


def _looks_alike(name: str) -> str:
    """Why two names that look the same are not: the letters from other scripts in `name`."""
    found = lookalikes(name)
    if not found:
        return ""
    return f" The two look alike, but {name!r} has {', '.join(found)} instead of a Latin letter."


# ------------------------------------------------------------------------------ the kinds


def _columns(ctx: _Context, kind: str) -> dict[str, str | None]:
    headers = [cols.normalize(h) for h in ctx.table.header]
    mapping, unmatched = cols.match_columns(headers, cols.KINDS[kind])
    names = {
        f.name: (ctx.table.header[mapping[f.name]] if f.name in mapping else None)
        for f in cols.KINDS[kind]
    }
    wide = (
        kind == "metrics"
        and (names["metric"] is None or names["value"] is None)
        and names["iteration"] is not None
    )
    detected = ctx.opt.kind == "auto"
    label = cols.KIND_LABELS.get(kind, kind).lower()
    for f in cols.KINDS[kind]:
        if f.required and names[f.name] is None and not wide:
            ctx.missing_required = True
            # A detected kind says what it was taken for, so a file that is something else
            # can be told apart from one that lacks a column.
            lead = f"The file looks like {label}, but the" if detected else "The"
            fix = f"Add a column named {f.name!r} ({', '.join(f.aliases[:4])} also work)."
            if detected:
                fix += ctx.opt.say(
                    " If the file holds something else, choose it under 'What the file holds'.",
                    " If the file holds something else, give its kind (--kind).",
                )
            ctx.problems.add(
                None,
                f.name,
                None,
                f"{lead} required column {f.name!r} is missing (columns found: {', '.join(ctx.table.header)}).",
                fix,
            )
    ctx.p.mapping = [(ctx.table.header[i], f) for f, i in mapping.items()]
    return names, [ctx.table.header[i] for i in unmatched]


def _metric_definition(
    ctx: _Context, key: str, display: str, unit_hint: str | None, category: str | None
):
    """(unit, category) of a metric, registering a new one with guessed properties."""
    if key in ctx.metrics:
        m = ctx.metrics[key]
        return m.unit, m.category
    if key not in ctx.p.new_metrics:
        g_category, unit, direction = cols.guess_metric(key, unit_hint)
        ctx.p.new_metrics[key] = (clean_name(display), category or g_category, unit, direction)
    _, cat, unit, _ = ctx.p.new_metrics[key]
    return unit, cat


# Metrics that, as fractions, hardly ever sit this low: an AUC or accuracy of 1.7 % is far
# more likely a typo or a value written in the wrong unit than a result.
_HIGH_RATIO_WORDS = ("auc", "accuracy", "f1", "precision", "recall", "roc")
_FAR_BELOW = 0.05


def _usual_range(ctx: _Context, key: str) -> tuple[float, float] | None:
    """The lowest and highest value stored so far for a metric (None: none yet)."""
    if key not in ctx.usual_ranges:
        found = None
        if key in ctx.metrics:
            with _connection(ctx.source) as conn:
                low, high = conn.execute(
                    select(func.min(Observation.value), func.max(Observation.value))
                    .join(Metric, Metric.id == Observation.metric_id)
                    .where(Metric.key == key)
                ).one()
            found = None if low is None else (float(low), float(high))
        ctx.usual_ranges[key] = found
    return ctx.usual_ranges[key]


def _check_metric_values(
    ctx,
    frame,
    col,
    keys: pd.Series,
    values: pd.Series,
    percent: pd.Series,
    units: dict[str, str | None],
):
    """The fraction rule and plausible ranges, per metric."""
    for key in keys.dropna().unique():
        unit = units.get(key)
        rows = keys.eq(key) & values.notna()
        if unit == "ratio":
            over = rows & (values > 1) & ~percent
            ctx.report(
                over,
                frame,
                col,
                f"{key} is above 1, and it is stored as a fraction between 0 and 1.",
                ctx.opt.say(
                    "If the column holds percentages, write 87.5 % or tick 'Values are "
                    "percentages'; otherwise correct it.",
                    "If the column holds percentages, write 87.5 % or add --percent; "
                    "otherwise correct it.",
                ),
            )
            bad = rows & ((values < 0) | ((values > 1) & percent))
            ctx.report(
                bad, frame, col, f"{key} must lie between 0% and 100%.", "Correct the value."
            )
            _warn_far_outside(ctx, key, values[rows & percent & (values >= 0) & (values <= 1)])
        elif unit in ("ms", "s", "rps", "users", "count", "min", "h"):
            ctx.report(
                rows & (values < 0), frame, col, f"{key} cannot be negative.", "Correct the value."
            )


def _warn_far_outside(ctx: _Context, key: str, values: pd.Series) -> None:
    """A warning (before import, not a refusal) for percentages far from what the metric
    usually holds: following a hint to write 1.7 % for an AUC of 1.7 gives 0.017."""
    if values.empty or key in ctx.range_warned:
        return
    usual = _usual_range(ctx, key)
    if usual is not None:
        low, high = usual
        far = values[(values < low / 2) | (values > min(1.0, high * 2))]
        said = f"its values so far lie between {low:.1%} and {high:.1%}"
    elif any(w in key for w in _HIGH_RATIO_WORDS):
        far = values[values < _FAR_BELOW]
        said = f"a {key} below {_FAR_BELOW:.0%} is rare"
    else:
        return
    if far.empty:
        return
    ctx.range_warned.add(key)
    first = float(far.iloc[0])
    shown = ", ".join(f"{v:.1%}" for v in far.head(3))
    ctx.p.warnings.append(
        f"{key}: {shown} is far outside its usual range ({said}). As a percentage, "
        f"{first:.1%} is {first:.3g}: check that the file meant a percentage; otherwise "
        "correct the value before importing."
    )


def _kind_metrics(ctx: _Context, frame: pd.DataFrame, names, unmatched) -> pd.DataFrame | None:
    initiative = ctx.initiative(frame, names["initiative"])
    iteration = ctx.iteration(frame, names["iteration"], initiative)
    # A column of dates is the reading's date, never a metric, whatever its header says.
    dated = names["recorded_at"] or ctx.date_column_by_content(frame, list(unmatched))
    recorded = ctx.date(frame, dated, "date")
    segment, candidate = ctx.text(frame, names["segment"]), ctx.text(frame, names["candidate"])
    if names["metric"] is not None and names["value"] is not None:  # long format
        metric_names = ctx.required_text(frame, names["metric"], "metric name")
        unit_col = ctx.text(frame, names["unit"])
        category = ctx.choice(
            frame, names["category"], next(f for f in cols.KINDS["metrics"] if f.name == "category")
        )
        parsed = parse_numbers(frame[names["value"]])
        ctx.report(
            parsed.bad,
            frame,
            names["value"],
            "The value is not a number.",
            "Write a plain number such as 12.5 or 87.5%.",
        )
        ctx.report(
            _empty(frame[names["value"]]),
            frame,
            names["value"],
            "The value is empty.",
            "Fill in a value in every row.",
        )
        keys = ctx.metric_keys(metric_names)
        units: dict[str, str | None] = {}
        combos = (
            pd.DataFrame({"k": keys, "n": metric_names, "u": unit_col, "c": category})
            .dropna(subset=["k"])
            .drop_duplicates("k")
        )
        for k, n, u, c in combos.itertuples(index=False):
            u, c = (u if isinstance(u, str) else None), (c if isinstance(c, str) else None)
            hint = u or cols.normalize(n).unit
            units[k], _ = _metric_definition(ctx, k, str(n), hint, c)
        values = parsed.values
        # A unit column of "%" means the values are percentages: store fractions.
        pct_unit = (
            unit_col.isin(["%", "percent", "pct"])
            if names["unit"] is not None
            else pd.Series(False, index=frame.index)
        )
        if ctx.opt.percent_values:  # plain numbers of ratio metrics are percentages
            ratio = keys.astype(object).map(lambda k: units.get(k) == "ratio").astype(bool)
            pct_unit = pct_unit | (ratio & ~parsed.percent)
        values = values.where(~pct_unit, values / 100)
        _check_metric_values(
            ctx, frame, names["value"], keys, values, parsed.percent | pct_unit, units
        )
        return pd.DataFrame(
            {
                "initiative": initiative,
                "iteration": iteration,
                "metric": keys,
                "value": values,
                "recorded_at": recorded,
                "segment": segment,
                "candidate": candidate,
            }
        )
    # wide: every other column is a metric
    parts = []
    for col in unmatched:
        if not col or col.lower().startswith("unnamed") or col == dated:
            continue
        h = cols.normalize(col)
        h = cols.Header(h.original, ctx.metric_keys(pd.Series([col])).iloc[0], h.unit)
        unit, _ = _metric_definition(ctx, h.key, col.strip(), h.unit, None)
        if unit == "ratio":
            in_unit = ", a share" + (" written in %" if h.unit in ("%", "percent", "pct") else "")
        else:
            in_unit = f", in {unit}" if unit else ""
        read_as = f"metric {h.key}{in_unit}, one value per row"
        if (col, read_as) not in ctx.p.mapping:  # the preview's column mapping shows it
            ctx.p.mapping.append((col, read_as))
        parsed = parse_numbers(frame[col])
        ctx.report(
            parsed.bad,
            frame,
            col,
            f"The {col} value is not a number.",
            "Write a plain number such as 12.5 or 87.5%.",
        )
        values = parsed.values
        percent = parsed.percent
        if h.unit in ("%", "percent", "pct") or (ctx.opt.percent_values and unit == "ratio"):
            values = values.where(percent, values / 100)
            percent = pd.Series(True, index=frame.index)
        keys = pd.Series(h.key, index=frame.index)
        _check_metric_values(ctx, frame, col, keys, values, percent, {h.key: unit})
        keep = values.notna()
        parts.append(
            pd.DataFrame(
                {
                    "initiative": initiative,
                    "iteration": iteration,
                    "metric": keys,
                    "value": values,
                    "recorded_at": recorded,
                    "segment": segment,
                    "candidate": candidate,
                }
            )[keep]
        )
    if not parts:
        ctx.column_problem(
            "metric",
            "The file has an iteration column but no metric columns.",
            "Add one column per metric (for example 'Accuracy %'), or use metric and value columns.",
        )
        return None
    return pd.concat(parts)


def _kind_loadtest(ctx, frame, names, unmatched):
    initiative = ctx.initiative(frame, names["initiative"])
    iteration = ctx.iteration(frame, names["iteration"], initiative)
    return pd.DataFrame(
        {
            "initiative": initiative,
            "iteration": iteration,
            "users": ctx.number(
                frame, names["users"], "user count", required=True, integer=True, minimum=0
            ),
            "throughput_rps": ctx.number(
                frame, names["rps"], "throughput", required=True, minimum=0
            ),
            "p50_ms": ctx.number(frame, names["p50_ms"], "p50 latency", minimum=0),
            "p95_ms": ctx.number(frame, names["p95_ms"], "p95 latency", required=True, minimum=0),
            "p99_ms": ctx.number(frame, names["p99_ms"], "p99 latency", minimum=0),
            "failure_ratio": ctx.number(
                frame, names["error_rate"], "error rate", fraction=True
            ).fillna(0.0),
            "source_file": ctx.p.file_name,
        }
    )


def _kind_traffic(ctx, frame, names, unmatched):
    return pd.DataFrame(
        {
            "initiative": ctx.initiative(frame, names["initiative"]),
            "observed_at": ctx.date(frame, names["date"], "date", required=True),
            "peak_rps": ctx.number(
                frame, names["peak_rps"], "peak traffic", required=True, minimum=0
            ),
        }
    )


def _field(kind: str, name: str) -> Field:
    return next(f for f in cols.KINDS[kind] if f.name == name)


def _kind_feedback(ctx, frame, names, unmatched):
    initiative = ctx.initiative(frame, names["initiative"])
    received = ctx.date(frame, names["received_at"], "date")
    if names["received_at"] is None:
        received = pd.Series(pd.Timestamp(datetime.now().replace(microsecond=0)), index=frame.index)
    return pd.DataFrame(
        {
            "initiative": initiative,
            "iteration": ctx.iteration(frame, names["iteration"], initiative, required=False),
            "received_at": received.fillna(pd.Timestamp(datetime.now().replace(microsecond=0))),
            "source": ctx.choice(frame, names["source"], _field("feedback", "source"), "end_user"),
            "rating": ctx.number(frame, names["rating"], "rating", minimum=1, maximum=5),
            "text": ctx.required_text(frame, names["text"], "comment"),
            "theme": ctx.text(frame, names["theme"]),
            "tags": ctx.text(frame, names["tags"]),
            "sentiment": ctx.number(frame, names["sentiment"], "sentiment", minimum=-1, maximum=1),
            "status": ctx.choice(frame, names["status"], _field("feedback", "status"), "new"),
            "action_taken": ctx.text(frame, names["action_taken"]),
        }
    )


def _concern_categories(ctx: _Context, frame: pd.DataFrame, col: str | None) -> pd.Series:
    """Failure categories from the words a register uses ("Data quality", "Adoption"…);
    what matches none is kept as not categorised yet, with a warning listing the words."""
    f = _field("concerns", "category")
    if col is None:
        if not ctx.uncategorised_noted:
            ctx.uncategorised_noted = True
            ctx.p.warnings.append(
                "The file has no category column: its concerns are imported as not categorised "
                "yet and flagged on the register for triage."
            )
        return pd.Series(None, index=frame.index, dtype=object)
    raw = frame[col].astype(str).str.strip()
    codes, uniques = pd.factorize(raw)
    resolved = [f.choices.get(u, f.choices.get(cols.normalize(u).key)) for u in uniques]
    unknown = sorted({u for u, r in zip(uniques, resolved, strict=True) if r is None and u})
    for word in unknown:
        if word not in ctx.unknown_categories:
            ctx.unknown_categories.append(word)
    return pd.Series(np.array([*resolved, None], dtype=object)[codes], index=frame.index)


def _kind_concerns(ctx, frame, names, unmatched):
    initiative = ctx.initiative(frame, names["initiative"])
    raised = ctx.date(frame, names["raised_at"], "date raised")
    metric = ctx.metric_keys(ctx.text(frame, names["metric"]))
    unknown = metric.notna() & ~metric.isin(list(ctx.metrics) + list(ctx.p.new_metrics))
    ctx.report(
        unknown,
        frame,
        names["metric"],
        "This metric is not known to Liftoff.",
        "Use the key of a metric already imported (see the metrics table), or leave it empty.",
    )
    key = ctx.text(frame, names["key"])
    dup = key.notna() & key.duplicated(keep=False)
    ctx.report(
        dup,
        frame,
        names["key"],
        "This key appears more than once in the file.",
        "Give every concern its own key.",
    )
    return pd.DataFrame(
        {
            "initiative": initiative,
            "external_key": key,
            "title": ctx.required_text(frame, names["title"], "title"),
            "description": ctx.text(frame, names["description"]),
            "raised_by": ctx.text(frame, names["raised_by"]),
            "stakeholder_group": ctx.text(frame, names["stakeholder_group"]),
            "failure_category": _concern_categories(ctx, frame, names["category"]),
            "severity": ctx.choice(
                frame, names["severity"], _field("concerns", "severity"), required=True
            ),
            # Left empty, status and raised date keep what the register says on re-import;
            # a new concern starts open, raised today (the loader decides, knowing which).
            "status": ctx.choice(frame, names["status"], _field("concerns", "status")),
            "owner": ctx.text(frame, names["owner"]),
            "raised_at": raised,
            "due": ctx.date(frame, names["due"], "due date", future_ok=True)
            if names["due"]
            else pd.Series(pd.NaT, index=frame.index),
            "resolved_at": ctx.date(frame, names["resolved_at"], "resolution date"),
            "resolution": ctx.text(frame, names["resolution"]),
            "metric": metric,
            "comparator": ctx.choice(frame, names["comparator"], _field("concerns", "comparator")),
            "threshold": ctx.number(frame, names["threshold"], "threshold"),
            "iteration": ctx.iteration(frame, names["iteration"], initiative, required=False),
        }
    )


def _kind_criteria(ctx, frame, names, unmatched):
    initiative = ctx.initiative(frame, names["initiative"])
    metric = ctx.metric_keys(ctx.text(frame, names["metric"]))
    target = ctx.number(frame, names["target"], "target")
    comparator = ctx.choice(frame, names["comparator"], _field("criteria", "comparator"), ">=")
    ctx.report(
        metric.notna() & target.isna(),
        frame,
        names["target"] or names["metric"],
        "A criterion with a metric needs a target.",
        "Fill in the target value (for example 0.85 or 85%).",
    )
    for key in metric.dropna().unique():
        if key not in ctx.metrics and key not in ctx.p.new_metrics:
            _metric_definition(ctx, key, key, None, None)
    return pd.DataFrame(
        {
            "initiative": initiative,
            "iteration": ctx.iteration(frame, names["iteration"], initiative),
            "kind": ctx.choice(frame, names["kind"], _field("criteria", "kind"), required=True),
            "description": ctx.required_text(frame, names["description"], "description"),
            "metric": metric,
            "comparator": comparator,
            "target": target,
            "manual_status": ctx.choice(frame, names["status"], _field("criteria", "status")),
            "evidence_note": ctx.text(frame, names["evidence"]),
        }
    )


def _kind_governance(ctx, frame, names, unmatched):
    area = ctx.choice(frame, names["area"], _field("governance", "area"), required=True)
    required_from = ctx.choice(frame, names["required_from"], _field("governance", "required_from"))
    required_from = required_from.where(
        required_from.notna(), area.map(cols.GOVERNANCE_DEFAULT_STAGE)
    )
    return pd.DataFrame(
        {
            "initiative": ctx.initiative(frame, names["initiative"]),
            "area": area,
            "required_from": required_from,
            "status": ctx.choice(
                frame, names["status"], _field("governance", "status"), required=True
            ),
            "evidence": ctx.text(frame, names["evidence"]),
            "owner": ctx.text(frame, names["owner"]),
        }
    )


def _kind_stakeholders(ctx, frame, names, unmatched):
    initiative = ctx.initiative(frame, names["initiative"])
    iteration = ctx.iteration(frame, names["iteration"], initiative)
    name = ctx.required_text(frame, names["name"], "name")
    influence = ctx.number(
        frame, names["influence"], "influence", integer=True, minimum=1, maximum=5
    )
    pairs = pd.DataFrame({"i": initiative, "n": name, "k": iteration})
    dup = pairs.notna().all(axis=1) & pairs.duplicated(keep=False)
    ctx.report(
        dup,
        frame,
        names["name"],
        "This stakeholder has two stances for the same iteration in the file.",
        "Keep one row per stakeholder and iteration.",
    )
    return pd.DataFrame(
        {
            "initiative": initiative,
            "iteration": iteration,
            "name": name,
            "group": ctx.text(frame, names["group"]),
            "influence": influence,
            "stance": ctx.choice(
                frame, names["stance"], _field("stakeholders", "stance"), required=True
            ),
            "note": ctx.text(frame, names["note"]),
        }
    )


_KIND_FUNCTIONS = {
    "metrics": ("observations", _kind_metrics),
    "loadtest": ("load_test_steps", _kind_loadtest),
    "traffic": ("traffic", _kind_traffic),
    "feedback": ("feedback", _kind_feedback),
    "concerns": ("concerns", _kind_concerns),
    "criteria": ("criteria", _kind_criteria),
    "governance": ("governance_items", _kind_governance),
    "stakeholders": ("stakeholder_stances", _kind_stakeholders),
}


# ------------------------------------------------------------------------------ exports of tools


def _header_index(table: Table) -> dict[str, str]:
    return {cols.normalize(h).key: h for h in table.header}


def _prepare_mlflow_runs(ctx: _Context, frame: pd.DataFrame) -> pd.DataFrame | None:
    header = {h.strip().lower(): h for h in ctx.table.header}
    tag = ctx.opt.iteration_tag.strip().lower()
    initiative = ctx.initiative(frame, header.get("tags.initiative"))
    if ctx.opt.iteration is None and tag not in header:
        ctx.column_problem(
            "iteration",
            f"The runs have no {ctx.opt.iteration_tag!r} column to say which iteration each belongs to.",
            ctx.opt.say(
                "Give the iteration under 'Iteration', or add the iteration tag to the runs.",
                "Give the iteration (--iteration N), or name the tag that holds it (--iteration-tag).",
            ),
        )
        return None
    iteration = ctx.iteration(
        frame, header.get(tag) if ctx.opt.iteration is None else None, initiative
    )
    run_name = header.get("tags.mlflow.runname")
    candidate = ctx.text(frame, run_name) if run_name else None
    run_id = ctx.required_text(frame, header["run_id"], "run id")
    candidate = candidate.fillna(run_id) if candidate is not None else run_id
    when_col = header.get("end_time") or header.get("start_time")
    recorded = ctx.date(frame, when_col, "run time")
    parts = []
    for low, original in header.items():
        if not low.startswith("metrics."):
            continue
        name = original.strip()[len("metrics.") :]
        key = ctx.metric_keys(pd.Series([name])).iloc[0]
        unit, _ = _metric_definition(ctx, key, name, None, None)
        parsed = parse_numbers(frame[original])
        ctx.report(
            parsed.bad, frame, original, "The metric value is not a number.", "Check the export."
        )
        _check_metric_values(
            ctx,
            frame,
            original,
            pd.Series(key, index=frame.index),
            parsed.values,
            parsed.percent,
            {key: unit},
        )
        keep = parsed.values.notna()
        parts.append(
            pd.DataFrame(
                {
                    "initiative": initiative,
                    "iteration": iteration,
                    "metric": key,
                    "value": parsed.values,
                    "recorded_at": recorded,
                    "segment": None,
                    "candidate": candidate,
                }
            )[keep]
        )
    ctx.p.mapping = [
        ("run_id / tags.mlflow.runName", "candidate"),
        (ctx.opt.iteration_tag, "iteration"),
        ("metrics.*", "one metric each"),
        (when_col or "", "recorded_at"),
    ]
    return pd.concat(parts) if parts else None


def _prepare_mlflow_history(ctx: _Context, frame: pd.DataFrame) -> pd.DataFrame:
    """A metric's values step by step (MLflow's get_metric_history). The file MLflow writes
    names one run's steps, so the iteration is given for the whole file; `liftoff pull` writes
    every run's steps in one file with the runs export's iteration tag and run name beside them,
    so each step lands on the candidate its run's metrics are stored under."""
    h = _header_index(ctx.table)
    header = {c.strip().lower(): c for c in ctx.table.header}
    initiative = ctx.initiative(frame, None)
    tag_col = header.get(ctx.opt.iteration_tag.strip().lower())
    iteration = ctx.iteration(frame, tag_col if ctx.opt.iteration is None else None, initiative)
    run_id = ctx.required_text(frame, h["run_id"], "run id")
    name_col = header.get("tags.mlflow.runname")
    candidate = ctx.text(frame, name_col).fillna(run_id) if name_col else run_id
    keys = ctx.metric_keys(ctx.required_text(frame, h["key"], "metric key"))
    parsed = parse_numbers(frame[h["value"]])
    ctx.report(parsed.bad, frame, h["value"], "The value is not a number.", "Check the export.")
    units = {}
    for k in keys.dropna().unique():
        units[k], _ = _metric_definition(ctx, k, k, None, None)
    _check_metric_values(ctx, frame, h["value"], keys, parsed.values, parsed.percent, units)
    millis = parse_numbers(frame[h["timestamp"]]).values
    recorded = pd.Series(pd.to_datetime(millis, unit="ms", errors="coerce"), index=frame.index)
    ctx.p.mapping = [
        ("tags.mlflow.runName / run_id" if name_col else "run_id", "candidate"),
        *([(tag_col, "iteration")] if tag_col and ctx.opt.iteration is None else []),
        ("key", "metric"),
        ("value", "value"),
        ("timestamp", "recorded_at (ms)"),
    ]
    return pd.DataFrame(
        {
            "initiative": initiative,
            "iteration": iteration,
            "metric": keys,
            "value": parsed.values,
            "recorded_at": recorded,
            "segment": None,
            "candidate": candidate,
        }
    )


def _percentile_col(table: Table, p: str) -> str | None:
    return next((c for c in table.header if c.strip() == p), None)


def _prepare_locust(ctx: _Context, frame: pd.DataFrame) -> pd.DataFrame | None:
    h = _header_index(ctx.table)
    name_col, type_col = h["name"], h["type"]
    agg = frame[(frame[name_col].str.strip() == "Aggregated") & (frame[type_col].str.strip() == "")]
    if agg.empty:
        ctx.column_problem(
            name_col,
            "The Locust file has no 'Aggregated' row.",
            "Upload the _stats.csv or _stats_history.csv file exactly as Locust wrote it.",
        )
        return None
    initiative = ctx.initiative(agg, None)
    iteration = ctx.iteration(agg, None, initiative)
    p50, p95, p99 = (_percentile_col(ctx.table, p) for p in ("50%", "95%", "99%"))

    def num(col, rows):
        return (
            pd.to_numeric(rows[col].replace("N/A", np.nan), errors="coerce")
            if col
            else pd.Series(np.nan, index=rows.index)
        )

    if "user_count" in h:  # _stats_history.csv: one step per user-count plateau
        rows = agg.copy()
        rows["users"] = num(h["user_count"], rows)
        rows["t"] = parse_numbers(rows[h["timestamp"]]).values
        rows["total"] = num(h["total_request_count"], rows)
        rows["failed"] = num(h["total_failure_count"], rows)
        plateau = (rows["users"] != rows["users"].shift()).cumsum()
        # Each plateau is measured from the last sample before it to its own last sample, so
        # the whole time spent at that user count is counted.
        rows["t0"], rows["total0"], rows["failed0"] = (
            rows["t"].shift(),
            rows["total"].shift(),
            rows["failed"].shift(),
        )
        steps = []
        for _, g in rows.groupby(plateau, sort=False):
            users = int(g["users"].iloc[0])
            if users <= 0 or len(g) < 2:
                continue
            start = (
                g.iloc[0]
                if pd.isna(g["t0"].iloc[0])
                else g.iloc[0][["t0", "total0", "failed0"]].set_axis(["t", "total", "failed"])
            )
            span = g["t"].iloc[-1] - start["t"]
            requests = g["total"].iloc[-1] - start["total"]
            failures = g["failed"].iloc[-1] - start["failed"]
            settled = g.iloc[1:]
            p95v = num(p95, settled).median()
            if not span or requests <= 0 or pd.isna(p95v):
                continue
            steps.append(
                {
                    "users": users,
                    "throughput_rps": requests / span,
                    "p50_ms": num(p50, settled).median(),
                    "p95_ms": p95v,
                    "p99_ms": num(p99, settled).median(),
                    "failure_ratio": max(0.0, failures / requests),
                }
            )
        if not steps:
            ctx.column_problem(
                h["user_count"],
                "No user-count plateau in this history has measurements.",
                "Run Locust with stepped user counts (a LoadTestShape) for a few seconds each.",
            )
            return None
        out = pd.DataFrame(steps)
        first = agg.index[0]
        out["initiative"] = initiative.loc[first]
        out["iteration"] = iteration.loc[first]
        ctx.p.mapping = [
            ("User Count plateaus", "users"),
            ("Total Request Count / time", "throughput_rps"),
            ("50% / 95% / 99%", "p50_ms / p95_ms / p99_ms"),
            ("Total Failure Count", "failure_ratio"),
        ]
    else:  # _stats.csv: the Aggregated row is one step
        if ctx.opt.users is None:
            ctx.column_problem(
                "users",
                "A Locust _stats.csv file does not record how many users ran.",
                ctx.opt.say(
                    "Give the user count under 'Users'.", "Give the user count (--users N)."
                ),
            )
            return None
        total = num(h["request_count"], agg)
        failed = num(h["failure_count"], agg)
        out = pd.DataFrame(
            {
                "users": ctx.opt.users,
                "throughput_rps": num(h["requests_s"], agg),
                "p50_ms": num(p50, agg),
                "p95_ms": num(p95, agg),
                "p99_ms": num(p99, agg),
                "failure_ratio": (failed / total.where(total > 0)).fillna(0.0),
                "initiative": initiative,
                "iteration": iteration,
            }
        )
        ctx.p.mapping = [
            ("Aggregated row", "one load-test step"),
            ("Requests/s", "throughput_rps"),
            ("50% / 95% / 99%", "p50_ms / p95_ms / p99_ms"),
            ("Failure Count / Request Count", "failure_ratio"),
        ]
    out["source_file"] = ctx.p.file_name
    return out[
        [
            "initiative",
            "iteration",
            "users",
            "throughput_rps",
            "p50_ms",
            "p95_ms",
            "p99_ms",
            "failure_ratio",
            "source_file",
        ]
    ]


# ------------------------------------------------------------------------------ prepare


def _numeric_columns(table: Table, kind: str, names, unmatched) -> frozenset[int]:
    """Positions of the columns that hold numbers, for the CSV reader to parse as numbers."""
    if names is None:
        return frozenset()
    wanted = {f.name for f in cols.KINDS[kind] if f.type in ("int", "number", "fraction")}
    headers = [names[n] for n in wanted if names.get(n)]
    if kind == "metrics" and (names["metric"] is None or names["value"] is None):
        headers += list(unmatched)  # wide: one column per metric
    return frozenset(i for i, h in enumerate(table.header) if h in headers)


def _without_blank_rows(chunk: pd.DataFrame) -> pd.DataFrame:
    """Trailing empty rows (and all-empty rows in between) are not data. A column the CSV
    reader parsed as numbers has a number in every row (empty cells keep a column as text),
    so then no row is blank."""
    if not len(chunk) or any(pd.api.types.is_numeric_dtype(t) for t in chunk.dtypes):
        return chunk
    return chunk[chunk.ne("").any(axis=1)]


def _duplicate_batch(source, sha: str, exclude: int | None = None) -> int | None:
    """The newest committed batch of the same file (`exclude`: the batch being written)."""
    with _connection(source) as conn:
        stmt = select(func.max(ImportBatch.id)).where(
            ImportBatch.sha256 == sha, ImportBatch.status == "committed"
        )
        if exclude is not None:
            stmt = stmt.where(ImportBatch.id != exclude)
        return conn.execute(stmt).scalar()


# Files up to this many rows keep their validated rows in memory after `prepare`, so that
# `commit` need not read them again; larger files are read again, in a stream, by `commit`.
KEEP_ROWS = 100_000
PREVIEW_ROWS = 50


def prepare(
    engine,
    data: bytes,
    file_name: str,
    options: Options | None = None,
    progress=None,
    sink=None,
    exclude_batch: int | None = None,
    sha256: str | None = None,
    checkpoint=None,
) -> Prepared:
    """Read and validate a file without writing anything. Problems are collected, not raised,
    except for a file that cannot be read as a table at all (ImportRejected).

    `engine` may also be an open connection (the importer validates inside its transaction).
    `sink(prepared, target, frame)`, when given, receives each validated chunk as it is read
    instead of the chunks being kept. `sha256` is the file's hash when the caller has it
    already (hashing 200 MB takes a tenth of a second). `checkpoint()` is called now and then
    while reading and may raise to stop the work (reader.read_table).
    """
    opt = options or Options()
    if opt.kind != "auto" and opt.kind not in KINDS:
        raise reject(
            file_name,
            f"{opt.kind!r} is not a kind of file Liftoff imports.",
            f"Use one of: auto, {', '.join(KINDS)}.",
        )
    # refuses a file over the limit first
    try:
        table = read_table(data, file_name, sheet=opt.sheet, checkpoint=checkpoint)
    except ImportRejected as exc:
        raise _with_sheets(exc, data, opt) from None
    sha = sha256 or hashlib.sha256(data).hexdigest()
    p = Prepared(file_name=file_name, kind=opt.kind, sha256=sha, raw=data, options=opt)
    p.sheet, p.sheets, p.encoding, p.delimiter = (
        table.sheet,
        table.sheets,
        table.encoding,
        table.delimiter,
    )
    p.warnings.extend(table.warnings)
    headers = [cols.normalize(h) for h in table.header]
    if not any(h.key for h in headers):
        raise reject(
            file_name,
            "The first row is empty, so the file has no header.",
            "Put the column names in the first row.",
        )
    kind = opt.kind if opt.kind != "auto" else detect_kind(headers)
    if kind is None:
        raise _with_sheets(
            reject(
                file_name,
                f"Liftoff cannot tell what this file holds from its columns ({', '.join(table.header)}).",
                opt.say(
                    "Choose the kind under 'What the file holds', or download a template above and match its column names.",
                    "Give the kind (--kind), or match the column names of a template (see the Upload page).",
                ),
            ),
            data,
            opt,
        )
    p.kind = kind
    if opt.sheet is None and len(table.sheets) > 1:
        others = ", ".join(repr(n) for n in table.sheets if n != table.sheet)
        p.warnings.append(
            f"The workbook has {len(table.sheets)} sheets; this is the first, {table.sheet!r}. "
            + opt.say(
                f"To import another ({others}), choose it under 'Sheet'.",
                f"To import another ({others}), add --sheet NAME.",
            )
        )
    duplicate = _duplicate_batch(engine, sha, exclude_batch)
    if duplicate is not None and not opt.force:
        p.duplicate_of = duplicate
        p.problems.add(
            None,
            None,
            None,
            f"This exact file was already imported as batch #{duplicate}.",
            opt.say(
                "Roll that batch back first (Import history), or tick 'Import anyway' to import it again on purpose.",
                "Roll that batch back first, or import again on purpose with --force.",
            ),
        )
    ctx = _Context(engine, p, table)
    target = {
        "mlflow-runs": "observations",
        "mlflow-history": "observations",
        "locust": "load_test_steps",
    }.get(kind)
    names = unmatched = None
    if kind in _KIND_FUNCTIONS:
        target, fn = _KIND_FUNCTIONS[kind]
        names, unmatched = _columns(ctx, kind)
        missing_required = ctx.missing_required
        ignored = [u for u in unmatched if u and not u.lower().startswith("unnamed")]
        if ignored and not (
            kind == "metrics" and (names["metric"] is None or names["value"] is None)
        ):
            p.warnings.append(f"Columns ignored (not used for {kind}): {', '.join(ignored)}.")
    else:
        missing_required = False
        fn = None
    seen_rows = 0
    kept = 0
    for chunk in table.read(_numeric_columns(table, kind, names, unmatched)):
        chunk = _without_blank_rows(chunk)
        seen_rows += len(chunk)
        if not len(chunk) or missing_required:
            continue
        if kind == "mlflow-runs":
            out = _prepare_mlflow_runs(ctx, chunk)
        elif kind == "mlflow-history":
            out = _prepare_mlflow_history(ctx, chunk)
        elif kind == "locust":
            out = _prepare_locust(ctx, chunk)
        else:
            out = fn(ctx, chunk, names, unmatched)
        if out is not None and len(out):
            p.accepted += len(out)
            if len(p.preview_rows) < PREVIEW_ROWS:
                p.preview_rows.append(out.head(PREVIEW_ROWS))
            if sink is not None:
                sink(p, target, out)
            elif kept <= KEEP_ROWS:
                kept += len(out)
                p.frames.setdefault(target, []).append(out)
        if progress:
            progress(seen_rows)
    p.complete = sink is None and kept <= KEEP_ROWS
    p.rows_read = seen_rows
    if seen_rows == 0 and not missing_required:
        p.problems.add(
            None,
            None,
            None,
            "The file has a header but no rows of data.",
            "Add at least one row below the header.",
        )
    ctx.finish()
    p.warnings.extend(ctx.merged_metric_names())
    if p.new_metrics:
        listed = ", ".join(
            f"{k} ({c.replace('_', ' ')}{', ' + u if u else ''})"
            for k, (_, c, u, _) in p.new_metrics.items()
        )
        p.warnings.append(
            f"New metrics will be created: {listed}. Their category and unit were guessed from the name; edit them if wrong."
        )
    if p.new_initiatives:
        p.warnings.append("New initiatives will be created: " + ", ".join(p.new_initiatives) + ".")
    if p.new_iterations:
        p.warnings.append(
            "New iterations will be created: "
            + ", ".join(f"{n} #{i}" for n, i in p.new_iterations)
            + "."
        )
    for name, number in p.next_iterations:
        p.warnings.append(
            f"Iteration {number} of {name} will be created: it is the next one after "
            f"iteration {number - 1}."
            if number > 1
            else f"Iteration 1 of {name} will be created: its first iteration."
        )
    if p.ok:
        p.warnings.extend(_shadowed_by_candidate(engine, p))
    # Problems in the order of the file: the file's own first, then row by row.
    p.problems.items.sort(key=lambda pr: (pr.row is not None, pr.row or 0))
    if not p.ok:
        p.frames = {}
    return p


def _shadowed_by_candidate(engine, p: Prepared) -> list[str]:
    """Warnings for iteration-wide values that the headline will not show: when an iteration's
    headline comes from a candidate (the best on the primary metric) that reports the same
    metric, its own value wins (README, "The rules behind the numbers"), and a newer
    iteration-wide value wins over an older one; so such a file changes nothing on the screens,
    and the person should know before. Read once per initiative, on the file's distinct
    (iteration, metric) pairs, not its rows."""
    from liftoff.evidence import initiative as evidence
    from liftoff.evidence import reads as evidence_reads
    from liftoff.formatting import format_date

    keys = ["initiative", "iteration", "metric"]
    newest_parts = []
    for part in p.frames.get("observations", []):
        plain = part[part["candidate"].isna() & part["segment"].isna()]
        if len(plain):
            dated = plain[keys].assign(recorded_at=pd.to_datetime(plain["recorded_at"]))
            newest_parts.append(dated.groupby(keys, sort=False)["recorded_at"].max())
    if not newest_parts:
        return []
    newest = pd.concat(newest_parts).groupby(level=[0, 1, 2]).max()
    out = []
    for name, of_initiative in newest.groupby(level=0, sort=True):
        try:
            ev = evidence.for_initiative(engine, name)
        except LookupError:  # a new initiative: nothing to shadow
            continue
        latest = evidence_reads.latest_values(engine, [ev.initiative["id"]])

        def names(metric_keys, catalog=ev.catalog):
            return ", ".join(catalog.get(k, {}).get("display_name", k) for k in metric_keys)

        for number, of_iteration in of_initiative.groupby(level=1, sort=True):
            it = ev.iteration(int(number))
            if it is None:
                continue
            stored = latest.get(it.id, [])
            in_file = {m: t for (_, _, m), t in of_iteration.items()}
            older = sorted(
                r.metric_key
                for r in stored
                if r.candidate is None
                and r.metric_key in in_file
                and r.recorded_at is not None
                and pd.notna(in_file[r.metric_key])
                and pd.Timestamp(r.recorded_at) > in_file[r.metric_key]
            )
            if older:
                when = max(r.recorded_at for r in stored if r.metric_key in older)
                out.append(
                    f"Iteration {int(number)} of {name} already has newer values of "
                    f"{names(older)} (dated {format_date(when)}); this file's are older, so its "
                    "headline keeps the newer ones. Check the file's dates if these are meant "
                    "to be the latest."
                )
            if it.candidate is None:
                continue
            own = {r.metric_key for r in stored if r.candidate == it.candidate}
            shadowed = sorted(set(in_file) & own)
            if shadowed:
                out.append(
                    f"Iteration {int(number)} of {name} shows the values of its candidate "
                    f"{it.candidate} (the best on the primary metric) for {names(shadowed)}: "
                    "this file's values of them are stored for the iteration as a whole and will "
                    "not change its headline. To record them for a candidate, add a candidate "
                    "column."
                )
    return out


def _with_sheets(exc: ImportRejected, data: bytes, opt: Options) -> ImportRejected:
    """A workbook of several sheets refused for its first sheet: the fix names the sheets and
    how to choose one (the page's 'Sheet', the CLI's --sheet)."""
    if opt.sheet is not None or not is_xlsx(data) or len(exc.problems) != 1:
        return exc
    try:
        sheets = inspect_workbook(data, exc.file_name)
    except ImportRejected:  # an unreadable workbook keeps its own message
        return exc
    if len(sheets) < 2:
        return exc
    first = exc.problems[0]
    listed = ", ".join(repr(n) for n in sheets)
    fix = opt.say(
        f"The workbook has {len(sheets)} sheets ({listed}) and this is the first: choose the "
        "one with the data under 'Sheet'.",
        f"The workbook has {len(sheets)} sheets ({listed}) and this is the first: name the one "
        "with the data with --sheet NAME.",
    )
    return reject(
        exc.file_name,
        f"Sheet {sheets[0]!r}: {first.message}",
        fix,
        row=first.row,
        column=first.column,
        value=first.value,
    )


def options_json(opt: Options) -> str:
    return json.dumps(
        {
            k: v
            for k, v in opt.__dict__.items()
            if k != "audience" and v not in (None, False, "auto", "tags.iteration")
        }
    )
