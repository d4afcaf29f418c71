"""Sealed bids under concurrency, on PostgreSQL: many replacements of one vendor's bid at once
leave one row holding one of the submitted bids, and two vendors bidding at once both succeed."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from procurement.models import Bid
from tests.procurement.tender_http import VENDOR_A, VENDOR_B, Builder, Clients, api

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.parametrize("database_url", ["postgres"], indirect=True),
]


@pytest.fixture
def clients(new_client) -> Clients:
    return Clients(new_client)


@pytest.fixture
def builder(db, actor, without_approval) -> Builder:
    return Builder(db, actor, without_approval)


async def bids_of(db, actor, email: str, tender_id) -> list[Bid]:
    vendor = await actor(email)
    async with db.session(vendor.scope) as s:
        return list(await s.scalars(select(Bid).where(Bid.tender_id == tender_id)))


async def test_twenty_concurrent_replacements_leave_one_bid(db, actor, builder, clients):
    built = await builder.build("published")
    vendor = await clients(VENDOR_A)
    url = f"{api('vendor-a')}/tenders/{built.tender_id}/bid"
    submitted = [[120_000 + i, 110_000 + i] for i in range(20)]
    responses = await asyncio.gather(*(vendor.put(url, json={"band_prices": p}) for p in submitted))
    assert [r.status_code for r in responses] == [200] * 20, [r.text for r in responses]

    [bid] = await bids_of(db, actor, VENDOR_A, built.tender_id)
    assert bid.band_prices in submitted
    assert bid.replaced_count == 19
    own = (await vendor.get(url)).json()
    assert (own["band_prices"], own["replaced_count"]) == (bid.band_prices, 19)


async def test_two_vendors_bidding_at_once_both_succeed(db, actor, builder, clients):
    built = await builder.build("published")
    a, b = await clients(VENDOR_A), await clients(VENDOR_B)
    bids = {VENDOR_A: [131_000, 121_000], VENDOR_B: [132_000, 122_000]}
    responses = await asyncio.gather(
        *(
            client.put(f"{api(slug)}/tenders/{built.tender_id}/bid", json={"band_prices": p})
            for client, slug, p in (
                (a, "vendor-a", bids[VENDOR_A]),
                (b, "vendor-b", bids[VENDOR_B]),
                (a, "vendor-a", bids[VENDOR_A]),
                (b, "vendor-b", bids[VENDOR_B]),
            )
        )
    )
    assert [r.status_code for r in responses] == [200] * 4, [r.text for r in responses]
    for email, prices in bids.items():
        [mine] = await bids_of(db, actor, email, built.tender_id)  # each sees only its own
        assert (mine.band_prices, mine.replaced_count) == (prices, 1)
