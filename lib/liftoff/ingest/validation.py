"""Checking a file's cells: the typed readers that collect every problem (row, column, value,
fix) and the file-level problems found once all rows are read."""

from __future__ import annotations

import re
from contextlib import contextmanager

import numpy as np
import pandas as pd
from sqlalchemy import Engine, func, select

from liftoff.db.models import Initiative, Iteration, Metric, Observation
from liftoff.ingest import columns as cols
from liftoff.ingest.columns import Field
from liftoff.ingest.prepared import Prepared
from liftoff.ingest.reader import Table
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

# The largest whole number a file may give (PostgreSQL's INTEGER), and the largest iteration.
MAX_WHOLE_NUMBER = 2_147_483_647
MAX_ITERATION = 100_000


def plain_bound(n: float) -> str:
    """A bound as a person writes it: 2,147,483,647 or 0.5 (not 2.14748e+09)."""
    return f"{int(n):,}" if float(n).is_integer() else f"{n:g}"


def is_empty(column: pd.Series) -> pd.Series:
    """Cells left empty (a column the reader parsed as numbers has none)."""
    if pd.api.types.is_numeric_dtype(column):
        return pd.Series(False, index=column.index)
    return column.astype(str).str.strip().eq("")


@contextmanager
def connection(source):
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


class Context:
    """State shared while validating one file: lookups, options and the problems found."""

    def __init__(self, source, prepared: Prepared, table: Table):
        self.p = prepared
        self.opt = prepared.options
        self.table = table
        self.problems = prepared.problems
        with connection(source) as conn:
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
        self.missing_initiative_rows: dict[str, int] = {}
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
            is_empty(frame[col]),
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
        # An example of its own kind: "87.5%" is no way to write a latency or a user count.
        example = "42" if integer else "2.5% or 0.025" if fraction else "12.5 or 12,5"
        self.report(
            parsed.bad,
            frame,
            col,
            f"The {label} is not a number.",
            f"Write a number such as {example}.",
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
                f"The {label} cannot be below {plain_bound(minimum)}.",
                "Correct the value.",
            )
            values = values.where(~low)
        if maximum is not None:
            high = values.notna() & (values > maximum)
            self.report(
                high,
                frame,
                col,
                f"The {label} cannot be above {plain_bound(maximum)}.",
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
                self.metric_spellings.setdefault(k, {}).setdefault(plain_name(u), clean_name(u))
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
            self.p.asks_date_order = True
            # One of the file's own dates that reads both ways, as the example (the problem
            # named no row and no value; helper-27).
            both = parsed.both_ways
            first = both.index[both.to_numpy()][:1] if both is not None else []
            row = (
                f" (row {int(self.rows(first)[0])}: {str(frame[col][first[0]]).strip()})"
                if len(first)
                else ""
            )
            self.column_problem(
                col,
                f"The dates in {col!r} can be read day-first or month-first{row}: 03/04/2026 "
                "is 3 April or 4 March.",
                self.opt.say(
                    "Say which: choose the order under 'Dates like 03/04/2026 are', above.",
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
        for i, (name, n) in enumerate(
            zip(names, np.bincount(codes[codes >= 0], minlength=len(names)), strict=True)
        ):
            if name not in self.initiatives:
                self.missing_initiatives[name] = self.missing_initiatives.get(name, 0) + int(n)
                # The first row that names it, for the problem's Row (it read "—").
                first = int(self.rows(frame.index[np.flatnonzero(codes == i)[:1]])[0])
                self.missing_initiative_rows.setdefault(name, first)
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
                empty = is_empty(frame[col])
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
                spellings.pop(plain_name(key), None)  # the key itself names it
                spellings.setdefault(plain_name(known.display_name), known.display_name)
            if len(spellings) > 1:
                listed = " and ".join(repr(n) for n in sorted(spellings.values()))
                out.append(
                    f"{listed} are read as one metric, {key}. If they are different metrics, "
                    "rename one of them in the file."
                )
        return out

    def _in_rows(self, name: str) -> str:
        """How often a missing initiative is named, beyond the problem's row: " (in 3 rows,
        the first here)"."""
        n = self.missing_initiatives.get(name, 0)
        return f" (in {n:,} rows, the first here)" if n > 1 else ""

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
                    self.missing_initiative_rows.get(name),
                    "initiative",
                    name,
                    f"There is no initiative named {name!r}{self._in_rows(name)}. "
                    f"Did you mean {meant!r}?" + looks_alike(name),
                    self.opt.say(
                        f"Write {meant!r} in the file, or choose {meant!r} under 'Initiative'.",
                        f"Write {meant!r} in the file (or --initiative {meant!r}).",
                    )
                    + ("" if same else f" If {name!r} is a new initiative, {create}."),
                )
            else:
                self.p.asks_create = True
                self.problems.add(
                    self.missing_initiative_rows.get(name),
                    "initiative",
                    name,
                    f"There is no initiative named {name!r}{self._in_rows(name)}; "
                    f"the initiatives are {known}.",
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


def plain_name(name) -> str:
    """A metric's name as compared for 'the same name': its unit, case, spacing and
    underscores aside ("Accuracy %" and "accuracy" are one name, "AUC!" and "AUC" are not)."""
    header = cols.normalize(clean_name(name))
    text = cols._UNIT_IN_BRACKETS.sub(" ", clean_name(name).casefold())
    if header.unit == "%":
        text = text.rstrip().removesuffix("%")
    return " ".join(text.replace("_", " ").split())


def looks_alike(name: str) -> str:
    """Why two names that look the same are not: the letters from other scripts in `name`."""
    found = lookalikes(name)
    if not found:
        return ""
    return f" The two look alike, but {name!r} has {', '.join(found)} instead of a Latin letter."


# ------------------------------------------------------------------------------ metrics


def metric_definition(
    ctx: Context,
    key: str,
    display: str,
    unit_hint: str | None,
    category: str | None,
    direction: str | None = None,
):
    """(unit, category) of a metric, registering a new one with the properties the file gives
    and the others guessed from its name."""
    if key in ctx.metrics:
        m = ctx.metrics[key]
        ctx.p.metric_meta.setdefault(
            key, {"key": key, "display_name": m.display_name or key, "unit": m.unit}
        )
        return m.unit, m.category
    if key not in ctx.p.new_metrics:
        g_category, unit, g_direction = cols.guess_metric(key, unit_hint)
        ctx.p.new_metrics[key] = (
            clean_name(display),
            category or g_category,
            unit,
            direction or g_direction,
        )
        guessed = (
            ("category",) * (category is None)
            + ("unit",) * (not unit_hint)
            + ("direction",) * (direction is None)
        )
        if guessed:
            ctx.p.guessed_metrics[key] = guessed
    name, cat, unit, _ = ctx.p.new_metrics[key]
    ctx.p.metric_meta.setdefault(key, {"key": key, "display_name": name or key, "unit": unit})
    return unit, cat


# Metrics that, as fractions, hardly ever sit this low: an AUC or accuracy of 1.7 % is far
# more likely a typo or a value written in the wrong unit than a result.
_HIGH_RATIO_WORDS = ("auc", "accuracy", "f1", "precision", "recall", "roc")
_FAR_BELOW = 0.05


def _usual_range(ctx: Context, key: str) -> tuple[float, float] | None:
    """The lowest and highest value stored so far for a metric (None: none yet)."""
    if key not in ctx.usual_ranges:
        found = None
        if key in ctx.metrics:
            with connection(ctx.source) as conn:
                low, high = conn.execute(
                    select(func.min(Observation.value), func.max(Observation.value))
                    .join(Metric, Metric.id == Observation.metric_id)
                    .where(Metric.key == key)
                ).one()
            found = None if low is None else (float(low), float(high))
        ctx.usual_ranges[key] = found
    return ctx.usual_ranges[key]


def check_metric_values(
    ctx,
    frame,
    col,
    keys: pd.Series,
    values: pd.Series,
    percent: pd.Series,
    units: dict[str, str | None],
):
    """The fraction rule and plausible ranges, per metric. Each rule is one comparison over
    the whole chunk; only the metrics it finds a row of are reported one by one."""
    codes, metric_keys = pd.factorize(keys, use_na_sentinel=True)
    if not len(metric_keys):
        return
    unit_of = [units.get(k) for k in metric_keys]
    present = (codes >= 0) & values.notna().to_numpy()
    codes = np.where(present, codes, len(metric_keys))  # the last code: no metric or no value
    ratio = np.array([u == "ratio" for u in unit_of] + [False])[codes]
    counted = np.array(
        [u in ("ms", "s", "rps", "users", "count", "min", "h") for u in unit_of] + [False]
    )[codes]
    v = values.to_numpy(dtype="float64", na_value=np.nan)
    pct = percent.to_numpy(dtype=bool)
    with np.errstate(invalid="ignore"):
        over = ratio & (v > 1) & ~pct
        bad = ratio & ((v < 0) | ((v > 1) & pct))
        negative = counted & (v < 0)
        usual = ratio & pct & (v >= 0) & (v <= 1)

    def of(mask: np.ndarray, i: int) -> pd.Series:
        return pd.Series(mask & (codes == i), index=frame.index)

    for i in np.unique(codes[over | bad | negative | usual]).tolist():
        key = metric_keys[i]
        # By its name, as the screens and the preview write it (not retention_rate_90d).
        name = ctx.p.metric_meta.get(key, {}).get("display_name") or key
        if unit_of[i] == "ratio":
            ctx.report(
                of(over, i),
                frame,
                col,
                f"{name} is above 1, and it is stored as a fraction between 0 and 1.",
                ctx.opt.say(
                    "If the column holds percentages, write 87.5 % or tick 'Values are "
                    "percentages'; otherwise correct it.",
                    "If the column holds percentages, write 87.5 % or add --percent; "
                    "otherwise correct it.",
                ),
            )
            ctx.report(
                of(bad, i),
                frame,
                col,
                f"{name} must lie between 0% and 100%.",
                "Correct the value.",
            )
            _warn_far_outside(ctx, key, values[of(usual, i)])
        else:
            ctx.report(
                of(negative, i), frame, col, f"{name} cannot be negative.", "Correct the value."
            )


def _warn_far_outside(ctx: Context, key: str, values: pd.Series) -> None:
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
