"""The operator creates organizations and invites their first admin (an audited operator scope)."""

from __future__ import annotations

import csv
import uuid

import pytest
from sqlalchemy import select

from kyodo import audit
from kyodo.db import Scope
from kyodo.models import Person
from tenants import services
from tenants.seed import MUNICIPALITIES_CSV
from tenants.services import lg_code_is_valid
from tests import support
from tests.integration.test_tenants_members import (
    OPERATOR,
    audit_events,
    create_org,
    fresh_org,
    org_id,
    page_post,
    random_lg_code,
    sign_in_new_person,
    unique_email,
)


def organization(slug: str, **overrides: object) -> dict[str, object]:
    body = {
        "slug": slug,
        "kind": "vendor",
        "name_ja": "テスト株式会社",
        "name_en": "Test K.K.",
        "admin_email": unique_email("first-admin"),
    }
    return {**body, **overrides}


def test_every_tokyo_code_passes_the_check_digit_and_a_typo_does_not():
    with MUNICIPALITIES_CSV.open(encoding="utf-8") as f:
        codes = [row["lg_code"] for row in csv.DictReader(f)]
    assert len(codes) == 63
    assert all(lg_code_is_valid(code) for code in codes)
    assert not lg_code_is_valid("131017")
    assert not lg_code_is_valid("13101")


async def test_operator_creates_an_organization_whose_first_admin_manages_it(
    new_client, issuer, db
):
    operator = await new_client()
    await support.sign_in(operator, OPERATOR)
    admin_email = unique_email("first-admin")
    created = await create_org(operator, admin_email, kind="municipality")
    slug = created["organization"]["slug"]
    assert created["organization"]["kind"] == "municipality"
    assert created["invitation"]["roles"] == ["admin"]
    listed = (await operator.get("/api/v1/o/govtech/organizations")).json()
    assert slug in [o["slug"] for o in listed]
    # The operator is not a member of the new organization.
    assert (await operator.get(f"/o/{slug}/members")).status_code == 404

    # Both chains record it; the new organization's names the operator as the actor.
    operator_events = await audit_events(db, "govtech")
    assert any(
        e.action == "organization.created" and e.target_id == created["organization"]["id"]
        for e in operator_events
    )
    operator_id = next(
        e.actor_id for e in operator_events if e.target_id == created["organization"]["id"]
    )
    new_events = await audit_events(db, slug)
    assert [(e.action, e.actor_id) for e in new_events] == [
        ("organization.created", operator_id),
        ("invitation.created", operator_id),
    ]
    for tenant in ("govtech", slug):
        async with db.session(Scope.system(await org_id(db, tenant))) as session:
            assert await audit.verify_chain(session, await org_id(db, tenant)) is None

    first_admin = await new_client()
    await sign_in_new_person(first_admin, issuer, admin_email)
    members = (await first_admin.get(f"/api/v1/o/{slug}/members")).json()
    assert [(m["email"], m["roles"]) for m in members] == [(admin_email, ["admin"])]
    page = await first_admin.get(f"/o/{slug}/members")
    assert page.status_code == 200
    invited = await first_admin.post(
        f"/api/v1/o/{slug}/invitations",
        json={"email": unique_email(), "roles": ["procurement_officer"]},
    )
    assert invited.status_code == 201
    # The organization appears in the first admin's switcher and dashboard.
    assert created["organization"]["name_ja"] in (await first_admin.get("/")).text


async def test_creating_an_organization_is_all_or_nothing(db, monkeypatch):
    """A failure while inviting the first admin leaves no organization and no audit event."""
    async with db.session(Scope.anonymous()) as session:
        operator_person = await session.scalar(select(Person.id).where(Person.email == OPERATOR))
    govtech = await org_id(db, "govtech")
    before = len(await audit_events(db, "govtech"))

    async def failing_invite(*_args, **_kwargs):
        raise RuntimeError("the invitation could not be written")

    monkeypatch.setattr(services, "invite", failing_invite)
    slug = f"t-{uuid.uuid4().hex[:10]}"
    with pytest.raises(RuntimeError):
        await services.create_organization(
            db,
            Scope(tenant_id=govtech, tenant_kind="operator", person_id=operator_person),
            slug=slug,
            kind="vendor",
            name_ja="途中で失敗する組織",
            name_en="Fails halfway",
            admin_email=unique_email(),
        )
    assert await org_id(db, slug) is None
    assert len(await audit_events(db, "govtech")) == before


async def test_only_operator_admins_create_organizations(new_client, issuer):
    body = organization("t-should-not-exist")
    municipal_admin = await new_client()
    await support.sign_in(municipal_admin, "admin@131016.example")
    # Not a member of the operator: the address does not exist for them.
    for path in ("/api/v1/o/govtech/organizations", "/o/govtech/organizations"):
        assert (await municipal_admin.get(path)).status_code == 404
    response = await municipal_admin.post("/api/v1/o/govtech/organizations", json=body)
    assert response.status_code == 404
    # In a municipality the operator's endpoint does not exist either.
    response = await municipal_admin.post("/api/v1/o/131016/organizations", json=body)
    assert response.status_code == 404
    assert (await municipal_admin.get("/o/131016/organizations")).status_code == 404

    # An operator member without admin: 403.
    operator = await new_client()
    await support.sign_in(operator, OPERATOR)
    email = unique_email("operator-staff")
    invited = await operator.post(
        "/api/v1/o/govtech/invitations", json={"email": email, "roles": ["staff"]}
    )
    assert invited.status_code == 201
    staff = await new_client()
    await sign_in_new_person(staff, issuer, email)
    assert (await staff.post("/api/v1/o/govtech/organizations", json=body)).status_code == 403
    assert (await staff.get("/o/govtech/organizations")).status_code == 403
    listed = (await operator.get("/api/v1/o/govtech/organizations")).json()
    assert "t-should-not-exist" not in [o["slug"] for o in listed]

    # A vendor's admin is no operator either.
    vendor_slug, vendor_admin = await fresh_org(new_client, issuer)
    response = await vendor_admin.post(f"/api/v1/o/{vendor_slug}/organizations", json=body)
    assert response.status_code == 404


async def test_slug_kind_and_name_rules(app_client):
    await support.sign_in(app_client, OPERATOR)
    url = "/api/v1/o/govtech/organizations"
    bad = [
        (organization("131017", kind="municipality"), "slug"),  # wrong check digit
        (organization("13101", kind="municipality"), "slug"),
        (organization("vendor-x", kind="municipality"), "slug"),
        (organization("131016", kind="municipality"), "slug"),  # 千代田区 exists
        (organization("Vendor-X"), "slug"),
        (organization("123456"), "slug"),  # looks like a municipality's code
        (organization("x"), "slug"),
        (organization("-dash"), "slug"),
        (organization("vendor-a"), "slug"),  # taken
        (organization("t-" + "a" * 39), "slug"),
        (organization("t-ok", kind="operator"), "kind"),
        (organization("t-ok", name_ja="名" * 201), "name_ja"),
        (organization("t-ok", name_en="   "), "name_en"),
        (organization("t-ok", admin_email="first admin@example.jp"), "admin_email"),
        ({"slug": "t-ok", "kind": "vendor"}, "name_ja"),
        (organization("t-ok", name_ja=["list"]), "name_ja"),
    ]
    for body, field in bad:
        response = await app_client.post(url, json=body)
        assert response.status_code == 400, (body, response.text)
        errors = response.json()["errors"]
        assert any(field in e["field"] for e in errors), (body, errors)
    code_error = await app_client.post(url, json=organization("131017", kind="municipality"))
    message = "6桁の全国地方公共団体コードを入力してください（例：131016）。"
    assert code_error.json()["errors"] == [{"field": "slug", "message": message}]
    taken = await app_client.post(url, json=organization("vendor-a"))
    assert taken.json()["errors"] == [
        {"field": "slug", "message": "この識別子はすでに使われています。"}
    ]
    listed = (await app_client.get(url)).json()
    assert "t-ok" not in [o["slug"] for o in listed]


async def test_operator_page_creates_and_shows_errors_next_to_fields(app_client):
    await support.sign_in(app_client, OPERATOR)
    page = await app_client.get("/o/govtech/organizations")
    assert page.status_code == 200
    assert "千代田区" in page.text and 'for="org-slug"' in page.text

    bad = await page_post(
        app_client,
        "/o/govtech/organizations",
        {"kind": "municipality", "slug": "999", "name_ja": "", "name_en": "X", "admin_email": ""},
    )
    assert bad.status_code == 400
    html = bad.text
    assert 'aria-describedby="org-slug-hint org-slug-error" aria-invalid="true" autofocus' in html
    assert 'id="org-name_ja" name="name_ja"' in html and 'id="org-name_ja-error"' in html
    assert 'id="org-admin_email-error"' in html
    assert 'value="999"' in html

    slug = random_lg_code()
    done = await page_post(
        app_client,
        "/o/govtech/organizations",
        {
            "kind": "municipality",
            "slug": slug,
            "name_ja": "試験村",
            "name_en": "Shiken Village",
            "admin_email": unique_email("village"),
        },
    )
    assert done.status_code == 303
    after = await app_client.get("/o/govtech/organizations")
    assert "試験村 を作成し" in after.text and slug in after.text
