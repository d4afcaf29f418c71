"""Alembic environment: runs migrations on the async engine given by kyodo.db.migrate."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.ext.asyncio import create_async_engine

import kyodo.models  # noqa: F401 - registers the kernel's tables
from kyodo.db.base import Base
from kyodo.manifest import load_manifests

load_manifests()  # importing each manifest imports its models, registering their tables

config = context.config
target_metadata = Base.metadata


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _main() -> None:
    engine = create_async_engine(config.attributes["url"])
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `kyodo migrate`")
if config.attributes.get("connection") is not None:
    _run(config.attributes["connection"])
else:
    asyncio.run(_main())
