"""The demo portfolio: three initiatives at different stages that tell steering-meeting stories.

- Claims triage assistant (production): accuracy and handling time both improved, but peak
  traffic grows ~6% a week and capacity runs out within weeks.
- Churn early-warning (pilot): the model's AUC climbs every iteration while 90-day retention
  stays flat; the retention team cannot act on the scores.
- Contract clause extractor (proof of concept): legal feared slow extraction; the latest
  iteration's p95 latency clears the threshold of that concern.

Everything is generated from a fixed seed and dates relative to `today`, so a load on the same
day is identical, and `--reset` restores it exactly.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import Engine, delete, func, insert, select, update

from liftoff import db
from liftoff.access import audit
from liftoff.access.auth import SYSTEM, Actor, require
from liftoff.db.models import (
    AlertRule,
    Concern,
    ConcernStatusChange,
    Criterion,
    Feedback,
    GovernanceItem,
    ImportBatch,
    Initiative,
    Iteration,
    LoadTestStep,
    Metric,
    Observation,
    ReadinessItem,
    Stakeholder,
    StakeholderStance,
    TrafficPoint,
)
from liftoff.notify import outbox as notify

DEMO_KIND = "demo"
SPRINT_DAYS = 21

# key: (display name, category, unit, direction)
METRICS: dict[str, tuple[str, str, str, str]] = {
    "triage_accuracy": ("Triage accuracy", "model", "ratio", "higher"),
    "handling_time_min": ("Average claim handling time", "business_kpi", "min", "lower"),
    "claims_auto_routed": ("Claims routed without manual touch", "business_kpi", "ratio", "higher"),
    "churn_auc": ("Churn model AUC", "model", "ratio", "higher"),
    "churn_precision_top10": ("Precision in top 10% of scores", "model", "ratio", "higher"),
    "retention_rate_90d": ("90-day customer retention", "business_kpi", "ratio", "higher"),
    "clause_f1": ("Clause extraction F1", "model", "ratio", "higher"),
    "review_hours_saved": ("Legal review hours saved per week", "business_kpi", "h", "higher"),
    "p95_latency_ms": ("p95 latency", "system", "ms", "lower"),
    "error_rate": ("Error rate", "system", "ratio", "lower"),
    "cost_per_1k_requests": ("Cost per 1,000 requests", "system", "EUR", "lower"),
    "weekly_active_users": ("Weekly active users", "engagement", "users", "higher"),
    "suggestion_acceptance": ("Suggestions accepted by staff", "engagement", "ratio", "higher"),
    "missing_field_rate": ("Records with missing fields", "data_quality", "ratio", "lower"),
    "ocr_error_rate": ("OCR character error rate", "data_quality", "ratio", "lower"),
}


@dataclass(frozen=True)
class DemoInitiative:
    name: str
    goal: str
    owner: str
    stage: str
    slo_p95_ms: float
    max_error_rate: float
    primary_metric: str


CLAIMS = DemoInitiative(
    "Claims triage assistant",
    "Route incoming insurance claims to the right team automatically and cut average "
    "handling time by 20%.",
    "Maria Lopez (Head of Claims Operations)",
    "production",
    800.0,
    0.01,
    "triage_accuracy",
)
CHURN = DemoInitiative(
    "Churn early-warning",
    "Flag customers likely to cancel within 60 days so the retention team calls them first; "
    "lift 90-day retention by 2 points.",
    "Tom Becker (Director of Customer Success)",
    "pilot",
    300.0,
    0.005,
    "churn_auc",
)
CONTRACTS = DemoInitiative(
    "Contract clause extractor",
    "Extract liability, termination and renewal clauses from supplier contracts to halve "
    "legal review time.",
    "Aisha Rahman (Legal Operations Lead)",
    "poc",
    1500.0,
    0.02,
    "clause_f1",
)
DEMO_INITIATIVES = (CLAIMS, CHURN, CONTRACTS)
DEMO_NAMES = tuple(i.name for i in DEMO_INITIATIVES)


class _Builder:
    """Collects the rows of one initiative, then writes them in one transaction."""

    def __init__(self, spec: DemoInitiative, today: date, rng: random.Random, n_iterations: int):
        self.spec = spec
        self.today = today
        self.rng = rng
        self.n = n_iterations
        # The latest iteration is the one under way: it ends a few days from today.
        last_end = today + timedelta(days=4)
        self.ends = [
            last_end - timedelta(days=SPRINT_DAYS * (n_iterations - k))
            for k in range(1, n_iterations + 1)
        ]
        self.starts = [e - timedelta(days=SPRINT_DAYS - 1) for e in self.ends]
        self.iterations: list[dict] = []
        self.observations: list[dict] = []
        self.criteria: list[dict] = []
        self.steps: list[dict] = []
        self.traffic: list[dict] = []
        self.feedback: list[dict] = []
        self.concerns: list[dict] = []
        self.stakeholders: list[tuple[str, str, int, list[tuple[str, str | None]]]] = []
        self.governance: list[dict] = []
        self.alerts: list[dict] = []
        self.rubric: list[dict] = []

    def at(self, k: int, day_offset: int = 0, hour: int = 17) -> datetime:
        """A timestamp inside iteration k (1-based), never after today."""
        day = self.starts[k - 1] + timedelta(days=day_offset)
        if day >= self.today:
            return datetime.combine(self.today, time(6, 0))
        return datetime.combine(day, time(hour, 0))

    def closing(self, k: int) -> datetime:
        """When iteration k's figures were recorded: its end, or today for the current one."""
        if self.ends[k - 1] >= self.today:
            return datetime.combine(self.today, time(7, 0))
        return datetime.combine(self.ends[k - 1], time(17, 0))

    def iteration(
        self,
        k: int,
        label: str,
        hypothesis: str,
        decision: str = "pending",
        rationale: str | None = None,
        decided_by: str | None = None,
    ) -> None:
        decided_at = (
            datetime.combine(self.ends[k - 1] + timedelta(days=1), time(10, 30))
            if decision != "pending"
            else None
        )
        self.iterations.append(
            dict(
                number=k,
                label=label,
                start_date=self.starts[k - 1],
                end_date=self.ends[k - 1],
                hypothesis=hypothesis,
                decision=decision,
                rationale=rationale,
                decided_by=decided_by if decision != "pending" else None,
                decided_at=decided_at,
            )
        )

    def observe(
        self,
        k: int,
        metric: str,
        value: float,
        *,
        at: datetime | None = None,
        segment: str | None = None,
        candidate: str | None = None,
    ) -> None:
        self.observations.append(
            dict(
                k=k,
                metric=metric,
                value=round(value, 6),
                recorded_at=at or self.closing(k),
                segment=segment,
                candidate=candidate,
            )
        )

    def series(self, metric: str, values: list[float], noise: float = 0.0) -> None:
        """One headline value per iteration, plus a mid-iteration reading the closing one replaces."""
        for k, v in enumerate(values, start=1):
            if v is None:
                continue
            mid = v * (1 + self.rng.uniform(-noise, noise) * 2) if noise else v
            self.observe(k, metric, mid, at=self.at(k, 10, 12))
            self.observe(k, metric, v * (1 + self.rng.uniform(-noise, noise)) if noise else v)

    def criterion(
        self,
        k: int,
        kind: str,
        description: str,
        metric: str | None = None,
        comparator: str = ">=",
        target: float | None = None,
        manual: str | None = None,
        note: str | None = None,
    ) -> None:
        self.criteria.append(
            dict(
                k=k,
                kind=kind,
                description=description,
                metric=metric,
                comparator=comparator,
                target=target,
                manual_status=manual,
                evidence_note=note,
            )
        )

    def load_test(self, k: int, knee_rps: float, base_ms: float, users: list[int]) -> None:
        """Steps of a ramped load test whose latency bends upward near `knee_rps`."""
        per_user = knee_rps / (users[len(users) // 2] * 0.9)
        for u in users:
            offered = u * per_user
            # Throughput saturates smoothly at the knee; latency follows a queueing curve.
            thr = knee_rps * 1.08 * (1 - math.exp(-offered / (knee_rps * 1.08)))
            rho = min(thr / (knee_rps * 1.1), 0.985)
            p95 = base_ms * (1 + 0.6 * rho / (1 - rho)) * (1 + self.rng.uniform(-0.03, 0.03))
            fail = 0.0 if rho < 0.9 else round((rho - 0.9) * 0.25, 4)
            self.steps.append(
                dict(
                    k=k,
                    users=u,
                    throughput_rps=round(thr, 1),
                    p50_ms=round(p95 * 0.45, 1),
                    p95_ms=round(p95, 1),
                    p99_ms=round(p95 * 1.6, 1),
                    failure_ratio=fail,
                    source_file=f"loadtest_iteration_{k}_stats_history.csv",
                )
            )

    def weekly_traffic(
        self, weeks: int, start_rps: float, weekly_growth: float, noise: float, linear: bool = False
    ) -> None:
        last = self.today - timedelta(days=self.today.weekday() + 1)  # last Sunday
        for w in range(weeks):
            day = last - timedelta(weeks=weeks - 1 - w)
            if linear:
                v = start_rps + weekly_growth * w
            else:
                v = start_rps * (1 + weekly_growth) ** w
            v *= 1 + self.rng.uniform(-noise, noise)
            self.traffic.append(
                dict(observed_at=datetime.combine(day, time(12, 0)), peak_rps=round(v, 1))
            )

    def comment(
        self,
        k: int,
        day: int,
        source: str,
        rating: int | None,
        text: str,
        theme: str,
        status: str = "new",
        action: str | None = None,
    ) -> None:
        self.feedback.append(
            dict(
                k=k,
                received_at=self.at(k, day, 9 + (len(self.feedback) % 8)),
                source=source,
                rating=rating,
                text=text,
                theme=theme,
                tags=theme,
                status=status,
                action_taken=action,
            )
        )

    def concern(
        self,
        key: str,
        title: str,
        description: str,
        raised_by: str,
        group: str,
        category: str,
        severity: str,
        owner: str,
        raised_k: int,
        history: list[tuple[int, str, str]],
        due_days: int | None = None,
        resolution: str | None = None,
        metric: str | None = None,
        comparator: str | None = None,
        threshold: float | None = None,
    ) -> None:
        """history: (iteration, new status, note) after the concern was opened in raised_k."""
        raised = self.starts[raised_k - 1] + timedelta(days=3)
        status = history[-1][1] if history else "open"
        resolved_at = None
        changes = [
            (datetime.combine(raised, time(9, 0)), None, "open", "Raised in the steering meeting.")
        ]
        for k, to, note in history:
            when = self.at(k, 12, 15)
            changes.append((when, changes[-1][2], to, note))
            if to in ("resolved", "accepted"):
                resolved_at = when.date()
        self.concerns.append(
            dict(
                external_key=key,
                title=title,
                description=description,
                raised_by=raised_by,
                stakeholder_group=group,
                failure_category=category,
                severity=severity,
                status=status,
                owner=owner,
                raised_at=raised,
                due=raised + timedelta(days=due_days) if due_days else None,
                resolved_at=resolved_at,
                resolution=resolution,
                metric=metric,
                comparator=comparator,
                threshold=threshold,
                raised_k=raised_k,
                changes=changes,
            )
        )

    def stakeholder(
        self, name: str, group: str, influence: int, stances: list[tuple[str, str | None]]
    ) -> None:
        self.stakeholders.append((name, group, influence, stances))

    def governance_item(
        self, area: str, required_from: str, status: str, evidence: str | None, owner: str
    ) -> None:
        self.governance.append(
            dict(
                area=area,
                required_from=required_from,
                status=status,
                evidence=evidence,
                owner=owner,
            )
        )

    def readiness(self, scores: dict[str, float], notes: dict[str, str] | None = None) -> None:
        """Rubric items scored by the team (0, 0.5 or 1); the rest stay unscored."""
        for item, score in scores.items():
            self.rubric.append(dict(item=item, score=score, note=(notes or {}).get(item)))

    def alert(
        self, metric: str, comparator: str, threshold: float, severity: str, stages: str
    ) -> None:
        self.alerts.append(
            dict(
                metric=metric,
                comparator=comparator,
                threshold=threshold,
                severity=severity,
                stages=stages,
            )
        )


# --------------------------------------------------------------------------- the stories


def _claims(today: date, rng: random.Random) -> _Builder:
    b = _Builder(CLAIMS, today, rng, 8)
    dec = "Steering committee (M. Lopez)"
    b.iteration(
        1,
        "Baseline classifier",
        "A fine-tuned text classifier can route claims to 6 teams with at least 75% accuracy.",
        "go",
        "74% accuracy on historic claims beats the 61% of the rules engine; worth a second sprint.",
        dec,
    )
    b.iteration(
        2,
        "Add claim attachments",
        "Reading attached adjuster notes lifts accuracy above 80%.",
        "go",
        "Accuracy 81%; adjusters in the shadow test agreed with 4 of 5 suggestions.",
        dec,
    )
    b.iteration(
        3,
        "Shadow pilot, 2 teams",
        "Suggestions shown to 2 teams cut handling time without more re-routing.",
        "extend",
        "Handling time fell 3 minutes but latency at peak broke the SLO; extend to fix serving.",
        dec,
    )
    b.iteration(
        4,
        "Serving on GPU pool",
        "Moving inference to a shared GPU pool keeps p95 under 800 ms at pilot load.",
        "go",
        "p95 540 ms at 60 req/s; capacity now covers the pilot with room to spare.",
        dec,
    )
    b.iteration(
        5,
        "Pilot, all motor claims",
        "All motor claims routed by the assistant with under 1% errors.",
        "go",
        "Handling time down to 34 minutes; error rate 0.4%; governance essentials in place.",
        dec,
    )
    b.iteration(
        6,
        "Production launch",
        "Production for motor and property claims with on-call support.",
        "go",
        "Launched; runbook and monitoring signed off. Rollback plan still in progress.",
        dec,
    )
    b.iteration(
        7,
        "Household claims",
        "Extending to household claims keeps accuracy above 88%.",
        "go",
        "Accuracy held at 90%; handling time 31 minutes. Traffic grows faster than planned.",
        dec,
    )
    b.iteration(
        8,
        "Peak-season readiness",
        "Capacity covers winter storm peaks (2x normal traffic) without breaking the SLO.",
    )

    acc = [0.742, 0.812, 0.836, 0.851, 0.874, 0.889, 0.902, 0.907]
    b.series("triage_accuracy", acc, noise=0.004)
    b.series("handling_time_min", [42.0, 41.2, 38.9, 37.5, 34.1, 32.6, 31.2, 30.8], noise=0.01)
    b.series("claims_auto_routed", [None, None, 0.21, 0.33, 0.48, 0.61, 0.66, 0.68], noise=0.01)
    b.series("p95_latency_ms", [1450, 1390, 1120, 540, 590, 610, 655, 735], noise=0.02)
    b.series("error_rate", [0.021, 0.017, 0.012, 0.006, 0.004, 0.004, 0.005, 0.007], noise=0.03)
    b.series("cost_per_1k_requests", [None, None, 2.9, 1.85, 1.7, 1.55, 1.48, 1.46], noise=0.01)
    b.series("weekly_active_users", [None, None, 18, 26, 120, 210, 264, 281])
    b.series("suggestion_acceptance", [None, None, 0.58, 0.63, 0.71, 0.76, 0.79, 0.8], noise=0.01)
    b.series(
        "missing_field_rate", [0.092, 0.088, 0.071, 0.066, 0.051, 0.046, 0.044, 0.043], noise=0.02
    )
    # Accuracy by claim line, next to handling time by line, in the latest two iterations.
    for k in (7, 8):
        for seg, da, dh in (
            ("Motor", 0.018, -1.5),
            ("Property", -0.006, 0.9),
            ("Household", -0.031, 2.8),
        ):
            b.observe(k, "triage_accuracy", acc[k - 1] + da, segment=seg)
            b.observe(k, "handling_time_min", [31.2, 30.8][k - 7] + dh, segment=seg)

    for k in range(1, 9):
        target = 0.75 if k <= 2 else (0.85 if k <= 5 else 0.88)
        b.criterion(
            k,
            "innovation",
            f"Route claims with at least {target:.0%} accuracy",
            "triage_accuracy",
            ">=",
            target,
        )
        if k >= 3:
            b.criterion(
                k,
                "innovation",
                "Average handling time at most 35 minutes",
                "handling_time_min",
                "<=",
                35.0,
            )
            b.criterion(
                k, "production", "p95 latency within the 800 ms SLO", "p95_latency_ms", "<=", 800.0
            )
            b.criterion(k, "production", "Error rate at most 1%", "error_rate", "<=", 0.01)
        if k >= 5:
            b.criterion(
                k,
                "production",
                "At least 60% of suggestions accepted",
                "suggestion_acceptance",
                ">=",
                0.6,
            )
    b.criterion(
        2,
        "learning",
        "Learn whether adjusters trust the suggestions",
        manual="met",
        note="Shadow test with 12 adjusters: 4 of 5 suggestions accepted; trust grows when the reason is shown.",
    )
    b.criterion(
        8,
        "learning",
        "Learn how storms change claim mix and volume",
        manual=None,
        note="Waiting for the first storm weekend of the season.",
    )

    for k, knee, base in (
        (3, 40, 520),
        (4, 80, 260),
        (5, 92, 250),
        (6, 104, 250),
        (7, 113, 255),
        (8, 120, 260),
    ):
        b.load_test(k, knee, base, [10, 25, 50, 75, 100, 125, 150, 175, 200, 250])
    b.weekly_traffic(26, 21.0, 0.058, 0.035)

    fb = [
        (
            3,
            2,
            "end_user",
            4,
            "Suggestions are mostly right for motor claims, saves me the lookup.",
            "accuracy",
            "triaged",
        ),
        (
            3,
            5,
            "end_user",
            2,
            "It keeps sending glass damage to the property team.",
            "accuracy",
            "actioned",
            "Added glass-damage examples to training data in iteration 4.",
        ),
        (
            3,
            9,
            "end_user",
            2,
            "Takes forever to load on Monday mornings, I stopped waiting for it.",
            "speed",
            "actioned",
            "Moved inference to the GPU pool (iteration 4).",
        ),
        (
            4,
            3,
            "end_user",
            4,
            "Much faster now. The suggestion is there before I finish reading.",
            "speed",
            "triaged",
        ),
        (
            4,
            8,
            "support",
            3,
            "Two tickets about the suggestion panel covering the notes field.",
            "usability",
            "actioned",
            "Panel made collapsible.",
        ),
        (
            4,
            12,
            "end_user",
            3,
            "I'd like to see why it picked the team.",
            "explainability",
            "actioned",
            "Top three reasons shown under each suggestion from iteration 5.",
        ),
        (
            5,
            2,
            "end_user",
            5,
            "The reasons under the suggestion are great, I trust it more now.",
            "explainability",
            "triaged",
        ),
        (
            5,
            6,
            "stakeholder",
            4,
            "Handling time is trending the right way. Keep the reports coming.",
            "business value",
            "triaged",
        ),
        (
            5,
            10,
            "end_user",
            2,
            "Wrong team for claims that mention both car and house.",
            "accuracy",
            "actioned",
            "Multi-label routing for mixed claims in iteration 6.",
        ),
        (5, 15, "end_user", 4, "Routing is spot on for windscreen claims.", "accuracy", "triaged"),
        (
            6,
            1,
            "support",
            3,
            "Night shift asks who to call when it is down.",
            "operations",
            "actioned",
            "On-call rota published in the runbook.",
        ),
        (6, 4, "end_user", 5, "Mixed claims finally go to the right place.", "accuracy", "triaged"),
        (
            6,
            9,
            "end_user",
            4,
            "Good, but the confidence score confuses new starters.",
            "usability",
            "wont_fix",
            "Kept: confidence is needed by team leads; covered in onboarding instead.",
        ),
        (
            6,
            13,
            "stakeholder",
            3,
            "What happens in storm season when volumes double?",
            "capacity",
            "triaged",
        ),
        (7, 2, "end_user", 4, "Household claims work well already.", "accuracy", "new"),
        (7, 6, "end_user", 3, "Slower again in the afternoons this week.", "speed", "triaged"),
        (
            7,
            10,
            "support",
            2,
            "Timeouts reported by three teams at 14:00 on Tuesday.",
            "speed",
            "triaged",
        ),
        (
            7,
            14,
            "end_user",
            5,
            "Can't imagine going back to manual routing.",
            "business value",
            "new",
        ),
        (8, 1, "end_user", 3, "Suggestion took 3 seconds this morning.", "speed", "new"),
        (
            8,
            3,
            "stakeholder",
            3,
            "Need proof we survive the storm peak before the winter.",
            "capacity",
            "new",
        ),
        (8, 5, "end_user", 4, "Flood claims get routed correctly now.", "accuracy", "new"),
    ]
    for row in fb:
        b.comment(*row)
    for k in (3, 4, 5, 6, 7, 8):
        for j in range(4):
            r = rng.choice([3, 4, 4, 5, 5]) if k >= 5 else rng.choice([2, 3, 3, 4, 4])
            b.comment(
                k,
                2 + j * 4,
                "end_user",
                r,
                rng.choice(
                    [
                        "Works for most of my claims.",
                        "Saves a few minutes per claim.",
                        "Fine, though I still double-check commercial claims.",
                        "Helpful on busy days.",
                        "Occasionally wrong for travel claims.",
                        "Would like keyboard shortcuts to accept.",
                    ]
                ),
                "general",
                "triaged" if k < 8 else "new",
            )

    b.concern(
        "CLM-1",
        "Peak season may exceed capacity",
        "Winter storms roughly double claim volume for two weeks; current capacity may not cover it.",
        "Jonas Weber",
        "IT operations",
        "scalability",
        "high",
        "Priya Nair",
        6,
        [(7, "mitigating", "Load test at 2x planned for iteration 8.")],
        due_days=70,
    )
    b.concern(
        "CLM-2",
        "No tested rollback to the rules engine",
        "If the model misroutes at scale we need to switch back within minutes.",
        "Elena Rossi",
        "Risk & compliance",
        "operations",
        "critical",
        "Priya Nair",
        5,
        [(6, "mitigating", "Rollback plan drafted; drill not yet run.")],
        due_days=42,
    )
    b.concern(
        "CLM-3",
        "Success criteria not agreed with Finance",
        "Finance wants savings in euros, not minutes.",
        "Karl Schmidt",
        "Finance",
        "unclear_criteria",
        "medium",
        "Maria Lopez",
        2,
        [
            (
                3,
                "resolved",
                "Agreed: handling time and auto-routed share, converted at €0.70 per minute.",
            )
        ],
        resolution="Criteria signed off by Finance in iteration 3.",
    )
    b.concern(
        "CLM-4",
        "Historic claims lack damage codes",
        "12% of historic claims have no damage code, hurting training.",
        "Lea Fischer",
        "Data team",
        "data_gaps",
        "high",
        "Lea Fischer",
        1,
        [
            (2, "mitigating", "Backfill from adjuster notes."),
            (5, "resolved", "Missing fields down to 5%."),
        ],
        resolution="Backfilled from notes; missing-field rate below 5%.",
        metric="missing_field_rate",
        comparator="<=",
        threshold=0.05,
    )
    b.concern(
        "CLM-5",
        "Adjusters worry about being monitored",
        "Works council asked whether acceptance rates are used in performance reviews.",
        "Works council",
        "Employees",
        "misalignment",
        "medium",
        "Maria Lopez",
        4,
        [(5, "accepted", "Written assurance given; acceptance tracked per team only.")],
        resolution="Accepted with a written assurance.",
    )
    b.concern(
        "CLM-6",
        "Latency creeping up with traffic",
        "p95 rose from 590 to 735 ms over three iterations.",
        "Jonas Weber",
        "IT operations",
        "scalability",
        "medium",
        "Priya Nair",
        7,
        [],
        due_days=35,
        metric="p95_latency_ms",
        comparator="<=",
        threshold=600,
    )

    b.stakeholder(
        "Maria Lopez",
        "Claims operations",
        5,
        [("supporter", None), ("supporter", None), ("advocate", "Presented results to the board.")]
        + [("advocate", None)] * 5,
    )
    b.stakeholder(
        "Karl Schmidt",
        "Finance",
        4,
        [
            ("skeptic", "Wants euros, not minutes."),
            ("skeptic", None),
            ("neutral", "Criteria agreed."),
            ("neutral", None),
            ("supporter", "Savings visible in Q2 numbers."),
            ("supporter", None),
            ("supporter", None),
            ("supporter", None),
        ],
    )
    b.stakeholder(
        "Elena Rossi",
        "Risk & compliance",
        4,
        [
            ("neutral", None),
            ("neutral", None),
            ("skeptic", "No rollback plan."),
            ("skeptic", None),
            ("skeptic", None),
            ("neutral", "Rollback drafted."),
            ("neutral", None),
            ("neutral", "Wants the drill before storm season."),
        ],
    )
    b.stakeholder(
        "Jonas Weber",
        "IT operations",
        3,
        [
            ("neutral", None),
            ("neutral", None),
            ("skeptic", "Latency at peak."),
            ("supporter", "GPU pool works."),
            ("supporter", None),
            ("supporter", None),
            ("neutral", "Traffic growth worries him."),
            ("skeptic", "Needs capacity plan for storms."),
        ],
    )
    b.stakeholder(
        "Works council",
        "Employees",
        2,
        [("neutral", None)] * 3
        + [("skeptic", "Monitoring fears.")]
        + [("neutral", "Assurance given.")] * 4,
    )

    for area, req, status, ev in (
        ("data_sources", "poc", "done", "Claims warehouse tables listed in the data contract v2."),
        (
            "pii_consent",
            "poc",
            "done",
            "DPIA approved; names and policy numbers masked before training.",
        ),
        ("access_control", "pilot", "done", "Role-based access via the claims IAM groups."),
        ("retention", "pilot", "done", "Inputs kept 90 days, predictions 2 years."),
        ("monitoring", "pilot", "done", "Latency, errors and accuracy dashboards with paging."),
        ("lineage", "production", "done", "Training runs tracked with data snapshot hashes."),
        ("model_card", "production", "done", "Model card v3 published on the wiki."),
        ("fairness", "production", "in_progress", "Checking routing parity across regions."),
        ("runbook_oncall", "production", "done", "Runbook and on-call rota since launch."),
        ("rollback_plan", "production", "in_progress", "Drafted; drill planned for iteration 8."),
    ):
        b.governance_item(area, req, status, ev, "Priya Nair")

    b.alert("p95_latency_ms", ">", 700, "high", "poc,pilot,production")
    b.alert("error_rate", ">", 0.01, "critical", "poc,pilot,production")
    b.alert("triage_accuracy", "<", 0.88, "high", "pilot,production")
    b.alert("suggestion_acceptance", "<", 0.6, "medium", "production")
    b.alert("weekly_active_users", "<", 200, "medium", "production")
    b.readiness(
        {
            "data_schema": 1,
            "data_features_useful": 0.5,
            "data_feature_cost": 0.5,
            "data_meta_requirements": 1,
            "data_privacy": 1,
            "data_new_features": 0.5,
            "data_feature_code_tested": 1,
            "model_spec_reviewed": 1,
            "model_offline_online": 0.5,
            "model_hyperparameters": 0.5,
            "model_staleness": 0.5,
            "model_simpler_baseline": 1,
            "model_slices": 0.5,
            "model_inclusion": 0.5,
            "infra_reproducible": 1,
            "infra_spec_unit_tests": 1,
            "infra_pipeline_tests": 0.5,
            "infra_validated_before_serving": 1,
            "infra_debuggable": 0.5,
            "infra_canary": 0.5,
            "infra_rollback": 1,
            "mon_dependencies": 0.5,
            "mon_invariants": 0.5,
            "mon_skew": 0,
            "mon_staleness": 0.5,
            "mon_numerics": 1,
        },
        {"mon_skew": "Feature logging at serving time is planned for peak season."},
    )
    return b


def _churn(today: date, rng: random.Random) -> _Builder:
    b = _Builder(CHURN, today, rng, 6)
    dec = "Customer success steering (T. Becker)"
    b.iteration(
        1,
        "Baseline on billing data",
        "Billing history alone predicts 60-day churn with AUC above 0.70.",
        "go",
        "AUC 0.69 with billing data only; promising enough to add usage data.",
        dec,
    )
    b.iteration(
        2,
        "Add product usage",
        "Product-usage features lift AUC above 0.75.",
        "extend",
        "AUC 0.74; usage data for partner customers is missing. Extend to close the gap.",
        dec,
    )
    b.iteration(
        3,
        "Pilot with one retention team",
        "Calling the top 10% scored customers lifts their 90-day retention.",
        "go",
        "AUC 0.79; the team called 480 customers. Retention unchanged so far, too early to tell.",
        dec,
    )
    b.iteration(
        4,
        "Weekly instead of monthly scores",
        "Fresher scores give the team time to act before customers leave.",
        "pivot",
        "Monthly scores came too late. Pivot to weekly scoring and add reason codes.",
        dec,
    )
    b.iteration(
        5,
        "Reason codes",
        "Showing why a customer is at risk lets agents tailor the offer.",
        "go",
        "AUC 0.83, but retention still flat at 87%. Go for one more iteration to test offers.",
        dec,
    )
    b.iteration(
        6, "Targeted offers", "Offers matched to the reason code lift 90-day retention by 2 points."
    )

    runs = {  # candidates per iteration: (run name, AUC, precision)
        1: [("logreg-billing", 0.688, 0.31)],
        2: [("xgb-usage-a", 0.741, 0.36), ("xgb-usage-b", 0.733, 0.35)],
        3: [("xgb-tuned", 0.788, 0.41), ("lgbm-v1", 0.781, 0.42), ("xgb-deep", 0.772, 0.40)],
        4: [("lgbm-weekly", 0.806, 0.44), ("xgb-weekly", 0.801, 0.45)],
        5: [("lgbm-reasons", 0.829, 0.47), ("lgbm-reasons-cal", 0.826, 0.48)],
        6: [
            ("lgbm-offers", 0.842, 0.49),
            ("lgbm-offers-lite", 0.835, 0.49),
            ("catboost-offers", 0.838, 0.50),
        ],
    }
    for k, cands in runs.items():
        for j, (run, auc, prec) in enumerate(cands):
            at = b.at(k, 6 + j, 11)
            b.observe(k, "churn_auc", auc, at=at, candidate=run)
            b.observe(k, "churn_precision_top10", prec, at=at, candidate=run)
            b.observe(
                k, "p95_latency_ms", 180 + 25 * j + rng.uniform(-10, 10), at=at, candidate=run
            )
    retention = [0.871, 0.872, 0.870, 0.873, 0.872, 0.874]
    b.series("retention_rate_90d", retention, noise=0.0005)
    b.series("error_rate", [0.004, 0.003, 0.003, 0.002, 0.002, 0.002], noise=0.05)
    b.series("weekly_active_users", [None, None, 9, 14, 22, 24])
    b.series("missing_field_rate", [0.18, 0.16, 0.09, 0.085, 0.08, 0.078], noise=0.02)
    for k in (5, 6):
        for seg, da, dr in (
            ("EU", 0.012, 0.002),
            ("North America", -0.004, -0.001),
            ("APAC", -0.027, -0.003),
        ):
            b.observe(k, "churn_auc", runs[k][0][1] + da, segment=seg, candidate=runs[k][0][0])
            b.observe(k, "retention_rate_90d", retention[k - 1] + dr, segment=seg)

    for k in range(1, 7):
        target = 0.7 if k == 1 else (0.75 if k <= 3 else 0.8)
        b.criterion(
            k, "innovation", f"Churn model AUC at least {target:.2f}", "churn_auc", ">=", target
        )
        if k >= 3:
            b.criterion(
                k, "innovation", "90-day retention at least 89%", "retention_rate_90d", ">=", 0.89
            )
            b.criterion(
                k, "production", "Scoring p95 latency within 300 ms", "p95_latency_ms", "<=", 300.0
            )
        if k >= 4:
            b.criterion(k, "production", "Error rate at most 0.5%", "error_rate", "<=", 0.005)
    b.criterion(
        3,
        "learning",
        "Find out whether agents can act on a score alone",
        manual="not_met",
        note="Agents said a score without a reason does not tell them what to offer.",
    )
    b.criterion(
        5,
        "learning",
        "Learn which reasons agents use in calls",
        manual="met",
        note="Price and support-ticket reasons used in 70% of calls.",
    )
    b.criterion(
        6,
        "learning",
        "Learn whether matched offers change the outcome",
        manual=None,
        note="Offers started two weeks ago; retention needs 90 days to show.",
    )

    for k, knee, base in ((3, 38, 95), (5, 55, 90), (6, 62, 88)):
        b.load_test(k, knee, base, [5, 10, 20, 40, 60, 80, 120, 160])
    b.weekly_traffic(20, 7.5, 0.35, 0.05, linear=True)

    fb = [
        (
            3,
            3,
            "end_user",
            3,
            "The list is long and I don't know why a customer is on it.",
            "explainability",
            "actioned",
            "Reason codes added in iteration 5.",
        ),
        (
            3,
            8,
            "end_user",
            2,
            "By the time I call, half of them have already cancelled.",
            "timeliness",
            "actioned",
            "Switched to weekly scores in iteration 4.",
        ),
        (
            3,
            12,
            "stakeholder",
            3,
            "Retention numbers have not moved yet.",
            "business value",
            "triaged",
        ),
        (
            4,
            4,
            "end_user",
            3,
            "Weekly list is better, fewer already-gone customers.",
            "timeliness",
            "triaged",
        ),
        (
            4,
            9,
            "support",
            3,
            "Agents ask for the customer's open tickets next to the score.",
            "usability",
            "actioned",
            "Ticket count shown beside each customer.",
        ),
        (
            5,
            2,
            "end_user",
            4,
            "Reason codes help me open the conversation.",
            "explainability",
            "triaged",
        ),
        (
            5,
            7,
            "end_user",
            2,
            "Price is always the reason, but I can't offer discounts.",
            "offers",
            "actioned",
            "Offer catalogue agreed with pricing for iteration 6.",
        ),
        (
            5,
            11,
            "stakeholder",
            2,
            "AUC keeps going up but I see no change in retention.",
            "business value",
            "triaged",
        ),
        (
            6,
            1,
            "end_user",
            4,
            "Now I can actually offer something that matches the reason.",
            "offers",
            "new",
        ),
        (
            6,
            4,
            "stakeholder",
            3,
            "Let's see the 90-day numbers before deciding on rollout.",
            "business value",
            "new",
        ),
        (6, 6, "end_user", 3, "APAC customers often flagged wrongly.", "accuracy", "new"),
    ]
    for row in fb:
        b.comment(*row)

    b.concern(
        "CHN-1",
        "Retention team cannot act on the scores",
        "A score without reasons or offers does not change what agents do.",
        "Sofia Martins",
        "Retention team",
        "misalignment",
        "high",
        "Tom Becker",
        3,
        [(5, "mitigating", "Reason codes and an offer catalogue in iteration 6.")],
        due_days=60,
    )
    b.concern(
        "CHN-2",
        "Partner customers missing from training data",
        "Customers acquired through partners have no usage data.",
        "Lea Fischer",
        "Data team",
        "data_gaps",
        "medium",
        "Lea Fischer",
        2,
        [(3, "mitigating", "Partner usage feed requested.")],
        due_days=90,
    )
    b.concern(
        "CHN-3",
        "No agreed definition of churned",
        "Billing and CRM disagree on when a customer has churned.",
        "Karl Schmidt",
        "Finance",
        "unclear_criteria",
        "medium",
        "Tom Becker",
        1,
        [(2, "resolved", "Churned = contract cancelled or unpaid for 60 days.")],
        resolution="Definition signed off by Finance and CRM owners.",
    )
    b.concern(
        "CHN-4",
        "Model gains not reaching the business KPI",
        "Five iterations of better AUC, retention flat at 87%.",
        "Karl Schmidt",
        "Finance",
        "unclear_criteria",
        "critical",
        "Tom Becker",
        5,
        [],
        due_days=30,
    )
    b.concern(
        "CHN-5",
        "Who runs weekly scoring after the pilot?",
        "The data science team cannot own a weekly production job.",
        "Jonas Weber",
        "IT operations",
        "operations",
        "medium",
        "Tom Becker",
        4,
        [],
        due_days=120,
    )
    b.concern(
        "CHN-6",
        "Call volume overloads the team",
        "Top 10% is 2,000 customers a week.",
        "Sofia Martins",
        "Retention team",
        "operations",
        "low",
        "Sofia Martins",
        4,
        [(5, "accepted", "Team calls the top 500 by expected value.")],
        resolution="Accepted: list capped at 500 a week.",
    )

    b.stakeholder("Tom Becker", "Customer success", 5, [("advocate", None)] * 6)
    b.stakeholder(
        "Sofia Martins",
        "Retention team",
        4,
        [
            ("neutral", None),
            ("neutral", None),
            ("skeptic", "Scores without reasons."),
            ("skeptic", None),
            ("neutral", "Reason codes help."),
            ("supporter", "Offers make it usable."),
        ],
    )
    b.stakeholder(
        "Karl Schmidt",
        "Finance",
        5,
        [
            ("neutral", None),
            ("neutral", None),
            ("neutral", None),
            ("skeptic", "No retention effect."),
            ("skeptic", None),
            ("blocker", "Will not fund rollout without KPI movement."),
        ],
    )
    b.stakeholder("Lea Fischer", "Data team", 3, [("supporter", None)] * 6)
    b.stakeholder(
        "Jonas Weber",
        "IT operations",
        3,
        [("neutral", None)] * 4 + [("skeptic", "Who owns the weekly job?")] * 2,
    )

    for area, req, status, ev in (
        ("data_sources", "poc", "done", "Billing, CRM and usage tables in the data contract."),
        ("pii_consent", "poc", "done", "Legitimate-interest assessment approved by the DPO."),
        ("access_control", "pilot", "done", "Scores visible to the retention team only."),
        ("retention", "pilot", "in_progress", "Retention period for scores under review."),
        ("monitoring", "pilot", "in_progress", "AUC tracked; no alerting on drift yet."),
        ("lineage", "production", "missing", None),
        ("model_card", "production", "in_progress", "Draft model card."),
        ("fairness", "production", "missing", None),
        ("runbook_oncall", "production", "missing", None),
        ("rollback_plan", "production", "missing", None),
    ):
        b.governance_item(area, req, status, ev, "Lea Fischer")

    b.alert("churn_auc", "<", 0.8, "high", "pilot,production")
    b.alert("retention_rate_90d", "<", 0.89, "high", "pilot,production")
    b.alert("p95_latency_ms", ">", 300, "medium", "poc,pilot,production")
    b.alert("error_rate", ">", 0.005, "high", "poc,pilot,production")
    b.readiness(
        {
            "data_schema": 1,
            "data_features_useful": 0.5,
            "data_feature_cost": 0.5,
            "data_meta_requirements": 0.5,
            "data_privacy": 1,
            "data_new_features": 0.5,
            "model_spec_reviewed": 1,
            "model_offline_online": 0,
            "model_hyperparameters": 1,
            "model_staleness": 0.5,
            "model_simpler_baseline": 0.5,
            "model_slices": 0.5,
            "infra_reproducible": 0.5,
            "infra_validated_before_serving": 0.5,
            "infra_rollback": 0.5,
            "mon_invariants": 0.5,
            "mon_numerics": 0.5,
        },
        {
            "model_offline_online": "AUC rises while retention stays flat: offline and online disagree.",
            "infra_rollback": "Scores are a nightly batch; rolling back is a manual re-run.",
        },
    )
    return b


def _contracts(today: date, rng: random.Random) -> _Builder:
    b = _Builder(CONTRACTS, today, rng, 5)
    dec = "Legal operations board (A. Rahman)"
    b.iteration(
        1,
        "Off-the-shelf extractor",
        "A general-purpose extraction model finds termination clauses with F1 above 0.6.",
        "go",
        "F1 0.58 on 200 contracts; good enough to try a domain-tuned model.",
        dec,
    )
    b.iteration(
        2,
        "Domain-tuned model",
        "Tuning on 1,500 labelled clauses lifts F1 above 0.7.",
        "extend",
        "F1 0.71, but scanned contracts fail and extraction takes 3 seconds.",
        dec,
    )
    b.iteration(
        3,
        "OCR clean-up",
        "Better OCR makes scanned contracts as good as digital ones.",
        "go",
        "OCR errors down from 9% to 2.5%; F1 0.77.",
        dec,
    )
    b.iteration(
        4,
        "Faster inference",
        "A distilled model keeps F1 while cutting p95 below 1.5 s.",
        "go",
        "p95 1.6 s: close to the target; F1 0.8.",
        dec,
    )
    b.iteration(
        5, "Lawyer review trial", "Lawyers reviewing with extracted clauses save 10 hours a week."
    )

    b.series("clause_f1", [0.58, 0.71, 0.77, 0.80, 0.83], noise=0.005)
    b.series("review_hours_saved", [None, 2.0, 4.5, 7.5, 11.5])
    b.series("p95_latency_ms", [3400, 2950, 2400, 1620, 1150], noise=0.01)
    b.series("error_rate", [0.04, 0.03, 0.02, 0.015, 0.012], noise=0.05)
    b.series("ocr_error_rate", [0.092, 0.088, 0.025, 0.024, 0.022], noise=0.02)
    b.series("weekly_active_users", [None, None, 3, 5, 8])
    for seg, df in (("Digital PDF", 0.03), ("Scanned", -0.05)):
        b.observe(5, "clause_f1", 0.83 + df, segment=seg)

    for k in range(1, 6):
        target = 0.6 if k == 1 else (0.7 if k <= 3 else 0.8)
        b.criterion(
            k,
            "innovation",
            f"Clause extraction F1 at least {target:.2f}",
            "clause_f1",
            ">=",
            target,
        )
        if k >= 2:
            b.criterion(
                k, "production", "p95 extraction time at most 1.5 s", "p95_latency_ms", "<=", 1500.0
            )
        if k >= 4:
            b.criterion(
                k,
                "innovation",
                "Save at least 10 review hours a week",
                "review_hours_saved",
                ">=",
                10.0,
            )
    b.criterion(
        2,
        "learning",
        "Learn whether scanned contracts are usable",
        manual="not_met",
        note="OCR errors of 9% break clause boundaries in scanned contracts.",
    )
    b.criterion(
        3,
        "learning",
        "Learn whether better OCR fixes scanned contracts",
        manual="met",
        note="OCR character error rate 2.5%; scanned F1 within 5 points of digital.",
    )

    for k, knee, base in ((2, 2.4, 2100), (4, 4.8, 1050), (5, 6.4, 760)):
        b.load_test(k, knee, base, [1, 2, 4, 6, 8, 12, 16])
    b.weekly_traffic(10, 0.4, 0.08, 0.08, linear=True)

    fb = [
        (
            2,
            4,
            "end_user",
            2,
            "Took ages on the big framework agreement.",
            "speed",
            "actioned",
            "Distilled model in iteration 4.",
        ),
        (
            2,
            8,
            "end_user",
            2,
            "Scanned contracts come out as gibberish.",
            "data quality",
            "actioned",
            "New OCR pipeline in iteration 3.",
        ),
        (3, 5, "end_user", 4, "Scanned ones work now, nice.", "data quality", "triaged"),
        (
            4,
            3,
            "end_user",
            3,
            "Faster, but it misses renewal clauses hidden in annexes.",
            "accuracy",
            "triaged",
        ),
        (
            5,
            2,
            "end_user",
            4,
            "Saved me most of an afternoon on the logistics contracts.",
            "business value",
            "new",
        ),
        (
            5,
            5,
            "stakeholder",
            4,
            "Good progress. I want to see the liability clauses checked by a senior.",
            "accuracy",
            "new",
        ),
        (5, 7, "end_user", 5, "Results appear almost instantly now.", "speed", "new"),
    ]
    for row in fb:
        b.comment(*row)

    b.concern(
        "CTR-1",
        "Extraction too slow for interactive review",
        "Lawyers will not wait 3 seconds per contract section.",
        "Dr. Henrik Vogel",
        "Legal",
        "scalability",
        "high",
        "Aisha Rahman",
        2,
        [],
        due_days=90,
        metric="p95_latency_ms",
        comparator="<=",
        threshold=1500,
    )
    b.concern(
        "CTR-2",
        "Scanned contracts unreadable",
        "A third of supplier contracts are scans.",
        "Dr. Henrik Vogel",
        "Legal",
        "data_gaps",
        "high",
        "Aisha Rahman",
        2,
        [(3, "resolved", "New OCR pipeline: 2.5% character errors.")],
        resolution="OCR pipeline replaced.",
        metric="ocr_error_rate",
        comparator="<=",
        threshold=0.03,
    )
    b.concern(
        "CTR-3",
        "Liability if a clause is missed",
        "Who is accountable when the tool misses a liability cap?",
        "Elena Rossi",
        "Risk & compliance",
        "misalignment",
        "critical",
        "Aisha Rahman",
        4,
        [],
        due_days=45,
    )
    b.concern(
        "CTR-4",
        "Who maintains the clause taxonomy",
        "New clause types need labelling over time.",
        "Aisha Rahman",
        "Legal operations",
        "operations",
        "low",
        "Aisha Rahman",
        3,
        [(4, "accepted", "Legal ops owns it; reviewed quarterly.")],
        resolution="Accepted: quarterly taxonomy review.",
    )
    b.concern(
        "CTR-5",
        "What counts as good enough to go to a pilot?",
        "No agreed F1 or time-saved bar.",
        "Dr. Henrik Vogel",
        "Legal",
        "unclear_criteria",
        "medium",
        "Aisha Rahman",
        1,
        [(2, "resolved", "F1 0.8 and 10 hours a week agreed.")],
        resolution="Pilot bar agreed.",
    )

    b.stakeholder("Aisha Rahman", "Legal operations", 4, [("advocate", None)] * 5)
    b.stakeholder(
        "Dr. Henrik Vogel",
        "Legal",
        5,
        [
            ("skeptic", "Doubts accuracy."),
            ("blocker", "Too slow, scans fail."),
            ("skeptic", "Scans fixed."),
            ("neutral", "Faster now."),
            ("supporter", "Saw the hours saved."),
        ],
    )
    b.stakeholder(
        "Elena Rossi",
        "Risk & compliance",
        4,
        [("neutral", None)] * 3 + [("skeptic", "Liability question open.")] * 2,
    )
    b.stakeholder(
        "Procurement team",
        "Procurement",
        2,
        [
            ("neutral", None),
            ("neutral", None),
            ("supporter", None),
            ("supporter", None),
            ("advocate", "Wants it for renewals."),
        ],
    )

    for area, req, status, ev in (
        ("data_sources", "poc", "done", "Contract repository export, 4,200 contracts."),
        ("pii_consent", "poc", "in_progress", "Personal data in signatures being masked."),
        ("access_control", "pilot", "missing", None),
        ("retention", "pilot", "missing", None),
        ("monitoring", "pilot", "missing", None),
        ("lineage", "production", "missing", None),
        ("model_card", "production", "missing", None),
        ("fairness", "production", "not_applicable", "No decisions about people."),
        ("runbook_oncall", "production", "missing", None),
        ("rollback_plan", "production", "missing", None),
    ):
        b.governance_item(area, req, status, ev, "Aisha Rahman")

    b.alert("p95_latency_ms", ">", 1500, "high", "poc,pilot,production")
    b.alert("error_rate", ">", 0.02, "medium", "poc,pilot,production")
    b.alert("clause_f1", "<", 0.8, "medium", "pilot,production")
    b.readiness(
        {
            "data_schema": 0.5,
            "data_privacy": 1,
            "data_meta_requirements": 0.5,
            "model_spec_reviewed": 0.5,
            "model_slices": 0.5,
            "model_simpler_baseline": 0.5,
            "infra_reproducible": 0.5,
            "infra_debuggable": 1,
            "mon_numerics": 0.5,
        },
    )
    return b


STORIES = ((CLAIMS, _claims), (CHURN, _churn), (CONTRACTS, _contracts))


# --------------------------------------------------------------------------- loading


def database_empty(engine: Engine) -> bool:
    """Whether the database holds no initiative at all."""
    with engine.connect() as conn:
        return not conn.execute(select(func.count()).select_from(Initiative)).scalar()


def load_demo(
    engine: Engine, reset: bool = False, today: date | None = None, actor: Actor = SYSTEM
) -> str:
    """Load the demo portfolio; returns what was done, in a sentence.

    Without `reset`, an already loaded demo is left as it is (no duplicates). With `reset`, the
    demo initiatives and everything recorded under them are removed and loaded afresh.
    """
    require(actor, "upload")
    today = today or date.today()
    with db.write(engine) as conn:
        present = (
            conn.execute(select(Initiative.id).where(Initiative.name.in_(DEMO_NAMES)))
            .scalars()
            .all()
        )
        if present and not reset:
            return (
                "The demo portfolio is already loaded; nothing changed. Use --reset to restore it."
            )
        if present:
            conn.execute(delete(Initiative).where(Initiative.id.in_(present)))
            conn.execute(delete(ImportBatch).where(ImportBatch.kind == DEMO_KIND))
        metric_ids = _upsert_metrics(conn)
        for spec, story in STORIES:
            _write(
                conn, story(today, random.Random(f"liftoff-demo:{spec.name}")), today, metric_ids
            )
        # The alerts firing now are the baseline, not news (as of the demo's day, as the rest).
        notify.evaluate(conn, now=datetime.combine(today, time(8, 0)))
        audit.record(
            conn,
            actor,
            "demo",
            ("Reloaded" if present else "Loaded") + " the demo portfolio: " + ", ".join(DEMO_NAMES),
            target="initiative",
        )
    counts = ", ".join(DEMO_NAMES)
    return f"Loaded the demo portfolio: {counts}."


def _upsert_metrics(conn) -> dict[str, int]:
    existing = dict(conn.execute(select(Metric.key, Metric.id)).all())
    for key, (name, category, unit, direction) in METRICS.items():
        values = dict(display_name=name, category=category, unit=unit, direction=direction)
        if key in existing:
            conn.execute(update(Metric).where(Metric.id == existing[key]).values(**values))
        else:
            existing[key] = conn.execute(
                insert(Metric).values(key=key, **values).returning(Metric.id)
            ).scalar_one()
    return existing


def _write(conn, b: _Builder, today: date, metric_ids: dict[str, int]) -> None:
    spec = b.spec
    now = datetime.combine(today, time(8, 0))
    batch_id = conn.execute(
        insert(ImportBatch)
        .values(
            kind=DEMO_KIND,
            file_name=f"demo portfolio: {spec.name}",
            sha256=hashlib.sha256(f"{spec.name}:{today.isoformat()}".encode()).hexdigest(),
            rows_read=0,
            rows_accepted=0,
            uploaded_by="liftoff demo",
            uploaded_at=now,
            status="committed",
        )
        .returning(ImportBatch.id)
    ).scalar_one()
    init_id = conn.execute(
        insert(Initiative)
        .values(
            name=spec.name,
            business_goal=spec.goal,
            owner=spec.owner,
            stage=spec.stage,
            slo_p95_ms=spec.slo_p95_ms,
            max_error_rate=spec.max_error_rate,
            primary_metric_key=spec.primary_metric,
            created_at=datetime.combine(b.starts[0], time(9, 0)),
        )
        .returning(Initiative.id)
    ).scalar_one()
    it_ids: dict[int, int] = {}
    for it in b.iterations:
        it_ids[it["number"]] = conn.execute(
            insert(Iteration).values(initiative_id=init_id, **it).returning(Iteration.id)
        ).scalar_one()

    def rows(items, **extra):
        return [
            {
                **{k: v for k, v in r.items() if k != "k"},
                **extra,
                **({"iteration_id": it_ids[r["k"]]} if "k" in r else {}),
            }
            for r in items
        ]

    obs = [
        dict(
            iteration_id=it_ids[o["k"]],
            metric_id=metric_ids[o["metric"]],
            value=o["value"],
            recorded_at=o["recorded_at"],
            segment=o["segment"],
            candidate=o["candidate"],
            batch_id=batch_id,
        )
        for o in b.observations
    ]
    conn.execute(insert(Observation), obs)
    conn.execute(
        insert(Criterion),
        [
            dict(
                iteration_id=it_ids[c["k"]],
                kind=c["kind"],
                metric_id=metric_ids.get(c["metric"]) if c["metric"] else None,
                comparator=c["comparator"],
                target=c["target"],
                description=c["description"],
                manual_status=c["manual_status"],
                evidence_note=c["evidence_note"],
                batch_id=batch_id,
            )
            for c in b.criteria
        ],
    )
    conn.execute(insert(LoadTestStep), rows(b.steps, batch_id=batch_id))
    conn.execute(
        insert(TrafficPoint), [dict(t, initiative_id=init_id, batch_id=batch_id) for t in b.traffic]
    )
    conn.execute(insert(Feedback), rows(b.feedback, initiative_id=init_id, batch_id=batch_id))
    for c in b.concerns:
        changes = c["changes"]
        values = {k: v for k, v in c.items() if k not in ("changes", "raised_k", "metric")}
        concern_id = conn.execute(
            insert(Concern)
            .values(
                initiative_id=init_id,
                iteration_id=it_ids[c["raised_k"]],
                metric_id=metric_ids[c["metric"]] if c["metric"] else None,
                batch_id=batch_id,
                **values,
            )
            .returning(Concern.id)
        ).scalar_one()
        conn.execute(
            insert(ConcernStatusChange),
            [
                dict(
                    concern_id=concern_id,
                    changed_at=when,
                    changed_by=c["owner"],
                    from_status=frm,
                    to_status=to,
                    note=note,
                )
                for when, frm, to, note in changes
            ],
        )
    for name, group, influence, stances in b.stakeholders:
        sid = conn.execute(
            insert(Stakeholder)
            .values(initiative_id=init_id, name=name, group=group, influence=influence)
            .returning(Stakeholder.id)
        ).scalar_one()
        conn.execute(
            insert(StakeholderStance),
            [
                dict(stakeholder_id=sid, iteration_id=it_ids[k], stance=stance, note=note)
                for k, (stance, note) in enumerate(stances, start=1)
            ],
        )
    conn.execute(
        insert(GovernanceItem),
        [dict(g, initiative_id=init_id, updated_at=now) for g in b.governance],
    )
    if b.rubric:
        conn.execute(
            insert(ReadinessItem),
            [
                dict(r, initiative_id=init_id, updated_by=spec.owner, updated_at=now)
                for r in b.rubric
            ],
        )
    conn.execute(
        insert(AlertRule),
        [
            dict(
                initiative_id=init_id,
                metric_id=metric_ids[a["metric"]],
                comparator=a["comparator"],
                threshold=a["threshold"],
                severity=a["severity"],
                stages=a["stages"],
                enabled=True,
            )
            for a in b.alerts
        ],
    )
    total = (
        len(obs)
        + len(b.criteria)
        + len(b.steps)
        + len(b.traffic)
        + len(b.feedback)
        + len(b.concerns)
    )
    conn.execute(
        update(ImportBatch)
        .where(ImportBatch.id == batch_id)
        .values(rows_read=total, rows_accepted=total)
    )
