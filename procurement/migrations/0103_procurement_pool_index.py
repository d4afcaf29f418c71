"""The pool's index: open needs in join-deadline order.

The pool lists published needs by join deadline, 50 at a time. With an index on status alone,
PostgreSQL reads every published need, joins each to its demand counters and to the reader's
commitment, and sorts them all to keep one page. With (status, join_deadline, id) it walks the
open needs in page order and stops after the page; benchmarks/README.md has the numbers.

Revision ID: 0103_procurement_pool_index
Revises: 0102_procurement_notices
Create Date: 2026-11-22 07:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0103_procurement_pool_index"
down_revision: str | Sequence[str] | None = "0102_procurement_notices"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("procurement_needs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_procurement_needs_pool", ["status", "join_deadline", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("procurement_needs", schema=None) as batch_op:
        batch_op.drop_index("ix_procurement_needs_pool")
