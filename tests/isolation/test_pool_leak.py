"""One-connection pool: a unit of work must not inherit the previous one's organization.

Every unit of work below runs on the same physical connection (checked by its backend pid), and
reads with plain SQL, so only the RLS settings (not the ORM's criteria) decide what it sees.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import text

from kyodo.db import Database, Scope
from tests.isolation.conftest import ORG_A, ORG_B

pytestmark = pytest.mark.postgres

SEEN = text(
    "SELECT pg_backend_pid() AS pid,"
    " (SELECT count(*) FROM memberships WHERE tenant_id = :a) AS rows_of_a,"
    " current_setting('app.tenant_id', true) AS tenant"
)


@pytest.fixture
async def one_connection(pg_seeded) -> AsyncIterator[Database]:
    db = Database(pg_seeded.database_url, pool_size=1, max_overflow=0)
    yield db
    await db.dispose()


async def seen(db: Database, scope: Scope, a) -> tuple[int, int, str | None]:
    async with db.session(scope) as session:
        row = (await session.execute(SEEN, {"a": a})).one()
    return row.pid, row.rows_of_a, row.tenant


async def test_the_next_unit_of_work_does_not_see_the_previous_tenant(one_connection, org_ids):
    a, b = org_ids[ORG_A], org_ids[ORG_B]
    pid, rows, tenant = await seen(one_connection, Scope(tenant_id=a), a)
    assert rows > 0 and tenant == str(a)

    for scope in (Scope.anonymous(), Scope(tenant_id=b), Scope.system()):
        next_pid, rows, tenant = await seen(one_connection, scope, a)
        assert next_pid == pid, "the pool handed out another connection"
        assert rows == 0, f"{scope} sees organization A's rows"
        assert tenant in ("", str(b))


async def test_nothing_leaks_after_an_error(one_connection, org_ids):
    a = org_ids[ORG_A]
    pid, _rows, _tenant = await seen(one_connection, Scope(tenant_id=a), a)

    with pytest.raises(RuntimeError):
        async with one_connection.session(Scope(tenant_id=a)) as session:
            await session.execute(SEEN, {"a": a})
            raise RuntimeError("the handler failed half-way")
    assert await seen(one_connection, Scope.anonymous(), a) == (pid, 0, "")

    with pytest.raises(Exception, match="division by zero"):
        async with one_connection.session(Scope(tenant_id=a)) as session:
            await session.execute(text("SELECT 1 / 0"))
    assert await seen(one_connection, Scope.anonymous(), a) == (pid, 0, "")


async def test_a_session_level_setting_left_on_the_connection_is_overridden(
    one_connection, org_ids
):
    """Code that ever SETs the tenant for the whole connection (not the transaction) must not
    decide what the next unit of work sees: every transaction sets its own scope."""
    a = org_ids[ORG_A]
    async with one_connection.engine.connect() as connection:
        await connection.exec_driver_sql(f"SET app.tenant_id = '{a}'")
        await connection.commit()
    _pid, rows, tenant = await seen(one_connection, Scope.anonymous(), a)
    assert (rows, tenant) == (0, "")
