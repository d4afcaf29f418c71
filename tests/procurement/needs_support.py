"""Shared by the needs tests: people in organizations, signed-in clients, needs in each state.

People are made through the tenants services and registered with the test OIDC provider, so
they sign in through the real flow; they are made once per database and reused.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

from litestar.testing import AsyncTestClient
from sqlalchemy import select

from kyodo.app import create_app
from kyodo.db import Database, Scope, utcnow
from kyodo.models import Organization, Person, RoleGrant
from kyodo.settings import Settings
from procurement import needs
from procurement.actors import Actor
from procurement.models import Need
from tenants.services import ensure_membership, grant_role
from tests import support
from tests.procurement.conftest import need_input

OWNER = "131016"  # 千代田区 posts the needs (approval on)
OTHER = "132098"  # 町田市 joins them
# Personas of the table-driven tests: (e-mail, organization, roles)
PEOPLE = {
    "officer": ("buyer@131016.example", OWNER, ()),
    "approver": ("approver@131016.example", OWNER, ()),
    "staff": ("staff1@131016.example", OWNER, ()),
    "other_officer": ("buyer@132098.example", OTHER, ()),
    "other_approver": ("approver-needs@132098.example", OTHER, ("approver",)),
    "vendor": ("sales@vendor-a.example", "vendor-a", ()),
    "operator": ("admin@govtech.example", "govtech", ()),
}
DAY = timedelta(days=1)


async def org(db: Database, slug: str) -> Organization:
    async with db.session(Scope.anonymous()) as session:
        return await session.scalar(select(Organization).where(Organization.slug == slug))


async def member(
    db: Database, settings: Settings, email: str, slug: str, roles: tuple[str, ...]
) -> Actor:
    """The person with this e-mail, made a member of `slug` with `roles` if not yet there."""
    organization = await org(db, slug)
    async with db.session(Scope.anonymous()) as session:
        person = await session.scalar(select(Person).where(Person.email == email))
        if person is None:
            person = Person(
                issuer=settings.oidc_issuer,
                subject=email,
                email=email,
                email_verified=True,
                display_name=email.split("@")[0],
            )
            session.add(person)
    scope = Scope(tenant_id=organization.id, tenant_kind=organization.kind, person_id=person.id)
    async with db.session(scope) as session:
        membership = await ensure_membership(session, person.id)
        for role in roles:
            await grant_role(session, membership, role)
    if roles:
        support.set_provider_user(
            settings.oidc_issuer, email, email=email, email_verified=True, name=email
        )
    async with db.session(scope) as session:
        held = await session.scalars(
            select(RoleGrant.role).where(RoleGrant.membership_id == membership.id)
        )
        return Actor(org=organization, person_id=person.id, roles=frozenset(held))


@asynccontextmanager
async def signed_in(settings: Settings, email: str) -> AsyncIterator[AsyncTestClient]:
    async with AsyncTestClient(app=create_app(settings), base_url="http://127.0.0.1:8000") as c:
        await support.sign_in(c, email)
        yield c


async def need_in_state(
    db: Database,
    people: dict[str, Actor],
    state: str,
    title: str = "",
    open_for: timedelta = 14 * DAY,
) -> uuid.UUID:
    """A need brought to `state` through the services, at the real clock (the API uses it).

    States: draft, pending_approval, returned, published, joined (町田市 has joined), closed
    (demand closed), foreign_pending_join (a need of 町田市 that 千代田区 asked to join, awaiting
    千代田区's approver). `expired_<state>`: the same, made earlier with a join deadline that
    has just passed and no tick run since. `open_for`: how long until the join deadline (a
    short one puts the need first in the pool, ahead of other tests' needs)."""
    base = state.removeprefix("expired_")
    now = utcnow()
    made_at = now - 20 * DAY if base != state else now
    deadline = now - timedelta(minutes=1) if base != state else now + open_for
    owner, approver = people["officer"], people["approver"]
    if base == "foreign_pending_join":
        owner, approver = people["other_officer"], people["other_approver"]
    async with db.session(owner.scope) as s:
        need = await needs.create_need(
            s, owner, need_input(join_deadline=deadline, title=title or f"{state} need"), made_at
        )
    if base == "draft":
        return need.id
    async with db.session(owner.scope) as s:
        submitted = await needs.submit_need(s, owner, need.id, made_at)
    if base == "pending_approval":
        assert submitted.status == "pending_approval"
        return need.id
    if base == "returned":
        async with db.session(approver.scope) as s:
            await needs.return_need(s, approver, need.id, "根拠を追記してください")
        return need.id
    if submitted.status == "pending_approval":
        async with db.session(approver.scope) as s:
            await needs.approve_need(s, approver, need.id, made_at)
    if base == "foreign_pending_join":
        chiyoda = people["officer"]
        async with db.session(chiyoda.scope) as s:
            mine = await needs.join(s, chiyoda, need.id, 30, 140_000, made_at)
        assert mine.status == "pending_approval"
    if base == "joined":
        await join_as(db, people, "other_officer", need.id, 30, made_at)
    if base == "closed":
        async with db.session(owner.scope) as s:
            row = await s.get(Need, (owner.org.id, need.id))
            await needs.close_demand(s, row, deadline)
    return need.id


async def join_as(
    db: Database,
    people: dict[str, Actor],
    who: str,
    need_id: uuid.UUID,
    quantity: int,
    now: datetime,
    price: int = 140_000,
) -> None:
    """Join (counted): through the organization's approver when it has the approval step."""
    joiner = people[who]
    async with db.session(joiner.scope) as s:
        mine = await needs.join(s, joiner, need_id, quantity, price, now)
    if mine.status == "pending_approval":
        approver = people[who.replace("officer", "approver")]
        async with db.session(approver.scope) as s:
            await needs.decide_commitment(s, approver, need_id, True, now)
