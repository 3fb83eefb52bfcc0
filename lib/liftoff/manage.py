"""Writes that manage initiatives (the importer owns data writes)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Engine, delete, insert, select, update

from liftoff import db
from liftoff.access import audit
from liftoff.access.auth import Actor, require
from liftoff.db.models import (
    COMPARATORS,
    CONCERN_STATUSES,
    CRITERION_KINDS,
    DECISIONS,
    FAILURE_CATEGORIES,
    FEEDBACK_STATUSES,
    GOVERNANCE_AREAS,
    GOVERNANCE_STATUSES,
    SEVERITIES,
    STAGES,
    STANCES,
    AlertRule,
    Concern,
    ConcernStatusChange,
    Criterion,
    Feedback,
    GovernanceItem,
    Initiative,
    Iteration,
    Metric,
    ReadinessItem,
    Stakeholder,
    StakeholderStance,
)
from liftoff.formatting import format_date
from liftoff.ingest.columns import GOVERNANCE_DEFAULT_STAGE


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
        metric_id = _metric_id(conn, metric)
        if before is None:
            raise InvalidValue(
                f"There is no criterion #{criterion_id}; it may have been removed meanwhile."
            )
        audit.change(
            conn,
            actor,
            Criterion,
            criterion_id,
            {"metric_id": metric_id, **values},
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
        audit.change(
            conn,
            actor,
            Iteration,
            iteration_id,
            dict(
                decision=decision,
                rationale=(rationale or "").strip() or None,
                decided_by=((decided_by or "").strip() or None) if decision != "pending" else None,
                decided_at=datetime.now() if decision != "pending" else None,
            ),
            before=before,
            action="decision",
            summary=f"{initiative} iteration {number}: {before['decision']} → {decision}",
            target="iteration",
        )


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
    label, hypothesis = _text(label), _text(hypothesis)
    if label and len(label) > 200:
        raise InvalidValue("Keep the name under 200 characters; the hypothesis can say more.")
    if (start_date is None) != (end_date is None):
        raise InvalidValue("Give both dates, the first and the last day, or neither.")
    if start_date and end_date and end_date < start_date:
        raise InvalidValue(
            f"The last day ({format_date(end_date)}) is before the first ({format_date(start_date)})."
        )
    with db.write(engine) as conn:
        iteration_id = _iteration_id(conn, initiative, number)
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


# ----------------------------------------------------------------------------- people


def _initiative_id(conn, name: str) -> int:
    found = conn.execute(select(Initiative.id).where(Initiative.name == name)).scalar()
    if found is None:
        raise InvalidValue(f"No initiative is named {name!r}.")
    return found


def _text(value: str | None) -> str | None:
    return (value or "").strip() or None


def update_feedback(
    engine: Engine, actor: Actor, feedback_id: int, *, status: str, action_taken: str | None
) -> None:
    """Move a feedback item through new → triaged → actioned / won't fix, with the action taken."""
    require(actor, "edit")
    if status not in FEEDBACK_STATUSES:
        raise InvalidValue(f"Status {status!r} is not one of: {', '.join(FEEDBACK_STATUSES)}.")
    if status == "actioned" and not _text(action_taken):
        raise InvalidValue("Say what was done: feedback marked actioned needs the action taken.")
    with db.write(engine) as conn:
        before = audit.row(conn, Feedback, feedback_id)
        if before is None:
            raise InvalidValue(
                f"There is no feedback item #{feedback_id}; it may have been rolled back."
            )
        audit.change(
            conn,
            actor,
            Feedback,
            feedback_id,
            dict(
                status=status,
                action_taken=_text(action_taken),
                updated_by=actor.label,
                updated_at=datetime.now(),
            ),
            before=before,
            action="feedback.update",
            summary=f"Feedback #{feedback_id}: {before['status']} → {status}",
            target="feedback",
        )


def _concern_values(values: dict) -> dict:
    title = _text(values.get("title"))
    if not title:
        raise InvalidValue("Give the concern a title: what worries the stakeholder, in a line.")
    for name, allowed in (
        ("failure_category", FAILURE_CATEGORIES),
        ("severity", SEVERITIES),
    ):
        if values.get(name) not in allowed:
            raise InvalidValue(
                f"{name.replace('_', ' ').capitalize()} must be one of: {', '.join(allowed)}."
            )
    comparator, threshold = values.get("comparator"), values.get("threshold")
    if values.get("metric") and (comparator not in COMPARATORS or threshold is None):
        raise InvalidValue("A concern linked to a metric needs a comparator and a threshold.")
    due, raised = values.get("due"), values.get("raised_at")
    if due is not None and raised is not None and due < raised:
        raise InvalidValue("The due date is before the date the concern was raised.")
    return dict(
        title=title,
        description=_text(values.get("description")),
        raised_by=_text(values.get("raised_by")),
        stakeholder_group=_text(values.get("stakeholder_group")),
        failure_category=values["failure_category"],
        severity=values["severity"],
        owner=_text(values.get("owner")),
        due=due,
        comparator=comparator if values.get("metric") else None,
        threshold=threshold if values.get("metric") else None,
    )


def add_concern(engine: Engine, actor: Actor, initiative: str, **values) -> int:
    """Add a concern (status open) with its first history entry; returns its id."""
    require(actor, "edit")
    clean = _concern_values(values)
    raised = values.get("raised_at") or datetime.now().date()
    with db.write(engine) as conn:
        init_id = _initiative_id(conn, initiative)
        iteration = values.get("iteration")
        it_id = _iteration_id(conn, initiative, iteration) if iteration else None
        concern_id = conn.execute(
            insert(Concern)
            .values(
                initiative_id=init_id,
                iteration_id=it_id,
                status="open",
                raised_at=raised,
                metric_id=_metric_id(conn, values.get("metric")),
                **clean,
            )
            .returning(Concern.id)
        ).scalar_one()
        conn.execute(
            insert(ConcernStatusChange).values(
                concern_id=concern_id,
                changed_at=datetime.now(),
                changed_by=actor.label,
                from_status=None,
                to_status="open",
                note=_text(values.get("note")) or "Raised.",
            )
        )
        audit.record(
            conn,
            actor,
            "concern.add",
            f"Added concern “{clean['title']}” ({clean['severity']}) to {initiative}",
            target="concern",
            target_id=concern_id,
            after=audit.row(conn, Concern, concern_id),
        )
    return concern_id


def update_concern(
    engine: Engine,
    actor: Actor,
    concern_id: int,
    *,
    status: str,
    note: str | None = None,
    resolution: str | None = None,
    **values,
) -> None:
    """Change a concern; a status change is kept as history (who, when, from, to, note)."""
    require(actor, "edit")
    if status not in CONCERN_STATUSES:
        raise InvalidValue(f"Status {status!r} is not one of: {', '.join(CONCERN_STATUSES)}.")
    clean = _concern_values(values)
    closing = status in ("resolved", "accepted")
    if closing and not _text(resolution):
        raise InvalidValue("Say how it was resolved (or why the risk is accepted).")
    with db.write(engine) as conn:
        before = audit.row(conn, Concern, concern_id)
        if before is None:
            raise InvalidValue(f"There is no concern #{concern_id}; it may have been rolled back.")
        now = datetime.now()
        if status != before["status"]:
            if not _text(note):
                raise InvalidValue("Add a note to the status change: the history says why.")
            conn.execute(
                insert(ConcernStatusChange).values(
                    concern_id=concern_id,
                    changed_at=now,
                    changed_by=actor.label,
                    from_status=before["status"],
                    to_status=status,
                    note=_text(note),
                )
            )
        audit.change(
            conn,
            actor,
            Concern,
            concern_id,
            dict(
                status=status,
                resolution=_text(resolution),
                resolved_at=(before["resolved_at"] or now.date()) if closing else None,
                metric_id=_metric_id(conn, values.get("metric")),
                **clean,
            ),
            before=before,
            action="concern.update",
            summary=f"Concern “{clean['title']}”: {before['status']} → {status}"
            if status != before["status"]
            else f"Changed concern “{clean['title']}”",
            target="concern",
        )


def save_stakeholder(
    engine: Engine,
    actor: Actor,
    initiative: str,
    name: str,
    *,
    group: str | None,
    influence: int,
    stakeholder_id: int | None = None,
) -> int:
    """Add a stakeholder (or change one with `stakeholder_id`); returns its id."""
    require(actor, "edit")
    name = _text(name)
    if not name:
        raise InvalidValue("Give the stakeholder's name.")
    if not 1 <= int(influence) <= 5:
        raise InvalidValue("Influence is a whole number from 1 (little) to 5 (decisive).")
    with db.write(engine) as conn:
        init_id = _initiative_id(conn, initiative)
        clash = conn.execute(
            select(Stakeholder.id).where(
                Stakeholder.initiative_id == init_id, Stakeholder.name == name
            )
        ).scalar()
        if clash is not None and clash != stakeholder_id:
            raise InvalidValue(f"{name} is already a stakeholder of {initiative}.")
        values = dict(name=name, group=_text(group), influence=int(influence))
        if stakeholder_id is None:
            sid = conn.execute(
                insert(Stakeholder)
                .values(initiative_id=init_id, **values)
                .returning(Stakeholder.id)
            ).scalar_one()
            audit.record(
                conn,
                actor,
                "stakeholder.add",
                f"Added stakeholder {name} to {initiative}",
                target="stakeholder",
                target_id=sid,
                after=audit.row(conn, Stakeholder, sid),
            )
            return sid
        before = audit.row(conn, Stakeholder, stakeholder_id)
        if before is None:
            raise InvalidValue(f"There is no stakeholder #{stakeholder_id}.")
        audit.change(
            conn,
            actor,
            Stakeholder,
            stakeholder_id,
            values,
            before=before,
            action="stakeholder.update",
            summary=f"Changed stakeholder {name}",
            target="stakeholder",
        )
        return stakeholder_id


def set_stance(
    engine: Engine, actor: Actor, stakeholder_id: int, number: int, *, stance: str, note: str | None
) -> None:
    """Record a stakeholder's stance at an iteration (replacing what was recorded there)."""
    require(actor, "edit")
    if stance not in STANCES:
        raise InvalidValue(f"Stance {stance!r} is not one of: {', '.join(STANCES)}.")
    with db.write(engine) as conn:
        person = audit.row(conn, Stakeholder, stakeholder_id)
        if person is None:
            raise InvalidValue(f"There is no stakeholder #{stakeholder_id}.")
        it_id = conn.execute(
            select(Iteration.id).where(
                Iteration.initiative_id == person["initiative_id"], Iteration.number == number
            )
        ).scalar()
        if it_id is None:
            raise InvalidValue(f"The initiative has no iteration {number}.")
        existing = conn.execute(
            select(StakeholderStance.id).where(
                StakeholderStance.stakeholder_id == stakeholder_id,
                StakeholderStance.iteration_id == it_id,
            )
        ).scalar()
        before = audit.row(conn, StakeholderStance, existing) if existing else None
        if existing:
            conn.execute(
                update(StakeholderStance)
                .where(StakeholderStance.id == existing)
                .values(stance=stance, note=_text(note))
            )
        else:
            existing = conn.execute(
                insert(StakeholderStance)
                .values(
                    stakeholder_id=stakeholder_id,
                    iteration_id=it_id,
                    stance=stance,
                    note=_text(note),
                )
                .returning(StakeholderStance.id)
            ).scalar_one()
        audit.record(
            conn,
            actor,
            "stance",
            f"{person['name']} at iteration {number}: {(before or {}).get('stance', 'no stance')} → {stance}",
            target="stakeholder",
            target_id=stakeholder_id,
            before=before,
            after=audit.row(conn, StakeholderStance, existing),
        )


def save_governance_item(
    engine: Engine,
    actor: Actor,
    initiative: str,
    area: str,
    *,
    status: str,
    evidence: str | None,
    owner: str | None,
    required_from: str | None = None,
) -> None:
    """Set a governance item's status, evidence and owner (creating it when missing)."""
    require(actor, "edit")
    if area not in GOVERNANCE_AREAS:
        raise InvalidValue(f"Area {area!r} is not one of: {', '.join(GOVERNANCE_AREAS)}.")
    if status not in GOVERNANCE_STATUSES:
        raise InvalidValue(f"Status {status!r} is not one of: {', '.join(GOVERNANCE_STATUSES)}.")
    if status == "done" and not _text(evidence):
        raise InvalidValue("Link or describe the evidence: a done item needs it.")
    with db.write(engine) as conn:
        init_id = _initiative_id(conn, initiative)
        existing = conn.execute(
            select(GovernanceItem.id).where(
                GovernanceItem.initiative_id == init_id, GovernanceItem.area == area
            )
        ).scalar()
        values = dict(
            status=status, evidence=_text(evidence), owner=_text(owner), updated_at=datetime.now()
        )
        if required_from:
            values["required_from"] = required_from
        before = audit.row(conn, GovernanceItem, existing) if existing else None
        if existing is None:
            values.setdefault("required_from", GOVERNANCE_DEFAULT_STAGE[area])
            existing = conn.execute(
                insert(GovernanceItem)
                .values(initiative_id=init_id, area=area, **values)
                .returning(GovernanceItem.id)
            ).scalar_one()
        else:
            conn.execute(
                update(GovernanceItem).where(GovernanceItem.id == existing).values(**values)
            )
        audit.record(
            conn,
            actor,
            "governance.update",
            f"{initiative} governance {area.replace('_', ' ')}: "
            f"{(before or {}).get('status', 'not listed')} → {status}",
            target="governance_item",
            target_id=existing,
            before=before,
            after=audit.row(conn, GovernanceItem, existing),
        )


def score_readiness(
    engine: Engine, actor: Actor, initiative: str, item: str, *, score: float, note: str | None
) -> None:
    """Score one rubric item 0, 0.5 or 1 (items Liftoff fills itself cannot be set by hand)."""
    require(actor, "edit")
    from liftoff.people.rules import AUTOMATIC, RUBRIC_ITEMS, SCORES

    if item not in RUBRIC_ITEMS:
        raise InvalidValue(f"There is no readiness item {item!r}.")
    if item in AUTOMATIC:
        raise InvalidValue("Liftoff scores this item from what it holds; it cannot be set by hand.")
    if float(score) not in SCORES:
        raise InvalidValue("Score 0 (not done), 0.5 (done by hand) or 1 (automated).")
    with db.write(engine) as conn:
        init_id = _initiative_id(conn, initiative)
        existing = conn.execute(
            select(ReadinessItem.id).where(
                ReadinessItem.initiative_id == init_id, ReadinessItem.item == item
            )
        ).scalar()
        values = dict(
            score=float(score), note=_text(note), updated_by=actor.label, updated_at=datetime.now()
        )
        before = audit.row(conn, ReadinessItem, existing) if existing else None
        if existing is None:
            existing = conn.execute(
                insert(ReadinessItem)
                .values(initiative_id=init_id, item=item, **values)
                .returning(ReadinessItem.id)
            ).scalar_one()
        else:
            conn.execute(update(ReadinessItem).where(ReadinessItem.id == existing).values(**values))
        audit.record(
            conn,
            actor,
            "rubric.update",
            f"{initiative} readiness “{RUBRIC_ITEMS[item][1]}”: "
            f"{(before or {}).get('score', 'unscored')} → {float(score):g}",
            target="readiness_item",
            target_id=existing,
            before=before,
            after=audit.row(conn, ReadinessItem, existing),
        )


def set_gate_floors(
    engine: Engine,
    actor: Actor,
    initiative: str,
    *,
    min_headroom: float | None,
    min_readiness: float | None,
) -> None:
    """Set the readiness gate's floors for an initiative (None: the stage's default)."""
    require(actor, "edit")
    if min_headroom is not None and not 0 <= min_headroom < 1:
        raise InvalidValue("The headroom floor is a fraction from 0 to below 1 (25% is 0.25).")
    if min_readiness is not None and not 0 <= min_readiness <= 8:
        raise InvalidValue("The readiness floor is a score from 0 to 8.")
    with db.write(engine) as conn:
        init_id = _initiative_id(conn, initiative)
        audit.change(
            conn,
            actor,
            Initiative,
            init_id,
            dict(min_headroom=min_headroom, min_readiness=min_readiness),
            before=audit.row(conn, Initiative, init_id),
            action="initiative.update",
            summary=f"Changed {initiative}'s readiness-gate floors",
            target="initiative",
        )
