"""A person in a real browser: sign in through the provider's page, land on the dashboard, switch
organization and language, sign out. axe-core checks every Kyodo page on the way."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import select

from kyodo.db import Database, Scope
from kyodo.models import Organization, Person
from tenants.services import ensure_membership, grant_role
from tests import support
from tests.e2e.conftest import axe_check

pytestmark = pytest.mark.browser

PERSON = "admin@govtech.example"
JA = ("組織", "切り替え")
EN = ("Organization", "Switch")


async def add_membership(db: Database, email: str, slug: str, role: str) -> None:
    async with db.session(Scope.anonymous()) as session:
        person = await session.scalar(select(Person).where(Person.email == email))
        org = await session.scalar(select(Organization).where(Organization.slug == slug))
    async with db.session(Scope(tenant_id=org.id, person_id=person.id)) as session:
        await grant_role(session, await ensure_membership(session, person.id), role)


async def switch_organization(page: Page, name: str, labels: tuple[str, str]) -> None:
    """Pick `name` in the header's organization switcher; `labels` = (select, button)."""
    select_label, button_label = labels
    await page.get_by_role("combobox", name=select_label, exact=True).select_option(label=name)
    await page.get_by_role("button", name=button_label, exact=True).click()


async def test_sign_in_switch_organization_and_language_then_sign_out(
    page: Page, live_server: support.LiveServer, live_db: Database, issuer: str
):
    await add_membership(live_db, PERSON, "131016", "staff")
    base = live_server.url

    # Not signed in: Kyodo sends the browser to the provider, asking for PKCE S256.
    await page.goto(f"{base}/")
    await expect(page).to_have_url(re.compile(f"^{re.escape(issuer)}/"))
    assert "code_challenge_method=S256" in page.url
    # That page is the test double's (oidc-provider-mock, standing in for the organization's
    # identity provider), not Kyodo's, so axe runs on every page but this one.
    predefined = page.get_by_role("form", name="Authenticate predefined users")
    await predefined.get_by_role("button", name=PERSON, exact=True).click()

    # The dashboard, in Japanese (the default), lists both organizations.
    await expect(page).to_have_url(f"{base}/")
    await expect(page.locator("html")).to_have_attribute("lang", "ja")
    await expect(page.get_by_role("heading", level=1)).to_have_text("所属している組織")
    main = page.get_by_role("main")
    await expect(main.get_by_role("link", name="GovTech東京")).to_be_visible()
    await expect(main.get_by_role("link", name="千代田区")).to_be_visible()
    await axe_check(page)

    # Keyboard: the first Tab reaches the skip link, which moves focus to the content.
    await page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="本文へスキップ")
    await expect(skip).to_be_focused()
    await expect(skip).to_be_in_viewport()
    await page.keyboard.press("Enter")
    await expect(page.locator("main")).to_be_focused()

    # Switch organization from the header.
    await switch_organization(page, "千代田区", JA)
    await expect(page).to_have_url(f"{base}/o/131016/")
    await expect(page.get_by_role("heading", level=1)).to_have_text("千代田区")
    here = page.get_by_role("navigation", name="組織メニュー").get_by_role("link", name="千代田区")
    await expect(here).to_have_attribute("aria-current", "page")
    await axe_check(page)
    await switch_organization(page, "GovTech東京", JA)
    await expect(page).to_have_url(f"{base}/o/govtech/")
    await expect(page.get_by_role("heading", level=1)).to_have_text("GovTech東京")
    await axe_check(page)

    # English and back; the page stays where it was.
    await page.get_by_role("button", name="English").click()
    await expect(page).to_have_url(re.compile(f"^{re.escape(base)}/o/govtech/?$"))
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(page.get_by_role("heading", level=1)).to_have_text("GovTech Tokyo")
    await expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    await expect(page.get_by_role("main")).not_to_contain_text("、")  # English lists use commas
    await axe_check(page)
    await switch_organization(page, "Chiyoda City", EN)
    await expect(page.get_by_role("heading", level=1)).to_have_text("Chiyoda City")
    await axe_check(page)
    await page.get_by_role("button", name="日本語").click()
    await expect(page.locator("html")).to_have_attribute("lang", "ja")
    await expect(page.get_by_role("heading", level=1)).to_have_text("千代田区")
    await axe_check(page)

    # Sign out: the session is gone, so an organization page sends us back to the provider.
    await page.get_by_role("button", name="サインアウト").click()
    await expect(page).to_have_url(f"{base}/signed-out")
    await expect(page.get_by_role("heading", level=1)).to_have_text("サインアウトしました")
    await axe_check(page)
    await page.goto(f"{base}/o/131016/")
    await expect(page).to_have_url(re.compile(f"^{re.escape(issuer)}/"))


async def test_newcomer_and_error_pages_are_accessible(
    page: Page, live_server: support.LiveServer, issuer: str
):
    """Someone no organization has added yet, an unknown organization, a failed sign-in."""
    base = live_server.url
    newcomer = "newcomer@browser.example"
    support.set_provider_user(
        issuer, newcomer, email=newcomer, email_verified=True, name="新規 利用者"
    )
    await page.goto(f"{base}/auth/login")
    await page.get_by_placeholder("sub").fill(newcomer)
    await page.get_by_role("button", name="Authorize", exact=True).click()

    await expect(page).to_have_url(f"{base}/")
    await expect(page.get_by_role("heading", level=1)).to_have_text("まだ組織に所属していません")
    await expect(page.get_by_text(newcomer)).to_be_visible()
    await expect(page.get_by_role("combobox")).to_have_count(0)  # nothing to switch to
    await axe_check(page)

    response = await page.goto(f"{base}/o/131016/")
    assert response is not None and response.status == 404
    await axe_check(page)

    response = await page.goto(f"{base}/auth/callback?code=forged&state=forged")
    assert response is not None and response.status == 400
    await expect(page.get_by_role("heading", level=1)).to_have_text("サインインに失敗しました")
    await axe_check(page)
