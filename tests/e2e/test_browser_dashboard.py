"""見える化 in a real browser: the operator and a municipality reach the dashboard from the
menu, pick a fiscal year, and read the chart (one image with a name) and its table. axe-core
checks each page. The figures come from the demo seed's awarded joint procurement."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect

from kyodo.db import Database
from procurement import stats
from procurement.api_open_data import public_session
from tests import support
from tests.e2e.conftest import axe_check

pytestmark = pytest.mark.browser


async def sign_in(page: Page, base: str, email: str) -> None:
    await page.goto(f"{base}/auth/login")
    predefined = page.get_by_role("form", name="Authenticate predefined users")
    await predefined.get_by_role("button", name=email, exact=True).click()
    await expect(page).to_have_url(f"{base}/")


async def seeded_year(db: Database) -> tuple[int, list[stats.Row]]:
    async with public_session(db) as session:
        years = await stats.years(session)
        assert years, "the demo seed should include an awarded joint procurement"
        return years[0], await stats.by_municipality(session, years[0])


@pytest.mark.parametrize(
    ("email", "slug", "heading"),
    [
        ("admin@govtech.example", "govtech", "団体別の削減額"),
        ("buyer@131016.example", "131016", "案件別の削減額"),
    ],
)
async def test_dashboard_chart_and_table(
    page: Page, live_server: support.LiveServer, live_db: Database, email, slug, heading
):
    year, by_municipality = await seeded_year(live_db)
    assert len(by_municipality) >= 5  # one procurement pooled by five municipalities
    base = live_server.url
    await sign_in(page, base, email)
    await page.goto(f"{base}/o/{slug}/")
    await (
        page.get_by_role("navigation", name="組織メニュー")
        .get_by_role("link", name="見える化")
        .click()
    )
    await expect(page.get_by_role("heading", level=1)).to_contain_text("共同調達の見える化")
    await axe_check(page)

    await page.get_by_label("年度", exact=True).select_option(str(year))
    await page.get_by_role("button", name="表示").click()
    await expect(page).to_have_url(re.compile(rf"fy={year}$"))
    await expect(page.get_by_role("heading", level=1)).to_contain_text(f"{year}年度")
    await expect(page.get_by_role("img", name=f"{heading} {year}年度")).to_be_visible()
    table = page.get_by_role("table", name=f"{heading} {year}年度")
    await expect(table).to_be_visible()
    if slug == "govtech":
        for row in by_municipality:
            await expect(table.get_by_role("rowheader", name=row.label_ja)).to_be_visible()
    await axe_check(page)
