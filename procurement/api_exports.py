"""CSV downloads inside an organization: a tender's results and the organization's allocations."""

from __future__ import annotations

import uuid

from litestar import Request, Response, get
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath

from kyodo.auth.context import OrgContext, provide_org
from procurement import exports
from procurement.api_open_data import FiscalYear

ORG = {"ctx": Provide(provide_org)}
CSV = "text/csv; charset=utf-8"


def _download(body: bytes, filename: str) -> Response[bytes]:
    return Response(
        body,
        media_type=CSV,
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",  # contract figures of one organization: keep out of caches
        },
    )


@get(
    "/api/v1/o/{org:str}/procurement/tenders/{tender_id:uuid}/results.csv",
    dependencies=ORG,
    name="procurement:results_csv",
    tags=["procurement"],
)
async def results_csv(
    request: Request, ctx: NamedDependency[OrgContext], tender_id: FromPath[uuid.UUID]
) -> Response[bytes]:
    async with request.app.state.db.session(ctx.scope) as session:
        body = await exports.results(session, ctx.org, tender_id)
    return _download(body, f"results-{tender_id}.csv")


@get(
    "/api/v1/o/{org:str}/procurement/allocations.csv",
    dependencies=ORG,
    name="procurement:allocations_csv",
    tags=["procurement"],
)
async def allocations_csv(
    request: Request, ctx: NamedDependency[OrgContext], fy: FiscalYear = None
) -> Response[bytes]:
    async with request.app.state.db.session(ctx.scope) as session:
        body = await exports.allocations(session, fy)
    suffix = f"-fy{fy}" if fy else ""
    return _download(body, f"allocations-{ctx.org.slug}{suffix}.csv")


route_handlers = [results_csv, allocations_csv]
