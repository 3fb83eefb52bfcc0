"""Pure rules of readiness: the rubric (modelled on Google's ML Test Score), the governance
checklist by stage, and the gate that says Ready or Not ready, because: …."""

from __future__ import annotations

from dataclasses import dataclass, field

from liftoff.db.models import STAGES
from liftoff.ingest.columns import GOVERNANCE_DEFAULT_STAGE

#: The readiness rubric, modelled on Google's ML Test Score (Breck et al., 2017): four sections of
#: tests, each scored 0 (not done), 0.5 (done by hand) or 1 (automated). Keys are stable ids.
RUBRIC: dict[str, list[tuple[str, str]]] = {
    "data": [
        ("data_schema", "Feature expectations are captured in a schema"),
        ("data_features_useful", "Every feature is known to be useful"),
        ("data_feature_cost", "No feature costs more than it is worth"),
        (
            "data_meta_requirements",
            "Features follow meta-level requirements (allowed sources, PII rules)",
        ),
        ("data_privacy", "The data pipeline has appropriate privacy controls"),
        ("data_new_features", "New features can be added quickly"),
        ("data_feature_code_tested", "All code that creates input features is tested"),
    ],
    "model": [
        ("model_spec_reviewed", "Model specifications are reviewed and versioned"),
        (
            "model_offline_online",
            "Offline metrics correlate with the business impact measured online",
        ),
        ("model_hyperparameters", "All hyperparameters have been tuned"),
        ("model_staleness", "The impact of model staleness is known"),
        ("model_simpler_baseline", "A simpler model is not better"),
        ("model_slices", "Model quality is sufficient on all important data slices"),
        ("model_inclusion", "The model is tested for inclusion and fairness"),
    ],
    "infrastructure": [
        ("infra_reproducible", "Training is reproducible"),
        ("infra_spec_unit_tests", "Model specification code is unit tested"),
        ("infra_pipeline_tests", "The full ML pipeline is integration tested"),
        ("infra_validated_before_serving", "Model quality is validated before serving"),
        ("infra_debuggable", "The model can be debugged on single examples"),
        ("infra_canary", "Models are canaried before they serve all traffic"),
        ("infra_rollback", "A serving model can be rolled back quickly and safely"),
    ],
    "monitoring": [
        ("mon_dependencies", "Dependency changes result in a notification"),
        ("mon_invariants", "Data invariants hold for training and serving inputs"),
        ("mon_skew", "Training and serving compute the same feature values"),
        ("mon_staleness", "Models are not too stale"),
        ("mon_numerics", "The model is numerically stable (no NaN or infinity)"),
        ("mon_performance", "Computing performance has not regressed (load tests recorded)"),
        ("mon_quality", "Prediction quality has not regressed (alert rules on model metrics)"),
        ("mon_feedback", "User feedback flows in during the iteration"),
    ],
}


SECTION_LABELS = {
    "data": "Data",
    "model": "Model",
    "infrastructure": "Infrastructure",
    "monitoring": "Monitoring",
}


RUBRIC_ITEMS = {key: (section, text) for section, items in RUBRIC.items() for key, text in items}


# Items Liftoff scores itself from what it holds; editors cannot override them.
AUTOMATIC = ("mon_performance", "mon_quality", "mon_feedback")


SCORES = (0.0, 0.5, 1.0)


SCORE_LABELS = {0.0: "0 · not done", 0.5: "0.5 · done by hand", 1.0: "1 · automated"}


#: What the rubric score means (after the paper's table).
SCORE_MEANING = (
    (0, "more of a research project than a production system"),
    (1, "not totally untested, but serious holes in reliability are likely"),
    (3, "there has been a first pass at basic productionisation"),
    (5, "reasonably tested and monitored"),
    (6, "strong levels of automated testing and monitoring"),
)


#: Default gate floors by stage: the rubric score needed to go further from that stage.
READINESS_FLOOR = {"poc": 1.0, "pilot": 2.0, "production": 3.0, "paused": 3.0, "retired": 3.0}


HEADROOM_FLOOR = 0.25


def score_meaning(score: float) -> str:
    return [m for floor, m in SCORE_MEANING if score >= floor][-1]


@dataclass
class RubricItem:
    key: str
    section: str
    text: str
    score: float
    source: str  # "person", "liftoff" or "unscored"
    note: str | None = None
    updated_by: str | None = None


@dataclass
class Readiness:
    items: list[RubricItem]
    sections: dict[str, float]

    @property
    def score(self) -> float:
        return min(self.sections.values())

    @property
    def weakest(self) -> str:
        return min(self.sections, key=lambda s: self.sections[s])


def readiness(
    stored: dict[str, dict],
    *,
    alert_on_model_metric: bool,
    alert_on_system_metric: bool,
    load_tested_latest: bool,
    feedback_in_latest: int,
) -> Readiness:
    """The rubric with what editors scored (`stored`: item key → row) and what Liftoff sees."""
    auto = {
        "mon_performance": (
            (1.0 if alert_on_system_metric else 0.5) if load_tested_latest else 0.0,
            "load tests recorded for the latest iteration"
            + (" and alert rules watch system metrics" if alert_on_system_metric else "")
            if load_tested_latest
            else "no load test recorded for the latest iteration",
        ),
        "mon_quality": (
            1.0 if alert_on_model_metric else 0.0,
            "alert rules watch model metrics"
            if alert_on_model_metric
            else "no alert rule watches a model metric",
        ),
        "mon_feedback": (
            1.0 if feedback_in_latest else 0.0,
            f"{feedback_in_latest:,} feedback items in the latest iteration"
            if feedback_in_latest
            else "no feedback received in the latest iteration",
        ),
    }
    items = []
    for section, entries in RUBRIC.items():
        for key, text in entries:
            if key in auto:
                score, note = auto[key]
                items.append(RubricItem(key, section, text, score, "liftoff", note))
            elif key in stored:
                row = stored[key]
                items.append(
                    RubricItem(
                        key,
                        section,
                        text,
                        float(row["score"]),
                        "person",
                        row.get("note"),
                        row.get("updated_by"),
                    )
                )
            else:
                items.append(RubricItem(key, section, text, 0.0, "unscored"))
    sections = {s: sum(i.score for i in items if i.section == s) for s in RUBRIC}
    return Readiness(items, sections)


def governance_required(stage: str, required_from: str) -> bool:
    """Whether an item required from `required_from` is required at `stage` (paused and retired
    initiatives keep production's requirements)."""
    order = {s: i for i, s in enumerate(STAGES[:3])}
    at = order.get(stage, 2)
    return order.get(required_from, 0) <= at


@dataclass
class GovernanceScore:
    required: int
    done: int
    missing: list[str]  # areas required now and not done

    @property
    def share(self) -> float | None:
        return self.done / self.required if self.required else None


def governance_score(items: list[dict], stage: str) -> GovernanceScore:
    """Required items done (not applicable counts as done) out of those required at `stage`.
    An area with nothing recorded is missing, required from its usual stage: as the checklist
    shows it (an initiative with no items has two to do as a proof of concept, not none)."""
    by_area = {i["area"]: i for i in items}
    required, missing = 0, []
    for area, usual in GOVERNANCE_DEFAULT_STAGE.items():
        item = by_area.get(area)
        if not governance_required(stage, item["required_from"] if item else usual):
            continue
        required += 1
        if item is None or item["status"] not in ("done", "not_applicable"):
            missing.append(area)
    return GovernanceScore(required, required - len(missing), missing)


@dataclass
class Reason:
    text: str
    screen: str  # a key of auth.SCREENS


@dataclass
class Gate:
    iteration: int | None
    reasons: list[Reason] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return self.iteration is not None and not self.reasons

    @property
    def sentence(self) -> str:
        if self.iteration is None:
            return "Not ready: there is no iteration to judge yet."
        if self.ready:
            return f"Iteration {self.iteration} is ready to go further: every condition of the gate holds."
        return "Not ready, because: " + "; ".join(r.text for r in self.reasons) + "."


def floors(ini: dict) -> tuple[float, float]:
    """The gate's (headroom, readiness) floors of an initiative: its own, else the stage's."""
    h, r = ini.get("min_headroom"), ini.get("min_readiness")
    return (
        HEADROOM_FLOOR if h is None else h,
        READINESS_FLOOR.get(ini["stage"], 3.0) if r is None else r,
    )


def gate(
    ev,
    number: int | None,
    rubric: Readiness,
    *,
    min_headroom: float | None = None,
    min_readiness: float | None = None,
) -> Gate:
    """The readiness gate of iteration `number` (None: the latest) of an initiative's evidence
    `ev`: criteria met, no open critical concerns, no firing critical alerts, headroom and rubric
    above the floors (given here, else the initiative's own, else the stage's)."""
    it = ev.iteration(number) if number is not None else ev.latest
    if it is None:
        return Gate(None, [Reason("there is no iteration to judge yet", "iterations")])
    own_h, own_r = floors(ev.initiative)
    floor_h = own_h if min_headroom is None else min_headroom
    floor_r = own_r if min_readiness is None else min_readiness
    g = Gate(it.number)
    if not it.criteria:
        g.reasons.append(Reason("the iteration has no criteria to judge it by", "iterations"))
    else:
        missed = [c for c in it.criteria if c["status"] == "not_met"]
        unknown = [c for c in it.criteria if c["status"] not in ("met", "not_met")]
        parts = []
        if missed:
            parts.append(f"{len(missed)} not met")
        if unknown:
            parts.append(f"{len(unknown)} without evidence")
        if parts:
            g.reasons.append(
                Reason(f"of {len(it.criteria)} criteria, " + " and ".join(parts), "iterations")
            )
    critical = ev.open_concerns.get("critical", 0)
    if critical:
        g.reasons.append(
            Reason(
                f"{critical} critical concern{'s' if critical != 1 else ''} "
                f"{'is' if critical == 1 else 'are'} open",
                "concerns",
            )
        )
    firing = [a for a in ev.firing if a.severity == "critical" and a.applies]
    if firing:
        g.reasons.append(
            Reason(
                f"{len(firing)} critical alert{'s' if len(firing) != 1 else ''} firing",
                "monitoring",
            )
        )
    if ev.headroom is None:
        g.reasons.append(
            Reason("capacity headroom is unknown (no load test or no peak traffic)", "scalability")
        )
    elif ev.headroom < floor_h:
        g.reasons.append(
            Reason(
                f"capacity headroom is {ev.headroom * 100:.0f}%, under the "
                f"{floor_h * 100:.0f}% required",
                "scalability",
            )
        )
    if rubric.score < floor_r:
        g.reasons.append(
            Reason(
                f"the readiness score is {rubric.score:g}, under the {floor_r:g} required "
                f"(weakest section: {SECTION_LABELS[rubric.weakest].lower()})",
                "governance",
            )
        )
    return g
