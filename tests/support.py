"""Test support: real servers (PostgreSQL, Redis, the OIDC provider) and signing in through them.

Nothing here skips: a missing server fails the run, so CI can't go green without testing.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from kyodo.db import Database, Scope
from kyodo.models import Organization, Person
from kyodo.settings import Settings
from tenants.seed import DEMO_PEOPLE

PG_ADMIN_URL = os.environ.get("KYODO_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("KYODO_TEST_REDIS", "redis://127.0.0.1:6379/15")
APP_ROLE = "kyodo_app"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=0.5).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout}s")


@contextmanager
def oidc_provider() -> Iterator[str]:
    """A real oidc-provider-mock process with the demo people as predefined users."""
    port = free_port()
    exe = Path(sys.executable).with_name("oidc-provider-mock")
    args = [str(exe), "--port", str(port), "--require-nonce", "true"]
    for email, name, _slug, _roles in DEMO_PEOPLE:
        claims = {"sub": email, "email": email, "email_verified": True, "name": name}
        args += ["--user-claims", json.dumps(claims, ensure_ascii=False)]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    issuer = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{issuer}/.well-known/openid-configuration")
        yield issuer
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@contextmanager
def redis_server(port: int) -> Iterator[str]:
    """A private, throw-away redis-server on `port` (never the machine's shared one), so a
    test may stop it to see what happens while Redis is down."""
    proc = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not start on port {port}") from None
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


async def eventually(check: Callable[[], Awaitable[Any]], seconds: float = 15.0) -> Any:
    """Poll `check` until it returns something truthy (background jobs finish on their own)."""
    deadline = time.monotonic() + seconds
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"still {result!r} after {seconds}s")
        await asyncio.sleep(0.05)


def set_provider_user(issuer: str, sub: str, **claims: Any) -> None:
    """Give the mock provider a user with these claims (e.g. a verified e-mail)."""
    response = httpx.put(f"{issuer}/users/{sub}", json=claims)
    response.raise_for_status()


def pg_url(database: str, user: str = "postgres") -> str:
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    base = re.sub(r"://[^@/]*@", f"://{user}@", base)
    return base.replace("postgresql://", "postgresql+asyncpg://") + f"/{database}"


def _psql(sql: str, database: str = "postgres") -> None:
    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{database}")
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run())


def create_pg_database() -> tuple[str, str, str]:
    """A fresh database migrated by its owner; returns (name, owner URL, app-role URL)."""
    from kyodo.db.migrate import upgrade

    name = f"kyodo_test_{uuid.uuid4().hex[:10]}"
    _psql(f'CREATE DATABASE "{name}"')
    owner_url = pg_url(name)
    upgrade(owner_url)
    # The app role is created NOLOGIN by the migration; the deployment lets it log in.
    _psql(f"ALTER ROLE {APP_ROLE} LOGIN")
    return name, owner_url, pg_url(name, APP_ROLE)


def drop_pg_database(name: str) -> None:
    _psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def create_sqlite_database(directory: Path) -> str:
    from kyodo.db.migrate import upgrade

    url = f"sqlite+aiosqlite:///{directory / 'kyodo.sqlite3'}"
    upgrade(url)
    return url


def make_settings(database_url: str, issuer: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "env": "test",
        "database_url": database_url,
        "migrate_database_url": database_url,
        "redis_url": None,
        "oidc_issuer": issuer,
        "oidc_client_id": "kyodo-test",
        "oidc_client_secret": "kyodo-test-secret",
        "base_url": "http://127.0.0.1:8000",
        "secret_key": "test-secret-key-that-is-long-enough-0123456789",
        # Tests move time themselves (tick(now=...)); a wall-clock tick in every test app would
        # close other tests' needs under them once their deadlines pass in real time.
        "tick_seconds": 0,
    }
    values.update(overrides)
    return Settings(**values)


async def sign_in(client: AsyncTestClient, email: str) -> None:
    """The real authorization-code flow: our /auth/login, the provider's form, our callback."""
    response = await client.get("/auth/login", follow_redirects=False)
    assert response.status_code in (302, 303, 307), response.text
    authorize_url = response.headers["location"]
    async with httpx.AsyncClient() as provider:
        answer = await provider.post(authorize_url, data={"sub": email})
    assert answer.status_code == 302, answer.text
    callback = httpx.URL(answer.headers["location"])
    done = await client.get(f"{callback.path}?{callback.query.decode()}", follow_redirects=False)
    assert done.status_code in (302, 303), done.text


async def org_and_person(db: Database, slug: str, email: str) -> tuple[uuid.UUID, uuid.UUID]:
    """Ids of a seeded organization and a seeded person."""
    async with db.session(Scope.anonymous()) as session:
        org = await session.scalar(select(Organization.id).where(Organization.slug == slug))
        person = await session.scalar(select(Person.id).where(Person.email == email))
    assert org and person, (slug, email)
    return org, person


def csrf_token(client: AsyncTestClient) -> str:
    """The CSRF token from the cookie Litestar sets on a page response."""
    return client.cookies.get("kyodo_csrf") or ""


class LiveServer:
    """The app served by uvicorn in a thread, for the browser tests."""

    def __init__(self, app: Litestar, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        wait_for(f"{self.url}/healthz")
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


class Mailbox:
    """An aiosmtpd handler that keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd calls it this
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"
