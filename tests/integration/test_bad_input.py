"""Bad input anywhere in the API: a 4xx in the person's language, never a 500."""

import pytest

from tests import support


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        (b"{not json", "application/json", 400),
        (b"", "application/json", 400),
        (b'{"email": 12, "roles": "admin"}', "application/json", 400),
        (b"email=a@b.jp", "application/x-www-form-urlencoded", 415),
    ],
)
async def test_malformed_bodies_get_a_clear_japanese_error(app_client, body, content_type, status):
    await support.sign_in(app_client, "admin@131016.example")
    response = await app_client.post(
        "/api/v1/o/131016/invitations", content=body, headers={"content-type": content_type}
    )
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert any(ord(ch) > 0x3000 for ch in detail), detail  # Japanese, not English
    if status == 400:
        assert response.json()["errors"], "field errors are listed"


async def test_people_who_chose_english_get_english_errors(app_client):
    await support.sign_in(app_client, "admin@131016.example")
    await app_client.get("/")
    await app_client.post(
        "/locale", data={"locale": "en"}, headers={"x-csrftoken": support.csrf_token(app_client)}
    )
    response = await app_client.post(
        "/api/v1/o/131016/invitations",
        content=b"{not json",
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["detail"] == "Some of the input is not valid."


async def test_an_oversize_body_is_refused_without_reading_it_all(app_client):
    await support.sign_in(app_client, "admin@131016.example")
    huge = b'{"email": "' + b"a" * (11 * 1024 * 1024) + b'"}'
    response = await app_client.post(
        "/api/v1/o/131016/invitations", content=huge, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["detail"] == "リクエストが大きすぎます。"
