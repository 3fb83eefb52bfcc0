"""people screens: readiness rubric, gate floors, feedback workflow who/when

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 22:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("initiatives", schema=None) as batch_op:
        batch_op.add_column(sa.Column("min_headroom", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("min_readiness", sa.Float(), nullable=True))
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.add_column(sa.Column("updated_by", sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column("updated_at", sa.DateTime(), nullable=True))
    op.create_table(
        "readiness_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.Column("item", sa.String(length=60), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("updated_by", sa.String(length=320), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("score IN (0, 0.5, 1)", name=op.f("ck_readiness_items_score_valid")),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiatives.id"],
            name=op.f("fk_readiness_items_initiative_id_initiatives"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_readiness_items")),
        sa.UniqueConstraint("initiative_id", "item", name="uq_readiness_items_initiative_item"),
    )
    # The register and the feedback table filter and sort by these.
    op.create_index("ix_feedback_initiative_received", "feedback", ["initiative_id", "received_at"])
    op.create_index("ix_concern_history_changed", "concern_history", ["changed_at"])


def downgrade() -> None:
    op.drop_index("ix_concern_history_changed", table_name="concern_history")
    op.drop_index("ix_feedback_initiative_received", table_name="feedback")
    op.drop_table("readiness_items")
    with op.batch_alter_table("feedback", schema=None) as batch_op:
        batch_op.drop_column("updated_at")
        batch_op.drop_column("updated_by")
    with op.batch_alter_table("initiatives", schema=None) as batch_op:
        batch_op.drop_column("min_readiness")
        batch_op.drop_column("min_headroom")
