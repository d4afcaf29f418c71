"""/auth/login, /auth/callback, /auth/logout."""

from __future__ import annotations

import hmac
import logging
from typing import Annotated

from litestar import Request, Router, get, post
from litestar.params import FromQuery, QueryParameter
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_400_BAD_REQUEST
from sqlalchemy import select

from kyodo.auth import sessions
from kyodo.auth.context import SESSION_PERSON
from kyodo.auth.oidc import Identity, OIDCError
from kyodo.db import Database, Scope, utcnow
from kyodo.models import Person
from kyodo.web.i18n import pick_locale

log = logging.getLogger(__name__)
PENDING = "oidc_pending"


def safe_next(value: str | None) -> str:
    """Only same-site relative paths, so the sign-in cannot bounce a person elsewhere."""
    if value and value.startswith("/") and not value.startswith(("//", "/\\")):
        return value
    return "/"


@get("/login", name="auth:login")
async def login(
    request: Request, next_path: Annotated[str | None, QueryParameter(name="next")] = None
) -> Redirect:
    auth = await request.app.state.oidc.authorization_request()
    request.session[PENDING] = {
        "state": auth.state,
        "nonce": auth.nonce,
        "verifier": auth.code_verifier,
        "next": safe_next(next_path),
    }
    return Redirect(auth.url)


@get("/callback", name="auth:callback")
async def callback(
    request: Request,
    code: FromQuery[str | None] = None,
    # Litestar reserves `state` as a parameter name.
    oidc_state: Annotated[str | None, QueryParameter(name="state")] = None,
    error: FromQuery[str | None] = None,
) -> Redirect | Template:
    pending = request.session.pop(PENDING, None) if request.session else None
    if error or not code or not pending or not oidc_state:
        return _failed(request, error or "missing code or state")
    if not hmac.compare_digest(str(pending["state"]), oidc_state):
        return _failed(request, "state mismatch")
    try:
        identity = await request.app.state.oidc.exchange(
            code, pending["verifier"], pending["nonce"]
        )
    except OIDCError as exc:
        return _failed(request, str(exc))
    person = await sign_in(request.app.state.db, request.app.state.manifests, identity)
    locale = request.session.get("locale") or person.locale
    await sessions.rotate(request)
    request.clear_session()
    request.set_session({SESSION_PERSON: str(person.id), "locale": pick_locale(locale)})
    return Redirect(pending["next"])


def _failed(request: Request, reason: str) -> Template:
    log.warning("sign-in failed: %s", reason)
    return Template("auth/failed.html", status_code=HTTP_400_BAD_REQUEST)


async def sign_in(db: Database, manifests, identity: Identity) -> Person:
    """Find or create the person, refresh what the provider says of them, run modules' hooks."""
    async with db.session(Scope.anonymous()) as session:
        person = await session.scalar(
            select(Person).where(
                Person.issuer == identity.issuer, Person.subject == identity.subject
            )
        )
        if person is None:
            person = Person(issuer=identity.issuer, subject=identity.subject)
            session.add(person)
        person.email = identity.email.lower() if identity.email else None
        person.email_verified = identity.email_verified
        person.display_name = identity.name or person.display_name or (identity.email or "")
        if identity.locale:
            person.locale = pick_locale(identity.locale[:2])
        person.last_sign_in_at = utcnow()
    for manifest in manifests:
        if manifest.on_sign_in:
            await manifest.on_sign_in(db, person)
    return person


@post("/logout", name="auth:logout")
async def logout(request: Request) -> Redirect:
    request.clear_session()
    return Redirect("/signed-out")


router = Router(path="/auth", route_handlers=[login, callback, logout], tags=["auth"])
