"""Role audit: the role the web and worker processes run as cannot step around RLS.

Checked twice: in the catalog (what the role is and holds) and by trying, over a real app-role
connection, everything a compromised or buggy process would try.
"""

from __future__ import annotations

import asyncpg
import pytest

from tests.isolation.conftest import scoped

pytestmark = pytest.mark.postgres

APP_ROLE = "kyodo_app"


async def test_app_role_is_not_privileged(owner):
    role = await owner.fetchrow("SELECT * FROM pg_roles WHERE rolname = $1", APP_ROLE)
    assert role is not None
    assert not role["rolsuper"]
    assert not role["rolbypassrls"]
    assert not role["rolcreaterole"]
    assert not role["rolcreatedb"]
    assert not role["rolreplication"]
    # Membership in another role (pg_write_all_data, the owner...) would lend its rights.
    member_of = await owner.fetch(
        "SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid"
        " WHERE m.member = $1::regrole",
        APP_ROLE,
    )
    assert [r["rolname"] for r in member_of] == []


async def test_app_role_owns_nothing(owner):
    """An owner may ALTER its table, drop FORCE and bypass its own policies."""
    owned = await owner.fetch(
        "SELECT 'table ' || relname AS what FROM pg_class WHERE relowner = $1::regrole"
        " UNION ALL SELECT 'function ' || proname FROM pg_proc WHERE proowner = $1::regrole"
        " UNION ALL SELECT 'schema ' || nspname FROM pg_namespace WHERE nspowner = $1::regrole"
        " UNION ALL SELECT 'type ' || typname FROM pg_type WHERE typowner = $1::regrole"
        " UNION ALL SELECT 'database ' || datname FROM pg_database WHERE datdba = $1::regrole",
        APP_ROLE,
    )
    assert [r["what"] for r in owned] == []


async def test_app_role_privileges(owner):
    tables = [
        r["name"]
        for r in await owner.fetch(
            "SELECT c.oid::regclass::text AS name FROM pg_class c"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')"
            " AND n.nspname NOT LIKE 'pg\\_%' AND c.relkind IN ('r', 'p')"
        )
    ]
    assert "audit_events" in tables
    problems = []
    for table in tables:
        # TRUNCATE ignores RLS; TRIGGER would let the role attach code to the table.
        for privilege in ("TRUNCATE", "TRIGGER"):
            if await owner.fetchval(
                "SELECT has_table_privilege($1, $2, $3)", APP_ROLE, table, privilege
            ):
                problems.append(f"{privilege} on {table}")
    for privilege in ("UPDATE", "DELETE"):
        if await owner.fetchval(
            "SELECT has_table_privilege($1, 'public.audit_events', $2)", APP_ROLE, privilege
        ):
            problems.append(f"{privilege} on audit_events")
    for schema in await owner.fetch(
        "SELECT nspname FROM pg_namespace WHERE has_schema_privilege($1, oid, 'CREATE')", APP_ROLE
    ):
        problems.append(f"CREATE in schema {schema['nspname']}")
    if await owner.fetchval(
        "SELECT has_database_privilege($1, current_database(), 'CREATE')", APP_ROLE
    ):
        problems.append("CREATE (schemas) in the database")
    assert not problems, "the app role holds: " + ", ".join(problems)


FORBIDDEN = [
    "CREATE TABLE public.kyodo_intruder (id int)",
    "CREATE FUNCTION public.kyodo_intruder() RETURNS int LANGUAGE sql AS 'SELECT 1'",
    "CREATE SCHEMA kyodo_intruder",
    "ALTER TABLE memberships DISABLE ROW LEVEL SECURITY",
    "ALTER TABLE memberships NO FORCE ROW LEVEL SECURITY",
    "ALTER TABLE memberships ADD COLUMN intruder int",
    "DROP POLICY tenant_isolation ON memberships",
    "CREATE POLICY intruder ON memberships USING (true)",
    "ALTER TABLE audit_events DISABLE TRIGGER ALL",
    "UPDATE audit_events SET summary = 'rewritten'",
    "DELETE FROM audit_events",
    "TRUNCATE audit_events",
    "TRUNCATE memberships",
    "SET ROLE postgres",
    # Replica mode would skip triggers, among them the audit trail's append-only guard.
    "SET session_replication_role = replica",
    f"ALTER ROLE {APP_ROLE} BYPASSRLS",
]


@pytest.mark.parametrize("statement", FORBIDDEN)
async def test_app_role_cannot(app_conn, org_ids, statement):
    with pytest.raises(asyncpg.PostgresError):
        async with scoped(app_conn, tenant_id=org_ids["131016"]):
            await app_conn.execute(statement)


async def test_turning_row_security_off_fails_instead_of_showing_rows(app_conn):
    """`row_security = off` makes a query that RLS would filter raise an error for a role that
    cannot bypass RLS: it never returns the unfiltered rows."""
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match="row-level security"):
        async with app_conn.transaction():
            await app_conn.execute("SET LOCAL row_security = off")
            await app_conn.fetch("SELECT * FROM memberships")
