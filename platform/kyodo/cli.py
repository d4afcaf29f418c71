"""`kyodo dev | serve | worker | migrate | seed | tick | audit verify`."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import click

from kyodo.settings import DEV_OIDC_PORT, Settings, SettingsError


def _settings(env: str | None = None) -> Settings:
    try:
        return Settings.from_env(env)
    except SettingsError as exc:
        raise click.ClickException(f"configuration error: {exc}") from None


def _run(coro_fn: Callable[..., Any], *args: Any) -> Any:
    return asyncio.run(coro_fn(*args))


@click.group()
def main() -> None:
    """Kyodo (共同): shared services for Tokyo's municipalities."""


@main.command()
def migrate() -> None:
    """Create or upgrade the database schema (connects with KYODO_MIGRATE_DATABASE_URL)."""
    from kyodo.db.migrate import upgrade

    settings = _settings()
    upgrade(settings.migrate_database_url)
    click.echo("database is up to date")


async def _seed(settings: Settings) -> None:
    from kyodo.db import Database
    from kyodo.manifest import load_manifests

    db = Database(settings.database_url)
    try:
        for manifest in load_manifests():
            if manifest.seed:
                await manifest.seed(db, settings)
    finally:
        await db.dispose()


@main.command()
def seed() -> None:
    """Load the demo data (organizations, demo people, module demo data). Idempotent."""
    _run(_seed, _settings())
    click.echo("demo data loaded")


@main.command()
def serve() -> None:
    """Run the web server (production settings)."""
    import uvicorn

    from kyodo.app import create_app

    settings = _settings()
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, proxy_headers=True)


@main.command()
def worker() -> None:
    """Relay the outbox to Redis, run dramatiq actors and the periodic tick."""
    from kyodo.jobs.worker import run_worker

    run_worker(_settings())


async def _tick(settings: Settings, now: datetime) -> None:
    from kyodo.db import Database
    from kyodo.jobs.tick import tick

    db = Database(settings.database_url)
    try:
        await tick(db, now)
    finally:
        await db.dispose()


@main.command("tick")
def tick_once() -> None:
    """Run the deadline transitions once, as of now."""
    _run(_tick, _settings(), datetime.now(UTC))
    click.echo("tick done")


@main.group()
def audit() -> None:
    """Audit trail tools."""


async def _verify(settings: Settings) -> Any:
    from kyodo import audit as audit_trail
    from kyodo.db import Database

    db = Database(settings.database_url)
    try:
        return await audit_trail.verify(db)
    finally:
        await db.dispose()


@audit.command("verify")
def audit_verify() -> None:
    """Check every organization's hash chain; exit 1 naming the first tampered event."""
    found = _run(_verify, _settings())
    if found is None:
        click.echo("audit trail intact")
        return
    click.echo(
        f"TAMPERED: organization {found.tenant_id}, event #{found.seq} ({found.event_id}): "
        f"{found.reason}",
        err=True,
    )
    sys.exit(1)


def _start_mock_provider(settings: Settings) -> subprocess.Popen[bytes] | None:
    """The local OIDC provider for the embedded default, with the demo people one click away."""
    from tenants.seed import DEMO_PEOPLE

    discovery = f"{settings.oidc_issuer}/.well-known/openid-configuration"
    if _answers(discovery):
        return None
    exe = shutil.which("oidc-provider-mock") or str(
        __import__("pathlib").Path(sys.executable).with_name("oidc-provider-mock")
    )
    args = [exe, "--port", str(DEV_OIDC_PORT), "--require-nonce", "true"]
    for email, name, _slug, _roles in DEMO_PEOPLE:
        claims = {"sub": email, "email": email, "email_verified": True, "name": name}
        args += ["--user-claims", json.dumps(claims, ensure_ascii=False)]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
    for _ in range(100):
        if _answers(discovery):
            return proc
        time.sleep(0.1)
    proc.terminate()
    raise click.ClickException(f"the local OIDC provider did not start on port {DEV_OIDC_PORT}")


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=0.5) as response:  # noqa: S310 - local http URL
            return response.status == 200
    except OSError:
        return False


@main.command()
def dev() -> None:
    """Start Kyodo on the embedded default (SQLite, in-process jobs, local OIDC), with demo data."""
    import uvicorn

    from kyodo.app import create_app
    from kyodo.db.migrate import upgrade
    from tenants.seed import DEMO_PEOPLE

    settings = _settings("dev")
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    provider = _start_mock_provider(settings)
    try:
        upgrade(settings.migrate_database_url)
        _run(_seed, settings)
        click.echo(f"\nKyodo is running at {settings.base_url}/")
        click.echo(f"Sign in at {settings.base_url}/auth/login with one of the demo accounts:")
        for email, _name, slug, roles in DEMO_PEOPLE:
            click.echo(f"  {email:28} {slug:9} {', '.join(roles)}")
        click.echo("")
        uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info")
    finally:
        if provider:
            provider.terminate()
