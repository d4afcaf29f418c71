"""Idempotent actors.

Delivery is at-least-once (the relay may send a row twice, Redis redelivers a dying worker's
messages), so every actor records its message id in `processed_messages` in the same
transaction as its effect: a second delivery finds the id and does nothing.

Modules declare actors without knowing the broker; each JobsRuntime declares them on its own
broker (a StubBroker in the embedded default, Redis in production):

    @jobs.actor("procurement.close_need")
    async def close_need(job: JobContext, *, need_id: str) -> None:
        ...  # job.session is one transaction, scoped to the enqueuing organization
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from kyodo.db import Database, Scope
from kyodo.models import ProcessedMessage
from kyodo.settings import Settings

DEFAULT_QUEUE = "kyodo"


@dataclass(frozen=True)
class JobContext:
    session: AsyncSession  # the job's transaction, in the enqueuing organization's scope
    settings: Settings
    message_id: uuid.UUID


JobFunction = Callable[..., Awaitable[None]]


@dataclass(frozen=True)
class ActorSpec:
    name: str
    fn: JobFunction
    queue: str
    max_retries: int


ACTORS: dict[str, ActorSpec] = {}


def actor(
    name: str, *, queue: str = DEFAULT_QUEUE, max_retries: int = 10
) -> Callable[[JobFunction], JobFunction]:
    """Register an async job function `fn(job: JobContext, **payload)` under `name`."""

    def register(fn: JobFunction) -> JobFunction:
        existing = ACTORS.get(name)
        if existing and (existing.fn.__module__, existing.fn.__qualname__) != (
            fn.__module__,
            fn.__qualname__,
        ):
            raise ValueError(f"two actors are named {name!r}")
        ACTORS[name] = ActorSpec(name, fn, queue, max_retries)
        return fn

    return register


async def perform(
    db: Database,
    settings: Settings,
    spec: ActorSpec,
    message_id: uuid.UUID,
    tenant_id: uuid.UUID | None,
    kwargs: dict[str, Any],
) -> bool:
    """Run one delivery; False when this message's effect has already committed."""
    try:
        async with db.session(Scope.system(tenant_id)) as session:
            if await session.get(ProcessedMessage, message_id) is not None:
                return False
            session.add(ProcessedMessage(message_id=message_id, actor=spec.name))
            await session.flush()
            await spec.fn(JobContext(session, settings, message_id), **kwargs)
    except IntegrityError:
        # Two deliveries of one message ran at once and the other committed first.
        if await _processed(db, message_id):
            return False
        raise
    return True


async def _processed(db: Database, message_id: uuid.UUID) -> bool:
    async with db.session(Scope.system()) as session:
        return await session.get(ProcessedMessage, message_id) is not None
