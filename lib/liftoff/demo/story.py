"""The demo portfolio's story where no upload file carries it.

What a product manager uploads (metrics, MLflow runs, load tests, traffic, feedback, the risk
register, criteria, governance, stakeholders) lives as those files in data/demo. What an editor
types on the Iterations and Alerts screens instead (initiative settings, iteration names, dates,
hypotheses and decisions, alert rules, readiness scores) and the metric definitions live here.
Every date, here and in the files, is a real date as of ANCHOR; `load_demo` moves them all by
the same number of days so that ANCHOR falls on the day of loading.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

# The day the files describe: their latest figures were recorded on it.
ANCHOR = date(2026, 11, 23)

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
    """An initiative's settings (Iterations screen, `liftoff initiative set`)."""

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


@dataclass(frozen=True)
class DemoIteration:
    """An iteration as its editor describes it, and the decision taken at its end."""

    number: int
    label: str
    start: date
    end: date
    hypothesis: str
    decision: str = "pending"
    rationale: str | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None


ITERATIONS: dict[str, tuple[DemoIteration, ...]] = {
    CLAIMS.name: (
        DemoIteration(
            1,
            "Baseline classifier",
            date(2026, 6, 13),
            date(2026, 7, 3),
            "A fine-tuned text classifier can route claims to 6 teams with at least 75% accuracy.",
            "go",
            "74% accuracy on historic claims beats the 61% of the rules engine; worth a second sprint.",
            "Steering committee (M. Lopez)",
            datetime(2026, 7, 4, 10, 30),
        ),
        DemoIteration(
            2,
            "Add claim attachments",
            date(2026, 7, 4),
            date(2026, 7, 24),
            "Reading attached adjuster notes lifts accuracy above 80%.",
            "go",
            "Accuracy 81%; adjusters in the shadow test agreed with 4 of 5 suggestions.",
            "Steering committee (M. Lopez)",
            datetime(2026, 7, 25, 10, 30),
        ),
        DemoIteration(
            3,
            "Shadow pilot, 2 teams",
            date(2026, 7, 25),
            date(2026, 8, 14),
            "Suggestions shown to 2 teams cut handling time without more re-routing.",
            "extend",
            "Handling time fell 3 minutes but latency at peak broke the SLO; extend to fix serving.",
            "Steering committee (M. Lopez)",
            datetime(2026, 8, 15, 10, 30),
        ),
        DemoIteration(
            4,
            "Serving on GPU pool",
            date(2026, 8, 15),
            date(2026, 9, 4),
            "Moving inference to a shared GPU pool keeps p95 under 800 ms at pilot load.",
            "go",
            "p95 540 ms at 60 req/s; capacity now covers the pilot with room to spare.",
            "Steering committee (M. Lopez)",
            datetime(2026, 9, 5, 10, 30),
        ),
        DemoIteration(
            5,
            "Pilot, all motor claims",
            date(2026, 9, 5),
            date(2026, 9, 25),
            "All motor claims routed by the assistant with under 1% errors.",
            "go",
            "Handling time down to 34 minutes; error rate 0.4%; governance essentials in place.",
            "Steering committee (M. Lopez)",
            datetime(2026, 9, 26, 10, 30),
        ),
        DemoIteration(
            6,
            "Production launch",
            date(2026, 9, 26),
            date(2026, 10, 16),
            "Production for motor and property claims with on-call support.",
            "go",
            "Launched; runbook and monitoring signed off. Rollback plan still in progress.",
            "Steering committee (M. Lopez)",
            datetime(2026, 10, 17, 10, 30),
        ),
        DemoIteration(
            7,
            "Household claims",
            date(2026, 10, 17),
            date(2026, 11, 6),
            "Extending to household claims keeps accuracy above 88%.",
            "go",
            "Accuracy held at 90%; handling time 31 minutes. Traffic grows faster than planned.",
            "Steering committee (M. Lopez)",
            datetime(2026, 11, 7, 10, 30),
        ),
        DemoIteration(
            8,
            "Peak-season readiness",
            date(2026, 11, 7),
            date(2026, 11, 27),
            "Capacity covers winter storm peaks (2x normal traffic) without breaking the SLO.",
        ),
    ),
    CHURN.name: (
        DemoIteration(
            1,
            "Baseline on billing data",
            date(2026, 7, 25),
            date(2026, 8, 14),
            "Billing history alone predicts 60-day churn with AUC above 0.70.",
            "go",
            "AUC 0.69 with billing data only; promising enough to add usage data.",
            "Customer success steering (T. Becker)",
            datetime(2026, 8, 15, 10, 30),
        ),
        DemoIteration(
            2,
            "Add product usage",
            date(2026, 8, 15),
            date(2026, 9, 4),
            "Product-usage features lift AUC above 0.75.",
            "extend",
            "AUC 0.74; usage data for partner customers is missing. Extend to close the gap.",
            "Customer success steering (T. Becker)",
            datetime(2026, 9, 5, 10, 30),
        ),
        DemoIteration(
            3,
            "Pilot with one retention team",
            date(2026, 9, 5),
            date(2026, 9, 25),
            "Calling the top 10% scored customers lifts their 90-day retention.",
            "go",
            "AUC 0.79; the team called 480 customers. Retention unchanged so far, too early to tell.",
            "Customer success steering (T. Becker)",
            datetime(2026, 9, 26, 10, 30),
        ),
        DemoIteration(
            4,
            "Weekly instead of monthly scores",
            date(2026, 9, 26),
            date(2026, 10, 16),
            "Fresher scores give the team time to act before customers leave.",
            "pivot",
            "Monthly scores came too late. Pivot to weekly scoring and add reason codes.",
            "Customer success steering (T. Becker)",
            datetime(2026, 10, 17, 10, 30),
        ),
        DemoIteration(
            5,
            "Reason codes",
            date(2026, 10, 17),
            date(2026, 11, 6),
            "Showing why a customer is at risk lets agents tailor the offer.",
            "go",
            "AUC 0.83, but retention still flat at 87%. Go for one more iteration to test offers.",
            "Customer success steering (T. Becker)",
            datetime(2026, 11, 7, 10, 30),
        ),
        DemoIteration(
            6,
            "Targeted offers",
            date(2026, 11, 7),
            date(2026, 11, 27),
            "Offers matched to the reason code lift 90-day retention by 2 points.",
        ),
    ),
    CONTRACTS.name: (
        DemoIteration(
            1,
            "Off-the-shelf extractor",
            date(2026, 8, 15),
            date(2026, 9, 4),
            "A general-purpose extraction model finds termination clauses with F1 above 0.6.",
            "go",
            "F1 0.58 on 200 contracts; good enough to try a domain-tuned model.",
            "Legal operations board (A. Rahman)",
            datetime(2026, 9, 5, 10, 30),
        ),
        DemoIteration(
            2,
            "Domain-tuned model",
            date(2026, 9, 5),
            date(2026, 9, 25),
            "Tuning on 1,500 labelled clauses lifts F1 above 0.7.",
            "extend",
            "F1 0.71, but scanned contracts fail and extraction takes 3 seconds.",
            "Legal operations board (A. Rahman)",
            datetime(2026, 9, 26, 10, 30),
        ),
        DemoIteration(
            3,
            "OCR clean-up",
            date(2026, 9, 26),
            date(2026, 10, 16),
            "Better OCR makes scanned contracts as good as digital ones.",
            "go",
            "OCR errors down from 9% to 2.5%; F1 0.77.",
            "Legal operations board (A. Rahman)",
            datetime(2026, 10, 17, 10, 30),
        ),
        DemoIteration(
            4,
            "Faster inference",
            date(2026, 10, 17),
            date(2026, 11, 6),
            "A distilled model keeps F1 while cutting p95 below 1.5 s.",
            "go",
            "p95 1.6 s: close to the target; F1 0.8.",
            "Legal operations board (A. Rahman)",
            datetime(2026, 11, 7, 10, 30),
        ),
        DemoIteration(
            5,
            "Lawyer review trial",
            date(2026, 11, 7),
            date(2026, 11, 27),
            "Lawyers reviewing with extracted clauses save 10 hours a week.",
        ),
    ),
}

# (metric, comparator, threshold, severity, stages it applies to)
ALERT_RULES: dict[str, tuple[tuple[str, str, float, str, tuple[str, ...]], ...]] = {
    CLAIMS.name: (
        ("p95_latency_ms", ">", 700, "high", ("poc", "pilot", "production")),
        ("error_rate", ">", 0.01, "critical", ("poc", "pilot", "production")),
        ("triage_accuracy", "<", 0.88, "high", ("pilot", "production")),
        ("suggestion_acceptance", "<", 0.6, "medium", ("production",)),
        ("weekly_active_users", "<", 200, "medium", ("production",)),
    ),
    CHURN.name: (
        ("churn_auc", "<", 0.8, "high", ("pilot", "production")),
        ("retention_rate_90d", "<", 0.89, "high", ("pilot", "production")),
        ("p95_latency_ms", ">", 300, "medium", ("poc", "pilot", "production")),
        ("error_rate", ">", 0.005, "high", ("poc", "pilot", "production")),
    ),
    CONTRACTS.name: (
        ("p95_latency_ms", ">", 1500, "high", ("poc", "pilot", "production")),
        ("error_rate", ">", 0.02, "medium", ("poc", "pilot", "production")),
        ("clause_f1", "<", 0.8, "medium", ("pilot", "production")),
    ),
}

# Who on each team scores the readiness rubric (also the governance checklist's owner): the
# demo's scores are shown as theirs, not as whoever ran `liftoff demo`.
SCORED_BY = {
    CLAIMS.name: "Priya Nair",
    CHURN.name: "Lea Fischer",
    CONTRACTS.name: "Aisha Rahman",
}

# Readiness rubric items the team scored (0, 0.5 or 1) with their notes; the rest stay unscored.
READINESS: dict[str, tuple[tuple[str, float, str | None], ...]] = {
    CLAIMS.name: (
        ("data_schema", 1.0, None),
        ("data_features_useful", 0.5, None),
        ("data_feature_cost", 0.5, None),
        ("data_meta_requirements", 1.0, None),
        ("data_privacy", 1.0, None),
        ("data_new_features", 0.5, None),
        ("data_feature_code_tested", 1.0, None),
        ("model_spec_reviewed", 1.0, None),
        ("model_offline_online", 0.5, None),
        ("model_hyperparameters", 0.5, None),
        ("model_staleness", 0.5, None),
        ("model_simpler_baseline", 1.0, None),
        ("model_slices", 0.5, None),
        ("model_inclusion", 0.5, None),
        ("infra_reproducible", 1.0, None),
        ("infra_spec_unit_tests", 1.0, None),
        ("infra_pipeline_tests", 0.5, None),
        ("infra_validated_before_serving", 1.0, None),
        ("infra_debuggable", 0.5, None),
        ("infra_canary", 0.5, None),
        # Half: as the risk register's CLM-2 and the checklist's rollback plan say, the switch
        # back to the rules engine is drafted but not yet tested (it read "automated" beside
        # them; helper-26).
        (
            "infra_rollback",
            0.5,
            "A model version rolls back in one step; the switch back to the rules engine is "
            "drafted, its drill planned for iteration 8.",
        ),
        ("mon_dependencies", 0.5, None),
        ("mon_invariants", 0.5, None),
        ("mon_skew", 0.0, "Feature logging at serving time is planned for peak season."),
        ("mon_staleness", 0.5, None),
        ("mon_numerics", 1.0, None),
    ),
    CHURN.name: (
        ("data_schema", 1.0, None),
        ("data_features_useful", 0.5, None),
        ("data_feature_cost", 0.5, None),
        ("data_meta_requirements", 0.5, None),
        ("data_privacy", 1.0, None),
        ("data_new_features", 0.5, None),
        ("model_spec_reviewed", 1.0, None),
        (
            "model_offline_online",
            0.0,
            "AUC rises while retention stays flat: offline and online disagree.",
        ),
        ("model_hyperparameters", 1.0, None),
        ("model_staleness", 0.5, None),
        ("model_simpler_baseline", 0.5, None),
        ("model_slices", 0.5, None),
        ("infra_reproducible", 0.5, None),
        ("infra_validated_before_serving", 0.5, None),
        ("infra_rollback", 0.5, "Scores are a nightly batch; rolling back is a manual re-run."),
        ("mon_invariants", 0.5, None),
        ("mon_numerics", 0.5, None),
    ),
    CONTRACTS.name: (
        ("data_schema", 0.5, None),
        ("data_privacy", 1.0, None),
        ("data_meta_requirements", 0.5, None),
        ("model_spec_reviewed", 0.5, None),
        ("model_slices", 0.5, None),
        ("model_simpler_baseline", 0.5, None),
        ("infra_reproducible", 0.5, None),
        ("infra_debuggable", 1.0, None),
        ("mon_numerics", 0.5, None),
    ),
}

# The files in data/demo in the order they are imported: the kind the Upload page detects, and
# what the page asks for when a file does not say it (a Locust file names no initiative).
FILES: tuple[tuple[str, str, dict[str, str | int]], ...] = (
    ("metrics.csv", "metrics", {}),
    ("churn-mlflow-runs.csv", "mlflow-runs", {}),
    ("load-tests.csv", "loadtest", {}),
    (
        "contracts-iteration-5_stats_history.csv",
        "locust",
        {"initiative": CONTRACTS.name, "iteration": 5},
    ),
    ("traffic.csv", "traffic", {}),
    ("criteria.csv", "criteria", {}),
    ("feedback.csv", "feedback", {}),
    ("risk-register.csv", "concerns", {}),
    ("stakeholders.csv", "stakeholders", {}),
    ("governance.csv", "governance", {}),
)
