"""Background jobs through a transactional outbox.

`enqueue` writes the job into the caller's transaction: it is relayed to dramatiq only once that
transaction commits (never if it rolls back), and stays in the outbox, to be relayed later,
while the broker is down. Actors are declared with `actor` and are idempotent (see actors.py).
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from kyodo.jobs.actors import JobContext, actor
from kyodo.models import OutboxMessage

__all__ = ["JobContext", "actor", "enqueue"]


def enqueue(session: AsyncSession, actor: str, **payload: Any) -> OutboxMessage:
    """Queue `actor(**payload)` to run after this transaction commits.

    The job runs inside the organization of the enqueuing transaction's scope (the system scope
    when it has none). Payload values must be JSON; UUIDs are sent as strings.
    """
    scope = session.info.get("scope")
    tenant_id = scope.tenant_id if scope else None
    kwargs = {k: str(v) if isinstance(v, uuid.UUID) else v for k, v in payload.items()}
    message = OutboxMessage(
        actor=actor,
        payload={"tenant_id": str(tenant_id) if tenant_id else None, "kwargs": kwargs},
    )
    session.add(message)
    return message
