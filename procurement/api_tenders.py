"""JSON API of the operator and vendor side: tenders, Q&A, sealed bids, opening, award, results
and each organization's allocation. Under /api/v1/o/{org}/procurement/.

Bodies are msgspec Structs with bounds (400 with the field named before any service runs; times
must carry their time zone; amounts are whole yen). The services answer 403 for a missing role
or the wrong kind of organization, 404 for what the organization may not see, and 409 for the
wrong state or a passed deadline.

The ceiling and minimum prices are never part of a tender's representation, not even for the
operator who set them (`ceiling_set` says they are there); they appear in the evaluation and the
result, which exist only once the bids are opened.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, get, post, put
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncSession

from kyodo.auth.context import OrgContext, provide_org
from kyodo.db import utcnow
from kyodo.errors import Conflict, InvalidInput, NotFound
from kyodo.models import Organization
from kyodo.web.i18n import _
from procurement import opening, tender_reads, tenders
from procurement.actors import Actor
from procurement.evaluation import WEIGHTED
from procurement.models import (
    MAX_QUANTITY,
    MAX_YEN,
    Answer,
    Award,
    Bid,
    ContractLine,
    Question,
    Result,
    Tender,
)

Method = Literal[tenders.METHODS]  # type: ignore[valid-type]
Criteria = Literal[tenders.CRITERIA]  # type: ignore[valid-type]
CancelReason = Literal[tenders.CANCEL_REASONS]  # type: ignore[valid-type]
Yen = Annotated[int, msgspec.Meta(ge=1, le=MAX_YEN)]
Fee = Annotated[int, msgspec.Meta(ge=0, le=MAX_YEN)]
Threshold = Annotated[int, msgspec.Meta(ge=1, le=MAX_QUANTITY)]
Deadline = Annotated[datetime, msgspec.Meta(tz=True)]
Weight = Annotated[int, msgspec.Meta(ge=0, le=100)]
Slug = Annotated[str, msgspec.Meta(min_length=1, max_length=40)]


# --- input -------------------------------------------------------------------------------------


class Weights(msgspec.Struct, forbid_unknown_fields=True):
    """総合評価: points for price and for the technical proposal, adding up to 100."""

    price: Weight
    technical: Weight


class TenderIn(msgspec.Struct, forbid_unknown_fields=True):
    method: Method
    criteria: Criteria
    ceiling_unit_price: Yen
    bid_deadline: Deadline
    minimum_unit_price: Yen | None = None
    weights: Weights | None = None  # required for 総合評価
    band_thresholds: Annotated[
        list[Threshold], msgspec.Meta(min_length=1, max_length=tenders.MAX_BANDS)
    ] = msgspec.field(default_factory=lambda: [1])
    question_deadline: Deadline | None = None
    max_rounds: Annotated[int, msgspec.Meta(ge=1, le=5)] = 3
    invited_vendors: Annotated[list[Slug], msgspec.Meta(max_length=100)] = msgspec.field(
        default_factory=list
    )

    def to_input(self) -> tenders.TenderTermsInput:
        if self.criteria == WEIGHTED and self.weights is None:
            raise InvalidInput({"weights": _("Price and technical weights must add up to 100.")})
        weights = self.weights or Weights(price=100, technical=0)
        return tenders.TenderTermsInput(
            method=self.method,
            criteria=self.criteria,
            bid_deadline=self.bid_deadline,
            ceiling_unit_price=self.ceiling_unit_price,
            minimum_unit_price=self.minimum_unit_price,
            price_weight=weights.price,
            technical_weight=weights.technical,
            band_thresholds=list(self.band_thresholds),
            question_deadline=self.question_deadline,
            max_rounds=self.max_rounds,
            invited_vendors=list(self.invited_vendors),
        )


class QuestionIn(msgspec.Struct, forbid_unknown_fields=True):
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]


class AnswerIn(msgspec.Struct, forbid_unknown_fields=True):
    answer: Annotated[str, msgspec.Meta(min_length=1, max_length=8000)]


class BidIn(msgspec.Struct, forbid_unknown_fields=True):
    band_prices: Annotated[list[Yen], msgspec.Meta(min_length=1, max_length=tenders.MAX_BANDS)]
    one_off_fee: Fee = 0
    technical_proposal: Annotated[str, msgspec.Meta(max_length=50_000)] = ""

    def to_input(self) -> tenders.BidInput:
        return tenders.BidInput(list(self.band_prices), self.one_off_fee, self.technical_proposal)


class ScoreIn(msgspec.Struct, forbid_unknown_fields=True):
    score: Annotated[int, msgspec.Meta(ge=0, le=100)]


class RebidIn(msgspec.Struct, forbid_unknown_fields=True):
    bid_deadline: Deadline


class CancelIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: CancelReason


class UndoIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]


# --- output ------------------------------------------------------------------------------------


class OrgOut(msgspec.Struct):
    slug: str
    name_ja: str
    name_en: str

    @classmethod
    def of(cls, org: Organization) -> OrgOut:
        return cls(org.slug, org.name_ja, org.name_en)


class TenderOut(msgspec.Struct, omit_defaults=True):
    id: str
    status: str
    need_id: str
    title: str
    category: str
    specification: str
    unit: str
    quantity: int
    method: str
    criteria: str
    weights: Weights
    band_thresholds: list[int]
    question_deadline: datetime | None
    bid_deadline: datetime
    round: int
    max_rounds: int
    version: int
    published_at: datetime | None
    cancel_reason: str | None
    # The operator's own view only: that the secret prices are set (never their amounts), and
    # whom it invited (vendors never learn who else competes).
    ceiling_set: bool | None = None
    invited_vendors: list[str] | None = None

    @classmethod
    def of(cls, t: Tender, **operator_only: Any) -> TenderOut:
        return cls(
            id=str(t.id),
            status=t.status,
            need_id=str(t.need_id),
            title=t.title,
            category=t.category,
            specification=t.specification,
            unit=t.unit,
            quantity=t.quantity,
            method=t.method,
            criteria=t.criteria,
            weights=Weights(price=t.price_weight, technical=t.technical_weight),
            band_thresholds=list(t.band_thresholds),
            question_deadline=t.question_deadline,
            bid_deadline=t.bid_deadline,
            round=t.round,
            max_rounds=t.max_rounds,
            version=t.version,
            published_at=t.published_at,
            cancel_reason=t.cancel_reason,
            **operator_only,
        )


class TenderSummaryOut(msgspec.Struct):
    id: str
    status: str
    title: str
    category: str
    quantity: int
    unit: str
    method: str
    criteria: str
    question_deadline: datetime | None
    bid_deadline: datetime
    round: int
    published_at: datetime | None


class RevisionOut(msgspec.Struct):
    version: int
    terms: dict[str, Any]
    changed_at: datetime


class QuestionOut(msgspec.Struct):
    id: str
    tender_id: str
    text: str
    asked_at: datetime
    answered: bool

    @classmethod
    def of(cls, q: Question, answered: bool) -> QuestionOut:
        return cls(str(q.id), str(q.tender_id), q.text, q.asked_at, answered)


class AnswerOut(msgspec.Struct):
    """A published answer: the question's text and the answer, never who asked."""

    id: str
    question_id: str | None
    question: str
    answer: str
    published_at: datetime

    @classmethod
    def of(cls, a: Answer) -> AnswerOut:
        question_id = str(a.question_id) if a.question_id else None
        return cls(str(a.id), question_id, a.question, a.answer, a.published_at)


class BidOut(msgspec.Struct):
    round: int
    band_prices: list[int]
    one_off_fee: int
    technical_proposal: str
    submitted_at: datetime
    replaced_count: int

    @classmethod
    def of(cls, b: Bid | None) -> BidOut | None:
        if b is None:
            return None
        return cls(
            b.round,
            list(b.band_prices),
            b.one_off_fee,
            b.technical_proposal,
            b.submitted_at,
            b.replaced_count,
        )


class DrawOut(msgspec.Struct):
    """The lottery (くじ) that settled a tie: replay it from the seed (see evaluation.py)."""

    tied: list[str]
    seed: int
    winner: str


class RankedOut(msgspec.Struct):
    vendor: str
    unit_price: int
    total: int
    valid: bool
    invalid_reason: str | None
    price_points: float
    technical_points: float
    rank: int | None


class EvaluationRowOut(msgspec.Struct):
    vendor: OrgOut
    band_prices: list[int]
    one_off_fee: int
    unit_price: int
    total: int
    valid: bool
    invalid_reason: str | None
    technical_score: int | None
    price_points: float
    technical_points: float
    rank: int | None
    technical_proposal: str


class EvaluationOut(msgspec.Struct):
    tender_id: str
    status: str
    round: int
    opened_at: datetime
    criteria: str
    quantity: int
    ceiling_unit_price: int
    minimum_unit_price: int | None
    outcome: str
    rows: list[EvaluationRowOut]
    draw: DrawOut | None
    can_award: bool
    can_rebid: bool
    can_declare_unsuccessful: bool


class ScoreOut(msgspec.Struct):
    vendor: str
    score: int


class AwardOut(msgspec.Struct):
    tender_id: str
    vendor: OrgOut
    unit_price: int
    one_off_fee: int
    awarded_at: datetime


class RoundOut(msgspec.Struct):
    round: int
    opened_at: datetime
    ceiling_unit_price: int
    minimum_unit_price: int | None
    outcome: str
    ranking: list[RankedOut]
    draw: DrawOut | None


class ResultOut(msgspec.Struct, omit_defaults=True):
    tender_id: str
    status: str
    rounds: list[RoundOut]
    award: AwardOut | None
    # A vendor's own view: "awarded", "not awarded" or "pending", and its latest bid.
    outcome: str | None = None
    my_bid: BidOut | None = None


class LineOut(msgspec.Struct):
    organization: OrgOut
    quantity: int
    unit_price: int
    goods_amount: int
    fee_share: int
    total: int
    estimated_unit_price: int
    estimated_total: int
    saving: int
    alone_unit_price: int | None  # with volume bands: the price at its own volume alone
    alone_total: int | None

    @classmethod
    def of(cls, line: ContractLine, org: Organization) -> LineOut:
        return cls(
            organization=OrgOut.of(org),
            quantity=line.quantity,
            unit_price=line.unit_price,
            goods_amount=line.goods_amount,
            fee_share=line.fee_share,
            total=line.total,
            estimated_unit_price=line.estimated_total // line.quantity,
            estimated_total=line.estimated_total,
            saving=line.saving,
            alone_unit_price=line.alone_unit_price,
            alone_total=line.alone_total,
        )


class AllocationOut(msgspec.Struct, omit_defaults=True):
    need_id: str
    tender_id: str | None
    status: str
    vendor: OrgOut | None
    unit_price: int | None
    one_off_fee: int | None
    lines: list[LineOut]
    outcome: str | None = None  # vendors: "awarded" / "not awarded"
    my_bid: BidOut | None = None


def _draw(tied: list[str], winner: str, seed: int, slugs: dict[str, str]) -> DrawOut:
    """The lottery with vendors by slug; `slugs` maps vendor ids (as text) to slugs."""
    return DrawOut([slugs.get(k, k) for k in tied], seed, slugs.get(winner, winner))


def _award_out(award: Award | None, vendor: Organization | None) -> AwardOut | None:
    if award is None or vendor is None:
        return None
    return AwardOut(
        str(award.tender_id),
        OrgOut.of(vendor),
        award.unit_price,
        award.one_off_fee,
        award.awarded_at,
    )


def _round_out(r: Result) -> RoundOut:
    slugs = {e["vendor_id"]: e["vendor"] for e in r.ranking}
    return RoundOut(
        round=r.round,
        opened_at=r.opened_at,
        ceiling_unit_price=r.ceiling_unit_price,
        minimum_unit_price=r.minimum_unit_price,
        outcome=r.outcome,
        ranking=[msgspec.convert(e, RankedOut) for e in r.ranking],
        draw=_draw(r.draw["tied"], r.draw["winner"], r.draw["seed"], slugs) if r.draw else None,
    )


async def tender_out(session: AsyncSession, actor: Actor, tender: Tender) -> TenderOut:
    if tender.tenant_id != actor.org.id:
        return TenderOut.of(tender)
    invited = await tender_reads.invitees(session, tender)
    return TenderOut.of(
        tender,
        ceiling_set=await tender_reads.ceiling_set(session, tender),
        invited_vendors=[v.slug for v in invited],
    )


def evaluation_out(view: tender_reads.EvaluationView) -> EvaluationOut:
    t, r, d = view.tender, view.result, view.draw
    slugs = {str(row.vendor.id): row.vendor.slug for row in view.rows}
    return EvaluationOut(
        tender_id=str(t.id),
        status=t.status,
        round=r.round,
        opened_at=r.opened_at,
        criteria=t.criteria,
        quantity=t.quantity,
        ceiling_unit_price=r.ceiling_unit_price,
        minimum_unit_price=r.minimum_unit_price,
        outcome=r.outcome,
        rows=[
            EvaluationRowOut(
                vendor=OrgOut.of(row.vendor),
                band_prices=row.band_prices,
                one_off_fee=row.one_off_fee,
                unit_price=row.entry.unit_price,
                total=row.entry.total,
                valid=row.entry.valid,
                invalid_reason=row.entry.invalid_reason,
                technical_score=row.technical_score,
                price_points=float(row.entry.price_points),
                technical_points=float(row.entry.technical_points),
                rank=row.entry.rank,
                technical_proposal=row.technical_proposal,
            )
            for row in view.rows
        ],
        draw=_draw(list(d.tied), d.winner, d.seed, slugs) if d else None,
        can_award=view.can_award,
        can_rebid=view.can_rebid,
        can_declare_unsuccessful=view.can_declare_unsuccessful,
    )


# --- handlers ----------------------------------------------------------------------------------


class TendersApi(Controller):
    path = "/api/v1/o/{org:str}/procurement"
    tags = ["procurement"]  # noqa: RUF012 - Litestar reads these class attributes
    dependencies = {"ctx": Provide(provide_org)}  # noqa: RUF012

    # -- the operator prepares and publishes ---------------------------------------------------

    @post("/needs/{id:uuid}/tender", name="api:procurement:tender:create")
    async def create(
        self,
        request: Request,
        ctx: NamedDependency[OrgContext],
        id: FromPath[uuid.UUID],
        data: TenderIn,
    ) -> TenderOut:
        actor = Actor.of(ctx)
        async with request.app.state.db.session(ctx.scope) as session:
            tender = await tenders.create_tender(session, actor, id, data.to_input(), utcnow())
            return await tender_out(session, actor, tender)

    @post(
        "/tenders/{tender_id:uuid}/publish", name="api:procurement:tender:publish", status_code=200
    )
    async def publish(
        self, request: Request, ctx: NamedDependency[OrgContext], tender_id: FromPath[uuid.UUID]
    ) -> TenderOut:
        actor = Actor.of(ctx)
        async with request.app.state.db.session(ctx.scope) as session:
            tender = await tenders.publish_tender(session, actor, tender_id, utcnow())
            return await tender_out(session, actor, tender)

    @put("/tenders/{tender_id:uuid}", name="api:procurement:tender:edit")
    async def edit(
        self,
        request: Request,
        ctx: NamedDependency[OrgContext],
        tender_id: FromPath[uuid.UUID],
        data: TenderIn,
    ) -> TenderOut:
        actor = Actor.of(ctx)
        async with request.app.state.db.session(ctx.scope) as session:
            tender = await tenders.edit_terms(session, actor, tender_id, data.to_input(), utcnow())
            return await tender_out(session, actor, tender)

    # -- reading -----------------------------------------------------------------------------

    @get("/tenders", name="api:procurement:tenders")
    async def list_tenders(
        self, request: Request, ctx: NamedDependency[OrgContext]
    ) -> list[TenderSummaryOut]:
        async with request.app.state.db.session(ctx.scope) as session:
            found = await tender_reads.visible_tenders(session)
        return [
            TenderSummaryOut(
                id=str(t.id),
                status=t.status,
                title=t.title,
                category=t.category,
                quantity=t.quantity,
                unit=t.unit,
                method=t.method,
                criteria=t.criteria,
                question_deadline=t.question_deadline,
                bid_deadline=t.bid_deadline,
                round=t.round,
                published_at=t.published_at,
            )
            for t in found
        ]

    @get("/tenders/{tender_id:uuid}", name="api:procurement:tender")
    async def read(
        self, request: Request, ctx: NamedDependency[OrgContext], tender_id: FromPath[uuid.UUID]
    ) -> TenderOut:
        actor = Actor.of(ctx)
        async with request.app.state.db.session(ctx.scope) as session:
            tender = await tenders.visible_tender(session, tender_id)
            return await tender_out(session, actor, tender)

    @get("/tenders/{tender_id:uuid}/revisions", name="api:procurement:tender:revisions")
    async def revisions(
        self, request: Request, ctx: NamedDependency[OrgContext], tender_id: FromPath[uuid.UUID]
    ) -> list[RevisionOut]:
        async with request.app.state.db.session(ctx.scope) as session:
            tender = await tenders.visible_tender(session, tender_id)
            found = await tender_reads.revisions(session, tender)
        return [RevisionOut(r.version, r.terms, r.changed_at) for r in found]

    # -- questions and answers ---------------------------------------------------------------

    @post("/tenders/{tender_id:uuid}/questions", name="api:procurement:tender:ask")
    async def ask(
        self,
        request: Request,
        ctx: NamedDependency[OrgContext],
        tender_id: FromPath[uuid.UUID],
        data: QuestionIn,
    ) -> QuestionOut:
        async with request.app.state.db.session(ctx.scope) as session:
            question = await tenders.ask(session, Actor.of(ctx), tender_id, data.text, utcnow())
        return QuestionOut.of(question, answered=False)

    @get("/tenders/{tender_id:uuid}/questions", name="api:procurement:tender:questions")
    async def questions(
        self, request: Request, ctx: NamedDependency[OrgContext], tender_id: FromPath[uuid.UUID]
    ) -> list[QuestionOut]:
        """The operator's inbox (every question), or a vendor's own questions."""
        async with request.app.state.db.session(ctx.scope) as session:
            tender = await tenders.visible_tender(session, tender_id)
            found = await tender_reads.questions(session, tender)
        return [QuestionOut.of(q.question, q.answered) for q in found]

    @get("/tenders/{tender_id:uuid}/answers", name="api:procurement:tender:answers")
    async def answers(
        self, request: Request, ctx: NamedDependency[OrgContext], tender_id: FromPath[uuid.UUID]
    ) -> list[AnswerOut]:
        async with request.app.state.db.session(ctx.scope) as session:
            tender = await tenders.visible_tender(session, tender_id)
            return [AnswerOut.of(a) for a in await tender_reads.answers(session, tender)]

    @post("/questions/{question_id:uuid}/answer", name="api:procurement:question:answer")
    async def answer(
        self,
        request: Request,
        ctx: NamedDependency[OrgContext],
        question_id: FromPath[uuid.UUID],
        data: AnswerIn,
    ) -> AnswerOut:
        async with request.app.state.db.session(ctx.scope) as session:
            reply = await tenders.answer(session, Actor.of(ctx), question_id, data.answer, utcnow())
        return AnswerOut.of(reply)

    # -- the vendor's sealed bid -------------------------------------------------------------

    @put("/tenders/{tender_id:uuid}/bid", name="api:procurement:bid")
    async def bid(
        self,
        request: Request,
        ctx: NamedDependency[OrgContext],
        tender_id: FromPath[uuid.UUID],
        data: BidIn,
    ) -> BidOut:
        async with request.app.state.db.session(ctx.scope) as session:
            mine = await tenders.submit_bid(
                session, Actor.of(ctx), tender_id, data.to_input(), utcnow()
            )
        return BidOut.of(mine)

    @get("/tenders/{tender_id:uuid}/bid", name="api:procurement:bid:read")
    async def own_bid(
        self, request: Request, ctx: NamedDependency[OrgContext], tender_id: FromPath[uuid.UUID]
    ) -> BidOut:
        """The vendor's own latest bid (of any round); 404 when it has none."""
        actor = Actor.of(ctx)
        actor.require(tenders.VENDOR, kinds=("vendor",))
        async with request.app.state.db.session(ctx.scope) as session:
            tender = await tenders.visible_tender(session, tender_id)
            mine = await tender_reads.own_bid(session, actor.org, tender)
        if mine is None:
            raise NotFound
        return BidOut.of(mine)

    # -- opening, evaluation, decisions (the operator) ---------------------------------------

    @get("/tenders/{tender_id:uuid}/evaluation", name="api:procurement:tender:evaluation")
    async def evaluation(
        self, request: Request, ctx: NamedDependency[OrgContext], tender_id: FromPath[uuid.UUID]
    ) -> EvaluationOut:
        async with request.app.state.db.session(ctx.scope) as session:
            view = await tender_reads.evaluation_view(session, Actor.of(ctx), tender_id)
        return evaluation_out(view)

    @put("/tenders/{tender_id:uuid}/scores/{vendor:str}", name="api:procurement:tender:score")
    async def score(
        self,
        request: Request,
        ctx: NamedDependency[OrgContext],
        tender_id: FromPath[uuid.UUID],
        vendor: FromPath[str],
        data: ScoreIn,
    ) -> ScoreOut:
        actor = Actor.of(ctx)
        async with request.app.state.db.session(ctx.scope) as session:
            actor.require("evaluator", kinds=("operator",))
            found = await tender_reads.vendor_by_slug(session, vendor)
            entered = await opening.score(session, actor, tender_id, found.id, data.score)
        return ScoreOut(found.slug, entered.score)

    @post("/tenders/{tender_id:uuid}/award", name="api:procurement:tender:award", status_code=200)
    async def award(
        self, request: Request, ctx: NamedDependency[OrgContext], tender_id: FromPath[uuid.UUID]
    ) -> AwardOut:
        async with request.app.state.db.session(ctx.scope) as session:
            decision = await opening.award(session, Actor.of(ctx), tender_id, utcnow())
            winner = await tender_reads.organizations(session, [decision.vendor_id])
        return _award_out(decision, winner[str(decision.vendor_id)])

    @post("/tenders/{tender_id:uuid}/rebid", name="api:procurement:tender:rebid", status_code=200)
    async def rebid(
        self,
        request: Request,
        ctx: NamedDependency[OrgContext],
        tender_id: FromPath[uuid.UUID],
        data: RebidIn,
    ) -> TenderOut:
        actor = Actor.of(ctx)
        async with request.app.state.db.session(ctx.scope) as session:
            tender = await opening.rebid(session, actor, tender_id, data.bid_deadline, utcnow())
            return await tender_out(session, actor, tender)

    @post(
        "/tenders/{tender_id:uuid}/unsuccessful",
        name="api:procurement:tender:unsuccessful",
        status_code=200,
    )
    async def unsuccessful(
        self, request: Request, ctx: NamedDependency[OrgContext], tender_id: FromPath[uuid.UUID]
    ) -> TenderOut:
        actor = Actor.of(ctx)
        async with request.app.state.db.session(ctx.scope) as session:
            tender = await opening.declare_unsuccessful(session, actor, tender_id, utcnow())
            return await tender_out(session, actor, tender)

    @post("/tenders/{tender_id:uuid}/cancel", name="api:procurement:tender:cancel", status_code=200)
    async def cancel(
        self,
        request: Request,
        ctx: NamedDependency[OrgContext],
        tender_id: FromPath[uuid.UUID],
        data: CancelIn,
    ) -> TenderOut:
        actor = Actor.of(ctx)
        async with request.app.state.db.session(ctx.scope) as session:
            tender = await tenders.cancel(session, actor, tender_id, data.reason, utcnow())
            return await tender_out(session, actor, tender)

    @post(
        "/tenders/{tender_id:uuid}/undo-award",
        name="api:procurement:tender:undo_award",
        status_code=200,
    )
    async def undo_award(
        self,
        request: Request,
        ctx: NamedDependency[OrgContext],
        tender_id: FromPath[uuid.UUID],
        data: UndoIn,
    ) -> TenderOut:
        actor = Actor.of(ctx)
        async with request.app.state.db.session(ctx.scope) as session:
            tender = await opening.undo_award(session, actor, tender_id, data.reason, utcnow())
            return await tender_out(session, actor, tender)

    # -- results and allocation --------------------------------------------------------------

    @get("/tenders/{tender_id:uuid}/result", name="api:procurement:tender:result")
    async def result(
        self, request: Request, ctx: NamedDependency[OrgContext], tender_id: FromPath[uuid.UUID]
    ) -> ResultOut:
        async with request.app.state.db.session(ctx.scope) as session:
            view = await tender_reads.result_view(session, Actor.of(ctx), tender_id)
        return ResultOut(
            tender_id=str(view.tender.id),
            status=view.tender.status,
            rounds=[_round_out(r) for r in view.rounds],
            award=_award_out(view.award, view.winner),
            outcome=view.my_outcome,
            my_bid=BidOut.of(view.my_bid),
        )

    @get("/needs/{id:uuid}/allocation", name="api:procurement:allocation")
    async def allocation(
        self, request: Request, ctx: NamedDependency[OrgContext], id: FromPath[uuid.UUID]
    ) -> AllocationOut:
        async with request.app.state.db.session(ctx.scope) as session:
            view = await tender_reads.allocation_view(session, Actor.of(ctx), id)
        decided = view.award is not None or view.my_outcome == tender_reads.NOT_AWARDED
        if not decided:
            raise Conflict(_("Nothing has been awarded yet."))
        award = view.award
        return AllocationOut(
            need_id=str(view.need_id),
            tender_id=str(view.tender.id) if view.tender else None,
            status=view.tender.status,
            vendor=OrgOut.of(view.winner) if view.winner else None,
            unit_price=award.unit_price if award else None,
            one_off_fee=award.one_off_fee if award else None,
            lines=[LineOut.of(a.line, a.organization) for a in view.lines],
            outcome=view.my_outcome,
            my_bid=BidOut.of(view.my_bid),
        )
