"""Header names as people write them, mapped to Liftoff's fields; each kind's columns."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from liftoff import names
from liftoff.db.models import (
    CONCERN_STATUSES,
    CRITERION_KINDS,
    FAILURE_CATEGORIES,
    FEEDBACK_SOURCES,
    FEEDBACK_STATUSES,
    GOVERNANCE_AREAS,
    GOVERNANCE_STATUSES,
    SEVERITIES,
    STANCES,
)
from liftoff.formatting import IMPORT_KIND_LABELS

_UNIT_IN_BRACKETS = re.compile(r"[\(\[\{]\s*([^\)\]\}]*?)\s*[\)\]\}]")


@dataclass(frozen=True)
class Header:
    original: str
    key: str  # snake_case without the unit
    unit: str | None  # from brackets or a trailing %, e.g. "ms", "%"


def normalize(name: str) -> Header:
    """`'Latency (ms)'` → key `latency`, unit `ms`; `'Accuracy %'` → `accuracy`, `%`; `'Iteration #'` → `iteration_number`."""
    original = name
    text = name.strip().lower()
    unit = None
    m = _UNIT_IN_BRACKETS.search(text)
    if m:
        unit = m.group(1).strip() or None
        text = _UNIT_IN_BRACKETS.sub(" ", text)
    if text.rstrip().endswith("%"):
        unit = unit or "%"
        text = text.rstrip()[:-1]
    text = text.replace("#", " number ").replace("%", " percent ").replace("&", " and ")
    key = re.sub(r"[\W_]+", "_", _latin_without_accents(text)).strip("_")
    return Header(original, key, unit)


def _latin_without_accents(text: str) -> str:
    """Accents off Latin letters ("coût" → "cout"), every other script kept as written: keys of
    metrics named in Cyrillic or Japanese were all "" and merged into one metric."""
    out = []
    for c in unicodedata.normalize("NFKD", names.clean(text)):
        if unicodedata.combining(c) and out and out[-1].isascii():
            continue
        out.append(c)
    return unicodedata.normalize("NFC", "".join(out))


def metric_key(name: str) -> str:
    """The stored key of a metric named `name` (its unit dropped)."""
    return normalize(name).key


@dataclass(frozen=True)
class Field:
    """One field of a kind: its aliases, whether it is required, and how to read it."""

    name: str
    type: str  # text, int, number, fraction, date, choice
    aliases: tuple[str, ...] = ()
    required: bool = False
    choices: dict[str, str] = field(default_factory=dict)  # written form (normalized) → stored
    help: str = ""


def _choices(values, extra: dict[str, str] | None = None) -> dict[str, str]:
    out = {v.replace("-", "_"): v for v in values}
    out.update({v.replace("_", " ").replace("-", " ").replace(" ", "_"): v for v in values})
    out.update(extra or {})
    return out


INITIATIVE = Field(
    "initiative", "text", ("initiative", "initiative_name", "project", "use_case", "product")
)
ITERATION = Field(
    "iteration",
    "int",
    (
        "iteration",
        "iteration_number",
        "iteration_no",
        "iter",
        "sprint",
        "sprint_number",
        "sprint_no",
        "iteration_id",
    ),
)
# How people head a column of dates in the reports they already keep ("As of", "Week
# ending", "Date (UTC)" — the unit in brackets is dropped before matching).
EVERYDAY_DATES = (
    "as_of",
    "as_at",
    "as_of_date",
    "week_ending",
    "week_ending_date",
    "week_ended",
    "week_of",
    "week_starting",
    "week_commencing",
    "reporting_date",
    "report_date",
    "reported_at",
    "reported_on",
    "reporting_period",
    "period_ending",
    "period_end",
    "measured",
    "measured_on",
    "measurement_date",
    "snapshot_date",
    "snapshot",
    "observed_on",
    "run_date",
    "collected_at",
    "collected_on",
    "date_time",
    "when",
)
RECORDED_AT = Field(
    "recorded_at",
    "date",
    (
        "recorded_at",
        "date",
        "timestamp",
        "time",
        "recorded",
        "measured_at",
        "datetime",
        "day",
        *EVERYDAY_DATES,
    ),
)
SEGMENT = Field("segment", "text", ("segment", "slice", "cohort", "group", "region"))
CANDIDATE = Field(
    "candidate",
    "text",
    ("candidate", "run", "run_id", "run_name", "variant", "model", "model_version"),
)

KINDS: dict[str, list[Field]] = {
    "metrics": [
        INITIATIVE,
        ITERATION,
        Field(
            "metric",
            "text",
            ("metric", "metric_name", "kpi", "measure", "key", "name"),
            required=True,
        ),
        Field(
            "value", "number", ("value", "metric_value", "result", "score", "val"), required=True
        ),
        RECORDED_AT,
        SEGMENT,
        CANDIDATE,
        Field("unit", "text", ("unit", "units")),
        Field(
            "category",
            "choice",
            ("category", "metric_category", "type"),
            choices=_choices(
                ("model", "business_kpi", "system", "engagement", "data_quality"),
                {
                    "business": "business_kpi",
                    "kpi": "business_kpi",
                    "business_kpis": "business_kpi",
                    "data": "data_quality",
                    "quality": "data_quality",
                    "ml": "model",
                    "technical": "system",
                },
            ),
        ),
        # Which way is better, for a new metric: the trend arrows and the model-versus-KPI
        # sentence read "up" as good or bad by it. Guessed from the name when absent.
        Field(
            "direction",
            "choice",
            ("direction", "better", "better_when", "good_direction", "optimise", "optimize"),
            choices=_choices(
                ("higher", "lower"),
                {
                    "higher_is_better": "higher",
                    "lower_is_better": "lower",
                    "higher_better": "higher",
                    "lower_better": "lower",
                    "up": "higher",
                    "down": "lower",
                    "max": "higher",
                    "min": "lower",
                    "maximise": "higher",
                    "maximize": "higher",
                    "minimise": "lower",
                    "minimize": "lower",
                },
            ),
        ),
    ],
    "loadtest": [
        INITIATIVE,
        ITERATION,
        Field(
            "users",
            "int",
            ("users", "user_count", "concurrent_users", "vus", "virtual_users", "concurrency"),
            required=True,
        ),
        Field(
            "rps",
            "number",
            (
                "rps",
                "throughput",
                "throughput_rps",
                "requests_per_second",
                "requests_s",
                "req_s",
                "tps",
            ),
            required=True,
        ),
        Field(
            "p50_ms",
            "number",
            (
                "p50_ms",
                "p50",
                "median",
                "median_ms",
                "p50_latency",
                "median_response_time",
                "latency_p50",
            ),
        ),
        Field(
            "p95_ms",
            "number",
            ("p95_ms", "p95", "p95_latency", "latency_p95", "95_percent", "p95_response_time"),
            required=True,
        ),
        Field("p99_ms", "number", ("p99_ms", "p99", "p99_latency", "latency_p99", "99_percent")),
        Field(
            "error_rate",
            "fraction",
            ("error_rate", "failure_ratio", "failure_rate", "errors", "error_ratio", "fail_ratio"),
        ),
    ],
    "traffic": [
        INITIATIVE,
        Field(
            "date",
            "date",
            (
                "date",
                "day",
                "observed_at",
                "timestamp",
                "week",
                "time",
                "period",
                *EVERYDAY_DATES,
            ),
            required=True,
        ),
        Field(
            "peak_rps",
            "number",
            ("peak_rps", "peak", "peak_requests_per_second", "max_rps", "peak_throughput", "rps"),
            required=True,
        ),
    ],
    "feedback": [
        INITIATIVE,
        Field("iteration", "int", ITERATION.aliases),
        Field(
            "text",
            "text",
            ("text", "comment", "comments", "feedback", "message", "verbatim", "body", "remarks"),
            required=True,
        ),
        Field("rating", "number", ("rating", "score", "stars", "csat", "satisfaction")),
        Field(
            "received_at",
            "date",
            (
                "received_at",
                "date",
                "timestamp",
                "created_at",
                "submitted_at",
                "created",
                "time",
                "received",
                "received_on",
                "date_received",
                "submitted",
                "submitted_on",
                *EVERYDAY_DATES,
            ),
        ),
        Field(
            "source",
            "choice",
            ("source", "channel", "from"),
            choices=_choices(
                FEEDBACK_SOURCES,
                {
                    "user": "end_user",
                    "end_users": "end_user",
                    "customer": "end_user",
                    "ticket": "support",
                    "helpdesk": "support",
                    "stakeholders": "stakeholder",
                },
            ),
        ),
        Field("theme", "text", ("theme", "topic", "category")),
        Field("tags", "text", ("tags", "labels", "tag")),
        Field("sentiment", "number", ("sentiment", "sentiment_score")),
        Field(
            "status",
            "choice",
            ("status", "state"),
            choices=_choices(
                FEEDBACK_STATUSES,
                {"won_t_fix": "wont_fix", "wontfix": "wont_fix", "done": "actioned", "open": "new"},
            ),
        ),
        Field("action_taken", "text", ("action_taken", "action", "response", "resolution")),
    ],
    "concerns": [
        INITIATIVE,
        Field(
            "key",
            "text",
            (
                "key",
                "id",
                "concern_id",
                "external_key",
                "ref",
                "reference",
                "issue_key",
                "ticket",
                "risk_id",
            ),
        ),
        Field(
            "title",
            "text",
            (
                "title",
                "concern",
                "summary",
                "subject",
                "name",
                "risk",
                "risk_title",
                "risk_name",
                "issue",
                "concern_title",
            ),
            required=True,
        ),
        Field("description", "text", ("description", "details", "detail", "body")),
        Field("raised_by", "text", ("raised_by", "reporter", "author", "raised", "by")),
        Field(
            "stakeholder_group",
            "text",
            ("stakeholder_group", "group", "team", "department", "stakeholder"),
        ),
        Field(
            "category",
            "choice",
            ("category", "failure_category", "failure_mode", "type", "risk_category", "risk_type"),
            # Optional: a register from another tool has its own categories or none; those
            # concerns import "not categorised yet" and are flagged for triage.
            choices=_choices(
                FAILURE_CATEGORIES,
                {
                    "unclear_production_criteria": "unclear_criteria",
                    "criteria": "unclear_criteria",
                    "scalability_blind_spots": "scalability",
                    "scalability_blind_spot": "scalability",
                    "scale": "scalability",
                    "real_world_data_gaps": "data_gaps",
                    "data_gap": "data_gaps",
                    "data": "data_gaps",
                    "stakeholder_misalignment": "misalignment",
                    "alignment": "misalignment",
                    "operational_underestimation": "operations",
                    "operational": "operations",
                    "ops": "operations",
                    # The words other registers use for the same five failures.
                    "requirements": "unclear_criteria",
                    "requirement": "unclear_criteria",
                    "scope": "unclear_criteria",
                    "success_criteria": "unclear_criteria",
                    "acceptance_criteria": "unclear_criteria",
                    "definition_of_done": "unclear_criteria",
                    "kpis": "unclear_criteria",
                    "performance": "scalability",
                    "capacity": "scalability",
                    "latency": "scalability",
                    "load": "scalability",
                    "infrastructure": "scalability",
                    "data_quality": "data_gaps",
                    "quality_of_data": "data_gaps",
                    "data_gaps": "data_gaps",
                    "data_drift": "data_gaps",
                    "drift": "data_gaps",
                    "bias": "data_gaps",
                    "coverage": "data_gaps",
                    "adoption": "misalignment",
                    "user_adoption": "misalignment",
                    "buy_in": "misalignment",
                    "stakeholders": "misalignment",
                    "stakeholder": "misalignment",
                    "change_management": "misalignment",
                    "people": "misalignment",
                    "politics": "misalignment",
                    "communication": "misalignment",
                    "operations": "operations",
                    "operational_risk": "operations",
                    "support": "operations",
                    "on_call": "operations",
                    "maintenance": "operations",
                    "monitoring": "operations",
                    "staffing": "operations",
                    "resourcing": "operations",
                    "cost": "operations",
                    "run_cost": "operations",
                },
            ),
        ),
        Field(
            "severity",
            "choice",
            ("severity", "priority", "impact"),
            required=True,
            choices=_choices(
                SEVERITIES,
                {
                    "blocker": "critical",
                    "crit": "critical",
                    "med": "medium",
                    "minor": "low",
                    "major": "high",
                },
            ),
        ),
        Field(
            "status",
            "choice",
            ("status", "state"),
            choices=_choices(
                CONCERN_STATUSES,
                {
                    "in_progress": "mitigating",
                    "closed": "resolved",
                    "done": "resolved",
                    "new": "open",
                },
            ),
        ),
        Field("owner", "text", ("owner", "assignee", "assigned_to", "responsible")),
        Field(
            "raised_at",
            "date",
            (
                "raised_at",
                "date",
                "created",
                "created_at",
                "opened",
                "raised_on",
                "raised_date",
                "date_raised",
                "opened_on",
                "logged",
                "logged_on",
                "date_logged",
                "identified",
                "identified_on",
                "created_on",
                "date_identified",
            ),
        ),
        Field("due", "date", ("due", "due_date", "deadline", "target_date")),
        Field("resolved_at", "date", ("resolved_at", "resolved", "closed_at", "resolved_on")),
        Field("resolution", "text", ("resolution", "outcome", "mitigation")),
        Field("metric", "text", ("metric", "linked_metric", "metric_key")),
        Field(
            "comparator",
            "choice",
            ("comparator", "operator"),
            choices={">=": ">=", ">": ">", "<=": "<=", "<": "<", "==": "=="},
        ),
        Field("threshold", "number", ("threshold", "metric_threshold", "target")),
        Field("iteration", "int", ITERATION.aliases),
    ],
    "criteria": [
        INITIATIVE,
        ITERATION,
        Field(
            "kind",
            "choice",
            ("kind", "type", "criterion_type", "category"),
            required=True,
            choices=_choices(
                CRITERION_KINDS,
                {
                    "innovation_goal": "innovation",
                    "goal": "innovation",
                    "learning_objective": "learning",
                    "objective": "learning",
                    "production_criterion": "production",
                    "production_criteria": "production",
                },
            ),
        ),
        Field(
            "description",
            "text",
            ("description", "criterion", "goal", "name", "title"),
            required=True,
        ),
        Field("metric", "text", ("metric", "metric_key", "kpi")),
        Field(
            "comparator",
            "choice",
            ("comparator", "operator"),
            choices={">=": ">=", ">": ">", "<=": "<=", "<": "<", "==": "==", "=": "=="},
        ),
        Field("target", "number", ("target", "threshold", "goal_value", "target_value")),
        Field(
            "status",
            "choice",
            ("status", "manual_status", "met"),
            choices={
                "met": "met",
                "not_met": "not_met",
                "yes": "met",
                "no": "not_met",
                "true": "met",
                "false": "not_met",
            },
        ),
        Field("evidence", "text", ("evidence", "evidence_note", "note", "notes")),
    ],
    "stakeholders": [
        INITIATIVE,
        Field(
            "name",
            "text",
            ("name", "stakeholder", "stakeholder_name", "person", "who"),
            required=True,
        ),
        Field(
            "stance",
            "choice",
            ("stance", "position", "attitude", "support", "sentiment_towards"),
            required=True,
            choices=_choices(
                STANCES,
                {
                    "blocking": "blocker",
                    "against": "blocker",
                    "sceptic": "skeptic",
                    "sceptical": "skeptic",
                    "skeptical": "skeptic",
                    "undecided": "neutral",
                    "supportive": "supporter",
                    "champion": "advocate",
                    "sponsor": "advocate",
                },
            ),
        ),
        Field("group", "text", ("group", "stakeholder_group", "team", "department", "role")),
        Field("influence", "number", ("influence", "power", "weight", "influence_1_5")),
        Field("iteration", "int", ITERATION.aliases),
        Field("note", "text", ("note", "notes", "comment", "why")),
    ],
    "governance": [
        INITIATIVE,
        Field(
            "area",
            "choice",
            ("area", "item", "governance_area", "topic"),
            required=True,
            choices=_choices(
                GOVERNANCE_AREAS,
                {
                    "pii": "pii_consent",
                    "pii_and_consent": "pii_consent",
                    "consent": "pii_consent",
                    "runbook": "runbook_oncall",
                    "on_call": "runbook_oncall",
                    "runbook_and_on_call": "runbook_oncall",
                    "rollback": "rollback_plan",
                    "data_source": "data_sources",
                    "access": "access_control",
                },
            ),
        ),
        Field(
            "status",
            "choice",
            ("status", "state"),
            required=True,
            choices=_choices(
                GOVERNANCE_STATUSES,
                {
                    "done": "done",
                    "complete": "done",
                    "yes": "done",
                    "no": "missing",
                    "todo": "missing",
                    "n_a": "not_applicable",
                    "na": "not_applicable",
                    "wip": "in_progress",
                },
            ),
        ),
        Field(
            "required_from",
            "choice",
            ("required_from", "stage", "required_stage", "from_stage"),
            choices={
                "poc": "poc",
                "proof_of_concept": "poc",
                "pilot": "pilot",
                "production": "production",
            },
        ),
        Field("evidence", "text", ("evidence", "link", "notes", "note")),
        Field("owner", "text", ("owner", "responsible", "assignee")),
        # When the tracker last changed the item; without it, the day of the import.
        Field(
            "updated_at",
            "date",
            (
                "updated_at",
                "updated",
                "updated_on",
                "last_updated",
                "last_update",
                "last_modified",
                "modified",
                "modified_on",
                "date",
                "as_of",
                "reviewed",
                "reviewed_on",
                "last_reviewed",
            ),
        ),
    ],
}

# Where the required governance item starts by default (DESIGN: essentials first).
GOVERNANCE_DEFAULT_STAGE = {
    "data_sources": "poc",
    "pii_consent": "poc",
    "access_control": "pilot",
    "retention": "pilot",
    "monitoring": "pilot",
    "lineage": "production",
    "model_card": "production",
    "fairness": "production",
    "runbook_oncall": "production",
    "rollback_plan": "production",
}

# What each kind of file is called on the screens (kept with the other words in formatting).
KIND_LABELS = IMPORT_KIND_LABELS


def match_columns(headers: list[Header], fields: list[Field]) -> tuple[dict[str, int], list[int]]:
    """Map each field to the first header that is one of its aliases; also the unmatched headers."""
    mapping: dict[str, int] = {}
    used: set[int] = set()
    for f in fields:
        for alias in (f.name, *f.aliases):
            hit = next((i for i, h in enumerate(headers) if h.key == alias and i not in used), None)
            if hit is not None:
                mapping[f.name] = hit
                used.add(hit)
                break
    unmatched = [i for i in range(len(headers)) if i not in used]
    return mapping, unmatched


# ----------------------------------------------------------------- metric definitions guessed

_CATEGORY_WORDS = [
    (
        "system",
        (
            "latency",
            "throughput",
            "rps",
            "error_rate",
            "errors",
            "uptime",
            "cpu",
            "memory",
            "gpu",
            "cost",
            "p50",
            "p95",
            "p99",
            "response_time",
            "availability",
            "timeout",
        ),
    ),
    (
        "data_quality",
        (
            "missing",
            "null",
            "drift",
            "duplicate",
            "completeness",
            "freshness",
            "ocr",
            "label_agreement",
            "data_quality",
            "outlier",
            "schema",
        ),
    ),
    (
        "engagement",
        (
            "active_users",
            "sessions",
            "adoption",
            "engagement",
            "dau",
            "wau",
            "mau",
            "clicks",
            "usage",
            "acceptance",
            "retention_of_users",
            "users",
        ),
    ),
    (
        "business_kpi",
        (
            "conversion",
            "revenue",
            "retention",
            "churn_rate",
            "saving",
            "saved",
            "handling_time",
            "nps",
            "csat",
            "sales",
            "margin",
            "cost_saving",
            "hours",
            "roi",
            "kpi",
            # Operations figures a PM's weekly export carries (a queue wait read as a model
            # metric where higher is better; helper-27).
            "wait",
            "queue",
            "backlog",
            "satisfaction",
            "complaint",
            "escalation",
            "resolution",
            "turnaround",
        ),
    ),
    (
        "model",
        (
            "accuracy",
            "f1",
            "auc",
            "precision",
            "recall",
            "rmse",
            "mae",
            "mape",
            "loss",
            "bleu",
            "rouge",
            "map",
            "ndcg",
            "r2",
            "logloss",
            "perplexity",
            "score",
        ),
    ),
]
_RATIO_WORDS = (
    "accuracy",
    "precision",
    "recall",
    "f1",
    "auc",
    "rate",
    "ratio",
    "share",
    "conversion",
    "retention",
    "percent",
    "pct",
    "acceptance",
    "adoption",
    "coverage",
    "completeness",
    "agreement",
)
_LOWER_WORDS = (
    "latency",
    "wait",
    "queue",
    "backlog",
    "delay",
    "duration",
    "turnaround",
    "complaint",
    "escalation",
    "abandon",
    "defect",
    "incident",
    "false_positive",
    "error",
    "loss",
    "rmse",
    "mae",
    "mape",
    "cost",
    "time",
    "churn",
    "missing",
    "drift",
    "duplicate",
    "p50",
    "p95",
    "p99",
    "timeout",
    "perplexity",
    "null",
)


_HIGHER_WORDS = ("auc", "accuracy", "f1", "precision", "recall", "ndcg", "bleu", "rouge", "r2")


def guess_metric(key: str, unit_hint: str | None) -> tuple[str, str | None, str]:
    """(category, unit, direction) guessed from a metric's name; editable later."""
    category = next((c for c, words in _CATEGORY_WORDS if any(w in key for w in words)), "model")
    unit = None
    if unit_hint in ("%", "percent", "pct", "ratio", "fraction"):
        unit = "ratio"
    elif unit_hint:
        unit = unit_hint
    elif key.endswith("_ms") or "latency" in key:
        unit = "ms"
    elif key.endswith("_rps"):
        unit = "rps"
    elif any(w in key for w in _RATIO_WORDS):
        unit = "ratio"
    # A model-quality word wins ("churn_auc" is an AUC, higher is better, though "churn" is a
    # lower-is-better word).
    lower = any(w in key for w in _LOWER_WORDS) and not any(w in key for w in _HIGHER_WORDS)
    return category, unit, "lower" if lower else "higher"
