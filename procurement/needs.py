"""Needs and commitments: draft → approval → the pool, joins until the join deadline.

| need status | action (role) | next |
|---|---|---|
| draft, returned | edit; submit (procurement_officer) | pending_approval, or published |
| pending_approval | approve (approver, not the drafter) | published |
| pending_approval | return with a comment (approver) | returned |
| published | join deadline passes (tick) | closed |
| closed | operator creates the tender | tendering |
| tendering | award, unsuccessful, cancel (operator) | awarded, unsuccessful, cancelled |

A commitment (one organization's quantity) is active, or pending_approval when its
organization approves joins, or withdrawn; only active ones count in the pooled demand.
Every transition checks role, organization and state and writes an audit event.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from kyodo import audit
from kyodo.errors import Checks, Conflict, Forbidden, InvalidInput, NotFound
from kyodo.models import Organization
from kyodo.web.i18n import _
from procurement.actors import Actor
from procurement.categories import CATEGORIES, status_label
from procurement.models import (
    MAX_QUANTITY,
    MAX_YEN,
    Commitment,
    Demand,
    Need,
    ProcurementSettings,
)

OFFICER = "procurement_officer"
APPROVER = "approver"
PUBLIC_BODIES = ("municipality", "prefecture")
EDITABLE = ("draft", "returned")
MAX_JOIN_WINDOW = timedelta(days=731)


@dataclass(frozen=True)
class NeedInput:
    title: str
    category: str
    unit: str
    quantity: int
    estimated_unit_price: int
    join_deadline: datetime
    specification: str = ""
    desired_delivery: date | None = None


def validate(data: NeedInput, now: datetime, min_lead_days: int = 0) -> None:
    checks = Checks()
    if not data.title.strip():
        checks.fail("title", _("This field is required."))
    elif len(data.title) > 200:
        checks.fail("title", _("Must be at most {n} characters.").format(n=200))
    if data.category not in CATEGORIES:
        checks.fail("category", _("Choose one of the listed values."))
    if not data.unit.strip() or len(data.unit) > 20:
        checks.fail("unit", _("Enter a unit of up to 20 characters, e.g. 台 or ライセンス."))
    if len(data.specification) > 20_000:
        checks.fail("specification", _("Must be at most {n} characters.").format(n=20_000))
    _check_amounts(checks, data.quantity, data.estimated_unit_price)
    earliest = now + timedelta(days=min_lead_days)
    if data.join_deadline.tzinfo is None:
        checks.fail("join_deadline", _("Give the time with its time zone."))
    elif data.join_deadline <= earliest:
        checks.fail("join_deadline", _("The deadline must lie in the future."))
    elif data.join_deadline - now > MAX_JOIN_WINDOW:  # also keeps it storable in UTC
        checks.fail("join_deadline", _("The deadline must lie within two years."))
    if data.desired_delivery and data.desired_delivery < data.join_deadline.date():
        checks.fail("desired_delivery", _("Delivery cannot come before the join deadline."))
    checks.raise_any()


def _check_amounts(checks: Checks, quantity: int, price: int) -> None:
    if not 0 < quantity <= MAX_QUANTITY:
        checks.fail(
            "quantity", _("Enter a whole number from 1 to {n}.").format(n=f"{MAX_QUANTITY:,}")
        )
    if not 0 < price <= MAX_YEN:
        checks.fail(
            "estimated_unit_price",
            _("Enter an amount in yen from 1 to {n}.").format(n=f"{MAX_YEN:,}"),
        )


async def settings_of(session: AsyncSession, org: Organization) -> ProcurementSettings:
    found = await session.get(ProcurementSettings, org.id)
    return found or ProcurementSettings(tenant_id=org.id, approval_required=True, min_lead_days=0)


async def configure(
    session: AsyncSession, actor: Actor, approval_required: bool, min_lead_days: int = 0
) -> ProcurementSettings:
    """An organization's admin switches the approval step on or off and sets a lead time."""
    actor.require("admin", kinds=PUBLIC_BODIES)
    if not 0 <= min_lead_days <= 365:
        raise InvalidInput({"min_lead_days": _("Enter a whole number from 0 to 365.")})
    found = await session.get(ProcurementSettings, actor.org.id)
    if found is None:
        found = ProcurementSettings(tenant_id=actor.org.id)
        session.add(found)
    found.approval_required, found.min_lead_days = approval_required, min_lead_days
    await audit.record(
        session,
        "procurement.configured",
        "organization",
        actor.org.id,
        f"approval_required={approval_required} min_lead_days={min_lead_days}",
    )
    return found


async def create_need(session: AsyncSession, actor: Actor, data: NeedInput, now: datetime) -> Need:
    actor.require(OFFICER, kinds=PUBLIC_BODIES)
    validate(data, now, (await settings_of(session, actor.org)).min_lead_days)
    need = Need(
        tenant_id=actor.org.id,
        title=data.title.strip(),
        category=data.category,
        specification=data.specification,
        unit=data.unit.strip(),
        quantity=data.quantity,
        estimated_unit_price=data.estimated_unit_price,
        desired_delivery=data.desired_delivery,
        join_deadline=data.join_deadline,
        created_by=actor.person_id,
    )
    session.add(need)
    await session.flush()
    await audit.record(session, "need.created", "need", need.id, need.title)
    return need


async def own_need(session: AsyncSession, actor: Actor, need_id: uuid.UUID) -> Need:
    need = await session.get(Need, (actor.org.id, need_id))
    if need is None:
        raise NotFound
    return need


async def update_need(
    session: AsyncSession, actor: Actor, need_id: uuid.UUID, data: NeedInput, now: datetime
) -> Need:
    actor.require(OFFICER, kinds=PUBLIC_BODIES)
    need = await own_need(session, actor, need_id)
    expect_status(need.status, EDITABLE)
    validate(data, now, (await settings_of(session, actor.org)).min_lead_days)
    for field in NeedInput.__dataclass_fields__:
        setattr(need, field, getattr(data, field))
    await audit.record(session, "need.updated", "need", need.id, need.title)
    return need


async def submit_need(
    session: AsyncSession, actor: Actor, need_id: uuid.UUID, now: datetime
) -> Need:
    actor.require(OFFICER, kinds=PUBLIC_BODIES)
    need = await own_need(session, actor, need_id)
    expect_status(need.status, EDITABLE)
    before_deadline(need.join_deadline, now)
    await audit.record(session, "need.submitted", "need", need.id, need.title)
    if (await settings_of(session, actor.org)).approval_required:
        need.status = "pending_approval"
        return need
    return await _publish(session, need, now)


async def approve_need(
    session: AsyncSession, actor: Actor, need_id: uuid.UUID, now: datetime, comment: str = ""
) -> Need:
    actor.require(APPROVER, kinds=PUBLIC_BODIES)
    need = await own_need(session, actor, need_id)
    expect_status(need.status, ("pending_approval",))
    if need.created_by == actor.person_id:
        raise Forbidden(_("The person who drafted a need cannot approve it."))
    before_deadline(need.join_deadline, now)
    need.decided_by, need.decision_comment = actor.person_id, comment[:2000]
    await audit.record(session, "need.approved", "need", need.id, comment[:200])
    return await _publish(session, need, now)


async def return_need(
    session: AsyncSession, actor: Actor, need_id: uuid.UUID, comment: str
) -> Need:
    actor.require(APPROVER, kinds=PUBLIC_BODIES)
    if not comment.strip():
        raise InvalidInput({"comment": _("Say why the need is returned.")})
    need = await own_need(session, actor, need_id)
    expect_status(need.status, ("pending_approval",))
    need.status, need.decided_by, need.decision_comment = (
        "returned",
        actor.person_id,
        comment[:2000],
    )
    await audit.record(session, "need.returned", "need", need.id, comment[:200])
    return need


async def _publish(session: AsyncSession, need: Need, now: datetime) -> Need:
    """Into the pool, with the owner's own quantity as the first commitment."""
    need.status, need.published_at = "published", now
    session.add(Demand(need_id=need.id, need_tenant_id=need.tenant_id))
    session.add(
        Commitment(
            tenant_id=need.tenant_id,
            need_tenant_id=need.tenant_id,
            need_id=need.id,
            quantity=need.quantity,
            estimated_unit_price=need.estimated_unit_price,
            status="active",
            created_by=need.created_by,
        )
    )
    await session.flush()
    await _count(session, need.id, need.quantity, 1)
    await _mark_counted(session, need.tenant_id, need.id)
    await audit.record(session, "need.published", "need", need.id, need.title)
    return need


# --- the pool and joining ---------------------------------------------------------------


async def pooled_need(session: AsyncSession, need_id: uuid.UUID) -> Need:
    """A need in the pool, as any public body sees it (404 for drafts of others)."""
    need = await session.scalar(select(Need).where(Need.id == need_id))
    if need is None:
        raise NotFound
    return need


async def join(
    session: AsyncSession,
    actor: Actor,
    need_id: uuid.UUID,
    quantity: int,
    estimated_unit_price: int,
    now: datetime,
) -> Commitment:
    """Join, or change one's quantity, before the join deadline (PUT semantics)."""
    actor.require(OFFICER, kinds=PUBLIC_BODIES)
    checks = Checks()
    _check_amounts(checks, quantity, estimated_unit_price)
    checks.raise_any()
    need = await pooled_need(session, need_id)
    await _lock_demand(session, need.id)  # joins to one need take turns: no lost update
    await session.refresh(need)
    expect_status(need.status, ("published",))
    before_deadline(need.join_deadline, now)
    mine = await _my_commitment(session, actor, need.id)
    owner = need.tenant_id == actor.org.id
    needs_approval = not owner and (await settings_of(session, actor.org)).approval_required
    if mine is None:
        mine = Commitment(
            tenant_id=actor.org.id,
            need_tenant_id=need.tenant_id,
            need_id=need.id,
            quantity=quantity,
            estimated_unit_price=estimated_unit_price,
            status="pending_approval" if needs_approval else "active",
            created_by=actor.person_id,
        )
        session.add(mine)
        await session.flush()
        action = "commitment.created"
    else:
        await _uncount(session, mine)
        mine.quantity, mine.estimated_unit_price = quantity, estimated_unit_price
        mine.status = "pending_approval" if needs_approval else "active"
        mine.decided_by, mine.decision_comment = None, ""
        action = "commitment.changed"
    if owner:
        need.quantity, need.estimated_unit_price = quantity, estimated_unit_price
    if mine.status == "active":
        await _count_commitment(session, mine)
    await audit.record(session, action, "commitment", mine.id, f"{need.id} ×{quantity}")
    return mine


async def withdraw(session: AsyncSession, actor: Actor, need_id: uuid.UUID, now: datetime) -> None:
    actor.require(OFFICER, kinds=PUBLIC_BODIES)
    need = await pooled_need(session, need_id)
    await _lock_demand(session, need.id)
    await session.refresh(need)
    expect_status(need.status, ("published",))
    before_deadline(need.join_deadline, now)
    if need.tenant_id == actor.org.id:
        raise Conflict(_("The organization that posted a need cannot withdraw from it."))
    mine = await _my_commitment(session, actor, need.id)
    if mine is None or mine.status == "withdrawn":
        raise NotFound
    await _uncount(session, mine)
    mine.status = "withdrawn"
    await audit.record(session, "commitment.withdrawn", "commitment", mine.id, str(need.id))


async def decide_commitment(
    session: AsyncSession,
    actor: Actor,
    need_id: uuid.UUID,
    approve: bool,
    now: datetime,
    comment="",
) -> Commitment:
    """The joining organization's approver approves its join, or returns it."""
    actor.require(APPROVER, kinds=PUBLIC_BODIES)
    need = await pooled_need(session, need_id)
    await _lock_demand(session, need.id)
    await session.refresh(need)
    expect_status(need.status, ("published",))
    before_deadline(need.join_deadline, now)
    mine = await _my_commitment(session, actor, need.id)
    if mine is None:
        raise NotFound
    expect_status(mine.status, ("pending_approval",))
    if mine.created_by == actor.person_id:
        raise Forbidden(_("The person who asked to join cannot approve it."))
    mine.decided_by, mine.decision_comment = actor.person_id, comment[:2000]
    if approve:
        mine.status = "active"
        await _count_commitment(session, mine)
    else:
        if not comment.strip():
            raise InvalidInput({"comment": _("Say why the join is returned.")})
        mine.status = "returned"
    verb = "approved" if approve else "returned"
    await audit.record(session, f"commitment.{verb}", "commitment", mine.id, comment[:200])
    return mine


async def _my_commitment(
    session: AsyncSession, actor: Actor, need_id: uuid.UUID
) -> Commitment | None:
    return await session.scalar(
        select(Commitment).where(
            Commitment.tenant_id == actor.org.id, Commitment.need_id == need_id
        )
    )


async def _lock_demand(session: AsyncSession, need_id: uuid.UUID) -> None:
    found = await session.scalar(
        select(Demand.need_id).where(Demand.need_id == need_id).with_for_update()
    )
    if found is None:
        raise Conflict(_("This need is not open for joining."))


async def _count(
    session: AsyncSession, need_id: uuid.UUID, quantity: int, participants: int
) -> None:
    await session.execute(
        update(Demand)
        .where(Demand.need_id == need_id)
        .values(
            total_quantity=Demand.total_quantity + quantity,
            participants=Demand.participants + participants,
        )
    )


async def _mark_counted(session: AsyncSession, tenant_id: uuid.UUID, need_id: uuid.UUID) -> None:
    mine = await session.scalar(
        select(Commitment).where(Commitment.tenant_id == tenant_id, Commitment.need_id == need_id)
    )
    mine.counted = True


async def _count_commitment(session: AsyncSession, mine: Commitment) -> None:
    if not mine.counted:
        await _count(session, mine.need_id, mine.quantity, 1)
        mine.counted = True


async def _uncount(session: AsyncSession, mine: Commitment) -> None:
    if mine.counted:
        await _count(session, mine.need_id, -mine.quantity, -1)
        mine.counted = False


# --- deadlines ----------------------------------------------------------------------------


async def close_demand(session: AsyncSession, need: Need, now: datetime) -> bool:
    """At the join deadline the demand closes; joins still awaiting approval drop out."""
    if need.status != "published" or need.join_deadline > now:
        return False
    need.status, need.closed_at = "closed", now
    await audit.record(session, "need.closed", "need", need.id, "join deadline passed")
    return True


def expect_status(status: str, allowed: tuple[str, ...]) -> None:
    if status not in allowed:
        raise Conflict(
            _("This cannot be done while the status is {status}.").format(
                status=status_label(status)
            )
        )


def before_deadline(deadline: datetime, now: datetime) -> None:
    if now >= deadline:
        raise Conflict(_("The deadline has passed."))
