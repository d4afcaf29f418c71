"""The whole joint procurement at the service level: pool → tender → sealed bids → opening →
award → each municipality's contract line. Time moves only through the `now` we pass."""

from datetime import timedelta

import pytest
from sqlalchemy import select, text

from kyodo.errors import Conflict, Forbidden, NotFound
from procurement import needs, opening, tenders
from procurement.actors import Actor
from procurement.models import Bid, ContractLine, Need, Result, TenderSecret

DAY = timedelta(days=1)


@pytest.fixture
def closed_need(db, actor, now, published_need, without_approval):
    """千代田区 100 + 町田市 50 + 利島村 5, demand closed after the join deadline."""

    async def make():
        need_id = await published_need(estimated_unit_price=150_000)
        await without_approval("132098", "133621")
        for code, qty, price in (("132098", 50, 160_000), ("133621", 5, 200_000)):
            who = await actor(f"buyer@{code}.example")
            async with db.session(who.scope) as s:
                await needs.join(s, who, need_id, qty, price, now)
        owner = await actor("buyer@131016.example")
        async with db.session(owner.scope) as s:
            need = await s.scalar(select(Need).where(Need.id == need_id))
            assert await needs.close_demand(s, need, now + 15 * DAY)
        return need_id

    return make


def terms(now, **overrides):
    values = {
        "method": "open",
        "criteria": "lowest_price",
        "bid_deadline": now + 30 * DAY,
        "ceiling_unit_price": 140_000,
        "minimum_unit_price": 90_000,
        "band_thresholds": [1, 100],
    }
    values.update(overrides)
    return tenders.TenderTermsInput(**values)


@pytest.fixture
def published_tender(db, actor, now, closed_need):
    async def make(**overrides):
        need_id = await closed_need()
        operator = await actor("admin@govtech.example")
        at = now + 16 * DAY
        async with db.session(operator.scope) as s:
            tender = await tenders.create_tender(s, operator, need_id, terms(at, **overrides), at)
            assert tender.quantity == 155
            await tenders.publish_tender(s, operator, tender.id, at)
        return need_id, tender.id

    return make


async def bid(db, actor, email, tender_id, prices, fee=0, at=None):
    vendor = await actor(email)
    async with db.session(vendor.scope) as s:
        return await tenders.submit_bid(
            s, vendor, tender_id, tenders.BidInput(prices, fee, "提案書"), at
        )


async def test_the_main_path_ends_in_exact_contract_lines(db, actor, now, published_tender):
    need_id, tender_id = await published_tender()
    at = now + 17 * DAY
    await bid(db, actor, "sales@vendor-a.example", tender_id, [130_000, 120_000], 31_000, at)
    await bid(db, actor, "sales@vendor-b.example", tender_id, [135_000, 125_000], 0, at)
    # vendor A replaces its bid before the deadline
    await bid(db, actor, "sales@vendor-a.example", tender_id, [130_000, 118_000], 31_000, at)
    assert await opening.open_due(db, now + 47 * DAY) >= 1  # other tests' tenders may be due too
    operator = await actor("admin@govtech.example")
    async with db.session(operator.scope) as s:
        award = await opening.award(s, operator, tender_id, now + 48 * DAY)
        assert award.unit_price == 118_000
        lines = await opening.allocation(s, need_id)
    assert sorted(line.quantity for line in lines) == [5, 50, 100]
    assert sum(line.fee_share for line in lines) == 31_000
    assert sum(line.total for line in lines) == 155 * 118_000 + 31_000
    toshima = await actor("buyer@133621.example")
    async with db.session(toshima.scope) as s:
        mine = await opening.allocation(s, need_id)
        assert len(mine) == 1 and mine[0].quantity == 5
        assert mine[0].alone_unit_price == 130_000  # 5 units alone fall in the first band
        assert mine[0].saving == 5 * 200_000 - mine[0].total
        need = await s.scalar(select(Need).where(Need.id == need_id))
        assert need.status == "awarded"


async def test_bids_are_sealed_until_opening_even_for_the_operator(
    db, actor, now, published_tender
):
    _need_id, tender_id = await published_tender()
    at = now + 17 * DAY
    await bid(db, actor, "sales@vendor-a.example", tender_id, [130_000, 120_000], 0, at)
    for email in ("admin@govtech.example", "buyer@131016.example", "sales@vendor-b.example"):
        who = await actor(email)
        async with db.session(who.scope) as s:
            assert list(await s.scalars(select(Bid).where(Bid.tender_id == tender_id))) == []
            if s.bind.dialect.name == "postgresql":  # the database itself refuses, not only the ORM
                raw = await s.execute(
                    text("SELECT count(*) FROM procurement_bids WHERE tender_id = :t"),
                    {"t": tender_id},
                )
                assert raw.scalar() == 0
    operator = await actor("admin@govtech.example")
    async with db.session(operator.scope) as s:
        with pytest.raises(Conflict):
            await opening.evaluation(s, await tenders.operator_tender(s, operator, tender_id))
    # nobody but the operator can read the secret prices, and no vendor can read them at all
    vendor = await actor("sales@vendor-b.example")
    async with db.session(vendor.scope) as s:
        assert (
            await s.scalar(select(TenderSecret).where(TenderSecret.tender_id == tender_id)) is None
        )


async def test_bidding_after_the_deadline_is_409_and_municipalities_cannot_bid(
    db, actor, now, published_tender
):
    _need_id, tender_id = await published_tender()
    with pytest.raises(Conflict):
        await bid(db, actor, "sales@vendor-a.example", tender_id, [1, 1], 0, now + 60 * DAY)
    buyer = await actor("buyer@131016.example")
    async with db.session(buyer.scope) as s:
        with pytest.raises(NotFound):  # a municipality has no bids at all
            await tenders.submit_bid(s, buyer, tender_id, tenders.BidInput([1, 1]), now + 17 * DAY)


async def test_all_over_the_ceiling_calls_a_rebid_then_unsuccessful(
    db, actor, now, published_tender
):
    _need_id, tender_id = await published_tender(max_rounds=2)
    await bid(db, actor, "sales@vendor-a.example", tender_id, [150_000, 145_000], 0, now + 17 * DAY)
    await opening.open_due(db, now + 47 * DAY)
    operator = await actor("admin@govtech.example")
    async with db.session(operator.scope) as s:
        with pytest.raises(Conflict):
            await opening.award(s, operator, tender_id, now + 48 * DAY)
        await opening.rebid(s, operator, tender_id, now + 60 * DAY, now + 48 * DAY)
    await bid(db, actor, "sales@vendor-a.example", tender_id, [150_000, 141_000], 0, now + 50 * DAY)
    await opening.open_due(db, now + 61 * DAY)
    async with db.session(operator.scope) as s:
        with pytest.raises(Conflict):  # rounds are used up
            await opening.rebid(s, operator, tender_id, now + 70 * DAY, now + 62 * DAY)
        await opening.declare_unsuccessful(s, operator, tender_id, now + 62 * DAY)
        results = list(await s.scalars(select(Result).where(Result.tender_id == tender_id)))
        assert [r.outcome for r in sorted(results, key=lambda r: r.round)] == [
            "all_over_ceiling",
            "all_over_ceiling",
        ]


async def test_only_operator_admins_undo_an_award_and_lines_are_voided(
    db, actor, now, published_tender
):
    need_id, tender_id = await published_tender()
    await bid(db, actor, "sales@vendor-a.example", tender_id, [130_000, 120_000], 0, now + 17 * DAY)
    await opening.open_due(db, now + 47 * DAY)
    operator = await actor("admin@govtech.example")
    async with db.session(operator.scope) as s:
        await opening.award(s, operator, tender_id, now + 48 * DAY)
    staff = Actor(
        org=operator.org, person_id=operator.person_id, roles=frozenset({"procurement_officer"})
    )
    async with db.session(staff.scope) as s:
        with pytest.raises(Forbidden):
            await opening.undo_award(s, staff, tender_id, "誤り", now + 49 * DAY)
    async with db.session(operator.scope) as s:
        await opening.undo_award(s, operator, tender_id, "入札参加資格の確認漏れ", now + 49 * DAY)
        assert await opening.allocation(s, need_id) == []
        voided = await s.scalars(select(ContractLine).where(ContractLine.need_id == need_id))
        assert all(line.void for line in voided)


async def test_another_municipality_cannot_see_a_draft_tender_or_a_foreign_contract_line(
    db, actor, now, published_tender
):
    need_id, tender_id = await published_tender()
    await bid(db, actor, "sales@vendor-a.example", tender_id, [130_000, 120_000], 0, now + 17 * DAY)
    await opening.open_due(db, now + 47 * DAY)
    operator = await actor("admin@govtech.example")
    async with db.session(operator.scope) as s:
        await opening.award(s, operator, tender_id, now + 48 * DAY)
    outsider = await actor("buyer@133621.example")  # a participant, but sees only its own line
    async with db.session(outsider.scope) as s:
        lines = list(await s.scalars(select(ContractLine).where(ContractLine.need_id == need_id)))
        assert {line.tenant_id for line in lines} == {outsider.org.id}
    vendor_b = await actor("sales@vendor-b.example")
    async with db.session(vendor_b.scope) as s:  # the losing vendor sees no contract line
        theirs = select(ContractLine).where(ContractLine.need_id == need_id)
        assert list(await s.scalars(theirs)) == []
        with pytest.raises(NotFound):  # a vendor has no operator's tenders
            await tenders.operator_tender(s, vendor_b, tender_id)
