"""Open data, public and without sign-in: OCDS releases of every joint procurement and the
見える化 figures per fiscal year.

Nobody is signed in here, so these endpoints read in the operator's scope without a person
(`public_session`) — the operator runs the procurements and may read everything published about
them — and only publish what is public: needs from the pool onwards (never a draft), tenders once
published, opening records once a round is opened and no round takes bids, awards and contract
lines. The code never reads a tender's secret prices or a bid: the ceiling and minimum come from
the opening record only. Nothing here writes.

The handlers skip the session (no cookie is read or set, so they also answer while the session
store is down) and CSRF (they only read).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Any

from litestar import Request, Router, get
from litestar.params import FromPath, QueryParameter
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kyodo.db import Database, Scope
from kyodo.errors import NotFound
from kyodo.models import Organization
from procurement import ocds, stats
from procurement.models import POOLED, Award, Commitment, ContractLine, Demand, Need, Result, Tender
from procurement.opening import fiscal_year

PAGE_SIZE = 100
FiscalYear = Annotated[int | None, QueryParameter(ge=2000, le=2100)]


async def operator_of(session: AsyncSession) -> Organization:
    return await session.scalar(
        select(Organization).where(Organization.kind == "operator").order_by(Organization.slug)
    )


@asynccontextmanager
async def public_session(db: Database) -> AsyncIterator[AsyncSession]:
    """A read transaction in the operator's scope, with no person acting."""
    async with db.session(Scope.anonymous()) as session:
        operator = await operator_of(session)
    async with db.session(Scope(tenant_id=operator.id, tenant_kind=operator.kind)) as session:
        yield session


async def load_process(session: AsyncSession, need_id: uuid.UUID) -> ocds.Process | None:
    """The published state of one procurement, or None if there is nothing public about it."""
    need = await session.scalar(select(Need).where(Need.id == need_id, Need.status.in_(POOLED)))
    if need is None:
        return None
    tender = await session.scalar(
        select(Tender).where(Tender.need_id == need.id, Tender.status != "draft")
    )
    if need.status == "published":
        buyer_ids = [need.tenant_id]  # who joins stays among the municipalities until closing
    else:
        joined = await session.scalars(
            select(Commitment.tenant_id).where(
                Commitment.need_id == need.id, Commitment.status == "active"
            )
        )
        buyer_ids = [need.tenant_id, *(t for t in joined if t != need.tenant_id)]
    results, awards, contracts = [], [], []
    if tender is not None:
        if tender.status != "published":  # no opening record while a (re)bid round is open
            results = list(
                await session.scalars(
                    select(Result).where(Result.tender_id == tender.id).order_by(Result.round)
                )
            )
        awards = list(
            await session.scalars(
                select(Award).where(Award.tender_id == tender.id).order_by(Award.awarded_at)
            )
        )
        contracts = list(
            await session.scalars(
                select(ContractLine)
                .where(ContractLine.tender_id == tender.id)
                .order_by(ContractLine.created_at, ContractLine.quantity.desc())
            )
        )
    named = {*buyer_ids, *(a.vendor_id for a in awards), *(c.tenant_id for c in contracts)}
    named |= set(ocds.tenderer_ids(results))
    orgs = {
        o.id: o
        for o in await session.scalars(select(Organization).where(Organization.id.in_(named)))
    }
    demand = await session.get(Demand, need.id)
    return ocds.Process(
        need=need,
        operator=await operator_of(session),
        buyers=[orgs[b] for b in buyer_ids],
        pooled_quantity=demand.total_quantity if demand else need.quantity,
        orgs=orgs,
        tender=tender,
        results=results,
        awards=awards,
        contracts=contracts,
    )


def _absolute(request: Request, path: str) -> str:
    return request.app.state.settings.base_url.rstrip("/") + path


@get("/ocds/{ocid:str}", name="open_data:ocds_release")
async def ocds_release(request: Request, ocid: FromPath[str]) -> dict[str, Any]:
    """A release package with the current release of one joint procurement."""
    need_id = ocds.need_id_of(ocid)
    if need_id is None:
        raise NotFound
    async with public_session(request.app.state.db) as session:
        process = await load_process(session, need_id)
        if process is None:
            raise NotFound
    release = ocds.release(process)
    return ocds.package(
        [release],
        uri=_absolute(request, f"/api/v1/open-data/ocds/{ocid}"),
        published=ocds.last_change(process),
        publisher=process.operator,
    )


@get("/ocds", name="open_data:ocds_list")
async def ocds_list(
    request: Request, page: Annotated[int, QueryParameter(ge=1, le=100_000)] = 1
) -> dict[str, Any]:
    """Every published procurement's ocid and link, newest first, a page at a time."""
    async with public_session(request.app.state.db) as session:
        pooled = Need.status.in_(POOLED)
        total = await session.scalar(select(func.count()).select_from(Need).where(pooled))
        rows = (
            await session.execute(
                select(Need.id, Need.title, Need.published_at)
                .where(pooled)
                .order_by(Need.published_at.desc(), Need.id)
                .offset((page - 1) * PAGE_SIZE)
                .limit(PAGE_SIZE)
            )
        ).all()
    here = "/api/v1/open-data/ocds"
    links = {}
    if page * PAGE_SIZE < total:
        links["next"] = _absolute(request, f"{here}?page={page + 1}")
    if page > 1:
        links["prev"] = _absolute(request, f"{here}?page={page - 1}")
    return {
        "count": total,
        "page": page,
        "links": links,
        "ocids": [
            {
                "ocid": ocds.ocid(need_id),
                "title": title,
                "published_date": ocds.timestamp(published),
                "url": _absolute(request, f"{here}/{ocds.ocid(need_id)}"),
            }
            for need_id, title, published in rows
        ],
    }


@get("/procurement-stats", name="open_data:procurement_stats")
async def procurement_stats(request: Request, fy: FiscalYear = None) -> dict[str, Any]:
    """Joint procurement across Tokyo in one fiscal year (April–March), from awarded contracts."""
    year = fy or fiscal_year(datetime.now(UTC))
    async with public_session(request.app.state.db) as session:
        totals = await stats.totals(session, year)
        rows = await stats.by_municipality(session, year)
    start, end = stats.fiscal_year_dates(year)
    return {
        "fiscal_year": year,
        "period": {"start": start.isoformat(), "end": end.isoformat()},
        "currency": ocds.CURRENCY,
        "totals": stats.as_dict(totals),
        "municipalities": [
            {
                "code": r.key,
                "name_ja": r.label_ja,
                "name_en": r.label_en,
                **stats.as_dict(r.figures),
            }
            for r in rows
        ],
    }


router = Router(
    path="/api/v1/open-data",
    route_handlers=[ocds_release, ocds_list, procurement_stats],
    opt={"skip_session": True, "exclude_from_csrf": True},
    tags=["open data"],
)
