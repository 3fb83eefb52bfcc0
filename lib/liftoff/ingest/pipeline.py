"""One ingestion pipeline for the Upload page and `liftoff import`:

read bytes → detect kind → map columns → validate (collect every error) → preview →
load in one transaction with an import-batch record → bump the data version.

This module runs the steps; `reader` reads the bytes, `kinds` tells the kinds apart and holds
each kind's validator, `tools` reads MLflow's and Locust's exports, `validation` checks the
cells, and `load` writes what `prepare` returns.
"""

from __future__ import annotations

import hashlib
import json

import pandas as pd
from sqlalchemy import func, select

from liftoff.db.models import Concern, ImportBatch, Initiative
from liftoff.formatting import CATEGORY_LABELS, capitalised, count, format_value, listed
from liftoff.ingest import columns as cols
from liftoff.ingest.kinds import KINDS, VALIDATORS, detect_kind, map_columns
from liftoff.ingest.prepared import Options, Prepared
from liftoff.ingest.problems import ImportRejected, reject
from liftoff.ingest.reader import Table, inspect_workbook, is_xlsx, read_table
from liftoff.ingest.tools import locust_stats, mlflow_history, mlflow_runs
from liftoff.ingest.validation import Context, connection


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


def duplicate_batch(source, sha: str, exclude: int | None = None) -> int | None:
    """The newest committed batch of the same file (`exclude`: the batch being written)."""
    with connection(source) as conn:
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
    duplicate = duplicate_batch(engine, sha, exclude_batch)
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
    ctx = Context(engine, p, table)
    target = {
        "mlflow-runs": "observations",
        "mlflow-history": "observations",
        "locust": "load_test_steps",
    }.get(kind)
    names = unmatched = None
    if kind in VALIDATORS:
        target, fn = VALIDATORS[kind]
        names, unmatched = map_columns(ctx, kind)
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
            out = mlflow_runs(ctx, chunk)
        elif kind == "mlflow-history":
            out = mlflow_history(ctx, chunk)
        elif kind == "locust":
            out = locust_stats(ctx, chunk)
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

        def named(k: str) -> str:  # by the name the screens will show, not its key
            return p.new_metrics[k][0] or k

        metrics = ", ".join(
            f"{named(k)} ({_category_in_a_sentence(c)}, {u or 'no unit'}, {d} is better)"
            for k, (_, c, u, d) in p.new_metrics.items()
        )
        note = f"New metrics will be created: {metrics}."
        guessed = [
            f"the {listed(p.guessed_metrics[k])} of {named(k)}"
            for k in p.new_metrics
            if k in p.guessed_metrics
        ]
        if guessed:
            # Said where they can be set: no screen edits a metric's definition, and a later
            # import keeps the definition the first one made.
            note += (
                f" Guessed from the name: {'; '.join(guessed)}. To set them yourself, give the "
                "file a 'unit' column (or the unit in brackets after the name, as in 'Latency "
                "(ms)'), a 'category' column (model, business KPI, system, engagement or data "
                "quality) and a 'direction' column (higher or lower: which is better) before "
                "importing: once created, a metric keeps them."
            )
        p.warnings.append(note)
    if p.new_initiatives:
        p.warnings.append("New initiatives will be created: " + ", ".join(p.new_initiatives) + ".")
    if p.new_iterations:
        p.warnings.append(
            "New iterations will be created: "
            + ", ".join(f"{n} #{i}" for n, i in p.new_iterations)
            + "."
        )
    for name, number in p.next_iterations:
        # A few rows for the next iteration make it the one every screen shows first: said
        # before, not found afterwards on the overview and in the steering pack.
        p.warnings.append(
            f"Iteration {number} of {name} will be created: it is the next one after "
            f"iteration {number - 1}. It becomes the latest, which the overview and the "
            f"steering pack show, with iteration {number - 1}'s criteria carried over and "
            "judged on this file's values only."
            if number > 1
            else f"Iteration 1 of {name} will be created: its first iteration."
        )
    if p.ok:
        p.warnings.extend(_carried_without_evidence(engine, p))
        p.warnings.extend(_shadowed_by_candidate(engine, p))
        p.warnings.extend(_concerns_updated(engine, p))
        p.warnings.extend(_load_test_capacity(engine, p))
        # Last: the Replace box is drawn under it, which it asks to tick.
        p.warnings.extend(_load_steps_beside(engine, p))
    # Problems in the order of the file: the file's own first, then row by row.
    p.problems.items.sort(key=lambda pr: (pr.row is not None, pr.row or 0))
    if not p.ok:
        p.frames = {}
    return p


def _category_in_a_sentence(category: str) -> str:
    """A metric's category as the screens write it, inside a sentence: "business KPI"."""
    label = CATEGORY_LABELS.get(category, category.replace("_", " "))
    return label[:1].lower() + label[1:]


def _carried_without_evidence(engine, p: Prepared) -> list[str]:
    """The criteria a new iteration takes over from the one before that this file gives no
    value for: named, since they will read "No evidence" there (helper-27's weekly export had
    no error rate, and the overview fell from 5 of 6 criteria met to 4 of 6 unannounced)."""
    parts = p.frames.get("observations", [])
    nexts = [(name, number) for name, number in p.next_iterations if number > 1]
    if not parts or not nexts or not p.complete:
        return []
    from liftoff.db.models import Criterion, Iteration, Metric

    rows = pd.concat(parts)[["initiative", "iteration", "metric"]].dropna()
    out = []
    with connection(engine) as conn:
        for name, number in nexts:
            given = set(
                rows.loc[
                    (rows["initiative"] == name) & (rows["iteration"] == number), "metric"
                ].astype(str)
            )
            carried = conn.execute(
                select(Criterion.description, Metric.key)
                .join(Metric, Metric.id == Criterion.metric_id)
                .join(Iteration, Iteration.id == Criterion.iteration_id)
                .join(Initiative, Initiative.id == Iteration.initiative_id)
                .where(Initiative.name == name, Iteration.number == number - 1)
                .order_by(Criterion.id)
            ).all()
            missing = [desc or key for desc, key in carried if key not in given]
            if missing:
                one = len(missing) == 1
                out.append(
                    f"Of the criteria iteration {number} of {name} takes over from iteration "
                    f"{number - 1}, {len(missing)} {'has' if one else 'have'} no value in this "
                    f"file and will read “No evidence”: "
                    + "; ".join(missing)
                    + f". Add {'its metric' if one else 'their metrics'} to the file to judge "
                    f"{'it' if one else 'them'}."
                )
    return out


def _load_steps_beside(engine, p: Prepared) -> list[str]:
    """Load-test steps for an iteration that has some already: the person hears it before the
    import and chooses. Replaced (Options.replace_load_tests), the earlier run stays in its
    batch and comes back if this one is rolled back; kept, both runs stand in the curves as
    one line (a second 60-user step beside the first made them zig-zag)."""
    parts = p.frames.get("load_test_steps", [])
    if not parts:
        return []
    from liftoff.db.models import Iteration, LoadTestStep

    rows = pd.concat(parts)[["initiative", "iteration", "users"]].dropna()
    replace = p.options.replace_load_tests
    out = []
    with connection(engine) as conn:
        for (name, number), group in rows.groupby(["initiative", "iteration"], sort=True):
            stored = conn.execute(
                select(LoadTestStep.users, LoadTestStep.batch_id)
                .join(Iteration, Iteration.id == LoadTestStep.iteration_id)
                .join(Initiative, Initiative.id == Iteration.initiative_id)
                .where(
                    Initiative.name == name,
                    Iteration.number == int(number),
                    LoadTestStep.replaced_by.is_(None),
                )
            ).all()
            if not stored:
                continue
            p.asks_replace = True
            same = sorted({int(u) for u in group["users"]} & {u for u, _ in stored})
            batches = sorted({b for _, b in stored})
            where = ("batch " if len(batches) == 1 else "batches ") + ", ".join(
                f"#{b}" for b in batches
            )
            head = (
                f"Iteration {int(number)} of {name} already has load-test results "
                f"({count(len(stored), 'step')}, {where}). This file's "
                f"{count(len(group), 'step')} "
            )
            if replace:
                out.append(
                    head + "replace them: the earlier steps stay in their batch and count "
                    "again if this import is rolled back."
                )
                continue
            out.append(
                head
                + "will be added beside them"
                + (
                    f", and at {', '.join(f'{u:,}' for u in same)} users both runs will show, "
                    "so the curves mix them"
                    if same
                    else ""
                )
                + ". "
                + p.options.say(
                    "To replace the earlier run instead, tick 'Replace the earlier load-test "
                    "results of the iterations this file tests' below.",
                    "To replace the earlier run instead, add --replace-load-tests.",
                )
            )
    return out


def _load_test_capacity(engine, p: Prepared) -> list[str]:
    """What each tested iteration's capacity will be from this run, against its initiative's
    latency target and failure limit, said before the import: a step over them does not
    count, and a run none of whose steps stays within them gives the iteration no capacity."""
    parts = p.frames.get("load_test_steps", [])
    if not parts or not p.complete:
        return []
    from liftoff.db.models import Initiative as Ini
    from liftoff.evidence import rules as evidence_rules

    rows = pd.concat(parts).dropna(subset=["initiative", "iteration", "users"])
    limits_of = {}
    with connection(engine) as conn:
        for name, slo, errors in conn.execute(
            select(Ini.name, Ini.slo_p95_ms, Ini.max_error_rate).where(
                Ini.name.in_(sorted(rows["initiative"].unique()))
            )
        ):
            limits_of[name] = (slo, errors)
    default = (Ini.slo_p95_ms.default.arg, Ini.max_error_rate.default.arg)  # a new initiative
    out = []
    for (name, number), group in rows.groupby(["initiative", "iteration"], sort=True):
        slo, errors = limits_of.get(name, default)
        steps = [
            evidence_rules.LoadStep(
                int(r.users), float(r.throughput_rps), float(r.p95_ms), float(r.failure_ratio or 0)
            )
            for r in group.itertuples()
        ]
        cap = evidence_rules.capacity(steps, slo, errors)
        limits = (
            f"the {format_value(slo, 'ms')} latency target and the "
            f"{format_value(errors, 'ratio')} failure limit"
        )
        run = f"this run of iteration {int(number)} of {name}"
        if cap.capacity_rps is None:
            out.append(
                f"No step of {run} stays within {limits}: on its own it gives the iteration no "
                "capacity."
            )
            continue
        said = (
            f"{capitalised(run)} serves up to {format_value(cap.capacity_rps, 'rps')} "
            f"(at {count(cap.best_step.users, 'user')}) within {limits}"
        )
        if cap.limiting_step is None:
            said += "; no step went over them, so the capacity may be higher than the test reached."
        else:
            why = (
                "responses are too slow"
                if cap.limited_by == "latency"
                else "too many requests fail"
            )
            said += f"; from {count(cap.limiting_step.users, 'user')} {why}."
        out.append(said)
    return out


def _concerns_updated(engine, p: Prepared) -> list[str]:
    """Which of a register's concerns are new and which update one already in Liftoff (by its
    key, in its initiative): said before the import, since a re-import replaces their values."""
    parts = p.frames.get("concerns", [])
    if not parts:
        return []
    rows = pd.concat(parts)[["initiative", "external_key"]]
    keyed = rows.dropna()
    keys = sorted(set(keyed["external_key"]))
    found: set[tuple[str, str]] = set()
    if keys:
        with connection(engine) as conn:
            found = set(
                conn.execute(
                    select(Initiative.name, Concern.external_key)
                    .join(Initiative, Initiative.id == Concern.initiative_id)
                    .where(Concern.external_key.in_(keys))
                ).all()
            )
    matched = [k for name, k in keyed.itertuples(index=False) if (name, k) in found]
    updated = sorted(set(matched), key=str)
    new = len(rows) - len(matched)
    if not updated:
        if len(rows) == 1:
            return ["The concern in the file will be added as new."]
        return [f"All {count(len(rows), 'concern')} in the file will be added as new."]
    listed = ", ".join(updated[:10]) + (
        f" and {len(updated) - 10} more" if len(updated) > 10 else ""
    )
    one = len(updated) == 1
    return [
        f"{count(len(updated), 'concern')} of the file {'is' if one else 'are'} already in "
        f"Liftoff under {'its' if one else 'their'} key ({listed}): the file's values will "
        f"replace {'its' if one else 'theirs'}, and a rollback brings them back. "
        + (f"{count(new, 'concern')} will be added as new." if new else "None is new.")
    ]


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
