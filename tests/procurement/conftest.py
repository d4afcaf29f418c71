"""Procurement fixtures: actors of the demo organizations, a clock, and ready-made needs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from kyodo.db import Database, Scope
from kyodo.models import Membership, Organization, Person, RoleGrant
from procurement.actors import Actor
from procurement.needs import NeedInput, approve_need, configure, create_need, submit_need

NOW = datetime(2026, 11, 22, 1, 0, tzinfo=UTC)


@pytest.fixture
def now() -> datetime:
    return NOW


@pytest.fixture
def actor(db: Database) -> Callable[[str], Awaitable[Actor]]:
    """The demo person with this e-mail, acting in their organization with their roles."""

    async def make(email: str) -> Actor:
        async with db.session(Scope.anonymous()) as s:
            person = await s.scalar(select(Person).where(Person.email == email))
        async with db.session(Scope(person_id=person.id)) as s:
            membership = await s.scalar(select(Membership).where(Membership.person_id == person.id))
            roles = set(
                await s.scalars(
                    select(RoleGrant.role).where(RoleGrant.membership_id == membership.id)
                )
            )
            org = await s.get(Organization, membership.tenant_id)
        return Actor(org=org, person_id=person.id, roles=frozenset(roles))

    return make


def need_input(**overrides) -> NeedInput:
    values = {
        "title": "業務用ノートPC",
        "category": "devices",
        "unit": "台",
        "quantity": 100,
        "estimated_unit_price": 150_000,
        "join_deadline": NOW + timedelta(days=14),
        "specification": "14インチ、メモリ16GB",
    }
    values.update(overrides)
    return NeedInput(**values)


@pytest.fixture
def published_need(db: Database, actor):
    """A need of 千代田区 drafted, approved and in the pool."""

    async def make(**overrides):
        buyer, approver = (
            await actor("buyer@131016.example"),
            await actor("approver@131016.example"),
        )
        async with db.session(buyer.scope) as s:
            need = await create_need(s, buyer, need_input(**overrides), NOW)
            await submit_need(s, buyer, need.id, NOW)
        async with db.session(approver.scope) as s:
            await approve_need(s, approver, need.id, NOW)
        return need.id

    return make


@pytest.fixture
def without_approval(db: Database, actor):
    """Switch the approval step off for these municipalities, as their admin would."""

    async def switch(*codes: str) -> None:
        for code in codes:
            admin = await actor(f"buyer@{code}.example")
            admin = Actor(org=admin.org, person_id=admin.person_id, roles=frozenset({"admin"}))
            async with db.session(admin.scope) as s:
                await configure(s, admin, approval_required=False)

    return switch
