"""The operator's tender for a closed need, questions, and vendors' sealed bids.

| tender status | action (role, organization) | next |
|---|---|---|
| draft | edit terms, publish (procurement_officer, operator) | published |
| published | edit terms: a new revision (procurement_officer, operator) | published |
| published | ask a question before the question deadline (vendor_sales) | published |
| published | answer a question, published to all (procurement_officer, operator) | published |
| published | submit or replace a sealed bid before the deadline (vendor_sales) | published |
| published | bid deadline passes (tick) | opened (see opening.py) |
| draft, published, opened | cancel with a reason code (procurement_officer, operator) | cancelled |

The ceiling (予定価格) and minimum (最低制限価格) live in a separate, operator-only table and are
never returned before opening, not even to the operator who entered them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kyodo import audit
from kyodo.db import acting_as
from kyodo.errors import Checks, Conflict, InvalidInput, NotFound
from kyodo.models import Organization
from kyodo.web.i18n import _
from procurement.actors import Actor
from procurement.evaluation import LOWEST_PRICE, WEIGHTED
from procurement.models import (
    MAX_YEN,
    Answer,
    Bid,
    Commitment,
    Need,
    Question,
    Tender,
    TenderInvitee,
    TenderRevision,
    TenderSecret,
)
from procurement.needs import OFFICER, expect_status

METHODS = ("open", "selective", "negotiated")  # 一般競争入札, 指名競争入札, 随意契約
CRITERIA = (LOWEST_PRICE, WEIGHTED)
CANCEL_REASONS = ("budget", "specification", "demand_withdrawn", "no_competition", "other")
VENDOR = "vendor_sales"
MAX_BANDS = 10


@dataclass(frozen=True)
class TenderTermsInput:
    method: str
    criteria: str
    bid_deadline: datetime
    ceiling_unit_price: int
    minimum_unit_price: int | None = None
    price_weight: int = 100
    technical_weight: int = 0
    band_thresholds: list[int] = field(default_factory=lambda: [1])
    question_deadline: datetime | None = None
    max_rounds: int = 3
    invited_vendors: list[str] = field(default_factory=list)  # vendor slugs


def _validate(data: TenderTermsInput, now: datetime) -> None:
    checks = Checks()
    if data.method not in METHODS:
        checks.fail("method", _("Choose one of the listed values."))
    if data.criteria not in CRITERIA:
        checks.fail("criteria", _("Choose one of the listed values."))
    elif data.criteria == WEIGHTED and (
        data.price_weight + data.technical_weight != 100
        or min(data.price_weight, data.technical_weight) < 0
    ):
        checks.fail("technical_weight", _("Price and technical weights must add up to 100."))
    if not 0 < data.ceiling_unit_price <= MAX_YEN:
        checks.fail(
            "ceiling_unit_price",
            _("Enter an amount in yen from 1 to {n}.").format(n=f"{MAX_YEN:,}"),
        )
    if data.minimum_unit_price is not None and not (
        0 < data.minimum_unit_price < data.ceiling_unit_price
    ):
        checks.fail("minimum_unit_price", _("The minimum must be below the ceiling."))
    bands = data.band_thresholds
    if not bands or bands[0] != 1 or len(bands) > MAX_BANDS or bands != sorted(set(bands)):
        checks.fail("band_thresholds", _("Bands start at 1 and rise, at most 10 of them."))
    if data.bid_deadline.tzinfo is None or data.bid_deadline <= now:
        checks.fail("bid_deadline", _("The deadline must lie in the future."))
    q = data.question_deadline
    if q is not None and (q.tzinfo is None or q <= now or q > data.bid_deadline):
        checks.fail(
            "question_deadline", _("Questions must close after now and before the bid deadline.")
        )
    if not 1 <= data.max_rounds <= 5:
        checks.fail("max_rounds", _("Enter a whole number from 1 to 5."))
    if data.method != "open" and not data.invited_vendors:
        checks.fail("invited_vendors", _("Invite at least one vendor."))
    checks.raise_any()


async def create_tender(
    session: AsyncSession, actor: Actor, need_id: uuid.UUID, data: TenderTermsInput, now: datetime
) -> Tender:
    """Turn a closed need's pooled demand into a draft tender; the need becomes 'tendering'."""
    actor.require(OFFICER, kinds=("operator",))
    _validate(data, now)
    need = await session.scalar(select(Need).where(Need.id == need_id))
    if need is None:
        raise NotFound
    expect_status(need.status, ("closed",))
    quantity = int(  # SUM of a bigint is numeric on PostgreSQL
        await session.scalar(
            select(func.coalesce(func.sum(Commitment.quantity), 0)).where(
                Commitment.need_id == need.id, Commitment.status == "active"
            )
        )
    )
    vendors = await _vendors(session, data.invited_vendors)
    tender = Tender(
        tenant_id=actor.org.id,
        need_tenant_id=need.tenant_id,
        need_id=need.id,
        title=need.title,
        category=need.category,
        specification=need.specification,
        unit=need.unit,
        quantity=quantity,
        created_by=actor.person_id,
        **_public_terms(data),
    )
    session.add(tender)
    await session.flush()
    session.add(
        TenderSecret(
            tenant_id=actor.org.id,
            tender_id=tender.id,
            ceiling_unit_price=data.ceiling_unit_price,
            minimum_unit_price=data.minimum_unit_price,
        )
    )
    session.add_all(
        TenderInvitee(tenant_id=actor.org.id, tender_id=tender.id, vendor_id=v.id) for v in vendors
    )
    await audit.record(
        session, "tender.created", "tender", tender.id, f"need {need.id} ×{quantity}"
    )
    owner = await session.get(Organization, need.tenant_id)
    async with acting_as(session, actor.acting_in(owner)):
        need = await session.scalar(select(Need).where(Need.id == need.id))
        need.status = "tendering"
        await audit.record(session, "need.tendering", "need", need.id, f"tender {tender.id}")
    return tender


def _public_terms(data: TenderTermsInput) -> dict:
    return {
        "method": data.method,
        "criteria": data.criteria,
        "price_weight": data.price_weight if data.criteria == WEIGHTED else 100,
        "technical_weight": data.technical_weight if data.criteria == WEIGHTED else 0,
        "band_thresholds": list(data.band_thresholds),
        "question_deadline": data.question_deadline,
        "bid_deadline": data.bid_deadline,
        "max_rounds": data.max_rounds,
    }


async def _vendors(session: AsyncSession, slugs: list[str]) -> list[Organization]:
    if not slugs:
        return []
    found = list(
        await session.scalars(
            select(Organization).where(Organization.slug.in_(slugs), Organization.kind == "vendor")
        )
    )
    if len(found) != len(set(slugs)):
        raise InvalidInput({"invited_vendors": _("Some of these are not registered vendors.")})
    return found


async def operator_tender(session: AsyncSession, actor: Actor, tender_id: uuid.UUID) -> Tender:
    actor.require(OFFICER, "evaluator", "admin", kinds=("operator",))
    tender = await session.scalar(
        select(Tender).where(Tender.tenant_id == actor.org.id, Tender.id == tender_id)
    )
    if tender is None:
        raise NotFound
    return tender


async def visible_tender(session: AsyncSession, tender_id: uuid.UUID) -> Tender:
    """A tender as the acting organization may see it (its visible_to rule), else 404."""
    tender = await session.scalar(select(Tender).where(Tender.id == tender_id))
    if tender is None:
        raise NotFound
    return tender


async def publish_tender(
    session: AsyncSession, actor: Actor, tender_id: uuid.UUID, now: datetime
) -> Tender:
    tender = await operator_tender(session, actor, tender_id)
    actor.require(OFFICER)
    expect_status(tender.status, ("draft",))
    if tender.bid_deadline <= now:
        raise Conflict(_("The deadline has passed."))
    tender.status, tender.published_at = "published", now
    _snapshot(session, tender, actor)
    await audit.record(session, "tender.published", "tender", tender.id, tender.title)
    return tender


async def edit_terms(
    session: AsyncSession, actor: Actor, tender_id: uuid.UUID, data: TenderTermsInput, now: datetime
) -> Tender:
    """Change a draft's or a published tender's terms; a published one keeps every version."""
    tender = await operator_tender(session, actor, tender_id)
    actor.require(OFFICER)
    expect_status(tender.status, ("draft", "published"))
    if tender.status == "published" and tender.bid_deadline <= now:
        raise Conflict(_("The deadline has passed."))
    _validate(data, now)
    if tender.status == "published" and list(data.band_thresholds) != tender.band_thresholds:
        # Sealed bids already hold one price per band; nobody may see them to ask for new ones.
        raise InvalidInput(
            {"band_thresholds": _("Volume bands cannot change once the tender is published.")}
        )
    before = {key: getattr(tender, key) for key in _public_terms_keys()}
    for key, value in _public_terms(data).items():
        setattr(tender, key, value)
    public_change = before != {key: getattr(tender, key) for key in _public_terms_keys()}
    secret = await session.get(TenderSecret, (actor.org.id, tender.id))
    secret.ceiling_unit_price, secret.minimum_unit_price = (
        data.ceiling_unit_price,
        data.minimum_unit_price,
    )
    vendors = await _vendors(session, data.invited_vendors)
    for old in await session.scalars(
        select(TenderInvitee).where(TenderInvitee.tender_id == tender.id)
    ):
        await session.delete(old)
    await session.flush()
    session.add_all(
        TenderInvitee(tenant_id=actor.org.id, tender_id=tender.id, vendor_id=v.id) for v in vendors
    )
    # Only a change bidders can see makes a new version: a new revision (and its notice) after
    # a change of the secret prices alone would tell vendors that those moved.
    if tender.status == "published" and public_change:
        tender.version += 1
        _snapshot(session, tender, actor)
    await audit.record(session, "tender.edited", "tender", tender.id, f"version {tender.version}")
    return tender


def _snapshot(session: AsyncSession, tender: Tender, actor: Actor) -> None:
    terms = {
        k: (v.isoformat() if isinstance(v, datetime) else v)
        for k, v in {
            "title": tender.title,
            "quantity": tender.quantity,
            "unit": tender.unit,
            **{key: getattr(tender, key) for key in _public_terms_keys()},
        }.items()
    }
    session.add(
        TenderRevision(
            tenant_id=tender.tenant_id,
            tender_id=tender.id,
            version=tender.version,
            terms=terms,
            changed_by=actor.person_id,
        )
    )


def _public_terms_keys() -> tuple[str, ...]:
    return (
        "method",
        "criteria",
        "price_weight",
        "technical_weight",
        "band_thresholds",
        "question_deadline",
        "bid_deadline",
        "max_rounds",
    )


async def cancel(
    session: AsyncSession, actor: Actor, tender_id: uuid.UUID, reason: str, now: datetime
) -> Tender:
    tender = await operator_tender(session, actor, tender_id)
    actor.require(OFFICER)
    if reason not in CANCEL_REASONS:
        raise InvalidInput({"reason": _("Choose one of the listed values.")})
    expect_status(tender.status, ("draft", "published", "opened"))
    tender.status, tender.cancel_reason = "cancelled", reason
    await audit.record(session, "tender.cancelled", "tender", tender.id, reason)
    await set_need_status(session, actor, tender, "cancelled")
    return tender


async def set_need_status(session: AsyncSession, actor: Actor, tender: Tender, status: str) -> None:
    """Mirror the outcome on the municipality's need, in the explicit operator scope."""
    owner = await session.get(Organization, tender.need_tenant_id)
    async with acting_as(session, actor.acting_in(owner)):
        need = await session.scalar(select(Need).where(Need.id == tender.need_id))
        need.status = status
        await audit.record(session, f"need.{status}", "need", need.id, f"tender {tender.id}")


# --- questions ---------------------------------------------------------------------------


async def ask(
    session: AsyncSession, actor: Actor, tender_id: uuid.UUID, text: str, now: datetime
) -> Question:
    actor.require(VENDOR, kinds=("vendor",))
    if not text.strip() or len(text) > 4000:
        raise InvalidInput({"text": _("Write a question of up to 4,000 characters.")})
    tender = await visible_tender(session, tender_id)
    expect_status(tender.status, ("published",))
    if now >= (tender.question_deadline or tender.bid_deadline):
        raise Conflict(_("The question period has ended."))
    question = Question(
        tenant_id=actor.org.id,
        tender_id=tender.id,
        tender_tenant_id=tender.tenant_id,
        text=text.strip(),
        asked_by=actor.person_id,
    )
    session.add(question)
    await session.flush()
    await audit.record(session, "question.asked", "question", question.id, str(tender.id))
    return question


async def answer(
    session: AsyncSession, actor: Actor, question_id: uuid.UUID, text: str, now: datetime
) -> Answer:
    """Publish an answer to every vendor; it quotes the question but not who asked it."""
    actor.require(OFFICER, kinds=("operator",))
    if not text.strip() or len(text) > 8000:
        raise InvalidInput({"answer": _("Write an answer of up to 8,000 characters.")})
    question = await session.scalar(
        select(Question).where(
            Question.id == question_id, Question.tender_tenant_id == actor.org.id
        )
    )
    if question is None:
        raise NotFound
    tender = await operator_tender(session, actor, question.tender_id)
    expect_status(tender.status, ("published",))
    reply = Answer(
        tenant_id=actor.org.id,
        tender_id=tender.id,
        question_id=question.id,
        question=question.text,
        answer=text.strip(),
        answered_by=actor.person_id,
        published_at=now,
    )
    session.add(reply)
    try:
        await session.flush()
    except IntegrityError:
        raise Conflict(_("This question has already been answered.")) from None
    await audit.record(session, "question.answered", "answer", reply.id, str(tender.id))
    return reply


# --- sealed bids -------------------------------------------------------------------------


@dataclass(frozen=True)
class BidInput:
    band_prices: list[int]
    one_off_fee: int = 0
    technical_proposal: str = ""


def _validate_bid(tender: Tender, data: BidInput) -> None:
    checks = Checks()
    if len(data.band_prices) != len(tender.band_thresholds):
        checks.fail("band_prices", _("Give one unit price for each volume band."))
    elif any(not 0 < p <= MAX_YEN for p in data.band_prices):
        checks.fail(
            "band_prices", _("Enter an amount in yen from 1 to {n}.").format(n=f"{MAX_YEN:,}")
        )
    if not 0 <= data.one_off_fee <= MAX_YEN:
        checks.fail(
            "one_off_fee", _("Enter an amount in yen from 0 to {n}.").format(n=f"{MAX_YEN:,}")
        )
    if len(data.technical_proposal) > 50_000:
        checks.fail("technical_proposal", _("Must be at most {n} characters.").format(n=50_000))
    if tender.criteria == WEIGHTED and not data.technical_proposal.strip():
        checks.fail("technical_proposal", _("This tender evaluates a technical proposal."))
    checks.raise_any()


async def submit_bid(
    session: AsyncSession, actor: Actor, tender_id: uuid.UUID, data: BidInput, now: datetime
) -> Bid:
    """Submit, or replace, this vendor's sealed bid for the current round (PUT semantics)."""
    actor.require(VENDOR, kinds=("vendor",))
    tender = await visible_tender(session, tender_id)
    await bidding_lock(session, tender.id, shared=True)
    await session.refresh(tender)  # as of now: the round may have been opened meanwhile
    expect_status(tender.status, ("published",))
    if now >= tender.bid_deadline:
        raise Conflict(_("The deadline has passed."))
    _validate_bid(tender, data)
    for _attempt in range(2):  # a concurrent first submission of the same vendor: update it
        bid = await session.scalar(
            select(Bid)
            .where(
                Bid.tenant_id == actor.org.id, Bid.tender_id == tender.id, Bid.round == tender.round
            )
            .with_for_update()
        )
        if bid is not None:
            bid.band_prices, bid.one_off_fee = list(data.band_prices), data.one_off_fee
            bid.technical_proposal, bid.submitted_at = data.technical_proposal, now
            bid.submitted_by, bid.replaced_count = actor.person_id, bid.replaced_count + 1
            await audit.record(session, "bid.replaced", "bid", bid.id, f"tender {tender.id}")
            return bid
        try:
            async with session.begin_nested():
                bid = Bid(
                    tenant_id=actor.org.id,
                    tender_id=tender.id,
                    tender_tenant_id=tender.tenant_id,
                    round=tender.round,
                    band_prices=list(data.band_prices),
                    one_off_fee=data.one_off_fee,
                    technical_proposal=data.technical_proposal,
                    submitted_by=actor.person_id,
                    submitted_at=now,
                )
                session.add(bid)
        except IntegrityError:
            continue
        # The audit summary names no amount: the trail is readable by the vendor's admins only,
        # but amounts stay in the sealed row alone.
        await audit.record(session, "bid.submitted", "bid", bid.id, f"tender {tender.id}")
        return bid
    raise Conflict(_("Another submission of this bid is in progress; try again."))


async def bidding_lock(session: AsyncSession, tender_id: uuid.UUID, *, shared: bool) -> None:
    """Bids take this lock shared, opening takes it exclusive: a round is never opened while a
    bid for it is being written, so no bid commits unseen just after the opening (PostgreSQL;
    SQLite serialises writers anyway). An advisory lock needs no right on the operator's row."""
    if session.bind.dialect.name != "postgresql":
        return
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    await session.execute(
        text(f"SELECT {function}(hashtextextended(:key, 0))"), {"key": f"bidding:{tender_id}"}
    )


async def my_bid(session: AsyncSession, actor: Actor, tender_id: uuid.UUID) -> Bid | None:
    actor.require(VENDOR, kinds=("vendor",))
    tender = await visible_tender(session, tender_id)
    return await session.scalar(
        select(Bid).where(
            Bid.tenant_id == actor.org.id, Bid.tender_id == tender.id, Bid.round == tender.round
        )
    )
