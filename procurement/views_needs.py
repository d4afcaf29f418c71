"""Pages of the municipal side: my organization's needs, the draft form, a need, the approver's
queue, the pool and the notice settings. Under /o/{org}/procurement/.

Every form works without script: a POST, then a redirect back to the page it came from, which
shows the outcome once. The pool and the approval queue also answer htmx with their re-rendered
panel. Input errors come back 400 (409 for a wrong state or a passed deadline) with each message
next to its field.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, QueryParameter
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from kyodo.auth.context import OrgContext, provide_org
from kyodo.db import utcnow
from kyodo.errors import Checks, Conflict, InvalidInput
from kyodo.web.i18n import TOKYO, _, current_locale
from kyodo.web.pages import nav_for, page
from procurement import attachments, forms, needs, notices, pool
from procurement.actors import Actor
from procurement.categories import CATEGORIES, category_label, status_label
from procurement.models import Need
from procurement.needs import NeedInput

FLASH = "procurement_flash"  # the outcome, shown once on the page a form redirects to
NEED_FIELDS = (
    "title",
    "category",
    "specification",
    "unit",
    "quantity",
    "estimated_unit_price",
    "desired_delivery",
    "join_deadline",
)
UPLOAD_LIMIT = attachments.MAX_BYTES + 256 * 1024  # the file plus the form around it
MAX_PAGE = 10_000
Page = Annotated[int, QueryParameter(ge=1, le=MAX_PAGE)]
POOL_FORM = ("back", "category", "page")  # where a pool form came from, to go back there


def _is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def _labels(ctx: OrgContext) -> dict[str, Any]:
    """What every needs template uses besides its own data."""
    return {
        "actor": Actor.of(ctx),
        "status_label": status_label,
        "category_label": lambda key: category_label(key, current_locale()),
        "errors": {},
        "focus": "",
        "problem": "",
        "message": "",
    }


def _render(
    request: Request, ctx: OrgContext, template: str, status: int = 200, **context: Any
) -> Template:
    context = {**_labels(ctx), **context}
    if not context["message"] and request.session:
        context["message"] = request.session.pop(FLASH, "")
    response = page(template, ctx.viewer, ctx, nav=nav_for(request, ctx), **context)
    response.status_code = status
    return response


# --- reading the need form ------------------------------------------------------------------


def _delivery(raw: str, checks: Checks) -> date | None:
    if not raw.strip():
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        checks.fail("desired_delivery", _("Enter a date."))
        return None


def need_input(form: dict[str, str], now: datetime) -> NeedInput:
    """The need form as the service's input, or InvalidInput with every field's problem."""
    checks = Checks()
    data = NeedInput(
        title=form["title"],
        category=form["category"],
        unit=form["unit"],
        quantity=forms.whole(form["quantity"], "quantity", checks),
        estimated_unit_price=forms.whole(
            form["estimated_unit_price"], "estimated_unit_price", checks
        ),
        join_deadline=forms.moment(form["join_deadline"], "join_deadline", checks) or now,
        specification=form["specification"].replace("\r\n", "\n"),
        desired_delivery=_delivery(form["desired_delivery"], checks),
    )
    if checks.errors:
        try:  # the other fields' problems too, in one answer
            needs.validate(data, now)
        except InvalidInput as exc:
            for field, message in exc.errors.items():
                checks.fail(field, message)  # keeps the first message of a field
        checks.raise_any()
    return data


def form_of(need: Need) -> dict[str, str]:
    """A need as the form shows it: the deadline in Japan time."""
    return {
        "title": need.title,
        "category": need.category,
        "specification": need.specification,
        "unit": need.unit,
        "quantity": str(need.quantity),
        "estimated_unit_price": str(need.estimated_unit_price),
        "desired_delivery": need.desired_delivery.isoformat() if need.desired_delivery else "",
        "join_deadline": need.join_deadline.astimezone(TOKYO).strftime("%Y-%m-%dT%H:%M"),
    }


async def _form(request: Request) -> dict[str, str]:
    raw = await request.form()
    return {k: forms.text(raw, k, 25_000) for k in NEED_FIELDS}


class NeedPages(Controller):
    path = "/o/{org:str}/procurement"
    dependencies = {"ctx": Provide(provide_org)}  # noqa: RUF012 - Litestar reads this attribute
    include_in_schema = False

    # -- my organization's needs, the form ------------------------------------------------------

    @get("/needs", name="procurement:needs")
    async def my_needs(self, request: Request, ctx: NamedDependency[OrgContext]) -> Template:
        actor = Actor.of(ctx)
        pool.require_public_body(actor)
        async with request.app.state.db.session(ctx.scope) as session:
            found = await pool.own_needs(session, actor)
        return _render(request, ctx, "procurement/needs.html", needs=found)

    @get("/needs/new", name="procurement:needs:new")
    async def new_need(self, request: Request, ctx: NamedDependency[OrgContext]) -> Template:
        Actor.of(ctx).require(needs.OFFICER, kinds=needs.PUBLIC_BODIES)
        return self._need_form(request, ctx, None, dict.fromkeys(NEED_FIELDS, ""))

    @post("/needs", name="procurement:needs:create")
    async def create(
        self, request: Request, ctx: NamedDependency[OrgContext]
    ) -> Template | Redirect:
        actor = Actor.of(ctx)
        actor.require(needs.OFFICER, kinds=needs.PUBLIC_BODIES)
        form = await _form(request)
        try:
            async with request.app.state.db.session(ctx.scope) as session:
                now = utcnow()
                need = await needs.create_need(session, actor, need_input(form, now), now)
        except InvalidInput as exc:
            return self._need_form(request, ctx, None, form, exc)
        request.session[FLASH] = _("The draft is saved. Add attachments, then submit it.")
        return Redirect(f"{forms.base(ctx)}/needs/{need.id}", status_code=303)

    @get("/needs/{id:uuid}/edit", name="procurement:need:edit")
    async def edit(
        self, request: Request, ctx: NamedDependency[OrgContext], id: FromPath[uuid.UUID]
    ) -> Template:
        actor = Actor.of(ctx)
        actor.require(needs.OFFICER, kinds=needs.PUBLIC_BODIES)
        async with request.app.state.db.session(ctx.scope) as session:
            need = await needs.own_need(session, actor, id)
        return self._need_form(request, ctx, need, form_of(need))

    @post("/needs/{id:uuid}/edit", name="procurement:need:update")
    async def update(
        self, request: Request, ctx: NamedDependency[OrgContext], id: FromPath[uuid.UUID]
    ) -> Template | Redirect:
        actor = Actor.of(ctx)
        actor.require(needs.OFFICER, kinds=needs.PUBLIC_BODIES)
        form = await _form(request)
        try:
            async with request.app.state.db.session(ctx.scope) as session:
                now = utcnow()
                await needs.update_need(session, actor, id, need_input(form, now), now)
        except InvalidInput as exc:
            async with request.app.state.db.session(ctx.scope) as session:
                need = await needs.own_need(session, actor, id)
            return self._need_form(request, ctx, need, form, exc)
        request.session[FLASH] = _("Changes saved.")
        return Redirect(f"{forms.base(ctx)}/needs/{id}", status_code=303)

    def _need_form(
        self,
        request: Request,
        ctx: OrgContext,
        need: Need | None,
        form: dict[str, str],
        exc: InvalidInput | None = None,
    ) -> Template:
        errors = exc.errors if exc else {}
        return _render(
            request,
            ctx,
            "procurement/need_form.html",
            400 if exc else 200,
            need=need,
            form=form,
            categories=CATEGORIES,
            errors=errors,
            problem=_("Some of the input is not valid.") if exc else "",
            focus=next((f for f in NEED_FIELDS if f in errors), ""),  # the first on screen
        )

    # -- one need ----------------------------------------------------------------------------

    @get("/needs/{id:uuid}", name="procurement:need")
    async def need(
        self, request: Request, ctx: NamedDependency[OrgContext], id: FromPath[uuid.UUID]
    ) -> Template:
        return await self._need_page(request, ctx, id)

    async def _need_page(
        self, request: Request, ctx: OrgContext, need_id: uuid.UUID, status: int = 200, **extra
    ) -> Template:
        actor = Actor.of(ctx)
        async with request.app.state.db.session(ctx.scope) as session:
            view = await pool.need_view(session, actor, need_id)
            joined = (
                await pool.participants(session, actor, need_id)
                if view.sees_participants and view.demand
                else []
            )
        return _render(
            request,
            ctx,
            "procurement/need.html",
            status,
            view=view,
            participants=joined,
            now=utcnow(),
            max_upload_mb=attachments.MAX_BYTES >> 20,
            **extra,
        )

    async def _act(
        self,
        request: Request,
        ctx: OrgContext,
        need_id: uuid.UUID,
        change: Callable[[AsyncSession], Awaitable[Any]],
        *,
        prefix: str,
        done: str | Callable[[Any], str],
        form: dict[str, str] | None = None,
    ) -> Template | Redirect:
        """Run one change of a need in the organization's transaction, then go back to where
        the form was (the need, the pool or the approval queue; `back` in the form). Errors
        are keyed `{prefix}-{field}`, or `{prefix}` for a conflict, to sit next to the control.
        `done` is the message to show, or makes it from what `change` returned."""
        form = form or {}
        back = form.get("back", "")
        try:
            async with request.app.state.db.session(ctx.scope) as session:
                result = await change(session)
        except InvalidInput as exc:
            errors = {f"{prefix}-{field}": message for field, message in exc.errors.items()}
            return await self._origin(request, ctx, need_id, back, 400, errors, form)
        except Conflict as exc:
            return await self._origin(request, ctx, need_id, back, 409, {prefix: exc.message}, form)
        if callable(done):
            done = done(result)
        if _is_htmx(request) and back in ("pool", "approvals"):
            return await self._origin(request, ctx, need_id, back, 200, {}, {}, done)
        request.session[FLASH] = done
        if back == "pool":
            query = urlencode({"category": form.get("category", ""), "page": form.get("page", 1)})
            return Redirect(f"{forms.base(ctx)}/pool?{query}", status_code=303)
        target = "/approvals" if back == "approvals" else f"/needs/{need_id}"
        return Redirect(f"{forms.base(ctx)}{target}", status_code=303)

    async def _origin(
        self,
        request: Request,
        ctx: OrgContext,
        need_id: uuid.UUID,
        back: str,
        status: int,
        errors: dict[str, str],
        form: dict[str, str],
        message: str = "",
    ) -> Template:
        extra = {
            "errors": errors,
            "form": form,
            "message": message,
            "problem": next(iter(errors.values()), "") if status >= 400 else "",
            "focus": next(iter(errors), "") or f"need-{need_id}",
            "form_need": str(need_id),  # the row whose form `form` echoes
        }
        if back == "pool":
            return await self._pool_page(
                request,
                ctx,
                status=status,
                category=form.get("category", ""),
                page_number=_page_number(form.get("page", "")),
                **extra,
            )
        if back == "approvals":
            return await self._approvals_page(request, ctx, status, **extra)
        return await self._need_page(request, ctx, need_id, status, **extra)

    @post("/needs/{id:uuid}/submit", name="procurement:need:submit")
    async def submit(
        self, request: Request, ctx: NamedDependency[OrgContext], id: FromPath[uuid.UUID]
    ) -> Template | Redirect:
        actor = Actor.of(ctx)
        return await self._act(
            request,
            ctx,
            id,
            lambda s: needs.submit_need(s, actor, id, utcnow()),
            prefix="submit",
            done=lambda need: (
                _("Published to the pool.")
                if need.status == "published"
                else _("Submitted for approval.")
            ),
        )

    @post("/needs/{id:uuid}/approve", name="procurement:need:approve")
    async def approve(
        self, request: Request, ctx: NamedDependency[OrgContext], id: FromPath[uuid.UUID]
    ) -> Template | Redirect:
        actor, form = Actor.of(ctx), await forms.fields(request, "comment", "back")
        return await self._act(
            request,
            ctx,
            id,
            lambda s: needs.approve_need(s, actor, id, utcnow(), form["comment"]),
            prefix=f"approve-{id}",
            done=_("Approved and published to the pool."),
            form=form,
        )

    @post("/needs/{id:uuid}/return", name="procurement:need:return")
    async def return_(
        self, request: Request, ctx: NamedDependency[OrgContext], id: FromPath[uuid.UUID]
    ) -> Template | Redirect:
        actor, form = Actor.of(ctx), await forms.fields(request, "comment", "back")
        return await self._act(
            request,
            ctx,
            id,
            lambda s: needs.return_need(s, actor, id, form["comment"]),
            prefix=f"return-{id}",
            done=_("Returned to the drafter with your comment."),
            form=form,
        )

    # -- joining ------------------------------------------------------------------------------

    @post("/needs/{id:uuid}/commitment", name="procurement:commitment")
    async def join(
        self, request: Request, ctx: NamedDependency[OrgContext], id: FromPath[uuid.UUID]
    ) -> Template | Redirect:
        actor = Actor.of(ctx)
        form = await forms.fields(request, "quantity", "estimated_unit_price", *POOL_FORM)

        async def change(session: AsyncSession) -> Any:
            checks = Checks()
            quantity = forms.whole(form["quantity"], "quantity", checks)
            price = forms.whole(form["estimated_unit_price"], "estimated_unit_price", checks)
            checks.raise_any()
            return await needs.join(session, actor, id, quantity, price, utcnow())

        return await self._act(
            request,
            ctx,
            id,
            change,
            prefix=f"join-{id}",
            done=lambda mine: (
                _("Your organization's approver will now decide on joining.")
                if mine.status == "pending_approval"
                else _("Your quantity is counted in the pooled demand.")
            ),
            form=form,
        )

    @post("/needs/{id:uuid}/commitment/withdraw", name="procurement:commitment:withdraw")
    async def withdraw(
        self, request: Request, ctx: NamedDependency[OrgContext], id: FromPath[uuid.UUID]
    ) -> Template | Redirect:
        actor, form = Actor.of(ctx), await forms.fields(request, *POOL_FORM)
        return await self._act(
            request,
            ctx,
            id,
            lambda s: needs.withdraw(s, actor, id, utcnow()),
            prefix=f"join-{id}",
            done=_("Your organization has withdrawn from this need."),
            form=form,
        )

    @post("/needs/{id:uuid}/commitment/approve", name="procurement:commitment:approve")
    async def approve_join(
        self, request: Request, ctx: NamedDependency[OrgContext], id: FromPath[uuid.UUID]
    ) -> Template | Redirect:
        actor, form = Actor.of(ctx), await forms.fields(request, "comment", "back")
        return await self._act(
            request,
            ctx,
            id,
            lambda s: needs.decide_commitment(s, actor, id, True, utcnow(), form["comment"]),
            prefix=f"decide-{id}",
            done=_("Joining approved: the quantity is counted in the pooled demand."),
            form=form,
        )

    @post("/needs/{id:uuid}/commitment/return", name="procurement:commitment:return")
    async def return_join(
        self, request: Request, ctx: NamedDependency[OrgContext], id: FromPath[uuid.UUID]
    ) -> Template | Redirect:
        actor, form = Actor.of(ctx), await forms.fields(request, "comment", "back")
        return await self._act(
            request,
            ctx,
            id,
            lambda s: needs.decide_commitment(s, actor, id, False, utcnow(), form["comment"]),
            prefix=f"return-join-{id}",
            done=_("Joining returned with your comment."),
            form=form,
        )

    # -- attachments ----------------------------------------------------------------------------

    @post(
        "/needs/{id:uuid}/attachments",
        name="procurement:attachments:add",
        request_max_body_size=UPLOAD_LIMIT,
    )
    async def upload(
        self, request: Request, ctx: NamedDependency[OrgContext], id: FromPath[uuid.UUID]
    ) -> Template | Redirect:
        actor = Actor.of(ctx)
        actor.require(needs.OFFICER, kinds=needs.PUBLIC_BODIES)
        upload = (await request.form()).get("file")
        name, data = "", b""
        if isinstance(upload, UploadFile):
            name, data = upload.filename or "", await upload.read()
        return await self._act(
            request,
            ctx,
            id,
            lambda s: attachments.add(s, actor, id, name, data),
            prefix="attachment",
            done=_("The file is attached."),
        )

    @get("/needs/{id:uuid}/attachments/{attachment_id:uuid}", name="procurement:attachment")
    async def download(
        self,
        request: Request,
        ctx: NamedDependency[OrgContext],
        id: FromPath[uuid.UUID],
        attachment_id: FromPath[uuid.UUID],
    ) -> Response[bytes]:
        async with request.app.state.db.session(ctx.scope) as session:
            found = await attachments.download(session, id, attachment_id)
        return Response(
            found.content,
            media_type=found.content_type,
            headers={
                "Content-Disposition": _disposition(found.filename),
                "X-Content-Type-Options": "nosniff",
                "Cache-Control": "private, no-store",
            },
        )

    @post(
        "/needs/{id:uuid}/attachments/{attachment_id:uuid}/delete",
        name="procurement:attachment:remove",
    )
    async def remove_attachment(
        self,
        request: Request,
        ctx: NamedDependency[OrgContext],
        id: FromPath[uuid.UUID],
        attachment_id: FromPath[uuid.UUID],
    ) -> Template | Redirect:
        actor = Actor.of(ctx)
        return await self._act(
            request,
            ctx,
            id,
            lambda s: attachments.remove(s, actor, id, attachment_id),
            prefix="attachment",
            done=_("The attachment is removed."),
        )

    # -- the approval queue and the pool -----------------------------------------------------

    @get("/approvals", name="procurement:approvals")
    async def approvals(self, request: Request, ctx: NamedDependency[OrgContext]) -> Template:
        return await self._approvals_page(request, ctx)

    async def _approvals_page(
        self, request: Request, ctx: OrgContext, status: int = 200, **extra: Any
    ) -> Template:
        actor = Actor.of(ctx)
        actor.require(needs.APPROVER, kinds=needs.PUBLIC_BODIES)
        async with request.app.state.db.session(ctx.scope) as session:
            pending_needs, pending_joins = await pool.approval_queue(session, actor)
        template = "procurement/_approvals_panel.html" if _is_htmx(request) else None
        return self._panel(
            request,
            ctx,
            "procurement/approvals.html",
            template,
            status,
            pending_needs=pending_needs,
            pending_joins=pending_joins,
            **extra,
        )

    @get("/pool", name="procurement:pool")
    async def pool_page(
        self,
        request: Request,
        ctx: NamedDependency[OrgContext],
        category: Annotated[str, QueryParameter()] = "",
        page: Page = 1,
    ) -> Template:
        return await self._pool_page(request, ctx, category=category, page_number=page)

    async def _pool_page(
        self,
        request: Request,
        ctx: OrgContext,
        *,
        status: int = 200,
        category: str = "",
        page_number: int = 1,
        **extra: Any,
    ) -> Template:
        actor = Actor.of(ctx)
        category = category if category in CATEGORIES else ""
        async with request.app.state.db.session(ctx.scope) as session:
            entries = await pool.open_pool(
                session,
                actor,
                utcnow(),
                category or None,
                limit=pool.PAGE_SIZE + 1,  # one more tells whether there is a next page
                offset=(page_number - 1) * pool.PAGE_SIZE,
            )
        template = "procurement/_pool_panel.html" if _is_htmx(request) else None
        return self._panel(
            request,
            ctx,
            "procurement/pool.html",
            template,
            status,
            entries=entries[: pool.PAGE_SIZE],
            more=len(entries) > pool.PAGE_SIZE,
            category=category,
            page_number=page_number,
            categories=CATEGORIES,
            **extra,
        )

    def _panel(
        self,
        request: Request,
        ctx: OrgContext,
        full: str,
        partial: str | None,
        status: int,
        **context: Any,
    ) -> Template:
        """The whole page, or for htmx only its panel (which refreshes the live region)."""
        if partial is None:
            return _render(request, ctx, full, status, **context)
        context = {**_labels(ctx), "ctx": ctx, "partial": True, **context}
        return Template(partial, context=context, status_code=status)

    # -- notice settings ---------------------------------------------------------------------

    @get("/settings", name="procurement:settings")
    async def settings(self, request: Request, ctx: NamedDependency[OrgContext]) -> Template:
        return await self._settings_page(request, ctx)

    async def _settings_page(
        self, request: Request, ctx: OrgContext, status: int = 200, **extra: Any
    ) -> Template:
        async with request.app.state.db.session(ctx.scope) as session:
            followed = await notices.subscriptions_of(session)
            approval = await needs.settings_of(session, ctx.org)
        return _render(
            request,
            ctx,
            "procurement/needs_settings.html",
            status,
            followed=followed,
            approval=approval,
            categories=CATEGORIES,
            **extra,
        )

    @post("/settings/subscriptions", name="procurement:settings:subscriptions")
    async def save_subscriptions(
        self, request: Request, ctx: NamedDependency[OrgContext]
    ) -> Template | Redirect:
        chosen = [c for c in (await request.form()).getall("categories", []) if isinstance(c, str)]
        return await self._save_settings(
            request,
            ctx,
            lambda s: notices.subscribe(s, Actor.of(ctx), chosen),
            prefix="subscriptions",
            done=_("Your organization's categories are saved."),
        )

    @post("/settings/approval", name="procurement:settings:approval")
    async def save_approval(
        self, request: Request, ctx: NamedDependency[OrgContext]
    ) -> Template | Redirect:
        form = await request.form()
        checks = Checks()
        lead_days = forms.whole(forms.text(form, "min_lead_days") or "0", "min_lead_days", checks)
        required = forms.text(form, "approval_required") == "on"

        async def change(session: AsyncSession) -> None:
            checks.raise_any()
            await needs.configure(session, Actor.of(ctx), required, lead_days)

        return await self._save_settings(
            request, ctx, change, prefix="approval", done=_("The approval setting is saved.")
        )

    async def _save_settings(
        self,
        request: Request,
        ctx: OrgContext,
        change: Callable[[AsyncSession], Awaitable[Any]],
        *,
        prefix: str,
        done: str,
    ) -> Template | Redirect:
        try:
            async with request.app.state.db.session(ctx.scope) as session:
                await change(session)
        except InvalidInput as exc:
            errors = {f"{prefix}-{field}": message for field, message in exc.errors.items()}
            return await self._settings_page(
                request,
                ctx,
                400,
                errors=errors,
                problem=_("Some of the input is not valid."),
                focus=next(iter(errors)),
            )
        request.session[FLASH] = done
        return Redirect(f"{forms.base(ctx)}/settings", status_code=303)


def _page_number(raw: str) -> int:
    return int(raw) if raw.isdecimal() and len(raw) <= 5 and 0 < int(raw) <= MAX_PAGE else 1


def _disposition(filename: str) -> str:
    """`attachment`, with an ASCII fallback name and the real one percent-encoded (RFC 6266),
    so no name can break out of the header."""
    fallback = "".join(c if (c.isascii() and c.isalnum()) or c in "._-" else "_" for c in filename)
    encoded = quote(filename, safe="")
    return f"attachment; filename=\"{fallback or 'attachment'}\"; filename*=UTF-8''{encoded}"
