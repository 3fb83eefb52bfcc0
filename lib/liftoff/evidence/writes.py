"""Writes of the evidence: initiatives, iterations, criteria, decisions, metric definitions and
alert rules, each one transaction with its audit entry (imports and rollbacks are ingest's)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Connection, Engine, insert, select, update

from liftoff import db, names
from liftoff.access import audit
from liftoff.access.auth import Actor, require
from liftoff.db.models import (
    CATEGORIES,
    COMPARATORS,
    CRITERION_KINDS,
    DECISIONS,
    DIRECTIONS,
    SEVERITIES,
    STAGES,
    AlertRule,
    Criterion,
    Initiative,
    Iteration,
    Metric,
)
from liftoff.errors import InvalidValue
from liftoff.formatting import format_date
from liftoff.notify import outbox as notify


def set_initiative(
    engine: Engine,
    actor: Actor,
    name: str,
    *,
    create: bool = False,
    stage: str | None = None,
    slo_p95_ms: float | None = None,
    max_error_rate: float | None = None,
    primary_metric: str | None = None,
    business_goal: str | None = None,
    owner: str | None = None,
) -> str:
    """Change an initiative's settings (or create it with `create`); returns what happened."""
    require(actor, "edit")
    name = names.clean(name)
    if not name:
        raise InvalidValue("The initiative needs a name.")
    if stage is not None and stage not in STAGES:
        raise InvalidValue(f"Stage {stage!r} is not one of: {', '.join(STAGES)}.")
    if slo_p95_ms is not None and not slo_p95_ms > 0:
        raise InvalidValue(
            f"The latency SLO must be a positive number of milliseconds, not {slo_p95_ms}."
        )
    if max_error_rate is not None and not 0 <= max_error_rate <= 1:
        raise InvalidValue(
            f"The maximum error rate is a fraction between 0 and 1 (1% is 0.01), not {max_error_rate}."
        )
    values = {
        k: v
        for k, v in dict(
            stage=stage,
            slo_p95_ms=slo_p95_ms,
            max_error_rate=max_error_rate,
            primary_metric_key=primary_metric,
            business_goal=business_goal,
            owner=owner,
        ).items()
        if v is not None
    }
    with db.write(engine) as conn:
        existing = conn.execute(select(Initiative.id).where(Initiative.name == name)).scalar()
        if existing is None:
            if not create:
                raise InvalidValue(
                    f"No initiative is named {name!r}. Add --create to create it, "
                    "or see `liftoff initiative list`."
                )
            # A name that would pass for another one (a Cyrillic С, "rn" for "m") is refused:
            # two initiatives that look the same on every screen split their evidence.
            known = conn.execute(select(Initiative.name)).scalars().all()
            twin = names.confusable(name, known)
            if twin is not None:
                found = names.lookalikes(name)
                raise InvalidValue(
                    f"{name!r} looks like the existing initiative {twin!r}"
                    + (f" (it has {', '.join(found)})" if found else "")
                    + f". Use {twin!r}, or choose a name that reads differently."
                )
            audit.add(
                conn,
                actor,
                Initiative,
                dict(name=name, created_at=datetime.now(), **values),
                action="initiative.create",
                summary=f"Created initiative {name}",
                target="initiative",
            )
            return f"Created initiative {name!r}."
        if not values:
            return f"Nothing to change for {name!r}: give --stage, --slo-p95-ms, --max-error-rate or --primary-metric."
        before = audit.row(conn, Initiative, existing)
        values = {k: v for k, v in values.items() if before[k] != v}
        if not values:
            return f"Nothing changed for {name!r}: it already has these settings."
        audit.change(
            conn,
            actor,
            Initiative,
            existing,
            values,
            before=before,
            action="initiative.update",
            summary=f"Changed {name}: "
            + ", ".join(f"{k} {before[k]} → {v}" for k, v in values.items()),
            target="initiative",
        )
        if {"stage", "primary_metric_key"} & values.keys():  # what the alert rules depend on
            notify.evaluate(conn, [existing])
        return (
            f"Updated initiative {name!r}: "
            + ", ".join(f"{k}={v}" for k, v in values.items())
            + "."
        )


# ----------------------------------------------------------------------------- criteria


def iteration_id_of(conn, initiative: str, number: int) -> int:
    """The id of iteration `number` of `initiative`; InvalidValue when there is none."""

    found = conn.execute(
        select(Iteration.id)
        .join(Initiative, Initiative.id == Iteration.initiative_id)
        .where(Initiative.name == initiative, Iteration.number == number)
    ).scalar()
    if found is None:
        raise InvalidValue(f"{initiative} has no iteration {number}.")
    return found


def metric_id_of(conn, key: str | None) -> int | None:
    """The id of metric `key` (None for none); InvalidValue for an unknown key."""

    if not key:
        return None
    found = conn.execute(select(Metric.id).where(Metric.key == key)).scalar()
    if found is None:
        raise InvalidValue(
            f"There is no metric {key!r}. Import it first, or pick one from the list."
        )
    return found


def _criterion_values(
    kind, description, metric, comparator, target, manual_status, evidence_note
) -> dict:

    if kind not in CRITERION_KINDS:
        raise InvalidValue(f"Kind {kind!r} is not one of: {', '.join(CRITERION_KINDS)}.")
    if not (description or "").strip():
        raise InvalidValue("Describe the criterion in a few words.")
    if comparator not in COMPARATORS:
        raise InvalidValue(f"Comparator {comparator!r} is not one of: {', '.join(COMPARATORS)}.")
    if metric and target is None:
        raise InvalidValue("A criterion with a metric needs a target value.")
    if manual_status not in (None, "met", "not_met"):
        raise InvalidValue("A criterion judged by hand is met or not met.")
    return dict(
        kind=kind,
        description=description.strip(),
        comparator=comparator,
        target=target if metric else None,
        manual_status=None if metric else manual_status,
        evidence_note=(evidence_note or "").strip() or None,
    )


def add_criterion(
    engine: Engine,
    actor: Actor,
    initiative: str,
    number: int,
    *,
    kind: str,
    description: str,
    metric: str | None = None,
    comparator: str = ">=",
    target: float | None = None,
    manual_status: str | None = None,
    evidence_note: str | None = None,
) -> int:
    """Add a criterion to an iteration; returns its id."""
    require(actor, "edit")
    values = _criterion_values(
        kind, description, metric, comparator, target, manual_status, evidence_note
    )
    with db.write(engine) as conn:
        return audit.add(
            conn,
            actor,
            Criterion,
            dict(
                iteration_id=iteration_id_of(conn, initiative, number),
                metric_id=metric_id_of(conn, metric),
                **values,
            ),
            action="criterion.add",
            summary=f"Added a criterion to {initiative} iteration {number}: {values['description']}",
            target="criterion",
        )


def update_criterion(
    engine: Engine,
    actor: Actor,
    criterion_id: int,
    *,
    kind: str,
    description: str,
    metric: str | None = None,
    comparator: str = ">=",
    target: float | None = None,
    manual_status: str | None = None,
    evidence_note: str | None = None,
) -> None:
    """Change a criterion."""
    require(actor, "edit")
    values = _criterion_values(
        kind, description, metric, comparator, target, manual_status, evidence_note
    )
    with db.write(engine) as conn:
        before = audit.row(conn, Criterion, criterion_id)
        metric_id = metric_id_of(conn, metric)
        if before is None:
            raise InvalidValue(
                f"There is no criterion #{criterion_id}; it may have been removed meanwhile."
            )
        audit.change(
            conn,
            actor,
            Criterion,
            criterion_id,
            # An edit confirms the criterion for its iteration: no longer carried over.
            {"metric_id": metric_id, **values, "carried_over": False},
            before=before,
            action="criterion.update",
            summary=f"Changed a criterion: {values['description']}",
            target="criterion",
        )


def remove_criterion(engine: Engine, actor: Actor, criterion_id: int) -> None:
    """Remove a criterion."""
    require(actor, "edit")
    with db.write(engine) as conn:
        before = audit.row(conn, Criterion, criterion_id)
        if before is None:
            return
        audit.remove(
            conn,
            actor,
            Criterion,
            criterion_id,
            before=before,
            action="criterion.remove",
            summary=f"Removed a criterion: {before['description']}",
            target="criterion",
        )


def record_decision(
    engine: Engine,
    actor: Actor,
    initiative: str,
    number: int,
    *,
    decision: str,
    rationale: str,
    decided_by: str,
    decided_at: datetime | None = None,
) -> None:
    """Record the go / no-go decision of an iteration with its rationale, who and when
    (`decided_at`: now unless given, for a decision taken in an earlier meeting)."""
    require(actor, "edit")
    with db.write(engine) as conn:
        decide(
            conn,
            actor,
            initiative,
            number,
            decision=decision,
            rationale=rationale,
            decided_by=decided_by,
            decided_at=decided_at,
        )


def decide(
    conn,
    actor: Actor,
    initiative: str,
    number: int,
    *,
    decision: str,
    rationale: str,
    decided_by: str,
    decided_at: datetime | None = None,
) -> int:
    """The decision of record_decision, inside the caller's transaction (a meeting records it
    with its action items as one write); returns the iteration's id."""
    if decision not in DECISIONS:
        raise InvalidValue(f"Decision {decision!r} is not one of: {', '.join(DECISIONS)}.")
    if decision != "pending" and not (rationale or "").strip():
        raise InvalidValue("Give the rationale: the room will want to know why.")
    if decision != "pending" and not (decided_by or "").strip():
        raise InvalidValue("Say who decided (a person or a committee).")
    it_id = iteration_id_of(conn, initiative, number)
    before = audit.row(conn, Iteration, it_id)
    audit.change(
        conn,
        actor,
        Iteration,
        it_id,
        dict(
            decision=decision,
            rationale=(rationale or "").strip() or None,
            decided_by=((decided_by or "").strip() or None) if decision != "pending" else None,
            decided_at=(decided_at or datetime.now()) if decision != "pending" else None,
        ),
        before=before,
        action="decision",
        summary=f"{initiative} iteration {number}: {before['decision']} → {decision}",
        target="iteration",
    )
    return it_id


def describe_iteration(
    engine: Engine,
    actor: Actor,
    initiative: str,
    number: int,
    *,
    label: str | None,
    start_date: date | None,
    end_date: date | None,
    hypothesis: str | None,
) -> None:
    """Name an iteration, give its dates (they place it on the timeline) and its hypothesis.
    Imports create iterations with a number only."""
    require(actor, "edit")
    label, hypothesis = clean_text(label), clean_text(hypothesis)
    if label and len(label) > 200:
        raise InvalidValue("Keep the name under 200 characters; the hypothesis can say more.")
    if (start_date is None) != (end_date is None):
        raise InvalidValue("Give both dates, the first and the last day, or neither.")
    if start_date and end_date and end_date < start_date:
        raise InvalidValue(
            f"The last day ({format_date(end_date)}) is before the first ({format_date(start_date)})."
        )
    with db.write(engine) as conn:
        iteration_id = iteration_id_of(conn, initiative, number)
        dates = (
            f"{format_date(start_date)} to {format_date(end_date)}" if start_date else "no dates"
        )
        audit.change(
            conn,
            actor,
            Iteration,
            iteration_id,
            dict(label=label, start_date=start_date, end_date=end_date, hypothesis=hypothesis),
            before=audit.row(conn, Iteration, iteration_id),
            action="iteration.update",
            summary=f"{initiative} iteration {number}: {label or 'no name'}, {dates}",
            target="iteration",
        )


# ----------------------------------------------------------------------------- metrics


def define_metric(
    engine: Engine,
    actor: Actor,
    key: str,
    *,
    display_name: str,
    category: str,
    unit: str | None,
    direction: str,
) -> None:
    """Create a metric definition, or change one (an import guesses category, unit and
    direction from the name; this says what they are)."""
    require(actor, "edit")
    key, display_name = names.clean(key or ""), names.clean(display_name or "")
    if not key or not display_name:
        raise InvalidValue("A metric needs a key and a name.")
    if category not in CATEGORIES:
        raise InvalidValue(f"Category {category!r} is not one of: {', '.join(CATEGORIES)}.")
    if direction not in DIRECTIONS:
        raise InvalidValue(f"Direction {direction!r} is not one of: {', '.join(DIRECTIONS)}.")
    values = dict(display_name=display_name, category=category, unit=unit, direction=direction)
    with db.write(engine) as conn:
        existing = conn.execute(select(Metric.id).where(Metric.key == key)).scalar()
        if existing is None:
            audit.add(
                conn,
                actor,
                Metric,
                dict(key=key, **values),
                action="metric.create",
                summary=f"Defined metric {display_name} ({key})",
                target="metric",
            )
            return
        before = audit.row(conn, Metric, existing)
        changes = {k: v for k, v in values.items() if before[k] != v}
        if changes:
            audit.change(
                conn,
                actor,
                Metric,
                existing,
                changes,
                before=before,
                action="metric.update",
                summary=f"Changed metric {key}: "
                + ", ".join(f"{k} {before[k]} → {v}" for k, v in changes.items()),
                target="metric",
            )


# ----------------------------------------------------------------------------- alert rules


def _rule_values(metric_id, comparator, threshold, severity, stages) -> dict:

    if comparator not in COMPARATORS:
        raise InvalidValue(f"Comparator {comparator!r} is not one of: {', '.join(COMPARATORS)}.")
    if severity not in SEVERITIES:
        raise InvalidValue(f"Severity {severity!r} is not one of: {', '.join(SEVERITIES)}.")
    stages = [s for s in stages if s in STAGES]
    if not stages:
        raise InvalidValue("Choose at least one stage the rule applies to.")
    if threshold is None:
        raise InvalidValue("The rule needs a threshold.")
    return dict(
        metric_id=metric_id,
        comparator=comparator,
        threshold=float(threshold),
        severity=severity,
        stages=",".join(stages),
    )


def _rule_scope(rule: dict) -> list[int] | None:
    """The initiatives a rule's change can touch (None: every one)."""
    return None if rule["initiative_id"] is None else [rule["initiative_id"]]


def add_alert_rule(
    engine: Engine,
    actor: Actor,
    initiative: str | None,
    *,
    metric: str,
    comparator: str,
    threshold: float,
    severity: str,
    stages: list[str],
) -> int:
    """Add an alert rule for one initiative (or all, with None); returns its id."""
    require(actor, "edit")
    with db.write(engine) as conn:
        return _add_alert_rule(
            conn,
            actor,
            initiative,
            metric=metric,
            comparator=comparator,
            threshold=threshold,
            severity=severity,
            stages=stages,
        )


def add_alert_rules(engine: Engine, actor: Actor, initiative: str, rules: list[dict]) -> list[int]:
    """Add several alert rules (e.g. the stage's suggestions) in one transaction: all or none."""
    require(actor, "edit")
    with db.write(engine) as conn:
        return [_add_alert_rule(conn, actor, initiative, **rule) for rule in rules]


def _add_alert_rule(
    conn,
    actor: Actor,
    initiative: str | None,
    *,
    metric: str,
    comparator: str,
    threshold: float,
    severity: str,
    stages: list[str],
) -> int:
    init_id = None if initiative is None else initiative_id_of(conn, initiative)
    values = _rule_values(metric_id_of(conn, metric), comparator, threshold, severity, stages)
    rule_id = audit.add(
        conn,
        actor,
        AlertRule,
        dict(initiative_id=init_id, enabled=True, **values),
        action="alert_rule.add",
        summary=f"Added an alert rule: {metric} {comparator} {threshold} ({severity})"
        + (f" for {initiative}" if initiative else " for every initiative"),
        target="alert_rule",
    )
    notify.evaluate(conn, None if init_id is None else [init_id])
    return rule_id


def update_alert_rule(
    engine: Engine,
    actor: Actor,
    rule_id: int,
    *,
    metric: str,
    comparator: str,
    threshold: float,
    severity: str,
    stages: list[str],
    enabled: bool = True,
) -> None:
    """Change an alert rule."""
    require(actor, "edit")
    with db.write(engine) as conn:
        before = audit.row(conn, AlertRule, rule_id)
        values = _rule_values(metric_id_of(conn, metric), comparator, threshold, severity, stages)
        if before is None:
            raise InvalidValue(
                f"There is no alert rule #{rule_id}; it may have been removed meanwhile."
            )
        audit.change(
            conn,
            actor,
            AlertRule,
            rule_id,
            {"enabled": enabled, **values},
            before=before,
            action="alert_rule.update",
            summary=f"Changed an alert rule: {metric} {comparator} {threshold} ({severity})"
            + ("" if enabled else ", disabled"),
            target="alert_rule",
        )
        notify.evaluate(conn, _rule_scope(before))


def remove_alert_rule(engine: Engine, actor: Actor, rule_id: int) -> None:
    """Remove an alert rule."""
    require(actor, "edit")
    with db.write(engine) as conn:
        before = audit.row(conn, AlertRule, rule_id)
        if before is None:
            return
        # Switched off first and evaluated, so a firing alert is sent as resolved before its
        # state goes with the rule.
        conn.execute(update(AlertRule).where(AlertRule.id == rule_id).values(enabled=False))
        notify.evaluate(conn, _rule_scope(before))
        audit.remove(
            conn,
            actor,
            AlertRule,
            rule_id,
            before=before,
            action="alert_rule.remove",
            summary=f"Removed alert rule #{rule_id}",
            target="alert_rule",
        )


def default_alert_rules(ev) -> list[dict]:
    """Rules a stage should watch, from the initiative's own limits and evidence:
    PoC watches system health; pilot adds the success criteria; production adds engagement."""
    ini = ev.initiative
    latest = ev.latest
    reported = {k for it in ev.iterations for k in it.metrics}
    rules = []
    every = ["poc", "pilot", "production"]
    if "p95_latency_ms" in reported:
        rules.append(
            dict(
                metric="p95_latency_ms",
                comparator=">",
                threshold=ini["slo_p95_ms"],
                severity="high",
                stages=every,
            )
        )
    if "error_rate" in reported:
        rules.append(
            dict(
                metric="error_rate",
                comparator=">",
                threshold=ini["max_error_rate"],
                severity="critical",
                stages=every,
            )
        )
    if latest is not None:
        flip = {">=": "<", ">": "<=", "<=": ">", "<": ">=", "==": "<"}
        for c in latest.criteria:
            if c["metric"] and c["target"] is not None and c["kind"] != "production":
                rules.append(
                    dict(
                        metric=c["metric"],
                        comparator=flip[c["comparator"]],
                        threshold=c["target"],
                        severity="high",
                        stages=["pilot", "production"],
                    )
                )
        for key, value in latest.metrics.items():
            meta = ev.catalog.get(key, {})
            if meta.get("category") == "engagement":
                lower = meta.get("direction") == "lower"
                rules.append(
                    dict(
                        metric=key,
                        comparator=">" if lower else "<",
                        threshold=round(value * (1.1 if lower else 0.9), 6),
                        severity="medium",
                        stages=["production"],
                    )
                )
    existing = {(r["metric"], r["comparator"]) for r in ev.rules}
    return [r for r in rules if (r["metric"], r["comparator"]) not in existing]


def initiative_id_of(conn, name: str) -> int:
    """The id of the initiative named `name`; InvalidValue when there is none."""
    found = conn.execute(select(Initiative.id).where(Initiative.name == name)).scalar()
    if found is None:
        raise InvalidValue(f"No initiative is named {name!r}.")
    return found


def clean_text(value: str | None) -> str | None:
    """Text as typed, trimmed; None for empty."""
    return (value or "").strip() or None


def carry_criteria_forward(
    conn: Connection, initiative_id: int, iteration_id: int, number: int
) -> int:
    """Give a new iteration the criteria of the iteration before it, marked carried over until
    someone edits them; returns how many. Called where iterations are created (the import's
    loader serves the Upload page and `liftoff import` alike).

    Without it a new iteration has no criteria: the overview showed "Criteria met —" and
    dropped "1 criterion not met" from Needs attention while the criterion still failed.
    A judgement by hand is not carried: the new iteration's evidence has not been judged."""
    previous = conn.execute(
        select(Iteration.id)
        .where(Iteration.initiative_id == initiative_id, Iteration.number < number)
        .order_by(Iteration.number.desc())
        .limit(1)
    ).scalar_one_or_none()
    if previous is None:
        return 0
    rows = [
        {
            "iteration_id": iteration_id,
            "kind": c["kind"],
            "metric_id": c["metric_id"],
            "comparator": c["comparator"],
            "target": c["target"],
            "description": c["description"],
            "carried_over": True,
        }
        for c in conn.execute(
            select(Criterion.__table__)
            .where(Criterion.iteration_id == previous)
            .order_by(Criterion.id)
        ).mappings()
    ]
    if rows:
        conn.execute(insert(Criterion), rows)
    return len(rows)
