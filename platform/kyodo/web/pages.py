"""Kernel pages and endpoints: dashboard, organization home, language, health, /api/v1/me."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromQuery
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_503_SERVICE_UNAVAILABLE
from sqlalchemy import text

from kyodo.auth.context import OrgContext, Viewer, provide_org, provide_viewer
from kyodo.auth.routes import safe_next
from kyodo.db import Scope
from kyodo.web.i18n import current_locale, pick_locale


def page(
    template: str, viewer: Viewer | None, org: OrgContext | None = None, **context: Any
) -> Template:
    """A full page with what the layout needs (person, organizations, navigation)."""
    return Template(template, context={"viewer": viewer, "ctx": org, **context})


def nav_for(request: Request, ctx: OrgContext) -> list[dict[str, str]]:
    entries = []
    for manifest in request.app.state.manifests:
        for entry in manifest.nav:
            if ctx.org.kind in entry.kinds and (not entry.roles or ctx.has(*entry.roles)):
                entries.append(
                    {
                        "href": f"/o/{ctx.org.slug}/{entry.path}",
                        "label": entry.label(current_locale()),
                    }
                )
    return entries


@get("/", dependencies={"viewer": Provide(provide_viewer)}, name="home")
async def home(viewer: NamedDependency[Viewer]) -> Template:
    if not viewer.memberships:
        return page("no_organization.html", viewer)
    return page("home.html", viewer)


@get("/o/{org:str}", dependencies={"ctx": Provide(provide_org)}, name="org:home")
async def org_home(request: Request, ctx: NamedDependency[OrgContext]) -> Template:
    return page("org_home.html", ctx.viewer, ctx, nav=nav_for(request, ctx))


@get("/switch", dependencies={"viewer": Provide(provide_viewer)}, name="switch")
async def switch_org(viewer: NamedDependency[Viewer], org: FromQuery[str] = "") -> Redirect:
    """The header's organization switcher (a plain GET form, so it works without script)."""
    membership = viewer.membership(org)
    return Redirect(f"/o/{membership.org.slug}/" if membership else "/", status_code=303)


@get("/signed-out", name="signed_out")
async def signed_out() -> Template:
    return page("signed_out.html", None)


@post("/locale", name="locale", status_code=303)
async def switch_locale(request: Request) -> Redirect:
    form = await request.form()
    locale = pick_locale(form.get("locale"))
    request.session["locale"] = locale
    return Redirect(safe_next(form.get("next")), status_code=303)


@get("/healthz", name="healthz", include_in_schema=True)
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@get("/readyz", name="readyz")
async def readyz(request: Request) -> Response[dict[str, str]]:
    checks = {"database": "ok", "broker": "ok"}
    try:
        async with request.app.state.db.session(Scope.anonymous()) as session:
            await session.execute(text("SELECT 1"))
    except Exception as exc:  # any failure means not ready; the reason goes to the body
        checks["database"] = f"unavailable: {type(exc).__name__}"
    broker_ok = await request.app.state.jobs.ping()
    if not broker_ok:
        checks["broker"] = "unavailable"
    ready = all(v == "ok" for v in checks.values())
    return Response(
        {"status": "ready" if ready else "not ready", **checks},
        status_code=200 if ready else HTTP_503_SERVICE_UNAVAILABLE,
    )


class MembershipOut(msgspec.Struct):
    slug: str
    kind: str
    name_ja: str
    name_en: str
    roles: list[str]


class MeOut(msgspec.Struct):
    id: str
    email: str | None
    email_verified: bool
    display_name: str
    locale: str
    memberships: list[MembershipOut]


@get("/api/v1/me", dependencies={"viewer": Provide(provide_viewer)}, name="api:me", tags=["me"])
async def me(viewer: NamedDependency[Viewer]) -> MeOut:
    p = viewer.person
    return MeOut(
        id=str(p.id),
        email=p.email,
        email_verified=p.email_verified,
        display_name=p.display_name,
        locale=p.locale,
        memberships=[
            MembershipOut(m.org.slug, m.org.kind, m.org.name_ja, m.org.name_en, sorted(m.roles))
            for m in viewer.memberships
        ],
    )


route_handlers = [home, org_home, switch_org, signed_out, switch_locale, healthz, readyz, me]
