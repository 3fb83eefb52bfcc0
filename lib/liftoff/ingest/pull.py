"""`liftoff pull mlflow`: an experiment's runs read live from an MLflow tracking server.

The runs are written out as the file the MLflow UI exports (`mlflow-runs`: one row a run, its
metrics, params and tags) and imported through the one pipeline, so they are checked like an
uploaded export and every value traces to an import batch. A pull is a snapshot: the same runs
give the same file, which is recognised and not imported again; any change (a new run, a
metric logged since, a run deleted) imports the new snapshot and rolls back the one it
supersedes, so a run is updated, never duplicated. Runs deleted in MLflow are named in the
report and their values leave Liftoff with the old snapshot.

Each metric a run logged at more than one step also comes with its history (`mlflow-history`:
one row a step), imported as a second batch of the same pull and superseded with it. Histories
are read again only for runs that are new, changed or still running; the others keep the steps
of the last pull.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from urllib.parse import urlsplit

from sqlalchemy import Engine, select

from liftoff import ingest
from liftoff.access.auth import Actor, require
from liftoff.config import Settings
from liftoff.db.models import ImportBatch
from liftoff.errors import LiftoffError
from liftoff.evidence import reads as evidence_reads

# Bounds on what one pull reads: an experiment of more runs is pulled with --since.
MAX_RUNS = 5_000
MAX_HISTORY_STEPS = 500_000
_PAGE = 1_000
HISTORY_HEADER = ["run_id", "key", "value", "step", "timestamp", "tags.mlflow.runName"]


class PullError(LiftoffError):
    """The pull could not be done (no client, bad address, unreachable server, no such
    experiment); the message says what to do. Nothing was written."""

    def __init__(self, message: str, unreachable: bool = False):
        super().__init__(message)
        self.unreachable = unreachable


@dataclass
class PullReport:
    """What a pull found and did."""

    runs: int = 0
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    batch_id: int | None = None
    history_batch_id: int | None = None
    history_steps: int = 0
    superseded: list[int] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def message(self) -> str:
        if self.batch_id is None and not self.superseded:
            head = (
                "Nothing changed in MLflow since the last pull "
                f"({self.runs} run{'s' if self.runs != 1 else ''})."
            )
        elif self.batch_id is None:
            head = "No live runs are left in MLflow."
        else:
            steps = (
                f" and {self.history_steps:,} metric step"
                f"{'s' if self.history_steps != 1 else ''} as batch #{self.history_batch_id}"
                if self.history_batch_id is not None
                else ""
            )
            head = (
                f"Pulled {self.runs} run{'s' if self.runs != 1 else ''} as batch "
                f"#{self.batch_id}{steps}: {len(self.added)} new, "
                f"{len(self.updated)} updated, {len(self.unchanged)} unchanged."
            )
        if self.deleted:
            head += f" Deleted in MLflow, so removed here: {', '.join(self.deleted)}."
        return head

    def as_dict(self) -> dict:
        return {
            "runs": self.runs,
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "deleted": self.deleted,
            "batch_id": self.batch_id,
            "history_batch_id": self.history_batch_id,
            "history_steps": self.history_steps,
            "superseded": self.superseded,
            "warnings": self.warnings,
            "message": self.message,
        }


def source_name(tracking_uri: str, experiment: str, since: date | None = None) -> str:
    """The file name a pull's batches carry: how the next pull finds the snapshot it replaces
    (a pull of the runs since a date replaces only a pull since the same date)."""
    name = f"MLflow {experiment} at {tracking_uri.rstrip('/')}"
    if since is not None:
        name += f" since {since.isoformat()}"
    return name[:500]


def history_source(source: str) -> str:
    """The file name of the metric histories a pull of `source` imports beside its runs."""
    return f"{source[:475]} (metric histories)"


def check_uri(tracking_uri: str, allowed: tuple[str, ...] | None = None) -> str:
    """An http(s) address of a tracking server (file stores and databases are not read: the
    address may come from a web form or an API client), one of LIFTOFF_MLFLOW_URIS when set."""
    uri = (tracking_uri or "").strip()
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise PullError(
            f"{uri[:200]!r} is not the address of an MLflow tracking server: give its http(s) "
            "URL, for example http://127.0.0.1:5000."
        )
    allowed = Settings.from_env().mlflow_uris if allowed is None else allowed
    if allowed and uri.rstrip("/") not in allowed:
        raise PullError(
            f"Liftoff may pull only from {', '.join(allowed)} (LIFTOFF_MLFLOW_URIS), not "
            f"{uri[:200]}. Ask whoever runs Liftoff to add the server."
        )
    return uri


def _client(tracking_uri: str):
    try:
        from mlflow.tracking import MlflowClient
    except ImportError:
        raise PullError(
            "Pulling from MLflow needs its client: pip install 'liftoff[mlflow]'."
        ) from None
    # The client retries for minutes by default; a person or a pipeline is waiting.
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "1")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "30")
    return MlflowClient(tracking_uri=tracking_uri)


def _unreachable(uri: str, exc: Exception) -> PullError:
    text = str(exc)
    if "NewConnectionError" in text or "Connection refused" in text or "Max retries" in text:
        reason = "no server answered there"
    elif "timed out" in text.lower():
        reason = "the server did not answer in time"
    else:
        reason = text.splitlines()[0][:200] if text else type(exc).__name__
    return PullError(
        f"Could not read the MLflow server at {uri}: {reason}. Check the address and that "
        "the server is running.",
        unreachable=True,
    )


def _millis(value: int | None) -> str:
    if value is None:
        return ""
    return datetime.fromtimestamp(value / 1000, UTC).isoformat(sep=" ", timespec="milliseconds")


def fetch_runs(tracking_uri: str, experiment: str, since: date | None = None):
    """(live runs, deleted runs) of the experiment, oldest first."""
    uri = check_uri(tracking_uri)  # again: fetch_runs is public
    client = _client(uri)
    try:
        from mlflow.entities import ViewType

        exp = client.get_experiment_by_name(experiment)
        if exp is None:
            names = sorted(e.name for e in client.search_experiments(max_results=50))
            raise PullError(
                f"The MLflow server at {uri} has no experiment named {experiment!r} "
                f"(experiments: {', '.join(names) or 'none'})."
            )
        query = ""
        if since is not None:
            start = int(datetime.combine(since, datetime.min.time(), UTC).timestamp() * 1000)
            query = f"attributes.start_time >= {start}"
        runs, token = [], None
        while True:
            page = client.search_runs(
                [exp.experiment_id],
                filter_string=query,
                run_view_type=ViewType.ALL,
                max_results=_PAGE,
                order_by=["attributes.start_time ASC"],
                page_token=token,
            )
            runs.extend(page)
            token = page.token
            if len(runs) > MAX_RUNS:
                raise PullError(
                    f"The experiment {experiment!r} has more than {MAX_RUNS:,} runs; pull "
                    "them in parts with --since DATE."
                )
            if not token:
                break
    except PullError:
        raise
    except Exception as exc:  # the client raises requests', urllib3's and its own errors
        raise _unreachable(uri, exc) from None
    live = [r for r in runs if r.info.lifecycle_stage == "active"]
    deleted = [r for r in runs if r.info.lifecycle_stage != "active"]
    return live, deleted


def _history_rows(data: bytes | None) -> dict[str, list[list[str]]]:
    """run id → its rows (as written) of a metric-history snapshot file."""
    out: dict[str, list[list[str]]] = {}
    if not data:
        return out
    reader = csv.reader(io.StringIO(data.decode("utf-8")))
    next(reader, None)
    for row in reader:
        out.setdefault(row[0], []).append(row)
    return out


def history_file(
    tracking_uri: str,
    runs,
    iteration_tag: str,
    kept: dict[str, list[list[str]]] | None = None,
    fresh: set[str] | None = None,
) -> bytes | None:
    """Every metric that a run logged at more than one step, step by step, as one file (None
    when no run has one). A run outside `fresh` whose steps are in `kept` (the last pull's file)
    keeps them instead of being read again."""
    kept = kept or {}
    client = _client(check_uri(tracking_uri))
    rows: list[list[str]] = []
    try:
        for r in sorted(runs, key=lambda r: r.info.run_id):
            run_id = r.info.run_id
            if run_id in kept and (fresh is None or run_id not in fresh):
                rows.extend(kept[run_id])
                continue
            name = r.data.tags.get("mlflow.runName", r.info.run_name or "")
            iteration = r.data.tags.get(iteration_tag, "")
            for key in sorted(r.data.metrics):
                steps = client.get_metric_history(run_id, key)
                if len(steps) < 2:
                    continue  # one value: the run's own metric says it all
                steps = sorted(steps, key=lambda m: (m.step, m.timestamp))
                rows.extend(
                    [run_id, key, repr(m.value), str(m.step), str(m.timestamp), name, iteration]
                    for m in steps
                )
            if len(rows) > MAX_HISTORY_STEPS:
                raise PullError(
                    f"The runs' metric histories hold more than {MAX_HISTORY_STEPS:,} steps; "
                    "pull them in parts with --since DATE."
                )
    except PullError:
        raise
    except Exception as exc:  # the client raises requests', urllib3's and its own errors
        raise _unreachable(tracking_uri, exc) from None
    if not rows:
        return None
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*HISTORY_HEADER, f"tags.{iteration_tag}"])
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def runs_file(runs, iteration_tag: str) -> bytes:
    """The runs as the MLflow UI's CSV export, sorted and spelled the same every time, so that
    the same runs always give the same bytes."""
    metrics = sorted({k for r in runs for k in r.data.metrics})
    params = sorted({k for r in runs for k in r.data.params})
    header = [
        "run_id",
        "status",
        "start_time",
        "end_time",
        "tags.mlflow.runName",
        f"tags.{iteration_tag}",
        *[f"metrics.{k}" for k in metrics],
        *[f"params.{k}" for k in params],
    ]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for r in sorted(runs, key=lambda r: r.info.run_id):
        tags = r.data.tags
        writer.writerow(
            [
                r.info.run_id,
                r.info.status,
                _millis(r.info.start_time),
                _millis(r.info.end_time),
                tags.get("mlflow.runName", r.info.run_name or ""),
                tags.get(iteration_tag, ""),
                *[repr(r.data.metrics[k]) if k in r.data.metrics else "" for k in metrics],
                *[r.data.params.get(k, "") for k in params],
            ]
        )
    return out.getvalue().encode("utf-8")


def _rows_by_run(data: bytes | None) -> dict[str, tuple[str, tuple]]:
    """run id → (name, the row as compared) of a snapshot file."""
    if not data:
        return {}
    reader = csv.DictReader(io.StringIO(data.decode("utf-8")))
    out = {}
    for row in reader:
        name = row.get("tags.mlflow.runName") or row["run_id"]
        out[row["run_id"]] = (name, tuple(sorted(row.items())))
    return out


def _snapshots(engine: Engine, source: str, initiative: str, kind: str) -> list[int]:
    """The committed batches of earlier pulls of this source into this initiative, oldest first."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(ImportBatch.id, ImportBatch.options)
            .where(
                ImportBatch.file_name == source,
                ImportBatch.kind == kind,
                ImportBatch.status == "committed",
            )
            .order_by(ImportBatch.id)
        ).all()
    return [r.id for r in rows if json.loads(r.options or "{}").get("initiative") == initiative]


def pull_mlflow(
    engine: Engine,
    actor: Actor,
    tracking_uri: str,
    experiment: str,
    initiative: str,
    iteration_tag: str = "iteration",
    since: date | None = None,
    create: bool = False,
    only_initiative: str | None = None,
) -> PullReport:
    """Pull the experiment's runs into `initiative`: each run a candidate of the iteration its
    `iteration_tag` tag names, with its metrics. Raises PullError, or ImportRejected when the
    runs do not pass the importer's checks (nothing written)."""
    require(actor, "upload")
    evidence_reads.initiative_by_name(engine, initiative)  # NotFound names the ones that exist
    uri = check_uri(tracking_uri)
    live, deleted = fetch_runs(uri, experiment, since)
    source = source_name(uri, experiment, since)
    report = PullReport(runs=len(live))
    earlier = _snapshots(engine, source, initiative, "mlflow-runs")
    earlier_steps = _snapshots(engine, history_source(source), initiative, "mlflow-history")
    previous = _rows_by_run(evidence_reads.original_file(engine, earlier[-1]) if earlier else None)
    previous_steps_file = (
        evidence_reads.original_file(engine, earlier_steps[-1]) if earlier_steps else None
    )
    previous_steps = _history_rows(previous_steps_file)
    data = runs_file(live, iteration_tag)
    current = _rows_by_run(data)
    fresh = {
        r.info.run_id
        for r in live
        if r.info.run_id not in previous
        or previous[r.info.run_id][1] != current[r.info.run_id][1]
        or r.info.status not in ("FINISHED", "FAILED", "KILLED")
    }
    steps_data = history_file(uri, live, iteration_tag, previous_steps, fresh)
    current_steps = _history_rows(steps_data)
    for run_id, (name, row) in current.items():
        if run_id not in previous:
            report.added.append(name)
        elif previous[run_id][1] != row or previous_steps.get(run_id) != current_steps.get(run_id):
            report.updated.append(name)
        else:
            report.unchanged.append(name)
    gone = {r.info.run_id for r in deleted}
    report.deleted = sorted(
        name for run_id, (name, _) in previous.items() if run_id not in current or run_id in gone
    )
    if earlier and not report.added and not report.updated and not report.deleted:
        return report
    if not live:
        if not earlier:
            raise PullError(
                f"The experiment {experiment!r} has no runs"
                + (f" started since {since:%d %b %Y}" if since else "")
                + "; log runs first, or pick another experiment."
            )
    else:
        options = ingest.Options(
            kind="mlflow-runs",
            initiative=initiative,
            iteration_tag=f"tags.{iteration_tag}",
            create=create,
            # A changed snapshot may repeat an older one byte for byte (a run deleted, then
            # restored): the runs are what MLflow says now, so import it all the same.
            force=True,
            only_initiative=only_initiative,
        )
        steps_options = dataclasses.replace(options, kind="mlflow-history")
        if steps_data is not None:
            # Checked before anything is written, so that a pull stores both files or neither.
            ingest.import_file(
                engine, actor, steps_data, history_source(source), steps_options, dry_run=True
            )
        prepared, report.batch_id = ingest.import_file(engine, actor, data, source, options)
        report.warnings = list(prepared.warnings)
        if steps_data is not None:
            try:
                steps, report.history_batch_id = ingest.import_file(
                    engine, actor, steps_data, history_source(source), steps_options
                )
            except Exception:
                ingest.rollback(engine, actor, report.batch_id, force=True)
                raise
            report.history_steps = steps.rows_accepted
    # The new snapshot is in; the ones it replaces go (all of them, should an earlier pull have
    # stopped between the two steps).
    for batch_id in sorted(earlier + earlier_steps):
        ingest.rollback(engine, actor, batch_id, force=True)
        report.superseded.append(batch_id)
    return report
