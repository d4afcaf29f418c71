"""Real ids of one organization's rows, for the cross-tenant sweep's path parameters.

`make_ids(db, "131016")` creates, inside that organization's scope, a member holding a role, an
open invitation (both through the tenants services) and a notification for that member (the row
the notifications job writes), and returns {path parameter: value}: `member_id`,
`invitation_id`, `role`, `notification_id`. Every call makes fresh rows, so sweeps may change
or revoke them without affecting one another.

Other modules add their path parameters without editing this file: a module next to it named
`ids_<module>.py` (e.g. `ids_procurement.py`) defining the same
`async def make_ids(db, tenant_slug) -> dict[str, str]` is merged in. Two factories naming the
same parameter is an error, so no route is swept with another module's id by accident.
"""

from __future__ import annotations

import importlib
import pkgutil
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

from sqlalchemy import select

from kyodo.db import Database, Scope
from kyodo.models import Notification, Organization, Person
from kyodo.roles import grantable
from tenants import services

Factory = Callable[[Database, str], Awaitable[dict[str, str]]]


async def make_ids(db: Database, tenant_slug: str) -> dict[str, str]:
    ids = await tenants_ids(db, tenant_slug)
    for name, factory in module_factories():
        more = await factory(db, tenant_slug)
        if clash := set(more) & set(ids):
            raise ValueError(f"{name} makes ids already made elsewhere: {sorted(clash)}")
        ids.update(more)
    return ids


def module_factories() -> Iterator[tuple[str, Factory]]:
    here = Path(__file__).parent
    for info in sorted(pkgutil.iter_modules([str(here)]), key=lambda i: i.name):
        if info.name.startswith("ids_"):
            module = importlib.import_module(f"{__package__}.{info.name}")
            yield info.name, module.make_ids


async def tenants_ids(db: Database, tenant_slug: str) -> dict[str, str]:
    """The tenants module's and the kernel's: a member, a role, an invitation, a notification."""
    async with db.session(Scope.anonymous()) as session:
        org = await session.scalar(select(Organization).where(Organization.slug == tenant_slug))
    if org is None:
        raise LookupError(f"no organization {tenant_slug!r}")
    # A role the organization's kind allows that is not admin, so revoking it is never refused
    # as "the last admin": the sweep should see 404 for the right reason.
    role = next(r.name for r in grantable(org.kind) if r.name != "admin")
    tag = uuid.uuid4().hex[:12]
    async with db.session(Scope(tenant_id=org.id, tenant_kind=org.kind)) as session:
        person = Person(
            issuer="https://isolation.example",
            subject=f"member-{tag}",
            email=f"member-{tag}@{tenant_slug}.example",
            email_verified=True,
            display_name=f"member {tag}",
        )
        session.add(person)
        await session.flush()
        membership = await services.ensure_membership(session, person.id)
        await services.grant_role(session, membership, role)
        invitation = await services.invite(session, org, f"invitee-{tag}@example.jp", [role])
        notification = Notification(
            tenant_id=org.id,
            person_id=person.id,
            kind="isolation",
            title_ja=f"通知 {tag}",
            title_en=f"Notification {tag}",
        )
        session.add(notification)
        await session.flush()
    return {
        "member_id": str(membership.id),
        "invitation_id": str(invitation.id),
        "role": role,
        "notification_id": str(notification.id),
    }
