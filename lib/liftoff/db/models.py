"""Liftoff's domain as SQLAlchemy models. The schema itself is made only by Alembic."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Named constraints, so migrations can drop and alter them on every backend.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

STAGES = ("poc", "pilot", "production", "paused", "retired")
DECISIONS = ("pending", "go", "no-go", "pivot", "extend")
CATEGORIES = ("model", "business_kpi", "system", "engagement", "data_quality")
DIRECTIONS = ("higher", "lower")
CRITERION_KINDS = ("innovation", "learning", "production")
COMPARATORS = (">=", ">", "<=", "<", "==")
FEEDBACK_SOURCES = ("end_user", "stakeholder", "support")
FEEDBACK_STATUSES = ("new", "triaged", "actioned", "wont_fix")
FAILURE_CATEGORIES = (
    "unclear_criteria",
    "scalability",
    "data_gaps",
    "misalignment",
    "operations",
)
SEVERITIES = ("low", "medium", "high", "critical")
# Most severe first: the order of every list of concerns and alerts.
SEVERITY_RANK = {s: rank for rank, s in enumerate(reversed(SEVERITIES))}
CONCERN_STATUSES = ("open", "mitigating", "resolved", "accepted")
STANCES = ("blocker", "skeptic", "neutral", "supporter", "advocate")
GOVERNANCE_AREAS = (
    "data_sources",
    "pii_consent",
    "access_control",
    "retention",
    "lineage",
    "model_card",
    "fairness",
    "monitoring",
    "runbook_oncall",
    "rollback_plan",
)
GOVERNANCE_STATUSES = ("missing", "in_progress", "done", "not_applicable")
BATCH_STATUSES = ("committed", "rejected", "rolled_back")
ROLES = ("viewer", "editor", "admin")
# API tokens never carry admin: a leaked pipeline secret must not manage users.
TOKEN_ROLES = ("viewer", "editor")
CHANNEL_KINDS = ("webhook", "email")
# A webhook's body: Liftoff's own JSON, or a body Slack's or Teams' incoming webhooks accept.
WEBHOOK_FORMATS = ("json", "slack", "teams")
MESSAGE_KINDS = ("alert", "digest", "test")


def _one_of(column: str, values: tuple[str, ...], name: str | None = None) -> CheckConstraint:
    quoted = ", ".join(f"'{v}'" for v in values)
    return CheckConstraint(f"{column} IN ({quoted})", name=name or f"{column}_valid")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class DataVersion(Base):
    """One row whose counter every write bumps; cached reads are keyed by it."""

    __tablename__ = "data_version"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    changed_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (_one_of("role", ROLES),)
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True, nullable=False)
    display_name: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20), nullable=False, default="viewer")
    password_hash: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    # Wrong passwords in a row; reaching the limit sets locked_until.
    failed_sign_ins: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(DateTime)


class SignInSession(Base):
    """A signed-in browser: the cookie's id is stored only as its SHA-256, so a copy of the
    database signs nobody in."""

    __tablename__ = "sessions"
    __table_args__ = (Index("ix_sessions_user_id", "user_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)


class SignInThrottle(Base):
    """Failed sign-ins counted per key (a client address, or an address and an account),
    incremented in one statement so concurrent attempts cannot lose a count."""

    __tablename__ = "sign_in_throttle"
    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)


class ServerSecret(Base):
    """Secrets every app process shares (the key that signs session cookies), made once."""

    __tablename__ = "server_secrets"
    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)


class AuditEntry(Base):
    """One write or sign-in event: who, when, what, the row before and after (JSON)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"), Index("ix_audit_log_action", "action"))
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    actor: Mapped[str] = mapped_column(String(320), nullable=False)
    role: Mapped[str | None] = mapped_column(String(20))
    # How the actor came: password, oidc, cli, system.
    via: Mapped[str | None] = mapped_column(String(20))
    action: Mapped[str] = mapped_column(String(60), nullable=False)
    target: Mapped[str | None] = mapped_column(String(60))
    target_id: Mapped[str | None] = mapped_column(String(100))
    summary: Mapped[str] = mapped_column(Text, nullable=False)
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)


class ApiToken(Base):
    """A bearer token for the HTTP API: only its SHA-256 is stored; the token is shown once."""

    __tablename__ = "api_tokens"
    __table_args__ = (_one_of("role", TOKEN_ROLES),)
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    role: Mapped[str] = mapped_column(String(20), nullable=False)
    # When set, the token may write only to this initiative.
    initiative_id: Mapped[int | None] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE")
    )
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    created_by: Mapped[str | None] = mapped_column(String(320))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)


class Initiative(Base):
    __tablename__ = "initiatives"
    __table_args__ = (
        _one_of("stage", STAGES),
        CheckConstraint("slo_p95_ms > 0", name="slo_positive"),
        CheckConstraint("max_error_rate >= 0 AND max_error_rate <= 1", name="error_rate_fraction"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True, nullable=False)
    business_goal: Mapped[str | None] = mapped_column(Text)
    owner: Mapped[str | None] = mapped_column(String(200))
    stage: Mapped[str] = mapped_column(String(20), nullable=False, default="poc")
    slo_p95_ms: Mapped[float] = mapped_column(Float, nullable=False, default=500.0)
    max_error_rate: Mapped[float] = mapped_column(Float, nullable=False, default=0.01)
    primary_metric_key: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    # Readiness-gate floors; NULL means the stage's default (see liftoff.people).
    min_headroom: Mapped[float | None] = mapped_column(Float)
    min_readiness: Mapped[float | None] = mapped_column(Float)


class ImportBatch(Base):
    __tablename__ = "import_batches"
    __table_args__ = (_one_of("status", BATCH_STATUSES),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    file_name: Mapped[str] = mapped_column(String(500), nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    rows_read: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    rows_accepted: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    uploaded_by: Mapped[str | None] = mapped_column(String(320))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="committed")
    errors: Mapped[str | None] = mapped_column(Text)
    rolled_back_by: Mapped[str | None] = mapped_column(String(320))
    rolled_back_at: Mapped[datetime | None] = mapped_column(DateTime)
    warnings: Mapped[str | None] = mapped_column(Text)
    # The import options as JSON (initiative, iteration, users, …), to tell how it was read.
    options: Mapped[str | None] = mapped_column(Text)


class BatchInitiative(Base):
    """An initiative an import batch brought data for, recorded when it was imported, so the
    import history names it (and still does once the batch is rolled back)."""

    __tablename__ = "batch_initiatives"
    batch_id: Mapped[int] = mapped_column(
        ForeignKey("import_batches.id", ondelete="CASCADE"), primary_key=True
    )
    initiative_id: Mapped[int] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class ImportFile(Base):
    """The file an import batch came from, byte for byte, compressed (liftoff.db.files). Kept out of the
    batch row: SQLite rewrites a whole row on update, and listing batches never needs it."""

    __tablename__ = "import_files"
    batch_id: Mapped[int] = mapped_column(
        ForeignKey("import_batches.id", ondelete="CASCADE"), primary_key=True
    )
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    compressed: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)


class BatchChange(Base):
    """A row an import batch changed (not added), with its values before, for rollback."""

    __tablename__ = "batch_changes"
    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(
        ForeignKey("import_batches.id", ondelete="CASCADE"), nullable=False, index=True
    )
    table_name: Mapped[str] = mapped_column(String(50), nullable=False)
    row_id: Mapped[int] = mapped_column(Integer, nullable=False)
    # JSON of the row before the change; "{}" when the batch created the row.
    before: Mapped[str] = mapped_column(Text, nullable=False)


class Iteration(Base):
    __tablename__ = "iterations"
    __table_args__ = (
        UniqueConstraint("initiative_id", "number", name="uq_iterations_initiative_number"),
        _one_of("decision", DECISIONS),
        CheckConstraint("number >= 1", name="number_positive"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE"), nullable=False
    )
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    label: Mapped[str | None] = mapped_column(String(200))
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    hypothesis: Mapped[str | None] = mapped_column(Text)
    decision: Mapped[str] = mapped_column(String(20), nullable=False, default="pending")
    rationale: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(320))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)


class Metric(Base):
    __tablename__ = "metrics"
    __table_args__ = (_one_of("category", CATEGORIES), _one_of("direction", DIRECTIONS))
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    display_name: Mapped[str] = mapped_column(String(200), nullable=False)
    category: Mapped[str] = mapped_column(String(20), nullable=False)
    # "ratio" means a fraction 0..1, shown as a percentage.
    unit: Mapped[str | None] = mapped_column(String(40))
    direction: Mapped[str] = mapped_column(String(10), nullable=False, default="higher")


class Observation(Base):
    __tablename__ = "observations"
    __table_args__ = (
        # No index on batch_id: only a rollback looks rows up by batch, and one pass over the
        # table then costs less than keeping an index on every import (migration 0006).
        Index("ix_observations_iteration_metric", "iteration_id", "metric_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    iteration_id: Mapped[int] = mapped_column(
        ForeignKey("iterations.id", ondelete="CASCADE"), nullable=False
    )
    metric_id: Mapped[int] = mapped_column(
        ForeignKey("metrics.id", ondelete="CASCADE"), nullable=False
    )
    value: Mapped[float] = mapped_column(Float, nullable=False)
    recorded_at: Mapped[datetime | None] = mapped_column(DateTime)
    segment: Mapped[str | None] = mapped_column(String(200))
    candidate: Mapped[str | None] = mapped_column(String(200))
    batch_id: Mapped[int] = mapped_column(
        ForeignKey("import_batches.id", ondelete="CASCADE"), nullable=False
    )


class LatestObservation(Base):
    """The read model of the headline values: per iteration, metric and candidate, the latest
    unsegmented observation (liftoff.evidence.latest says which that is). Kept at write time by
    the importer and by rollback, so that the screens read these few rows instead of ranking
    every observation (migration 0013). `candidate` is "" for readings that name none."""

    __tablename__ = "latest_observations"
    __table_args__ = (Index("ix_latest_observations_batch", "batch_id"),)
    iteration_id: Mapped[int] = mapped_column(
        ForeignKey("iterations.id", ondelete="CASCADE"), primary_key=True
    )
    metric_id: Mapped[int] = mapped_column(
        ForeignKey("metrics.id", ondelete="CASCADE"), primary_key=True
    )
    candidate: Mapped[str] = mapped_column(String(200), primary_key=True)
    observation_id: Mapped[int] = mapped_column(Integer, nullable=False)
    value: Mapped[float] = mapped_column(Float, nullable=False)
    recorded_at: Mapped[datetime | None] = mapped_column(DateTime)
    batch_id: Mapped[int] = mapped_column(
        ForeignKey("import_batches.id", ondelete="CASCADE"), nullable=False
    )


class Criterion(Base):
    __tablename__ = "criteria"
    __table_args__ = (
        _one_of("kind", CRITERION_KINDS),
        _one_of("comparator", COMPARATORS),
        CheckConstraint(
            "manual_status IS NULL OR manual_status IN ('met', 'not_met')",
            name="manual_status_valid",
        ),
        Index("ix_criteria_iteration", "iteration_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    iteration_id: Mapped[int] = mapped_column(
        ForeignKey("iterations.id", ondelete="CASCADE"), nullable=False
    )
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    metric_id: Mapped[int | None] = mapped_column(ForeignKey("metrics.id", ondelete="SET NULL"))
    comparator: Mapped[str] = mapped_column(String(2), nullable=False, default=">=")
    target: Mapped[float | None] = mapped_column(Float)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    manual_status: Mapped[str | None] = mapped_column(String(10))
    evidence_note: Mapped[str | None] = mapped_column(Text)
    batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("import_batches.id", ondelete="CASCADE")
    )
    # Copied from the previous iteration when this one was created; cleared by an edit.
    carried_over: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false()
    )


class LoadTestStep(Base):
    __tablename__ = "load_test_steps"
    __table_args__ = (
        CheckConstraint("users >= 0", name="users_nonnegative"),
        CheckConstraint("failure_ratio >= 0 AND failure_ratio <= 1", name="failure_fraction"),
        Index("ix_load_test_steps_iteration", "iteration_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    iteration_id: Mapped[int] = mapped_column(
        ForeignKey("iterations.id", ondelete="CASCADE"), nullable=False
    )
    users: Mapped[int] = mapped_column(Integer, nullable=False)
    throughput_rps: Mapped[float] = mapped_column(Float, nullable=False)
    p50_ms: Mapped[float | None] = mapped_column(Float)
    p95_ms: Mapped[float] = mapped_column(Float, nullable=False)
    p99_ms: Mapped[float | None] = mapped_column(Float)
    failure_ratio: Mapped[float] = mapped_column(Float, nullable=False, default=0.0)
    source_file: Mapped[str | None] = mapped_column(String(500))
    batch_id: Mapped[int] = mapped_column(
        ForeignKey("import_batches.id", ondelete="CASCADE"), nullable=False
    )
    # The batch whose load test of the same iteration replaced this step (None: it counts).
    # The step stays in its own batch and counts again when that batch is rolled back.
    replaced_by: Mapped[int | None] = mapped_column(Integer)


class TrafficPoint(Base):
    __tablename__ = "traffic"
    __table_args__ = (Index("ix_traffic_initiative_observed", "initiative_id", "observed_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE"), nullable=False
    )
    observed_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    peak_rps: Mapped[float] = mapped_column(Float, nullable=False)
    batch_id: Mapped[int] = mapped_column(
        ForeignKey("import_batches.id", ondelete="CASCADE"), nullable=False
    )


class Feedback(Base):
    __tablename__ = "feedback"
    __table_args__ = (
        _one_of("source", FEEDBACK_SOURCES),
        _one_of("status", FEEDBACK_STATUSES),
        CheckConstraint("rating IS NULL OR (rating >= 1 AND rating <= 5)", name="rating_range"),
        Index("ix_feedback_initiative_iteration", "initiative_id", "iteration_id"),
        Index("ix_feedback_initiative_received", "initiative_id", "received_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE"), nullable=False
    )
    iteration_id: Mapped[int | None] = mapped_column(
        ForeignKey("iterations.id", ondelete="SET NULL")
    )
    received_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    source: Mapped[str] = mapped_column(String(20), nullable=False, default="end_user")
    rating: Mapped[float | None] = mapped_column(Float)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    theme: Mapped[str | None] = mapped_column(String(200))
    tags: Mapped[str | None] = mapped_column(String(500))
    sentiment: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="new")
    action_taken: Mapped[str | None] = mapped_column(Text)
    updated_by: Mapped[str | None] = mapped_column(String(320))
    updated_at: Mapped[datetime | None] = mapped_column(DateTime)
    batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("import_batches.id", ondelete="CASCADE")
    )


class Concern(Base):
    __tablename__ = "concerns"
    __table_args__ = (
        UniqueConstraint(
            "initiative_id", "external_key", name="uq_concerns_initiative_external_key"
        ),
        _one_of("failure_category", FAILURE_CATEGORIES),
        _one_of("severity", SEVERITIES),
        _one_of("status", CONCERN_STATUSES),
        Index("ix_concerns_initiative_status", "initiative_id", "status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE"), nullable=False
    )
    iteration_id: Mapped[int | None] = mapped_column(
        ForeignKey("iterations.id", ondelete="SET NULL")
    )
    external_key: Mapped[str | None] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(500), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    raised_by: Mapped[str | None] = mapped_column(String(200))
    stakeholder_group: Mapped[str | None] = mapped_column(String(100))
    # Empty: not categorised yet (a register from another tool), flagged for triage.
    failure_category: Mapped[str | None] = mapped_column(String(30))
    severity: Mapped[str] = mapped_column(String(10), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="open")
    owner: Mapped[str | None] = mapped_column(String(200))
    raised_at: Mapped[date] = mapped_column(Date, nullable=False)
    due: Mapped[date | None] = mapped_column(Date)
    resolved_at: Mapped[date | None] = mapped_column(Date)
    resolution: Mapped[str | None] = mapped_column(Text)
    metric_id: Mapped[int | None] = mapped_column(ForeignKey("metrics.id", ondelete="SET NULL"))
    comparator: Mapped[str | None] = mapped_column(String(2))
    threshold: Mapped[float | None] = mapped_column(Float)
    batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("import_batches.id", ondelete="CASCADE")
    )


class ConcernStatusChange(Base):
    __tablename__ = "concern_history"
    __table_args__ = (Index("ix_concern_history_changed", "changed_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    concern_id: Mapped[int] = mapped_column(
        ForeignKey("concerns.id", ondelete="CASCADE"), nullable=False, index=True
    )
    changed_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    changed_by: Mapped[str | None] = mapped_column(String(320))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20), nullable=False)
    note: Mapped[str | None] = mapped_column(Text)
    batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("import_batches.id", ondelete="CASCADE")
    )


class Stakeholder(Base):
    __tablename__ = "stakeholders"
    __table_args__ = (
        UniqueConstraint("initiative_id", "name", name="uq_stakeholders_initiative_name"),
        CheckConstraint("influence >= 1 AND influence <= 5", name="influence_range"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE"), nullable=False
    )
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    group: Mapped[str | None] = mapped_column("stakeholder_group", String(100))
    influence: Mapped[int] = mapped_column(Integer, nullable=False, default=3)


class StakeholderStance(Base):
    __tablename__ = "stakeholder_stances"
    __table_args__ = (
        UniqueConstraint("stakeholder_id", "iteration_id", name="uq_stakeholder_stances_iteration"),
        _one_of("stance", STANCES),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    stakeholder_id: Mapped[int] = mapped_column(
        ForeignKey("stakeholders.id", ondelete="CASCADE"), nullable=False
    )
    iteration_id: Mapped[int] = mapped_column(
        ForeignKey("iterations.id", ondelete="CASCADE"), nullable=False
    )
    stance: Mapped[str] = mapped_column(String(20), nullable=False)
    note: Mapped[str | None] = mapped_column(Text)


ACTION_STATUSES = ("open", "done")


class DecisionRecord(Base):
    """A decision taken on an iteration in a meeting: who was there and who recorded it."""

    __tablename__ = "decision_records"
    __table_args__ = (
        _one_of("decision", DECISIONS),
        Index("ix_decision_records_iteration", "iteration_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    iteration_id: Mapped[int] = mapped_column(
        ForeignKey("iterations.id", ondelete="CASCADE"), nullable=False
    )
    decision: Mapped[str] = mapped_column(String(20), nullable=False)
    rationale: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(320))
    # One attendee per line.
    attendees: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(320), nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)


class ActionItem(Base):
    """Something a meeting asked someone to do by a date; open until marked done."""

    __tablename__ = "action_items"
    __table_args__ = (
        _one_of("status", ACTION_STATUSES),
        Index("ix_action_items_initiative_status", "initiative_id", "status"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE"), nullable=False
    )
    decision_id: Mapped[int | None] = mapped_column(
        ForeignKey("decision_records.id", ondelete="SET NULL")
    )
    title: Mapped[str] = mapped_column(Text, nullable=False)
    owner: Mapped[str | None] = mapped_column(String(200))
    due: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="open")
    created_by: Mapped[str] = mapped_column(String(320), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    done_at: Mapped[datetime | None] = mapped_column(DateTime)


class Snapshot(Base):
    """A frozen steering pack: its figures and chart data as JSON, read-only."""

    __tablename__ = "snapshots"
    __table_args__ = (Index("ix_snapshots_initiative", "initiative_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE"), nullable=False
    )
    iteration_number: Mapped[int] = mapped_column(Integer, nullable=False)
    created_by: Mapped[str] = mapped_column(String(320), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    note: Mapped[str | None] = mapped_column(Text)
    pack: Mapped[str] = mapped_column(Text, nullable=False)


class ReadinessItem(Base):
    """One item of the readiness rubric (ML Test Score) for an initiative: 0, 0.5 or 1."""

    __tablename__ = "readiness_items"
    __table_args__ = (
        UniqueConstraint("initiative_id", "item", name="uq_readiness_items_initiative_item"),
        CheckConstraint("score IN (0, 0.5, 1)", name="score_valid"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE"), nullable=False
    )
    item: Mapped[str] = mapped_column(String(60), nullable=False)
    score: Mapped[float] = mapped_column(Float, nullable=False)
    note: Mapped[str | None] = mapped_column(Text)
    updated_by: Mapped[str | None] = mapped_column(String(320))
    updated_at: Mapped[datetime | None] = mapped_column(DateTime)


class AlertRule(Base):
    __tablename__ = "alert_rules"
    __table_args__ = (
        _one_of("comparator", COMPARATORS),
        _one_of("severity", SEVERITIES),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    # NULL: the rule applies to every initiative.
    initiative_id: Mapped[int | None] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE")
    )
    metric_id: Mapped[int] = mapped_column(
        ForeignKey("metrics.id", ondelete="CASCADE"), nullable=False
    )
    comparator: Mapped[str] = mapped_column(String(2), nullable=False)
    threshold: Mapped[float] = mapped_column(Float, nullable=False)
    severity: Mapped[str] = mapped_column(String(10), nullable=False, default="medium")
    # Comma-separated stages the rule applies to, e.g. "pilot,production".
    stages: Mapped[str] = mapped_column(String(100), nullable=False, default="poc,pilot,production")
    enabled: Mapped[bool] = mapped_column(default=True, nullable=False)
    # Minutes after which a still-firing critical rule is sent again (NULL: once per firing).
    repeat_minutes: Mapped[int | None] = mapped_column(Integer)


class GovernanceItem(Base):
    __tablename__ = "governance_items"
    __table_args__ = (
        UniqueConstraint("initiative_id", "area", name="uq_governance_items_initiative_area"),
        _one_of("area", GOVERNANCE_AREAS),
        _one_of("required_from", STAGES[:3], name="required_from_valid"),
        _one_of("status", GOVERNANCE_STATUSES),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    initiative_id: Mapped[int] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE"), nullable=False
    )
    area: Mapped[str] = mapped_column(String(30), nullable=False)
    required_from: Mapped[str] = mapped_column(String(20), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False, default="missing")
    evidence: Mapped[str | None] = mapped_column(Text)
    owner: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime | None] = mapped_column(DateTime)


class NotificationChannel(Base):
    """Where alerts and digests go: a webhook URL or an email address, with its filters."""

    __tablename__ = "notification_channels"
    __table_args__ = (
        _one_of("kind", CHANNEL_KINDS),
        _one_of("format", WEBHOOK_FORMATS),
        _one_of("min_severity", SEVERITIES),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True, nullable=False)
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    target: Mapped[str] = mapped_column(String(2000), nullable=False)
    format: Mapped[str] = mapped_column(String(10), nullable=False, default="json")
    # NULL: every initiative.
    initiative_id: Mapped[int | None] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE")
    )
    min_severity: Mapped[str] = mapped_column(String(10), nullable=False, default="low")
    # Signs webhook bodies (HMAC-SHA256) when set.
    secret: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    last_success_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_error_at: Mapped[datetime | None] = mapped_column(DateTime)


class AlertState(Base):
    """What Liftoff last saw of a rule for an initiative: notifications go on changes only."""

    __tablename__ = "alert_states"
    __table_args__ = (
        UniqueConstraint("rule_id", "initiative_id", name="uq_alert_states_rule_initiative"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int] = mapped_column(
        ForeignKey("alert_rules.id", ondelete="CASCADE"), nullable=False
    )
    initiative_id: Mapped[int] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE"), nullable=False
    )
    firing: Mapped[bool] = mapped_column(nullable=False, default=False)
    value: Mapped[float | None] = mapped_column(Float)
    iteration: Mapped[int | None] = mapped_column(Integer)
    since_iteration: Mapped[int | None] = mapped_column(Integer)
    changed_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    # Whether this firing was sent (a silenced one is not, and then neither is its resolve).
    notified: Mapped[bool] = mapped_column(nullable=False, default=False)
    last_sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(200))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime)


class CriterionState(Base):
    """A criterion's last status (met, not met, no evidence), so the digest can list flips."""

    __tablename__ = "criterion_states"
    criterion_id: Mapped[int] = mapped_column(
        ForeignKey("criteria.id", ondelete="CASCADE"), primary_key=True
    )
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    changed_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)


class Silence(Base):
    """Alerts of a rule, an initiative or both not sent until a time; still shown, marked."""

    __tablename__ = "silences"
    __table_args__ = (
        CheckConstraint(
            "rule_id IS NOT NULL OR initiative_id IS NOT NULL", name="rule_or_initiative"
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("alert_rules.id", ondelete="CASCADE"))
    initiative_id: Mapped[int | None] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE")
    )
    until: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    created_by: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)


class NotifyEvent(Base):
    """A change Liftoff noticed (an alert fired or resolved, a criterion flipped): the digest's
    history."""

    __tablename__ = "notify_events"
    __table_args__ = (Index("ix_notify_events_initiative_at", "initiative_id", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    initiative_id: Mapped[int] = mapped_column(
        ForeignKey("initiatives.id", ondelete="CASCADE"), nullable=False
    )
    kind: Mapped[str] = mapped_column(String(20), nullable=False)  # alert, criterion
    state: Mapped[str] = mapped_column(String(20), nullable=False)
    previous: Mapped[str | None] = mapped_column(String(20))
    # JSON: what the digest names (metric, value, threshold, iteration …).
    detail: Mapped[str] = mapped_column(Text, nullable=False)


class OutboxMessage(Base):
    """A message to send, written in the transaction of the change that caused it; a worker
    sends it, retrying with backoff, so nothing is lost when a process stops."""

    __tablename__ = "outbox"
    __table_args__ = (
        _one_of("kind", MESSAGE_KINDS),
        Index("ix_outbox_pending", "sent_at", "next_attempt_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    # A channel, or (a digest sent with `--to`) an email address of its own.
    channel_id: Mapped[int | None] = mapped_column(
        ForeignKey("notification_channels.id", ondelete="CASCADE")
    )
    address: Mapped[str | None] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(10), nullable=False)
    initiative_id: Mapped[int | None] = mapped_column(
        ForeignKey("initiatives.id", ondelete="SET NULL")
    )
    # Scheduled digests: one per channel, initiative and slot, whichever process gets there.
    dedupe_key: Mapped[str | None] = mapped_column(String(300), unique=True)
    subject: Mapped[str] = mapped_column(String(500), nullable=False)
    payload: Mapped[str] = mapped_column(Text, nullable=False)  # JSON
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    # A worker that took the message holds it until then; after a crash another takes it.
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(Text)


def name_of(column):
    """What a screen shows for a column that records who did something: the person's name
    when the column holds the email of an account that has one, else the column as stored
    (a CLI user, a token, a name typed by hand). The stored value stays the email, for the
    audit log."""
    from sqlalchemy import func, select

    name = select(User.display_name).where(User.email == column).limit(1).scalar_subquery()
    return func.coalesce(name, column)
