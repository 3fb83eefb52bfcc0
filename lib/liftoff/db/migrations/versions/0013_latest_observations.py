"""latest_observations: the headline values kept at write time

The overview ranked every unsegmented observation on its first render: 0.93 s at 1,000,000
observations and 2.66 s at 10,000,000. The latest observation per iteration, metric and
candidate is now kept by the importer and by rollback (liftoff.evidence.latest), and this
migration ranks the observations already stored once.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 18:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_BACKFILL = {
    "sqlite": """
INSERT INTO latest_observations
    (iteration_id, metric_id, candidate, observation_id, value, recorded_at, batch_id)
SELECT o.iteration_id, o.metric_id, coalesce(o.candidate, ''), o.id, o.value, o.recorded_at,
       o.batch_id
FROM (
    SELECT max(
        CASE WHEN recorded_at IS NULL THEN '0' ELSE '1' || recorded_at END
        || char(1) || printf('%012d%012d', batch_id, id)
    ) AS k
    FROM observations
    WHERE segment IS NULL
    GROUP BY iteration_id, metric_id, candidate
) AS latest
JOIN observations AS o ON o.id = CAST(substr(latest.k, -12) AS INTEGER)
""",
    "postgresql": """
INSERT INTO latest_observations
    (iteration_id, metric_id, candidate, observation_id, value, recorded_at, batch_id)
SELECT DISTINCT ON (iteration_id, metric_id, coalesce(candidate, ''))
       iteration_id, metric_id, coalesce(candidate, ''), id, value, recorded_at, batch_id
FROM observations
WHERE segment IS NULL
ORDER BY iteration_id, metric_id, coalesce(candidate, ''),
         recorded_at IS NOT NULL DESC, recorded_at DESC, batch_id DESC, id DESC
""",
}


def upgrade() -> None:
    op.create_table(
        "latest_observations",
        sa.Column("iteration_id", sa.Integer(), nullable=False),
        sa.Column("metric_id", sa.Integer(), nullable=False),
        sa.Column("candidate", sa.String(length=200), nullable=False),
        sa.Column("observation_id", sa.Integer(), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=True),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["import_batches.id"],
            name=op.f("fk_latest_observations_batch_id_import_batches"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["iteration_id"],
            ["iterations.id"],
            name=op.f("fk_latest_observations_iteration_id_iterations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["metric_id"],
            ["metrics.id"],
            name=op.f("fk_latest_observations_metric_id_metrics"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "iteration_id", "metric_id", "candidate", name=op.f("pk_latest_observations")
        ),
    )
    op.create_index("ix_latest_observations_batch", "latest_observations", ["batch_id"])
    op.execute(_BACKFILL[op.get_bind().dialect.name])


def downgrade() -> None:
    op.drop_index("ix_latest_observations_batch", table_name="latest_observations")
    op.drop_table("latest_observations")
