"""import batches: changes for rollback, warnings, options

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 17:29:14.143240
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "batch_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("table_name", sa.String(length=50), nullable=False),
        sa.Column("row_id", sa.Integer(), nullable=False),
        sa.Column("before", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["import_batches.id"],
            name=op.f("fk_batch_changes_batch_id_import_batches"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batch_changes")),
    )
    with op.batch_alter_table("batch_changes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_batch_changes_batch_id"), ["batch_id"], unique=False)

    with op.batch_alter_table("concern_history", schema=None) as batch_op:
        batch_op.add_column(sa.Column("batch_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_concern_history_batch_id_import_batches"),
            "import_batches",
            ["batch_id"],
            ["id"],
            ondelete="CASCADE",
        )

    with op.batch_alter_table("import_batches", schema=None) as batch_op:
        batch_op.add_column(sa.Column("warnings", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("options", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("import_batches", schema=None) as batch_op:
        batch_op.drop_column("options")
        batch_op.drop_column("warnings")

    with op.batch_alter_table("concern_history", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_concern_history_batch_id_import_batches"), type_="foreignkey"
        )
        batch_op.drop_column("batch_id")

    with op.batch_alter_table("batch_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_batch_changes_batch_id"))

    op.drop_table("batch_changes")
