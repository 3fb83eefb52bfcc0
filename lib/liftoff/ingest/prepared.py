"""What one file becomes on its way in: the options chosen beside it and the validated rows."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from liftoff.ingest.problems import ImportRejected, Problems
from liftoff.tables import as_text


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
    # A load test for an iteration that has one replaces it (the page's "Replace the earlier
    # load test", the CLI's --replace-load-tests); without it the steps are added beside.
    replace_load_tests: bool = False

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
    # Whether the file has dates that read both day-first and month-first (03/04/2026).
    asks_date_order: bool = False
    # Whether the file tests an iteration that has load-test results already (the earlier
    # run is then replaced or kept beside it: Options.replace_load_tests).
    asks_replace: bool = False
    new_metrics: dict[str, tuple[str, str, str | None, str]] = field(default_factory=dict)
    # What of them the file does not give, guessed from the name: key -> ("category", "unit").
    guessed_metrics: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # Each metric key of the file and its definition as formatting.shown_unit reads it (key,
    # the name the screens show, unit): how the preview writes its rows.
    metric_meta: dict[str, dict] = field(default_factory=dict)
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
    def asks_users(self) -> bool:
        """Whether this is a Locust _stats.csv waiting for its user count (it records none)."""
        return self.kind == "locust" and any(p.column == "users" for p in self.problems.items)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def rows_accepted(self) -> int:
        return self.accepted

    def preview(self, limit: int = 50, moments=None) -> pd.DataFrame:
        """The first rows as they will be stored (stored units: fractions for ratios), with
        each date column written by `moments(column)` (default: "2026-11-20 14:05")."""
        if not self.preview_rows:
            return pd.DataFrame()
        shown = pd.concat(self.preview_rows, ignore_index=True).head(limit)
        for c in shown.columns:
            if pd.api.types.is_datetime64_any_dtype(shown[c]):
                shown[c] = (
                    moments(shown[c])
                    if moments is not None
                    else shown[c].dt.strftime("%Y-%m-%d %H:%M").where(shown[c].notna(), "")
                )
            elif isinstance(shown[c].dtype, pd.CategoricalDtype):
                shown[c] = shown[c].astype(object)
            elif shown[c].isna().any() and pd.api.types.is_numeric_dtype(shown[c]):
                # A number column with gaps, as text: the table would say "None", and numbers
                # mixed with "" in one column cannot be sent to the browser at all.
                shown[c] = shown[c].map(as_text)
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
