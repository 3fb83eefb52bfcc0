"""What the initiative and data screens show, as small tables and sentences."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import PurePath

import pandas as pd

from liftoff.evidence import rules as evidence_rules
from liftoff.evidence.initiative import InitiativeEvidence, IterationEvidence, compare_model_and_kpi
from liftoff.evidence.portfolio import candidate_line, runway_sentence
from liftoff.formatting import (
    CATEGORY_LABELS,
    DECISION_LABELS,
    IMPORT_KIND_LABELS,
    KIND_LABELS,
    NO_CHANGE,
    STAGE_WORDS,
    STATUS_LABELS,
    capitalised,
    comparator_words,
    count,
    format_date,
    format_delta,
    format_moment,
    format_percent,
    format_value,
    judged_delta,
    listed,
    shared_digits,
    shown_unit,
    stored_words,
    time_left,
)
from liftoff.tables import Table


@dataclass(frozen=True)
class IterationView:
    headline: str
    decision: str
    decision_detail: str
    rationale: str | None
    hypothesis: str | None
    candidate: str | None
    criteria: Table
    metrics: Table  # best values marked, for display
    metrics_raw: pd.DataFrame  # the same figures unformatted, for the CSV download
    criteria_raw: pd.DataFrame  # the criteria with numbers as numbers, for CSV exports


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
        unit = shown_unit(meta)
        previous = prev.metrics.get(c["metric"]) if prev and c["metric"] else None
        rows.append(
            {
                "Kind": KIND_LABELS.get(c["kind"], c["kind"])
                + (" · carried over" if c.get("carried_over") else ""),
                "Criterion": c["description"],
                "Target": _target_text(c, unit),
                "Value": format_value(c["value"], unit) if c["metric"] else "—",
                "Status": STATUS_LABELS[c["status"]],
                "Change from previous iteration": judged_delta(
                    evidence_rules.delta(c["value"], previous), unit, meta.get("direction")
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


def _criteria_numbers(
    ev: InitiativeEvidence, it: IterationEvidence, prev: IterationEvidence | None
) -> pd.DataFrame:
    """The criteria for a CSV: numbers as numbers in stored units (fractions for ratios), words
    as words (a spreadsheet reads "+1.3 pts" as text at best, as a formula at worst)."""
    rows = []
    for c in it.criteria:
        meta = ev.catalog.get(c["metric"] or "", {})
        previous = prev.metrics.get(c["metric"]) if prev and c["metric"] else None
        rows.append(
            {
                "Kind": KIND_LABELS.get(c["kind"], c["kind"]),
                "Criterion": c["description"],
                "Metric": c["metric"] or "",
                "Unit": meta.get("unit") or "",
                "Comparator": c["comparator"] if c["metric"] else "",
                "Target": c["target"] if c["metric"] else None,
                "Value": c["value"],
                "Status": STATUS_LABELS[c["status"]],
                "Change from previous iteration": evidence_rules.delta(c["value"], previous),
                "Carried over": "yes" if c.get("carried_over") else "no",
                "Evidence note": c["evidence_note"] or "",
                "Import batch": c["batch_id"],
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "Kind",
            "Criterion",
            "Metric",
            "Unit",
            "Comparator",
            "Target",
            "Value",
            "Status",
            "Change from previous iteration",
            "Carried over",
            "Evidence note",
            "Import batch",
        ],
        dtype=object,  # whole numbers stay whole: batch 2, not 2.0
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
        # The change into the newest iteration: none when the newest has no value (it showed
        # an older change beside the newest iteration's "—").
        newest = values[ev.iterations[-1].number] if ev.iterations else None
        category = meta["category"] or ""
        row = {
            "Metric": meta["display_name"],
            "Category": CATEGORY_LABELS.get(category, category.replace("_", " ")),
        }
        raw_row = {"metric": key, "unit": meta["unit"] or ""}
        # Every value that reads as the best gets the star (two "0.2%" and a star on one, before).
        # One count of decimals across the row ("7.5 h" beside "11.5 h", not "7.50 h").
        digits = shared_digits(present, shown_unit(meta))
        best_text = format_value(best, shown_unit(meta), digits) if best is not None else None
        for n, v in values.items():
            text = format_value(v, shown_unit(meta), digits)
            row[f"Iteration {n}"] = (
                f"★ {text}" if v is not None and text == best_text and len(present) > 1 else text
            )
            raw_row[f"iteration_{n}"] = v
        row["Latest change"] = (
            judged_delta(last[1] - last[0], shown_unit(meta), meta.get("direction"))
            if len(last) == 2 and newest is not None
            else "—"
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
    missing = sum(1 for c in it.criteria if c["status"] == evidence_rules.NO_EVIDENCE)
    decision = DECISION_LABELS.get(it.decision, it.decision)
    if total:
        sentence = f"{it.title}: {met} of {total} criteria met"
        if missing:
            sentence += f", {missing} without evidence yet"
        sentence += "."
    else:
        sentence = f"{it.title}: no criteria set yet."
    carried = sum(1 for c in it.criteria if c.get("carried_over"))
    if carried and prev is not None:
        sentence += (
            f" {'All' if carried == total else carried} carried over from iteration "
            f"{prev.number} until an editor changes them."
        )
    if prev is not None and prev.criteria:
        sentence += f" The previous iteration met {prev.criteria_met} of {len(prev.criteria)}."
    sentence += (
        " Decision pending." if it.decision == "pending" else f" Decision: {decision.lower()}."
    )
    detail = "Not decided yet"
    if it.decision != "pending":
        who = it.decided_by or "unknown"
        detail = f"Decided by {who} on {format_date(it.decided_at)}"
    # The metrics across iterations end at the chosen one (evidence as of it).
    shown, raw = metrics_across_iterations(ev.as_of(number))
    return IterationView(
        headline=sentence,
        decision=decision,
        decision_detail=detail,
        rationale=it.rationale,
        hypothesis=it.hypothesis,
        candidate=it.candidate,
        criteria=Table.of(_criteria_table(ev, it, prev)),
        metrics=Table.of(shown),
        metrics_raw=raw,
        criteria_raw=_criteria_numbers(ev, it, prev),
    )


def later_note(ev: InitiativeEvidence) -> str | None:
    """What evidence as of an earlier iteration leaves out, in words (None when nothing)."""
    if not ev.later:
        return None
    if len(ev.later) == 1:
        which = f"Iteration {ev.later[0]} comes later and is left out: choose it"
    else:
        # "7 and 8", "7 to 9"; and "choose one", not "choose it" of several.
        joined = " and " if len(ev.later) == 2 else " to "
        which = (
            f"Iterations {ev.later[0]}{joined}{ev.later[-1]} come later and are left out: "
            "choose one"
        )
    return f"Figures as of iteration {ev.through}. {which} under Iteration to see it."


def undated_iterations(ev) -> str | None:
    """What the timeline leaves out: "Iterations 7 to 30 have no dates yet …", or None."""
    dated = {it.number for it in ev.dated}
    undated = [it.number for it in ev.iterations if it.number not in dated]
    if not undated:
        return None
    if len(undated) == 1:
        which = f"Iteration {undated[0]} has"
    elif undated == list(range(undated[0], undated[-1] + 1)):
        which = f"Iterations {undated[0]} to {undated[-1]} have"
    else:
        which = f"Iterations {', '.join(map(str, undated[:-1]))} and {undated[-1]} have"
    return (
        f"{which} no dates yet, so the timeline leaves {'it' if len(undated) == 1 else 'them'} "
        "out. "
        "Editors give an iteration its dates under “Describe this iteration” below."
    )


def _stored_now(batch: dict, replaced: dict[int, list[tuple[int, int]]]) -> str:
    """What a batch stored, and how much of it later load tests replaced (its status still
    reads "Imported": the rest counts, and rolling those back makes all of it count again)."""
    stored = stored_words(batch["kind"], batch["rows_accepted"], batch["rows_read"])
    if batch["status"] == "rolled_back":
        # Not "7 values" beside "Rolled back": it holds none now (helper-27).
        return f"Nothing now ({stored} removed)"
    later = replaced.get(batch["id"]) if batch["status"] == "committed" else None
    if not later:
        return stored
    by = ", ".join(f"{n:,} replaced by #{b}" for b, n in later)
    return f"{stored} ({by})"


def batch_initiatives(names: list[str]) -> str:
    """The initiatives of a batch in a table cell: one or two by name, more as a count (the
    batch's own page lists them all); "—" for a batch that names none (rolled back before
    Liftoff recorded them)."""
    if not names:
        return "—"
    return listed(names) if len(names) <= 2 else f"{len(names)} initiatives"


def batch_for_line(names: list[str]) -> str:
    """Every initiative of one batch, in a sentence: "Data for Claims triage assistant and
    Churn early-warning."."""
    return f"Data for {listed(names)}."


def import_history(
    batches: list[dict], replaced: dict[int, list[tuple[int, int]]] | None = None
) -> pd.DataFrame:
    """The import history as a table for the screen; `replaced` is
    reads.replaced_load_steps."""
    return pd.DataFrame(
        [
            {
                "Batch": f"#{b['id']}",
                # Without the upload page's hint of which export it is ("Locust results", not
                # "Locust results (_stats.csv or _stats_history.csv)"): the file is named beside.
                "Kind": IMPORT_KIND_LABELS.get(b["kind"], b["kind"]).split(" (")[0],
                "Initiative": batch_initiatives(b.get("initiatives") or []),
                # The name without its folder ("metrics.csv", not "data/demo/metrics.csv"):
                # the batch picker names it whole.
                "File": PurePath(b["file_name"]).name or b["file_name"],
                "Stored": _stored_now(b, replaced or {}),
                "Uploaded by": b["uploaded_by"] or "—",
                "Uploaded at": b["uploaded_at"],
                "Status": {"committed": "Imported", "rolled_back": "Rolled back"}.get(
                    b["status"], capitalised(b["status"].replace("_", " "))
                ),
            }
            for b in batches
        ],
        columns=[
            "Batch",
            "Kind",
            "Initiative",
            "File",
            "Stored",
            "Uploaded by",
            "Uploaded at",
            "Status",
        ],
    )


def iteration_hint(name: str | None, numbers: list[int]) -> str:
    """The Upload page's help for "Iteration (if the file has none)": which iterations the
    chosen initiative has, so a PM need not look them up on another screen."""
    if name is None:
        return "The iteration every row of the file belongs to (choose the initiative to see which it has)."
    if not numbers:
        return f"{name} has no iterations yet: 1 creates its first."
    which = (
        f"{numbers[0]} to {numbers[-1]}"
        if numbers == list(range(numbers[0], numbers[-1] + 1)) and len(numbers) > 2
        else listed(numbers)
    )
    noun = "iteration" if len(numbers) == 1 else "iterations"
    return f"{name} has {noun} {which}; {numbers[-1] + 1} creates the next one."


def batch_label(batch: dict) -> str:
    """`#12 · metrics.csv · 25 Nov 2026, 14:03` (its status is shown beside it: a label that
    changes on rollback made the picker stale or jump)."""
    return f"#{batch['id']} · {batch['file_name']} · {format_moment(batch['uploaded_at'])}"


def rollback_note(batch: dict) -> str:
    if batch["status"] == "rolled_back":
        who = batch.get("rolled_back_by_name") or batch["rolled_back_by"] or "someone"
        return f"Rolled back by {who} on {format_moment(batch['rolled_back_at'])}."
    return f"This batch is {batch['status'].replace('_', ' ')}."


# ----------------------------------------------------------------------------- model versus business


def metric_choices(ev: InitiativeEvidence, category: str) -> list[str]:
    """Metric keys of a category the initiative reports, in definition order."""
    keys = {k for it in ev.iterations for k in it.metrics}
    return sorted(
        (k for k in keys if ev.catalog.get(k, {}).get("category") == category),
        key=lambda k: ev.catalog[k]["id"],
    )


def label(ev: InitiativeEvidence, key: str) -> str:
    return ev.catalog.get(key, {}).get("display_name", key)


def metrics_column_order(frame: pd.DataFrame) -> list[str]:
    """The headline metrics table's columns as the screen shows them: the metric and its
    category, its latest change, then the iterations newest first (the category came last and
    was cut to "Ca" at eight iterations; the oldest iterations are the ones to scroll to)."""
    iterations = [c for c in frame.columns if c.startswith("Iteration ")]
    lead = ["Metric", "Category", "Latest change"]
    rest = [c for c in frame.columns if c not in iterations and c not in lead]
    return [c for c in lead if c in frame.columns] + [*reversed(iterations), *rest]


def candidate_note(ev: InitiativeEvidence, candidate: str) -> str:
    """The iterations screen's line on whose figures the headline metrics are."""
    return candidate_line(candidate, label(ev, ev.initiative["primary_metric"]))


def model_business_sentence(ev: InitiativeEvidence, model: str, kpi: str) -> tuple[str, str | None]:
    """The headline sentence, and a warning when there are too few iterations to judge."""

    cmp = compare_model_and_kpi(ev, model, kpi)
    if cmp is None or cmp.n < 2:
        return (
            f"Not enough iterations report both {label(ev, model)} and {label(ev, kpi)} yet.",
            "Upload metrics with both values for at least two iterations.",
        )
    mu, ku = shown_unit(ev.catalog.get(model)), shown_unit(ev.catalog.get(kpi))
    move_m = format_delta(cmp.model_change, mu)
    move_k = format_delta(cmp.kpi_change, ku)
    span = f"over {count(cmp.n, 'iteration')}"
    verdicts = {
        "showing": "model gains are showing up in the KPI.",
        "not_showing": "model gains are not showing up in the KPI yet.",
        "model_flat": "the model has not improved, so there is no gain to pass on.",
        "unknown": "too early to tell whether the model moves the KPI.",
    }
    if cmp.kpi_gain_too_small:
        # Not "not showing up" beside a correlation that says they move together: it gains,
        # by less than would count.
        enough = "1 percentage point" if ku == "ratio" else "2%"
        verdicts["not_showing"] = (
            f"the KPI moves with the model, but has gained less than the {enough} that would "
            "show the model's gains reaching the business."
        )
    few = cmp.n < evidence_rules.MIN_CORRELATION_N
    if few and cmp.verdict in ("showing", "not_showing"):
        # The warning beside it says a correlation needs more: the verdict says so too.
        verdicts[cmp.verdict] = verdicts[cmp.verdict].removesuffix(".") + (
            ", so far (too few iterations to be sure)."
        )
    model_moved = "did not move" if move_m == NO_CHANGE else f"moved {move_m}"
    kpi_moved = "did not move" if move_k == NO_CHANGE else move_k
    sentence = f"{label(ev, model)} {model_moved} and {label(ev, kpi)} {kpi_moved} {span}: {verdicts[cmp.verdict]}"
    warning = None
    if few:
        warning = (
            f"Only {count(cmp.n, 'iteration')} {'reports' if cmp.n == 1 else 'report'} both: a correlation needs at least "
            f"{evidence_rules.MIN_CORRELATION_N} to mean anything."
        )
    return sentence, warning


def correlation_text(ev: InitiativeEvidence, model: str, kpi: str) -> str:

    cmp = compare_model_and_kpi(ev, model, kpi)
    if cmp is None or cmp.pearson is None:
        return "Not enough iterations with different values to tell whether they move together."
    r = cmp.pearson
    if cmp.n < evidence_rules.MIN_CORRELATION_N:
        return (
            f"Too few iterations ({cmp.n}) to tell how closely they move together: "
            f"correlation {r:+.2f} for now."
        )
    strength = next(
        words
        for floor, words in ((0.7, "Closely"), (0.4, "Partly"), (0.2, "Loosely"), (0, "Hardly"))
        if abs(r) >= floor
    )
    direction = "they rise and fall together" if r >= 0 else "one rises as the other falls"
    meaning = ""
    sign = ""
    if strength == "Hardly":
        direction = "they hardly move together"
    else:
        # Whether moving together is good news depends on which way is better for each: a
        # falling handling time beside a rising accuracy (-0.94) is the case one wants.
        lower = [ev.catalog.get(k, {}).get("direction") == "lower" for k in (model, kpi)]
        wanted = (r >= 0) != (lower[0] != lower[1])
        meaning = {
            (True, True): " As the model gets better, so does the KPI.",
            (True, False): " As the model gets better, the KPI tends to get better too.",
            (False, True): " As the model gets better, the KPI gets worse.",
            (False, False): " As the model gets better, the KPI tends to get worse.",
        }[(wanted, strength == "Closely")]
        if wanted and r < 0:
            # A minus sign beside "gets better" made the room stop (helper-26): say why.
            which = model if lower[0] else kpi
            sign = (
                f" The figure is negative because lower is better for "
                f"{ev.catalog.get(which, {}).get('display_name') or which}."
            )
    return (
        f"{strength}: across {count(cmp.n, 'iteration')}, {direction}.{meaning} "
        f"Correlation {r:+.2f}, by rank order {cmp.spearman:+.2f} "
        f"(+1 would be in step, 0 no link, -1 opposite).{sign} This is about direction, not "
        "size: the sentence above says how far the KPI moved."
    )


# ----------------------------------------------------------------------------- scalability


def scalability_sentence(ev: InitiativeEvidence) -> str:

    if ev.capacity_rps is None:
        return "No load test has a step within the latency target and error limit yet: upload load-test results."
    # Written as format_value writes req/s (3.40, 36.5, 120): "3 vs 1 req/s: 71%" read wrong.
    capacity = format_value(ev.capacity_rps, "rps")
    head = f"Capacity is {capacity} (iteration {ev.capacity_iteration})"
    if ev.peak_rps is not None:
        peak = format_value(ev.peak_rps, "rps")
        head += f" against a latest peak of {peak}: {format_percent(ev.headroom)} headroom."
    else:
        head += "."
    return head + " " + runway_sentence(ev)


def capacity_table(ev: InitiativeEvidence) -> pd.DataFrame:
    rows = []
    for it in ev.iterations:
        cap = it.capacity
        if cap.capacity_rps is None and cap.limiting_step is None:
            continue
        lim = cap.limiting_step
        rows.append(
            {
                "Iteration": it.number,
                # As the bars and the headline write it ("50.0 req/s"; the table read "50").
                "Capacity": format_value(cap.capacity_rps, "rps")
                if cap.capacity_rps is not None
                else "—",
                "At users": cap.best_step.users if cap.best_step else None,
                "Limited by": {
                    "latency": "responses too slow (over the latency target)",
                    "errors": "too many failures (over the error limit)",
                }.get(cap.limited_by, "not reached in the test"),
                "Limiting step": (
                    f"{count(lim.users, 'user')}: {format_value(lim.throughput_rps, 'rps')}, "
                    f"p95 {lim.p95_ms:,.0f} ms, "
                    f"{lim.failure_ratio * 100:.1f}% failed"
                )
                if lim
                else "—",
            }
        )
    return pd.DataFrame(rows)


def what_if_series(ev: InitiativeEvidence, weekly_growth: float) -> tuple[tuple | None, str]:
    """The what-if projection and its sentence for a weekly growth rate (a fraction). It
    starts where the fitted trend stands on the last day with traffic and keeps the trend's
    shape, so at the fitted growth it gives the headline's runway date."""

    rw = ev.runway
    if not ev.traffic or ev.capacity_rps is None or rw.fit is None or rw.start_rps is None:
        return None, ""
    last_day, start, model = rw.last_day, rw.start_rps, rw.fit.model
    crossing, days = evidence_rules.project(model, last_day, start, weekly_growth, ev.capacity_rps)
    horizon = days if days is not None else 365
    # Said in days from the day the reader stands on, as the headline's runway is.
    shown = evidence_rules.days_until(crossing, ev.reference_day) if crossing else days
    offsets = range(0, min(horizon + 14, 730), 3)
    dates = [last_day + timedelta(days=d) for d in offsets]
    values = [evidence_rules.projected(model, start, weekly_growth, d) for d in offsets]
    if crossing is None:
        text = f"At {weekly_growth:+.1%} a week, peak traffic never reaches capacity."
    elif days == 0:
        text = "Peak traffic is already at or above capacity."
    else:
        text = (
            f"At {weekly_growth:+.1%} a week, capacity runs out around "
            f"{format_date(crossing)} ({time_left(shown)})."
        )
    return (dates, values), text


def what_if_growth(ev: InitiativeEvidence, percent: float) -> float:
    """The growth a what-if slider at `percent` stands for: the fitted growth itself while the
    slider sits at its (rounded) default, so the default shows the headline's date."""
    fitted = fitted_weekly_growth(ev)
    return fitted if percent == round(fitted * 100, 1) else percent / 100


# ----------------------------------------------------------------------------- alerts


def alerts_sentence(ev: InitiativeEvidence) -> str:
    firing = ev.firing
    if not ev.rules:
        return "No alert rules yet: add the defaults for this stage below."
    rules = "alert rule" if len(ev.alerts) == 1 else "alert rules"
    if not firing:
        if len(ev.alerts) == 1:
            return "The one alert rule is quiet against the latest evidence."
        return f"All {len(ev.alerts)} {rules} are quiet against the latest evidence."
    worst = firing[0]
    unit = shown_unit(ev.catalog.get(worst.metric))
    value = format_value(worst.value, unit)
    verb = "is" if len(firing) == 1 else "are"
    sentence = (
        f"{len(firing)} of {len(ev.alerts)} {rules} {verb} firing; the most severe: "
        f"{label(ev, worst.metric)} is {value} ({worst.severity} severity)."
    )
    # An alert set tighter than a criterion fires while the criterion is still met (p95 latency
    # 735 ms: above the 700 ms alert, within the 800 ms target); say so, or the two read as a
    # contradiction.
    met = next(
        (
            c
            for c in (ev.latest.criteria if ev.latest else [])
            if c["metric"] == worst.metric and c["status"] == evidence_rules.MET
        ),
        None,
    )
    if met is not None and met["target"] is not None:
        sentence += (
            f" An early warning: the alert fires {comparator_words(worst.comparator)} "
            f"{format_value(worst.threshold, unit)} while the criterion, "
            f"{comparator_words(met['comparator'])} {format_value(met['target'], unit)}, is "
            "still met."
        )
    return sentence


def firing_table(ev: InitiativeEvidence) -> pd.DataFrame:
    rows = []
    for a in ev.firing:
        unit = shown_unit(ev.catalog.get(a.metric))
        since = ev.iteration(a.since_iteration)
        rows.append(
            {
                "Severity": a.severity.capitalize(),
                "Metric": label(ev, a.metric),
                "Value": format_value(a.value, unit),
                "Alert when": f"{comparator_words(a.comparator)} {format_value(a.threshold, unit)}",
                "Since": f"Iteration {a.since_iteration}"
                + (f" ({format_date(since.start_date)})" if since and since.start_date else ""),
            }
        )
    return pd.DataFrame(rows, columns=["Severity", "Metric", "Value", "Alert when", "Since"])


def rules_table(ev: InitiativeEvidence) -> pd.DataFrame:
    status = {a.rule_id: a for a in ev.alerts}
    rows = []
    for r in ev.rules:
        unit = shown_unit(ev.catalog.get(r["metric"]))
        a = status.get(r["id"])
        state = (
            "off"
            if not r["enabled"]
            else (
                "firing"
                if a and a.firing
                else ("not for this stage" if a and not a.applies else "quiet")
            )
        )
        rows.append(
            {
                "Rule": f"#{r['id']}",
                "Metric": label(ev, r["metric"]),
                "Alert when": (
                    f"{comparator_words(r['comparator'])} {format_value(r['threshold'], unit)}"
                ),
                "Severity": r["severity"],
                "Stages": capitalised(
                    ", ".join(STAGE_WORDS.get(x, x) for x in r["stages"].split(","))
                ),
                "For": "every initiative" if r["initiative_id"] is None else "this initiative",
                "Now": state,
                # From an earlier iteration when the latest has no value of the metric: said,
                # or it read as the latest's beside a criterion with no evidence (helper-27).
                "Latest value": (
                    format_value(a.value, unit)
                    + (
                        f" (iteration {a.iteration})"
                        if a.iteration is not None and ev.latest and a.iteration != ev.latest.number
                        else ""
                    )
                    if a and a.value is not None
                    else "—"
                ),
            }
        )
    return pd.DataFrame(rows)


def trend_caption(ev: InitiativeEvidence, what_if_text: str) -> str:
    """The runway chart's caption: the fitted traffic trend in plain words (no R²), then the
    what-if sentence."""
    fit = ev.runway.fit
    explains = "nearly all" if fit.r_squared >= 0.995 else f"{fit.r_squared * 100:.0f}%"
    article = "an" if fit.model[0] in "aeiou" else "a"
    return (
        f"Traffic trend: about {fitted_weekly_growth(ev) * 100:+.1f}% a week, from {article} "
        f"{fit.model} fit that explains {explains} of the ups and downs. {what_if_text}"
    )


def fitted_weekly_growth(ev: InitiativeEvidence) -> float:
    """The fitted trend's growth per week as a fraction of its value on the last day (0 without
    a trend)."""
    rw = ev.runway
    if rw.fit is None or not ev.traffic:
        return 0.0
    start = rw.start_rps if rw.start_rps is not None else ev.traffic[-1][1]
    return evidence_rules.trend_growth(rw.fit, start)


def reported_metrics(ev: InitiativeEvidence) -> list[str]:
    """Keys of the metrics the initiative reports, by display name."""
    return sorted({k for it in ev.iterations for k in it.metrics}, key=lambda k: label(ev, k))


def all_metrics(ev: InitiativeEvidence) -> list[str]:
    """Keys of every metric Liftoff knows, by display name."""
    return sorted(ev.catalog, key=lambda k: ev.catalog[k]["display_name"])


# ----------------------------------------------------------------------------- admin


def users_table(users: list[dict], now: datetime | None = None) -> pd.DataFrame:
    """The Users screen's table: email, name, role, how they sign in, last sign-in, lock."""
    now = now or datetime.now()
    return pd.DataFrame(
        [
            {
                "Email": u["email"],
                "Name": u["display_name"] or "—",
                "Role": u["role"],
                "Signs in with": "password" if u["has_password"] else "single sign-on",
                "Last sign-in": u["last_sign_in_at"],
                "Locked until": u["locked_until"]
                if u["locked_until"] and u["locked_until"] > now
                else None,
                "Added": u["created_at"],
            }
            for u in users
        ],
        columns=["Email", "Name", "Role", "Signs in with", "Last sign-in", "Locked until", "Added"],
    )


def tokens_table(rows: list[dict]) -> pd.DataFrame:
    """The admin screen's table of API tokens (never the tokens themselves)."""
    states = {"active": "Active", "expired": "Expired", "revoked": "Revoked"}
    return pd.DataFrame(
        [
            {
                "Name": t["name"],
                "Role": t["role"],
                "Writes to": t["initiative"] or "any initiative",
                "State": states[t["state"]],
                "Expires": t["expires_at"],
                "Last used": t["last_used_at"],
                "Created by": t["created_by"] or "—",
                "Created": t["created_at"],
            }
            for t in rows
        ],
        columns=[
            "Name",
            "Role",
            "Writes to",
            "State",
            "Expires",
            "Last used",
            "Created by",
            "Created",
        ],
    )


def audit_table(entries: list[dict]) -> pd.DataFrame:
    """The audit screen's table (and its CSV export): one row per event."""
    return pd.DataFrame(
        [
            {
                "When": e["at"],
                "Who": e["actor"],
                "Role": e["role"] or "—",
                "Via": e["via"] or "—",
                "What": e["summary"],
                "Action": e["action"],
                "Target": f"{e['target']} {e['target_id']}".strip()
                if e["target"] or e["target_id"]
                else "—",
                "Before": e["before"] or "",
                "After": e["after"] or "",
            }
            for e in entries
        ],
        columns=["When", "Who", "Role", "Via", "What", "Action", "Target", "Before", "After"],
    )


def settings_table(settings, single_sign_on: bool, described: dict) -> pd.DataFrame:
    """The settings in force (never secrets: the database URL without its password)."""
    from sqlalchemy.engine import make_url

    try:
        url = make_url(settings.database_url).render_as_string(hide_password=True)
    except Exception:
        url = "(unreadable)"
    values = {
        "LIFTOFF_DATABASE_URL": url,
        "LIFTOFF_ANONYMOUS_ROLE": settings.anonymous_role,
        "LIFTOFF_OIDC_DEFAULT_ROLE": settings.oidc_default_role,
        "LIFTOFF_SESSION_HOURS": f"{settings.session_hours:g} h",
        "LIFTOFF_MAX_SIGN_IN_FAILURES": f"{settings.max_sign_in_failures}",
        "LIFTOFF_LOCKOUT_MINUTES": f"{settings.lockout_minutes:g} min",
    }
    rows = [
        {"Setting": k, "Value": values.get(k, "—"), "What it does": described[k][1]}
        for k in described
    ]
    rows.append(
        {
            "Setting": "[auth] in secrets.toml",
            "Value": "configured" if single_sign_on else "not configured",
            "What it does": "Single sign-on through OpenID Connect; without it, Liftoff's own "
            "email-and-password accounts.",
        }
    )
    return pd.DataFrame(rows)
