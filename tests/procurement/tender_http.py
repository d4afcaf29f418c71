"""Shared by the tender HTTP tests: signed-in clients, tender terms as JSON, and tenders brought
to each state through the real services.

The API runs on the real clock, so everything here is timed from `utcnow()`: the need's join
deadline is a day ahead and its demand is closed by a call that travels past it, and a tender's
bid deadline lies ten days ahead; `open_at(tender)` is a moment just after it, for
`opening.open_due(db, now=...)`.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from litestar.testing import AsyncTestClient
from sqlalchemy import select

from kyodo.db import Database, Scope, utcnow
from kyodo.models import Organization, Person
from procurement import needs, opening, tenders
from procurement.actors import Actor
from procurement.models import Need
from tenants.services import ensure_membership, grant_role
from tests import support
from tests.procurement.conftest import need_input

DAY = timedelta(days=1)
OPERATOR = "admin@govtech.example"
OWNER = "buyer@131016.example"  # 千代田区: 100 at ¥150,000
JOINERS = (("132098", 50, 160_000), ("133621", 5, 200_000))  # 町田市, 利島村
VENDOR_A, VENDOR_B = "sales@vendor-a.example", "sales@vendor-b.example"
QUANTITY = 155


def api(org: str) -> str:
    return f"/api/v1/o/{org}/procurement"


def terms(at: datetime | None = None, **overrides: Any) -> dict[str, Any]:
    """A valid JSON body for POST .../needs/{id}/tender (and PUT .../tenders/{id})."""
    at = at or utcnow()
    body: dict[str, Any] = {
        "method": "open",
        "criteria": "lowest_price",
        "ceiling_unit_price": 140_000,
        "minimum_unit_price": 90_000,
        "band_thresholds": [1, 100],
        "question_deadline": (at + 8 * DAY).isoformat(),
        "bid_deadline": (at + 10 * DAY).isoformat(),
        "max_rounds": 3,
    }
    body.update(overrides)
    return body


def service_terms(body: dict[str, Any]) -> tenders.TenderTermsInput:
    weights = body.get("weights") or {"price": 100, "technical": 0}
    return tenders.TenderTermsInput(
        method=body["method"],
        criteria=body["criteria"],
        ceiling_unit_price=body["ceiling_unit_price"],
        minimum_unit_price=body.get("minimum_unit_price"),
        price_weight=weights["price"],
        technical_weight=weights["technical"],
        band_thresholds=body["band_thresholds"],
        question_deadline=datetime.fromisoformat(body["question_deadline"]),
        bid_deadline=datetime.fromisoformat(body["bid_deadline"]),
        max_rounds=body["max_rounds"],
        invited_vendors=body.get("invited_vendors", []),
    )


class Clients:
    """One signed-in client per person, made on first use."""

    def __init__(self, new_client: Callable[[], Awaitable[AsyncTestClient]]) -> None:
        self._new, self._clients = new_client, {}

    async def __call__(self, email: str) -> AsyncTestClient:
        if email not in self._clients:
            client = await self._new()
            await support.sign_in(client, email)
            self._clients[email] = client
        return self._clients[email]


async def member(db: Database, settings, email: str, slug: str, roles: tuple[str, ...]) -> None:
    """A person who can sign in, member of `slug` with just these roles (made once)."""
    async with db.session(Scope.anonymous()) as s:
        if await s.scalar(select(Person.id).where(Person.email == email)):
            return
        org = await s.scalar(select(Organization).where(Organization.slug == slug))
        person = Person(
            issuer=settings.oidc_issuer,
            subject=email,
            email=email,
            email_verified=True,
            display_name=email.split("@")[0],
        )
        s.add(person)
    async with db.session(Scope(tenant_id=org.id, tenant_kind=org.kind)) as s:
        membership = await ensure_membership(s, person.id)
        for role in roles:
            await grant_role(s, membership, role)
    support.set_provider_user(
        settings.oidc_issuer, email, email=email, email_verified=True, name=email
    )


@dataclass
class Built:
    need_id: uuid.UUID
    tender_id: uuid.UUID | None = None
    body: dict[str, Any] | None = None  # the tender terms

    @property
    def open_at(self) -> datetime:
        return datetime.fromisoformat(self.body["bid_deadline"]) + timedelta(minutes=1)


class Builder:
    """Joint procurements in a given state, through the services."""

    STATES = ("closed", "draft", "published", "opened", "awarded", "cancelled")

    def __init__(self, db: Database, actor: Callable[[str], Awaitable[Actor]], approval) -> None:
        self.db, self.actor, self._without_approval = db, actor, approval

    async def build(self, state: str, bids: dict | None = None, **body: Any) -> Built:
        built = await self.closed()
        if state == "closed":
            return built
        built = await self.tender(built, **body)
        if state == "draft":
            return built
        await self.publish(built)
        if state == "cancelled":
            await self.as_operator(
                lambda s, op: tenders.cancel(s, op, built.tender_id, "budget", utcnow())
            )
            return built
        if state == "published":
            return built
        default = {VENDOR_A: ([130_000, 120_000], 31_000), VENDOR_B: ([135_000, 125_000], 0)}
        for email, (prices, fee) in (default if bids is None else bids).items():
            await self.bid(built, email, prices, fee)
        await opening.open_due(self.db, built.open_at)
        if state == "awarded":
            await self.as_operator(lambda s, op: opening.award(s, op, built.tender_id, utcnow()))
        return built

    async def closed(self) -> Built:
        now = utcnow()
        deadline = now + DAY
        owner, approver = await self.actor(OWNER), await self.actor("approver@131016.example")
        async with self.db.session(owner.scope) as s:
            need = await needs.create_need(
                s, owner, need_input(join_deadline=deadline, estimated_unit_price=150_000), now
            )
            await needs.submit_need(s, owner, need.id, now)
        async with self.db.session(approver.scope) as s:
            await needs.approve_need(s, approver, need.id, now)
        await self._without_approval(*(code for code, _q, _p in JOINERS))
        for code, quantity, price in JOINERS:
            who = await self.actor(f"buyer@{code}.example")
            async with self.db.session(who.scope) as s:
                await needs.join(s, who, need.id, quantity, price, now)
        async with self.db.session(owner.scope) as s:
            row = await s.scalar(select(Need).where(Need.id == need.id))
            assert await needs.close_demand(s, row, deadline)
        return Built(need.id)

    async def tender(self, built: Built, **body: Any) -> Built:
        built.body = terms(**body)
        tender = await self.as_operator(
            lambda s, op: tenders.create_tender(
                s, op, built.need_id, service_terms(built.body), utcnow()
            )
        )
        built.tender_id = tender.id
        return built

    async def publish(self, built: Built) -> None:
        await self.as_operator(
            lambda s, op: tenders.publish_tender(s, op, built.tender_id, utcnow())
        )

    async def bid(self, built: Built, email: str, prices: list[int], fee: int = 0) -> None:
        vendor = await self.actor(email)
        async with self.db.session(vendor.scope) as s:
            data = tenders.BidInput(prices, fee, f"{email} の提案書")
            await tenders.submit_bid(s, vendor, built.tender_id, data, utcnow())

    async def as_operator(self, change):
        operator = await self.actor(OPERATOR)
        async with self.db.session(operator.scope) as s:
            return await change(s, operator)
