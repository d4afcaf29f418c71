"""Demo data for `kyodo dev`: joint procurements in every state, made through the services.

The services take `now`, so history is made by passing past moments: a need published 160 days
ago with a deadline 130 days ago has simply had its deadline pass. Open deadlines lie ahead of
the real clock, so the tick leaves those states alone.

| title (owner) | need status | tender |
|---|---|---|
| 庁内無線LANアクセスポイント更新 (千代田区) | draft | |
| 職員向け生成AIチャットボット (千代田区) | pending_approval | |
| 情報セキュリティ研修 (千代田区) | returned, with the approver's comment | |
| AI-OCR 帳票読取サービス (千代田区) | published, 3 joiners | |
| Webカメラ・ヘッドセット (八王子市) | published, 1 joiner | |
| GIGAスクール端末 予備機 (町田市) | closed | |
| グループウェア・ライセンス更新 (千代田区) | tendering | published, sealed bids of A and B |
| 庁内ネットワーク機器 保守 (渋谷区) | tendering | opened, every bid over the ceiling |
| 電子契約クラウドサービス (八王子市) | unsuccessful | no bid |
| 防災用タブレット端末 (利島村) | cancelled | cancelled (specification) |
| 業務用ノートPC (千代田区) | awarded | 5 municipalities, contract lines |

Idempotent: a procurement whose title already exists in its owner's organization is skipped.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from kyodo.db import Database, Scope
from kyodo.models import Membership, Organization, Person, RoleGrant
from kyodo.settings import Settings
from procurement import needs, opening, tenders
from procurement.actors import Actor
from procurement.models import Need, ProcurementSettings
from tenants import seed as tenants_seed

DAY = timedelta(days=1)
CHIYODA, APPROVER = "buyer@131016.example", "approver@131016.example"
MACHIDA, TOSHIMA = "buyer@132098.example", "buyer@133621.example"
SHIBUYA, HACHIOJI = "buyer@131130.example", "buyer@132012.example"
OPERATOR = "admin@govtech.example"
VENDOR_A, VENDOR_B = "sales@vendor-a.example", "sales@vendor-b.example"
PEOPLE = (CHIYODA, APPROVER, MACHIDA, TOSHIMA, SHIBUYA, HACHIOJI, OPERATOR, VENDOR_A, VENDOR_B)
# Buyers whose organizations join without an approval step of their own (a setting).
WITHOUT_APPROVAL = (MACHIDA, TOSHIMA, SHIBUYA, HACHIOJI)


async def seed_demo(db: Database, settings: Settings) -> None:
    # Manifests are seeded in name order, which puts procurement before tenants: make sure the
    # organizations and demo people exist first (the tenants seed does nothing the second time).
    await tenants_seed.seed_demo(db, settings)
    people = await demo_actors(db)
    if people is None:
        return  # a database seeded before these demo people existed: leave it alone
    demo = Demo(db, people, datetime.now(UTC).replace(minute=0, second=0, microsecond=0))
    await demo.switch_approval_off()
    for story in (
        demo.draft,
        demo.pending_approval,
        demo.returned,
        demo.published,
        demo.published_elsewhere,
        demo.closed,
        demo.tendering,
        demo.opened,
        demo.unsuccessful,
        demo.cancelled,
        demo.awarded,
    ):
        await story()


async def demo_actors(db: Database) -> dict[str, Actor] | None:
    """The demo people as they act in their organization, or None if one is missing."""
    found = {}
    for email in PEOPLE:
        async with db.session(Scope.anonymous()) as s:
            person = await s.scalar(select(Person).where(Person.email == email))
        if person is None:
            return None
        async with db.session(Scope(person_id=person.id)) as s:
            membership = await s.scalar(select(Membership).where(Membership.person_id == person.id))
            roles = await s.scalars(
                select(RoleGrant.role).where(RoleGrant.membership_id == membership.id)
            )
            org = await s.get(Organization, membership.tenant_id)
            found[email] = Actor(org=org, person_id=person.id, roles=frozenset(roles))
    return found


def _need(title, category, unit, quantity, price, deadline, spec) -> needs.NeedInput:
    return needs.NeedInput(
        title=title,
        category=category,
        unit=unit,
        quantity=quantity,
        estimated_unit_price=price,
        join_deadline=deadline,
        specification=spec,
    )


class Demo:
    def __init__(self, db: Database, people: dict[str, Actor], now: datetime) -> None:
        self.db, self.people, self.now = db, people, now

    # --- steps, each one transaction in the acting organization -----------------------------

    async def switch_approval_off(self) -> None:
        """As the system on behalf of each organization's admin; an existing choice stays."""
        for email in WITHOUT_APPROVAL:
            org = self.people[email].org
            admin = Actor(org=org, person_id=None, roles=frozenset({"admin"}))
            async with self.db.session(admin.scope) as s:
                if await s.get(ProcurementSettings, org.id) is None:
                    await needs.configure(s, admin, approval_required=False)

    async def seeded(self, email: str, data: needs.NeedInput) -> bool:
        """Whether this story was told already (its title exists in its owner's organization)."""
        who = self.people[email]
        async with self.db.session(who.scope) as s:
            found = await s.scalar(
                select(Need.id).where(Need.tenant_id == who.org.id, Need.title == data.title)
            )
        return found is not None

    async def create(
        self, email: str, data: needs.NeedInput, at: datetime, submit: bool = False
    ) -> uuid.UUID:
        who = self.people[email]
        async with self.db.session(who.scope) as s:
            need = await needs.create_need(s, who, data, at)
            if submit:
                await needs.submit_need(s, who, need.id, at)
            return need.id

    async def publish(self, email: str, data: needs.NeedInput, at: datetime) -> uuid.UUID:
        """Drafted and submitted; approved by 千代田区's approver where approval is on."""
        need_id = await self.create(email, data, at, submit=True)
        if email == CHIYODA:
            approver = self.people[APPROVER]
            async with self.db.session(approver.scope) as s:
                await needs.approve_need(s, approver, need_id, at + timedelta(hours=3))
        return need_id

    async def join(self, need_id: uuid.UUID, joiners, at: datetime) -> None:
        """(e-mail, quantity, estimated unit price) joins, a day apart."""
        for i, (email, quantity, price) in enumerate(joiners):
            who = self.people[email]
            async with self.db.session(who.scope) as s:
                await needs.join(s, who, need_id, quantity, price, at + i * DAY)

    async def close(self, email: str, need_id: uuid.UUID, at: datetime) -> None:
        """What the tick does at the join deadline."""
        who = self.people[email]
        async with self.db.session(who.scope) as s:
            need = await s.scalar(select(Need).where(Need.id == need_id).with_for_update())
            await needs.close_demand(s, need, at)

    async def tendered(
        self, email: str, data: needs.NeedInput, joiners, terms, published_at: datetime
    ) -> uuid.UUID:
        """Published, joined, closed at the join deadline, tendered and published a day later."""
        need_id = await self.publish(email, data, published_at)
        await self.join(need_id, joiners, published_at + DAY)
        await self.close(email, need_id, data.join_deadline)
        at = data.join_deadline + DAY
        operator = self.people[OPERATOR]
        async with self.db.session(operator.scope) as s:
            tender = await tenders.create_tender(s, operator, need_id, terms, at)
            await tenders.publish_tender(s, operator, tender.id, at)
            return tender.id

    async def bid(self, email: str, tender_id: uuid.UUID, prices, fee, at: datetime) -> None:
        vendor = self.people[email]
        proposal = "提案書（デモ）: 導入・保守体制と自治体での納入実績を記載。"
        async with self.db.session(vendor.scope) as s:
            await tenders.submit_bid(
                s, vendor, tender_id, tenders.BidInput(prices, fee, proposal), at
            )

    async def open_bids(self, at: datetime) -> None:
        """The tick at a past bid deadline: only tenders due by then open."""
        await opening.open_due(self.db, at)

    # --- one story per state ---------------------------------------------------------------

    async def draft(self) -> None:
        data = _need(
            "庁内無線LANアクセスポイント更新",
            "network",
            "台",
            40,
            85_000,
            self.now + 40 * DAY,
            "Wi-Fi 6E 対応、PoE 給電、既存コントローラとの互換性。",
        )
        if not await self.seeded(CHIYODA, data):
            await self.create(CHIYODA, data, self.now - 2 * DAY)

    async def pending_approval(self) -> None:
        data = _need(
            "職員向け生成AIチャットボット",
            "chatbot",
            "ライセンス",
            300,
            24_000,
            self.now + 35 * DAY,
            "年間利用。入力データを学習に使わないこと、国内リージョンで処理すること。",
        )
        if not await self.seeded(CHIYODA, data):
            await self.create(CHIYODA, data, self.now - DAY, submit=True)

    async def returned(self) -> None:
        data = _need(
            "情報セキュリティ研修（eラーニング）",
            "training",
            "人",
            500,
            3_000,
            self.now + 30 * DAY,
            "全職員向け、年1回、修了テスト付き。",
        )
        if await self.seeded(CHIYODA, data):
            return
        need_id = await self.create(CHIYODA, data, self.now - 5 * DAY, submit=True)
        approver = self.people[APPROVER]
        comment = "受講対象者の内訳（正規職員・会計年度任用職員）を添えて再提出してください。"
        async with self.db.session(approver.scope) as s:
            await needs.return_need(s, approver, need_id, comment)

    async def published(self) -> None:
        data = _need(
            "AI-OCR 帳票読取サービス（年間）",
            "ai_ocr",
            "千枚",
            200,
            9_000,
            self.now + 21 * DAY,
            "手書き申請書の読取。LGWAN 接続、読取結果の CSV 出力。",
        )
        if await self.seeded(CHIYODA, data):
            return
        need_id = await self.publish(CHIYODA, data, self.now - 6 * DAY)
        joiners = ((MACHIDA, 120, 9_500), (TOSHIMA, 5, 12_000), (SHIBUYA, 150, 8_800))
        await self.join(need_id, joiners, self.now - 5 * DAY)

    async def published_elsewhere(self) -> None:
        data = _need(
            "Webカメラ・ヘッドセット（オンライン会議用）",
            "devices",
            "セット",
            200,
            18_000,
            self.now + 28 * DAY,
            "フルHD、ノイズキャンセリング、USB接続。",
        )
        if await self.seeded(HACHIOJI, data):
            return
        need_id = await self.publish(HACHIOJI, data, self.now - 2 * DAY)
        await self.join(need_id, ((TOSHIMA, 3, 20_000),), self.now - DAY)

    async def closed(self) -> None:
        data = _need(
            "GIGAスクール端末 予備機",
            "devices",
            "台",
            300,
            55_000,
            self.now - 10 * DAY,
            "児童生徒用端末の故障時予備。キーボード付きカバー同梱。",
        )
        if await self.seeded(MACHIDA, data):
            return
        need_id = await self.publish(MACHIDA, data, self.now - 45 * DAY)
        joiners = ((HACHIOJI, 200, 56_000), (SHIBUYA, 100, 60_000))
        await self.join(need_id, joiners, self.now - 40 * DAY)
        await self.close(MACHIDA, need_id, data.join_deadline)

    async def tendering(self) -> None:
        """A published tender with sealed bids of both vendors; the bid deadline is ahead."""
        data = _need(
            "グループウェア・ライセンス更新",
            "software",
            "ライセンス",
            1_200,
            9_800,
            self.now - 40 * DAY,
            "年間サブスクリプション。SSO（SAML）対応、ログ保管1年。",
        )
        if await self.seeded(CHIYODA, data):
            return
        terms = tenders.TenderTermsInput(
            method="open",
            criteria="lowest_price",
            bid_deadline=self.now + 7 * DAY,
            question_deadline=self.now + 2 * DAY,
            ceiling_unit_price=9_500,
            minimum_unit_price=7_000,
        )
        joiners = ((MACHIDA, 800, 10_500), (TOSHIMA, 60, 12_000))
        tender_id = await self.tendered(CHIYODA, data, joiners, terms, self.now - 70 * DAY)
        await self.bid(VENDOR_A, tender_id, [9_200], 0, self.now - 3 * DAY)
        await self.bid(VENDOR_B, tender_id, [9_350], 0, self.now - 2 * DAY)

    async def opened(self) -> None:
        """Opened with every bid over the ceiling: the operator may call a rebid."""
        data = _need(
            "庁内ネットワーク機器 保守（3年）",
            "network",
            "拠点",
            40,
            300_000,
            self.now - 80 * DAY,
            "L3スイッチ・ファイアウォールのオンサイト保守、4時間以内駆付け。",
        )
        if await self.seeded(SHIBUYA, data):
            return
        deadline = self.now - 50 * DAY
        terms = tenders.TenderTermsInput(
            method="open",
            criteria="lowest_price",
            bid_deadline=deadline,
            ceiling_unit_price=280_000,
        )
        joiners = ((HACHIOJI, 30, 320_000),)
        tender_id = await self.tendered(SHIBUYA, data, joiners, terms, self.now - 100 * DAY)
        await self.bid(VENDOR_A, tender_id, [295_000], 0, deadline - 5 * DAY)
        await self.bid(VENDOR_B, tender_id, [310_000], 0, deadline - 4 * DAY)
        await self.open_bids(deadline)

    async def unsuccessful(self) -> None:
        """A selective tender nobody bid for, declared unsuccessful (不調)."""
        data = _need(
            "電子契約クラウドサービス",
            "cloud",
            "アカウント",
            50,
            36_000,
            self.now - 130 * DAY,
            "電子署名・タイムスタンプ付与、ISMAP 登録サービス。",
        )
        if await self.seeded(HACHIOJI, data):
            return
        deadline = self.now - 100 * DAY
        terms = tenders.TenderTermsInput(
            method="selective",
            criteria="lowest_price",
            bid_deadline=deadline,
            ceiling_unit_price=30_000,
            max_rounds=1,
            invited_vendors=["vendor-b"],
        )
        joiners = ((TOSHIMA, 2, 40_000),)
        tender_id = await self.tendered(HACHIOJI, data, joiners, terms, self.now - 160 * DAY)
        await self.open_bids(deadline)
        operator = self.people[OPERATOR]
        async with self.db.session(operator.scope) as s:
            await opening.declare_unsuccessful(s, operator, tender_id, deadline + DAY)

    async def cancelled(self) -> None:
        data = _need(
            "防災用タブレット端末",
            "devices",
            "台",
            10,
            80_000,
            self.now - 60 * DAY,
            "屋外利用（IP68）、LTE 内蔵、避難所受付アプリ動作確認済み。",
        )
        if await self.seeded(TOSHIMA, data):
            return
        terms = tenders.TenderTermsInput(
            method="open",
            criteria="lowest_price",
            bid_deadline=self.now + 10 * DAY,
            ceiling_unit_price=75_000,
        )
        joiners = ((MACHIDA, 40, 78_000),)
        tender_id = await self.tendered(TOSHIMA, data, joiners, terms, self.now - 90 * DAY)
        operator = self.people[OPERATOR]
        async with self.db.session(operator.scope) as s:
            await tenders.cancel(s, operator, tender_id, "specification", self.now - 20 * DAY)

    async def awarded(self) -> None:
        """Five municipalities, volume bands and a one-off fee split by quantity."""
        data = _need(
            "業務用ノートPC（共同調達）",
            "devices",
            "台",
            120,
            165_000,
            self.now - 130 * DAY,
            "14インチ、メモリ16GB、SSD 512GB、LTE 対応、5年保守。キッティング一式。",
        )
        if await self.seeded(CHIYODA, data):
            return
        deadline = self.now - 100 * DAY
        terms = tenders.TenderTermsInput(
            method="open",
            criteria="lowest_price",
            bid_deadline=deadline,
            question_deadline=deadline - 10 * DAY,
            ceiling_unit_price=150_000,
            minimum_unit_price=100_000,
            band_thresholds=[1, 100, 300],
        )
        joiners = (
            (MACHIDA, 80, 170_000),
            (SHIBUYA, 60, 160_000),
            (HACHIOJI, 40, 175_000),
            (TOSHIMA, 5, 190_000),
        )
        tender_id = await self.tendered(CHIYODA, data, joiners, terms, self.now - 160 * DAY)
        await self.bid(
            VENDOR_A, tender_id, [148_000, 141_000, 132_800], 800_000, deadline - 6 * DAY
        )
        await self.bid(VENDOR_B, tender_id, [149_500, 143_000, 136_000], 0, deadline - 5 * DAY)
        await self.open_bids(deadline)
        operator = self.people[OPERATOR]
        async with self.db.session(operator.scope) as s:
            await opening.award(s, operator, tender_id, deadline + 2 * DAY)
