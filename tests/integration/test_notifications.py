"""Notifications, as the person sees them: delivered by jobs, listed across organizations,
marked read, counted in the header, and e-mailed over SMTP when configured."""

from __future__ import annotations

import dataclasses
import re
import uuid
from zoneinfo import ZoneInfo

from aiosmtpd.controller import Controller
from sqlalchemy import select

from kyodo.db import Database, Scope
from kyodo.jobs.runtime import JobsRuntime
from kyodo.models import Notification
from kyodo.notifications import notify
from tests import support

ME, SOMEONE_ELSE = "staff4@131016.example", "staff3@131016.example"


async def notification(db: Database, person_id: uuid.UUID, title: str) -> Notification | None:
    async with db.session(Scope(person_id=person_id)) as session:
        return await session.scalar(
            select(Notification).where(
                Notification.person_id == person_id, Notification.title_ja == title
            )
        )


async def unread(db: Database, person_id: uuid.UUID) -> int:
    async with db.session(Scope(person_id=person_id)) as session:
        rows = await session.scalars(
            select(Notification.id).where(
                Notification.person_id == person_id, Notification.read_at.is_(None)
            )
        )
        return len(rows.all())


def jst(notification: Notification) -> str:
    t = notification.created_at.astimezone(ZoneInfo("Asia/Tokyo"))
    return f"{t:%Y/%m/%d} {t.hour}:{t:%M:%S}"


async def test_a_person_sees_only_their_own_notifications(app_client, db):
    chiyoda, me = await support.org_and_person(db, "131016", ME)
    govtech, other = await support.org_and_person(db, "govtech", SOMEONE_ELSE)
    older, newer, theirs = (f"{label} {uuid.uuid4()}" for label in ("古い", "新しい", "他人"))
    async with db.session(Scope(tenant_id=chiyoda)) as session:
        notify(session, me, "test", older, f"EN {older}", "/o/131016/")
        notify(session, other, "test", theirs, f"EN {theirs}")
    async with db.session(Scope(tenant_id=govtech)) as session:
        notify(session, me, "test", newer, f"EN {newer}")
    # The app's in-process worker delivers them.
    mine = [await support.eventually(lambda t=t: notification(db, me, t)) for t in (older, newer)]
    theirs_row = await support.eventually(lambda: notification(db, other, theirs))

    await support.sign_in(app_client, ME)
    page = await app_client.get("/notifications")
    assert page.status_code == 200
    text = page.text
    assert theirs not in text
    # Newest first, each with its organization and its time in Asia/Tokyo.
    assert text.index(newer) < text.index(older)
    for row, org_name in zip(mine, ("千代田区", "GovTech東京"), strict=True):
        item = re.search(rf'<li class="card" id="notification-{row.id}".*?</li>', text, re.S)
        assert item and org_name in item[0] and jst(row) in item[0]
    assert f'<a href="/o/131016/">{older}</a>' in text

    # Another person's notification does not exist, as far as I can tell.
    headers = {"x-csrftoken": support.csrf_token(app_client), "HX-Request": "true"}
    gone = await app_client.post(f"/notifications/{theirs_row.id}/read", headers=headers)
    assert gone.status_code == 404
    assert (await notification(db, other, theirs)).read_at is None
    assert (
        await app_client.post(f"/notifications/{uuid.uuid4()}/read", headers=headers)
    ).status_code == 404
    assert (
        await app_client.post("/notifications/not-an-id/read", headers=headers)
    ).status_code == 404

    # The header badge counts my unread notifications, with a label for screen readers.
    count = await unread(db, me)
    assert count >= 2  # at least the two just delivered
    badge = await app_client.get("/notifications/count", headers={"HX-Request": "true"})
    assert f"未読 {count} 件" in badge.text

    # Marking one read with htmx answers the updated item and the new badge, out of band.
    done = await app_client.post(f"/notifications/{mine[1].id}/read", headers=headers)
    assert done.status_code == 200
    assert "既読" in done.text and "既読にする" not in done.text
    assert 'hx-swap-oob="innerHTML"' in done.text
    assert f"未読 {count - 1} 件" in done.text
    assert (await notification(db, me, newer)).read_at is not None

    # Without script, the form posts and comes back to the list.
    plain = await app_client.post(
        f"/notifications/{mine[0].id}/read",
        headers={"x-csrftoken": headers["x-csrftoken"]},
        follow_redirects=False,
    )
    assert plain.status_code == 303 and plain.headers["location"] == "/notifications"


async def test_marking_read_needs_the_csrf_token_and_a_session(app_client):
    await support.sign_in(app_client, ME)
    await app_client.get("/notifications")
    answer = await app_client.post(
        f"/notifications/{uuid.uuid4()}/read", headers={"HX-Request": "true"}
    )
    assert answer.status_code == 403
    await app_client.post("/auth/logout", headers={"x-csrftoken": support.csrf_token(app_client)})
    badge = await app_client.get(
        "/notifications/count",
        headers={"HX-Request": "true", "HX-Current-URL": "http://127.0.0.1:8000/notifications"},
    )
    assert badge.headers.get("HX-Redirect", "").startswith("/auth/login")


async def test_notifications_are_emailed_over_smtp_when_configured(db, seeded):
    chiyoda, me = await support.org_and_person(db, "131016", ME)
    mailbox = support.Mailbox()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=support.free_port())
    smtp.start()
    settings = dataclasses.replace(
        seeded, smtp_url=f"smtp://127.0.0.1:{smtp.port}", mail_from="kyodo@example.jp"
    )
    runtime = JobsRuntime(settings, consume=True, relay_seconds=0.05)
    await runtime.start()
    try:
        title = f"調達案件が公開されました {uuid.uuid4()}"
        async with db.session(Scope(tenant_id=chiyoda)) as session:
            notify(session, me, "test", title, "A need was published", "/o/131016/")

        async def emailed() -> Notification | None:
            row = await notification(db, me, title)
            return row if row and row.emailed_at else None

        await support.eventually(emailed)
    finally:
        await runtime.stop()
        smtp.stop()
    [mail] = [m for m in mailbox.messages if m["Subject"] == title]
    assert mail["To"] == ME and mail["From"] == "kyodo@example.jp"
    assert f"{seeded.base_url}/o/131016/" in mail.get_content()
