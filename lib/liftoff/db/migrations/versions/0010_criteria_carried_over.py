"""criteria carried over: a new iteration starts with the previous iteration's criteria

A criterion copied forward when its iteration was created is marked `carried_over` until
someone edits it, so the screens can say which criteria nobody has confirmed for the new
iteration yet.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 21:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("criteria") as batch:
        batch.add_column(
            sa.Column("carried_over", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    with op.batch_alter_table("criteria") as batch:
        batch.drop_column("carried_over")
