"""import files: the original file of a batch in a table of its own, compressed

The original file lived in `import_batches.raw`. SQLite rewrites a whole row on every update,
so finishing or rolling back a batch wrote its file again (43 MB twice for a 1,000,000-row CSV,
the first copy left as free pages), and reading a column stored after it walked the file's
overflow pages. Files are kept zlib-compressed (a metrics CSV shrinks about 3x).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 02:30:00
"""

from __future__ import annotations

import zlib

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_batches = sa.table("import_batches", sa.column("id", sa.Integer), sa.column("raw", sa.LargeBinary))
_files = sa.table(
    "import_files",
    sa.column("batch_id", sa.Integer),
    sa.column("size", sa.Integer),
    sa.column("compressed", sa.LargeBinary),
)


def upgrade() -> None:
    op.create_table(
        "import_files",
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("compressed", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["import_batches.id"],
            name=op.f("fk_import_files_batch_id_import_batches"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("batch_id", name=op.f("pk_import_files")),
    )
    conn = op.get_bind()
    ids = conn.execute(sa.select(_batches.c.id).where(_batches.c.raw.is_not(None))).scalars()
    for batch_id in ids.all():  # one file in memory at a time
        raw = conn.execute(sa.select(_batches.c.raw).where(_batches.c.id == batch_id)).scalar()
        conn.execute(
            sa.insert(_files).values(
                batch_id=batch_id, size=len(raw), compressed=zlib.compress(raw, 1)
            )
        )
    # A plain ALTER TABLE (SQLite 3.35 and newer has DROP COLUMN): batch mode would recreate
    # the table, and dropping a parent table with foreign keys on empties its children.
    op.drop_column("import_batches", "raw")


def _unpack(compressed: bytes, size: int) -> bytes:
    """Files kept since are Zstandard frames (liftoff.db.files), those of this revision zlib."""
    if compressed.startswith(b"\x28\xb5\x2f\xfd"):
        import pyarrow as pa

        return pa.Codec("zstd").decompress(compressed, decompressed_size=size, asbytes=True)
    return zlib.decompress(compressed)


def downgrade() -> None:
    op.add_column("import_batches", sa.Column("raw", sa.LargeBinary(), nullable=True))
    conn = op.get_bind()
    ids = conn.execute(sa.select(_files.c.batch_id)).scalars()
    for batch_id in ids.all():
        compressed, size = conn.execute(
            sa.select(_files.c.compressed, _files.c.size).where(_files.c.batch_id == batch_id)
        ).one()
        conn.execute(
            sa.update(_batches)
            .where(_batches.c.id == batch_id)
            .values(raw=_unpack(compressed, size))
        )
    op.drop_table("import_files")
