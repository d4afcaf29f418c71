"""Pages of the operator and vendor side, and each municipality's allocation. Under
/o/{org}/procurement/.

- Operator: the closed needs ready for a tender, the tender form, a tender with its Q&A, the
  evaluation with technical scores and the decisions (award, rebid, unsuccessful, cancel, and
  undo for admins).
- Vendor: the tenders open to it, a tender with its Q&A and a question form, the bid form with
  its own sealed bid, and the result (落札 / 不落札 with its own bid).
- Municipality: the allocation of a need (its contract line, savings, the price alone).

Every form is a POST with the CSRF token, answered by a redirect back to the page it came from
(which shows the outcome once), or by that page again with 400 and each message next to its
field, or 409 with the reason for a wrong state or a passed deadline.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from kyodo.auth.context import OrgContext, provide_org
from kyodo.db import utcnow
from kyodo.errors import Checks, Conflict, InvalidInput
from kyodo.models import Organization
from kyodo.web.i18n import TOKYO, _, current_locale
from kyodo.web.pages import nav_for, page
from procurement import forms, opening, tender_reads, tenders
from procurement.actors import Actor
from procurement.categories import category_label
from procurement.evaluation import WEIGHTED
from procurement.models import Tender, TenderRevision

FLASH = "procurement_flash"  # shared with the needs pages: the outcome, shown once
TERMS_FIELDS = (
    "method",
    "criteria",
    "price_weight",
    "technical_weight",
    "ceiling_unit_price",
    "minimum_unit_price",
    "band_thresholds",
    "question_deadline",
    "bid_deadline",
    "max_rounds",
)


def labels() -> dict[str, dict[str, str]]:
    """Names people read for the codes of tenders, in the current language."""
    return {
        "status": {
            "draft": _("Draft"),
            "published": _("Open for bids"),
            "opened": _("Bids opened"),
            "awarded": _("Awarded"),
            "unsuccessful": _("Unsuccessful"),
            "cancelled": _("Cancelled"),
        },
        "method": {
            "open": _("Open tender (一般競争入札)"),
            "selective": _("Selective tender (指名競争入札)"),
            "negotiated": _("Negotiated contract (随意契約)"),
        },
        "criteria": {
            "lowest_price": _("Lowest price"),
            "weighted": _("Best value: price and technical points (総合評価)"),
        },
        "cancel": {
            "budget": _("Budget"),
            "specification": _("The specification is revised"),
            "demand_withdrawn": _("The demand was withdrawn"),
            "no_competition": _("No competition"),
            "other": _("Other"),
        },
        "invalid": {
            "over_ceiling": _("Over the ceiling price"),
            "below_minimum": _("Below the minimum price"),
            "no_technical_score": _("No technical score yet"),
        },
        "outcome": {
            "awaiting_scores": _("Awaiting technical scores"),
            "winner": _("A valid bid ranks first"),
            "all_over_ceiling": _("Every bid is over the ceiling"),
            "no_valid_bid": _("No valid bid"),
        },
        "mine": {
            tender_reads.AWARDED: _("Awarded (落札)"),
            tender_reads.NOT_AWARDED: _("Not awarded (不落札)"),
            tender_reads.PENDING: _("Not decided yet"),
        },
    }


def history(revisions: list[TenderRevision]) -> list[tuple[TenderRevision, list[str]]]:
    """Each version of the public terms with the names of what changed since the one before."""
    names = {
        "title": _("Title"),
        "quantity": _("Pooled quantity"),
        "unit": _("Unit"),
        "method": _("Method"),
        "criteria": _("Award criteria"),
        "price_weight": _("Price weight"),
        "technical_weight": _("Technical weight"),
        "band_thresholds": _("Volume bands"),
        "question_deadline": _("Questions until (JST)"),
        "bid_deadline": _("Bid deadline (JST)"),
        "max_rounds": _("Rounds at most"),
    }
    found, before = [], {}
    for revision in revisions:
        changed = [
            names.get(key, key)
            for key, value in revision.terms.items()
            if before and before.get(key) != value
        ]
        found.append((revision, changed))
        before = revision.terms
    return found


def _render(
    request: Request, ctx: OrgContext, template: str, status: int = 200, **context: Any
) -> Template:
    context = {"errors": {}, "focus": "", "problem": "", "message": "", "form": {}, **context}
    if not context["message"] and request.session:
        context["message"] = request.session.pop(FLASH, "")
    response = page(
        template,
        ctx.viewer,
        ctx,
        nav=nav_for(request, ctx),
        actor=Actor.of(ctx),
        L=labels(),
        category_label=lambda key: category_label(key, current_locale()),
        **context,
    )
    response.status_code = status
    return response


# --- reading forms -----------------------------------------------------------------------------


def terms_input(form: dict[str, Any]) -> tenders.TenderTermsInput:
    """The tender form as the service's input, or InvalidInput naming each unreadable field
    (the service then checks what the values mean)."""
    checks = Checks()
    thresholds = [
        forms.whole(part, "band_thresholds", checks)
        for part in form["band_thresholds"].replace("，", ",").replace("、", ",").split(",")
        if part.strip()
    ] or [1]
    weighted = form["criteria"] == WEIGHTED
    data = tenders.TenderTermsInput(
        method=form["method"],
        criteria=form["criteria"],
        price_weight=forms.whole(form["price_weight"], "price_weight", checks) if weighted else 100,
        technical_weight=forms.whole(form["technical_weight"], "technical_weight", checks)
        if weighted
        else 0,
        ceiling_unit_price=forms.whole(form["ceiling_unit_price"], "ceiling_unit_price", checks),
        minimum_unit_price=forms.whole(
            form["minimum_unit_price"], "minimum_unit_price", checks, required=False
        ),
        band_thresholds=thresholds,
        question_deadline=forms.moment(
            form["question_deadline"], "question_deadline", checks, required=False
        ),
        bid_deadline=forms.moment(form["bid_deadline"], "bid_deadline", checks) or utcnow(),
        max_rounds=forms.whole(form["max_rounds"], "max_rounds", checks),
        invited_vendors=list(form["invited_vendors"]),
    )
    checks.raise_any()
    return data


def _local_input(moment: datetime | None) -> str:
    return moment.astimezone(TOKYO).strftime("%Y-%m-%dT%H:%M") if moment else ""


def form_of(tender: Tender, invited: list[Organization]) -> dict[str, Any]:
    """A tender's public terms as the form shows them. The secret prices stay blank: they are
    never shown back, so an edit enters them again."""
    return {
        "method": tender.method,
        "criteria": tender.criteria,
        "price_weight": str(tender.price_weight),
        "technical_weight": str(tender.technical_weight),
        "ceiling_unit_price": "",
        "minimum_unit_price": "",
        "band_thresholds": ", ".join(str(t) for t in tender.band_thresholds),
        "question_deadline": _local_input(tender.question_deadline),
        "bid_deadline": _local_input(tender.bid_deadline),
        "max_rounds": str(tender.max_rounds),
        "invited_vendors": [v.slug for v in invited],
    }


async def _terms_form(request: Request) -> dict[str, Any]:
    raw = await request.form()
    form: dict[str, Any] = {k: forms.text(raw, k) for k in TERMS_FIELDS}
    form["invited_vendors"] = [v for v in raw.getall("invited_vendors", []) if isinstance(v, str)]
    return form


async def _vendors(session: AsyncSession) -> list[Organization]:
    return list(
        await session.scalars(
            select(Organization).where(Organization.kind == "vendor").order_by(Organization.slug)
        )
    )


# --- pages -------------------------------------------------------------------------------------


class TenderPages(Controller):
    path = "/o/{org:str}/procurement"
    dependencies = {"ctx": Provide(provide_org)}  # noqa: RUF012 - Litestar reads this attribute
    include_in_schema = False

    # -- lists -------------------------------------------------------------------------------

    @get("/tenders", name="procurement:tenders")
    async def list_tenders(self, request: Request, ctx: NamedDependency[OrgContext]) -> Template:
        actor = Actor.of(ctx)
        async with request.app.state.db.session(ctx.scope) as session:
            ready = []
            if actor.org.kind == "operator" and tenders.OFFICER in actor.roles:
                ready = await tender_reads.ready_needs(session, actor)
            found = await tender_reads.visible_tenders(session)
        return _render(request, ctx, "procurement/tender_list.html", ready=ready, tenders=found)

    # -- the tender form ---------------------------------------------------------------------

    @get("/needs/{id:uuid}/tender", name="procurement:tender:new")
    async def new_tender(
        self, request: Request, ctx: NamedDependency[OrgContext], id: FromPath[uuid.UUID]
    ) -> Template:
        Actor.of(ctx).require(tenders.OFFICER, kinds=("operator",))
        form = {
            **dict.fromkeys(TERMS_FIELDS, ""),
            "method": "open",
            "criteria": "lowest_price",
            "price_weight": "100",
            "technical_weight": "0",
            "band_thresholds": "1",
            "max_rounds": "3",
            "invited_vendors": [],
        }
        return await self._terms_page(request, ctx, id, None, form)

    @post("/needs/{id:uuid}/tender", name="procurement:tender:create")
    async def create(
        self, request: Request, ctx: NamedDependency[OrgContext], id: FromPath[uuid.UUID]
    ) -> Template | Redirect:
        actor = Actor.of(ctx)
        actor.require(tenders.OFFICER, kinds=("operator",))
        form = await _terms_form(request)
        try:
            async with request.app.state.db.session(ctx.scope) as session:
                tender = await tenders.create_tender(
                    session, actor, id, terms_input(form), utcnow()
                )
        except (InvalidInput, Conflict) as exc:
            return await self._terms_page(request, ctx, id, None, form, exc)
        request.session[FLASH] = _("The tender is saved as a draft. Check it, then publish it.")
        return Redirect(f"{forms.base(ctx)}/tenders/{tender.id}", status_code=303)

    @get("/tenders/{tender_id:uuid}/edit", name="procurement:tender:edit")
    async def edit(
        self, request: Request, ctx: NamedDependency[OrgContext], tender_id: FromPath[uuid.UUID]
    ) -> Template:
        actor = Actor.of(ctx)
        async with request.app.state.db.session(ctx.scope) as session:
            tender = await tenders.operator_tender(session, actor, tender_id)
            actor.require(tenders.OFFICER)
            invited = await tender_reads.invitees(session, tender)
        return await self._terms_page(
            request, ctx, tender.need_id, tender, form_of(tender, invited)
        )

    @post("/tenders/{tender_id:uuid}/edit", name="procurement:tender:update")
    async def update(
        self, request: Request, ctx: NamedDependency[OrgContext], tender_id: FromPath[uuid.UUID]
    ) -> Template | Redirect:
        actor = Actor.of(ctx)
        form = await _terms_form(request)
        try:
            async with request.app.state.db.session(ctx.scope) as session:
                tender = await tenders.edit_terms(
                    session, actor, tender_id, terms_input(form), utcnow()
                )
        except (InvalidInput, Conflict) as exc:
            async with request.app.state.db.session(ctx.scope) as session:
                tender = await tenders.operator_tender(session, actor, tender_id)
            return await self._terms_page(request, ctx, tender.need_id, tender, form, exc)
        request.session[FLASH] = (
            _("The terms are changed; everyone engaged will be told.")
            if tender.status == "published"
            else _("Changes saved.")
        )
        return Redirect(f"{forms.base(ctx)}/tenders/{tender_id}", status_code=303)

    async def _terms_page(
        self,
        request: Request,
        ctx: OrgContext,
        need_id: uuid.UUID,
        tender: Tender | None,
        form: dict[str, Any],
        exc: InvalidInput | Conflict | None = None,
    ) -> Template:
        errors = exc.errors if isinstance(exc, InvalidInput) else {}
        problem = exc.message if isinstance(exc, Conflict) else ""
        async with request.app.state.db.session(ctx.scope) as session:
            vendors = await _vendors(session)
            ready = None
            if tender is None:
                found = await tender_reads.ready_needs(session, Actor.of(ctx), need_id)
                ready = found[0] if found else None
        return _render(
            request,
            ctx,
            "procurement/tender_form.html",
            400 if errors else 409 if problem else 200,
            tender=tender,
            ready=ready,
            need_id=need_id,
            form=form,
            vendors=vendors,
            errors=errors,
            problem=problem or (_("Some of the input is not valid.") if errors else ""),
            focus=next(iter(errors), ""),
        )

    # -- one tender --------------------------------------------------------------------------

    @get("/tenders/{tender_id:uuid}", name="procurement:tender")
    async def tender(
        self, request: Request, ctx: NamedDependency[OrgContext], tender_id: FromPath[uuid.UUID]
    ) -> Template:
        return await self._tender_page(request, ctx, tender_id)

    async def _tender_page(
        self,
        request: Request,
        ctx: OrgContext,
        tender_id: uuid.UUID,
        status: int = 200,
        **extra: Any,
    ) -> Template:
        actor = Actor.of(ctx)
        async with request.app.state.db.session(ctx.scope) as session:
            tender = await tenders.visible_tender(session, tender_id)
            own = tender.tenant_id == actor.org.id
            context = {
                "tender": tender,
                "own": own,
                "answers": await tender_reads.answers(session, tender),
                "questions": await tender_reads.questions(session, tender),
                "revisions": history(await tender_reads.revisions(session, tender)),
                "invited": await tender_reads.invitees(session, tender) if own else [],
                "ceiling_set": await tender_reads.ceiling_set(session, tender) if own else False,
                "my_bid": await tender_reads.own_bid(session, actor.org, tender)
                if actor.org.kind == "vendor"
                else None,
            }
        return _render(
            request,
            ctx,
            "procurement/tender.html",
            status,
            now=utcnow(),
            cancel_reasons=tenders.CANCEL_REASONS,
            **context,
            **extra,
        )

    async def _act(
        self,
        request: Request,
        ctx: OrgContext,
        change: Callable[[AsyncSession], Awaitable[Any]],
        *,
        prefix: str,
        done: str,
        back: Callable[[Any], str],
        origin: Callable[..., Awaitable[Template]],
        form: dict[str, str] | None = None,
    ) -> Template | Redirect:
        """Run one change in the organization's transaction, then go to `back(result)`; on
        bad input or a wrong state show the `origin` page again, the message keyed
        `{prefix}-{field}` (or `{prefix}` for a conflict) to sit next to its control."""
        try:
            async with request.app.state.db.session(ctx.scope) as session:
                result = await change(session)
        except InvalidInput as exc:
            errors = {f"{prefix}-{field}": message for field, message in exc.errors.items()}
            return await origin(
                400,
                errors=errors,
                form=form or {},
                problem=_("Some of the input is not valid."),
                focus=next(iter(errors)),
            )
        except Conflict as exc:
            return await origin(
                409,
                errors={prefix: exc.message},
                form=form or {},
                problem=exc.message,
                focus=prefix,
            )
        request.session[FLASH] = done
        return Redirect(f"{forms.base(ctx)}{back(result)}", status_code=303)

    def _on_tender(self, request: Request, ctx: OrgContext, tender_id: uuid.UUID):
        return lambda status, **extra: self._tender_page(request, ctx, tender_id, status, **extra)

    @post("/tenders/{tender_id:uuid}/publish", name="procurement:tender:publish")
    async def publish(
        self, request: Request, ctx: NamedDependency[OrgContext], tender_id: FromPath[uuid.UUID]
    ) -> Template | Redirect:
        actor = Actor.of(ctx)
        return await self._act(
            request,
            ctx,
            lambda s: tenders.publish_tender(s, actor, tender_id, utcnow()),
            prefix="publish",
            done=_("The tender is published. Vendors who follow its category will be told."),
            back=lambda t: f"/tenders/{t.id}",
            origin=self._on_tender(request, ctx, tender_id),
        )

    @post("/tenders/{tender_id:uuid}/cancel", name="procurement:tender:cancel")
    async def cancel(
        self, request: Request, ctx: NamedDependency[OrgContext], tender_id: FromPath[uuid.UUID]
    ) -> Template | Redirect:
        actor, form = Actor.of(ctx), await forms.fields(request, "reason")
        return await self._act(
            request,
            ctx,
            lambda s: tenders.cancel(s, actor, tender_id, form["reason"], utcnow()),
            prefix="cancel",
            done=_("The tender is cancelled."),
            back=lambda t: f"/tenders/{t.id}",
            origin=self._on_tender(request, ctx, tender_id),
            form=form,
        )

    @post("/tenders/{tender_id:uuid}/questions", name="procurement:tender:ask")
    async def ask(
        self, request: Request, ctx: NamedDependency[OrgContext], tender_id: FromPath[uuid.UUID]
    ) -> Template | Redirect:
        actor, form = Actor.of(ctx), await forms.fields(request, "text", limit=5_000)
        return await self._act(
            request,
            ctx,
            lambda s: tenders.ask(s, actor, tender_id, form["text"], utcnow()),
            prefix="ask",
            done=_("Your question is sent. The answer will be published to every vendor."),
            back=lambda q: f"/tenders/{q.tender_id}",
            origin=self._on_tender(request, ctx, tender_id),
            form=form,
        )

    @post("/questions/{question_id:uuid}/answer", name="procurement:question:answer")
    async def answer(
        self, request: Request, ctx: NamedDependency[OrgContext], question_id: FromPath[uuid.UUID]
    ) -> Template | Redirect:
        actor, form = Actor.of(ctx), await forms.fields(request, "answer", limit=9_000)

        async def origin(status: int, **extra: Any) -> Template:
            async with request.app.state.db.session(ctx.scope) as session:
                question = await tender_reads.question(session, question_id)
            return await self._tender_page(request, ctx, question.tender_id, status, **extra)

        return await self._act(
            request,
            ctx,
            lambda s: tenders.answer(s, actor, question_id, form["answer"], utcnow()),
            prefix=f"answer-{question_id}",
            done=_("The answer is published to every vendor."),
            back=lambda a: f"/tenders/{a.tender_id}",
            origin=origin,
            form=form,
        )

    # -- the vendor's bid --------------------------------------------------------------------

    @get("/tenders/{tender_id:uuid}/bid", name="procurement:bid")
    async def bid_form(
        self, request: Request, ctx: NamedDependency[OrgContext], tender_id: FromPath[uuid.UUID]
    ) -> Template:
        return await self._bid_page(request, ctx, tender_id)

    async def _bid_page(
        self, request: Request, ctx: OrgContext, tender_id: uuid.UUID, status: int = 200, **extra
    ) -> Template:
        actor = Actor.of(ctx)
        actor.require(tenders.VENDOR, kinds=("vendor",))
        async with request.app.state.db.session(ctx.scope) as session:
            tender = await tenders.visible_tender(session, tender_id)
            mine = await tender_reads.own_bid(session, actor.org, tender)
        current = mine if mine and mine.round == tender.round else None
        extra.setdefault(
            "form",
            {
                **{
                    f"band_price_{i}": str(p)
                    for i, p in enumerate(current.band_prices if current else [])
                },
                "one_off_fee": str(current.one_off_fee) if current else "0",
                "technical_proposal": current.technical_proposal if current else "",
            },
        )
        return _render(
            request,
            ctx,
            "procurement/tender_bid.html",
            status,
            tender=tender,
            mine=mine,
            current=current,
            now=utcnow(),
            **extra,
        )

    @post("/tenders/{tender_id:uuid}/bid", name="procurement:bid:submit")
    async def submit_bid(
        self, request: Request, ctx: NamedDependency[OrgContext], tender_id: FromPath[uuid.UUID]
    ) -> Template | Redirect:
        actor = Actor.of(ctx)
        actor.require(tenders.VENDOR, kinds=("vendor",))
        raw = await request.form()
        form = {
            k: forms.text(raw, k, 60_000)
            for k in raw
            if k.startswith("band_price_") or k in ("one_off_fee", "technical_proposal")
        }

        async def change(session: AsyncSession) -> Any:
            tender = await tenders.visible_tender(session, tender_id)
            checks = Checks()
            prices = [
                forms.whole(form.get(f"band_price_{i}", ""), f"band_price_{i}", checks)
                for i in range(len(tender.band_thresholds))
            ]
            fee = forms.whole(form.get("one_off_fee", "") or "0", "one_off_fee", checks)
            checks.raise_any()
            data = tenders.BidInput(prices, fee, form.get("technical_proposal", ""))
            return await tenders.submit_bid(session, actor, tender_id, data, utcnow())

        return await self._act(
            request,
            ctx,
            change,
            prefix="bid",
            done=_("Your sealed bid is saved. You may replace it until the deadline."),
            back=lambda b: f"/tenders/{b.tender_id}/bid",
            origin=lambda status, **extra: self._bid_page(request, ctx, tender_id, status, **extra),
            form=form,
        )

    # -- evaluation and decisions (the operator) ---------------------------------------------

    @get("/tenders/{tender_id:uuid}/evaluation", name="procurement:tender:evaluation")
    async def evaluation(
        self, request: Request, ctx: NamedDependency[OrgContext], tender_id: FromPath[uuid.UUID]
    ) -> Template:
        return await self._evaluation_page(request, ctx, tender_id)

    async def _evaluation_page(
        self, request: Request, ctx: OrgContext, tender_id: uuid.UUID, status: int = 200, **extra
    ) -> Template:
        async with request.app.state.db.session(ctx.scope) as session:
            view = await tender_reads.evaluation_view(session, Actor.of(ctx), tender_id)
        return _render(
            request, ctx, "procurement/tender_evaluation.html", status, view=view, **extra
        )

    def _decide(
        self,
        request: Request,
        ctx: OrgContext,
        tender_id: uuid.UUID,
        change: Callable[[AsyncSession], Awaitable[Any]],
        *,
        prefix: str,
        done: str,
        form: dict[str, str] | None = None,
    ) -> Awaitable[Template | Redirect]:
        """A decision taken on the evaluation page, which it returns to."""
        return self._act(
            request,
            ctx,
            change,
            prefix=prefix,
            done=done,
            back=lambda _result: f"/tenders/{tender_id}/evaluation",
            origin=lambda status, **extra: self._evaluation_page(
                request, ctx, tender_id, status, **extra
            ),
            form=form,
        )

    @post("/tenders/{tender_id:uuid}/scores/{vendor:str}", name="procurement:tender:score")
    async def score(
        self,
        request: Request,
        ctx: NamedDependency[OrgContext],
        tender_id: FromPath[uuid.UUID],
        vendor: FromPath[str],
    ) -> Template | Redirect:
        actor, form = Actor.of(ctx), await forms.fields(request, "score")
        actor.require("evaluator", kinds=("operator",))

        async def change(session: AsyncSession) -> Any:
            found = await tender_reads.vendor_by_slug(session, vendor)
            checks = Checks()
            value = forms.whole(form["score"], "score", checks)
            checks.raise_any()
            return await opening.score(session, actor, tender_id, found.id, value)

        return await self._decide(
            request,
            ctx,
            tender_id,
            change,
            prefix=f"score-{vendor}",
            done=_("The technical score is saved."),
            form=form,
        )

    @post("/tenders/{tender_id:uuid}/award", name="procurement:tender:award")
    async def award(
        self, request: Request, ctx: NamedDependency[OrgContext], tender_id: FromPath[uuid.UUID]
    ) -> Template | Redirect:
        actor = Actor.of(ctx)
        return await self._decide(
            request,
            ctx,
            tender_id,
            lambda s: opening.award(s, actor, tender_id, utcnow()),
            prefix="award",
            done=_("Awarded. Every participant now has its contract line."),
        )

    @post("/tenders/{tender_id:uuid}/rebid", name="procurement:tender:rebid")
    async def rebid(
        self, request: Request, ctx: NamedDependency[OrgContext], tender_id: FromPath[uuid.UUID]
    ) -> Template | Redirect:
        actor, form = Actor.of(ctx), await forms.fields(request, "bid_deadline")

        async def change(session: AsyncSession) -> Any:
            checks = Checks()
            deadline = forms.moment(form["bid_deadline"], "bid_deadline", checks)
            checks.raise_any()
            return await opening.rebid(session, actor, tender_id, deadline, utcnow())

        return await self._decide(
            request,
            ctx,
            tender_id,
            change,
            prefix="rebid",
            done=_("A new round of bidding is open (再度入札)."),
            form=form,
        )

    @post("/tenders/{tender_id:uuid}/unsuccessful", name="procurement:tender:unsuccessful")
    async def unsuccessful(
        self, request: Request, ctx: NamedDependency[OrgContext], tender_id: FromPath[uuid.UUID]
    ) -> Template | Redirect:
        actor = Actor.of(ctx)
        return await self._decide(
            request,
            ctx,
            tender_id,
            lambda s: opening.declare_unsuccessful(s, actor, tender_id, utcnow()),
            prefix="unsuccessful",
            done=_("The tender is declared unsuccessful (不調)."),
        )

    @post("/tenders/{tender_id:uuid}/undo-award", name="procurement:tender:undo_award")
    async def undo_award(
        self, request: Request, ctx: NamedDependency[OrgContext], tender_id: FromPath[uuid.UUID]
    ) -> Template | Redirect:
        actor, form = Actor.of(ctx), await forms.fields(request, "reason")
        return await self._decide(
            request,
            ctx,
            tender_id,
            lambda s: opening.undo_award(s, actor, tender_id, form["reason"], utcnow()),
            prefix="undo",
            done=_("The award is undone and its contract lines are void."),
            form=form,
        )

    # -- results and allocation --------------------------------------------------------------

    @get("/tenders/{tender_id:uuid}/result", name="procurement:tender:result")
    async def result(
        self, request: Request, ctx: NamedDependency[OrgContext], tender_id: FromPath[uuid.UUID]
    ) -> Template:
        async with request.app.state.db.session(ctx.scope) as session:
            view = await tender_reads.result_view(session, Actor.of(ctx), tender_id)
        return _render(request, ctx, "procurement/tender_result.html", view=view)

    @get("/needs/{id:uuid}/allocation", name="procurement:allocation")
    async def allocation(
        self, request: Request, ctx: NamedDependency[OrgContext], id: FromPath[uuid.UUID]
    ) -> Template:
        async with request.app.state.db.session(ctx.scope) as session:
            view = await tender_reads.allocation_view(session, Actor.of(ctx), id)
        return _render(request, ctx, "procurement/allocation.html", view=view)
