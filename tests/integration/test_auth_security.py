"""Sign-in and session hardening as seen from the browser and from an attacker."""

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import httpx

from kyodo.app import create_app
from tests import support


async def test_authorize_request_uses_pkce_s256_state_and_nonce(app_client):
    response = await app_client.get("/auth/login", follow_redirects=False)
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43  # base64url(SHA-256) without padding
    assert query["state"][0] and query["nonce"][0]
    assert query["scope"] == ["openid email profile"]


async def test_code_challenge_is_the_sha256_of_the_verifier_sent_to_the_token_endpoint(seeded):
    app = create_app(seeded)
    oidc = app.state.oidc
    auth = await oidc.authorization_request()
    challenge = parse_qs(urlsplit(auth.url).query)["code_challenge"][0]
    digest = hashlib.sha256(auth.code_verifier.encode()).digest()
    assert challenge == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    await oidc.aclose()


async def test_callback_with_a_forged_state_signs_nobody_in(app_client):
    response = await app_client.get("/auth/login", follow_redirects=False)
    async with httpx.AsyncClient() as provider:
        answer = await provider.post(
            response.headers["location"], data={"sub": "admin@131016.example"}
        )
    callback = httpx.URL(answer.headers["location"])
    code = callback.params["code"]
    forged = await app_client.get(
        f"/auth/callback?code={code}&state=forged", follow_redirects=False
    )
    assert forged.status_code == 400
    assert (await app_client.get("/api/v1/me")).status_code == 401


async def test_callback_without_a_pending_sign_in_is_refused(app_client):
    response = await app_client.get("/auth/callback?code=x&state=y", follow_redirects=False)
    assert response.status_code == 400
    assert "サインインに失敗しました" in response.text


async def test_session_cookie_is_httponly_and_lax(app_client):
    await support.sign_in(app_client, "staff1@131016.example")
    set_cookies = [c for c in app_client.cookies.jar if c.name == "kyodo_session"]
    assert set_cookies
    cookie = set_cookies[0]
    assert cookie.has_nonstandard_attr("HttpOnly")
    assert cookie.get_nonstandard_attr("SameSite").lower() == "lax"
    assert not cookie.secure  # plain http in tests; secure whenever KYODO_BASE_URL is https


async def test_session_cookie_is_secure_behind_https(seeded):
    from dataclasses import replace

    from litestar.testing import AsyncTestClient

    settings = replace(seeded, base_url="https://kyodo.example")
    async with AsyncTestClient(
        app=create_app(settings), base_url="https://kyodo.example"
    ) as client:
        response = await client.get("/auth/login", follow_redirects=False)
        cookie = response.headers.get("set-cookie", "")
        assert "kyodo_session=" in cookie and "Secure" in cookie


async def test_sign_in_replaces_the_session_so_a_planted_session_is_worthless(app_client):
    await app_client.get("/auth/login", follow_redirects=False)
    planted = app_client.cookies.get("kyodo_session")
    await support.sign_in(app_client, "staff2@131016.example")
    assert app_client.cookies.get("kyodo_session") != planted


async def test_form_posts_without_csrf_token_are_refused(app_client):
    await support.sign_in(app_client, "staff1@131016.example")
    refused = await app_client.post("/locale", data={"locale": "en"}, follow_redirects=False)
    assert refused.status_code == 403
    await app_client.get("/")  # sets the CSRF cookie
    accepted = await app_client.post(
        "/locale",
        data={"locale": "en", "next": "/"},
        headers={"x-csrftoken": support.csrf_token(app_client)},
        follow_redirects=False,
    )
    assert accepted.status_code == 303


async def test_sign_out_ends_the_session(app_client):
    await support.sign_in(app_client, "staff3@131016.example")
    await app_client.get("/")
    out = await app_client.post(
        "/auth/logout",
        headers={"x-csrftoken": support.csrf_token(app_client)},
        follow_redirects=False,
    )
    assert out.status_code in (302, 303)
    assert (await app_client.get("/api/v1/me")).status_code == 401


async def test_unknown_person_gets_a_person_record_and_the_no_organization_page(app_client):
    await support.sign_in(app_client, "stranger-without-org@example.org")
    me = (await app_client.get("/api/v1/me")).json()
    assert me["memberships"] == []
    page = await app_client.get("/")
    assert "まだ組織に所属していません" in page.text


async def test_next_parameter_cannot_send_people_to_another_site(app_client):
    response = await app_client.get("/auth/login?next=//evil.example/x", follow_redirects=False)
    authorize = response.headers["location"]
    async with httpx.AsyncClient() as provider:
        answer = await provider.post(authorize, data={"sub": "staff4@131016.example"})
    callback = httpx.URL(answer.headers["location"])
    done = await app_client.get(
        f"{callback.path}?{callback.query.decode()}", follow_redirects=False
    )
    assert done.headers["location"] == "/"
