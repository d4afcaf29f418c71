"""Invitations are claimed at sign-in, through the real OIDC flow, by the verified e-mail only."""

from __future__ import annotations

import dataclasses
import uuid

from aiosmtpd.controller import Controller

from kyodo.db import Scope
from kyodo.jobs.runtime import JobsRuntime
from kyodo.models import Organization
from tenants import services
from tests import support
from tests.integration.test_tenants_members import (
    audit_events,
    member_by_email,
    page_post,
    sign_in_new_person,
    unique_email,
)


async def invite(admin, slug: str, email: str, roles: list[str]) -> dict:
    response = await admin.post(
        f"/api/v1/o/{slug}/invitations", json={"email": email, "roles": roles}
    )
    assert response.status_code == 201, response.text
    return response.json()


async def open_invitation_ids(admin, slug: str) -> set[str]:
    response = await admin.get(f"/api/v1/o/{slug}/invitations")
    assert response.status_code == 200
    return {i["id"] for i in response.json()}


async def test_invitation_is_claimed_by_the_verified_email_at_sign_in(new_client, issuer, db):
    admin = await new_client()
    await support.sign_in(admin, "admin@131016.example")
    email = unique_email("newcomer")
    invitation = await invite(admin, "131016", email.upper(), ["staff", "hr"])
    assert invitation["email"] == email  # stored lower-cased
    assert invitation["id"] in await open_invitation_ids(admin, "131016")

    newcomer = await new_client()
    await sign_in_new_person(newcomer, issuer, email)
    me = (await newcomer.get("/api/v1/me")).json()
    assert [(m["slug"], m["roles"]) for m in me["memberships"]] == [("131016", ["hr", "staff"])]
    assert "千代田区" in (await newcomer.get("/")).text

    member = member_by_email((await admin.get("/api/v1/o/131016/members")).json(), email)
    assert member["roles"] == ["hr", "staff"]
    assert invitation["id"] not in await open_invitation_ids(admin, "131016")
    events = [e.action for e in await audit_events(db, "131016") if e.target_id == invitation["id"]]
    assert events == ["invitation.created", "invitation.claimed"]

    # Inviting someone who is already a member is refused, next to the e-mail field.
    twice = await admin.post(
        "/api/v1/o/131016/invitations", json={"email": email, "roles": ["staff"]}
    )
    assert twice.status_code == 400
    assert twice.json()["errors"] == [{"field": "email", "message": "この人はすでにメンバーです。"}]


async def test_unverified_email_does_not_claim(new_client, issuer):
    admin = await new_client()
    await support.sign_in(admin, "admin@131016.example")
    email = unique_email("unverified")
    invitation = await invite(admin, "131016", email, ["staff"])

    stranger = await new_client()
    await sign_in_new_person(stranger, issuer, email, verified=False)
    assert (await stranger.get("/api/v1/me")).json()["memberships"] == []
    home = await stranger.get("/")
    assert home.status_code == 200
    assert "まだ組織に所属していません" in home.text
    assert (await stranger.get("/o/131016/")).status_code == 404
    assert invitation["id"] in await open_invitation_ids(admin, "131016")


async def test_a_person_nobody_invited_sees_no_organization_yet(app_client, issuer):
    await sign_in_new_person(app_client, issuer, unique_email("nobody"))
    home = await app_client.get("/")
    assert home.status_code == 200
    assert "まだ組織に所属していません" in home.text


async def test_withdrawn_invitation_is_not_claimed(new_client, issuer, db):
    admin = await new_client()
    await support.sign_in(admin, "admin@131016.example")
    email = unique_email("withdrawn")
    invitation = await invite(admin, "131016", email, ["staff"])
    duplicate = await admin.post(
        "/api/v1/o/131016/invitations", json={"email": email, "roles": ["hr"]}
    )
    assert duplicate.status_code == 400
    assert duplicate.json()["errors"][0]["field"] == "email"

    withdrawn = await admin.delete(f"/api/v1/o/131016/invitations/{invitation['id']}")
    assert withdrawn.status_code == 204
    again = await admin.delete(f"/api/v1/o/131016/invitations/{invitation['id']}")
    assert again.status_code == 404
    assert invitation["id"] not in await open_invitation_ids(admin, "131016")

    person = await new_client()
    await sign_in_new_person(person, issuer, email)
    assert (await person.get("/api/v1/me")).json()["memberships"] == []
    events = [e.action for e in await audit_events(db, "131016") if e.target_id == invitation["id"]]
    assert events == ["invitation.created", "invitation.revoked"]


async def test_invite_and_withdraw_on_the_page(app_client, db):
    await support.sign_in(app_client, "admin@131016.example")
    await app_client.get("/o/131016/members")
    email = unique_email("paged")

    # Without script: post, redirect, and the page says what happened.
    done = await page_post(
        app_client, "/o/131016/members/invite", {"email": email, "roles": ["staff", "approver"]}
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/o/131016/members"
    page = await app_client.get("/o/131016/members")
    assert f"{email} を招待しました" in page.text
    assert email in page.text
    # The confirmation shows once.
    assert f"{email} を招待しました" not in (await app_client.get("/o/131016/members")).text

    invitation_id = next(
        i["id"]
        for i in (await app_client.get("/api/v1/o/131016/invitations")).json()
        if i["email"] == email
    )
    # With htmx: the panel comes back with the invitation gone and a status message.
    panel = await page_post(
        app_client, f"/o/131016/invitations/{invitation_id}/revoke", {}, htmx=True
    )
    assert panel.status_code == 200
    assert panel.text.lstrip().startswith('<div id="members-panel"')
    assert "招待を取り消しました" in panel.text
    assert email not in panel.text
    assert 'id="invitations-heading" tabindex="-1" autofocus' in panel.text


async def test_an_invitation_is_emailed_when_smtp_is_configured(db, seeded):
    mailbox = support.Mailbox()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=support.free_port())
    smtp.start()
    settings = dataclasses.replace(seeded, smtp_url=f"smtp://127.0.0.1:{smtp.port}")
    runtime = JobsRuntime(settings, consume=True, relay_seconds=0.05)
    await runtime.start()
    invitee = f"invitee-{uuid.uuid4().hex[:8]}@example.jp"
    try:
        chiyoda, admin = await support.org_and_person(db, "131016", "admin@131016.example")
        async with db.session(Scope(tenant_id=chiyoda, person_id=admin)) as session:
            org = await session.get(Organization, chiyoda)
            await services.invite(session, org, invitee, ["staff"])

        async def arrived():
            return [m for m in mailbox.messages if m["To"] == invitee] or None

        [mail] = await support.eventually(arrived)
    finally:
        await runtime.stop()
        smtp.stop()
    assert "千代田区" in mail["Subject"]
    assert f"{seeded.base_url}/auth/login?next=/o/131016/" in mail.get_content()
