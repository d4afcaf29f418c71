"""The audit trail on PostgreSQL: append-only for the app, one unforked hash chain per
organization, and `kyodo audit verify` naming the first tampered event.

These tests tamper with rows, so they use a database of their own."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from kyodo import audit
from kyodo.db import Database, Scope
from kyodo.models import AuditEvent, Organization
from tests import support

pytestmark = pytest.mark.postgres

KYODO = str(Path(sys.executable).with_name("kyodo"))


@pytest.fixture(scope="module")
def urls() -> Iterator[tuple[str, str]]:
    """(superuser URL, app-role URL) of a fresh database."""
    name, owner_url, app_url = support.create_pg_database()
    yield owner_url, app_url
    support.drop_pg_database(name)


@pytest.fixture
async def app_db(urls) -> AsyncIterator[Database]:
    db = Database(urls[1])
    yield db
    await db.dispose()


async def new_organization(db: Database) -> uuid.UUID:
    slug = f"t{uuid.uuid4().hex[:10]}"
    async with db.session(Scope.anonymous()) as session:
        org = Organization(slug=slug, kind="vendor", name_ja=slug, name_en=slug)
        session.add(org)
    return org.id


async def record(db: Database, org: uuid.UUID, n: int) -> list[AuditEvent]:
    events = []
    for i in range(n):
        async with db.session(Scope(tenant_id=org)) as session:
            events.append(await audit.record(session, "thing.changed", "thing", i, f"change {i}"))
    return events


async def as_superuser(url: str, sql: str, **params: object) -> None:
    """Bypass the append-only trigger the way only a database superuser can."""
    db = Database(url)
    try:
        async with db.engine.begin() as conn:
            await conn.execute(text("SET LOCAL session_replication_role = replica"))
            await conn.execute(text(sql), params)
    finally:
        await db.dispose()


def verify(app_url: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KYODO_")}
    env.update(KYODO_ENV="test", KYODO_DATABASE_URL=app_url)
    return subprocess.run(
        [KYODO, "audit", "verify"], env=env, capture_output=True, text=True, timeout=60
    )


async def test_audit_verify_names_the_first_tampered_event(urls, app_db):
    owner_url, app_url = urls
    org = await new_organization(app_db)
    events = await record(app_db, org, 4)
    intact = verify(app_url)
    assert intact.returncode == 0, intact.stderr
    assert "intact" in intact.stdout

    # Someone with superuser rights rewrites history...
    second = events[1]
    await as_superuser(
        owner_url,
        "UPDATE audit_events SET summary = 'nothing happened' WHERE id = :id",
        id=second.id,
    )
    found = verify(app_url)
    assert found.returncode == 1
    assert f"organization {org}, event #2 ({second.id})" in found.stderr
    assert "content does not match its hash" in found.stderr

    # ...or removes an event: the next one no longer follows.
    await as_superuser(
        owner_url,
        "UPDATE audit_events SET summary = :s WHERE id = :id",
        s=second.summary,
        id=second.id,
    )
    assert verify(app_url).returncode == 0
    await as_superuser(owner_url, "DELETE FROM audit_events WHERE id = :id", id=second.id)
    found = verify(app_url)
    assert found.returncode == 1
    assert f"event #3 ({events[2].id}): expected event #2" in found.stderr


async def test_the_app_cannot_change_or_delete_audit_events(urls, app_db):
    org = await new_organization(app_db)
    [event] = await record(app_db, org, 1)
    for sql in ("UPDATE audit_events SET summary = 'rewritten'", "DELETE FROM audit_events"):
        with pytest.raises(DBAPIError, match="permission denied"):
            async with app_db.session(Scope(tenant_id=org)) as session:
                await session.execute(text(sql))
    # Even the tables' owner is stopped by the trigger unless it disables triggers on purpose.
    owner = Database(urls[0])
    try:
        with pytest.raises(DBAPIError, match="append-only table audit_events"):
            async with owner.session(Scope(tenant_id=org)) as session:
                await session.execute(
                    text("UPDATE audit_events SET summary = 'x' WHERE id = :id"), {"id": event.id}
                )
    finally:
        await owner.dispose()
    async with app_db.session(Scope(tenant_id=org)) as session:
        assert await audit.verify_chain(session, org) is None


async def test_concurrent_appends_in_one_organization_do_not_fork_the_chain(app_db):
    org = await new_organization(app_db)

    async def append(i: int) -> None:
        async with app_db.session(Scope(tenant_id=org)) as session:
            await audit.record(session, "thing.changed", "thing", i, f"concurrent {i}")

    await asyncio.gather(*(append(i) for i in range(25)))
    async with app_db.session(Scope(tenant_id=org)) as session:
        assert await audit.verify_chain(session, org) is None
        seqs = await session.scalars(
            select(AuditEvent.seq).where(AuditEvent.tenant_id == org).order_by(AuditEvent.seq)
        )
        assert list(seqs) == list(range(1, 26))
