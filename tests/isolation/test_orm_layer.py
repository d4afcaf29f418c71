"""The ORM layer on its own: the only fence on SQLite, the second one on PostgreSQL.

Run on SQLite (no RLS at all) and on PostgreSQL as the owner (a superuser, which bypasses RLS),
so whatever is refused here is refused by `kyodo.db.session` and nothing else.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
from sqlalchemy import delete, func, insert, select, update

from kyodo.db import Database, Scope, utcnow
from kyodo.db.session import CrossTenantWrite
from kyodo.models import AuditEvent, Membership, Notification, Organization, Person, RoleGrant
from tenants.seed import seed_demo
from tenants.services import ensure_membership, grant_role
from tests import support
from tests.isolation.conftest import ORG_A, ORG_B

pytestmark = pytest.mark.postgres

ORG_C = "133621"


@pytest.fixture(params=["sqlite", "postgres-owner"])
async def orm_db(request, pg_database, pg_seeded, sqlite_url, issuer):
    if request.param == "sqlite":
        db = Database(sqlite_url)
        await seed_demo(db, support.make_settings(sqlite_url, issuer))
    else:
        db = Database(pg_database[0])
    yield db
    await db.dispose()


@dataclass(frozen=True)
class World:
    a: uuid.UUID
    b: uuid.UUID
    c: uuid.UUID
    person: uuid.UUID  # member of A, and of B where they hold 'staff' and have a notification
    grant_in_b: uuid.UUID
    notification_in_b: uuid.UUID
    other_membership_in_b: uuid.UUID  # somebody else's


@pytest.fixture
async def world(orm_db: Database) -> World:
    async with orm_db.session(Scope.anonymous()) as s:
        orgs = {o.slug: o.id for o in await s.scalars(select(Organization))}
        person = Person(issuer="test", subject=uuid.uuid4().hex, email_verified=False)
        other = Person(issuer="test", subject=uuid.uuid4().hex, email_verified=False)
        s.add_all([person, other])
    a, b, c = orgs[ORG_A], orgs[ORG_B], orgs[ORG_C]
    async with orm_db.session(Scope(tenant_id=a)) as s:
        await ensure_membership(s, person.id)
    async with orm_db.session(Scope(tenant_id=b)) as s:
        grant = await grant_role(s, await ensure_membership(s, person.id), "staff")
        other_membership = await ensure_membership(s, other.id)
        notification = Notification(
            tenant_id=b, person_id=person.id, kind="test", title_ja="t", title_en="t"
        )
        s.add(notification)
    return World(a, b, c, person.id, grant.id, notification.id, other_membership.id)


async def test_reads_stay_in_the_organization(orm_db, world):
    async with orm_db.session(Scope(tenant_id=world.a)) as s:
        tenants = set(await s.scalars(select(Membership.tenant_id)))
        audit = set(await s.scalars(select(AuditEvent.tenant_id)))
        other = await s.scalar(
            select(Membership).where(Membership.id == world.other_membership_in_b)
        )
    assert tenants == {world.a}
    assert audit <= {world.a}
    assert other is None


async def test_bulk_changes_stay_in_the_organization(orm_db, world):
    async with orm_db.session(Scope(tenant_id=world.a)) as s:
        updated = await s.execute(
            update(Membership)
            .where(Membership.id == world.other_membership_in_b)
            .values(created_at=utcnow())
        )
        deleted = await s.execute(delete(RoleGrant).where(RoleGrant.tenant_id == world.b))
    assert (updated.rowcount, deleted.rowcount) == (0, 0)
    async with orm_db.session(Scope(tenant_id=world.b)) as s:
        assert await s.scalar(select(func.count()).select_from(RoleGrant)) > 0


async def test_a_new_row_cannot_go_into_another_organization(orm_db, world):
    with pytest.raises(CrossTenantWrite):
        async with orm_db.session(Scope(tenant_id=world.a, person_id=world.person)) as s:
            s.add(Membership(tenant_id=world.c, person_id=world.person))


async def test_an_insert_statement_cannot_go_into_another_organization(orm_db, world):
    with pytest.raises(CrossTenantWrite):
        async with orm_db.session(Scope(tenant_id=world.a, person_id=world.person)) as s:
            await s.execute(insert(Membership).values(tenant_id=world.c, person_id=world.person))


async def test_own_rows_of_another_organization_are_read_only(orm_db, world):
    """A person sees their role grant in B from A; promoting themselves must fail."""
    with pytest.raises(CrossTenantWrite):
        async with orm_db.session(Scope(tenant_id=world.a, person_id=world.person)) as s:
            grant = await s.scalar(select(RoleGrant).where(RoleGrant.id == world.grant_in_b))
            assert grant is not None  # visible: it is the person's own
            grant.role = "admin"
    async with orm_db.session(Scope(tenant_id=world.b)) as s:
        grant = await s.scalar(select(RoleGrant).where(RoleGrant.id == world.grant_in_b))
    assert grant.role == "staff"


async def test_a_notification_is_marked_read_from_anywhere_but_stays_put(orm_db, world):
    async with orm_db.session(Scope(person_id=world.person)) as s:
        note = await s.scalar(
            select(Notification).where(Notification.id == world.notification_in_b)
        )
        note.read_at = utcnow()
    with pytest.raises(CrossTenantWrite):
        async with orm_db.session(Scope(person_id=world.person)) as s:
            note = await s.scalar(
                select(Notification).where(Notification.id == world.notification_in_b)
            )
            note.tenant_id = world.c
    async with orm_db.session(Scope(tenant_id=world.b)) as s:
        note = await s.scalar(
            select(Notification).where(Notification.id == world.notification_in_b)
        )
    assert note.read_at is not None and note.tenant_id == world.b


async def test_a_row_cannot_move_to_another_organization(orm_db, world):
    with pytest.raises(CrossTenantWrite):
        async with orm_db.session(Scope(tenant_id=world.a, person_id=world.person)) as s:
            membership = await s.scalar(
                select(Membership).where(
                    Membership.tenant_id == world.a, Membership.person_id == world.person
                )
            )
            membership.tenant_id = world.c
