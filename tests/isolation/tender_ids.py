"""Path parameters of the tender routes for the cross-tenant sweep: `tender_id`, `question_id`
and `vendor` (the need routes' `id` comes from procurement_ids.py).

`make_tender_ids(db, "131016")` makes fresh rows through the services, each one the attacker has
no right to read:

- `tender_id`: the operator's *draft* tender for a closed need of that organization (of 千代田区
  when it is no public body). A published tender is readable by every public body by design; a
  draft only by the operator.
- `question_id`: a vendor's question on another, published tender of such a need; only the
  asking vendor and the operator read it. The vendor is the organization itself when it is one,
  else vendor-a.
- `vendor`: that vendor's slug (the evaluator's `scores/{vendor}`).

Mind that most tender routes belong to one kind of organization (the operator's, or a vendor's):
for a member of any other kind they answer 403 before looking at the id, the same for every id,
so a sweep from a municipality sees 403 there, and so does its control inside the municipality.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select

from kyodo.db import Database, Scope, utcnow
from kyodo.models import Membership, Organization
from procurement import needs, tenders
from procurement.actors import Actor
from procurement.models import Commitment, Demand, Need

OWNER_FALLBACK = "131016"
VENDOR_FALLBACK = "vendor-a"


async def make_tender_ids(db: Database, tenant_slug: str) -> dict[str, str]:
    org = await _org(db, tenant_slug)
    owner = org if org.kind in needs.PUBLIC_BODIES else await _org(db, OWNER_FALLBACK)
    vendor = org if org.kind == "vendor" else await _org(db, VENDOR_FALLBACK)
    async with db.session(Scope.anonymous()) as session:
        operator = await session.scalar(select(Organization).where(Organization.kind == "operator"))
    officer = await _member(db, operator, needs.OFFICER)
    seller = await _member(db, vendor, tenders.VENDOR)
    now = utcnow()
    terms = tenders.TenderTermsInput(
        method="open",
        criteria="lowest_price",
        bid_deadline=now + timedelta(days=30),
        ceiling_unit_price=1_000,
    )

    draft_need, asked_need = await _closed_need(db, owner), await _closed_need(db, owner)
    async with db.session(officer.scope) as session:
        draft = await tenders.create_tender(session, officer, draft_need, terms, now)
        published = await tenders.create_tender(session, officer, asked_need, terms, now)
        await tenders.publish_tender(session, officer, published.id, now)
    async with db.session(seller.scope) as session:
        question = await tenders.ask(session, seller, published.id, "仕様の確認", now)
    return {
        "tender_id": str(draft.id),
        "question_id": str(question.id),
        "vendor": vendor.slug,
    }


async def _org(db: Database, slug: str) -> Organization:
    async with db.session(Scope.anonymous()) as session:
        org = await session.scalar(select(Organization).where(Organization.slug == slug))
    if org is None:
        raise LookupError(f"no organization {slug!r}")
    return org


async def _member(db: Database, org: Organization, role: str) -> Actor:
    """Someone of the organization acting with `role` (the services check roles, not people)."""
    async with db.session(Scope(tenant_id=org.id, tenant_kind=org.kind)) as session:
        person_id = await session.scalar(select(Membership.person_id).limit(1))
    if person_id is None:
        raise LookupError(f"{org.slug} has no member to act for it")
    return Actor(org=org, person_id=person_id, roles=frozenset({role}))


async def _closed_need(db: Database, owner: Organization) -> uuid.UUID:
    """A need of `owner` whose demand has closed with its own quantity, written directly: the
    services would need the organization's approval setting changed and a clock moved."""
    drafter = await _member(db, owner, needs.OFFICER)
    now = utcnow()
    async with db.session(drafter.scope) as session:
        need = Need(
            tenant_id=owner.id,
            title="入札準備中の案件",
            category="other",
            unit="式",
            quantity=1,
            estimated_unit_price=1_000,
            join_deadline=now - timedelta(minutes=1),
            status="closed",
            created_by=drafter.person_id,
            published_at=now - timedelta(days=1),
            closed_at=now,
        )
        session.add(need)
        await session.flush()
        session.add(
            Demand(need_id=need.id, need_tenant_id=owner.id, total_quantity=1, participants=1)
        )
        session.add(
            Commitment(
                tenant_id=owner.id,
                need_tenant_id=owner.id,
                need_id=need.id,
                quantity=1,
                estimated_unit_price=1_000,
                status="active",
                counted=True,
                created_by=drafter.person_id,
            )
        )
    return need.id
