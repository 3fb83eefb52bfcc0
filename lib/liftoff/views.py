"""What the initiative and data screens show, as small tables and sentences."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from liftoff import analytics
from liftoff.evidence import InitiativeEvidence, IterationEvidence
from liftoff.formatting import (
    DECISION_LABELS,
    KIND_LABELS,
    STATUS_LABELS,
    comparator_words,
    format_date,
    format_delta,
    format_value,
)


@dataclass(frozen=True)
class IterationView:
    headline: str
    decision: str
    decision_detail: str
    rationale: str | None
    hypothesis: str | None
    candidate: str | None
    criteria: pd.DataFrame
    metrics: pd.DataFrame
    metrics_raw: pd.DataFrame


def _target_text(c: dict, unit: str | None) -> str:
    if c["metric"] is None:
        return "Judged by hand"
    return f"{comparator_words(c['comparator'])} {format_value(c['target'], unit)}"


def _criteria_table(
    ev: InitiativeEvidence, it: IterationEvidence, prev: IterationEvidence | None
) -> pd.DataFrame:
    rows = []
    for c in it.criteria:
        meta = ev.catalog.get(c["metric"] or "", {})
        unit = meta.get("unit")
        previous = prev.metrics.get(c["metric"]) if prev and c["metric"] else None
        rows.append(
            {
                "Kind": KIND_LABELS.get(c["kind"], c["kind"]),
                "Criterion": c["description"],
                "Target": _target_text(c, unit),
                "Value": format_value(c["value"], unit) if c["metric"] else "—",
                "Status": STATUS_LABELS[c["status"]],
                "Change from previous iteration": format_delta(
                    analytics.delta(c["value"], previous), unit
                )
                or "—",
                "Evidence note": c["evidence_note"] or "",
                "Import batch": f"#{c['batch_id']}" if c["batch_id"] else "—",
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "Kind",
            "Criterion",
            "Target",
            "Value",
            "Status",
            "Change from previous iteration",
            "Evidence note",
            "Import batch",
        ],
    )


def metrics_across_iterations(ev: InitiativeEvidence) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every headline metric across iterations: a display table (best marked ★) and raw values."""
    keys = sorted(
        {k for it in ev.iterations for k in it.metrics},
        key=lambda k: ev.catalog.get(k, {}).get("id", 0),
    )
    shown, raw = [], []
    for key in keys:
        meta = ev.catalog.get(
            key, {"display_name": key, "unit": None, "direction": "higher", "category": ""}
        )
        values = {it.number: it.metrics.get(key) for it in ev.iterations}
        present = [v for v in values.values() if v is not None]
        best = (min(present) if meta["direction"] == "lower" else max(present)) if present else None
        last = [v for v in values.values() if v is not None][-2:]
        row = {"Metric": meta["display_name"], "Category": meta["category"].replace("_", " ")}
        raw_row = {"metric": key, "unit": meta["unit"] or ""}
        for n, v in values.items():
            text = format_value(v, meta["unit"])
            row[f"Iteration {n}"] = (
                f"★ {text}" if v is not None and v == best and len(present) > 1 else text
            )
            raw_row[f"iteration_{n}"] = v
        row["Latest change"] = (
            format_delta(last[1] - last[0], meta["unit"]) if len(last) == 2 else "—"
        )
        shown.append(row)
        raw.append(raw_row)
    return pd.DataFrame(shown), pd.DataFrame(raw)


def iteration_view(ev: InitiativeEvidence, number: int) -> IterationView:
    """Everything the Iterations screen shows for iteration `number`."""
    it = ev.iteration(number)
    if it is None:
        raise LookupError(f"{ev.initiative['name']} has no iteration {number}.")
    idx = ev.iterations.index(it)
    prev = ev.iterations[idx - 1] if idx > 0 else None
    met = it.criteria_met
    total = len(it.criteria)
    missing = sum(1 for c in it.criteria if c["status"] == analytics.NO_EVIDENCE)
    decision = DECISION_LABELS.get(it.decision, it.decision)
    if total:
        sentence = f"{it.title}: {met} of {total} criteria met"
        if missing:
            sentence += f", {missing} without evidence yet"
        sentence += "."
    else:
        sentence = f"{it.title}: no criteria set yet."
    if prev is not None and prev.criteria:
        sentence += f" The previous iteration met {prev.criteria_met} of {len(prev.criteria)}."
    sentence += (
        " Decision pending." if it.decision == "pending" else f" Decision: {decision.lower()}."
    )
    detail = "Not decided yet"
    if it.decision != "pending":
        who = it.decided_by or "unknown"
        detail = f"Decided by {who} on {format_date(it.decided_at)}"
    shown, raw = metrics_across_iterations(ev)
    return IterationView(
        headline=sentence,
        decision=decision,
        decision_detail=detail,
        rationale=it.rationale,
        hypothesis=it.hypothesis,
        candidate=it.candidate,
        criteria=_criteria_table(ev, it, prev),
        metrics=shown,
        metrics_raw=raw,
    )


def import_history(batches: list[dict]) -> pd.DataFrame:
    """The import history as a table for the screen."""
    return pd.DataFrame(
        [
            {
                "Batch": f"#{b['id']}",
                "Kind": b["kind"],
                "File": b["file_name"],
                "Rows read": b["rows_read"],
                "Rows accepted": b["rows_accepted"],
                "Uploaded by": b["uploaded_by"] or "—",
                "Uploaded at": b["uploaded_at"],
                "Status": b["status"].replace("_", " "),
            }
            for b in batches
        ],
        columns=[
            "Batch",
            "Kind",
            "File",
            "Rows read",
            "Rows accepted",
            "Uploaded by",
            "Uploaded at",
            "Status",
        ],
    )


def batch_label(batch: dict) -> str:
    """`#12 · metrics.csv · 25 Nov 2026 14:03 · committed`."""
    return f"#{batch['id']} · {batch['file_name']} · {batch['uploaded_at']:%d %b %Y %H:%M} · {batch['status'].replace('_', ' ')}"


def rollback_note(batch: dict) -> str:
    if batch["status"] == "rolled_back":
        who = batch["rolled_back_by"] or "someone"
        return f"Rolled back by {who} on {format_date(batch['rolled_back_at'])}."
    return f"This batch is {batch['status'].replace('_', ' ')}."
