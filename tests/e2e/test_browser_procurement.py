"""Joint procurement in a real browser, person by person (issue 3's main path): 千代田区 drafts
a need and its approver publishes it; 町田市 and 利島村 join from the pool; the operator turns
the closed demand into a tender; two vendors bid; the operator awards; each municipality reads
its own contract line at the pooled price. axe-core checks every page visited.

Only the passage of time is simulated, by running the tick's services with a later `now`."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from playwright.async_api import Browser, Page, expect
from sqlalchemy import select

from kyodo.db import Database, Scope, utcnow
from kyodo.models import Membership, Organization, Person
from kyodo.web.i18n import TOKYO
from procurement import opening, tick
from procurement.actors import Actor
from procurement.needs import configure
from tests import support
from tests.e2e.conftest import axe_check

pytestmark = pytest.mark.browser

TITLE = f"庁内チャットボット {uuid.uuid4().hex[:6]}"
JOINERS = {"132098": 30, "133621": 2}  # 町田市, 利島村: their quantities
OWN_QUANTITY = 50
WINNING_PRICE = 90_000


def local_input(moment) -> str:
    """A datetime-local value, as a person in Japan types it."""
    return moment.astimezone(TOKYO).strftime("%Y-%m-%dT%H:%M")


async def person(browser: Browser, base: str, email: str) -> Page:
    """A signed-in browser of its own for one person (sign-in through the provider's page)."""
    context = await browser.new_context(locale="ja-JP", bypass_csp=True)  # bypass: axe
    context.set_default_timeout(10_000)
    page = await context.new_page()
    await page.goto(f"{base}/auth/login")
    predefined = page.get_by_role("form", name="Authenticate predefined users")
    await predefined.get_by_role("button", name=email, exact=True).click()
    await expect(page).to_have_url(f"{base}/")
    return page


async def menu(page: Page, base: str, slug: str, entry: str) -> None:
    """Open an entry of the organization's menu, then check the page."""
    await page.goto(f"{base}/o/{slug}/")
    await (
        page.get_by_role("navigation", name="組織メニュー")
        .get_by_role("link", name=entry, exact=True)
        .click()
    )
    await axe_check(page)


async def switch_approval_off(db: Database, lg_code: str) -> None:
    """The municipality's admin switching its approval step off (a setting, not the path)."""
    async with db.session(Scope.anonymous()) as s:
        org = await s.scalar(select(Organization).where(Organization.slug == lg_code))
        buyer = await s.scalar(select(Person).where(Person.email == f"buyer@{lg_code}.example"))
    admin = Actor(org=org, person_id=buyer.id, roles=frozenset({"admin"}))
    async with db.session(admin.scope) as s:
        assert await s.scalar(select(Membership).where(Membership.person_id == buyer.id))
        await configure(s, admin, approval_required=False)


async def test_joint_procurement_main_path(
    browser: Browser, live_server: support.LiveServer, live_db: Database
):
    base = live_server.url
    join_deadline = utcnow() + timedelta(minutes=5)

    # 1. 千代田区's officer drafts the need and submits it.
    buyer = await person(browser, base, "buyer@131016.example")
    await menu(buyer, base, "131016", "自団体の調達案件")
    await buyer.get_by_role("link", name="調達案件を起案する").click()
    await axe_check(buyer)
    await buyer.get_by_label("件名").fill(TITLE)
    await buyer.get_by_label("分野").select_option(label="チャットボット")
    await buyer.get_by_label("仕様").fill("住民向けFAQに答えるチャットボット。LGWAN対応。")
    await buyer.get_by_label("単位").fill("ライセンス")
    await buyer.get_by_label("自団体の数量").fill(str(OWN_QUANTITY))
    await buyer.get_by_label("自団体の予定単価（円）").fill("120000")
    await buyer.get_by_label("参加締切（日本時間）").fill(local_input(join_deadline))
    await buyer.get_by_role("button", name="下書きを保存する").click()
    await expect(buyer.get_by_role("status")).to_contain_text("下書きを保存しました")
    need_id = re.search(r"/needs/([0-9a-f-]{36})$", buyer.url).group(1)
    await axe_check(buyer)
    await buyer.get_by_role("button", name="提出する").click()
    await expect(buyer.get_by_role("status")).to_contain_text("決裁に回しました。")
    await axe_check(buyer)

    # Its approver approves it from the queue, which publishes it to the pool.
    approver = await person(browser, base, "approver@131016.example")
    await menu(approver, base, "131016", "決裁")
    await approver.get_by_role("button", name=f"決裁して公開する ({TITLE})").click()
    await expect(approver.get_by_role("status").first).to_contain_text("共同調達の募集に公開")
    await axe_check(approver)

    # 2. 町田市 and 利島村 join from the pool (their approval step is switched off).
    for lg_code, quantity in JOINERS.items():
        await switch_approval_off(live_db, lg_code)
        joiner = await person(browser, base, f"buyer@{lg_code}.example")
        await menu(joiner, base, lg_code, "共同調達")
        row = joiner.get_by_role("row").filter(has=joiner.get_by_role("link", name=TITLE))
        await row.get_by_label("自団体の数量").fill(str(quantity))
        await row.get_by_label("自団体の予定単価（円）").fill("110000")
        await row.get_by_role("button", name=f"参加する ({TITLE})").click()
        await expect(joiner.locator("#pool-status")).to_contain_text("需要に計上しました")
        await axe_check(joiner)
        await joiner.context.close()

    # The join deadline passes: the tick closes the demand.
    await tick.tick(live_db, join_deadline + timedelta(minutes=1))

    # 3. The operator turns the pooled demand into a tender and publishes it.
    bid_deadline = utcnow() + timedelta(minutes=5)
    operator = await person(browser, base, "admin@govtech.example")
    await menu(operator, base, "govtech", "入札案件")
    await operator.get_by_role("link", name=re.compile(f"^入札案件を作成\\s*: {TITLE}$")).click()
    total = OWN_QUANTITY + sum(JOINERS.values())
    await expect(operator.get_by_text(f"{total:,} ライセンス")).to_be_visible()
    await axe_check(operator)
    await operator.get_by_label("予定価格（単価、円）").fill("100000")
    await operator.get_by_label("入札締切（日本時間）").fill(local_input(bid_deadline))
    await operator.get_by_role("button", name="入札案件を保存").click()
    await expect(operator.get_by_role("status")).to_contain_text("下書きとして保存しました")
    tender_url = operator.url
    await axe_check(operator)
    await operator.get_by_role("button", name="公告する").click()
    await expect(operator.get_by_role("status")).to_contain_text("入札案件を公告しました")
    await axe_check(operator)

    # 4. Two vendors find the tender and submit sealed bids.
    for vendor, price in (("vendor-a", WINNING_PRICE), ("vendor-b", 95_000)):
        sales = await person(browser, base, f"sales@{vendor}.example")
        await menu(sales, base, vendor, "入札案件")
        await sales.get_by_role("link", name=TITLE).click()
        await axe_check(sales)
        await sales.get_by_role("link", name="自社の入札書").click()
        await sales.get_by_label("単価（円）").fill(str(price))
        await sales.get_by_role("button", name="入札書を提出する").click()
        await expect(sales.get_by_role("status")).to_contain_text("入札書を封かんして保存しました")
        await axe_check(sales)
        await sales.context.close()

    # 5. The bid deadline passes: the bids are opened. 6. The operator awards.
    assert await opening.open_due(live_db, bid_deadline + timedelta(minutes=1)) >= 1
    await operator.goto(tender_url)
    await operator.get_by_role("link", name="審査").click()
    await axe_check(operator)
    await operator.get_by_role("button", name="1位の入札者を落札者に決定").click()
    await expect(operator.get_by_role("status")).to_contain_text("落札者を決定しました")
    await axe_check(operator)

    # Each municipality reads its own contract line at the pooled unit price.
    quantities = {"131016": OWN_QUANTITY, **JOINERS}
    pages = {"131016": buyer}
    for lg_code, quantity in quantities.items():
        page = pages.get(lg_code) or await person(browser, base, f"buyer@{lg_code}.example")
        await page.goto(f"{base}/o/{lg_code}/procurement/needs/{need_id}/allocation")
        line = page.get_by_role("region", name="自団体の契約明細")
        await expect(line).to_contain_text(f"{quantity:,} ライセンス")
        await expect(line).to_contain_text(re.compile(rf"共同調達の単価\s*¥{WINNING_PRICE:,}"))
        await axe_check(page)
