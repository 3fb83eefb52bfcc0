"""concerns: the failure category may be empty ("not categorised yet")

Risk registers from other tools have never heard of Liftoff's five failure categories. Their
concerns import without one, flagged for triage, and someone gives them a category later.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 21:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def _alter(nullable: bool) -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        # SQLite changes a column by recreating the table; dropping the old one with foreign
        # keys on deletes its children (concern_history, ON DELETE CASCADE). Keep them aside.
        op.execute("CREATE TEMPORARY TABLE _keep_history AS SELECT * FROM concern_history")
    with op.batch_alter_table("concerns", schema=None) as batch_op:
        batch_op.alter_column(
            "failure_category", existing_type=sa.String(length=30), nullable=nullable
        )
    if sqlite:
        op.execute(
            "INSERT INTO concern_history SELECT * FROM _keep_history "
            "WHERE id NOT IN (SELECT id FROM concern_history)"
        )
        op.execute("DROP TABLE _keep_history")


def upgrade() -> None:
    _alter(nullable=True)


def downgrade() -> None:
    # The older schema needs a category: concerns nobody categorised become "unclear
    # production criteria", the category that says least about them.
    op.execute(
        "UPDATE concerns SET failure_category = 'unclear_criteria' WHERE failure_category IS NULL"
    )
    _alter(nullable=False)
