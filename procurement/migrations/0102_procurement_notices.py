"""Notices sent about needs (new need in a followed category, join-deadline reminders), one row
per organization, need and kind so the tick sends each once. Private to the organization.

Revision ID: 0102_procurement_notices
Revises: 0101_procurement
Create Date: 2026-11-22 06:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kyodo.db.base
from kyodo.db import rls

revision: str = "0102_procurement_notices"
down_revision: str | Sequence[str] | None = "0101_procurement"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "procurement_notices",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("need_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("need_tenant_id", sa.Uuid(), nullable=False),
        sa.Column("sent_at", kyodo.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["need_tenant_id", "need_id"],
            ["procurement_needs.tenant_id", "procurement_needs.id"],
            name=op.f("fk_procurement_notices_need_tenant_id_need_id_procurement_needs"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["organizations.id"],
            name=op.f("fk_procurement_notices_tenant_id_organizations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "need_id", "kind", name=op.f("pk_procurement_notices")
        ),
    )
    with op.batch_alter_table("procurement_notices", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_procurement_notices_tenant_id"), ["tenant_id"], unique=False
        )
    rls.grant("procurement_notices")
    rls.enable("procurement_notices")


def downgrade() -> None:
    with op.batch_alter_table("procurement_notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_procurement_notices_tenant_id"))
    op.drop_table("procurement_notices")
