"""Append-only audit events, hash-chained per organization.

Each event's hash covers its fields and the previous event's hash, so changing or deleting any
event breaks every later link; `kyodo audit verify` walks the chains and names the first break.
On PostgreSQL the app role may only INSERT and SELECT, and a trigger refuses UPDATE and DELETE.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from kyodo.db import Database, Scope, utcnow
from kyodo.models import AuditEvent, Organization

GENESIS = "0" * 64


def _digest(event: AuditEvent) -> str:
    body = json.dumps(
        [
            str(event.tenant_id),
            event.seq,
            str(event.actor_id) if event.actor_id else None,
            event.action,
            event.target_type,
            event.target_id,
            event.summary,
            event.occurred_at.isoformat(),
            event.prev_hash,
        ],
        ensure_ascii=False,
    )
    return hashlib.sha256(body.encode()).hexdigest()


async def record(
    session: AsyncSession,
    action: str,
    target_type: str,
    target_id: object,
    summary: str = "",
    *,
    tenant_id: uuid.UUID | None = None,
) -> AuditEvent:
    """Write one event in the caller's transaction: it commits or rolls back with the change."""
    scope: Scope = session.info["scope"]
    tenant = tenant_id or scope.tenant_id
    if tenant is None:
        raise ValueError("an audit event needs an organization")
    if session.bind.dialect.name == "postgresql":
        # Serialise appends per organization so two writers never fork the chain.
        await session.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": f"audit:{tenant}"}
        )
    last = (
        await session.execute(
            select(AuditEvent.seq, AuditEvent.hash)
            .where(AuditEvent.tenant_id == tenant)
            .order_by(AuditEvent.seq.desc())
            .limit(1)
        )
    ).first()
    event = AuditEvent(
        tenant_id=tenant,
        seq=(last.seq + 1) if last else 1,
        actor_id=scope.operator_id or scope.person_id,
        action=action,
        target_type=target_type,
        target_id=str(target_id),
        summary=summary[:2000],
        occurred_at=utcnow().replace(microsecond=0),
        prev_hash=last.hash if last else GENESIS,
    )
    event.hash = _digest(event)
    session.add(event)
    await session.flush()
    return event


@dataclass(frozen=True)
class Break:
    tenant_id: uuid.UUID
    seq: int
    event_id: uuid.UUID
    reason: str


async def verify_chain(session: AsyncSession, tenant_id: uuid.UUID) -> Break | None:
    """The first tampered event of one organization's chain, or None when it holds."""
    rows = await session.scalars(
        select(AuditEvent).where(AuditEvent.tenant_id == tenant_id).order_by(AuditEvent.seq)
    )
    expected_prev, expected_seq = GENESIS, 1
    for event in rows:
        if event.seq != expected_seq:
            return Break(tenant_id, event.seq, event.id, f"expected event #{expected_seq}")
        if event.prev_hash != expected_prev:
            return Break(tenant_id, event.seq, event.id, "previous hash does not match")
        if _digest(event) != event.hash:
            return Break(tenant_id, event.seq, event.id, "content does not match its hash")
        expected_prev, expected_seq = event.hash, expected_seq + 1
    return None


async def verify(db: Database) -> Break | None:
    """Walk every organization's chain, each inside that organization's own scope (so it works
    under row-level security as the app role), and return the first break."""
    async with db.session(Scope.anonymous()) as session:
        tenant_ids = list(
            await session.scalars(select(Organization.id).order_by(Organization.slug))
        )
    for tenant_id in tenant_ids:
        async with db.session(Scope.system(tenant_id)) as session:
            found = await verify_chain(session, tenant_id)
        if found:
            return found
    return None
