"""Reads of readiness: governance items, rubric scores, the monitoring signals Liftoff scores
itself, and every initiative's gate."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import Engine, func, or_, select

from liftoff import db
from liftoff.db.models import (
    AlertRule,
    Feedback,
    GovernanceItem,
    LoadTestStep,
    Metric,
    ReadinessItem,
)
from liftoff.readiness import rules as readiness_rules


def governance_items(engine: Engine, initiative_ids: list[int]) -> dict[int, list[dict]]:
    g = GovernanceItem
    out: dict = defaultdict(list)
    with db.reading(engine) as conn:
        for r in conn.execute(
            select(g.__table__).where(g.initiative_id.in_(initiative_ids)).order_by(g.id)
        ).mappings():
            out[r["initiative_id"]].append(dict(r))
    return out


def readiness_items(engine: Engine, initiative_ids: list[int]) -> dict[int, dict[str, dict]]:
    r = ReadinessItem
    out: dict = defaultdict(dict)
    with db.reading(engine) as conn:
        for row in conn.execute(
            select(r.__table__).where(r.initiative_id.in_(initiative_ids))
        ).mappings():
            out[row["initiative_id"]][row["item"]] = dict(row)
    return out


def monitoring_signals(engine: Engine, latest_iteration_ids: dict[int, int]) -> dict[int, dict]:
    """Per initiative, what Liftoff sees for the rubric's monitoring items: alert rules on model
    and system metrics, load tests and feedback in the latest iteration."""
    ids = list(latest_iteration_ids)
    out = {
        i: {
            "alert_on_model_metric": False,
            "alert_on_system_metric": False,
            "load_tested_latest": False,
            "feedback_in_latest": 0,
        }
        for i in ids
    }
    if not ids:
        return out
    with db.reading(engine) as conn:
        rules = conn.execute(
            select(AlertRule.initiative_id, Metric.category)
            .join(Metric, Metric.id == AlertRule.metric_id)
            .where(
                AlertRule.enabled.is_(True),
                or_(AlertRule.initiative_id.in_(ids), AlertRule.initiative_id.is_(None)),
            )
            .distinct()
        ).all()
        latest = [v for v in latest_iteration_ids.values() if v is not None]
        tested = (
            set(
                conn.execute(
                    select(LoadTestStep.iteration_id)
                    .where(LoadTestStep.iteration_id.in_(latest))
                    .distinct()
                ).scalars()
            )
            if latest
            else set()
        )
        feedback = (
            dict(
                conn.execute(
                    select(Feedback.iteration_id, func.count())
                    .where(Feedback.iteration_id.in_(latest))
                    .group_by(Feedback.iteration_id)
                ).all()
            )
            if latest
            else {}
        )
    for init_id, category in rules:
        for i in ids if init_id is None else [init_id]:
            if category in ("model", "business_kpi"):
                out[i]["alert_on_model_metric"] = True
            if category == "system":
                out[i]["alert_on_system_metric"] = True
    for i, it_id in latest_iteration_ids.items():
        out[i]["load_tested_latest"] = it_id in tested
        out[i]["feedback_in_latest"] = feedback.get(it_id, 0)
    return out


def readiness_for(engine: Engine, evs: list) -> dict:
    """The readiness rubric of each initiative's evidence, by initiative id."""
    ids = [ev.initiative["id"] for ev in evs]
    stored = readiness_items(engine, ids)
    signals = monitoring_signals(
        engine, {ev.initiative["id"]: ev.latest.id if ev.latest else None for ev in evs}
    )
    return {i: readiness_rules.readiness(stored.get(i, {}), **signals[i]) for i in ids}


def gates(engine: Engine, evs: list) -> dict:
    """The readiness gate of each initiative's latest iteration, by initiative id."""
    rubric = readiness_for(engine, evs)
    return {
        ev.initiative["id"]: readiness_rules.gate(ev, None, rubric[ev.initiative["id"]])
        for ev in evs
    }
