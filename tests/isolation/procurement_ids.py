"""Path parameters of the needs routes for the cross-tenant sweep: `id` (a need) and
`attachment_id` (one of its attachments).

`make_procurement_ids(db, "131016")` makes, through the services and inside that organization's
scope, a *draft* need with a PDF attached. A draft, because a published need is readable by
every public body by design: the id worth attacking with is one nobody else may see, so every
route must answer another organization exactly as it answers an id that exists nowhere (404).
Every call makes fresh rows, so sweeps may change them without affecting one another.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from kyodo.db import Database, Scope, utcnow
from kyodo.models import Membership, Organization
from procurement import attachments, needs
from procurement.actors import Actor

PDF = b"%PDF-1.7\n% sweep\n%%EOF\n"


async def make_procurement_ids(db: Database, tenant_slug: str) -> dict[str, str]:
    async with db.session(Scope.anonymous()) as session:
        org = await session.scalar(select(Organization).where(Organization.slug == tenant_slug))
    if org is None:
        raise LookupError(f"no organization {tenant_slug!r}")
    scope = Scope(tenant_id=org.id, tenant_kind=org.kind)
    async with db.session(scope) as session:
        drafter = await session.scalar(select(Membership.person_id).limit(1))
    officer = Actor(org=org, person_id=drafter, roles=frozenset({needs.OFFICER}))
    now = utcnow()
    data = needs.NeedInput(
        title="下書き（他団体には見えない）",
        category="other",
        unit="式",
        quantity=1,
        estimated_unit_price=1_000,
        join_deadline=now + timedelta(days=30),
    )
    async with db.session(officer.scope) as session:
        need = await needs.create_need(session, officer, data, now)
        attachment = await attachments.add(session, officer, need.id, "仕様書.pdf", PDF)
    return {"id": str(need.id), "attachment_id": str(attachment.id)}
