"""What can be wrong with an imported file, said so a product manager can fix it."""

from __future__ import annotations

from dataclasses import dataclass

from liftoff.errors import LiftoffError

# Past this many problems the rest are summarised: nobody reads 50,000 identical lines.
MAX_REPORTED = 200


@dataclass(frozen=True)
class Problem:
    """One problem: where (spreadsheet row, column), the value, what is wrong and the fix."""

    row: int | None
    column: str | None
    value: str | None
    message: str
    fix: str

    def as_error(self) -> dict:
        """The `--json` shape of `liftoff import` (README, "Command line"): row, column, value, message (with the fix)."""
        return {
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "message": f"{self.message} {self.fix}",
        }

    def describe(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column!r}")
        if self.value not in (None, ""):
            where.append(f"value {self.value!r}")
        head = ", ".join(where)
        return (f"{head}: " if head else "") + f"{self.message} Fix: {self.fix}"


class Problems:
    """Collects every problem of a file, not only the first."""

    def __init__(self) -> None:
        self.items: list[Problem] = []
        self.total = 0

    def add(self, row, column, value, message: str, fix: str) -> None:
        self.total += 1
        if len(self.items) < MAX_REPORTED:
            value = None if value is None else str(value)
            if value is not None and len(value) > 80:
                value = value[:77] + "..."
            self.items.append(Problem(row, column, value, message, fix))

    def __bool__(self) -> bool:
        return self.total > 0

    def __len__(self) -> int:
        return self.total


class ImportRejected(LiftoffError):
    """The file was not imported; nothing was written. Carries every problem found."""

    def __init__(
        self,
        file_name: str,
        problems: list[Problem],
        total: int | None = None,
        *,
        kind: str | None = None,
        rows_read: int = 0,
        warnings: list[str] | None = None,
        duplicate_of: int | None = None,
        out_of_scope: bool = False,
    ):
        self.file_name = file_name
        self.problems = problems
        self.total = total if total is not None else len(problems)
        self.kind = kind
        self.rows_read = rows_read
        self.warnings = warnings or []
        # The committed batch of the same file, when that is why it was refused.
        self.duplicate_of = duplicate_of
        # Rows name an initiative the importer may not write to (an API token's limit).
        self.out_of_scope = out_of_scope
        super().__init__(self.summary())

    def report(self, kind: str | None = None) -> dict:
        """The `--json` shape of a refused file (README, "Command line") (the CLI and the API share it)."""
        return {
            "batch_id": None,
            "kind": self.kind or kind,
            "rows_read": self.rows_read,
            "rows_accepted": 0,
            "warnings": list(self.warnings),
            "errors": [p.as_error() for p in self.problems],
        }

    def summary(self) -> str:
        n = self.total
        noun = "problem" if n == 1 else "problems"
        lines = [f"{self.file_name} was not imported ({n} {noun}); nothing was changed."]
        lines += [f"  - {p.describe()}" for p in self.problems]
        if n > len(self.problems):
            lines.append(f"  - … and {n - len(self.problems)} more of the same kinds.")
        return "\n".join(lines)


def reject(
    file_name: str, message: str, fix: str, *, row=None, column=None, value=None
) -> ImportRejected:
    """A rejection for a single problem with the whole file."""
    return ImportRejected(file_name, [Problem(row, column, value, message, fix)])
