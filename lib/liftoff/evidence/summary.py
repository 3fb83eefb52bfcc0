"""`liftoff summary`: the figures the screens show, as plain data."""

from __future__ import annotations

import json
from datetime import date, datetime

from sqlalchemy import Engine

from liftoff.evidence import initiative as evidence
from liftoff.people import reads as people_reads
from liftoff.readiness import reads as readiness_reads
from liftoff.readiness import rules as readiness_rules


def _iso(value) -> str | None:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _round(value: float | None, digits: int = 6) -> float | None:
    return None if value is None else round(value, digits)


def summarize(ev: evidence.InitiativeEvidence) -> dict:
    """The summary of one initiative's evidence: values in stored units (fractions for ratios)."""
    ini = ev.initiative
    iterations = []
    for it in ev.iterations:
        cap = it.capacity
        iterations.append(
            {
                "number": it.number,
                "label": it.label,
                "start_date": _iso(it.start_date),
                "end_date": _iso(it.end_date),
                "decision": it.decision,
                "rationale": it.rationale,
                "decided_by": it.decided_by,
                "decided_at": _iso(it.decided_at),
                "candidate": it.candidate,
                "metrics": dict(it.metrics),
                "criteria": [
                    {
                        "kind": c["kind"],
                        "description": c["description"],
                        "metric": c["metric"],
                        "comparator": c["comparator"],
                        "target": c["target"],
                        "value": c["value"],
                        "status": c["status"],
                    }
                    for c in it.criteria
                ],
                "criteria_met": it.criteria_met,
                "criteria_total": len(it.criteria),
                "capacity_rps": cap.capacity_rps,
                "capacity_limited_by": cap.limited_by,
            }
        )
    rw = ev.runway
    return {
        "initiative": {
            "name": ini["name"],
            "stage": ini["stage"],
            "owner": ini["owner"],
            "business_goal": ini["business_goal"],
            "slo_p95_ms": ini["slo_p95_ms"],
            "max_error_rate": ini["max_error_rate"],
            "primary_metric": ini["primary_metric"],
            "lead_kpi": ev.lead_kpi,
        },
        "iterations": iterations,
        "capacity_rps": ev.capacity_rps,
        "capacity_iteration": ev.capacity_iteration,
        "peak_rps": ev.peak_rps,
        "headroom": ev.headroom,
        "runway": {
            "date": _iso(rw.crossing),
            "days": rw.days,
            "already_over": rw.already_over,
            "trend": rw.fit.model if rw.fit else None,
            "r_squared": _round(rw.fit.r_squared, 4) if rw.fit else None,
        },
        "model_vs_kpi": (
            {
                "model": ev.model_vs_kpi.model,
                "kpi": ev.model_vs_kpi.kpi,
                "n": ev.model_vs_kpi.n,
                "pearson": ev.model_vs_kpi.pearson,
                "spearman": ev.model_vs_kpi.spearman,
                "verdict": ev.model_vs_kpi.verdict,
            }
            if ev.model_vs_kpi
            else None
        ),
        "alerts": {
            "rules": len(ev.alerts),
            "firing": [
                {
                    "metric": a.metric,
                    "comparator": a.comparator,
                    "threshold": a.threshold,
                    "severity": a.severity,
                    "value": a.value,
                    "iteration": a.iteration,
                    "since_iteration": a.since_iteration,
                }
                for a in ev.firing
            ],
        },
        "open_concerns": dict(sorted(ev.open_concerns.items())),
        "feedback": {
            "count": ev.feedback.get("count", 0),
            "mean_rating": ev.feedback.get("mean_rating"),
        },
    }


def people_figures(engine: Engine, ev, today: date | None = None) -> dict:
    """Feedback, concerns, stakeholders, governance, readiness and the gate of the latest
    iteration: the figures of the people screens."""
    today = today or date.today()
    init_id = ev.initiative["id"]
    fb = people_reads.feedback_counts(engine, [init_id]).get(init_id, {})
    concerns = people_reads.concern_summary(engine, [init_id], today)[init_id]
    oldest = concerns["oldest"]
    stances = people_reads.stance_counts(engine, [init_id]).get(init_id, {})
    items = readiness_reads.governance_items(engine, [init_id]).get(init_id, [])
    gov = readiness_rules.governance_score(items, ev.initiative["stage"])
    rubric = readiness_reads.readiness_for(engine, [ev])[init_id]
    g = readiness_rules.gate(ev, None, rubric)
    return {
        "feedback": {
            "count": fb.get("count", 0),
            "mean_rating": _round(fb.get("mean_rating"), 4),
            "actioned": fb.get("actioned", 0),
            "actioned_share": _round(fb.get("actioned_share"), 4),
        },
        "concerns": {
            "open_by_severity": dict(sorted(concerns["by_severity"].items())),
            # Concerns without a category (imported registers) count as "not_categorised".
            "open_by_category": dict(
                sorted((k or "not_categorised", n) for k, n in concerns["by_category"].items())
            ),
            "oldest_open": (
                {
                    "title": oldest["title"],
                    "severity": oldest["severity"],
                    "raised_at": _iso(oldest["raised_at"]),
                    "age_days": oldest["age_days"],
                }
                if oldest
                else None
            ),
        },
        "stakeholders": {"latest_stance": dict(sorted(stances.items()))},
        "governance": {
            "required": gov.required,
            "done": gov.done,
            "share": _round(gov.share, 4),
            "missing": gov.missing,
        },
        "readiness": {
            "score": rubric.score,
            "sections": rubric.sections,
            "weakest": rubric.weakest,
        },
        "gate": {
            "iteration": g.iteration,
            "ready": g.ready,
            "reasons": [{"text": r.text, "screen": r.screen} for r in g.reasons],
        },
    }


def summary(engine: Engine, name: str) -> dict:
    """The summary of the initiative called `name`."""
    ev = evidence.for_initiative(engine, name)
    out = summarize(ev)
    out.update(people_figures(engine, ev))
    return out


def to_json(data: dict) -> str:
    """The one serialisation of a summary: `liftoff summary --json` prints it and the API's
    GET /api/v1/initiatives/{name}/summary answers it, byte for byte."""
    return json.dumps(data, indent=2, default=str, ensure_ascii=False) + "\n"
