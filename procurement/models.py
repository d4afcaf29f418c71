"""Joint-procurement tables and who may read them.

Every table is owned by one organization (tenant_id). Rows others may read say so in
`visible_to` (ORM layer) and in the same words in the migration's RLS read policy:

| table | owner | also readable by |
|---|---|---|
| needs | municipality | public bodies and the operator, once published to the pool |
| attachments | municipality | as its need |
| commitments | joiner | the need's owner; the operator |
| tenders | operator | public bodies once published; vendors if open or invited |
| tender_invitees | operator | the invited vendor |
| tender_secrets, technical_scores | operator | nobody else (secrets: not even shown back) |
| bids | vendor | the operator, only after the bid's round is opened |
| questions | vendor | the operator |
| answers | operator | everyone who may read the tender |
| results / awards | operator | everyone who may read the tender |
| contract_lines | municipality | the operator; the awarded vendor |
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    and_,
    exists,
    false,
    or_,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column

from kyodo.db import Base, Scope, SharedByRule, TenantOwned, new_id, utcnow

PUBLIC_KINDS = ("municipality", "prefecture", "operator")
POOLED = ("published", "closed", "tendering", "awarded", "unsuccessful", "cancelled")
MAX_YEN = 10**12  # ¥1 trillion per amount: far above any municipal contract
MAX_QUANTITY = 10**7


def _public_body(scope: Scope) -> bool:
    return scope.tenant_kind in PUBLIC_KINDS


class ProcurementSettings(TenantOwned, Base):
    """Per organization: whether needs and joins go through approval (電子決裁)."""

    __tablename__ = "procurement_settings"

    approval_required: Mapped[bool] = mapped_column(default=True)
    min_lead_days: Mapped[int] = mapped_column(default=0)


class Subscription(TenantOwned, Base):
    """A category an organization wants to hear about (new needs for municipalities, new
    tenders for vendors)."""

    __tablename__ = "procurement_subscriptions"

    category: Mapped[str] = mapped_column(String(40), primary_key=True)


class Need(SharedByRule, Base):
    __tablename__ = "procurement_needs"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("estimated_unit_price > 0", name="price_positive"),
        # The pool: open needs in deadline order, a page at a time (benchmarks/README.md).
        Index("ix_procurement_needs_pool", "status", "join_deadline", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    title: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(40))
    specification: Mapped[str] = mapped_column(Text, default="")
    unit: Mapped[str] = mapped_column(String(20))
    quantity: Mapped[int]
    estimated_unit_price: Mapped[int]
    desired_delivery: Mapped[date | None]
    join_deadline: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"))
    decided_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("people.id"))
    decision_comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]

    @classmethod
    def visible_to(cls, scope: Scope) -> Any:
        own = cls.tenant_id == scope.tenant_id
        return or_(own, cls.status.in_(POOLED)) if _public_body(scope) else own


class Demand(Base):
    """Pooled demand of a published need, kept as public counters: every public body sees the
    totals, while who joined with what stays in the commitments' own organizations."""

    __tablename__ = "procurement_demand"
    # No foreign key into the tenant table: a shared (reference) table must not point into
    # tenant-distributed ones. The row is written in the transaction that publishes the need.

    need_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    need_tenant_id: Mapped[uuid.UUID]
    total_quantity: Mapped[int] = mapped_column(default=0)
    participants: Mapped[int] = mapped_column(default=0)


class Attachment(SharedByRule, Base):
    __tablename__ = "procurement_attachments"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "need_id"], ["procurement_needs.tenant_id", "procurement_needs.id"]
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    need_id: Mapped[uuid.UUID] = mapped_column(index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    uploaded_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)

    @classmethod
    def visible_to(cls, scope: Scope) -> Any:
        own = cls.tenant_id == scope.tenant_id
        if not _public_body(scope):
            return own
        pooled = exists().where(
            Need.tenant_id == cls.tenant_id, Need.id == cls.need_id, Need.status.in_(POOLED)
        )
        return or_(own, pooled)


class Commitment(SharedByRule, Base):
    """One organization's demand in a joint procurement (the owner's own demand included)."""

    __tablename__ = "procurement_commitments"
    __table_args__ = (
        ForeignKeyConstraint(
            ["need_tenant_id", "need_id"], ["procurement_needs.tenant_id", "procurement_needs.id"]
        ),
        UniqueConstraint("tenant_id", "need_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("estimated_unit_price > 0", name="price_positive"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    need_tenant_id: Mapped[uuid.UUID] = mapped_column(index=True)
    need_id: Mapped[uuid.UUID] = mapped_column(index=True)
    quantity: Mapped[int]
    estimated_unit_price: Mapped[int]
    # pending_approval -> active -> withdrawn; returned by the approver -> pending_approval again
    status: Mapped[str] = mapped_column(String(20), default="active")
    counted: Mapped[bool] = mapped_column(default=False)  # included in Demand right now
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"))
    decided_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("people.id"))
    decision_comment: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @classmethod
    def visible_to(cls, scope: Scope) -> Any:
        own = cls.tenant_id == scope.tenant_id
        if scope.tenant_kind == "operator":
            return true_()
        return or_(own, cls.need_tenant_id == scope.tenant_id)


class Tender(SharedByRule, Base):
    __tablename__ = "procurement_tenders"
    __table_args__ = (
        ForeignKeyConstraint(
            ["need_tenant_id", "need_id"], ["procurement_needs.tenant_id", "procurement_needs.id"]
        ),
        UniqueConstraint("tenant_id", "need_id"),
        CheckConstraint(
            "criteria <> 'weighted' OR price_weight + technical_weight = 100", name="weights"
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    need_tenant_id: Mapped[uuid.UUID]
    need_id: Mapped[uuid.UUID]
    title: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(40))
    specification: Mapped[str] = mapped_column(Text, default="")
    unit: Mapped[str] = mapped_column(String(20))
    quantity: Mapped[int]  # the pooled demand when demand closed
    method: Mapped[str] = mapped_column(String(20))  # open | selective | negotiated
    criteria: Mapped[str] = mapped_column(String(20))  # lowest_price | weighted
    price_weight: Mapped[int] = mapped_column(default=100)
    technical_weight: Mapped[int] = mapped_column(default=0)
    band_thresholds: Mapped[list[int]] = mapped_column(default=list)  # e.g. [1, 100, 500]
    question_deadline: Mapped[datetime | None]
    bid_deadline: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    round: Mapped[int] = mapped_column(default=1)
    max_rounds: Mapped[int] = mapped_column(default=3)
    opened_round: Mapped[int] = mapped_column(default=0)  # bids of rounds <= this are open
    version: Mapped[int] = mapped_column(default=1)
    cancel_reason: Mapped[str | None] = mapped_column(String(40))
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None]

    @classmethod
    def visible_to(cls, scope: Scope) -> Any:
        own = cls.tenant_id == scope.tenant_id
        published = cls.status != "draft"
        if _public_body(scope):
            return or_(own, published)
        if scope.tenant_kind == "vendor":
            invited = exists().where(
                TenderInvitee.tender_id == cls.id, TenderInvitee.vendor_id == scope.tenant_id
            )
            return or_(own, and_(published, or_(cls.method == "open", invited)))
        return own


class TenderInvitee(SharedByRule, Base):
    """Vendors invited to a selective (指名競争) or negotiated (随意契約) tender."""

    __tablename__ = "procurement_tender_invitees"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "tender_id"], ["procurement_tenders.tenant_id", "procurement_tenders.id"]
        ),
    )

    tender_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    vendor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"), primary_key=True)

    @classmethod
    def visible_to(cls, scope: Scope) -> Any:
        return or_(cls.tenant_id == scope.tenant_id, cls.vendor_id == scope.tenant_id)


class TenderSecret(TenantOwned, Base):
    """予定価格 and 最低制限価格: write-only until opening, readable by the operator only."""

    __tablename__ = "procurement_tender_secrets"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "tender_id"], ["procurement_tenders.tenant_id", "procurement_tenders.id"]
        ),
    )

    tender_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    ceiling_unit_price: Mapped[int]
    minimum_unit_price: Mapped[int | None]


class TenderRevision(SharedByRule, Base):
    """The history of a published tender's public terms, one row per version."""

    __tablename__ = "procurement_tender_revisions"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "tender_id"], ["procurement_tenders.tenant_id", "procurement_tenders.id"]
        ),
        UniqueConstraint("tenant_id", "tender_id", "version"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    tender_id: Mapped[uuid.UUID]
    version: Mapped[int]
    terms: Mapped[dict[str, Any]]
    changed_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)

    @classmethod
    def visible_to(cls, scope: Scope) -> Any:
        return _as_tender(cls, scope)


class Bid(SharedByRule, Base):
    """A sealed bid. Until its round is opened only the bidding vendor can read it — enforced
    by RLS, so no page, export or operator query can leak it."""

    __tablename__ = "procurement_bids"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tender_tenant_id", "tender_id"],
            ["procurement_tenders.tenant_id", "procurement_tenders.id"],
        ),
        UniqueConstraint("tenant_id", "tender_id", "round"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    tender_id: Mapped[uuid.UUID] = mapped_column(index=True)
    tender_tenant_id: Mapped[uuid.UUID]
    round: Mapped[int]
    band_prices: Mapped[list[int]]  # one unit price per band threshold of the tender
    one_off_fee: Mapped[int] = mapped_column(default=0)
    technical_proposal: Mapped[str] = mapped_column(Text, default="")
    submitted_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"))
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    replaced_count: Mapped[int] = mapped_column(default=0)

    @classmethod
    def visible_to(cls, scope: Scope) -> Any:
        own = cls.tenant_id == scope.tenant_id
        if scope.tenant_kind != "operator":
            return own
        opened = exists().where(
            Tender.id == cls.tender_id,
            Tender.tenant_id == scope.tenant_id,
            Tender.opened_round >= cls.round,
        )
        return or_(own, opened)


class Question(SharedByRule, Base):
    __tablename__ = "procurement_questions"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tender_tenant_id", "tender_id"],
            ["procurement_tenders.tenant_id", "procurement_tenders.id"],
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    tender_id: Mapped[uuid.UUID] = mapped_column(index=True)
    tender_tenant_id: Mapped[uuid.UUID]
    text: Mapped[str] = mapped_column(Text)
    asked_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"))
    asked_at: Mapped[datetime] = mapped_column(default=utcnow)

    @classmethod
    def visible_to(cls, scope: Scope) -> Any:
        return or_(cls.tenant_id == scope.tenant_id, cls.tender_tenant_id == scope.tenant_id)


class Answer(SharedByRule, Base):
    """A published answer; it quotes the question but never names who asked."""

    __tablename__ = "procurement_answers"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "tender_id"], ["procurement_tenders.tenant_id", "procurement_tenders.id"]
        ),
        UniqueConstraint("tenant_id", "question_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    tender_id: Mapped[uuid.UUID] = mapped_column(index=True)
    question_id: Mapped[uuid.UUID | None]  # None: a notice to all
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    answered_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"))
    published_at: Mapped[datetime] = mapped_column(default=utcnow)

    @classmethod
    def visible_to(cls, scope: Scope) -> Any:
        return _as_tender(cls, scope)


class TechnicalScore(TenantOwned, Base):
    """An evaluator's technical score (0–100) for one bid in a 総合評価 tender."""

    __tablename__ = "procurement_technical_scores"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "tender_id"], ["procurement_tenders.tenant_id", "procurement_tenders.id"]
        ),
        CheckConstraint("score BETWEEN 0 AND 100", name="score_range"),
    )

    tender_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    round: Mapped[int] = mapped_column(primary_key=True)
    vendor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"), primary_key=True)
    score: Mapped[int]
    scored_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"))
    scored_at: Mapped[datetime] = mapped_column(default=utcnow)


class Result(SharedByRule, Base):
    """The opening of one round (開札結果): every bid's price and validity, the disclosed secret
    prices, the ranking and any lottery. Public from the moment it exists."""

    __tablename__ = "procurement_results"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "tender_id"], ["procurement_tenders.tenant_id", "procurement_tenders.id"]
        ),
        UniqueConstraint("tenant_id", "tender_id", "round"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    tender_id: Mapped[uuid.UUID]
    round: Mapped[int]
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    ceiling_unit_price: Mapped[int]
    minimum_unit_price: Mapped[int | None]
    ranking: Mapped[list[dict[str, Any]]]
    draw_seed: Mapped[int]  # fixed at opening, so any lottery is replayable
    draw: Mapped[dict[str, Any] | None]
    # awaiting_scores | winner | all_over_ceiling | no_valid_bid
    outcome: Mapped[str] = mapped_column(String(20))

    @classmethod
    def visible_to(cls, scope: Scope) -> Any:
        # While a rebid round takes bids, the earlier opening (with the disclosed ceiling and
        # the prices) stays with the operator, or it would tell bidders where to aim.
        not_bidding = exists().where(Tender.id == cls.tender_id, Tender.status != "published")
        return or_(cls.tenant_id == scope.tenant_id, and_(_as_tender(cls, scope), not_bidding))


class Award(SharedByRule, Base):
    __tablename__ = "procurement_awards"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "tender_id"], ["procurement_tenders.tenant_id", "procurement_tenders.id"]
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    tender_id: Mapped[uuid.UUID] = mapped_column(index=True)
    vendor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    unit_price: Mapped[int]
    one_off_fee: Mapped[int]
    awarded_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"))
    awarded_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    revoked_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("people.id"))
    revoke_reason: Mapped[str | None] = mapped_column(Text)

    @classmethod
    def visible_to(cls, scope: Scope) -> Any:
        return _as_tender(cls, scope)


class ContractLine(SharedByRule, Base):
    """One municipality's contract from an award: its quantity at the pooled price."""

    __tablename__ = "procurement_contract_lines"
    __table_args__ = (UniqueConstraint("tenant_id", "award_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    award_id: Mapped[uuid.UUID] = mapped_column(index=True)
    tender_id: Mapped[uuid.UUID] = mapped_column(index=True)
    need_id: Mapped[uuid.UUID] = mapped_column(index=True)
    vendor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organizations.id"))
    quantity: Mapped[int]
    unit_price: Mapped[int]
    goods_amount: Mapped[int]
    fee_share: Mapped[int]
    total: Mapped[int]
    estimated_total: Mapped[int]
    saving: Mapped[int]
    alone_unit_price: Mapped[int | None]
    alone_total: Mapped[int | None]
    fiscal_year: Mapped[int] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    void: Mapped[bool] = mapped_column(default=False)  # the award was undone

    @classmethod
    def visible_to(cls, scope: Scope) -> Any:
        if scope.tenant_kind == "operator":
            return true_()
        return or_(cls.tenant_id == scope.tenant_id, cls.vendor_id == scope.tenant_id)


def _as_tender(cls: Any, scope: Scope) -> Any:
    """Rows readable by whoever may read their tender."""
    return or_(
        cls.tenant_id == scope.tenant_id,
        exists(select(Tender.id).where(Tender.id == cls.tender_id, Tender.visible_to(scope))),
    )


def true_() -> Any:
    return ~false()
