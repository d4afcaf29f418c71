"""The procurement demo data: every state, one awarded five-municipality procurement, and a
second seeding that changes nothing. Each backend gets a fresh database (the shared test
database must not see demo tenders: the tick would open them)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from kyodo.db import Base, Database, Scope
from kyodo.manifest import load_manifests
from kyodo.models import Organization
from kyodo.settings import Settings
from procurement import opening
from procurement.models import Bid, Demand, Need, Result, Tender
from tests import support

NEED_STATES = {
    "draft",
    "pending_approval",
    "returned",
    "published",
    "closed",
    "tendering",
    "awarded",
    "unsuccessful",
    "cancelled",
}
TENDER_STATES = {"published", "opened", "awarded", "unsuccessful", "cancelled"}
OWNERS = ("131016", "132098", "133621", "131130", "132012")


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def urls(request, tmp_path_factory) -> Iterator[tuple[str, str]]:
    """(app URL, owner URL) of a fresh migrated database; the owner counts rows past RLS."""
    if request.param == "sqlite":
        url = support.create_sqlite_database(tmp_path_factory.mktemp("seed"))
        yield url, url
        return
    name, owner_url, app_url = support.create_pg_database()
    yield app_url, owner_url
    support.drop_pg_database(name)


@pytest.fixture(scope="module")
async def seeded_demo(urls, tmp_path_factory) -> AsyncIterator[tuple[Database, Settings]]:
    settings = support.make_settings(
        urls[0], "http://issuer.test", var_dir=tmp_path_factory.mktemp("var")
    )
    db = Database(settings.database_url)
    await seed_all(db, settings)
    yield db, settings
    await db.dispose()


async def seed_all(db: Database, settings: Settings) -> None:
    """What `kyodo seed` does: every module's seed, in the kernel's order."""
    for manifest in load_manifests():
        if manifest.seed:
            await manifest.seed(db, settings)


async def org_scope(db: Database, slug: str) -> Scope:
    async with db.session(Scope.anonymous()) as s:
        org = await s.scalar(select(Organization).where(Organization.slug == slug))
    return Scope(tenant_id=org.id, tenant_kind=org.kind)


async def own_needs(db: Database) -> dict[str, Need]:
    """Every demo need by title, each read in its owner's organization (drafts included)."""
    found = {}
    for slug in OWNERS:
        scope = await org_scope(db, slug)
        async with db.session(scope) as s:
            for need in await s.scalars(select(Need).where(Need.tenant_id == scope.tenant_id)):
                found[need.title] = need
    return found


async def test_needs_and_tenders_exist_in_every_state(seeded_demo):
    db, _settings = seeded_demo
    found = await own_needs(db)
    assert {n.status for n in found.values()} == NEED_STATES
    returned = [n for n in found.values() if n.status == "returned"]
    assert returned and all(n.decision_comment.strip() for n in returned)

    operator = await org_scope(db, "govtech")
    async with db.session(operator) as s:
        tenders = list(await s.scalars(select(Tender)))
        assert {t.status for t in tenders} == TENDER_STATES
        [opened] = [t for t in tenders if t.status == "opened"]
        result = await s.scalar(select(Result).where(Result.tender_id == opened.id))
        assert result.outcome == "all_over_ceiling" and opened.round < opened.max_rounds
        open_for_joins = await s.execute(
            select(Demand.participants)
            .join(Need, Need.id == Demand.need_id)
            .where(Need.status == "published")
        )
        assert max(p for (p,) in open_for_joins) >= 3
    [sealed] = [t for t in tenders if t.status == "published"]
    async with db.session(operator) as s:  # still sealed, even for the operator
        assert list(await s.scalars(select(Bid).where(Bid.tender_id == sealed.id))) == []
    for slug in ("vendor-a", "vendor-b"):
        vendor = await org_scope(db, slug)
        async with db.session(vendor) as s:
            bids = list(await s.scalars(select(Bid)))
        assert sealed.id in {b.tender_id for b in bids}
        assert {b.tenant_id for b in bids} == {vendor.tenant_id}


async def test_the_awarded_procurement_has_five_municipalities_with_exact_lines(seeded_demo):
    db, _settings = seeded_demo
    [awarded] = [n for n in (await own_needs(db)).values() if n.status == "awarded"]
    async with db.session(await org_scope(db, "govtech")) as s:
        lines = await opening.allocation(s, awarded.id)
        slugs = {
            o.slug
            for o in await s.scalars(
                select(Organization).where(Organization.id.in_([li.tenant_id for li in lines]))
            )
        }
    assert len(lines) >= 5 and {"131016", "132098", "133621"} <= slugs
    assert len({line.unit_price for line in lines}) == 1
    assert sum(line.fee_share for line in lines) > 0
    assert all(line.total == line.goods_amount + line.fee_share for line in lines)
    # each municipality sees its own line only
    async with db.session(await org_scope(db, "133621")) as s:
        [mine] = await opening.allocation(s, awarded.id)
        assert mine.quantity == 5 and mine.alone_unit_price is not None


async def test_seeding_again_changes_nothing(seeded_demo, urls):
    db, settings = seeded_demo
    before = await row_counts(urls[1])
    await seed_all(db, settings)
    assert await row_counts(urls[1]) == before
    assert before["procurement_needs"] == len(await own_needs(db))


async def row_counts(owner_url: str) -> dict[str, int]:
    """Rows of every table, counted as the owner (no RLS, no ORM scope)."""
    engine = create_async_engine(owner_url)
    try:
        async with engine.connect() as conn:
            return {
                table.name: await conn.scalar(select(func.count()).select_from(table))
                for table in Base.metadata.sorted_tables
            }
    finally:
        await engine.dispose()
