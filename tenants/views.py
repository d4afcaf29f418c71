"""Pages: members and roles (/o/{org}/members) and, for the operator, organizations.

Every form works without script (POST, then a redirect back to the page); with htmx the same
POST answers with the re-rendered panel, and field errors come back 400 (409 for a conflict)
with the messages next to their fields.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_400_BAD_REQUEST, HTTP_409_CONFLICT
from sqlalchemy.ext.asyncio import AsyncSession

from kyodo.auth.context import OrgContext, provide_org
from kyodo.errors import Conflict, InvalidInput
from kyodo.roles import grantable
from kyodo.web.i18n import _, current_locale
from kyodo.web.pages import nav_for, page
from tenants import services
from tenants.access import require_admin, require_operator_admin

FLASH = "tenants_flash"  # the confirmation shown once after a redirect (pages without script)


def _is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def _text(form: Any, key: str) -> str:
    value = form.get(key, "")
    return value if isinstance(value, str) else ""  # an upload where text belongs: treat as empty


def _texts(form: Any, key: str) -> list[str]:
    return [v for v in form.getall(key, []) if isinstance(v, str)]


async def _members_context(session: AsyncSession, ctx: OrgContext) -> dict[str, Any]:
    return {
        "members": await services.list_members(session),
        "invitations": await services.list_open_invitations(session),
        "roles": grantable(ctx.org.kind),
        "form": {"email": "", "roles": []},
    }


async def _organizations_context(session: AsyncSession, ctx: OrgContext) -> dict[str, Any]:
    return {
        "organizations": await services.list_organizations(session),
        "kinds": services.CREATABLE_KINDS,
        "form": {"kind": "municipality"},
    }


@dataclass(frozen=True)
class Panel:
    """One admin page: /o/{org}/{name}, drawn by tenants/{name}.html around the part that
    htmx replaces, tenants/_{name}_panel.html."""

    name: str
    load: Callable[[AsyncSession, OrgContext], Awaitable[dict[str, Any]]]

    async def render(
        self,
        request: Request,
        ctx: OrgContext,
        status: int = 200,
        *,
        form: dict[str, Any] | None = None,
        **extra: Any,
    ) -> Template:
        async with request.app.state.db.session(ctx.scope) as session:
            context = await self.load(session, ctx)
        context.update(
            {"ctx": ctx, "errors": {}, "message": "", "problem": "", "focus": "", **extra}
        )
        context["form"] = {**context["form"], **(form or {})}
        if _is_htmx(request):
            context["partial"] = True  # also refresh the page's live region (out of band)
            return Template(f"tenants/_{self.name}_panel.html", context=context, status_code=status)
        if not context["message"] and request.session:
            context["message"] = request.session.pop(FLASH, "")
        response = page(
            f"tenants/{self.name}.html", ctx.viewer, ctx, nav=nav_for(request, ctx), **context
        )
        response.status_code = status
        return response

    async def done(
        self, request: Request, ctx: OrgContext, message: str, focus: str
    ) -> Template | Redirect:
        """After a change: the fresh panel for htmx; else back to the page, which shows
        `message` once."""
        if _is_htmx(request):
            return await self.render(request, ctx, message=message, focus=focus)
        request.session[FLASH] = message
        return Redirect(f"/o/{ctx.org.slug}/{self.name}", status_code=303)

    async def invalid(
        self,
        request: Request,
        ctx: OrgContext,
        exc: InvalidInput,
        prefix: str,
        form: dict[str, Any] | None = None,
    ) -> Template:
        """The form again, 400, each message next to its field and the first field focused."""
        errors = {f"{prefix}-{field}": message for field, message in exc.errors.items()}
        return await self.render(
            request,
            ctx,
            HTTP_400_BAD_REQUEST,
            form=form,
            errors=errors,
            problem=_("Some of the input is not valid."),
            focus=next(iter(errors)),
        )

    async def change(
        self,
        request: Request,
        ctx: OrgContext,
        change: Callable[[AsyncSession], Awaitable[Any]],
        *,
        prefix: str,
        done: str,
        focus: str,
        form: dict[str, Any] | None = None,
    ) -> Template | Redirect:
        """Run one change in the organization's transaction. Errors are keyed
        `{prefix}-{field}` (or `{prefix}` for a conflict) so the template puts them next to
        the right control."""
        try:
            async with request.app.state.db.session(ctx.scope) as session:
                await change(session)
        except InvalidInput as exc:
            return await self.invalid(request, ctx, exc, prefix, form)
        except Conflict as exc:
            return await self.render(
                request,
                ctx,
                HTTP_409_CONFLICT,
                errors={prefix: exc.message},
                problem=exc.message,
                focus=prefix,
            )
        return await self.done(request, ctx, done, focus)


MEMBERS = Panel("members", _members_context)
ORGANIZATIONS = Panel("organizations", _organizations_context)


class AdminPages(Controller):
    path = "/o/{org:str}"
    dependencies = {"ctx": Provide(provide_org)}  # noqa: RUF012 - Litestar reads this attribute
    include_in_schema = False

    @get("/members", name="tenants:members")
    async def members(self, request: Request, ctx: NamedDependency[OrgContext]) -> Template:
        require_admin(ctx)
        return await MEMBERS.render(request, ctx)

    @post("/members/invite", name="tenants:invite")
    async def invite(
        self, request: Request, ctx: NamedDependency[OrgContext]
    ) -> Template | Redirect:
        require_admin(ctx)
        form = await request.form()
        email, roles = _text(form, "email"), _texts(form, "roles")
        return await MEMBERS.change(
            request,
            ctx,
            lambda s: services.invite(s, ctx.org, email, roles),
            prefix="invite",
            form={"email": email[: services.EMAIL_MAX + 1], "roles": roles},
            done=_("Invited {email}. They join when they sign in with this address.").format(
                email=email.strip().lower()
            ),
            focus="invitations-heading",
        )

    @post("/members/{member_id:uuid}/roles", name="tenants:grant")
    async def grant(
        self, request: Request, ctx: NamedDependency[OrgContext], member_id: uuid.UUID
    ) -> Template | Redirect:
        require_admin(ctx)
        role = _text(await request.form(), "role")
        return await MEMBERS.change(
            request,
            ctx,
            lambda s: services.grant(s, ctx.org, member_id, role),
            prefix=f"grant-{member_id}",
            done=_("Role granted."),
            focus=f"member-{member_id}",
        )

    @post("/members/{member_id:uuid}/roles/{role:str}/revoke", name="tenants:revoke")
    async def revoke(
        self, request: Request, ctx: NamedDependency[OrgContext], member_id: uuid.UUID, role: str
    ) -> Template | Redirect:
        require_admin(ctx)
        return await MEMBERS.change(
            request,
            ctx,
            lambda s: services.revoke(s, member_id, role),
            prefix=f"member-{member_id}",
            done=_("Role removed."),
            focus=f"member-{member_id}",
        )

    @post("/invitations/{invitation_id:uuid}/revoke", name="tenants:revoke_invitation")
    async def revoke_invitation(
        self, request: Request, ctx: NamedDependency[OrgContext], invitation_id: uuid.UUID
    ) -> Template | Redirect:
        require_admin(ctx)
        return await MEMBERS.change(
            request,
            ctx,
            lambda s: services.revoke_invitation(s, invitation_id),
            prefix=f"invitation-{invitation_id}",
            done=_("Invitation withdrawn."),
            focus="invitations-heading",
        )

    @get("/organizations", name="tenants:organizations")
    async def organizations(self, request: Request, ctx: NamedDependency[OrgContext]) -> Template:
        require_operator_admin(ctx)
        return await ORGANIZATIONS.render(request, ctx)

    @post("/organizations", name="tenants:create_organization")
    async def create_organization(
        self, request: Request, ctx: NamedDependency[OrgContext]
    ) -> Template | Redirect:
        require_operator_admin(ctx)
        form = await request.form()
        fields = {k: _text(form, k) for k in ("slug", "kind", "name_ja", "name_en", "admin_email")}
        try:
            org, _invitation = await services.create_organization(
                request.app.state.db, ctx.scope, **fields
            )
        except InvalidInput as exc:
            echo = {k: v[:400] for k, v in fields.items()}
            return await ORGANIZATIONS.invalid(request, ctx, exc, "org", echo)
        message = _("Created {name} and invited {email} as its admin.").format(
            name=org.name(current_locale()), email=fields["admin_email"].strip().lower()
        )
        return await ORGANIZATIONS.done(request, ctx, message, "organizations-heading")
