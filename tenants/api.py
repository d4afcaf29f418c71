"""JSON API for members, invitations, roles and (for the operator) organizations.

Under /api/v1/o/{org}/: organization admins only (403 for other members, 404 for non-members).
Domain errors become 400 {"detail", "errors": [{"field", "message"}]}, 404 or 409 through the
kernel's handlers (kyodo.web.errors).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec
from litestar import Controller, Request, delete, get, post, put
from litestar.di import NamedDependency, Provide

from kyodo.auth.context import OrgContext, provide_org
from kyodo.models import Invitation, Organization
from tenants import services
from tenants.access import require_admin, require_operator_admin
from tenants.services import Member

Email = Annotated[str, msgspec.Meta(max_length=services.EMAIL_MAX)]
RoleName = Annotated[str, msgspec.Meta(max_length=40)]
Name = Annotated[str, msgspec.Meta(max_length=services.NAME_MAX)]


class MemberOut(msgspec.Struct):
    id: str
    person_id: str
    display_name: str
    email: str | None
    roles: list[str]
    joined_at: datetime

    @classmethod
    def of(cls, m: Member) -> MemberOut:
        return cls(str(m.id), str(m.person_id), m.display_name, m.email, list(m.roles), m.joined_at)


class InvitationOut(msgspec.Struct):
    id: str
    email: str
    roles: list[str]
    invited_at: datetime

    @classmethod
    def of(cls, i: Invitation) -> InvitationOut:
        return cls(str(i.id), i.email, i.roles.split(), i.created_at)


class InvitationIn(msgspec.Struct, forbid_unknown_fields=True):
    email: Email
    roles: Annotated[list[RoleName], msgspec.Meta(max_length=10)]


class RoleIn(msgspec.Struct, forbid_unknown_fields=True):
    role: RoleName


class OrganizationIn(msgspec.Struct, forbid_unknown_fields=True):
    slug: Annotated[str, msgspec.Meta(max_length=40)]
    kind: Literal["municipality", "prefecture", "vendor"]
    name_ja: Name
    name_en: Name
    admin_email: Email


class OrganizationOut(msgspec.Struct):
    id: str
    slug: str
    kind: str
    name_ja: str
    name_en: str
    created_at: datetime

    @classmethod
    def of(cls, o: Organization) -> OrganizationOut:
        return cls(str(o.id), o.slug, o.kind, o.name_ja, o.name_en, o.created_at)


class CreatedOrganizationOut(msgspec.Struct):
    organization: OrganizationOut
    invitation: InvitationOut


class AdminApi(Controller):
    path = "/api/v1/o/{org:str}"
    tags = ["members"]  # noqa: RUF012 - Litestar reads these class attributes
    dependencies = {"ctx": Provide(provide_org)}  # noqa: RUF012

    @get("/members", name="api:members")
    async def members(self, request: Request, ctx: NamedDependency[OrgContext]) -> list[MemberOut]:
        require_admin(ctx)
        async with request.app.state.db.session(ctx.scope) as session:
            return [MemberOut.of(m) for m in await services.list_members(session)]

    @put("/members/{member_id:uuid}/roles", name="api:members:grant")
    async def grant(
        self, request: Request, ctx: NamedDependency[OrgContext], member_id: uuid.UUID, data: RoleIn
    ) -> MemberOut:
        require_admin(ctx)
        async with request.app.state.db.session(ctx.scope) as session:
            return MemberOut.of(await services.grant(session, ctx.org, member_id, data.role))

    @delete(
        "/members/{member_id:uuid}/roles/{role:str}", name="api:members:revoke", status_code=200
    )
    async def revoke(
        self, request: Request, ctx: NamedDependency[OrgContext], member_id: uuid.UUID, role: str
    ) -> MemberOut:
        require_admin(ctx)
        async with request.app.state.db.session(ctx.scope) as session:
            return MemberOut.of(await services.revoke(session, member_id, role))

    @get("/invitations", name="api:invitations")
    async def invitations(
        self, request: Request, ctx: NamedDependency[OrgContext]
    ) -> list[InvitationOut]:
        require_admin(ctx)
        async with request.app.state.db.session(ctx.scope) as session:
            return [InvitationOut.of(i) for i in await services.list_open_invitations(session)]

    @post("/invitations", name="api:invitations:create")
    async def invite(
        self, request: Request, ctx: NamedDependency[OrgContext], data: InvitationIn
    ) -> InvitationOut:
        require_admin(ctx)
        async with request.app.state.db.session(ctx.scope) as session:
            return InvitationOut.of(await services.invite(session, ctx.org, data.email, data.roles))

    @delete("/invitations/{invitation_id:uuid}", name="api:invitations:revoke")
    async def revoke_invitation(
        self, request: Request, ctx: NamedDependency[OrgContext], invitation_id: uuid.UUID
    ) -> None:
        require_admin(ctx)
        async with request.app.state.db.session(ctx.scope) as session:
            await services.revoke_invitation(session, invitation_id)

    @get("/organizations", name="api:organizations")
    async def organizations(
        self, request: Request, ctx: NamedDependency[OrgContext]
    ) -> list[OrganizationOut]:
        require_operator_admin(ctx)
        async with request.app.state.db.session(ctx.scope) as session:
            return [OrganizationOut.of(o) for o in await services.list_organizations(session)]

    @post("/organizations", name="api:organizations:create")
    async def create_organization(
        self, request: Request, ctx: NamedDependency[OrgContext], data: OrganizationIn
    ) -> CreatedOrganizationOut:
        require_operator_admin(ctx)
        org, invitation = await services.create_organization(
            request.app.state.db,
            ctx.scope,
            slug=data.slug,
            kind=data.kind,
            name_ja=data.name_ja,
            name_en=data.name_en,
            admin_email=data.admin_email,
        )
        return CreatedOrganizationOut(OrganizationOut.of(org), InvitationOut.of(invitation))
