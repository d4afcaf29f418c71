"""Benchmark (not a test): the pool and the allocation at Tokyo scale, against a bare endpoint.

Loads the 62 municipalities (the tenants seed), 10,000 needs and 100,000 commitments into a
fresh PostgreSQL database, then reports the median and p95 server time of

- the pool, as JSON (GET /api/v1/o/131016/procurement/pool) and as the HTML page, signed in as
  千代田区's buyer through the real OIDC flow, the app connected as the RLS-bound app role;
- the allocation, as the operator, for needs every municipality joined: the allocation API
  (62 contract lines), `allocation.contract_lines` for those 62 participants (a plain call),
  and the award API, which writes and audits a contract line in every participant's
  organization (once per tender, 20 tenders);

each as a ratio to a bare Litestar app returning the same body from memory, measured in the
same run by the same method: in-process (litestar's AsyncTestClient), server time taken by an
ASGI wrapper from a request's arrival until its response is sent, requests to the app and to
the bare endpoint interleaved. The app runs as in production, with Redis for sessions and no
in-process jobs (nothing runs in the background while we measure).

Bulk data goes in with COPY as the database owner; everything measured goes through the app.
Run from the repository root: `make benchmark` (see benchmarks/README.md).
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import asyncpg
from litestar import Litestar, MediaType, get
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from kyodo.app import create_app
from kyodo.db import Database
from procurement import opening, tenders
from procurement.allocation import Participant, contract_lines
from procurement.categories import CATEGORIES
from procurement.models import Commitment
from procurement.seed import OPERATOR, VENDOR_A, VENDOR_B, demo_actors
from tenants.seed import seed_demo as seed_tenants
from tests import support

NEEDS = 10_000
COMMITMENTS = 100_000
AWARDED = 20  # needs that all 62 municipalities joined, each tendered and awarded once
REQUESTS = 300  # per HTTP endpoint, after WARMUP
WARMUP = 30
CALLS = 2_000  # of contract_lines
BUYER, ORG = "buyer@131016.example", "131016"
POOL_API = f"/api/v1/o/{ORG}/procurement/pool"
POOL_PAGE = f"/o/{ORG}/procurement/pool"
OPERATOR_API = "/api/v1/o/govtech/procurement"
DAY, HOUR = timedelta(days=1), timedelta(hours=1)
# Shares of the 10,000 needs by status; pooled ones (published on) have commitments.
STATUSES = {
    "draft": 6,
    "pending_approval": 2,
    "returned": 2,
    "published": 20,
    "closed": 5,
    "tendering": 5,
    "awarded": 52,
    "unsuccessful": 5,
    "cancelled": 3,
}
UNPOOLED = ("draft", "pending_approval", "returned")


# --- loading ---------------------------------------------------------------------------------


class NeedRow(NamedTuple):  # the columns COPY fills, in this order
    tenant_id: uuid.UUID
    id: uuid.UUID
    title: str
    category: str
    specification: str
    unit: str
    quantity: int
    estimated_unit_price: int
    join_deadline: datetime
    created_by: uuid.UUID
    decision_comment: str
    created_at: datetime
    published_at: datetime | None
    closed_at: datetime | None
    status: str


class CommitmentRow(NamedTuple):
    tenant_id: uuid.UUID
    id: uuid.UUID
    need_tenant_id: uuid.UUID
    need_id: uuid.UUID
    quantity: int
    estimated_unit_price: int
    status: str
    counted: bool
    created_by: uuid.UUID
    decision_comment: str
    updated_at: datetime


class PersonRow(NamedTuple):
    id: uuid.UUID
    issuer: str
    subject: str
    email: str
    email_verified: bool
    display_name: str
    locale: str
    created_at: datetime


async def load(owner_url: str, now: datetime) -> tuple[list[uuid.UUID], str]:
    """COPY the needs, commitments and demand counters; returns the needs to award and the
    server's version."""
    rng = random.Random(3)
    conn = await asyncpg.connect(owner_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        orgs = [
            r["id"]
            for r in await conn.fetch(
                "SELECT id FROM organizations WHERE kind = 'municipality' ORDER BY slug"
            )
        ]
        assert len(orgs) == 62, f"expected Tokyo's 62 municipalities, found {len(orgs)}"
        # One buyer per municipality drafts and joins.
        people = [
            PersonRow(pid, "benchmark", str(pid), f"{pid}@bench.example", True, "-", "ja", now)
            for pid in (uuid.uuid4() for _ in orgs)
        ]
        buyers = {org: person.id for org, person in zip(orgs, people, strict=True)}
        needs = [
            _need(rng, i, orgs[i % len(orgs)], buyers[orgs[i % len(orgs)]], now)
            for i in range(NEEDS)
        ]
        to_award = [n for n in needs if n.status == "closed"][:AWARDED]
        joiners = _joiners(rng, needs, to_award, orgs)
        commitments = [
            _commitment(rng, need, org, buyers[org], now)
            for need in needs
            for org in joiners.get(need.id, ())
        ]
        assert len(commitments) == COMMITMENTS
        demand: dict[uuid.UUID, list] = {}
        for c in commitments:
            counter = demand.setdefault(c.need_id, [c.need_id, c.need_tenant_id, 0, 0])
            counter[2] += c.quantity
            counter[3] += 1
        for table, rows in (
            ("people", people),
            ("procurement_needs", needs),
            ("procurement_commitments", commitments),
        ):
            await conn.copy_records_to_table(table, columns=rows[0]._fields, records=rows)
        await conn.copy_records_to_table(
            "procurement_demand",
            columns=("need_id", "need_tenant_id", "total_quantity", "participants"),
            records=[tuple(counter) for counter in demand.values()],
        )
        await conn.execute("ANALYZE")  # as a live database would have its statistics
        version = await conn.fetchval("SHOW server_version")
    finally:
        await conn.close()
    return [n.id for n in to_award], version


def _need(rng: random.Random, i: int, org: uuid.UUID, buyer: uuid.UUID, now: datetime) -> NeedRow:
    status = rng.choices(list(STATUSES), weights=list(STATUSES.values()))[0]
    still_open = status in ("published", *UNPOOLED)
    if still_open:
        deadline = now + rng.randint(1, 24 * 60) * HOUR
    else:
        deadline = now - rng.randint(1, 24 * 900) * HOUR
    created = min(deadline, now) - 30 * DAY
    category = rng.choice(list(CATEGORIES))
    return NeedRow(
        tenant_id=org,
        id=uuid.uuid4(),
        title=f"{CATEGORIES[category][0]} 共同調達 {i:05d}",
        category=category,
        specification="ベンチマーク用の仕様。",
        unit="台",
        quantity=rng.randint(1, 500),
        estimated_unit_price=rng.randint(1_000, 300_000),
        join_deadline=deadline,
        created_by=buyer,
        decision_comment="",
        created_at=created,
        published_at=None if status in UNPOOLED else created + DAY,
        closed_at=None if still_open else deadline,
        status=status,
    )


def _commitment(
    rng: random.Random, need: NeedRow, org: uuid.UUID, buyer: uuid.UUID, now: datetime
) -> CommitmentRow:
    owner = org == need.tenant_id
    return CommitmentRow(
        tenant_id=org,
        id=uuid.uuid4(),
        need_tenant_id=need.tenant_id,
        need_id=need.id,
        quantity=need.quantity if owner else rng.randint(1, 500),
        estimated_unit_price=need.estimated_unit_price if owner else rng.randint(1_000, 300_000),
        status="active",
        counted=True,
        created_by=buyer,
        decision_comment="",
        updated_at=now,
    )


def _joiners(
    rng: random.Random, needs: list[NeedRow], to_award: list[NeedRow], orgs: list[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """Who committed to each pooled need: its owner, then others, COMMITMENTS in all; every
    municipality for the needs to award."""
    pooled = [n for n in needs if n.status not in UNPOOLED]
    counts = {n.id: 1 for n in pooled}
    counts.update((n.id, len(orgs)) for n in to_award)
    open_to_more = [n.id for n in pooled if counts[n.id] < len(orgs)]
    left = COMMITMENTS - sum(counts.values())
    while left:
        need_id = rng.choice(open_to_more)
        if counts[need_id] < len(orgs):
            counts[need_id] += 1
            left -= 1
    return {
        n.id: [n.tenant_id, *rng.sample([o for o in orgs if o != n.tenant_id], counts[n.id] - 1)]
        for n in pooled
    }


async def tender_and_open(
    db: Database, need_ids: list[uuid.UUID], now: datetime
) -> list[uuid.UUID]:
    """Through the services: a tender for each need, bids of both vendors, opened."""
    people = await demo_actors(db)
    operator = people[OPERATOR]
    terms = tenders.TenderTermsInput(
        method="open",
        criteria="lowest_price",
        bid_deadline=now + HOUR,
        ceiling_unit_price=200_000,
        minimum_unit_price=50_000,
        band_thresholds=[1, 1_000],
    )
    tender_ids = []
    for need_id in need_ids:
        async with db.session(operator.scope) as s:
            tender = await tenders.create_tender(s, operator, need_id, terms, now)
            await tenders.publish_tender(s, operator, tender.id, now)
            tender_ids.append(tender.id)
        for email, prices, fee in (
            (VENDOR_A, [150_000, 139_700], 1_234_567),
            (VENDOR_B, [160_000, 149_500], 0),
        ):
            vendor = people[email]
            async with db.session(vendor.scope) as s:
                bid = tenders.BidInput(prices, fee)
                await tenders.submit_bid(s, vendor, tender.id, bid, now)
    assert await opening.open_due(db, now + 2 * HOUR) == len(tender_ids)
    return tender_ids


# --- measuring -------------------------------------------------------------------------------


class ServerTimer:
    """ASGI wrapper: how long the app took over the last request, from its arrival until the
    response was sent (requests here are sequential)."""

    def __init__(self, app: Litestar) -> None:
        self.app = app
        self.last = 0.0

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        start = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            self.last = time.perf_counter() - start


@dataclass
class Endpoint:
    label: str
    client: AsyncTestClient
    timer: ServerTimer
    path: str
    method: str = "GET"
    samples: list[float] = field(default_factory=list)

    async def hit(self) -> Any:
        body = {} if self.method == "POST" else None  # API writes are JSON
        response = await self.client.request(self.method, self.path, json=body)
        assert response.status_code == 200, (self.path, response.status_code, response.text[:300])
        self.samples.append(self.timer.last)
        return response


async def interleaved(*endpoints: Endpoint) -> None:
    """REQUESTS rounds of one request to each, after WARMUP rounds that are not kept."""
    for round_ in range(WARMUP + REQUESTS):
        for endpoint in endpoints:
            if round_ == WARMUP:
                endpoint.samples.clear()
            await endpoint.hit()


def bare_app(bodies: dict[str, Any]) -> Litestar:
    """Nothing but routing and serialization: each path answers its body from memory."""

    def handler(path: str, body: Any):
        async def respond() -> Any:
            return body

        media_type = MediaType.HTML if isinstance(body, str) else MediaType.JSON
        return get(path, name=path, media_type=media_type)(respond)

    return Litestar([handler(path, body) for path, body in bodies.items()])


def timed(fn: Callable[[], Any], times: int) -> list[float]:
    samples = []
    for _ in range(times):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


async def participants_of(db: Database, need_id: uuid.UUID) -> list[Participant]:
    """A need's participants, as the award reads them."""
    operator = (await demo_actors(db))[OPERATOR]
    async with db.session(operator.scope) as s:
        found = await s.scalars(
            select(Commitment).where(Commitment.need_id == need_id, Commitment.status == "active")
        )
        return [Participant(c.tenant_id, c.quantity, c.estimated_unit_price) for c in found]


async def signed_in(client: AsyncTestClient, email: str) -> None:
    """Sign the client in as `email`, after signing out whoever was signed in."""
    if client.cookies:
        await sign_out(client)
    await support.sign_in(client, email)


async def sign_out(client: AsyncTestClient) -> None:
    """Which also drops the session from Redis."""
    await client.get("/")  # a page, for the CSRF cookie
    await client.post("/auth/logout", headers={"x-csrftoken": support.csrf_token(client)})


# --- report ----------------------------------------------------------------------------------


def ms(samples: list[float]) -> tuple[float, float]:
    """(median, p95) in milliseconds."""
    return statistics.median(samples) * 1e3, statistics.quantiles(samples, n=100)[94] * 1e3


def report(header: str, rows: list[tuple[str, list[float], list[float] | None]]) -> str:
    """One line per measurement; a ratio to its bare counterpart where it has one."""
    lines = [
        header,
        "",
        f"{'server time, ms':62} {'n':>5} {'median':>8} {'p95':>8} {'×bare':>7} {'×bare':>7}",
        f"{'':62} {'':>5} {'':>8} {'':>8} {'median':>7} {'p95':>7}",
    ]
    for label, samples, bare in rows:
        median, p95 = ms(samples)
        ratios = ["", ""]
        if bare is not None:
            bare_median, bare_p95 = ms(bare)
            ratios = [f"{median / bare_median:.1f}", f"{p95 / bare_p95:.1f}"]
        line = f"{label:62} {len(samples):>5} {median:>8.3f} {p95:>8.3f}"
        lines.append(f"{line} {ratios[0]:>7} {ratios[1]:>7}".rstrip())
    return "\n".join(lines)


# --- the run ---------------------------------------------------------------------------------


async def bench(owner_url: str, app_url: str, issuer: str, var_dir: Path) -> str:
    started = time.perf_counter()
    settings = support.make_settings(app_url, issuer, redis_url=support.REDIS_URL, var_dir=var_dir)
    now = datetime.now(UTC)
    db = Database(app_url)
    try:
        await seed_tenants(db, settings)
        to_award, version = await load(owner_url, now)
        tender_ids = await tender_and_open(db, to_award, now)
        participants = await participants_of(db, to_award[0])
    finally:
        await db.dispose()
    loaded = time.perf_counter() - started

    app = ServerTimer(create_app(settings))
    async with AsyncTestClient(app=app, base_url=settings.base_url) as client:
        await signed_in(client, BUYER)
        pool_api = Endpoint(f"GET {POOL_API}", client, app, POOL_API)
        pool_page = Endpoint(f"GET {POOL_PAGE} (HTML)", client, app, POOL_PAGE)
        bodies = {"/pool": (await pool_api.hit()).json(), "/page": (await pool_page.hit()).text}
        assert len(bodies["/pool"]) == 50, bodies["/pool"]

        await signed_in(client, OPERATOR)
        awards = [
            Endpoint("award", client, app, f"{OPERATOR_API}/tenders/{t}/award", "POST")
            for t in tender_ids
        ]
        responses = [await award.hit() for award in awards]
        bodies["/award"] = responses[0].json()
        allocation = Endpoint(
            f"GET {OPERATOR_API}/needs/{{id}}/allocation",
            client,
            app,
            f"{OPERATOR_API}/needs/{to_award[0]}/allocation",
        )
        bodies["/allocation"] = (await allocation.hit()).json()
        assert len(bodies["/allocation"]["lines"]) == len(participants), bodies["/allocation"]

        bare = ServerTimer(bare_app(bodies))
        async with AsyncTestClient(app=bare) as bare_client:
            bare_pool, bare_page, bare_allocation, bare_award = (
                Endpoint(path, bare_client, bare, path)
                for path in ("/pool", "/page", "/allocation", "/award")
            )
            await signed_in(client, BUYER)
            await interleaved(pool_api, bare_pool, pool_page, bare_page)
            await signed_in(client, OPERATOR)
            await interleaved(allocation, bare_allocation, bare_award)
        await sign_out(client)
    compute = timed(lambda: contract_lines(participants, 139_700, 1_234_567), CALLS)

    lines = len(participants)
    header = (
        f"Kyodo procurement benchmark: PostgreSQL {version}, 62 municipalities, "
        f"{NEEDS:,} needs, {COMMITMENTS:,} commitments (loaded in {loaded:.0f} s);\n"
        f"{REQUESTS} interleaved requests per endpoint, {len(awards)} awards of {lines} lines; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    return report(
        header,
        [
            (f"bare: the pool JSON ({len(bodies['/pool'])} needs)", bare_pool.samples, None),
            (pool_api.label, pool_api.samples, bare_pool.samples),
            (
                f"bare: the pool page ({len(bodies['/page']) // 1024} KiB of HTML)",
                bare_page.samples,
                None,
            ),
            (pool_page.label, pool_page.samples, bare_page.samples),
            (f"bare: the allocation JSON ({lines} lines)", bare_allocation.samples, None),
            (allocation.label, allocation.samples, bare_allocation.samples),
            (f"allocation.contract_lines, {lines} participants", compute, bare_allocation.samples),
            ("bare: the award JSON", bare_award.samples, None),
            (
                f"POST {OPERATOR_API}/tenders/{{id}}/award",
                [s for a in awards for s in a.samples],
                bare_award.samples,
            ),
        ],
    )


def main() -> None:
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request otherwise
    name, owner_url, app_url = support.create_pg_database()
    try:
        with support.oidc_provider() as issuer, tempfile.TemporaryDirectory() as var_dir:
            print(asyncio.run(bench(owner_url, app_url, issuer, Path(var_dir))))
    finally:
        support.drop_pg_database(name)


if __name__ == "__main__":
    main()
