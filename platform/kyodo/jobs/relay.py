"""The outbox relay: sends committed jobs from the `outbox` table to the dramatiq broker.

The outbox row id becomes the dramatiq message id, which is what idempotent actors record: a
row sent twice (the broker accepted it but marking it relayed failed) has one effect.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from dramatiq import Broker, Message
from dramatiq.errors import ActorNotFound
from sqlalchemy import exists, select, update

from kyodo.db import Database, Scope, utcnow
from kyodo.models import OutboxMessage, ProcessedMessage

BATCH = 100


@dataclass(frozen=True)
class RelayResult:
    sent: int
    error: str | None  # the broker's error when it refused or could not be reached


async def relay_once(db: Database, broker: Broker, *, batch: int = BATCH) -> RelayResult:
    """Send up to `batch` pending jobs, oldest first but failed ones last (so rows that keep
    failing, e.g. for an actor this release does not know, never hold up the others).

    Rows are claimed with FOR UPDATE SKIP LOCKED on PostgreSQL, so relays in several processes
    never send the same row concurrently (SQLite, a single process, ignores the clause). A row is
    marked relayed only after the broker accepted it. When the broker fails, the row keeps
    `attempts` and `last_error`, the batch stops, and everything stays pending for the next pass.
    """
    sent, error = 0, None
    async with db.session(Scope.system()) as session:
        rows = await session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.relayed_at.is_(None))
            .order_by(OutboxMessage.attempts, OutboxMessage.created_at)
            .limit(batch)
            .with_for_update(skip_locked=True)
        )
        for row in rows.all():
            try:
                message = _message(broker, row)
            except ActorNotFound as exc:
                # Not declared in this process (e.g. a newer web release): retried next pass.
                _failed(row, exc)
                continue
            try:
                await asyncio.to_thread(broker.enqueue, message)
            except Exception as exc:  # whatever the broker raises, the row must stay pending
                error = _failed(row, exc)
                break
            row.relayed_at = utcnow()
            sent += 1
    return RelayResult(sent, error)


def _message(broker: Broker, row: OutboxMessage) -> Message[None]:
    target = broker.get_actor(row.actor)
    return Message(
        queue_name=target.queue_name,
        actor_name=target.actor_name,
        args=(),
        kwargs=row.payload["kwargs"],
        options={"tenant_id": row.payload["tenant_id"]},
        message_id=str(row.id),
        message_timestamp=int(row.created_at.timestamp() * 1000),
    )


def _failed(row: OutboxMessage, exc: Exception) -> str:
    row.attempts += 1
    row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
    return row.last_error


async def requeue_unprocessed(db: Database) -> int:
    """Mark relayed-but-unprocessed jobs pending again; returns how many.

    For the embedded default only: its StubBroker queue lives in memory, so jobs relayed
    shortly before the process stopped would otherwise be lost. (Redis keeps them itself.)
    """
    async with db.session(Scope.system()) as session:
        result = await session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.relayed_at.is_not(None),
                ~exists().where(ProcessedMessage.message_id == OutboxMessage.id),
            )
            .values(relayed_at=None)
        )
        return result.rowcount  # type: ignore[attr-defined]
