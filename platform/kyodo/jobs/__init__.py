"""Background jobs through a transactional outbox.

`enqueue` writes the job into the caller's transaction: it is relayed to dramatiq only once that
transaction commits, and stays in the outbox (to be relayed later) while the broker is down.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kyodo.models import OutboxMessage


def enqueue(session: AsyncSession, actor: str, **payload: Any) -> OutboxMessage:
    message = OutboxMessage(actor=actor, payload=payload)
    session.add(message)
    return message
