"""The tick, travelling in time: demand closes at the join deadline, participants are reminded
3 days and 1 day before it, subscribed municipalities hear of new needs, each exactly once."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from kyodo.db import Database, Scope
from kyodo.errors import Conflict
from kyodo.models import AuditEvent, OutboxMessage, Person
from kyodo.notifications import CREATE
from procurement import needs, notices
from procurement import tick as procurement_tick
from procurement.actors import Actor
from procurement.manifest import manifest
from procurement.models import Need
from tests.procurement.conftest import NOW, need_input

DAY = timedelta(days=1)
DEADLINE = NOW + 14 * DAY  # the published_need fixture's join deadline


def test_the_tick_is_registered_with_the_kernel():
    assert manifest.tick is procurement_tick.tick


async def tick(db: Database, at) -> None:
    await manifest.tick(db, at)


async def person(db: Database, email: str) -> uuid.UUID:
    async with db.session(Scope.anonymous()) as s:
        return await s.scalar(select(Person.id).where(Person.email == email))


async def told(db: Database, email: str, need_id: uuid.UUID, kind: str) -> list[dict]:
    """The notifications queued for this person about this need."""
    person_id = str(await person(db, email))
    async with db.session(Scope.anonymous()) as s:
        rows = await s.scalars(select(OutboxMessage).where(OutboxMessage.actor == CREATE))
        return [
            m.payload["kwargs"]
            for m in rows
            if m.payload["kwargs"]["person_id"] == person_id
            and m.payload["kwargs"]["kind"] == kind
            and m.payload["kwargs"]["link"].endswith(f"/procurement/needs/{need_id}")
        ]


async def status_of(db: Database, actor_: Actor, need_id: uuid.UUID) -> str:
    async with db.session(actor_.scope) as s:
        return (await s.get(Need, (actor_.org.id, need_id))).status


async def test_demand_closes_at_the_join_deadline_once(db, actor, published_need):
    need_id = await published_need()
    owner = await actor("buyer@131016.example")
    await tick(db, DEADLINE - timedelta(seconds=1))
    assert await status_of(db, owner, need_id) == "published"
    await tick(db, DEADLINE)
    assert await status_of(db, owner, need_id) == "closed"
    await tick(db, DEADLINE + DAY)
    async with db.session(owner.scope) as s:
        closed_at = (await s.get(Need, (owner.org.id, need_id))).closed_at
        events = await s.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "need.closed", AuditEvent.target_id == str(need_id))
        )
    assert closed_at == DEADLINE and events == 1  # in the owner's own audit chain, once
    toshima = await actor("buyer@133621.example")
    async with db.session(toshima.scope) as s:
        with pytest.raises(Conflict):
            await needs.join(s, toshima, need_id, 5, 1_000, DEADLINE - DAY)


async def test_participants_are_reminded_3_days_and_1_day_before_once(
    db, actor, published_need, without_approval
):
    need_id = await published_need()
    await without_approval("132098", "133621")
    machida, toshima = await actor("buyer@132098.example"), await actor("buyer@133621.example")
    for who in (machida, toshima):
        async with db.session(who.scope) as s:
            await needs.join(s, who, need_id, 10, 1_000, NOW)
    async with db.session(toshima.scope) as s:  # 利島村 leaves again: no reminders for it
        await needs.withdraw(s, toshima, need_id, NOW)

    async def reminders(email: str) -> list[str]:
        return [n["title_ja"] for n in await told(db, email, need_id, "procurement.reminder")]

    await tick(db, DEADLINE - 3 * DAY - timedelta(minutes=1))
    assert await reminders("buyer@131016.example") == []
    for _ in range(2):  # a second tick in the same window sends nothing more
        await tick(db, DEADLINE - 3 * DAY)
        assert len(await reminders("buyer@131016.example")) == 1
        assert len(await reminders("buyer@132098.example")) == 1
    [three] = await reminders("buyer@132098.example")
    assert three.startswith("参加締切まであと3日") and "2026-12-06 10:00" in three  # JST
    for _ in range(2):
        await tick(db, DEADLINE - DAY + timedelta(hours=2))
        assert len(await reminders("buyer@132098.example")) == 2
    assert (await reminders("buyer@132098.example"))[1].startswith("参加締切まであと1日")
    assert await reminders("buyer@133621.example") == []
    assert await reminders("approver@131016.example") == []  # officers are told, not everyone


async def test_a_late_joiner_hears_only_the_nearest_reminder(
    db, actor, published_need, without_approval
):
    need_id = await published_need()
    await without_approval("133621")
    await tick(db, DEADLINE - 3 * DAY)  # 千代田区 (the owner) is reminded; 利島村 is not in yet
    toshima = await actor("buyer@133621.example")
    async with db.session(toshima.scope) as s:
        await needs.join(s, toshima, need_id, 3, 2_000, DEADLINE - timedelta(hours=20))
    await tick(db, DEADLINE - timedelta(hours=20))
    await tick(db, DEADLINE - timedelta(hours=10))
    heard = await told(db, "buyer@133621.example", need_id, "procurement.reminder")
    assert len(heard) == 1 and heard[0]["title_ja"].startswith("参加締切まであと1日")
    assert heard[0]["link"] == f"/o/133621/procurement/needs/{need_id}"


async def test_subscribed_municipalities_hear_of_new_needs_once(db, actor, now):
    follow = {"132098": ["ai_ocr"], "133621": ["cloud"], "131016": ["ai_ocr"]}
    for code, categories in follow.items():
        officer = await actor(f"buyer@{code}.example")
        async with db.session(officer.scope) as s:
            await notices.subscribe(s, officer, categories)
    buyer, approver = await actor("buyer@131016.example"), await actor("approver@131016.example")
    async with db.session(buyer.scope) as s:
        ocr = await needs.create_need(s, buyer, need_input(title="AI-OCR", category="ai_ocr"), now)
        pcs = await needs.create_need(s, buyer, need_input(category="devices"), now)
        for need in (ocr, pcs):
            await needs.submit_need(s, buyer, need.id, now)
    await tick(db, now)
    assert await told(db, "buyer@132098.example", ocr.id, "procurement.new_need") == []  # draft
    async with db.session(approver.scope) as s:
        for need in (ocr, pcs):
            await needs.approve_need(s, approver, need.id, now)
    for _ in range(2):
        await tick(db, now + timedelta(minutes=1))
        [heard] = await told(db, "buyer@132098.example", ocr.id, "procurement.new_need")
    assert heard["link"] == f"/o/132098/procurement/needs/{ocr.id}"
    assert "AI-OCR" in heard["title_ja"] and "New joint procurement" in heard["title_en"]
    assert await told(db, "buyer@132098.example", pcs.id, "procurement.new_need") == []
    assert await told(db, "buyer@133621.example", ocr.id, "procurement.new_need") == []
    assert await told(db, "buyer@131016.example", ocr.id, "procurement.new_need") == []  # own


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_two_workers_ticking_at_once_send_each_notice_once(
    db, seeded, actor, published_need, without_approval
):
    need_id = await published_need(title="同時tick", category="training")
    await without_approval("132098")
    machida = await actor("buyer@132098.example")
    async with db.session(machida.scope) as s:
        await needs.join(s, machida, need_id, 10, 1_000, NOW)
        await notices.subscribe(s, machida, ["training"])
    other = Database(seeded.database_url)  # a second worker: its own connections
    try:
        moment = DEADLINE - 3 * DAY
        await asyncio.gather(tick(db, moment), tick(other, moment))
        await asyncio.gather(tick(db, DEADLINE), tick(other, DEADLINE))
    finally:
        await other.dispose()
    assert len(await told(db, "buyer@132098.example", need_id, "procurement.reminder")) == 1
    assert len(await told(db, "buyer@132098.example", need_id, "procurement.new_need")) == 1
    owner = await actor("buyer@131016.example")
    assert await status_of(db, owner, need_id) == "closed"
    async with db.session(owner.scope) as s:
        closings = await s.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "need.closed", AuditEvent.target_id == str(need_id))
        )
    assert closings == 1
