"""Joint procurements brought to each state through the real services, for the open-data,
export and dashboard tests: 千代田区 posts 100, 町田市 joins with 50 and 利島村 with 5; the
operator tenders 155 with a secret ceiling and minimum; vendors A and B bid.

Amounts are odd numbers that appear nowhere else, so a secrecy test can search any response
for them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select

from kyodo.db import Database
from procurement import needs, opening, tenders
from procurement.models import Need

DAY = timedelta(days=1)
CEILING, MINIMUM = 143_917, 91_733
VENDOR_A, VENDOR_B = "sales@vendor-a.example", "sales@vendor-b.example"
# (band prices for 1+ and 100+, one-off fee); the pooled 155 falls in the 100+ band
BIDS = {VENDOR_A: ([131_171, 119_393], 31_007), VENDOR_B: ([137_713, 127_319], 0)}
OVER_CEILING = {VENDOR_A: ([150_011, 148_013], 0), VENDOR_B: ([152_003, 149_021], 0)}
JOINERS = (("132098", 50, 160_000), ("133621", 5, 200_000))
OWNER_ESTIMATE = 150_000
QUANTITY = 155


def secret_amounts(bids: dict = BIDS, quantity: int = QUANTITY) -> set[int]:
    """Every number that must stay unpublished before opening."""
    amounts = {CEILING, MINIMUM, CEILING * quantity, MINIMUM * quantity}
    for prices, fee in bids.values():
        amounts |= {*prices, *(p * quantity for p in prices), *(p * quantity + fee for p in prices)}
        amounts |= {fee} if fee else set()
    return amounts


@dataclass
class Procurement:
    need_id: uuid.UUID
    tender_id: uuid.UUID | None = None


class Stages:
    STATES = (
        "published",
        "closed",
        "tendering",
        "opened",
        "awarded",
        "unsuccessful",
        "cancelled",
        "undone",
    )

    def __init__(self, db: Database, actor, published_need, without_approval, now: datetime):
        self.db, self.actor, self.now = db, actor, now
        self._published_need, self._without_approval = published_need, without_approval

    async def build(self, state: str, **options) -> Procurement:
        return await getattr(self, state)(**options)

    async def published(self, joiners=JOINERS, **need) -> Procurement:
        need.setdefault("estimated_unit_price", OWNER_ESTIMATE)
        need_id = await self._published_need(**need)
        await self._without_approval(*(code for code, _q, _p in joiners))
        for code, quantity, price in joiners:
            who = await self.actor(f"buyer@{code}.example")
            async with self.db.session(who.scope) as s:
                await needs.join(s, who, need_id, quantity, price, self.now)
        return Procurement(need_id)

    async def closed(self, **options) -> Procurement:
        p = await self.published(**options)
        owner = await self.actor("buyer@131016.example")
        async with self.db.session(owner.scope) as s:
            need = await s.scalar(select(Need).where(Need.id == p.need_id))
            assert await needs.close_demand(s, need, self.now + 15 * DAY)
        return p

    async def tendering(self, bids=BIDS, criteria="lowest_price", **options) -> Procurement:
        p = await self.closed(**options)
        operator = await self.actor("admin@govtech.example")
        at = self.now + 16 * DAY
        terms = tenders.TenderTermsInput(
            method="open",
            criteria=criteria,
            price_weight=70 if criteria == "weighted" else 100,
            technical_weight=30 if criteria == "weighted" else 0,
            bid_deadline=self.now + 30 * DAY,
            question_deadline=self.now + 25 * DAY,
            ceiling_unit_price=CEILING,
            minimum_unit_price=MINIMUM,
            band_thresholds=[1, 100],
        )
        async with self.db.session(operator.scope) as s:
            tender = await tenders.create_tender(s, operator, p.need_id, terms, at)
            await tenders.publish_tender(s, operator, tender.id, at)
        p.tender_id = tender.id
        for email, (prices, fee) in bids.items():
            vendor = await self.actor(email)
            async with self.db.session(vendor.scope) as s:
                bid = tenders.BidInput(prices, fee, "提案書")
                await tenders.submit_bid(s, vendor, tender.id, bid, self.now + 17 * DAY)
        return p

    async def opened(self, **options) -> Procurement:
        p = await self.tendering(**options)
        await self.open(p)
        return p

    async def open(self, p: Procurement) -> None:
        """The tick's opening, for this one tender only."""
        operator = await self.actor("admin@govtech.example")
        async with self.db.session(operator.scope) as s:
            tender = await tenders.operator_tender(s, operator, p.tender_id)
            await opening.open_round(s, tender, self.now + 31 * DAY)

    async def awarded(self, award_at: datetime | None = None, **options) -> Procurement:
        p = await self.opened(**options)
        operator = await self.actor("admin@govtech.example")
        async with self.db.session(operator.scope) as s:
            await opening.award(s, operator, p.tender_id, award_at or self.now + 32 * DAY)
        return p

    async def scored(self, scores: dict[str, int], **options) -> Procurement:
        """総合評価: opened, with the evaluators' technical score for each vendor's bid."""
        p = await self.opened(criteria="weighted", **options)
        operator = await self.actor("admin@govtech.example")
        for email, value in scores.items():
            vendor = (await self.actor(email)).org.id
            async with self.db.session(operator.scope) as s:
                await opening.score(s, operator, p.tender_id, vendor, value)
        return p

    async def unsuccessful(self, **options) -> Procurement:
        p = await self.opened(bids=OVER_CEILING, **options)
        operator = await self.actor("admin@govtech.example")
        async with self.db.session(operator.scope) as s:
            await opening.declare_unsuccessful(s, operator, p.tender_id, self.now + 32 * DAY)
        return p

    async def rebidding(self, **options) -> Procurement:
        """Every bid was over the ceiling; a second round is taking bids."""
        p = await self.opened(bids=OVER_CEILING, **options)
        operator = await self.actor("admin@govtech.example")
        async with self.db.session(operator.scope) as s:
            at = self.now + 32 * DAY
            await opening.rebid(s, operator, p.tender_id, at + 10 * DAY, at)
        return p

    async def cancelled(self, **options) -> Procurement:
        """Cancelled while bids were still sealed."""
        p = await self.tendering(**options)
        operator = await self.actor("admin@govtech.example")
        async with self.db.session(operator.scope) as s:
            await tenders.cancel(s, operator, p.tender_id, "budget", self.now + 18 * DAY)
        return p

    async def undone(self, **options) -> Procurement:
        p = await self.awarded(**options)
        operator = await self.actor("admin@govtech.example")
        async with self.db.session(operator.scope) as s:
            await opening.undo_award(s, operator, p.tender_id, "入札参加資格の確認漏れ", self.now)
        return p
