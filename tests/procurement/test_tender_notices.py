"""Tender notices through the periodic tick, travelling in time: vendors hear of new tenders
they may bid on, everyone engaged hears of changed terms, and participants and bidders hear
the result, each once. The tick also opens the bids at the deadline."""

from __future__ import annotations

from sqlalchemy import select

from kyodo.db import Database, Scope, utcnow
from kyodo.models import OutboxMessage, Person
from kyodo.notifications import CREATE
from procurement import notices, opening, tenders
from procurement.manifest import manifest
from procurement.models import Tender
from tests.procurement.tender_http import (
    DAY,
    OPERATOR,
    OWNER,
    VENDOR_A,
    VENDOR_B,
    Builder,
    service_terms,
    terms,
)


async def told(db: Database, email: str, kind: str, link_has: str) -> list[dict]:
    """The notifications queued for this person of this kind, linking to a path with this."""
    async with db.session(Scope.anonymous()) as s:
        person_id = str(await s.scalar(select(Person.id).where(Person.email == email)))
        rows = await s.scalars(select(OutboxMessage).where(OutboxMessage.actor == CREATE))
        return [
            m.payload["kwargs"]
            for m in rows
            if m.payload["kwargs"]["person_id"] == person_id
            and m.payload["kwargs"]["kind"] == kind
            and link_has in m.payload["kwargs"]["link"]
        ]


async def follow(db, actor, email: str, *categories: str) -> None:
    who = await actor(email)
    async with db.session(who.scope) as s:
        await notices.subscribe(s, who, categories)


async def test_vendors_hear_of_tenders_then_changes_then_the_result_once(
    db, actor, without_approval
):
    builder = Builder(db, actor, without_approval)
    await follow(db, actor, VENDOR_A, "training")
    await follow(db, actor, VENDOR_B, "devices")  # the demo need's category
    built = await builder.build("published")
    tid = str(built.tender_id)
    now = utcnow()

    await manifest.tick(db, now)
    await manifest.tick(db, now)  # a second tick sends nothing again
    [new] = await told(db, VENDOR_B, "procurement.new_tender", tid)
    assert new["link"] == f"/o/vendor-b/procurement/tenders/{tid}" and "入札締切" in new["title_ja"]
    assert await told(db, VENDOR_A, "procurement.new_tender", tid) == []  # another category

    # a change of terms reaches the vendor told of it and the participating municipalities
    changed = service_terms(terms(bid_deadline=(now + 11 * DAY).isoformat()))
    await builder.as_operator(
        lambda s, op: tenders.edit_terms(s, op, built.tender_id, changed, now)
    )
    await manifest.tick(db, now)
    await manifest.tick(db, now)
    assert len(await told(db, VENDOR_B, "procurement.tender_revised", tid)) == 1
    for email in (OWNER, "buyer@132098.example", "buyer@133621.example"):
        assert len(await told(db, email, "procurement.tender_revised", tid)) == 1, email
    assert await told(db, VENDOR_A, "procurement.tender_revised", tid) == []

    # both bid; the tick opens the bids once the (changed) deadline has passed
    await builder.bid(built, VENDOR_A, [130_000, 118_000], 31_000)
    await builder.bid(built, VENDOR_B, [135_000, 125_000])
    await manifest.tick(db, now + 11 * DAY - DAY)
    operator = await actor(OPERATOR)
    async with db.session(operator.scope) as s:
        assert (await s.get(Tender, (operator.org.id, built.tender_id))).status == "published"
    await manifest.tick(db, now + 11 * DAY)
    async with db.session(operator.scope) as s:
        assert (await s.get(Tender, (operator.org.id, built.tender_id))).status == "opened"
        await opening.award(s, operator, built.tender_id, now + 12 * DAY)

    await manifest.tick(db, now + 12 * DAY)
    await manifest.tick(db, now + 12 * DAY)
    [won] = await told(db, VENDOR_A, "procurement.tender_result", tid)
    [lost] = await told(db, VENDOR_B, "procurement.tender_result", tid)
    assert won["title_ja"].startswith("落札") and lost["title_ja"].startswith("不落札")
    assert won["link"] == f"/o/vendor-a/procurement/tenders/{tid}/result"
    need = str(built.need_id)
    for email, org in ((OWNER, "131016"), ("buyer@133621.example", "133621")):
        [result] = await told(db, email, "procurement.tender_result", need)
        assert result["link"] == f"/o/{org}/procurement/needs/{need}/allocation"


async def test_an_invited_vendor_hears_of_a_selective_tender_and_nobody_else(
    db, actor, without_approval
):
    builder = Builder(db, actor, without_approval)
    await follow(db, actor, VENDOR_A, "training")
    await follow(db, actor, VENDOR_B, "devices")
    built = await builder.build("published", method="selective", invited_vendors=["vendor-a"])
    await manifest.tick(db, utcnow())
    tid = str(built.tender_id)
    assert len(await told(db, VENDOR_A, "procurement.new_tender", tid)) == 1
    assert await told(db, VENDOR_B, "procurement.new_tender", tid) == []  # may not even see it


async def test_a_cancelled_tender_is_told_to_bidders_and_participants(db, actor, without_approval):
    builder = Builder(db, actor, without_approval)
    built = await builder.build("published")
    await builder.bid(built, VENDOR_A, [130_000, 118_000])
    await builder.as_operator(
        lambda s, op: tenders.cancel(s, op, built.tender_id, "budget", utcnow())
    )
    await manifest.tick(db, utcnow())
    [cancelled] = await told(db, VENDOR_A, "procurement.tender_result", str(built.tender_id))
    assert cancelled["title_ja"].startswith("入札中止")
    assert await told(db, VENDOR_B, "procurement.tender_result", str(built.tender_id)) == []
    assert len(await told(db, OWNER, "procurement.tender_result", str(built.need_id))) == 1
