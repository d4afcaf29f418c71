"""The procurement module's share of the periodic tick (`kyodo tick`, the worker every 30 s).

1. Demand closes at each need's join deadline. The due needs are listed in the operator's
   scope (it reads every pooled need), and each is closed in its owner's own scope, so the
   write and its audit event stay in the owner's organization.
2. Tenders whose bid deadline passed are opened (opening.open_due).
3. Each public body's due notices go out (procurement.notices), in that body's scope, then
   every vendor's and public body's tender notices (procurement.tender_notices).

Safe to run twice or on two workers at once: a closed need is skipped, and a notice already
sent is either skipped or collides on its key and rolls that organization's batch back.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from kyodo.db import Database, Scope
from kyodo.models import Organization
from procurement import needs, notices, opening, tender_notices
from procurement.models import Need

log = logging.getLogger(__name__)


def scope_of(org: Organization) -> Scope:
    """The system acting inside one organization (no person)."""
    return Scope(tenant_id=org.id, tenant_kind=org.kind)


async def tick(db: Database, now: datetime) -> None:
    async with db.session(Scope.anonymous()) as session:
        orgs = {o.id: o for o in await session.scalars(select(Organization))}
    await close_due_demand(db, orgs, now)
    await opening.open_due(db, now)
    for org in orgs.values():
        if org.kind in needs.PUBLIC_BODIES:
            await _send_notices(db, org, now)
    await tender_notices.send_all(db, orgs.values(), now)


async def close_due_demand(db: Database, orgs: dict[uuid.UUID, Organization], now: datetime) -> int:
    operator = next((o for o in orgs.values() if o.kind == "operator"), None)
    if operator is None:  # nobody runs the platform yet: no pool either
        return 0
    async with db.session(scope_of(operator)) as session:
        due = (
            await session.execute(
                select(Need.tenant_id, Need.id).where(
                    Need.status == "published", Need.join_deadline <= now
                )
            )
        ).all()
    closed = 0
    for tenant_id, need_id in due:
        async with db.session(scope_of(orgs[tenant_id])) as session:
            # Locked, so a second worker waits and then finds the need closed.
            need = await session.scalar(
                select(Need)
                .where(Need.tenant_id == tenant_id, Need.id == need_id)
                .with_for_update()
            )
            closed += await needs.close_demand(session, need, now)
    return closed


async def _send_notices(db: Database, org: Organization, now: datetime) -> None:
    try:
        async with db.session(scope_of(org)) as session:
            await notices.send_due(session, org, now)
    except IntegrityError:
        log.info("notices of %s were sent by another worker meanwhile", org.slug)
