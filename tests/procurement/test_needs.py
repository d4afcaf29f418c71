"""Drafting, approving and joining needs, as officials of different municipalities."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from kyodo.errors import Conflict, Forbidden, InvalidInput, NotFound
from procurement import needs
from procurement.models import Commitment, Demand, Need
from tests.procurement.conftest import need_input


async def demand(db, actor_, need_id):
    async with db.session(actor_.scope) as s:
        row = await s.get(Demand, need_id)
        return row.total_quantity, row.participants


async def test_draft_is_private_until_approved_then_pooled(db, actor, now):
    buyer = await actor("buyer@131016.example")
    machida = await actor("buyer@132098.example")
    async with db.session(buyer.scope) as s:
        need = await needs.create_need(s, buyer, need_input(), now)
        await needs.submit_need(s, buyer, need.id, now)
        assert need.status == "pending_approval"
    async with db.session(machida.scope) as s:
        with pytest.raises(NotFound):
            await needs.pooled_need(s, need.id)
    approver = await actor("approver@131016.example")
    async with db.session(approver.scope) as s:
        await needs.approve_need(s, approver, need.id, now)
    async with db.session(machida.scope) as s:
        assert (await needs.pooled_need(s, need.id)).status == "published"
    assert await demand(db, machida, need.id) == (100, 1)


async def test_drafter_cannot_approve_and_staff_cannot_draft(db, actor, now):
    staff = await actor("staff1@131016.example")
    async with db.session(staff.scope) as s:
        with pytest.raises(Forbidden):
            await needs.create_need(s, staff, need_input(), now)
    vendor = await actor("sales@vendor-a.example")
    async with db.session(vendor.scope) as s:
        with pytest.raises(NotFound):  # vendors have no needs at all
            await needs.create_need(s, vendor, need_input(), now)


async def test_bad_input_is_reported_per_field(db, actor, now):
    buyer = await actor("buyer@131016.example")
    bad = need_input(
        title="", category="weapons", quantity=0, estimated_unit_price=-5, join_deadline=now
    )
    async with db.session(buyer.scope) as s:
        with pytest.raises(InvalidInput) as caught:
            await needs.create_need(s, buyer, bad, now)
    assert set(caught.value.errors) == {
        "title",
        "category",
        "quantity",
        "estimated_unit_price",
        "join_deadline",
    }


async def test_return_needs_a_comment_and_allows_resubmission(db, actor, now):
    buyer, approver = await actor("buyer@131016.example"), await actor("approver@131016.example")
    async with db.session(buyer.scope) as s:
        need = await needs.create_need(s, buyer, need_input(), now)
        await needs.submit_need(s, buyer, need.id, now)
    async with db.session(approver.scope) as s:
        with pytest.raises(InvalidInput):
            await needs.return_need(s, approver, need.id, "  ")
        await needs.return_need(s, approver, need.id, "数量の根拠を追記してください")
    async with db.session(buyer.scope) as s:
        await needs.update_need(s, buyer, need.id, need_input(quantity=120), now)
        again = await needs.submit_need(s, buyer, need.id, now)
        assert again.status == "pending_approval"


async def test_joins_change_and_withdraw_move_the_pooled_demand(
    db, actor, now, published_need, without_approval
):
    need_id = await published_need()
    await without_approval("132098", "133621")
    machida, toshima = await actor("buyer@132098.example"), await actor("buyer@133621.example")
    async with db.session(machida.scope) as s:
        await needs.join(s, machida, need_id, 50, 160_000, now)
    async with db.session(toshima.scope) as s:
        await needs.join(s, toshima, need_id, 5, 170_000, now)
    assert await demand(db, machida, need_id) == (155, 3)
    async with db.session(machida.scope) as s:
        await needs.join(s, machida, need_id, 80, 160_000, now)
    assert await demand(db, machida, need_id) == (185, 3)
    async with db.session(toshima.scope) as s:
        await needs.withdraw(s, toshima, need_id, now)
    assert await demand(db, machida, need_id) == (180, 2)


async def test_joining_needs_the_joiners_approval_when_it_has_one(db, actor, now, without_approval):
    # 町田市 (no approval step) posts; 千代田区 (approval on) joins through its approver.
    await without_approval("132098")
    machida = await actor("buyer@132098.example")
    async with db.session(machida.scope) as s:
        other = await needs.create_need(
            s, machida, need_input(title="AI-OCR", category="ai_ocr"), now
        )
        await needs.submit_need(s, machida, other.id, now)
    chiyoda = await actor("buyer@131016.example")
    async with db.session(chiyoda.scope) as s:
        mine = await needs.join(s, chiyoda, other.id, 30, 1_000, now)
        assert mine.status == "pending_approval"
    assert await demand(db, machida, other.id) == (100, 1)
    approver = await actor("approver@131016.example")
    async with db.session(approver.scope) as s:
        await needs.decide_commitment(s, approver, other.id, True, now)
    assert await demand(db, machida, other.id) == (130, 2)


async def test_after_the_deadline_joins_are_refused_with_409(db, actor, now, published_need):
    need_id = await published_need()
    toshima = await actor("buyer@133621.example")
    later = now + timedelta(days=15)
    async with db.session(toshima.scope) as s:
        with pytest.raises(Conflict):
            await needs.join(s, toshima, need_id, 5, 170_000, later)


async def test_the_owner_sees_who_joined_and_others_only_their_own(
    db, actor, now, published_need, without_approval
):
    need_id = await published_need()
    await without_approval("132098", "133621")
    machida, toshima = await actor("buyer@132098.example"), await actor("buyer@133621.example")
    for who in (machida, toshima):
        async with db.session(who.scope) as s:
            await needs.join(s, who, need_id, 10, 1_000, now)
    owner = await actor("buyer@131016.example")
    async with db.session(owner.scope) as s:
        seen = set(
            await s.scalars(select(Commitment.tenant_id).where(Commitment.need_id == need_id))
        )
    assert seen == {owner.org.id, machida.org.id, toshima.org.id}
    async with db.session(toshima.scope) as s:
        seen = set(
            await s.scalars(select(Commitment.tenant_id).where(Commitment.need_id == need_id))
        )
        # and a municipality cannot edit another's need through the ORM either
        need = await s.scalar(select(Need).where(Need.id == need_id))
        assert need is not None
    assert seen == {toshima.org.id}
