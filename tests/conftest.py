"""Shared fixtures. Servers are real: PostgreSQL, Redis and an OIDC provider process."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from kyodo.app import create_app
from kyodo.db import Database
from kyodo.settings import Settings
from tenants.seed import seed_demo
from tests import support


@pytest.fixture(scope="session")
def issuer() -> Iterator[str]:
    with support.oidc_provider() as url:
        yield url


@pytest.fixture(scope="session")
def pg_database() -> Iterator[tuple[str, str]]:
    """(owner URL, app-role URL) of a fresh, migrated PostgreSQL database for this run."""
    try:
        name, owner_url, app_url = support.create_pg_database()
    except OSError as exc:  # connection refused: fail loudly, never skip
        pytest.fail(f"PostgreSQL is required for the tests: {exc}")
    yield owner_url, app_url
    support.drop_pg_database(name)


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return support.create_sqlite_database(tmp_path_factory.mktemp("sqlite"))


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Tests using this run once on SQLite and once on PostgreSQL (as the app role)."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("pg_database")[1]


@pytest.fixture(scope="session")
def settings(database_url: str, issuer: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return support.make_settings(database_url, issuer, var_dir=tmp_path_factory.mktemp("var"))


@pytest.fixture(scope="session")
async def seeded(settings: Settings) -> Settings:
    db = Database(settings.database_url)
    try:
        await seed_demo(db, settings)
    finally:
        await db.dispose()
    return settings


@pytest.fixture
async def db(seeded: Settings) -> AsyncIterator[Database]:
    database = Database(seeded.database_url)
    yield database
    await database.dispose()


@pytest.fixture
async def app_client(seeded: Settings) -> AsyncIterator[AsyncTestClient]:
    """A client of a fresh app instance; sign in with `await support.sign_in(client, email)`."""
    async with AsyncTestClient(app=create_app(seeded), base_url="http://127.0.0.1:8000") as client:
        yield client


@pytest.fixture
async def new_client(seeded: Settings) -> AsyncIterator[Callable[[], Awaitable[AsyncTestClient]]]:
    """A factory for more clients (several people at once), each with its own cookies."""
    clients: list[AsyncTestClient] = []

    async def make() -> AsyncTestClient:
        client = AsyncTestClient(app=create_app(seeded), base_url="http://127.0.0.1:8000")
        await client.__aenter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.__aexit__(None, None, None)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent
