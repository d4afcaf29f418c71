"""JSON API of the municipal side: needs, approval, the pool and joining.

Under /api/v1/o/{org}/procurement/. Bodies are msgspec Structs with bounds, so a wrong type,
a missing field or an out-of-range number is a 400 with the field named, before any service
runs; times must carry their time zone. The services then answer 403 for a missing role, 404
for another organization's draft, and 409 for the wrong state or a passed deadline.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from kyodo.auth.context import OrgContext, provide_org
from kyodo.db import utcnow
from procurement import needs, notices, pool
from procurement.actors import Actor
from procurement.categories import CATEGORIES
from procurement.models import MAX_QUANTITY, MAX_YEN, Commitment, Need
from procurement.needs import NeedInput

Category = Literal[tuple(CATEGORIES)]  # type: ignore[valid-type]  # the keys, as an enum
Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Unit = Annotated[str, msgspec.Meta(min_length=1, max_length=20)]
Specification = Annotated[str, msgspec.Meta(max_length=20_000)]
Quantity = Annotated[int, msgspec.Meta(ge=1, le=MAX_QUANTITY)]
Yen = Annotated[int, msgspec.Meta(ge=1, le=MAX_YEN)]
Deadline = Annotated[datetime, msgspec.Meta(tz=True)]
Comment = Annotated[str, msgspec.Meta(max_length=2000)]


class NeedIn(msgspec.Struct, forbid_unknown_fields=True):
    title: Title
    category: Category
    unit: Unit
    quantity: Quantity
    estimated_unit_price: Yen
    join_deadline: Deadline
    specification: Specification = ""
    desired_delivery: date | None = None

    def to_input(self) -> NeedInput:
        return NeedInput(**msgspec.structs.asdict(self))


class NeedPatch(msgspec.Struct, forbid_unknown_fields=True):
    """Only the fields given change."""

    title: Title | msgspec.UnsetType = msgspec.UNSET
    category: Category | msgspec.UnsetType = msgspec.UNSET
    unit: Unit | msgspec.UnsetType = msgspec.UNSET
    quantity: Quantity | msgspec.UnsetType = msgspec.UNSET
    estimated_unit_price: Yen | msgspec.UnsetType = msgspec.UNSET
    join_deadline: Deadline | msgspec.UnsetType = msgspec.UNSET
    specification: Specification | msgspec.UnsetType = msgspec.UNSET
    desired_delivery: date | msgspec.UnsetType | None = msgspec.UNSET

    def over(self, need: Need) -> NeedInput:
        values = {name: getattr(need, name) for name in NeedInput.__dataclass_fields__}
        given = msgspec.structs.asdict(self).items()
        values.update({k: v for k, v in given if v is not msgspec.UNSET})
        return NeedInput(**values)


class DecisionIn(msgspec.Struct, forbid_unknown_fields=True):
    comment: Comment = ""


class ReturnIn(msgspec.Struct, forbid_unknown_fields=True):
    comment: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]


class CommitmentIn(msgspec.Struct, forbid_unknown_fields=True):
    quantity: Quantity
    estimated_unit_price: Yen


class SettingsIn(msgspec.Struct, forbid_unknown_fields=True):
    approval_required: bool
    min_lead_days: Annotated[int, msgspec.Meta(ge=0, le=365)] = 0


class SubscriptionsIn(msgspec.Struct, forbid_unknown_fields=True):
    categories: Annotated[list[Category], msgspec.Meta(max_length=len(CATEGORIES))]


class OrgOut(msgspec.Struct):
    slug: str
    name_ja: str
    name_en: str


class DemandOut(msgspec.Struct):
    total_quantity: int
    participants: int


class CommitmentOut(msgspec.Struct):
    quantity: int
    estimated_unit_price: int
    status: str
    decision_comment: str

    @classmethod
    def of(cls, c: Commitment | None) -> CommitmentOut | None:
        if c is None:
            return None
        return cls(c.quantity, c.estimated_unit_price, c.status, c.decision_comment)


class AttachmentOut(msgspec.Struct):
    id: str
    filename: str
    content_type: str
    size: int
    sha256: str
    url: str


class NeedOut(msgspec.Struct):
    id: str
    status: str
    title: str
    category: str
    specification: str
    unit: str
    join_deadline: datetime
    desired_delivery: date | None
    owner: OrgOut
    created_at: datetime
    published_at: datetime | None
    closed_at: datetime | None
    # The owner's own quantity, budget and approver's comment: for the owner only.
    quantity: int | None
    estimated_unit_price: int | None
    decision_comment: str | None
    demand: DemandOut | None
    my_commitment: CommitmentOut | None
    attachments: list[AttachmentOut]

    @classmethod
    def of(cls, view: pool.NeedView, org_slug: str) -> NeedOut:
        n, own = view.need, view.is_owner
        base = f"/o/{org_slug}/procurement/needs/{n.id}/attachments"
        return cls(
            id=str(n.id),
            status=n.status,
            title=n.title,
            category=n.category,
            specification=n.specification,
            unit=n.unit,
            join_deadline=n.join_deadline,
            desired_delivery=n.desired_delivery,
            owner=OrgOut(view.owner.slug, view.owner.name_ja, view.owner.name_en),
            created_at=n.created_at,
            published_at=n.published_at,
            closed_at=n.closed_at,
            quantity=n.quantity if own else None,
            estimated_unit_price=n.estimated_unit_price if own else None,
            decision_comment=n.decision_comment if own else None,
            demand=DemandOut(view.demand.total_quantity, view.demand.participants)
            if view.demand
            else None,
            my_commitment=CommitmentOut.of(view.mine),
            attachments=[
                AttachmentOut(
                    str(a.id), a.filename, a.content_type, a.size, a.sha256, f"{base}/{a.id}"
                )
                for a in view.attachments
            ],
        )


class NeedSummaryOut(msgspec.Struct):
    id: str
    status: str
    title: str
    category: str
    join_deadline: datetime
    decision_comment: str


class PoolEntryOut(msgspec.Struct):
    id: str
    title: str
    category: str
    unit: str
    owner: OrgOut
    join_deadline: datetime
    desired_delivery: date | None
    total_quantity: int
    participants: int
    my_commitment: CommitmentOut | None


class ParticipantOut(msgspec.Struct):
    organization: OrgOut
    quantity: int
    estimated_unit_price: int


class SettingsOut(msgspec.Struct):
    approval_required: bool
    min_lead_days: int


class SubscriptionsOut(msgspec.Struct):
    categories: list[str]


Page = Annotated[int, QueryParameter(ge=1, le=10_000)]
CategoryFilter = Annotated[Category | None, QueryParameter()]


async def _need_out(session: AsyncSession, actor: Actor, need_id: uuid.UUID) -> NeedOut:
    return NeedOut.of(await pool.need_view(session, actor, need_id), actor.org.slug)


class NeedsApi(Controller):
    path = "/api/v1/o/{org:str}/procurement"
    tags = ["procurement"]  # noqa: RUF012 - Litestar reads these class attributes
    dependencies = {"ctx": Provide(provide_org)}  # noqa: RUF012

    @get("/needs", name="api:procurement:needs")
    async def list_needs(
        self, request: Request, ctx: NamedDependency[OrgContext]
    ) -> list[NeedSummaryOut]:
        actor = Actor.of(ctx)
        async with request.app.state.db.session(ctx.scope) as session:
            return [
                NeedSummaryOut(
                    str(n.id), n.status, n.title, n.category, n.join_deadline, n.decision_comment
                )
                for n in await pool.own_needs(session, actor)
            ]

    @post("/needs", name="api:procurement:needs:create")
    async def create(
        self, request: Request, ctx: NamedDependency[OrgContext], data: NeedIn
    ) -> NeedOut:
        actor = Actor.of(ctx)
        async with request.app.state.db.session(ctx.scope) as session:
            need = await needs.create_need(session, actor, data.to_input(), utcnow())
            return await _need_out(session, actor, need.id)

    @get("/needs/{id:uuid}", name="api:procurement:need")
    async def read(
        self, request: Request, ctx: NamedDependency[OrgContext], id: FromPath[uuid.UUID]
    ) -> NeedOut:
        async with request.app.state.db.session(ctx.scope) as session:
            return await _need_out(session, Actor.of(ctx), id)

    @put("/needs/{id:uuid}", name="api:procurement:need:replace")
    async def replace(
        self,
        request: Request,
        ctx: NamedDependency[OrgContext],
        id: FromPath[uuid.UUID],
        data: NeedIn,
    ) -> NeedOut:
        actor = Actor.of(ctx)
        async with request.app.state.db.session(ctx.scope) as session:
            await needs.update_need(session, actor, id, data.to_input(), utcnow())
            return await _need_out(session, actor, id)

    @patch("/needs/{id:uuid}", name="api:procurement:need:edit")
    async def edit(
        self,
        request: Request,
        ctx: NamedDependency[OrgContext],
        id: FromPath[uuid.UUID],
        data: NeedPatch,
    ) -> NeedOut:
        actor = Actor.of(ctx)
        actor.require(needs.OFFICER, kinds=needs.PUBLIC_BODIES)
        async with request.app.state.db.session(ctx.scope) as session:
            current = await needs.own_need(session, actor, id)
            await needs.update_need(session, actor, id, data.over(current), utcnow())
            return await _need_out(session, actor, id)

    @post("/needs/{id:uuid}/submit", name="api:procurement:need:submit", status_code=200)
    async def submit(
        self, request: Request, ctx: NamedDependency[OrgContext], id: FromPath[uuid.UUID]
    ) -> NeedOut:
        actor = Actor.of(ctx)
        async with request.app.state.db.session(ctx.scope) as session:
            await needs.submit_need(session, actor, id, utcnow())
            return await _need_out(session, actor, id)

    @post("/needs/{id:uuid}/approve", name="api:procurement:need:approve", status_code=200)
    async def approve(
        self,
        request: Request,
        ctx: NamedDependency[OrgContext],
        id: FromPath[uuid.UUID],
        data: DecisionIn | None = None,
    ) -> NeedOut:
        actor = Actor.of(ctx)
        comment = data.comment if data else ""
        async with request.app.state.db.session(ctx.scope) as session:
            await needs.approve_need(session, actor, id, utcnow(), comment)
            return await _need_out(session, actor, id)

    @post("/needs/{id:uuid}/return", name="api:procurement:need:return", status_code=200)
    async def return_(
        self,
        request: Request,
        ctx: NamedDependency[OrgContext],
        id: FromPath[uuid.UUID],
        data: ReturnIn,
    ) -> NeedOut:
        actor = Actor.of(ctx)
        async with request.app.state.db.session(ctx.scope) as session:
            await needs.return_need(session, actor, id, data.comment)
            return await _need_out(session, actor, id)

    @get("/pool", name="api:procurement:pool")
    async def read_pool(
        self,
        request: Request,
        ctx: NamedDependency[OrgContext],
        category: CategoryFilter = None,
        page: Page = 1,
    ) -> list[PoolEntryOut]:
        actor = Actor.of(ctx)
        offset = (page - 1) * pool.PAGE_SIZE
        async with request.app.state.db.session(ctx.scope) as session:
            entries = await pool.open_pool(session, actor, utcnow(), category, offset=offset)
        return [
            PoolEntryOut(
                id=str(e.need.id),
                title=e.need.title,
                category=e.need.category,
                unit=e.need.unit,
                owner=OrgOut(e.owner.slug, e.owner.name_ja, e.owner.name_en),
                join_deadline=e.need.join_deadline,
                desired_delivery=e.need.desired_delivery,
                total_quantity=e.total_quantity,
                participants=e.participants,
                my_commitment=CommitmentOut.of(e.mine),
            )
            for e in entries
        ]

    @get("/pool.csv", name="api:procurement:pool:csv")
    async def export_pool(
        self, request: Request, ctx: NamedDependency[OrgContext], category: CategoryFilter = None
    ) -> Response[bytes]:
        actor = Actor.of(ctx)
        now = utcnow()
        async with request.app.state.db.session(ctx.scope) as session:
            entries = await pool.open_pool(session, actor, now, category, limit=None)
        return Response(
            pool.pool_csv(entries),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="pool-{now:%Y%m%d}.csv"',
                "X-Content-Type-Options": "nosniff",
            },
        )

    @put("/needs/{id:uuid}/commitment", name="api:procurement:commitment")
    async def join(
        self,
        request: Request,
        ctx: NamedDependency[OrgContext],
        id: FromPath[uuid.UUID],
        data: CommitmentIn,
    ) -> CommitmentOut:
        actor = Actor.of(ctx)
        async with request.app.state.db.session(ctx.scope) as session:
            mine = await needs.join(
                session, actor, id, data.quantity, data.estimated_unit_price, utcnow()
            )
            return CommitmentOut.of(mine)

    @delete("/needs/{id:uuid}/commitment", name="api:procurement:commitment:withdraw")
    async def withdraw(
        self, request: Request, ctx: NamedDependency[OrgContext], id: FromPath[uuid.UUID]
    ) -> None:
        async with request.app.state.db.session(ctx.scope) as session:
            await needs.withdraw(session, Actor.of(ctx), id, utcnow())

    @post(
        "/needs/{id:uuid}/commitment/approve",
        name="api:procurement:commitment:approve",
        status_code=200,
    )
    async def approve_commitment(
        self,
        request: Request,
        ctx: NamedDependency[OrgContext],
        id: FromPath[uuid.UUID],
        data: DecisionIn | None = None,
    ) -> CommitmentOut:
        comment = data.comment if data else ""
        async with request.app.state.db.session(ctx.scope) as session:
            mine = await needs.decide_commitment(
                session, Actor.of(ctx), id, True, utcnow(), comment
            )
            return CommitmentOut.of(mine)

    @post(
        "/needs/{id:uuid}/commitment/return",
        name="api:procurement:commitment:return",
        status_code=200,
    )
    async def return_commitment(
        self,
        request: Request,
        ctx: NamedDependency[OrgContext],
        id: FromPath[uuid.UUID],
        data: ReturnIn,
    ) -> CommitmentOut:
        async with request.app.state.db.session(ctx.scope) as session:
            mine = await needs.decide_commitment(
                session, Actor.of(ctx), id, False, utcnow(), data.comment
            )
            return CommitmentOut.of(mine)

    @get("/needs/{id:uuid}/participants", name="api:procurement:participants")
    async def participants(
        self, request: Request, ctx: NamedDependency[OrgContext], id: FromPath[uuid.UUID]
    ) -> list[ParticipantOut]:
        async with request.app.state.db.session(ctx.scope) as session:
            found = await pool.participants(session, Actor.of(ctx), id)
        return [
            ParticipantOut(
                OrgOut(p.org.slug, p.org.name_ja, p.org.name_en),
                p.commitment.quantity,
                p.commitment.estimated_unit_price,
            )
            for p in found
        ]

    @get("/settings", name="api:procurement:settings")
    async def read_settings(
        self, request: Request, ctx: NamedDependency[OrgContext]
    ) -> SettingsOut:
        pool.require_public_body(Actor.of(ctx))
        async with request.app.state.db.session(ctx.scope) as session:
            found = await needs.settings_of(session, ctx.org)
        return SettingsOut(found.approval_required, found.min_lead_days)

    @put("/settings", name="api:procurement:settings:update")
    async def update_settings(
        self, request: Request, ctx: NamedDependency[OrgContext], data: SettingsIn
    ) -> SettingsOut:
        async with request.app.state.db.session(ctx.scope) as session:
            found = await needs.configure(
                session, Actor.of(ctx), data.approval_required, data.min_lead_days
            )
        return SettingsOut(found.approval_required, found.min_lead_days)

    @get("/subscriptions", name="api:procurement:subscriptions")
    async def read_subscriptions(
        self, request: Request, ctx: NamedDependency[OrgContext]
    ) -> SubscriptionsOut:
        async with request.app.state.db.session(ctx.scope) as session:
            return SubscriptionsOut(sorted(await notices.subscriptions_of(session)))

    @put("/subscriptions", name="api:procurement:subscriptions:update")
    async def update_subscriptions(
        self, request: Request, ctx: NamedDependency[OrgContext], data: SubscriptionsIn
    ) -> SubscriptionsOut:
        async with request.app.state.db.session(ctx.scope) as session:
            found = await notices.subscribe(session, Actor.of(ctx), data.categories)
        return SubscriptionsOut(sorted(found))
