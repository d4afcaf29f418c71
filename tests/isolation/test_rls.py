"""Row-level security on its own: raw SQL over an app-role connection, no ORM in the way.

The owner connection (a superuser, which bypasses RLS) sets the stage; the app-role connection
sets only what the application would set per transaction, and must see and write nothing else.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import asyncpg
import pytest

from tests.isolation.conftest import ORG_A, ORG_B, scoped

pytestmark = pytest.mark.postgres

ORG_C = "133621"  # 利島村: an organization the test person does not belong to


@dataclass(frozen=True)
class Cast:
    a: uuid.UUID
    b: uuid.UUID
    c: uuid.UUID
    person: uuid.UUID  # member of A and B
    email: str
    invitee: str  # invited to A, not yet a person
    invitation: uuid.UUID
    notification: uuid.UUID  # the person's, in B


@pytest.fixture
async def cast(owner, org_ids) -> Cast:
    a, b, c = org_ids[ORG_A], org_ids[ORG_B], org_ids[ORG_C]
    person, tag = uuid.uuid4(), uuid.uuid4().hex[:8]
    email, invitee = f"rls-{tag}@example.org", f"invitee-{tag}@example.org"
    invitation, notification = uuid.uuid4(), uuid.uuid4()
    await owner.execute(
        "INSERT INTO people (id, issuer, subject, email, email_verified, display_name, locale,"
        " created_at) VALUES ($1, 'test', $2, $2, true, 'rls', 'ja', now())",
        person,
        email,
    )
    for org in (a, b):
        await owner.execute(
            "INSERT INTO memberships (id, tenant_id, person_id, created_at)"
            " VALUES ($1, $2, $3, now())",
            uuid.uuid4(),
            org,
            person,
        )
    await owner.execute(
        "INSERT INTO invitations (id, tenant_id, email, roles, created_at)"
        " VALUES ($1, $2, $3, 'staff', now())",
        invitation,
        a,
        invitee,
    )
    await owner.execute(
        "INSERT INTO notifications (id, tenant_id, person_id, kind, title_ja, title_en, link,"
        " created_at) VALUES ($1, $2, $3, 'test', 't', 't', '', now())",
        notification,
        b,
        person,
    )
    return Cast(a, b, c, person, email, invitee, invitation, notification)


async def tenant_tables(conn: asyncpg.Connection) -> list[str]:
    return [
        r["relname"]
        for r in await conn.fetch(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id'"
            " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') ORDER BY 1"
        )
    ]


async def tenant_only_tables(conn: asyncpg.Connection) -> list[str]:
    """Tenant tables without a rule that shares rows with other organizations (modules test
    their shared rules from both sides themselves)."""
    shared = {
        r["relname"]
        for r in await conn.fetch(
            "SELECT c.relname FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid"
            " WHERE p.polname = 'shared_read'"
        )
    }
    return [t for t in await tenant_tables(conn) if t not in shared]


async def test_without_settings_no_tenant_row_is_visible(app_conn, owner, cast):
    tables = await tenant_tables(app_conn)
    existing = {t: await owner.fetchval(f"SELECT count(*) FROM {t}") for t in tables}
    assert existing["memberships"] and existing["audit_events"] and existing["invitations"]
    async with scoped(app_conn):
        visible = {t: await app_conn.fetchval(f"SELECT count(*) FROM {t}") for t in tables}
    assert visible == dict.fromkeys(tables, 0)


async def test_a_tenant_sees_only_its_own_rows(app_conn, cast):
    tables = await tenant_only_tables(app_conn)
    assert {"memberships", "role_grants", "audit_events", "invitations"} <= set(tables)
    async with scoped(app_conn, tenant_id=cast.a):
        foreign = {
            t: await app_conn.fetchval(f"SELECT count(*) FROM {t} WHERE tenant_id <> $1", cast.a)
            for t in tables
        }
        own = await app_conn.fetchval("SELECT count(*) FROM memberships")
    assert foreign == dict.fromkeys(tables, 0)
    assert own > 1


async def test_a_tenant_cannot_change_or_delete_other_tenants_rows(app_conn, owner, cast):
    before = await owner.fetchval("SELECT count(*) FROM memberships WHERE tenant_id = $1", cast.b)
    async with scoped(app_conn, tenant_id=cast.a):
        updated = await app_conn.execute(
            "UPDATE memberships SET created_at = now() WHERE tenant_id = $1", cast.b
        )
        deleted = await app_conn.execute("DELETE FROM invitations WHERE tenant_id = $1", cast.b)
    assert (updated, deleted) == ("UPDATE 0", "DELETE 0")
    after = await owner.fetchval("SELECT count(*) FROM memberships WHERE tenant_id = $1", cast.b)
    assert before == after > 0


@pytest.mark.parametrize(
    ("statement", "params"),
    [
        (
            "INSERT INTO audit_events (id, tenant_id, seq, action, target_type, target_id,"
            " summary, occurred_at, prev_hash, hash) VALUES (gen_random_uuid(), $1, 999999,"
            " 'forged', 'x', 'x', '', now(), '', '')",
            ("tenant",),
        ),
        # The person's own rows are readable from anywhere; that must not make them writable:
        # a person joining another organization, inviting themselves into it, or sending
        # themselves its notifications.
        (
            "INSERT INTO memberships (id, tenant_id, person_id, created_at)"
            " VALUES (gen_random_uuid(), $1, $2, now())",
            ("tenant", "person"),
        ),
        (
            "INSERT INTO invitations (id, tenant_id, email, roles, created_at)"
            " VALUES (gen_random_uuid(), $1, $2, 'admin', now())",
            ("tenant", "email"),
        ),
        (
            "INSERT INTO notifications (id, tenant_id, person_id, kind, title_ja, title_en,"
            " link, created_at) VALUES (gen_random_uuid(), $1, $2, 'x', 'x', 'x', '', now())",
            ("tenant", "person"),
        ),
    ],
    ids=["audit_event", "membership", "invitation", "notification"],
)
async def test_rows_cannot_be_written_into_another_tenant(app_conn, cast, statement, params):
    values = {"tenant": cast.c, "person": cast.person, "email": cast.email}
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
        async with scoped(app_conn, tenant_id=cast.a, person_id=cast.person, email=cast.email):
            await app_conn.execute(statement, *(values[p] for p in params))


async def test_a_row_cannot_be_moved_to_another_tenant(app_conn, cast):
    with pytest.raises(asyncpg.PostgresError):
        async with scoped(app_conn, tenant_id=cast.a, person_id=cast.person, email=cast.email):
            await app_conn.execute(
                "UPDATE memberships SET tenant_id = $1 WHERE person_id = $2 AND tenant_id = $3",
                cast.c,
                cast.person,
                cast.a,
            )


async def test_a_person_marks_their_notification_read_from_anywhere_but_cannot_move_it(
    app_conn, cast
):
    async with scoped(app_conn, tenant_id=cast.a, person_id=cast.person):
        marked = await app_conn.execute(
            "UPDATE notifications SET read_at = now() WHERE id = $1", cast.notification
        )
    assert marked == "UPDATE 1"
    with pytest.raises(asyncpg.PostgresError, match="another organization"):
        async with scoped(app_conn, person_id=cast.person):
            await app_conn.execute(
                "UPDATE notifications SET tenant_id = $1 WHERE id = $2", cast.c, cast.notification
            )


async def test_a_person_sees_their_own_memberships_everywhere_and_nobody_elses(app_conn, cast):
    async with scoped(app_conn, person_id=cast.person):
        rows = await app_conn.fetch("SELECT tenant_id, person_id FROM memberships")
    assert sorted((r["tenant_id"], r["person_id"]) for r in rows) == sorted(
        [(cast.a, cast.person), (cast.b, cast.person)]
    )

    async with scoped(app_conn, tenant_id=cast.a, person_id=cast.person):
        rows = await app_conn.fetch("SELECT tenant_id, person_id FROM memberships")
    in_b = [r["person_id"] for r in rows if r["tenant_id"] == cast.b]
    assert in_b == [cast.person]  # B's other members stay hidden
    assert len([r for r in rows if r["tenant_id"] == cast.a]) > 1


async def test_an_invitation_is_visible_to_its_email_only(app_conn, cast):
    async def visible(**scope) -> list[uuid.UUID]:
        async with scoped(app_conn, **scope):
            return [r["id"] for r in await app_conn.fetch("SELECT id FROM invitations")]

    assert await visible(email=cast.invitee) == [cast.invitation]
    assert await visible(email=cast.email) == []
    assert await visible(person_id=cast.person) == []
    assert cast.invitation not in await visible(tenant_id=cast.b, email=cast.email)
    assert cast.invitation in await visible(tenant_id=cast.a)


async def test_an_invitee_cannot_change_their_invitation_from_outside(app_conn, cast):
    """Claiming happens inside the organization's scope; the e-mail alone only reads."""
    async with scoped(app_conn, email=cast.invitee):
        result = await app_conn.execute(
            "UPDATE invitations SET roles = 'admin' WHERE id = $1", cast.invitation
        )
    assert result == "UPDATE 0"


async def test_a_claimed_kind_grants_nothing_the_organization_does_not_have(app_conn, cast):
    """Shared rules may depend on the organization's kind; a transaction that says it is the
    operator while acting as a municipality must see exactly what the municipality sees."""
    tables = await tenant_tables(app_conn)

    async def counts(kind: str) -> dict[str, int]:
        async with scoped(app_conn, tenant_id=cast.b):
            await app_conn.execute("SELECT set_config('app.tenant_kind', $1, true)", kind)
            return {t: await app_conn.fetchval(f"SELECT count(*) FROM {t}") for t in tables}

    assert await counts("operator") == await counts("municipality")
