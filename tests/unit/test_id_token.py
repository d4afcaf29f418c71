"""ID-token verification: the checks an attacker would try to slip past."""

import time

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from kyodo.auth.oidc import OIDCClient, OIDCError

ISSUER = "https://idp.example"
CLIENT = "kyodo"
PROVIDER_KEY = RSAKey.generate_key(2048, parameters={"kid": "provider"})
ATTACKER_KEY = RSAKey.generate_key(2048, parameters={"kid": "provider"})


def client() -> OIDCClient:
    c = OIDCClient(ISSUER, CLIENT, "secret", "https://kyodo.example/auth/callback")
    c._metadata = {"issuer": ISSUER, "jwks_uri": "unused"}
    c._keys = KeySet([PROVIDER_KEY])

    async def no_refresh(refresh: bool = False) -> KeySet:  # keys are fixed in these tests
        return c._keys

    c._keyset = no_refresh
    return c


def token(key=PROVIDER_KEY, **overrides) -> str:
    now = int(time.time())
    claims = {
        "iss": ISSUER,
        "aud": CLIENT,
        "sub": "someone@example",
        "iat": now,
        "exp": now + 300,
        "nonce": "n-123",
        **overrides,
    }
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode({"alg": "RS256", "kid": "provider"}, claims, key)


async def test_a_valid_token_is_accepted():
    claims = await client().verify_id_token(token(), "n-123")
    assert claims["sub"] == "someone@example"


@pytest.mark.parametrize(
    ("tampered", "nonce"),
    [
        pytest.param({"key": ATTACKER_KEY}, "n-123", id="signed-by-another-key"),
        pytest.param({"iss": "https://evil.example"}, "n-123", id="wrong-issuer"),
        pytest.param({"aud": "another-client"}, "n-123", id="wrong-audience"),
        pytest.param({"exp": int(time.time()) - 600}, "n-123", id="expired"),
        pytest.param({}, "a-different-nonce", id="replayed-nonce"),
        pytest.param({"nonce": None}, "n-123", id="missing-nonce"),
        pytest.param({"iat": int(time.time()) + 3600}, "n-123", id="issued-in-the-future"),
        pytest.param({"aud": [CLIENT, "other"]}, "n-123", id="multi-audience-without-azp"),
    ],
)
async def test_tampered_tokens_are_rejected(tampered, nonce):
    with pytest.raises(OIDCError):
        await client().verify_id_token(token(**tampered), nonce)


async def test_unsigned_token_is_rejected():
    header = "eyJhbGciOiJub25lIn0"  # {"alg":"none"}
    body = token().split(".")[1]
    with pytest.raises(OIDCError):
        await client().verify_id_token(f"{header}.{body}.", "n-123")
