"""Notices of the pool (step 8, the municipal part).

* A municipality follows categories (procurement_subscriptions); its procurement officers then
  hear of every open need in those categories that another organization published.
* Every organization taking part in an open need (a commitment that is active or awaiting its
  approval) hears 3 days and again 1 day before the join deadline.

The periodic tick sends them (procurement.tick), one organization at a time inside that
organization's own scope: only it may read its officers and its subscriptions. A row in
procurement_notices per (organization, need, kind) makes each notice go out once: a second tick
finds the row, and two workers ticking at once collide on its primary key, so one of them rolls
back, notifications and all.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import ForeignKeyConstraint, String, delete, exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from kyodo import audit
from kyodo.db import Base, TenantOwned, utcnow
from kyodo.errors import InvalidInput
from kyodo.models import Membership, Organization, RoleGrant
from kyodo.notifications import notify
from kyodo.web.i18n import TOKYO, _
from procurement.actors import Actor
from procurement.categories import CATEGORIES
from procurement.models import Commitment, Need, Subscription
from procurement.needs import OFFICER, PUBLIC_BODIES

NEW_NEED = "new_need"
# Nearest first: a participant who joins two days before the deadline gets the 1-day notice
# only when it falls due, never a stale 3-day one.
REMINDERS = ((timedelta(days=1), "reminder_1d"), (timedelta(days=3), "reminder_3d"))
PARTICIPATING = ("active", "pending_approval")
SUBSCRIBERS = (OFFICER, "vendor_sales", "admin")  # roles that may change the categories


class Notice(TenantOwned, Base):
    """A notice an organization has been sent about a need."""

    __tablename__ = "procurement_notices"
    __table_args__ = (
        ForeignKeyConstraint(
            ["need_tenant_id", "need_id"], ["procurement_needs.tenant_id", "procurement_needs.id"]
        ),
    )

    need_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    need_tenant_id: Mapped[uuid.UUID]
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)


# --- subscriptions ------------------------------------------------------------------------


async def subscriptions_of(session: AsyncSession) -> set[str]:
    """The categories the organization of the session's scope follows."""
    return set(await session.scalars(select(Subscription.category)))


async def subscribe(session: AsyncSession, actor: Actor, categories: Iterable[str]) -> set[str]:
    """Replace the organization's followed categories (vendors follow them for tenders)."""
    actor.require(*SUBSCRIBERS, kinds=(*PUBLIC_BODIES, "vendor"))
    wanted = set(categories)
    if not wanted <= CATEGORIES.keys():
        raise InvalidInput({"categories": _("Choose one of the listed values.")})
    current = await subscriptions_of(session)
    if wanted == current:
        return current
    await session.execute(
        delete(Subscription).where(
            Subscription.tenant_id == actor.org.id, Subscription.category.in_(current - wanted)
        )
    )
    session.add_all(Subscription(tenant_id=actor.org.id, category=c) for c in wanted - current)
    await audit.record(
        session, "procurement.subscribed", "organization", actor.org.id, " ".join(sorted(wanted))
    )
    return wanted


# --- sending ------------------------------------------------------------------------------


async def send_due(session: AsyncSession, org: Organization, now: datetime) -> int:
    """Send this organization's due notices; runs in `org`'s scope. Returns how many notices
    (per need and kind, not per person) went out."""
    officers = list(
        await session.scalars(
            select(Membership.person_id)
            .join(
                RoleGrant,
                (RoleGrant.tenant_id == Membership.tenant_id)
                & (RoleGrant.membership_id == Membership.id),
            )
            .where(Membership.tenant_id == org.id, RoleGrant.role == OFFICER)
        )
    )
    if not officers:
        return 0
    sent = 0
    for need in await _new_needs(session, org, now):
        _record(session, org, need, NEW_NEED)
        _tell(session, org, officers, need, "procurement.new_need", _new_need_titles(need))
        sent += 1
    for need, kinds in await _reminders_due(session, org, now):
        for kind in kinds:  # the nearest is sent; a farther one that is also due is moot
            _record(session, org, need, kind)
        days = 1 if "reminder_1d" in kinds else 3
        _tell(session, org, officers, need, "procurement.reminder", _reminder_titles(need, days))
        sent += 1
    await session.flush()  # a notice sent meanwhile by another worker fails here: rollback
    return sent


async def _new_needs(session: AsyncSession, org: Organization, now: datetime) -> list[Need]:
    noticed = exists().where(
        Notice.tenant_id == org.id, Notice.need_id == Need.id, Notice.kind == NEW_NEED
    )
    return list(
        await session.scalars(
            select(Need)
            .join(Subscription, Subscription.category == Need.category)
            .where(
                Subscription.tenant_id == org.id,
                Need.tenant_id != org.id,
                Need.status == "published",
                Need.join_deadline > now,
                ~noticed,
            )
            .order_by(Need.published_at, Need.id)
        )
    )


async def _reminders_due(
    session: AsyncSession, org: Organization, now: datetime
) -> list[tuple[Need, list[str]]]:
    """Needs this organization takes part in whose reminders fell due, with the reminder
    kinds not yet sent, nearest first."""
    rows = await session.scalars(
        select(Need)
        .join(Commitment, Commitment.need_id == Need.id)
        .where(
            Commitment.tenant_id == org.id,
            Commitment.status.in_(PARTICIPATING),
            Need.status == "published",
            Need.join_deadline > now,
            Need.join_deadline <= now + REMINDERS[-1][0],
        )
        .order_by(Need.join_deadline, Need.id)
    )
    found = []
    for need in rows:
        sent = set(
            await session.scalars(
                select(Notice.kind).where(Notice.tenant_id == org.id, Notice.need_id == need.id)
            )
        )
        due = [kind for before, kind in REMINDERS if need.join_deadline - before <= now]
        if due and due[0] not in sent:
            found.append((need, [kind for kind in due if kind not in sent]))
    return found


def _record(session: AsyncSession, org: Organization, need: Need, kind: str) -> None:
    session.add(Notice(tenant_id=org.id, need_tenant_id=need.tenant_id, need_id=need.id, kind=kind))


def _tell(
    session: AsyncSession,
    org: Organization,
    officers: list[uuid.UUID],
    need: Need,
    kind: str,
    titles: tuple[str, str],
) -> None:
    link = f"/o/{org.slug}/procurement/needs/{need.id}"
    for person_id in officers:
        notify(session, person_id, kind, *titles, link=link)


def _deadline(need: Need) -> str:
    return need.join_deadline.astimezone(TOKYO).strftime("%Y-%m-%d %H:%M")


def _new_need_titles(need: Need) -> tuple[str, str]:
    ja, en = CATEGORIES.get(need.category, (need.category, need.category))
    return (
        f"新しい共同調達の案件（{ja}）: {need.title}（参加締切 {_deadline(need)}）",
        f"New joint procurement ({en}): {need.title} (join by {_deadline(need)} JST)",
    )


def _reminder_titles(need: Need, days: int) -> tuple[str, str]:
    return (
        f"参加締切まであと{days}日: {need.title}（{_deadline(need)}）",
        f"{days} day{'s' if days > 1 else ''} to the join deadline: {need.title}"
        f" ({_deadline(need)} JST)",
    )
