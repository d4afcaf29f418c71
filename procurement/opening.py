"""Opening (開札), evaluation, award and allocation.

| tender status | action (role, organization) | next |
|---|---|---|
| published | bid deadline passes (tick): the operator may now read the round's bids | opened |
| opened | enter technical scores, 総合評価 only (evaluator, operator) | opened |
| opened | award to the first-ranked valid bid (procurement_officer, operator) | awarded |
| opened | rebid: every bid over the ceiling, rounds left (procurement_officer) | published |
| opened | declare unsuccessful when nothing can be awarded (procurement_officer) | unsuccessful |
| awarded | undo the award with a reason (admin, operator) | opened |

At award every participant gets a contract line at the winning unit price (see allocation.py),
written into its own organization through the explicit operator scope and audited there.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from dataclasses import asdict
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kyodo import audit
from kyodo.db import Database, Scope, acting_as
from kyodo.errors import Conflict, Forbidden, InvalidInput, NotFound
from kyodo.models import Organization
from kyodo.web.i18n import _
from procurement.actors import Actor
from procurement.allocation import Band, Participant, contract_lines
from procurement.evaluation import WEIGHTED, BidInput, Evaluation, TenderTerms, evaluate
from procurement.models import (
    Award,
    Bid,
    Commitment,
    ContractLine,
    Result,
    TechnicalScore,
    Tender,
    TenderSecret,
)
from procurement.needs import OFFICER, expect_status
from procurement.tenders import bidding_lock, operator_tender, set_need_status

TOKYO = ZoneInfo("Asia/Tokyo")
log = logging.getLogger(__name__)


def fiscal_year(moment: datetime) -> int:
    """Japanese fiscal years start on 1 April (Tokyo time): 2027-03-31 belongs to FY2026."""
    local = moment.astimezone(TOKYO)
    return local.year if local.month >= 4 else local.year - 1


# --- opening -------------------------------------------------------------------------------


async def open_due(db: Database, now: datetime) -> int:
    """The tick: open every published tender whose bid deadline has passed."""
    async with db.session(Scope.anonymous()) as session:
        operators = list(
            await session.scalars(select(Organization).where(Organization.kind == "operator"))
        )
    opened = 0
    for operator in operators:
        system = Actor(org=operator, person_id=None, roles=frozenset({OFFICER}))
        async with db.session(system.scope) as session:
            due = list(
                await session.scalars(
                    select(Tender.id).where(
                        Tender.tenant_id == operator.id,
                        Tender.status == "published",
                        Tender.bid_deadline <= now,
                    )
                )
            )
        for tender_id in due:
            try:
                async with db.session(system.scope) as session:
                    await bidding_lock(session, tender_id, shared=False)
                    tender = await session.scalar(
                        select(Tender).where(Tender.id == tender_id).with_for_update()
                    )
                    if tender.status == "published" and tender.bid_deadline <= now:
                        await open_round(session, tender, now)
                        opened += 1
            except Exception:  # one broken tender must not stop every other opening
                log.exception("opening tender %s failed; the next tick tries again", tender_id)
    return opened


async def open_round(session: AsyncSession, tender: Tender, now: datetime) -> Result:
    """Unseal the round's bids (RLS lets the operator read them from here on) and publish the
    opening record: every bid's price and validity and the secret prices, now disclosed."""
    tender.opened_round, tender.status = tender.round, "opened"
    await session.flush()
    result = Result(
        tenant_id=tender.tenant_id,
        tender_id=tender.id,
        round=tender.round,
        opened_at=now,
        draw_seed=secrets.randbits(62),
        ranking=[],
        draw=None,
        outcome="no_valid_bid",
    )
    secret = await session.get(TenderSecret, (tender.tenant_id, tender.id))
    result.ceiling_unit_price = secret.ceiling_unit_price
    result.minimum_unit_price = secret.minimum_unit_price
    session.add(result)
    await session.flush()
    await _record(session, tender, result)
    await audit.record(session, "tender.opened", "tender", tender.id, f"round {tender.round}")
    return result


async def evaluation(session: AsyncSession, tender: Tender) -> tuple[Evaluation, Result]:
    """The current evaluation of the opened round (technical scores as entered so far)."""
    result = await session.scalar(
        select(Result).where(Result.tender_id == tender.id, Result.round == tender.round)
    )
    if result is None or tender.opened_round < tender.round:
        raise Conflict(_("The bids have not been opened yet."))
    bids = list(
        await session.scalars(
            select(Bid).where(Bid.tender_id == tender.id, Bid.round == tender.round)
        )
    )
    scores = {
        s.vendor_id: s.score
        for s in await session.scalars(
            select(TechnicalScore).where(
                TechnicalScore.tender_id == tender.id, TechnicalScore.round == tender.round
            )
        )
    }
    terms = TenderTerms(
        quantity=tender.quantity,
        ceiling_unit_price=result.ceiling_unit_price,
        minimum_unit_price=result.minimum_unit_price,
        criteria=tender.criteria,
        price_weight=tender.price_weight,
        technical_weight=tender.technical_weight,
    )
    inputs = [
        BidInput(
            key=str(b.tenant_id),
            bands=[Band(t, p) for t, p in zip(tender.band_thresholds, b.band_prices, strict=True)],
            one_off_fee=b.one_off_fee,
            technical_score=scores.get(b.tenant_id),
        )
        for b in bids
    ]
    return evaluate(terms, inputs, seed=result.draw_seed), result


async def _record(session: AsyncSession, tender: Tender, result: Result) -> Evaluation:
    """Store the evaluation as the public opening record."""
    ev, _result = await evaluation(session, tender)
    names = {
        str(o.id): o
        for o in await session.scalars(select(Organization).where(Organization.kind == "vendor"))
    }
    result.ranking = [
        {
            "vendor_id": e.key,
            "vendor": names[e.key].slug if e.key in names else e.key,
            "unit_price": e.unit_price,
            "total": e.total,
            "valid": e.valid,
            "invalid_reason": e.invalid_reason,
            "price_points": float(e.price_points),
            "technical_points": float(e.technical_points),
            "rank": e.rank,
        }
        for e in ev.ranked
    ]
    result.draw = asdict(ev.draw) if ev.draw else None
    if ev.winner:
        result.outcome = "winner"
    elif ev.all_over_ceiling:
        result.outcome = "all_over_ceiling"
    elif tender.criteria == WEIGHTED and any(
        e.invalid_reason == "no_technical_score" for e in ev.ranked
    ):
        result.outcome = "awaiting_scores"
    else:
        result.outcome = "no_valid_bid"
    await session.flush()
    return ev


async def score(
    session: AsyncSession, actor: Actor, tender_id: uuid.UUID, vendor_id: uuid.UUID, value: int
) -> TechnicalScore:
    """An evaluator's technical score (0–100) for one opened bid of a 総合評価 tender."""
    actor.require("evaluator", kinds=("operator",))
    if not 0 <= value <= 100:
        raise InvalidInput({"score": _("Enter a whole number from 0 to 100.")})
    tender = await operator_tender(session, actor, tender_id)
    expect_status(tender.status, ("opened",))
    if tender.criteria != WEIGHTED:
        raise Conflict(_("This tender is decided on price alone."))
    bid = await session.scalar(
        select(Bid).where(
            Bid.tender_id == tender.id, Bid.round == tender.round, Bid.tenant_id == vendor_id
        )
    )
    if bid is None:
        raise NotFound
    found = await session.get(TechnicalScore, (actor.org.id, tender.id, tender.round, vendor_id))
    if found is None:
        found = TechnicalScore(
            tenant_id=actor.org.id,
            tender_id=tender.id,
            round=tender.round,
            vendor_id=vendor_id,
            score=value,
            scored_by=actor.person_id,
        )
        session.add(found)
    found.score, found.scored_by = value, actor.person_id
    await session.flush()
    result = await session.scalar(
        select(Result).where(Result.tender_id == tender.id, Result.round == tender.round)
    )
    await _record(session, tender, result)
    await audit.record(session, "bid.scored", "tender", tender.id, f"{vendor_id}: {value}")
    return found


# --- decisions ------------------------------------------------------------------------------


async def award(session: AsyncSession, actor: Actor, tender_id: uuid.UUID, now: datetime) -> Award:
    tender = await operator_tender(session, actor, tender_id)
    actor.require(OFFICER)
    expect_status(tender.status, ("opened",))
    result = await session.scalar(
        select(Result).where(Result.tender_id == tender.id, Result.round == tender.round)
    )
    ev = await _record(session, tender, result)
    if ev.winner is None:
        raise Conflict(_("There is no valid bid to award."))
    winner_id = uuid.UUID(ev.winner.key)
    bid = await session.scalar(
        select(Bid).where(
            Bid.tender_id == tender.id, Bid.round == tender.round, Bid.tenant_id == winner_id
        )
    )
    decision = Award(
        tenant_id=actor.org.id,
        tender_id=tender.id,
        vendor_id=winner_id,
        unit_price=ev.winner.unit_price,
        one_off_fee=bid.one_off_fee,
        awarded_by=actor.person_id,
        awarded_at=now,
    )
    session.add(decision)
    await session.flush()
    tender.status = "awarded"
    await audit.record(
        session, "tender.awarded", "tender", tender.id, f"{winner_id} at ¥{ev.winner.unit_price:,}"
    )
    bands = (
        [Band(t, p) for t, p in zip(tender.band_thresholds, bid.band_prices, strict=True)]
        if len(tender.band_thresholds) > 1
        else []
    )
    await _write_contract_lines(session, actor, tender, decision, bands, now)
    await set_need_status(session, actor, tender, "awarded")
    return decision


async def _write_contract_lines(
    session: AsyncSession,
    actor: Actor,
    tender: Tender,
    decision: Award,
    bands: list[Band],
    now: datetime,
) -> None:
    commitments = list(
        await session.scalars(
            select(Commitment)
            .where(Commitment.need_id == tender.need_id, Commitment.status == "active")
            .order_by(Commitment.quantity.desc(), Commitment.tenant_id)
        )
    )
    participants = [
        Participant(c.tenant_id, c.quantity, c.estimated_unit_price) for c in commitments
    ]
    for line in contract_lines(participants, decision.unit_price, decision.one_off_fee, bands):
        org = await session.get(Organization, line.key)
        async with acting_as(session, actor.acting_in(org)):
            row = ContractLine(
                tenant_id=org.id,
                award_id=decision.id,
                tender_id=tender.id,
                need_id=tender.need_id,
                vendor_id=decision.vendor_id,
                quantity=line.quantity,
                unit_price=line.unit_price,
                goods_amount=line.goods_amount,
                fee_share=line.fee_share,
                total=line.total,
                estimated_total=line.estimated_total,
                saving=line.saving,
                alone_unit_price=line.alone_unit_price,
                alone_total=line.alone_total,
                fiscal_year=fiscal_year(now),
            )
            session.add(row)
            await session.flush()
            await audit.record(
                session, "contract.allocated", "contract_line", row.id, f"¥{line.total:,}"
            )


async def rebid(
    session: AsyncSession, actor: Actor, tender_id: uuid.UUID, bid_deadline: datetime, now: datetime
) -> Tender:
    """再度入札: every bid was over the ceiling and rounds remain; bidding opens again."""
    tender = await operator_tender(session, actor, tender_id)
    actor.require(OFFICER)
    expect_status(tender.status, ("opened",))
    result = await session.scalar(
        select(Result).where(Result.tender_id == tender.id, Result.round == tender.round)
    )
    if result.outcome != "all_over_ceiling":
        raise Conflict(_("A rebid is only called when every bid is over the ceiling."))
    if tender.round >= tender.max_rounds:
        raise Conflict(_("No rebid rounds are left."))
    if bid_deadline.tzinfo is None or bid_deadline <= now:
        raise InvalidInput({"bid_deadline": _("The deadline must lie in the future.")})
    tender.round += 1
    tender.status, tender.bid_deadline, tender.question_deadline = "published", bid_deadline, None
    await audit.record(session, "tender.rebid", "tender", tender.id, f"round {tender.round}")
    return tender


async def declare_unsuccessful(
    session: AsyncSession, actor: Actor, tender_id: uuid.UUID, now: datetime
) -> Tender:
    tender = await operator_tender(session, actor, tender_id)
    actor.require(OFFICER)
    expect_status(tender.status, ("opened",))
    result = await session.scalar(
        select(Result).where(Result.tender_id == tender.id, Result.round == tender.round)
    )
    if result.outcome == "winner":
        raise Conflict(_("A valid bid can be awarded; cancel the tender instead."))
    tender.status = "unsuccessful"
    await audit.record(session, "tender.unsuccessful", "tender", tender.id, result.outcome)
    await set_need_status(session, actor, tender, "unsuccessful")
    return tender


async def undo_award(
    session: AsyncSession, actor: Actor, tender_id: uuid.UUID, reason: str, now: datetime
) -> Tender:
    """Operator admins only, with a reason; contract lines are voided, nothing is deleted."""
    actor.require("admin", kinds=("operator",))
    if not reason.strip():
        raise InvalidInput({"reason": _("Say why the award is undone.")})
    tender = await operator_tender(session, actor, tender_id)
    expect_status(tender.status, ("awarded",))
    decision = await session.scalar(
        select(Award).where(Award.tender_id == tender.id, Award.revoked_at.is_(None))
    )
    if decision is None:
        raise Forbidden(_("There is no award to undo."))
    decision.revoked_at, decision.revoked_by, decision.revoke_reason = (
        now,
        actor.person_id,
        reason[:2000],
    )
    tender.status = "opened"
    await audit.record(session, "award.undone", "tender", tender.id, reason[:200])
    lines = list(
        await session.scalars(select(ContractLine).where(ContractLine.award_id == decision.id))
    )
    for line in lines:
        org = await session.get(Organization, line.tenant_id)
        async with acting_as(session, actor.acting_in(org)):
            line = await session.scalar(select(ContractLine).where(ContractLine.id == line.id))
            line.void = True
            await audit.record(session, "contract.voided", "contract_line", line.id, reason[:200])
    await set_need_status(session, actor, tender, "tendering")
    return tender


async def allocation(session: AsyncSession, need_id: uuid.UUID) -> list[ContractLine]:
    """The live contract lines of a need as the acting organization may see them: its own
    line for a municipality, every line for the operator."""
    return list(
        await session.scalars(
            select(ContractLine)
            .where(ContractLine.need_id == need_id, ContractLine.void.is_(False))
            .order_by(ContractLine.quantity.desc())
        )
    )
