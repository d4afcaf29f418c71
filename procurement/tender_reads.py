"""What each organization may read about tenders: lists, Q&A, evaluation, results, allocation.

Reads only; every change is a service of tenders.py or opening.py. Queries run in the caller's
scope, so the sharing rules of models.py (the ORM criteria and, on PostgreSQL, RLS) decide what
comes back: a sealed bid is invisible to everyone but its vendor until opening, whatever asks.
The secret prices (TenderSecret) are never read here beyond whether they are set.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from kyodo.errors import Conflict, NotFound
from kyodo.models import Organization
from kyodo.web.i18n import _
from procurement import opening, tenders
from procurement.actors import Actor
from procurement.evaluation import Draw, Evaluated
from procurement.models import (
    Answer,
    Award,
    Bid,
    ContractLine,
    Demand,
    Need,
    Question,
    Result,
    TechnicalScore,
    Tender,
    TenderInvitee,
    TenderRevision,
    TenderSecret,
)
from procurement.needs import OFFICER

AWARDED, NOT_AWARDED, PENDING = "awarded", "not awarded", "pending"
ENDED = ("awarded", "unsuccessful", "cancelled")
LIST_LIMIT = 200


async def organizations(session: AsyncSession, ids: Iterable[uuid.UUID]) -> dict[str, Organization]:
    """Organizations by id (as text, the way results store them)."""
    wanted = set(ids)
    if not wanted:
        return {}
    found = await session.scalars(select(Organization).where(Organization.id.in_(wanted)))
    return {str(o.id): o for o in found}


async def vendor_by_slug(session: AsyncSession, slug: str) -> Organization:
    vendor = await session.scalar(
        select(Organization).where(Organization.slug == slug, Organization.kind == "vendor")
    )
    if vendor is None:
        raise NotFound
    return vendor


# --- lists -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReadyNeed:
    """A need whose demand has closed, waiting for the operator's tender."""

    need: Need
    owner: Organization
    total_quantity: int
    participants: int


async def ready_needs(
    session: AsyncSession, actor: Actor, need_id: uuid.UUID | None = None
) -> list[ReadyNeed]:
    """Every closed need, or just `need_id` if it is one."""
    actor.require(OFFICER, kinds=("operator",))
    query = (
        select(Need, Organization, Demand)
        .join(Organization, Organization.id == Need.tenant_id)
        .outerjoin(Demand, Demand.need_id == Need.id)
        .where(Need.status == "closed")
        .order_by(Need.closed_at, Need.id)
        .limit(LIST_LIMIT)
    )
    if need_id is not None:
        query = query.where(Need.id == need_id)
    rows = await session.execute(query)
    return [
        ReadyNeed(
            need,
            owner,
            demand.total_quantity if demand else 0,
            demand.participants if demand else 0,
        )
        for need, owner, demand in rows
    ]


async def visible_tenders(session: AsyncSession) -> list[Tender]:
    """The operator's own tenders; for others, those its rule lets them see (public bodies:
    published ones; vendors: published, open or invited)."""
    return list(
        await session.scalars(
            select(Tender).order_by(Tender.created_at.desc(), Tender.id).limit(LIST_LIMIT)
        )
    )


async def tender_of_need(session: AsyncSession, need_id: uuid.UUID) -> Tender | None:
    return await session.scalar(select(Tender).where(Tender.need_id == need_id))


# --- one tender --------------------------------------------------------------------------------


async def ceiling_set(session: AsyncSession, tender: Tender) -> bool:
    """Whether the operator has entered the ceiling; the amount itself stays unread."""
    return bool(await session.scalar(select(exists().where(TenderSecret.tender_id == tender.id))))


async def invitees(session: AsyncSession, tender: Tender) -> list[Organization]:
    return list(
        await session.scalars(
            select(Organization)
            .join(TenderInvitee, TenderInvitee.vendor_id == Organization.id)
            .where(TenderInvitee.tender_id == tender.id)
            .order_by(Organization.slug)
        )
    )


async def revisions(session: AsyncSession, tender: Tender) -> list[TenderRevision]:
    return list(
        await session.scalars(
            select(TenderRevision)
            .where(TenderRevision.tender_id == tender.id)
            .order_by(TenderRevision.version)
        )
    )


async def answers(session: AsyncSession, tender: Tender) -> list[Answer]:
    """The published Q&A: the question's text and the answer, never who asked."""
    return list(
        await session.scalars(
            select(Answer).where(Answer.tender_id == tender.id).order_by(Answer.published_at)
        )
    )


@dataclass(frozen=True)
class AskedQuestion:
    question: Question
    answered: bool


async def questions(session: AsyncSession, tender: Tender) -> list[AskedQuestion]:
    """Questions as the scope may read them: the operator every one, a vendor its own."""
    answered = exists().where(Answer.question_id == Question.id)
    rows = await session.execute(
        select(Question, answered)
        .where(Question.tender_id == tender.id)
        .order_by(Question.asked_at, Question.id)
    )
    return [AskedQuestion(q, bool(a)) for q, a in rows]


async def question(session: AsyncSession, question_id: uuid.UUID) -> Question:
    found = await session.scalar(select(Question).where(Question.id == question_id))
    if found is None:
        raise NotFound
    return found


async def own_bid(session: AsyncSession, org: Organization, tender: Tender) -> Bid | None:
    """A vendor's latest bid for the tender, of whichever round."""
    return await session.scalar(
        select(Bid)
        .where(Bid.tenant_id == org.id, Bid.tender_id == tender.id)
        .order_by(Bid.round.desc())
        .limit(1)
    )


async def live_award(session: AsyncSession, tender: Tender) -> Award | None:
    return await session.scalar(
        select(Award).where(Award.tender_id == tender.id, Award.revoked_at.is_(None))
    )


# --- evaluation (operator) ---------------------------------------------------------------------


@dataclass(frozen=True)
class EvaluationRow:
    vendor: Organization
    entry: Evaluated
    technical_score: int | None
    one_off_fee: int
    band_prices: list[int]
    technical_proposal: str


@dataclass(frozen=True)
class EvaluationView:
    tender: Tender
    result: Result
    rows: list[EvaluationRow]
    draw: Draw | None
    can_award: bool
    can_rebid: bool
    can_declare_unsuccessful: bool


async def evaluation_view(
    session: AsyncSession, actor: Actor, tender_id: uuid.UUID
) -> EvaluationView:
    """The opened round, ranked with the technical scores entered so far; 409 before opening."""
    tender = await tenders.operator_tender(session, actor, tender_id)
    ev, result = await opening.evaluation(session, tender)
    bids = {
        str(b.tenant_id): b
        for b in await session.scalars(
            select(Bid).where(Bid.tender_id == tender.id, Bid.round == tender.round)
        )
    }
    scores = {
        str(s.vendor_id): s.score
        for s in await session.scalars(
            select(TechnicalScore).where(
                TechnicalScore.tender_id == tender.id, TechnicalScore.round == tender.round
            )
        )
    }
    names = await organizations(session, (uuid.UUID(e.key) for e in ev.ranked))
    rows = [
        EvaluationRow(
            vendor=names[e.key],
            entry=e,
            technical_score=scores.get(e.key),
            one_off_fee=bids[e.key].one_off_fee,
            band_prices=list(bids[e.key].band_prices),
            technical_proposal=bids[e.key].technical_proposal,
        )
        for e in ev.ranked
    ]
    opened = tender.status == "opened"
    return EvaluationView(
        tender=tender,
        result=result,
        rows=rows,
        draw=ev.draw,
        can_award=opened and ev.winner is not None,
        can_rebid=opened
        and result.outcome == "all_over_ceiling"
        and tender.round < tender.max_rounds,
        can_declare_unsuccessful=opened and ev.winner is None,
    )


# --- result (everyone who may see the tender, once opened) ------------------------------------


@dataclass(frozen=True)
class ResultView:
    tender: Tender
    rounds: list[Result]  # the opened rounds, first to last
    award: Award | None
    winner: Organization | None
    vendors: dict[str, Organization]
    my_outcome: str | None  # vendors only: awarded | not awarded | pending
    my_bid: Bid | None


async def result_view(session: AsyncSession, actor: Actor, tender_id: uuid.UUID) -> ResultView:
    tender = await tenders.visible_tender(session, tender_id)
    rounds = list(
        await session.scalars(
            select(Result).where(Result.tender_id == tender.id).order_by(Result.round)
        )
    )
    if not rounds:
        raise Conflict(_("The results are published when the bids are opened."))
    award = await live_award(session, tender)
    vendor_ids = {uuid.UUID(e["vendor_id"]) for r in rounds for e in r.ranking}
    vendors = await organizations(session, vendor_ids | ({award.vendor_id} if award else set()))
    my_outcome, my_bid = await _vendor_outcome(session, actor, tender, award)
    return ResultView(
        tender=tender,
        rounds=rounds,
        award=award,
        winner=vendors.get(str(award.vendor_id)) if award else None,
        vendors=vendors,
        my_outcome=my_outcome,
        my_bid=my_bid,
    )


async def _vendor_outcome(
    session: AsyncSession, actor: Actor, tender: Tender, award: Award | None
) -> tuple[str | None, Bid | None]:
    if actor.org.kind != "vendor":
        return None, None
    mine = await own_bid(session, actor.org, tender)
    if award is not None:
        return (AWARDED if award.vendor_id == actor.org.id else NOT_AWARDED), mine
    return (NOT_AWARDED if tender.status in ENDED else PENDING), mine


# --- allocation --------------------------------------------------------------------------------


@dataclass(frozen=True)
class AllocationLine:
    line: ContractLine
    organization: Organization


@dataclass(frozen=True)
class AllocationView:
    need_id: uuid.UUID
    need: Need | None  # None for vendors, who never read needs
    tender: Tender | None
    award: Award | None
    winner: Organization | None
    lines: list[AllocationLine]  # a municipality its own, the operator all, the winner its own
    my_outcome: str | None  # vendors only
    my_bid: Bid | None


async def allocation_view(
    session: AsyncSession, actor: Actor, need_id: uuid.UUID
) -> AllocationView:
    need = None
    if actor.org.kind != "vendor":
        need = await session.scalar(select(Need).where(Need.id == need_id))
        if need is None:
            raise NotFound
    tender = await tender_of_need(session, need_id)
    if need is None and tender is None:  # a vendor who may not see this tender
        raise NotFound
    award = await live_award(session, tender) if tender else None
    lines = await opening.allocation(session, need_id)
    orgs = await organizations(
        session, {line.tenant_id for line in lines} | ({award.vendor_id} if award else set())
    )
    my_outcome, my_bid = (
        await _vendor_outcome(session, actor, tender, award) if tender else (None, None)
    )
    return AllocationView(
        need_id=need_id,
        need=need,
        tender=tender,
        award=award,
        winner=orgs.get(str(award.vendor_id)) if award else None,
        lines=[AllocationLine(line, orgs[str(line.tenant_id)]) for line in lines],
        my_outcome=my_outcome,
        my_bid=my_bid,
    )
