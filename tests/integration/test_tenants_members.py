"""Organization admins manage members and roles; everyone else is kept out.

Runs on SQLite and PostgreSQL. Tests that change roles work in a fresh organization created by
the operator, so they do not depend on each other or on their order.
"""

from __future__ import annotations

import random
import uuid

from litestar.testing import AsyncTestClient
from sqlalchemy import select

from kyodo.db import Database, Scope
from kyodo.models import AuditEvent, Organization
from tenants import services
from tests import support
from tests.isolation.id_factories import make_ids

OPERATOR = "admin@govtech.example"
JSON_ERROR_KEYS = {"detail", "errors"}


# -- helpers shared by the test_tenants_* modules -----------------------------------------


def unique_email(tag: str = "person") -> str:
    return f"{tag}-{uuid.uuid4().hex[:12]}@example.jp"


async def sign_in_new_person(
    client: AsyncTestClient, issuer: str, email: str, *, verified: bool = True
) -> None:
    """A person the provider knows with this e-mail (verified or not), signed in for real."""
    sub = f"sub-{uuid.uuid4().hex}"
    support.set_provider_user(
        issuer, sub, email=email, email_verified=verified, name=email.split("@")[0]
    )
    await support.sign_in(client, sub)


def lg_code(first_five: str) -> str:
    """A local-government code with its check digit."""
    total = sum(int(d) * w for d, w in zip(first_five, (6, 5, 4, 3, 2), strict=True))
    return first_five + str((11 - total % 11) % 10)


def random_lg_code() -> str:
    # Prefecture numbers 50-99 do not exist, so these never clash with seeded municipalities.
    return lg_code(f"{random.randint(50, 99)}{random.randint(0, 999):03d}")


async def create_org(
    operator: AsyncTestClient, admin_email: str, kind: str = "vendor"
) -> dict[str, object]:
    """The operator creates an organization (retrying on the rare clash of random codes)."""
    for _attempt in range(5):
        slug = random_lg_code() if kind != "vendor" else f"t-{uuid.uuid4().hex[:10]}"
        response = await operator.post(
            "/api/v1/o/govtech/organizations",
            json={
                "slug": slug,
                "kind": kind,
                "name_ja": f"テスト組織 {slug}",
                "name_en": f"Test organization {slug}",
                "admin_email": admin_email,
            },
        )
        if response.status_code == 201:
            return response.json()
    raise AssertionError(response.text)


async def fresh_org(new_client, issuer: str, kind: str = "vendor") -> tuple[str, AsyncTestClient]:
    """A new organization and a client signed in as its only admin."""
    operator = await new_client()
    await support.sign_in(operator, OPERATOR)
    admin_email = unique_email("admin")
    created = await create_org(operator, admin_email, kind)
    admin = await new_client()
    await sign_in_new_person(admin, issuer, admin_email)
    return created["organization"]["slug"], admin


async def org_id(db: Database, slug: str) -> uuid.UUID:
    async with db.session(Scope.anonymous()) as session:
        return await session.scalar(select(Organization.id).where(Organization.slug == slug))


async def audit_events(db: Database, slug: str) -> list[AuditEvent]:
    tenant_id = await org_id(db, slug)
    async with db.session(Scope.system(tenant_id)) as session:
        return list(
            await session.scalars(
                select(AuditEvent).where(AuditEvent.tenant_id == tenant_id).order_by(AuditEvent.seq)
            )
        )


def member_by_email(members: list[dict], email: str) -> dict:
    return next(m for m in members if m["email"] == email)


async def page_post(
    client: AsyncTestClient, path: str, data: dict, *, htmx: bool = False
) -> object:
    headers = {"x-csrftoken": support.csrf_token(client)}
    if htmx:
        headers |= {"hx-request": "true", "hx-current-url": f"http://127.0.0.1:8000{path}"}
    return await client.post(path, data=data, headers=headers, follow_redirects=False)


# -- listing -------------------------------------------------------------------------------


async def test_admin_lists_members_with_their_roles(app_client):
    await support.sign_in(app_client, "admin@131016.example")
    response = await app_client.get("/api/v1/o/131016/members")
    assert response.status_code == 200
    members = response.json()
    assert member_by_email(members, "admin@131016.example")["roles"] == ["admin"]
    assert member_by_email(members, "buyer@131016.example")["roles"] == ["procurement_officer"]
    # Only this organization's people: the admin of 町田市 is not listed.
    assert all(m["email"] != "buyer@132098.example" for m in members)

    page = await app_client.get("/o/131016/members")
    assert page.status_code == 200
    assert "千代田 調達" in page.text and "調達担当" in page.text
    assert '<html lang="ja">' in page.text


# -- permission attacks --------------------------------------------------------------------


async def test_staff_cannot_see_or_change_members(app_client, db):
    await support.sign_in(app_client, "staff1@131016.example")
    target = (await make_ids(db, "131016"))["member_id"]
    assert (await app_client.get("/o/131016/members")).status_code == 403
    assert (await app_client.get("/api/v1/o/131016/members")).status_code == 403
    invite = await app_client.post(
        "/api/v1/o/131016/invitations", json={"email": unique_email(), "roles": ["admin"]}
    )
    assert invite.status_code == 403
    grant = await app_client.put(f"/api/v1/o/131016/members/{target}/roles", json={"role": "admin"})
    assert grant.status_code == 403
    page = await page_post(app_client, "/o/131016/members/invite", {"email": unique_email()})
    assert page.status_code == 403
    assert "この操作を行う権限がありません" in page.text
    assert "admin" not in await roles_of(db, "131016", target)


async def roles_of(db: Database, slug: str, member_id: str) -> set[str]:
    tenant_id = await org_id(db, slug)
    async with db.session(Scope.system(tenant_id)) as session:
        return set((await services.get_member(session, uuid.UUID(member_id))).roles)


async def test_admin_of_another_organization_gets_404(app_client, db):
    await support.sign_in(app_client, "admin@131016.example")
    theirs = await make_ids(db, "132098")
    for path in ("/o/132098/members", "/api/v1/o/132098/members", "/api/v1/o/132098/invitations"):
        assert (await app_client.get(path)).status_code == 404, path
    attempts = [
        app_client.put(
            f"/api/v1/o/132098/members/{theirs['member_id']}/roles", json={"role": "admin"}
        ),
        # 132098's ids through the attacker's own organization: still not found.
        app_client.put(
            f"/api/v1/o/131016/members/{theirs['member_id']}/roles", json={"role": "admin"}
        ),
        app_client.delete(f"/api/v1/o/131016/members/{theirs['member_id']}/roles/{theirs['role']}"),
        app_client.delete(f"/api/v1/o/131016/invitations/{theirs['invitation_id']}"),
        page_post(app_client, f"/o/131016/invitations/{theirs['invitation_id']}/revoke", {}),
        page_post(
            app_client,
            f"/o/131016/members/{theirs['member_id']}/roles/{theirs['role']}/revoke",
            {},
        ),
    ]
    for attempt in attempts:
        response = await attempt
        assert response.status_code == 404, response.text
    assert await roles_of(db, "132098", theirs["member_id"]) == {theirs["role"]}
    async with db.session(Scope.system(await org_id(db, "132098"))) as session:
        open_ids = {str(i.id) for i in await services.list_open_invitations(session)}
    assert theirs["invitation_id"] in open_ids


async def test_vendor_admin_cannot_grant_municipality_roles(new_client, issuer):
    slug, admin = await fresh_org(new_client, issuer, kind="vendor")
    members = (await admin.get(f"/api/v1/o/{slug}/members")).json()
    me = members[0]
    grant = await admin.put(
        f"/api/v1/o/{slug}/members/{me['id']}/roles", json={"role": "procurement_officer"}
    )
    assert grant.status_code == 400
    assert grant.json()["errors"] == [
        {"field": "role", "message": "この役割はこの組織では付与できません。"}
    ]
    invite = await admin.post(
        f"/api/v1/o/{slug}/invitations",
        json={"email": unique_email(), "roles": ["vendor_sales", "staff"]},
    )
    assert invite.status_code == 400
    assert invite.json()["errors"][0]["field"] == "roles"
    unknown = await admin.put(f"/api/v1/o/{slug}/members/{me['id']}/roles", json={"role": "root"})
    assert unknown.status_code == 400
    assert unknown.json()["errors"] == [{"field": "role", "message": "存在しない役割です。"}]
    # Vendor roles are fine.
    ok = await admin.put(
        f"/api/v1/o/{slug}/members/{me['id']}/roles", json={"role": "vendor_sales"}
    )
    assert ok.status_code == 200
    assert ok.json()["roles"] == ["admin", "vendor_sales"]


# -- granting and revoking -----------------------------------------------------------------


async def test_grant_and_revoke_roles_are_audited(new_client, issuer, db):
    slug, admin = await fresh_org(new_client, issuer, kind="municipality")
    email = unique_email("staff")
    assert (
        await admin.post(f"/api/v1/o/{slug}/invitations", json={"email": email, "roles": ["staff"]})
    ).status_code == 201
    person = await new_client()
    await sign_in_new_person(person, issuer, email)
    member = member_by_email((await admin.get(f"/api/v1/o/{slug}/members")).json(), email)
    assert member["roles"] == ["staff"]

    granted = await admin.put(f"/api/v1/o/{slug}/members/{member['id']}/roles", json={"role": "hr"})
    assert granted.status_code == 200
    assert granted.json()["roles"] == ["hr", "staff"]
    # Granting a role already held changes nothing and records nothing.
    again = await admin.put(f"/api/v1/o/{slug}/members/{member['id']}/roles", json={"role": "hr"})
    assert again.json()["roles"] == ["hr", "staff"]
    revoked = await admin.delete(f"/api/v1/o/{slug}/members/{member['id']}/roles/staff")
    assert revoked.status_code == 200
    assert revoked.json()["roles"] == ["hr"]
    not_held = await admin.delete(f"/api/v1/o/{slug}/members/{member['id']}/roles/staff")
    assert not_held.status_code == 404

    me = (await person.get("/api/v1/me")).json()
    assert [m["roles"] for m in me["memberships"] if m["slug"] == slug] == [["hr"]]

    events = [(e.action, e.target_id, e.summary) for e in await audit_events(db, slug)]
    assert ("role.granted", member["id"], "hr") in events
    assert ("role.revoked", member["id"], "staff") in events
    assert [a for a, _t, _s in events].count("role.granted") == 1


async def test_the_last_admin_role_cannot_be_removed(new_client, issuer, db):
    slug, admin = await fresh_org(new_client, issuer, kind="vendor")
    me = (await admin.get(f"/api/v1/o/{slug}/members")).json()[0]
    refused = await admin.delete(f"/api/v1/o/{slug}/members/{me['id']}/roles/admin")
    assert refused.status_code == 409
    assert "最後の管理者" in refused.json()["detail"]

    page = await page_post(admin, f"/o/{slug}/members/{me['id']}/roles/admin/revoke", {})
    assert page.status_code == 409
    assert "最後の管理者" in page.text
    htmx = await page_post(admin, f"/o/{slug}/members/{me['id']}/roles/admin/revoke", {}, htmx=True)
    assert htmx.status_code == 409
    assert f'id="member-{me["id"]}-error"' in htmx.text and "最後の管理者" in htmx.text
    assert not any(e.action == "role.revoked" for e in await audit_events(db, slug))

    # With a second admin, the first may step down.
    email = unique_email("second")
    await admin.post(f"/api/v1/o/{slug}/invitations", json={"email": email, "roles": ["admin"]})
    second = await new_client()
    await sign_in_new_person(second, issuer, email)
    stepped_down = await admin.delete(f"/api/v1/o/{slug}/members/{me['id']}/roles/admin")
    assert stepped_down.status_code == 200
    assert (await admin.get(f"/api/v1/o/{slug}/members")).status_code == 403
    other = member_by_email((await second.get(f"/api/v1/o/{slug}/members")).json(), email)
    last = await second.delete(f"/api/v1/o/{slug}/members/{other['id']}/roles/admin")
    assert last.status_code == 409


# -- bad input -----------------------------------------------------------------------------


async def test_bad_input_on_the_api_gets_field_errors_never_500(app_client):
    await support.sign_in(app_client, "admin@131016.example")
    url = "/api/v1/o/131016/invitations"
    cases = [
        ({"email": 42, "roles": ["staff"]}, "email"),
        ({"email": "x" * 400 + "@example.jp", "roles": ["staff"]}, "email"),
        ({"email": "not-an-address", "roles": ["staff"]}, "email"),
        ({"email": unique_email(), "roles": []}, "roles"),
        ({"email": unique_email(), "roles": ["staff", "superuser"]}, "roles"),
        ({"email": unique_email(), "roles": "staff"}, "roles"),
        ({"email": unique_email(), "roles": ["staff"], "extra": 1}, None),
    ]
    for body, field in cases:
        response = await app_client.post(url, json=body)
        assert response.status_code == 400, (body, response.text)
        payload = response.json()
        assert set(payload) == JSON_ERROR_KEYS, payload
        assert payload["detail"] == "入力内容に誤りがあります。"
        if field:
            assert any(field in e["field"] for e in payload["errors"]), (body, payload)
    malformed = await app_client.post(
        url, content=b'{"email": ', headers={"content-type": "application/json"}
    )
    assert malformed.status_code == 400
    not_json = await app_client.post(url, data={"email": unique_email()})
    assert not_json.status_code == 415
    wrong_type = await app_client.put(
        "/api/v1/o/131016/members/not-a-uuid/roles", json={"role": "staff"}
    )
    assert wrong_type.status_code in (400, 404)
    assert (await app_client.get("/api/v1/o/131016/invitations")).status_code == 200


async def test_errors_come_in_english_when_the_person_chose_english(app_client):
    await support.sign_in(app_client, "admin@131016.example")
    await app_client.get("/")
    await page_post(app_client, "/locale", {"locale": "en", "next": "/"})
    response = await app_client.post(
        "/api/v1/o/131016/invitations", json={"email": "nope", "roles": ["staff"]}
    )
    assert response.json() == {
        "detail": "Some of the input is not valid.",
        "errors": [{"field": "email", "message": "Enter an e-mail address like name@example.jp."}],
    }


async def test_page_shows_errors_next_to_the_fields(app_client):
    await support.sign_in(app_client, "admin@131016.example")
    await app_client.get("/o/131016/members")
    response = await page_post(
        app_client, "/o/131016/members/invite", {"email": "bad address", "roles": "evaluator"}
    )
    assert response.status_code == 400
    html = response.text
    assert 'aria-describedby="invite-hint invite-email-error" aria-invalid="true" autofocus' in html
    assert '<p id="invite-email-error" class="field-error">' in html
    assert "name@example.jp のような形式で" in html
    assert 'aria-describedby="invite-roles-error"' in html
    assert "この役割はこの組織では付与できません" in html
    assert 'value="bad address"' in html  # what the person typed is kept

    htmx = await page_post(
        app_client, "/o/131016/members/invite", {"email": "", "roles": "staff"}, htmx=True
    )
    assert htmx.status_code == 400
    assert htmx.text.lstrip().startswith('<div id="members-panel"')
    assert 'hx-swap-oob="innerHTML"' in htmx.text  # the page's live region says what happened
    assert "この項目は必須です" in htmx.text
