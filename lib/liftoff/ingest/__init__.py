"""Ingestion: the one pipeline behind the Upload page and `liftoff import`."""

from liftoff.access.auth import require
from liftoff.ingest.describe import (
    describe,
    describe_success,
    preview,
    problems_table,
    screen_for,
    workbook_sheets,
)
from liftoff.ingest.kinds import KINDS
from liftoff.ingest.load import commit, load_file
from liftoff.ingest.pipeline import prepare
from liftoff.ingest.prepared import Options, Prepared
from liftoff.ingest.problems import ImportRejected, Problem
from liftoff.ingest.reader import is_xlsx as is_workbook
from liftoff.ingest.rollback import (
    RollbackConflict,
    RollbackError,
    RollbackPlan,
    rollback,
    rollback_plan,
)

__all__ = [
    "KINDS",
    "ImportRejected",
    "Options",
    "Prepared",
    "Problem",
    "RollbackConflict",
    "RollbackError",
    "RollbackPlan",
    "commit",
    "describe",
    "describe_success",
    "import_file",
    "is_workbook",
    "prepare",
    "preview",
    "problems_table",
    "rollback",
    "rollback_plan",
    "screen_for",
    "workbook_sheets",
]


def import_file(
    engine,
    actor,
    data: bytes,
    file_name: str,
    options: Options | None = None,
    dry_run: bool = False,
    progress=None,
) -> tuple[Prepared, int | None]:
    """Validate and load a file in one streaming pass; raises ImportRejected (nothing written)
    when it has problems. `dry_run` validates only."""
    options = options or Options()
    if not dry_run:
        require(actor, "upload")
    if dry_run:
        prepared = prepare(engine, data, file_name, options)
        if not prepared.ok:
            raise prepared.rejection()
        return prepared, None
    return load_file(engine, actor, data, file_name, options, progress)
