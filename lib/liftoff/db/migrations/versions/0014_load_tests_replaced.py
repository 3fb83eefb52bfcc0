"""load_test_steps.replaced_by: a load test re-run replaces the iteration's earlier one

A second run of an iteration's load test (after a fix, on bigger hardware) was only ever added
beside the first, and the curves mixed the two; replacing it meant rolling back the first
batch, which in the demo holds every iteration's steps. An import may now replace the
iteration's earlier steps: they stay in their batch, marked with the batch that replaced them,
and come back when that batch is rolled back.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 09:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain column (no foreign key): a batch is never deleted, only marked rolled back, and
    # SQLite adds a column without rebuilding the table only when it has no constraint.
    op.add_column("load_test_steps", sa.Column("replaced_by", sa.Integer(), nullable=True))


def downgrade() -> None:
    # The older schema shows every step: the replaced ones go, so the curves do not mix.
    op.execute("DELETE FROM load_test_steps WHERE replaced_by IS NOT NULL")
    with op.batch_alter_table("load_test_steps", schema=None) as batch_op:
        batch_op.drop_column("replaced_by")
