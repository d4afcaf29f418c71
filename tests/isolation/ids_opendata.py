"""The open-data routes' path parameter for the cross-tenant sweep: `ocid`.

A published procurement's ocid is public by design, so the id worth attacking with is that of a
*draft* need of the organization: the public OCDS endpoint must answer it exactly like an ocid
that exists nowhere (404), showing nothing of the draft.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from kyodo.db import Database, Scope
from kyodo.models import Membership, Organization
from procurement import ocds
from procurement.models import Need


async def make_ids(db: Database, tenant_slug: str) -> dict[str, str]:
    async with db.session(Scope.anonymous()) as session:
        org = await session.scalar(select(Organization).where(Organization.slug == tenant_slug))
    if org is None:
        raise LookupError(f"no organization {tenant_slug!r}")
    async with db.session(Scope(tenant_id=org.id, tenant_kind=org.kind)) as session:
        drafter = await session.scalar(select(Membership.person_id).limit(1))
        need = Need(
            tenant_id=org.id,
            title="下書き（公開前）",
            category="other",
            unit="式",
            quantity=1,
            estimated_unit_price=1_000,
            join_deadline=datetime.now(UTC) + timedelta(days=30),
            created_by=drafter,
        )
        session.add(need)
    return {"ocid": ocds.ocid(need.id)}
