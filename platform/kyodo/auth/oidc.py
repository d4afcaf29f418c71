"""A small OpenID Connect relying party: discovery, PKCE (S256), state, nonce, and ID-token
verification (signature against the provider's JWKS; iss, aud, exp, iat, nonce).

Any standard provider works (Keycloak in compose, oidc-provider-mock in dev and tests).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"]
CLOCK_SKEW = 60


class OIDCError(Exception):
    """Sign-in could not be completed; the message is safe to log, not to show."""


@dataclass(frozen=True)
class AuthRequest:
    url: str
    state: str
    nonce: str
    code_verifier: str


@dataclass(frozen=True)
class Identity:
    issuer: str
    subject: str
    email: str | None
    email_verified: bool
    name: str
    locale: str | None


class OIDCClient:
    def __init__(
        self, issuer: str, client_id: str, client_secret: str, redirect_uri: str, *, timeout=10.0
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        self._http = httpx.AsyncClient(timeout=timeout)
        self._metadata: dict[str, Any] | None = None
        self._keys: KeySet | None = None

    async def aclose(self) -> None:
        await self._http.aclose()

    async def metadata(self) -> dict[str, Any]:
        if self._metadata is None:
            url = f"{self.issuer}/.well-known/openid-configuration"
            try:
                response = await self._http.get(url)
                response.raise_for_status()
            except httpx.HTTPError as exc:
                raise OIDCError(f"discovery failed: {exc}") from exc
            meta = response.json()
            if meta.get("issuer", "").rstrip("/") != self.issuer:
                raise OIDCError(f"issuer mismatch in discovery: {meta.get('issuer')!r}")
            self._metadata = meta
        return self._metadata

    async def authorization_request(self, scope: str = "openid email profile") -> AuthRequest:
        meta = await self.metadata()
        state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        verifier = secrets.token_urlsafe(64)
        query = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": scope,
            "state": state,
            "nonce": nonce,
            "code_challenge": create_s256_code_challenge(verifier),
            "code_challenge_method": "S256",
        }
        return AuthRequest(
            f"{meta['authorization_endpoint']}?{urlencode(query)}", state, nonce, verifier
        )

    async def exchange(self, code: str, code_verifier: str, nonce: str) -> Identity:
        meta = await self.metadata()
        try:
            response = await self._http.post(
                meta["token_endpoint"],
                data={
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": self.redirect_uri,
                    "code_verifier": code_verifier,
                },
                auth=(self.client_id, self.client_secret),
            )
        except httpx.HTTPError as exc:
            raise OIDCError(f"token request failed: {exc}") from exc
        if response.status_code != 200:
            raise OIDCError(
                f"token endpoint answered {response.status_code}: {response.text[:200]}"
            )
        tokens = response.json()
        id_token = tokens.get("id_token")
        if not id_token:
            raise OIDCError("no id_token in the token response")
        claims = await self.verify_id_token(id_token, nonce)
        if "email" not in claims and tokens.get("access_token") and meta.get("userinfo_endpoint"):
            claims = {**await self._userinfo(meta["userinfo_endpoint"], tokens), **claims}
        return Identity(
            issuer=self.issuer,
            subject=str(claims["sub"]),
            email=(claims.get("email") or None),
            email_verified=bool(claims.get("email_verified", False)),
            name=str(claims.get("name") or claims.get("preferred_username") or ""),
            locale=claims.get("locale"),
        )

    async def _userinfo(self, url: str, tokens: dict[str, Any]) -> dict[str, Any]:
        response = await self._http.get(
            url, headers={"Authorization": f"Bearer {tokens['access_token']}"}
        )
        return response.json() if response.status_code == 200 else {}

    async def _keyset(self, refresh: bool = False) -> KeySet:
        if self._keys is None or refresh:
            meta = await self.metadata()
            response = await self._http.get(meta["jwks_uri"])
            response.raise_for_status()
            self._keys = KeySet.import_key_set(response.json())
        return self._keys

    async def verify_id_token(self, id_token: str, nonce: str) -> dict[str, Any]:
        try:
            try:
                token = jwt.decode(id_token, await self._keyset(), algorithms=ALGORITHMS)
            except JoseError:
                # The provider may have rotated its keys since we fetched them.
                token = jwt.decode(
                    id_token, await self._keyset(refresh=True), algorithms=ALGORITHMS
                )
        except (JoseError, ValueError) as exc:
            raise OIDCError(f"ID token signature rejected: {exc}") from exc
        claims = token.claims
        now = time.time()
        registry = jwt.JWTClaimsRegistry(
            now=int(now),
            leeway=CLOCK_SKEW,
            iss={"essential": True, "value": self.issuer},
            sub={"essential": True},
            exp={"essential": True},
            iat={"essential": True},
            nonce={"essential": True, "value": nonce},
        )
        try:
            registry.validate(claims)
        except JoseError as exc:
            raise OIDCError(f"ID token claims rejected: {exc}") from exc
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if self.client_id not in audiences:
            raise OIDCError("ID token is not for this client (aud)")
        if len(audiences) > 1 and claims.get("azp") != self.client_id:
            raise OIDCError("ID token azp does not name this client")
        if claims["iat"] > now + CLOCK_SKEW:
            raise OIDCError("ID token issued in the future")
        return claims
