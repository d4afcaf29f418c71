"""Notifications in a real browser: the header badge (htmx), the list, marking one read with htmx
(CSRF token from <body hx-headers>, the badge swapped out of band, focus kept). axe-core checks
the pages."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import select

from kyodo.db import Database, Scope
from kyodo.models import Notification
from kyodo.notifications import notify
from tests import support
from tests.e2e.conftest import axe_check

pytestmark = pytest.mark.browser

PERSON = "staff1@131016.example"


async def delivered(db: Database, person_id, n: int) -> bool:
    async with db.session(Scope(person_id=person_id)) as session:
        rows = await session.scalars(
            select(Notification.id).where(Notification.person_id == person_id)
        )
        return len(rows.all()) >= n


async def test_badge_list_and_mark_read(page: Page, live_server: support.LiveServer, live_db):
    chiyoda, me = await support.org_and_person(live_db, "131016", PERSON)
    async with live_db.session(Scope(tenant_id=chiyoda)) as session:
        notify(session, me, "test", "見積依頼が届きました", "A quote was requested", "/o/131016/")
        notify(session, me, "test", "研修の申込が承認されました", "Your enrolment was approved")
    await support.eventually(lambda: delivered(live_db, me, 2))  # by the server's own worker

    await page.goto(f"{live_server.url}/auth/login")
    predefined = page.get_by_role("form", name="Authenticate predefined users")
    await predefined.get_by_role("button", name=PERSON, exact=True).click()
    await expect(page).to_have_url(f"{live_server.url}/")

    badge = page.get_by_role("link", name=re.compile("未読 2 件"))
    await expect(badge).to_be_visible()
    await badge.click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("お知らせ")
    await expect(page.get_by_role("link", name="見積依頼が届きました")).to_be_visible()
    await axe_check(page)

    await page.get_by_role(
        "button", name=re.compile("既読にする.*研修の申込が承認されました")
    ).click()
    item = page.locator("li", has_text="研修の申込が承認されました")
    await expect(item).to_contain_text("既読")
    await expect(item).to_be_focused()
    await expect(page.get_by_role("link", name=re.compile("未読 1 件"))).to_be_visible()
    await axe_check(page)
