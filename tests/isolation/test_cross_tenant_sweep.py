"""Cross-tenant sweep over HTTP: every route, as a member of another organization.

The attacker is an admin (holding every role) of organization B. For each route that takes an
id, they call it inside B with real ids of organization A's rows, with a body that would be
accepted, for every method the route answers: the answer must be 404, must not show A's data,
and nothing of A may change. Every route under an organization is also called for A itself, of
which the attacker is not a member: 404 again. And B's own pages and APIs never show A's rows.

Routes are read from the app, so a new route is swept the day it is added; a path parameter the
sweep has no real id for fails the run until a factory (`tests/isolation/ids_<module>.py`)
makes one. The factories make rows that B has no right to (a draft, not a need published to every
municipality): deliberately shared rows are tested from both sides by their module.
"""

from __future__ import annotations

import dataclasses
import hashlib
import types
import typing
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import msgspec
import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient

from kyodo.db import Database
from tests import support
from tests.isolation.conftest import ORG_A, ORG_B, add_person
from tests.isolation.id_factories import make_ids

pytestmark = pytest.mark.postgres

# Routes whose path parameters name no organization's data.
PUBLIC_ROUTES = {"/static/{file_path:path}", "/schema/{path:str}"}
# Routes that a sweep must not call: they end or start the attacker's own session.
SESSION_ROUTES = ("/auth/",)
SKIPPED_METHODS = {"OPTIONS", "HEAD"}  # answered by the framework, without a handler
# Ids of rows that organization A does not own either (the operator's tenders, a vendor's
# question, a vendor, a draft's ocid on the public endpoint): A's own members cannot act on them,
# so for these only the fence is checked (404, no oracle, nothing changed), not the control.
NOT_OWNED_BY_A = {"tender_id", "question_id", "vendor", "ocid"}
# Operator-only steps on a municipality's need: A's members cannot take them either.
OPERATOR_STEPS = ("/tender",)


def routes(app: Litestar) -> Iterator[tuple[HTTPRoute, str]]:
    for route in app.routes:
        if (
            isinstance(route, HTTPRoute)
            and route.path not in PUBLIC_ROUTES
            and not route.path.startswith(SESSION_ROUTES)
        ):
            for method in sorted(route.methods - SKIPPED_METHODS):
                yield route, method


def id_params(route: HTTPRoute) -> set[str]:
    return set(route.path_parameters) - {"org"}


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def url(route: HTTPRoute, values: dict[str, str]) -> str:
    path = route.path
    for name, param in route.path_parameters.items():
        path = path.replace("{" + param.full + "}", values[name])
    return path


# -- bodies a handler would accept, so the attack reaches the lookup -------------------------


def sample(annotation: Any, name: str, ids: dict[str, str]) -> Any:
    """A plausible value for a field, preferring the real value of the same name."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        return sample(args[0], name, ids)
    if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
        return {
            f.encode_name: sample(f.type, f.name, ids) for f in msgspec.structs.fields(annotation)
        }
    if name in ids:
        return ids[name]
    if origin in (list, set, tuple, frozenset):
        return [sample(args[0] if args else str, name.removesuffix("s"), ids)]
    if origin is typing.Literal:
        return args[0]
    if origin in (typing.Union, types.UnionType):
        return sample(next(a for a in args if a is not type(None)), name, ids)
    if annotation is bool:
        return False
    if annotation is int:
        return 1
    if annotation is uuid.UUID:
        return str(uuid.uuid4())
    if annotation is datetime:  # deadlines must lie ahead
        return (datetime.now(UTC) + timedelta(days=30)).isoformat()
    if annotation is date:
        return (datetime.now(UTC) + timedelta(days=60)).date().isoformat()
    if "email" in name:
        return f"sweep-{uuid.uuid4().hex[:8]}@example.jp"
    return "sweep"


def request_kwargs(route: HTTPRoute, method: str, ids: dict[str, str], csrf: str) -> dict:
    if method in ("GET", "DELETE"):
        return {}
    handler = route.route_handler_map[method][0]  # type: ignore[index]
    data = handler.parsed_fn_signature.parameters.get("data")
    if route.path.startswith("/api/"):
        return {"json": sample(data.annotation, "data", ids) if data else {}}
    # Pages read their forms by field name: offer every real value, plus an e-mail.
    form = {**ids, "roles": ids.get("role", ""), "email": sample(str, "email", ids)}
    return {"data": form, "headers": {"x-csrftoken": csrf}}


# -- what the attacker must not see or change ------------------------------------------------


async def secrets_of(owner, tenant_id: uuid.UUID) -> set[str]:
    """Ids and e-mails that only organization A's pages may show."""
    rows = await owner.fetch(
        "SELECT m.id::text AS id, p.id::text AS person, p.email FROM memberships m"
        " JOIN people p ON p.id = m.person_id WHERE m.tenant_id = $1"
        " AND NOT EXISTS (SELECT 1 FROM memberships o WHERE o.person_id = m.person_id"
        "                 AND o.tenant_id <> $1)",
        tenant_id,
    )
    invitations = await owner.fetch(
        "SELECT id::text AS id, email FROM invitations WHERE tenant_id = $1", tenant_id
    )
    values = {r["id"] for r in rows} | {r["person"] for r in rows} | {r["email"] for r in rows}
    values |= {r["id"] for r in invitations} | {r["email"] for r in invitations}
    return {v for v in values if v}


async def fingerprint(owner, tenant_id: uuid.UUID) -> dict[str, str]:
    """A digest of every tenant table's rows of one organization, read past RLS."""
    tables = [
        r["relname"]
        for r in await owner.fetch(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id'"
            " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')"
        )
    ]
    digests = {}
    for table in tables:
        rows = await owner.fetch(
            f"SELECT t::text AS r FROM {table} t WHERE tenant_id = $1", tenant_id
        )
        digests[table] = hashlib.sha256(
            "\n".join(sorted(r["r"] for r in rows)).encode()
        ).hexdigest()
    return digests


def leaked(text: str, path: str, secrets: set[str]) -> set[str]:
    """A's values in a response, apart from the ids the attacker put in the URL themselves."""
    text = text.replace(path, "")
    return {s for s in secrets if s in text and s not in path}


# -- the attacker ----------------------------------------------------------------------------


async def signed_in_member(settings, org_id: uuid.UUID, slug: str):
    """A client signed in as a new person holding every role in one organization."""
    from kyodo.app import create_app

    db = Database(settings.database_url)
    email = f"sweep-{uuid.uuid4().hex[:8]}@{slug}.example"
    try:
        await add_person(db, settings, email, {org_id: None})
    finally:
        await db.dispose()
    # Served like a production web process (sessions in Redis, no worker inside): jobs that the
    # insider's control requests queue stay in the outbox instead of landing in A's tables in
    # the middle of a later attack, which would look like the attack changed them.
    app = create_app(dataclasses.replace(settings, redis_url=support.REDIS_URL))
    client = AsyncTestClient(app=app, base_url="http://127.0.0.1:8000")
    await client.__aenter__()
    await support.sign_in(client, email)
    assert (await client.get(f"/o/{slug}")).status_code == 200  # also sets the CSRF cookie
    return client, app


@pytest.fixture(scope="module")
async def attacker(pg_seeded, org_ids) -> AsyncIterator[tuple[AsyncTestClient, Litestar]]:
    """An admin, with every other role too, of organization B."""
    client, app = await signed_in_member(pg_seeded, org_ids[ORG_B], ORG_B)
    yield client, app
    await client.__aexit__(None, None, None)


@pytest.fixture(scope="module")
async def insider(pg_seeded, org_ids) -> AsyncIterator[AsyncTestClient]:
    """The same, in organization A: the control that proves the sweep's requests are real."""
    client, _app = await signed_in_member(pg_seeded, org_ids[ORG_A], ORG_A)
    yield client
    await client.__aexit__(None, None, None)


async def real_ids(db: Database, app: Litestar) -> dict[str, str]:
    """Fresh ids of organization A's rows for every path parameter of the app's routes."""
    ids = await make_ids(db, ORG_A)
    missing = {
        f"{{{name}}} in {method} {route.path}"
        for route, method in routes(app)
        for name in id_params(route) - set(ids)
    }
    assert not missing, (
        "The cross-tenant sweep has no real id for these path parameters:\n  "
        + "\n  ".join(sorted(missing))
        + "\nAdd a factory for each in tests/isolation/ids_<module>.py (make_ids), so the new"
        " route is attacked with real ids of another organization."
    )
    return ids


async def test_every_id_route_answers_404_with_another_tenants_ids(
    attacker, insider, app_db, owner, org_ids
):
    client, app = attacker
    swept = [(route, method) for route, method in routes(app) if id_params(route)]
    assert swept, "no route takes an id: the sweep would prove nothing"

    a = org_ids[ORG_A]
    csrf = support.csrf_token(client)
    problems = []
    for route, method in swept:
        ids = await real_ids(app_db, app)
        path = url(route, {**ids, "org": ORG_B})
        secrets = await secrets_of(owner, a)
        before = await fingerprint(owner, a)
        response = await client.request(
            method, path, follow_redirects=False, **request_kwargs(route, method, ids, csrf)
        )
        if response.status_code != 404:
            problems.append(f"{method} {path}: {response.status_code} {response.text[:200]}")
        if found := leaked(response.text, path, secrets):
            problems.append(f"{method} {path}: shows organization A's {sorted(found)}")
        after = await fingerprint(owner, a)
        if changed := sorted(t for t in before if before[t] != after[t]):
            problems.append(f"{method} {path}: changed organization A's {changed}")
        # No oracle: A's real id is answered exactly like an id that exists nowhere.
        nowhere = {k: str(uuid.uuid4()) if is_uuid(v) else v for k, v in ids.items()}
        twin_path = url(route, {**nowhere, "org": ORG_B})
        twin = await client.request(
            method,
            twin_path,
            follow_redirects=False,
            **request_kwargs(route, method, nowhere, csrf),
        )
        if (twin.status_code, twin.text.replace(twin_path, "")) != (
            response.status_code,
            response.text.replace(path, ""),
        ):
            problems.append(f"{method} {path}: answers A's id unlike an id that exists nowhere")
        if (
            "org" not in route.path_parameters
            or id_params(route) & NOT_OWNED_BY_A
            or route.path.endswith(OPERATOR_STEPS)
        ):
            continue  # rows A cannot act on either (a person's notifications, tenders, ...)
        # The same request inside A succeeds: the 404 above is the fence, not a bad id or body.
        own = url(route, {**ids, "org": ORG_A})
        control = await insider.request(
            method,
            own,
            follow_redirects=False,
            **request_kwargs(route, method, ids, support.csrf_token(insider)),
        )
        # Inside A the request must get past sign-in, permission and lookup. A 400 or 409 there
        # means the row was found and its input or state judged (one draft can't suit every step).
        if control.status_code in (401, 403, 404):
            problems.append(
                f"{method} {own}: {control.status_code} even inside A, so the sweep's request"
                f" proves nothing; fix its ids or body: {control.text[:200]}"
            )
    assert not problems, "\n".join(problems)


async def test_an_organization_the_person_is_not_in_is_404_on_every_route(attacker, app_db):
    client, app = attacker
    csrf = support.csrf_token(client)
    ids = await real_ids(app_db, app)
    problems = []
    for route, method in routes(app):
        if "org" not in route.path_parameters:
            continue
        for org in (ORG_A, "000000"):
            path = url(route, {**ids, "org": org})
            response = await client.request(
                method, path, follow_redirects=False, **request_kwargs(route, method, ids, csrf)
            )
            api = path.startswith("/api/")
            kind = response.headers.get("content-type", "")
            if response.status_code != 404:
                problems.append(f"{method} {path}: {response.status_code}")
            elif ("json" in kind) != api:
                problems.append(f"{method} {path}: 404 answered as {kind}")
    assert not problems, "\n".join(problems)


async def test_the_attackers_own_pages_never_show_another_tenants_rows(
    attacker, app_db, owner, org_ids
):
    client, app = attacker
    await make_ids(app_db, ORG_A)  # A has a member and an open invitation right now
    secrets = await secrets_of(owner, org_ids[ORG_A])
    problems = []
    listed = 0
    for route, method in routes(app):
        if method != "GET" or id_params(route):
            continue
        path = url(route, {"org": ORG_B})
        response = await client.get(path, follow_redirects=False)
        listed += response.status_code == 200
        if found := leaked(response.text, path, secrets):
            problems.append(f"GET {path}: shows organization A's {sorted(found)}")
    assert listed > 3
    assert not problems, "\n".join(problems)
