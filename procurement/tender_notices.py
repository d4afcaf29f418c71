"""Notices of tenders (step 8, the tender part), sent by the periodic tick.

* A vendor hears of a newly published tender it may bid on: an open tender in a category it
  follows (procurement_subscriptions), or one it is invited to.
* When a published tender's terms change (a new version), everyone engaged hears of it: the
  vendors told of it, invited to it, or that asked or bid, and the participating
  municipalities.
* When a tender ends (awarded, unsuccessful or cancelled), each participating municipality and
  each vendor that bid hears the result; a vendor hears whether it won.

Like procurement.notices, each organization's notices are found and sent inside its own scope,
since only it may read its subscriptions, bids and members, and each is recorded once per
(organization, need, kind) in procurement_notices: a second tick skips it, and two workers
ticking at once collide on the key, so one rolls that organization's batch back. An award that
is undone and given again is not announced twice.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import String, and_, cast, exists, literal, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kyodo.db import Database, Scope
from kyodo.models import Membership, Organization, RoleGrant
from kyodo.notifications import notify
from kyodo.web.i18n import TOKYO
from procurement.categories import CATEGORIES
from procurement.models import Award, Bid, Commitment, Question, Subscription, Tender, TenderInvitee
from procurement.needs import OFFICER, PUBLIC_BODIES
from procurement.notices import Notice
from procurement.tenders import VENDOR

log = logging.getLogger(__name__)

NEW_TENDER = "new_tender"
ENDED = ("awarded", "unsuccessful", "cancelled")


def revised(version: int) -> str:
    return f"revised_{version}"


def result(status: str) -> str:
    return f"result_{status}"


async def send_all(db: Database, orgs: Iterable[Organization], now: datetime) -> None:
    """The tick's part: every vendor's and public body's due tender notices."""
    for org in orgs:
        if org.kind != "vendor" and org.kind not in PUBLIC_BODIES:
            continue
        try:
            async with db.session(Scope(tenant_id=org.id, tenant_kind=org.kind)) as session:
                await send_due(session, org, now)
        except IntegrityError:
            log.info("tender notices of %s were sent by another worker meanwhile", org.slug)


async def send_due(session: AsyncSession, org: Organization, now: datetime) -> int:
    """Send this organization's due tender notices; runs in `org`'s scope. Returns how many
    notices (per tender and kind, not per person) went out."""
    vendor = org.kind == "vendor"
    people = await _members_with(session, org, VENDOR if vendor else OFFICER)
    if not people:
        return 0
    sent = 0
    if vendor:
        for tender in await _new_tenders(session, org, now):
            _record(session, org, tender, NEW_TENDER, now)
            if tender.version > 1:  # told of it in its current terms: no revision notice
                _record(session, org, tender, revised(tender.version), now)
            _tell(session, org, people, tender, "procurement.new_tender", _new_titles(tender))
            sent += 1
    for tender in await _engaged_and_due(session, org):
        if tender.status in ENDED:
            won = await _won(session, org, tender) if vendor else None
            kind, titles = result(tender.status), _result_titles(tender, won)
            _tell(session, org, people, tender, "procurement.tender_result", titles)
        else:
            kind = revised(tender.version)
            _tell(
                session, org, people, tender, "procurement.tender_revised", _revised_titles(tender)
            )
        _record(session, org, tender, kind, now)
        sent += 1
    await session.flush()  # a notice sent meanwhile by another worker fails here: rollback
    return sent


async def _members_with(session: AsyncSession, org: Organization, role: str) -> list[uuid.UUID]:
    return list(
        await session.scalars(
            select(Membership.person_id)
            .join(
                RoleGrant,
                (RoleGrant.tenant_id == Membership.tenant_id)
                & (RoleGrant.membership_id == Membership.id),
            )
            .where(Membership.tenant_id == org.id, RoleGrant.role == role)
        )
    )


def _not_sent(org: Organization, kind: Any) -> Any:
    return ~exists().where(
        Notice.tenant_id == org.id, Notice.need_id == Tender.need_id, Notice.kind == kind
    )


async def _new_tenders(session: AsyncSession, org: Organization, now: datetime) -> list[Tender]:
    followed = select(Subscription.category).where(Subscription.tenant_id == org.id)
    invited = exists().where(
        TenderInvitee.tender_id == Tender.id, TenderInvitee.vendor_id == org.id
    )
    return list(
        await session.scalars(
            select(Tender)
            .where(
                Tender.status == "published",
                Tender.bid_deadline > now,
                or_((Tender.method == "open") & Tender.category.in_(followed), invited),
                _not_sent(org, literal(NEW_TENDER)),
            )
            .order_by(Tender.published_at, Tender.id)
        )
    )


async def _engaged_and_due(session: AsyncSession, org: Organization) -> list[Tender]:
    """Tenders with a revision or a result not yet told to this organization, where it is
    engaged: a vendor hears revisions of tenders it was told of, invited to, asked about or
    bid on, and results of those it bid on; a municipality both, where it takes part."""
    if org.kind == "vendor":
        bid = exists().where(Bid.tender_id == Tender.id, Bid.tenant_id == org.id)
        hears_revisions = or_(
            ~_not_sent(org, literal(NEW_TENDER)),
            exists().where(TenderInvitee.tender_id == Tender.id, TenderInvitee.vendor_id == org.id),
            exists().where(Question.tender_id == Tender.id, Question.tenant_id == org.id),
            bid,
        )
        hears_results = bid
    else:
        hears_revisions = hears_results = exists().where(
            Commitment.need_id == Tender.need_id,
            Commitment.tenant_id == org.id,
            Commitment.status == "active",
        )
    revision_due = and_(
        hears_revisions,
        Tender.status == "published",
        Tender.version > 1,
        _not_sent(org, literal("revised_") + cast(Tender.version, String)),
    )
    result_due = and_(
        hears_results,
        Tender.status.in_(ENDED),
        _not_sent(org, literal("result_") + Tender.status),
    )
    return list(
        await session.scalars(
            select(Tender)
            .where(or_(revision_due, result_due))
            .order_by(Tender.created_at, Tender.id)
        )
    )


async def _won(session: AsyncSession, org: Organization, tender: Tender) -> bool:
    return bool(
        await session.scalar(
            select(
                exists().where(
                    Award.tender_id == tender.id,
                    Award.vendor_id == org.id,
                    Award.revoked_at.is_(None),
                )
            )
        )
    )


def _record(
    session: AsyncSession, org: Organization, tender: Tender, kind: str, now: datetime
) -> None:
    session.add(
        Notice(
            tenant_id=org.id,
            need_tenant_id=tender.need_tenant_id,
            need_id=tender.need_id,
            kind=kind,
            sent_at=now,
        )
    )


def _tell(
    session: AsyncSession,
    org: Organization,
    people: list[uuid.UUID],
    tender: Tender,
    kind: str,
    titles: tuple[str, str],
) -> None:
    base = f"/o/{org.slug}/procurement"
    if tender.status in ENDED:
        link = (
            f"{base}/tenders/{tender.id}/result"
            if org.kind == "vendor"
            else f"{base}/needs/{tender.need_id}/allocation"
        )
    else:
        link = f"{base}/tenders/{tender.id}"
    for person_id in people:
        notify(session, person_id, kind, *titles, link=link)


def _deadline(tender: Tender) -> str:
    return tender.bid_deadline.astimezone(TOKYO).strftime("%Y-%m-%d %H:%M")


def _new_titles(tender: Tender) -> tuple[str, str]:
    ja, en = CATEGORIES.get(tender.category, (tender.category, tender.category))
    return (
        f"新しい入札案件（{ja}）: {tender.title}（入札締切 {_deadline(tender)}）",
        f"New tender ({en}): {tender.title} (bids by {_deadline(tender)} JST)",
    )


def _revised_titles(tender: Tender) -> tuple[str, str]:
    return (
        f"入札条件の変更（第{tender.version}版）: {tender.title}（入札締切 {_deadline(tender)}）",
        f"Tender terms changed (version {tender.version}): {tender.title}"
        f" (bids by {_deadline(tender)} JST)",
    )


def _result_titles(tender: Tender, won: bool | None) -> tuple[str, str]:
    if tender.status == "awarded" and won is not None:
        if won:
            return f"落札: {tender.title}", f"Awarded to you: {tender.title}"
        return f"不落札: {tender.title}", f"Not awarded: {tender.title}"
    return {
        "awarded": (f"落札者決定: {tender.title}", f"Tender awarded: {tender.title}"),
        "unsuccessful": (f"入札不調: {tender.title}", f"Tender unsuccessful: {tender.title}"),
        "cancelled": (f"入札中止: {tender.title}", f"Tender cancelled: {tender.title}"),
    }[tender.status]
