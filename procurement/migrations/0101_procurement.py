"""Joint procurement tables with their RLS read rules (mirroring each model's visible_to).

Revision ID: 0101_procurement
Revises: 0001_kernel
Create Date: 2026-11-22 05:04:45.696532
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import kyodo.db.base
from kyodo.db import rls

revision: str = "0101_procurement"
down_revision: str | Sequence[str] | None = "0001_kernel"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "procurement_contract_lines",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("award_id", sa.Uuid(), nullable=False),
        sa.Column("tender_id", sa.Uuid(), nullable=False),
        sa.Column("need_id", sa.Uuid(), nullable=False),
        sa.Column("vendor_id", sa.Uuid(), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("unit_price", sa.BigInteger(), nullable=False),
        sa.Column("goods_amount", sa.BigInteger(), nullable=False),
        sa.Column("fee_share", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("estimated_total", sa.BigInteger(), nullable=False),
        sa.Column("saving", sa.BigInteger(), nullable=False),
        sa.Column("alone_unit_price", sa.BigInteger(), nullable=True),
        sa.Column("alone_total", sa.BigInteger(), nullable=True),
        sa.Column("fiscal_year", sa.BigInteger(), nullable=False),
        sa.Column("created_at", kyodo.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("void", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["organizations.id"],
            name=op.f("fk_procurement_contract_lines_tenant_id_organizations"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["vendor_id"],
            ["organizations.id"],
            name=op.f("fk_procurement_contract_lines_vendor_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_procurement_contract_lines")),
        sa.UniqueConstraint(
            "tenant_id", "award_id", name=op.f("uq_procurement_contract_lines_tenant_id_award_id")
        ),
    )
    with op.batch_alter_table("procurement_contract_lines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_procurement_contract_lines_award_id"), ["award_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_procurement_contract_lines_fiscal_year"), ["fiscal_year"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_procurement_contract_lines_need_id"), ["need_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_procurement_contract_lines_tenant_id"), ["tenant_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_procurement_contract_lines_tender_id"), ["tender_id"], unique=False
        )

    op.create_table(
        "procurement_needs",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("specification", sa.Text(), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("estimated_unit_price", sa.BigInteger(), nullable=False),
        sa.Column("desired_delivery", sa.Date(), nullable=True),
        sa.Column("join_deadline", kyodo.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("decided_by", sa.Uuid(), nullable=True),
        sa.Column("decision_comment", sa.Text(), nullable=False),
        sa.Column("created_at", kyodo.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("published_at", kyodo.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", kyodo.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "estimated_unit_price > 0", name=op.f("ck_procurement_needs_price_positive")
        ),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_procurement_needs_quantity_positive")),
        sa.ForeignKeyConstraint(
            ["created_by"], ["people.id"], name=op.f("fk_procurement_needs_created_by_people")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["people.id"], name=op.f("fk_procurement_needs_decided_by_people")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["organizations.id"],
            name=op.f("fk_procurement_needs_tenant_id_organizations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_procurement_needs")),
    )
    with op.batch_alter_table("procurement_needs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_procurement_needs_status"), ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_procurement_needs_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "procurement_settings",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("approval_required", sa.Boolean(), nullable=False),
        sa.Column("min_lead_days", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["organizations.id"],
            name=op.f("fk_procurement_settings_tenant_id_organizations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("tenant_id", name=op.f("pk_procurement_settings")),
    )
    with op.batch_alter_table("procurement_settings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_procurement_settings_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "procurement_subscriptions",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["organizations.id"],
            name=op.f("fk_procurement_subscriptions_tenant_id_organizations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "category", name=op.f("pk_procurement_subscriptions")),
    )
    with op.batch_alter_table("procurement_subscriptions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_procurement_subscriptions_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "procurement_attachments",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("need_id", sa.Uuid(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_by", sa.Uuid(), nullable=False),
        sa.Column("uploaded_at", kyodo.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "need_id"],
            ["procurement_needs.tenant_id", "procurement_needs.id"],
            name=op.f("fk_procurement_attachments_tenant_id_need_id_procurement_needs"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["organizations.id"],
            name=op.f("fk_procurement_attachments_tenant_id_organizations"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by"],
            ["people.id"],
            name=op.f("fk_procurement_attachments_uploaded_by_people"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_procurement_attachments")),
    )
    with op.batch_alter_table("procurement_attachments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_procurement_attachments_need_id"), ["need_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_procurement_attachments_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "procurement_commitments",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("need_tenant_id", sa.Uuid(), nullable=False),
        sa.Column("need_id", sa.Uuid(), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("estimated_unit_price", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("counted", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("decided_by", sa.Uuid(), nullable=True),
        sa.Column("decision_comment", sa.Text(), nullable=False),
        sa.Column("updated_at", kyodo.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "estimated_unit_price > 0", name=op.f("ck_procurement_commitments_price_positive")
        ),
        sa.CheckConstraint(
            "quantity > 0", name=op.f("ck_procurement_commitments_quantity_positive")
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["people.id"], name=op.f("fk_procurement_commitments_created_by_people")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["people.id"], name=op.f("fk_procurement_commitments_decided_by_people")
        ),
        sa.ForeignKeyConstraint(
            ["need_tenant_id", "need_id"],
            ["procurement_needs.tenant_id", "procurement_needs.id"],
            name=op.f("fk_procurement_commitments_need_tenant_id_need_id_procurement_needs"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["organizations.id"],
            name=op.f("fk_procurement_commitments_tenant_id_organizations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_procurement_commitments")),
        sa.UniqueConstraint(
            "tenant_id", "need_id", name=op.f("uq_procurement_commitments_tenant_id_need_id")
        ),
    )
    with op.batch_alter_table("procurement_commitments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_procurement_commitments_need_id"), ["need_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_procurement_commitments_need_tenant_id"),
            ["need_tenant_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_procurement_commitments_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "procurement_demand",
        sa.Column("need_id", sa.Uuid(), nullable=False),
        sa.Column("need_tenant_id", sa.Uuid(), nullable=False),
        sa.Column("total_quantity", sa.BigInteger(), nullable=False),
        sa.Column("participants", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("need_id", name=op.f("pk_procurement_demand")),
    )
    op.create_table(
        "procurement_tenders",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("need_tenant_id", sa.Uuid(), nullable=False),
        sa.Column("need_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("specification", sa.Text(), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("criteria", sa.String(length=20), nullable=False),
        sa.Column("price_weight", sa.BigInteger(), nullable=False),
        sa.Column("technical_weight", sa.BigInteger(), nullable=False),
        sa.Column("band_thresholds", sa.JSON(), nullable=False),
        sa.Column("question_deadline", kyodo.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("bid_deadline", kyodo.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("round", sa.BigInteger(), nullable=False),
        sa.Column("max_rounds", sa.BigInteger(), nullable=False),
        sa.Column("opened_round", sa.BigInteger(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("cancel_reason", sa.String(length=40), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=False),
        sa.Column("created_at", kyodo.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("published_at", kyodo.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "criteria <> 'weighted' OR price_weight + technical_weight = 100",
            name=op.f("ck_procurement_tenders_weights"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["people.id"], name=op.f("fk_procurement_tenders_created_by_people")
        ),
        sa.ForeignKeyConstraint(
            ["need_tenant_id", "need_id"],
            ["procurement_needs.tenant_id", "procurement_needs.id"],
            name=op.f("fk_procurement_tenders_need_tenant_id_need_id_procurement_needs"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["organizations.id"],
            name=op.f("fk_procurement_tenders_tenant_id_organizations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_procurement_tenders")),
        sa.UniqueConstraint(
            "tenant_id", "need_id", name=op.f("uq_procurement_tenders_tenant_id_need_id")
        ),
    )
    with op.batch_alter_table("procurement_tenders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_procurement_tenders_status"), ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_procurement_tenders_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "procurement_answers",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tender_id", sa.Uuid(), nullable=False),
        sa.Column("question_id", sa.Uuid(), nullable=True),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("answered_by", sa.Uuid(), nullable=False),
        sa.Column("published_at", kyodo.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["answered_by"], ["people.id"], name=op.f("fk_procurement_answers_answered_by_people")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "tender_id"],
            ["procurement_tenders.tenant_id", "procurement_tenders.id"],
            name=op.f("fk_procurement_answers_tenant_id_tender_id_procurement_tenders"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["organizations.id"],
            name=op.f("fk_procurement_answers_tenant_id_organizations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_procurement_answers")),
        sa.UniqueConstraint(
            "tenant_id", "question_id", name=op.f("uq_procurement_answers_tenant_id_question_id")
        ),
    )
    with op.batch_alter_table("procurement_answers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_procurement_answers_tenant_id"), ["tenant_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_procurement_answers_tender_id"), ["tender_id"], unique=False
        )

    op.create_table(
        "procurement_awards",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tender_id", sa.Uuid(), nullable=False),
        sa.Column("vendor_id", sa.Uuid(), nullable=False),
        sa.Column("unit_price", sa.BigInteger(), nullable=False),
        sa.Column("one_off_fee", sa.BigInteger(), nullable=False),
        sa.Column("awarded_by", sa.Uuid(), nullable=False),
        sa.Column("awarded_at", kyodo.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", kyodo.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.Uuid(), nullable=True),
        sa.Column("revoke_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["awarded_by"], ["people.id"], name=op.f("fk_procurement_awards_awarded_by_people")
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by"], ["people.id"], name=op.f("fk_procurement_awards_revoked_by_people")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "tender_id"],
            ["procurement_tenders.tenant_id", "procurement_tenders.id"],
            name=op.f("fk_procurement_awards_tenant_id_tender_id_procurement_tenders"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["organizations.id"],
            name=op.f("fk_procurement_awards_tenant_id_organizations"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["vendor_id"],
            ["organizations.id"],
            name=op.f("fk_procurement_awards_vendor_id_organizations"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_procurement_awards")),
    )
    with op.batch_alter_table("procurement_awards", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_procurement_awards_tenant_id"), ["tenant_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_procurement_awards_tender_id"), ["tender_id"], unique=False
        )

    op.create_table(
        "procurement_bids",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tender_id", sa.Uuid(), nullable=False),
        sa.Column("tender_tenant_id", sa.Uuid(), nullable=False),
        sa.Column("round", sa.BigInteger(), nullable=False),
        sa.Column("band_prices", sa.JSON(), nullable=False),
        sa.Column("one_off_fee", sa.BigInteger(), nullable=False),
        sa.Column("technical_proposal", sa.Text(), nullable=False),
        sa.Column("submitted_by", sa.Uuid(), nullable=False),
        sa.Column("submitted_at", kyodo.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("replaced_count", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["submitted_by"], ["people.id"], name=op.f("fk_procurement_bids_submitted_by_people")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["organizations.id"],
            name=op.f("fk_procurement_bids_tenant_id_organizations"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tender_tenant_id", "tender_id"],
            ["procurement_tenders.tenant_id", "procurement_tenders.id"],
            name=op.f("fk_procurement_bids_tender_tenant_id_tender_id_procurement_tenders"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_procurement_bids")),
        sa.UniqueConstraint(
            "tenant_id",
            "tender_id",
            "round",
            name=op.f("uq_procurement_bids_tenant_id_tender_id_round"),
        ),
    )
    with op.batch_alter_table("procurement_bids", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_procurement_bids_tenant_id"), ["tenant_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_procurement_bids_tender_id"), ["tender_id"], unique=False
        )

    op.create_table(
        "procurement_questions",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tender_id", sa.Uuid(), nullable=False),
        sa.Column("tender_tenant_id", sa.Uuid(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("asked_by", sa.Uuid(), nullable=False),
        sa.Column("asked_at", kyodo.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["asked_by"], ["people.id"], name=op.f("fk_procurement_questions_asked_by_people")
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["organizations.id"],
            name=op.f("fk_procurement_questions_tenant_id_organizations"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["tender_tenant_id", "tender_id"],
            ["procurement_tenders.tenant_id", "procurement_tenders.id"],
            name=op.f("fk_procurement_questions_tender_tenant_id_tender_id_procurement_tenders"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_procurement_questions")),
    )
    with op.batch_alter_table("procurement_questions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_procurement_questions_tenant_id"), ["tenant_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_procurement_questions_tender_id"), ["tender_id"], unique=False
        )

    op.create_table(
        "procurement_results",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tender_id", sa.Uuid(), nullable=False),
        sa.Column("round", sa.BigInteger(), nullable=False),
        sa.Column("opened_at", kyodo.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ceiling_unit_price", sa.BigInteger(), nullable=False),
        sa.Column("minimum_unit_price", sa.BigInteger(), nullable=True),
        sa.Column("ranking", sa.JSON(), nullable=False),
        sa.Column("draw_seed", sa.BigInteger(), nullable=False),
        sa.Column("draw", sa.JSON(), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "tender_id"],
            ["procurement_tenders.tenant_id", "procurement_tenders.id"],
            name=op.f("fk_procurement_results_tenant_id_tender_id_procurement_tenders"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["organizations.id"],
            name=op.f("fk_procurement_results_tenant_id_organizations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_procurement_results")),
        sa.UniqueConstraint(
            "tenant_id",
            "tender_id",
            "round",
            name=op.f("uq_procurement_results_tenant_id_tender_id_round"),
        ),
    )
    with op.batch_alter_table("procurement_results", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_procurement_results_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "procurement_technical_scores",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("tender_id", sa.Uuid(), nullable=False),
        sa.Column("round", sa.BigInteger(), nullable=False),
        sa.Column("vendor_id", sa.Uuid(), nullable=False),
        sa.Column("score", sa.BigInteger(), nullable=False),
        sa.Column("scored_by", sa.Uuid(), nullable=False),
        sa.Column("scored_at", kyodo.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "score BETWEEN 0 AND 100", name=op.f("ck_procurement_technical_scores_score_range")
        ),
        sa.ForeignKeyConstraint(
            ["scored_by"],
            ["people.id"],
            name=op.f("fk_procurement_technical_scores_scored_by_people"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "tender_id"],
            ["procurement_tenders.tenant_id", "procurement_tenders.id"],
            name=op.f("fk_procurement_technical_scores_tenant_id_tender_id_procurement_tenders"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["organizations.id"],
            name=op.f("fk_procurement_technical_scores_tenant_id_organizations"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["vendor_id"],
            ["organizations.id"],
            name=op.f("fk_procurement_technical_scores_vendor_id_organizations"),
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id",
            "tender_id",
            "round",
            "vendor_id",
            name=op.f("pk_procurement_technical_scores"),
        ),
    )
    with op.batch_alter_table("procurement_technical_scores", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_procurement_technical_scores_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "procurement_tender_invitees",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("tender_id", sa.Uuid(), nullable=False),
        sa.Column("vendor_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "tender_id"],
            ["procurement_tenders.tenant_id", "procurement_tenders.id"],
            name=op.f("fk_procurement_tender_invitees_tenant_id_tender_id_procurement_tenders"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["organizations.id"],
            name=op.f("fk_procurement_tender_invitees_tenant_id_organizations"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["vendor_id"],
            ["organizations.id"],
            name=op.f("fk_procurement_tender_invitees_vendor_id_organizations"),
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "tender_id", "vendor_id", name=op.f("pk_procurement_tender_invitees")
        ),
    )
    with op.batch_alter_table("procurement_tender_invitees", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_procurement_tender_invitees_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "procurement_tender_revisions",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("tender_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("terms", sa.JSON(), nullable=False),
        sa.Column("changed_by", sa.Uuid(), nullable=False),
        sa.Column("changed_at", kyodo.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["changed_by"],
            ["people.id"],
            name=op.f("fk_procurement_tender_revisions_changed_by_people"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "tender_id"],
            ["procurement_tenders.tenant_id", "procurement_tenders.id"],
            name=op.f("fk_procurement_tender_revisions_tenant_id_tender_id_procurement_tenders"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["organizations.id"],
            name=op.f("fk_procurement_tender_revisions_tenant_id_organizations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_procurement_tender_revisions")),
        sa.UniqueConstraint(
            "tenant_id",
            "tender_id",
            "version",
            name=op.f("uq_procurement_tender_revisions_tenant_id_tender_id_version"),
        ),
    )
    with op.batch_alter_table("procurement_tender_revisions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_procurement_tender_revisions_tenant_id"), ["tenant_id"], unique=False
        )

    op.create_table(
        "procurement_tender_secrets",
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("tender_id", sa.Uuid(), nullable=False),
        sa.Column("ceiling_unit_price", sa.BigInteger(), nullable=False),
        sa.Column("minimum_unit_price", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "tender_id"],
            ["procurement_tenders.tenant_id", "procurement_tenders.id"],
            name=op.f("fk_procurement_tender_secrets_tenant_id_tender_id_procurement_tenders"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["organizations.id"],
            name=op.f("fk_procurement_tender_secrets_tenant_id_organizations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint(
            "tenant_id", "tender_id", name=op.f("pk_procurement_tender_secrets")
        ),
    )
    with op.batch_alter_table("procurement_tender_secrets", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_procurement_tender_secrets_tenant_id"), ["tenant_id"], unique=False
        )

    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.alter_column(
            "seq", existing_type=sa.BIGINT(), type_=sa.Integer(), existing_nullable=False
        )

    _secure()


PUBLIC = "('municipality', 'prefecture', 'operator')"
POOLED = "('published', 'closed', 'tendering', 'awarded', 'unsuccessful', 'cancelled')"
ME = rls.CURRENT_TENANT
KIND = rls.KIND


def _readable_with_tender(table: str) -> str:
    # The subquery runs under the tenders' own RLS, so this reads "whoever may read the tender".
    return f"EXISTS (SELECT 1 FROM procurement_tenders t WHERE t.id = {table}.tender_id)"


def _secure() -> None:
    rls.grant("procurement_demand")
    rules = {
        "procurement_settings": None,
        "procurement_subscriptions": None,
        "procurement_tender_secrets": None,
        "procurement_technical_scores": None,
        "procurement_needs": f"status IN {POOLED} AND {KIND} IN {PUBLIC}",
        "procurement_attachments": (
            f"{KIND} IN {PUBLIC} AND EXISTS (SELECT 1 FROM procurement_needs n"
            " WHERE n.tenant_id = procurement_attachments.tenant_id"
            f" AND n.id = procurement_attachments.need_id AND n.status IN {POOLED})"
        ),
        "procurement_commitments": f"{KIND} = 'operator' OR need_tenant_id = {ME}",
        "procurement_tenders": (
            f"status <> 'draft' AND ({KIND} IN {PUBLIC} OR ({KIND} = 'vendor' AND"
            " (method = 'open' OR EXISTS (SELECT 1 FROM procurement_tender_invitees i"
            f" WHERE i.tender_id = procurement_tenders.id AND i.vendor_id = {ME}))))"
        ),
        "procurement_tender_invitees": f"vendor_id = {ME}",
        "procurement_tender_revisions": _readable_with_tender("procurement_tender_revisions"),
        "procurement_answers": _readable_with_tender("procurement_answers"),
        "procurement_results": (
            _readable_with_tender("procurement_results")
            + " AND NOT EXISTS (SELECT 1 FROM procurement_tenders t"
            " WHERE t.id = procurement_results.tender_id AND t.status = 'published')"
        ),
        "procurement_awards": _readable_with_tender("procurement_awards"),
        "procurement_bids": (
            f"{KIND} = 'operator' AND EXISTS (SELECT 1 FROM procurement_tenders t"
            f" WHERE t.id = procurement_bids.tender_id AND t.tenant_id = {ME}"
            " AND t.opened_round >= procurement_bids.round)"
        ),
        "procurement_questions": f"tender_tenant_id = {ME}",
        "procurement_contract_lines": f"{KIND} = 'operator' OR vendor_id = {ME}",
    }
    for table, read in rules.items():
        rls.grant(table)
        rls.enable(table, read=read)


def downgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.alter_column(
            "seq", existing_type=sa.Integer(), type_=sa.BIGINT(), existing_nullable=False
        )

    with op.batch_alter_table("procurement_tender_secrets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_procurement_tender_secrets_tenant_id"))

    op.drop_table("procurement_tender_secrets")
    with op.batch_alter_table("procurement_tender_revisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_procurement_tender_revisions_tenant_id"))

    op.drop_table("procurement_tender_revisions")
    with op.batch_alter_table("procurement_tender_invitees", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_procurement_tender_invitees_tenant_id"))

    op.drop_table("procurement_tender_invitees")
    with op.batch_alter_table("procurement_technical_scores", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_procurement_technical_scores_tenant_id"))

    op.drop_table("procurement_technical_scores")
    with op.batch_alter_table("procurement_results", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_procurement_results_tenant_id"))

    op.drop_table("procurement_results")
    with op.batch_alter_table("procurement_questions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_procurement_questions_tender_id"))
        batch_op.drop_index(batch_op.f("ix_procurement_questions_tenant_id"))

    op.drop_table("procurement_questions")
    with op.batch_alter_table("procurement_bids", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_procurement_bids_tender_id"))
        batch_op.drop_index(batch_op.f("ix_procurement_bids_tenant_id"))

    op.drop_table("procurement_bids")
    with op.batch_alter_table("procurement_awards", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_procurement_awards_tender_id"))
        batch_op.drop_index(batch_op.f("ix_procurement_awards_tenant_id"))

    op.drop_table("procurement_awards")
    with op.batch_alter_table("procurement_answers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_procurement_answers_tender_id"))
        batch_op.drop_index(batch_op.f("ix_procurement_answers_tenant_id"))

    op.drop_table("procurement_answers")
    with op.batch_alter_table("procurement_tenders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_procurement_tenders_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_procurement_tenders_status"))

    op.drop_table("procurement_tenders")
    op.drop_table("procurement_demand")
    with op.batch_alter_table("procurement_commitments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_procurement_commitments_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_procurement_commitments_need_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_procurement_commitments_need_id"))

    op.drop_table("procurement_commitments")
    with op.batch_alter_table("procurement_attachments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_procurement_attachments_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_procurement_attachments_need_id"))

    op.drop_table("procurement_attachments")
    with op.batch_alter_table("procurement_subscriptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_procurement_subscriptions_tenant_id"))

    op.drop_table("procurement_subscriptions")
    with op.batch_alter_table("procurement_settings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_procurement_settings_tenant_id"))

    op.drop_table("procurement_settings")
    with op.batch_alter_table("procurement_needs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_procurement_needs_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_procurement_needs_status"))

    op.drop_table("procurement_needs")
    with op.batch_alter_table("procurement_contract_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_procurement_contract_lines_tender_id"))
        batch_op.drop_index(batch_op.f("ix_procurement_contract_lines_tenant_id"))
        batch_op.drop_index(batch_op.f("ix_procurement_contract_lines_need_id"))
        batch_op.drop_index(batch_op.f("ix_procurement_contract_lines_fiscal_year"))
        batch_op.drop_index(batch_op.f("ix_procurement_contract_lines_award_id"))

    op.drop_table("procurement_contract_lines")
