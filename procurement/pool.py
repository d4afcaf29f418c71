"""What municipalities read about needs: the pool, one need, its participants, my own needs
and my approval queue, and the pool as CSV. Reads only; changes go through procurement.needs.

Another organization's need shows its pooled demand (total quantity, number of organizations)
but not its owner's own quantity or budget: who joined with what is for the owner and the
operator only.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from kyodo.errors import Forbidden, NotFound
from kyodo.models import Organization
from kyodo.web.i18n import TOKYO, _, current_locale
from procurement import attachments
from procurement.actors import Actor
from procurement.categories import category_label, status_label
from procurement.exports import to_csv
from procurement.models import PUBLIC_KINDS, Attachment, Commitment, Demand, Need
from procurement.needs import pooled_need

PAGE_SIZE = 50


@dataclass(frozen=True)
class PoolEntry:
    need: Need
    owner: Organization
    total_quantity: int
    participants: int
    mine: Commitment | None  # my organization's commitment, in any state


@dataclass(frozen=True)
class NeedView:
    need: Need
    owner: Organization
    demand: Demand | None  # None until published
    mine: Commitment | None
    attachments: list[Attachment]
    is_owner: bool
    sees_participants: bool


@dataclass(frozen=True)
class Participant:
    org: Organization
    commitment: Commitment


def require_public_body(actor: Actor) -> None:
    """The pool is for municipalities, prefectures and the operator (not vendors)."""
    if actor.org.kind not in PUBLIC_KINDS:
        raise NotFound  # as Actor.require: vendors have no pool


async def open_pool(
    session: AsyncSession,
    actor: Actor,
    now: datetime,
    category: str | None = None,
    limit: int | None = PAGE_SIZE,
    offset: int = 0,
) -> list[PoolEntry]:
    """Needs open for joining, the nearest deadline first."""
    require_public_body(actor)
    query = (
        select(Need, Organization, Demand, Commitment)
        .join(Organization, Organization.id == Need.tenant_id)
        .join(Demand, Demand.need_id == Need.id)
        .outerjoin(
            Commitment,
            and_(Commitment.need_id == Need.id, Commitment.tenant_id == actor.org.id),
        )
        .where(Need.status == "published", Need.join_deadline > now)
        .order_by(Need.join_deadline, Need.id)
        .offset(offset)
        .limit(limit)
    )
    if category:
        query = query.where(Need.category == category)
    rows = await session.execute(query)
    return [PoolEntry(n, o, d.total_quantity, d.participants, c) for n, o, d, c in rows]


async def need_view(session: AsyncSession, actor: Actor, need_id: uuid.UUID) -> NeedView:
    """One need as this organization may see it (404 for others' drafts)."""
    need = await pooled_need(session, need_id)
    is_owner = need.tenant_id == actor.org.id
    mine = await session.scalar(
        select(Commitment).where(
            Commitment.tenant_id == actor.org.id, Commitment.need_id == need.id
        )
    )
    return NeedView(
        need=need,
        owner=await session.get(Organization, need.tenant_id),
        demand=await session.get(Demand, need.id),
        mine=mine,
        attachments=await attachments.of_need(session, need.id),
        is_owner=is_owner,
        sees_participants=is_owner or actor.org.kind == "operator",
    )


async def participants(
    session: AsyncSession, actor: Actor, need_id: uuid.UUID
) -> list[Participant]:
    """Who joined with what: for the need's owner and the operator only."""
    need = await pooled_need(session, need_id)
    if need.tenant_id != actor.org.id and actor.org.kind != "operator":
        raise Forbidden(_("Only the organization that posted the need sees who joined."))
    rows = await session.execute(
        select(Organization, Commitment)
        .join(Commitment, Commitment.tenant_id == Organization.id)
        .where(Commitment.need_id == need.id, Commitment.status == "active")
        .order_by(Organization.slug)
    )
    return [Participant(o, c) for o, c in rows]


async def own_needs(session: AsyncSession, actor: Actor) -> list[Need]:
    """My organization's needs in every state, the newest first."""
    return list(
        await session.scalars(
            select(Need)
            .where(Need.tenant_id == actor.org.id)
            .order_by(Need.created_at.desc(), Need.id)
        )
    )


async def approval_queue(
    session: AsyncSession, actor: Actor
) -> tuple[list[Need], list[tuple[Need, Commitment]]]:
    """What waits for my organization's approver: its needs, and its joins to others' needs."""
    pending_needs = await session.scalars(
        select(Need)
        .where(Need.tenant_id == actor.org.id, Need.status == "pending_approval")
        .order_by(Need.join_deadline, Need.id)
    )
    pending_joins = await session.execute(
        select(Need, Commitment)
        .join(Commitment, Commitment.need_id == Need.id)
        .where(
            Commitment.tenant_id == actor.org.id,
            Commitment.status == "pending_approval",
            Need.status == "published",
        )
        .order_by(Need.join_deadline, Need.id)
    )
    return list(pending_needs), [(n, c) for n, c in pending_joins]


# --- CSV ----------------------------------------------------------------------------------


def pool_csv(entries: list[PoolEntry]) -> bytes:
    """The pool as Excel opens it (see procurement.exports)."""
    locale = current_locale()
    header = [
        _("Need ID"),
        _("Title"),
        _("Category"),
        _("Posted by"),
        _("Unit"),
        _("Total quantity"),
        _("Organizations"),
        _("Join deadline (JST)"),
        _("Desired delivery"),
        _("Our quantity"),
        _("Our estimated unit price (yen)"),
        _("Our status"),
    ]
    rows = (
        (
            str(e.need.id),
            e.need.title,
            category_label(e.need.category, locale),
            e.owner.name(locale),
            e.need.unit,
            e.total_quantity,
            e.participants,
            e.need.join_deadline.astimezone(TOKYO).strftime("%Y-%m-%d %H:%M"),
            e.need.desired_delivery.isoformat() if e.need.desired_delivery else "",
            e.mine.quantity if e.mine else "",
            e.mine.estimated_unit_price if e.mine else "",
            status_label(e.mine.status) if e.mine else "",
        )
        for e in entries
    )
    return to_csv(header, rows)
