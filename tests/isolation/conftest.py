"""The isolation suite: attacks on tenant isolation, on PostgreSQL only.

The application's connections are the app role `kyodo_app` (what production runs as); the owner
connection (a superuser, which bypasses RLS) only sets the stage and checks what really happened.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import asyncpg
import pytest
from litestar.testing import AsyncTestClient

from kyodo.app import create_app
from kyodo.db import Database, Scope
from kyodo.models import Organization, Person
from kyodo.roles import grantable
from kyodo.settings import Settings
from tenants.seed import seed_demo
from tenants.services import ensure_membership, grant_role
from tests import support

ORG_A = "131016"  # 千代田区: the organization under attack
ORG_B = "132098"  # 町田市: where the attacker is a member


def dsn(url: str) -> str:
    """asyncpg wants a plain postgresql:// URL, SQLAlchemy's carries the driver."""
    return url.replace("postgresql+asyncpg://", "postgresql://")


@pytest.fixture(scope="session")
def pg_settings(
    pg_database: tuple[str, str], issuer: str, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    return support.make_settings(
        pg_database[1], issuer, var_dir=tmp_path_factory.mktemp("isolation")
    )


@pytest.fixture(scope="session")
async def pg_seeded(pg_settings: Settings) -> Settings:
    db = Database(pg_settings.database_url)
    try:
        await seed_demo(db, pg_settings)
    finally:
        await db.dispose()
    return pg_settings


@pytest.fixture
async def app_db(pg_seeded: Settings) -> AsyncIterator[Database]:
    """The application's database layer, connected as the app role."""
    database = Database(pg_seeded.database_url)
    yield database
    await database.dispose()


@pytest.fixture
async def owner(
    pg_database: tuple[str, str], pg_seeded: Settings
) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(dsn(pg_database[0]))
    yield conn
    await conn.close()


@pytest.fixture
async def app_conn(
    pg_database: tuple[str, str], pg_seeded: Settings
) -> AsyncIterator[asyncpg.Connection]:
    """A raw connection as the app role: what RLS alone allows, with no ORM in the way."""
    conn = await asyncpg.connect(dsn(pg_database[1]))
    yield conn
    await conn.close()


@pytest.fixture(scope="session")
async def org_ids(pg_database: tuple[str, str], pg_seeded: Settings) -> dict[str, uuid.UUID]:
    conn = await asyncpg.connect(dsn(pg_database[0]))
    try:
        rows = await conn.fetch("SELECT slug, id FROM organizations")
    finally:
        await conn.close()
    return {r["slug"]: r["id"] for r in rows}


@asynccontextmanager
async def scoped(
    conn: asyncpg.Connection,
    tenant_id: uuid.UUID | None = None,
    person_id: uuid.UUID | None = None,
    email: str | None = None,
) -> AsyncIterator[asyncpg.Connection]:
    """One transaction with the RLS settings the application would set for this scope."""
    async with conn.transaction():
        await conn.execute(
            "SELECT set_config('app.tenant_id', $1, true), set_config('app.person_id', $2, true),"
            " set_config('app.person_email', $3, true)",
            str(tenant_id or ""),
            str(person_id or ""),
            email or "",
        )
        yield conn


async def add_person(
    db: Database, settings: Settings, email: str, memberships: dict[uuid.UUID, list[str] | None]
) -> uuid.UUID:
    """A person signed in through the test provider, member of each organization with the roles
    given (None: every role the organization's kind allows)."""
    async with db.session(Scope.anonymous()) as session:
        person = Person(
            issuer=settings.oidc_issuer,
            subject=email,
            email=email,
            email_verified=True,
            display_name=email.split("@")[0],
        )
        session.add(person)
    for tenant_id, roles in memberships.items():
        async with db.session(Scope(tenant_id=tenant_id, person_id=person.id)) as session:
            membership = await ensure_membership(session, person.id)
            if roles is None:
                org = await session.get(Organization, tenant_id)
                roles = [r.name for r in grantable(org.kind)]
            for role in roles:
                await grant_role(session, membership, role)
    support.set_provider_user(
        settings.oidc_issuer, email, email=email, email_verified=True, name=email.split("@")[0]
    )
    return person.id


@pytest.fixture
async def client_factory(
    pg_seeded: Settings,
) -> AsyncIterator[Callable[[], Awaitable[AsyncTestClient]]]:
    """Clients of apps built from the PostgreSQL settings, each with its own cookies."""
    clients: list[AsyncTestClient] = []

    async def make() -> AsyncTestClient:
        client = AsyncTestClient(app=create_app(pg_seeded), base_url="http://127.0.0.1:8000")
        await client.__aenter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.__aexit__(None, None, None)
