"""Writes that manage initiatives (the importer owns data writes)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, delete, insert, select, update

from liftoff import audit, db
from liftoff.auth import Actor, require
from liftoff.models import (
    COMPARATORS,
    CRITERION_KINDS,
    DECISIONS,
    SEVERITIES,
    STAGES,
    AlertRule,
    Criterion,
    Initiative,
    Iteration,
    Metric,
)


class InvalidValue(ValueError):
    """A value the user gave is not allowed; the message says which values are."""


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
    name = name.strip()
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
            new_id = conn.execute(
                insert(Initiative)
                .values(name=name, created_at=datetime.now(), **values)
                .returning(Initiative.id)
            ).scalar_one()
            audit.record(
                conn,
                actor,
                "initiative.create",
                f"Created initiative {name}",
                target="initiative",
                target_id=new_id,
                after=audit.row(conn, Initiative, new_id),
            )
            return f"Created initiative {name!r}."
        if not values:
            return f"Nothing to change for {name!r}: give --stage, --slo-p95-ms, --max-error-rate or --primary-metric."
        before = audit.row(conn, Initiative, existing)
        conn.execute(update(Initiative).where(Initiative.id == existing).values(**values))
        audit.record(
            conn,
            actor,
            "initiative.update",
            f"Changed {name}: " + ", ".join(f"{k} {before[k]} → {v}" for k, v in values.items()),
            target="initiative",
            target_id=existing,
            before=before,
            after=audit.row(conn, Initiative, existing),
        )
        return (
            f"Updated initiative {name!r}: "
            + ", ".join(f"{k}={v}" for k, v in values.items())
            + "."
        )


# ----------------------------------------------------------------------------- criteria


def _iteration_id(conn, initiative: str, number: int) -> int:

    found = conn.execute(
        select(Iteration.id)
        .join(Initiative, Initiative.id == Iteration.initiative_id)
        .where(Initiative.name == initiative, Iteration.number == number)
    ).scalar()
    if found is None:
        raise InvalidValue(f"{initiative} has no iteration {number}.")
    return found


def _metric_id(conn, key: str | None) -> int | None:

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
        new_id = conn.execute(
            insert(Criterion)
            .values(
                iteration_id=_iteration_id(conn, initiative, number),
                metric_id=_metric_id(conn, metric),
                **values,
            )
            .returning(Criterion.id)
        ).scalar_one()
        audit.record(
            conn,
            actor,
            "criterion.add",
            f"Added a criterion to {initiative} iteration {number}: {values['description']}",
            target="criterion",
            target_id=new_id,
            after=audit.row(conn, Criterion, new_id),
        )
        return new_id


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
        done = conn.execute(
            update(Criterion)
            .where(Criterion.id == criterion_id)
            .values(metric_id=_metric_id(conn, metric), **values)
        ).rowcount
        if not done:
            raise InvalidValue(
                f"There is no criterion #{criterion_id}; it may have been removed meanwhile."
            )
        audit.record(
            conn,
            actor,
            "criterion.update",
            f"Changed a criterion: {values['description']}",
            target="criterion",
            target_id=criterion_id,
            before=before,
            after=audit.row(conn, Criterion, criterion_id),
        )


def remove_criterion(engine: Engine, actor: Actor, criterion_id: int) -> None:
    """Remove a criterion."""
    require(actor, "edit")
    with db.write(engine) as conn:
        before = audit.row(conn, Criterion, criterion_id)
        if before is None:
            return
        conn.execute(delete(Criterion).where(Criterion.id == criterion_id))
        audit.record(
            conn,
            actor,
            "criterion.remove",
            f"Removed a criterion: {before['description']}",
            target="criterion",
            target_id=criterion_id,
            before=before,
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
) -> None:
    """Record the go / no-go decision of an iteration with its rationale, who and when."""
    require(actor, "edit")
    if decision not in DECISIONS:
        raise InvalidValue(f"Decision {decision!r} is not one of: {', '.join(DECISIONS)}.")
    if decision != "pending" and not (rationale or "").strip():
        raise InvalidValue("Give the rationale: the room will want to know why.")
    if decision != "pending" and not (decided_by or "").strip():
        raise InvalidValue("Say who decided (a person or a committee).")
    with db.write(engine) as conn:
        iteration_id = _iteration_id(conn, initiative, number)
        before = audit.row(conn, Iteration, iteration_id)
        conn.execute(
            update(Iteration)
            .where(Iteration.id == iteration_id)
            .values(
                decision=decision,
                rationale=(rationale or "").strip() or None,
                decided_by=((decided_by or "").strip() or None) if decision != "pending" else None,
                decided_at=datetime.now() if decision != "pending" else None,
            )
        )
        audit.record(
            conn,
            actor,
            "decision",
            f"{initiative} iteration {number}: {before['decision']} → {decision}",
            target="iteration",
            target_id=iteration_id,
            before=before,
            after=audit.row(conn, Iteration, iteration_id),
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
        init_id = None
        if initiative is not None:
            init_id = conn.execute(
                select(Initiative.id).where(Initiative.name == initiative)
            ).scalar()
            if init_id is None:
                raise InvalidValue(f"No initiative is named {initiative!r}.")
        values = _rule_values(_metric_id(conn, metric), comparator, threshold, severity, stages)
        rule_id = conn.execute(
            insert(AlertRule)
            .values(initiative_id=init_id, enabled=True, **values)
            .returning(AlertRule.id)
        ).scalar_one()
        audit.record(
            conn,
            actor,
            "alert_rule.add",
            f"Added an alert rule: {metric} {comparator} {threshold} ({severity})"
            + (f" for {initiative}" if initiative else " for every initiative"),
            target="alert_rule",
            target_id=rule_id,
            after=audit.row(conn, AlertRule, rule_id),
        )
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
        values = _rule_values(_metric_id(conn, metric), comparator, threshold, severity, stages)
        if not conn.execute(
            update(AlertRule).where(AlertRule.id == rule_id).values(enabled=enabled, **values)
        ).rowcount:
            raise InvalidValue(
                f"There is no alert rule #{rule_id}; it may have been removed meanwhile."
            )
        audit.record(
            conn,
            actor,
            "alert_rule.update",
            f"Changed an alert rule: {metric} {comparator} {threshold} ({severity})"
            + ("" if enabled else ", disabled"),
            target="alert_rule",
            target_id=rule_id,
            before=before,
            after=audit.row(conn, AlertRule, rule_id),
        )


def remove_alert_rule(engine: Engine, actor: Actor, rule_id: int) -> None:
    """Remove an alert rule."""
    require(actor, "edit")
    with db.write(engine) as conn:
        before = audit.row(conn, AlertRule, rule_id)
        if before is None:
            return
        conn.execute(delete(AlertRule).where(AlertRule.id == rule_id))
        audit.record(
            conn,
            actor,
            "alert_rule.remove",
            f"Removed alert rule #{rule_id}",
            target="alert_rule",
            target_id=rule_id,
            before=before,
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
