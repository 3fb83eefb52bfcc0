"""The kinds of file Liftoff imports: telling them apart by their columns, and each kind's
validator, which turns a chunk of rows into the rows to store."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from liftoff.ingest import columns as cols
from liftoff.ingest.columns import Field, Header
from liftoff.ingest.validation import (
    Context,
    check_metric_values,
    is_empty,
    metric_definition,
)
from liftoff.ingest.values import (
    parse_numbers,
)

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


def map_columns(ctx: Context, kind: str) -> dict[str, str | None]:
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


def _kind_metrics(ctx: Context, frame: pd.DataFrame, names, unmatched) -> pd.DataFrame | None:
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
        direction = ctx.choice(
            frame,
            names["direction"],
            next(f for f in cols.KINDS["metrics"] if f.name == "direction"),
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
            is_empty(frame[names["value"]]),
            frame,
            names["value"],
            "The value is empty.",
            "Fill in a value in every row.",
        )
        keys = ctx.metric_keys(metric_names)
        units: dict[str, str | None] = {}
        combos = (
            pd.DataFrame(
                {"k": keys, "n": metric_names, "u": unit_col, "c": category, "d": direction}
            )
            .dropna(subset=["k"])
            .drop_duplicates("k")
        )
        for k, n, u, c, d in combos.itertuples(index=False):
            u, c = (u if isinstance(u, str) else None), (c if isinstance(c, str) else None)
            hint = u or cols.normalize(n).unit
            units[k], _ = metric_definition(
                ctx, k, str(n), hint, c, d if isinstance(d, str) else None
            )
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
        check_metric_values(
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
        unit, _ = metric_definition(ctx, h.key, col.strip(), h.unit, None)
        if unit == "ratio":
            in_unit = ", a share" + (" written in %" if h.unit in ("%", "percent", "pct") else "")
        else:
            in_unit = f", in {unit}" if unit else ""
        # By the metric's name, as the warnings and the preview write it (not its key).
        shown = ctx.p.metric_meta.get(h.key, {}).get("display_name") or h.key
        read_as = f"the metric {shown}{in_unit}, one value per row"
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
        check_metric_values(ctx, frame, col, keys, values, percent, {h.key: unit})
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


def _concern_categories(ctx: Context, frame: pd.DataFrame, col: str | None) -> pd.Series:
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
            metric_definition(ctx, key, key, None, None)
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
            "updated_at": ctx.date(frame, names["updated_at"], "date updated"),
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


VALIDATORS = {
    "metrics": ("observations", _kind_metrics),
    "loadtest": ("load_test_steps", _kind_loadtest),
    "traffic": ("traffic", _kind_traffic),
    "feedback": ("feedback", _kind_feedback),
    "concerns": ("concerns", _kind_concerns),
    "criteria": ("criteria", _kind_criteria),
    "governance": ("governance_items", _kind_governance),
    "stakeholders": ("stakeholder_stances", _kind_stakeholders),
}
