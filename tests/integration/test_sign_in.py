"""Signing in through a real OIDC provider, on SQLite and PostgreSQL."""

from tests import support


async def test_sign_in_lands_on_dashboard_and_me_lists_memberships(app_client):
    await support.sign_in(app_client, "admin@131016.example")
    me = (await app_client.get("/api/v1/me")).json()
    assert me["email"] == "admin@131016.example"
    assert me["memberships"] == [
        {
            "slug": "131016",
            "kind": "municipality",
            "name_ja": "千代田区",
            "name_en": "Chiyoda City",
            "roles": ["admin"],
        }
    ]
    page = await app_client.get("/")
    assert page.status_code == 200
    assert "千代田区" in page.text


async def test_no_session_is_401_on_api_and_redirect_on_pages(app_client):
    assert (await app_client.get("/api/v1/me")).status_code == 401
    page = await app_client.get("/o/131016/", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/auth/login?next=%2Fo%2F131016"
    htmx = await app_client.get(
        "/o/131016/",
        headers={"HX-Request": "true", "HX-Current-URL": "http://127.0.0.1:8000/o/131016/"},
    )
    assert htmx.headers["HX-Redirect"].startswith("/auth/login?next=")


async def test_organization_of_someone_else_is_404(app_client):
    await support.sign_in(app_client, "buyer@132098.example")
    assert (await app_client.get("/o/131016/")).status_code == 404
    assert (await app_client.get("/o/no-such-org/")).status_code == 404
    assert (await app_client.get("/o/132098/")).status_code == 200
