"""Exports of other tools read as they come: MLflow's runs table and metric histories, and
Locust's stats CSV."""

from __future__ import annotations

import numpy as np
import pandas as pd

from liftoff.ingest import columns as cols
from liftoff.ingest.reader import Table
from liftoff.ingest.validation import Context, check_metric_values, metric_definition
from liftoff.ingest.values import (
    parse_numbers,
)


def _header_index(table: Table) -> dict[str, str]:
    return {cols.normalize(h).key: h for h in table.header}


def mlflow_runs(ctx: Context, frame: pd.DataFrame) -> pd.DataFrame | None:
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
        unit, _ = metric_definition(ctx, key, name, None, None)
        parsed = parse_numbers(frame[original])
        ctx.report(
            parsed.bad, frame, original, "The metric value is not a number.", "Check the export."
        )
        check_metric_values(
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


def mlflow_history(ctx: Context, frame: pd.DataFrame) -> pd.DataFrame:
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
        units[k], _ = metric_definition(ctx, k, k, None, None)
    check_metric_values(ctx, frame, h["value"], keys, parsed.values, parsed.percent, units)
    millis = parse_numbers(frame[h["timestamp"]]).values
    recorded = pd.Series(pd.to_datetime(millis, unit="ms", errors="coerce"), index=frame.index)
    ctx.p.mapping = [
        ("tags.mlflow.runName / run_id" if name_col else "run_id", "candidate"),
        *([(tag_col, "iteration")] if tag_col and ctx.opt.iteration is None else []),
        ("key", "metric"),
        ("value", "value"),
        ("timestamp (milliseconds since 1970)", "recorded_at"),
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


def locust_stats(ctx: Context, frame: pd.DataFrame) -> pd.DataFrame | None:
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
