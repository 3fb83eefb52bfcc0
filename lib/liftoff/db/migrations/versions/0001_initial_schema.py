"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-25 17:08:22.633839
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "data_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_version")),
    )
    op.create_table(
        "import_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("file_name", sa.String(length=500), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("rows_read", sa.Integer(), nullable=False),
        sa.Column("rows_accepted", sa.Integer(), nullable=False),
        sa.Column("uploaded_by", sa.String(length=320), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("errors", sa.Text(), nullable=True),
        sa.Column("raw", sa.LargeBinary(), nullable=True),
        sa.Column("rolled_back_by", sa.String(length=320), nullable=True),
        sa.Column("rolled_back_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "status IN ('committed', 'rejected', 'rolled_back')",
            name=op.f("ck_import_batches_status_valid"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_batches")),
    )
    with op.batch_alter_table("import_batches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_import_batches_sha256"), ["sha256"], unique=False)

    op.create_table(
        "initiatives",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("business_goal", sa.Text(), nullable=True),
        sa.Column("owner", sa.String(length=200), nullable=True),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("slo_p95_ms", sa.Float(), nullable=False),
        sa.Column("max_error_rate", sa.Float(), nullable=False),
        sa.Column("primary_metric_key", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "stage IN ('poc', 'pilot', 'production', 'paused', 'retired')",
            name=op.f("ck_initiatives_stage_valid"),
        ),
        sa.CheckConstraint(
            "max_error_rate >= 0 AND max_error_rate <= 1",
            name=op.f("ck_initiatives_error_rate_fraction"),
        ),
        sa.CheckConstraint("slo_p95_ms > 0", name=op.f("ck_initiatives_slo_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_initiatives")),
        sa.UniqueConstraint("name", name=op.f("uq_initiatives_name")),
    )
    op.create_table(
        "metrics",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("unit", sa.String(length=40), nullable=True),
        sa.Column("direction", sa.String(length=10), nullable=False),
        sa.CheckConstraint(
            "category IN ('model', 'business_kpi', 'system', 'engagement', 'data_quality')",
            name=op.f("ck_metrics_category_valid"),
        ),
        sa.CheckConstraint(
            "direction IN ('higher', 'lower')", name=op.f("ck_metrics_direction_valid")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_metrics")),
        sa.UniqueConstraint("key", name=op.f("uq_metrics_key")),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=True),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("password_hash", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "role IN ('viewer', 'editor', 'admin')", name=op.f("ck_users_role_valid")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_table(
        "alert_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("initiative_id", sa.Integer(), nullable=True),
        sa.Column("metric_id", sa.Integer(), nullable=False),
        sa.Column("comparator", sa.String(length=2), nullable=False),
        sa.Column("threshold", sa.Float(), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("stages", sa.String(length=100), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "comparator IN ('>=', '>', '<=', '<', '==')",
            name=op.f("ck_alert_rules_comparator_valid"),
        ),
        sa.CheckConstraint(
            "severity IN ('low', 'medium', 'high', 'critical')",
            name=op.f("ck_alert_rules_severity_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiatives.id"],
            name=op.f("fk_alert_rules_initiative_id_initiatives"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["metric_id"],
            ["metrics.id"],
            name=op.f("fk_alert_rules_metric_id_metrics"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_rules")),
    )
    op.create_table(
        "governance_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.Column("area", sa.String(length=30), nullable=False),
        sa.Column("required_from", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=True),
        sa.Column("owner", sa.String(length=200), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "area IN ('data_sources', 'pii_consent', 'access_control', 'retention', 'lineage', 'model_card', 'fairness', 'monitoring', 'runbook_oncall', 'rollback_plan')",
            name=op.f("ck_governance_items_area_valid"),
        ),
        sa.CheckConstraint(
            "required_from IN ('poc', 'pilot', 'production')",
            name=op.f("ck_governance_items_required_from_valid"),
        ),
        sa.CheckConstraint(
            "status IN ('missing', 'in_progress', 'done', 'not_applicable')",
            name=op.f("ck_governance_items_status_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiatives.id"],
            name=op.f("fk_governance_items_initiative_id_initiatives"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_governance_items")),
        sa.UniqueConstraint("initiative_id", "area", name="uq_governance_items_initiative_area"),
    )
    op.create_table(
        "iterations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("hypothesis", sa.Text(), nullable=True),
        sa.Column("decision", sa.String(length=20), nullable=False),
        sa.Column("rationale", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.String(length=320), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "decision IN ('pending', 'go', 'no-go', 'pivot', 'extend')",
            name=op.f("ck_iterations_decision_valid"),
        ),
        sa.CheckConstraint("number >= 1", name=op.f("ck_iterations_number_positive")),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiatives.id"],
            name=op.f("fk_iterations_initiative_id_initiatives"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_iterations")),
        sa.UniqueConstraint("initiative_id", "number", name="uq_iterations_initiative_number"),
    )
    op.create_table(
        "stakeholders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("stakeholder_group", sa.String(length=100), nullable=True),
        sa.Column("influence", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "influence >= 1 AND influence <= 5", name=op.f("ck_stakeholders_influence_range")
        ),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiatives.id"],
            name=op.f("fk_stakeholders_initiative_id_initiatives"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stakeholders")),
        sa.UniqueConstraint("initiative_id", "name", name="uq_stakeholders_initiative_name"),
    )
    op.create_table(
        "traffic",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.Column("observed_at", sa.DateTime(), nullable=False),
        sa.Column("peak_rps", sa.Float(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["import_batches.id"],
            name=op.f("fk_traffic_batch_id_import_batches"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiatives.id"],
            name=op.f("fk_traffic_initiative_id_initiatives"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_traffic")),
    )
    with op.batch_alter_table("traffic", schema=None) as batch_op:
        batch_op.create_index(
            "ix_traffic_initiative_observed", ["initiative_id", "observed_at"], unique=False
        )

    op.create_table(
        "concerns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.Column("iteration_id", sa.Integer(), nullable=True),
        sa.Column("external_key", sa.String(length=100), nullable=True),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("raised_by", sa.String(length=200), nullable=True),
        sa.Column("stakeholder_group", sa.String(length=100), nullable=True),
        sa.Column("failure_category", sa.String(length=30), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=True),
        sa.Column("raised_at", sa.Date(), nullable=False),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("resolved_at", sa.Date(), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("metric_id", sa.Integer(), nullable=True),
        sa.Column("comparator", sa.String(length=2), nullable=True),
        sa.Column("threshold", sa.Float(), nullable=True),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "failure_category IN ('unclear_criteria', 'scalability', 'data_gaps', 'misalignment', 'operations')",
            name=op.f("ck_concerns_failure_category_valid"),
        ),
        sa.CheckConstraint(
            "severity IN ('low', 'medium', 'high', 'critical')",
            name=op.f("ck_concerns_severity_valid"),
        ),
        sa.CheckConstraint(
            "status IN ('open', 'mitigating', 'resolved', 'accepted')",
            name=op.f("ck_concerns_status_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["import_batches.id"],
            name=op.f("fk_concerns_batch_id_import_batches"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiatives.id"],
            name=op.f("fk_concerns_initiative_id_initiatives"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["iteration_id"],
            ["iterations.id"],
            name=op.f("fk_concerns_iteration_id_iterations"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["metric_id"],
            ["metrics.id"],
            name=op.f("fk_concerns_metric_id_metrics"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_concerns")),
        sa.UniqueConstraint(
            "initiative_id", "external_key", name="uq_concerns_initiative_external_key"
        ),
    )
    with op.batch_alter_table("concerns", schema=None) as batch_op:
        batch_op.create_index(
            "ix_concerns_initiative_status", ["initiative_id", "status"], unique=False
        )

    op.create_table(
        "criteria",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("iteration_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("metric_id", sa.Integer(), nullable=True),
        sa.Column("comparator", sa.String(length=2), nullable=False),
        sa.Column("target", sa.Float(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("manual_status", sa.String(length=10), nullable=True),
        sa.Column("evidence_note", sa.Text(), nullable=True),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "comparator IN ('>=', '>', '<=', '<', '==')", name=op.f("ck_criteria_comparator_valid")
        ),
        sa.CheckConstraint(
            "kind IN ('innovation', 'learning', 'production')", name=op.f("ck_criteria_kind_valid")
        ),
        sa.CheckConstraint(
            "manual_status IS NULL OR manual_status IN ('met', 'not_met')",
            name=op.f("ck_criteria_manual_status_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["import_batches.id"],
            name=op.f("fk_criteria_batch_id_import_batches"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["iteration_id"],
            ["iterations.id"],
            name=op.f("fk_criteria_iteration_id_iterations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["metric_id"],
            ["metrics.id"],
            name=op.f("fk_criteria_metric_id_metrics"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_criteria")),
    )
    with op.batch_alter_table("criteria", schema=None) as batch_op:
        batch_op.create_index("ix_criteria_iteration", ["iteration_id"], unique=False)

    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.Column("iteration_id", sa.Integer(), nullable=True),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("rating", sa.Float(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("theme", sa.String(length=200), nullable=True),
        sa.Column("tags", sa.String(length=500), nullable=True),
        sa.Column("sentiment", sa.Float(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("action_taken", sa.Text(), nullable=True),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "source IN ('end_user', 'stakeholder', 'support')",
            name=op.f("ck_feedback_source_valid"),
        ),
        sa.CheckConstraint(
            "status IN ('new', 'triaged', 'actioned', 'wont_fix')",
            name=op.f("ck_feedback_status_valid"),
        ),
        sa.CheckConstraint(
            "rating IS NULL OR (rating >= 1 AND rating <= 5)", name=op.f("ck_feedback_rating_range")
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["import_batches.id"],
            name=op.f("fk_feedback_batch_id_import_batches"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiatives.id"],
            name=op.f("fk_feedback_initiative_id_initiatives"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["iteration_id"],
            ["iterations.id"],
            name=op.f("fk_feedback_iteration_id_iterations"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback")),
    )
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.create_index(
            "ix_feedback_initiative_iteration", ["initiative_id", "iteration_id"], unique=False
        )

    op.create_table(
        "load_test_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("iteration_id", sa.Integer(), nullable=False),
        sa.Column("users", sa.Integer(), nullable=False),
        sa.Column("throughput_rps", sa.Float(), nullable=False),
        sa.Column("p50_ms", sa.Float(), nullable=True),
        sa.Column("p95_ms", sa.Float(), nullable=False),
        sa.Column("p99_ms", sa.Float(), nullable=True),
        sa.Column("failure_ratio", sa.Float(), nullable=False),
        sa.Column("source_file", sa.String(length=500), nullable=True),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "failure_ratio >= 0 AND failure_ratio <= 1",
            name=op.f("ck_load_test_steps_failure_fraction"),
        ),
        sa.CheckConstraint("users >= 0", name=op.f("ck_load_test_steps_users_nonnegative")),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["import_batches.id"],
            name=op.f("fk_load_test_steps_batch_id_import_batches"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["iteration_id"],
            ["iterations.id"],
            name=op.f("fk_load_test_steps_iteration_id_iterations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_load_test_steps")),
    )
    with op.batch_alter_table("load_test_steps", schema=None) as batch_op:
        batch_op.create_index("ix_load_test_steps_iteration", ["iteration_id"], unique=False)

    op.create_table(
        "observations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("iteration_id", sa.Integer(), nullable=False),
        sa.Column("metric_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=True),
        sa.Column("segment", sa.String(length=200), nullable=True),
        sa.Column("candidate", sa.String(length=200), nullable=True),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["import_batches.id"],
            name=op.f("fk_observations_batch_id_import_batches"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["iteration_id"],
            ["iterations.id"],
            name=op.f("fk_observations_iteration_id_iterations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["metric_id"],
            ["metrics.id"],
            name=op.f("fk_observations_metric_id_metrics"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_observations")),
    )
    with op.batch_alter_table("observations", schema=None) as batch_op:
        batch_op.create_index("ix_observations_batch", ["batch_id"], unique=False)
        batch_op.create_index(
            "ix_observations_iteration_metric", ["iteration_id", "metric_id"], unique=False
        )

    op.create_table(
        "stakeholder_stances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stakeholder_id", sa.Integer(), nullable=False),
        sa.Column("iteration_id", sa.Integer(), nullable=False),
        sa.Column("stance", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "stance IN ('blocker', 'skeptic', 'neutral', 'supporter', 'advocate')",
            name=op.f("ck_stakeholder_stances_stance_valid"),
        ),
        sa.ForeignKeyConstraint(
            ["iteration_id"],
            ["iterations.id"],
            name=op.f("fk_stakeholder_stances_iteration_id_iterations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["stakeholder_id"],
            ["stakeholders.id"],
            name=op.f("fk_stakeholder_stances_stakeholder_id_stakeholders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stakeholder_stances")),
        sa.UniqueConstraint(
            "stakeholder_id", "iteration_id", name="uq_stakeholder_stances_iteration"
        ),
    )
    op.create_table(
        "concern_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("concern_id", sa.Integer(), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        sa.Column("changed_by", sa.String(length=320), nullable=True),
        sa.Column("from_status", sa.String(length=20), nullable=True),
        sa.Column("to_status", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["concern_id"],
            ["concerns.id"],
            name=op.f("fk_concern_history_concern_id_concerns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_concern_history")),
    )
    with op.batch_alter_table("concern_history", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_concern_history_concern_id"), ["concern_id"], unique=False
        )

    # The one data-version row that every write bumps.
    data_version = sa.table(
        "data_version",
        sa.column("id", sa.Integer),
        sa.column("version", sa.Integer),
        sa.column("changed_at", sa.DateTime),
    )
    op.bulk_insert(data_version, [{"id": 1, "version": 0, "changed_at": datetime(2026, 1, 1)}])


def downgrade() -> None:
    with op.batch_alter_table("concern_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_concern_history_concern_id"))

    op.drop_table("concern_history")
    op.drop_table("stakeholder_stances")
    with op.batch_alter_table("observations", schema=None) as batch_op:
        batch_op.drop_index("ix_observations_iteration_metric")
        batch_op.drop_index("ix_observations_batch")

    op.drop_table("observations")
    with op.batch_alter_table("load_test_steps", schema=None) as batch_op:
        batch_op.drop_index("ix_load_test_steps_iteration")

    op.drop_table("load_test_steps")
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_index("ix_feedback_initiative_iteration")

    op.drop_table("feedback")
    with op.batch_alter_table("criteria", schema=None) as batch_op:
        batch_op.drop_index("ix_criteria_iteration")

    op.drop_table("criteria")
    with op.batch_alter_table("concerns", schema=None) as batch_op:
        batch_op.drop_index("ix_concerns_initiative_status")

    op.drop_table("concerns")
    with op.batch_alter_table("traffic", schema=None) as batch_op:
        batch_op.drop_index("ix_traffic_initiative_observed")

    op.drop_table("traffic")
    op.drop_table("stakeholders")
    op.drop_table("iterations")
    op.drop_table("governance_items")
    op.drop_table("alert_rules")
    op.drop_table("users")
    op.drop_table("metrics")
    op.drop_table("initiatives")
    with op.batch_alter_table("import_batches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_import_batches_sha256"))

    op.drop_table("import_batches")
    op.drop_table("data_version")
