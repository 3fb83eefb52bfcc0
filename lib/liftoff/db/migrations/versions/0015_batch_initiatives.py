"""batch_initiatives: which initiatives an import batch brought data for

The import history named a batch's kind and file but not its initiative, so a product manager
with several initiatives could not tell which batch to roll back. The importer now records the
initiatives of each batch; this fills them in for the batches already stored, from the rows
they still hold (a batch rolled back before this has none left, and names none).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 11:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

# Where each kind of row says its initiative: directly, through its iteration, or (rows a batch
# changed rather than added, in batch_changes) through the changed row.
_BACKFILL = """
INSERT INTO batch_initiatives (batch_id, initiative_id)
SELECT DISTINCT batch_id, initiative_id FROM (
    SELECT o.batch_id, it.initiative_id FROM observations o
        JOIN iterations it ON it.id = o.iteration_id
    UNION SELECT c.batch_id, it.initiative_id FROM criteria c
        JOIN iterations it ON it.id = c.iteration_id
    UNION SELECT s.batch_id, it.initiative_id FROM load_test_steps s
        JOIN iterations it ON it.id = s.iteration_id
    UNION SELECT batch_id, initiative_id FROM traffic
    UNION SELECT batch_id, initiative_id FROM feedback
    UNION SELECT batch_id, initiative_id FROM concerns WHERE batch_id IS NOT NULL
    UNION SELECT bc.batch_id, it.initiative_id FROM batch_changes bc
        JOIN iterations it ON bc.table_name = 'iterations' AND it.id = bc.row_id
    UNION SELECT bc.batch_id, g.initiative_id FROM batch_changes bc
        JOIN governance_items g ON bc.table_name = 'governance_items' AND g.id = bc.row_id
    UNION SELECT bc.batch_id, s.initiative_id FROM batch_changes bc
        JOIN stakeholders s ON bc.table_name = 'stakeholders' AND s.id = bc.row_id
    UNION SELECT bc.batch_id, c.initiative_id FROM batch_changes bc
        JOIN concerns c ON bc.table_name = 'concerns' AND c.id = bc.row_id
    UNION SELECT bc.batch_id, s.initiative_id FROM batch_changes bc
        JOIN stakeholder_stances ss ON bc.table_name = 'stakeholder_stances' AND ss.id = bc.row_id
        JOIN stakeholders s ON s.id = ss.stakeholder_id
    UNION SELECT bc.batch_id, i.id FROM batch_changes bc
        JOIN initiatives i ON bc.table_name = 'initiatives' AND i.id = bc.row_id
) AS touched
"""


def upgrade() -> None:
    op.create_table(
        "batch_initiatives",
        sa.Column(
            "batch_id",
            sa.Integer(),
            sa.ForeignKey("import_batches.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "initiative_id",
            sa.Integer(),
            sa.ForeignKey("initiatives.id", ondelete="CASCADE"),
            primary_key=True,
        ),
    )
    op.create_index("ix_batch_initiatives_initiative_id", "batch_initiatives", ["initiative_id"])
    op.execute(_BACKFILL)


def downgrade() -> None:
    op.drop_index("ix_batch_initiatives_initiative_id", table_name="batch_initiatives")
    op.drop_table("batch_initiatives")
