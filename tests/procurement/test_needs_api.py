"""The needs API as officials of different organizations use it (and misuse it).

Table-driven over action × person (role and organization) × state: the answer is 200/201/204
when allowed, 403 for a missing role, 404 for another organization's draft or an action
the organization's kind has no such thing for (a vendor drafting a need), 409 for the wrong
state or a passed deadline. Plus bad input (400 naming the field, never 500), the pool and
its CSV, settings, and 20 municipalities joining at once on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import csv
import io
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from datetime import timedelta

import pytest
from litestar.testing import AsyncTestClient
from sqlalchemy import select

from kyodo.db import Database, Scope, utcnow
from kyodo.models import Organization
from kyodo.settings import Settings
from procurement import needs
from procurement.actors import Actor
from procurement.models import Demand
from tests.procurement.conftest import need_input
from tests.procurement.needs_support import DAY, PEOPLE, member, need_in_state, signed_in

Client = Callable[[str], Awaitable[AsyncTestClient]]


@pytest.fixture(scope="module")
async def people(seeded: Settings) -> dict[str, Actor]:
    db = Database(seeded.database_url)
    try:
        return {
            name: await member(db, seeded, email, slug, roles)
            for name, (email, slug, roles) in PEOPLE.items()
        }
    finally:
        await db.dispose()


@pytest.fixture(scope="module")
async def client(seeded: Settings, people: dict[str, Actor]) -> AsyncIterator[Client]:
    """A signed-in client per person, made on first use and kept for the module."""
    async with AsyncExitStack() as stack:
        made: dict[str, AsyncTestClient] = {}

        async def get(name: str) -> AsyncTestClient:
            if name not in made:
                made[name] = await stack.enter_async_context(signed_in(seeded, PEOPLE[name][0]))
            return made[name]

        yield get


def api(name: str, path: str = "") -> str:
    return f"/api/v1/o/{PEOPLE[name][1]}/procurement{path}"


def need_body(**overrides) -> dict:
    body = {
        "title": "庁内無線LANアクセスポイント",
        "category": "network",
        "unit": "台",
        "quantity": 40,
        "estimated_unit_price": 80_000,
        "join_deadline": (utcnow() + 10 * DAY).isoformat(),
        "specification": "Wi-Fi 6E 対応",
        "desired_delivery": (utcnow() + 60 * DAY).date().isoformat(),
    }
    body.update(overrides)
    return body


# action -> (method, path after /needs/{id}, body)
ACTIONS = {
    "read": ("GET", "", None),
    "update": ("PUT", "", need_body),
    "patch": ("PATCH", "", lambda: {"quantity": 77}),
    "submit": ("POST", "/submit", lambda: {}),
    "approve": ("POST", "/approve", lambda: {"comment": "承認します"}),
    "return": ("POST", "/return", lambda: {"comment": "数量の根拠を追記してください"}),
    "join": ("PUT", "/commitment", lambda: {"quantity": 12, "estimated_unit_price": 90_000}),
    "withdraw": ("DELETE", "/commitment", None),
    "participants": ("GET", "/participants", None),
    "approve_join": ("POST", "/commitment/approve", lambda: {}),
    "return_join": ("POST", "/commitment/return", lambda: {"comment": "予算が確保できません"}),
}

# (action, person, state of the need, expected status, expected "status" in the answer)
CASES = [
    ("read", "officer", "draft", 200, "draft"),
    ("read", "staff", "draft", 200, "draft"),
    ("read", "other_officer", "draft", 404, None),
    ("read", "other_officer", "pending_approval", 404, None),
    ("read", "other_officer", "published", 200, "published"),
    ("read", "operator", "published", 200, "published"),
    ("read", "operator", "draft", 404, None),
    ("read", "vendor", "published", 404, None),
    ("update", "officer", "draft", 200, "draft"),
    ("update", "officer", "returned", 200, "returned"),
    ("update", "officer", "pending_approval", 409, None),
    ("update", "officer", "published", 409, None),
    ("update", "staff", "draft", 403, None),
    ("update", "approver", "draft", 403, None),
    ("update", "other_officer", "draft", 404, None),
    ("update", "vendor", "draft", 404, None),
    ("patch", "officer", "draft", 200, "draft"),
    ("patch", "officer", "published", 409, None),
    ("patch", "other_officer", "draft", 404, None),
    ("submit", "officer", "draft", 200, "pending_approval"),
    ("submit", "officer", "returned", 200, "pending_approval"),
    ("submit", "officer", "pending_approval", 409, None),
    ("submit", "officer", "published", 409, None),
    ("submit", "officer", "expired_draft", 409, None),
    ("submit", "approver", "draft", 403, None),
    ("submit", "staff", "draft", 403, None),
    ("submit", "other_officer", "draft", 404, None),
    ("submit", "vendor", "draft", 404, None),
    ("submit", "operator", "draft", 404, None),
    ("approve", "approver", "pending_approval", 200, "published"),
    ("approve", "approver", "draft", 409, None),
    ("approve", "approver", "published", 409, None),
    ("approve", "approver", "expired_pending_approval", 409, None),
    ("approve", "officer", "pending_approval", 403, None),
    ("approve", "staff", "pending_approval", 403, None),
    ("approve", "other_approver", "pending_approval", 404, None),
    ("approve", "vendor", "pending_approval", 404, None),
    ("return", "approver", "pending_approval", 200, "returned"),
    ("return", "approver", "returned", 409, None),
    ("return", "approver", "published", 409, None),
    ("return", "officer", "pending_approval", 403, None),
    ("return", "other_approver", "pending_approval", 404, None),
    ("join", "other_officer", "published", 200, None),
    ("join", "officer", "published", 200, "active"),  # the owner changes its own quantity
    ("join", "other_officer", "joined", 200, None),  # a change
    ("join", "other_officer", "draft", 404, None),
    ("join", "other_officer", "pending_approval", 404, None),
    ("join", "other_officer", "closed", 409, None),
    ("join", "other_officer", "expired_published", 409, None),
    ("join", "staff", "published", 403, None),
    ("join", "other_approver", "published", 403, None),
    ("join", "vendor", "published", 404, None),
    ("join", "operator", "published", 404, None),
    ("withdraw", "other_officer", "joined", 204, None),
    ("withdraw", "other_officer", "published", 404, None),  # never joined
    ("withdraw", "officer", "published", 409, None),  # the owner cannot leave its own need
    ("withdraw", "other_officer", "expired_joined", 409, None),
    ("withdraw", "other_officer", "closed", 409, None),
    ("withdraw", "vendor", "joined", 404, None),
    ("participants", "officer", "joined", 200, None),
    ("participants", "staff", "joined", 200, None),
    ("participants", "operator", "joined", 200, None),
    ("participants", "other_officer", "joined", 403, None),
    ("participants", "other_officer", "draft", 404, None),
    ("participants", "vendor", "joined", 404, None),
    ("approve_join", "approver", "foreign_pending_join", 200, "active"),
    ("approve_join", "approver", "expired_foreign_pending_join", 409, None),
    ("approve_join", "officer", "foreign_pending_join", 403, None),
    ("approve_join", "staff", "foreign_pending_join", 403, None),
    ("approve_join", "other_approver", "foreign_pending_join", 409, None),  # own share: active
    ("approve_join", "other_approver", "published", 404, None),  # 町田市 never asked to join
    ("approve_join", "approver", "published", 409, None),  # its own share is no request
    ("return_join", "approver", "foreign_pending_join", 200, "returned"),
    ("return_join", "officer", "foreign_pending_join", 403, None),
    ("return_join", "other_approver", "published", 404, None),
]


@pytest.mark.parametrize(("action", "who", "state", "expected", "status"), CASES)
async def test_action_by_person_in_state(db, people, client, action, who, state, expected, status):
    need_id = await need_in_state(db, people, state)
    method, suffix, body = ACTIONS[action]
    kwargs = {"json": body()} if body else {}
    response = await (await client(who)).request(
        method, api(who, f"/needs/{need_id}{suffix}"), **kwargs
    )
    assert response.status_code == expected, response.text
    if expected >= 400:
        assert response.json()["detail"]  # a reason, in the person's language
    if status:
        assert response.json()["status"] == status


async def test_create_answers_201_with_id_and_status(client):
    response = await (await client("officer")).post(api("officer", "/needs"), json=need_body())
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["status"] == "draft"
    uuid.UUID(created["id"])
    assert created["quantity"] == 40 and created["owner"]["slug"] == "131016"


async def test_pooled_demand_over_the_whole_path(client):
    """Draft, approve, join, change, withdraw: the pool and the owner's view follow."""
    officer, approver = await client("officer"), await client("approver")
    machida = await client("other_officer")
    # Due soonest, so it is on the pool's first page whatever other tests left open.
    soon = need_body(join_deadline=(utcnow() + timedelta(hours=2)).isoformat())
    need_id = (await officer.post(api("officer", "/needs"), json=soon)).json()["id"]
    assert (await officer.post(api("officer", f"/needs/{need_id}/submit"), json={})).json()[
        "status"
    ] == "pending_approval"
    approved = await approver.post(api("approver", f"/needs/{need_id}/approve"), json={})
    assert approved.status_code == 200 and approved.json()["status"] == "published"

    def entry(pool: list[dict]) -> dict:
        return next(e for e in pool if e["id"] == need_id)

    seen = entry((await machida.get(api("other_officer", "/pool?category=network"))).json())
    assert (seen["total_quantity"], seen["participants"]) == (40, 1)
    assert seen["my_commitment"] is None
    joined = await machida.put(
        api("other_officer", f"/needs/{need_id}/commitment"),
        json={"quantity": 25, "estimated_unit_price": 85_000},
    )
    assert joined.status_code == 200, joined.text
    if joined.json()["status"] == "pending_approval":
        pytest.fail("町田市 was expected to join without an approval step in this test")
    seen = entry((await machida.get(api("other_officer", "/pool"))).json())
    assert (seen["total_quantity"], seen["participants"]) == (65, 2)
    assert seen["my_commitment"]["quantity"] == 25
    # Another organization sees the totals, never the owner's own quantity or budget.
    read = (await machida.get(api("other_officer", f"/needs/{need_id}"))).json()
    assert read["quantity"] is None and read["estimated_unit_price"] is None
    assert read["demand"] == {"total_quantity": 65, "participants": 2}
    who = (await officer.get(api("officer", f"/needs/{need_id}/participants"))).json()
    assert {(p["organization"]["slug"], p["quantity"]) for p in who} == {
        ("131016", 40),
        ("132098", 25),
    }
    await machida.put(
        api("other_officer", f"/needs/{need_id}/commitment"),
        json={"quantity": 70, "estimated_unit_price": 85_000},
    )
    assert entry((await officer.get(api("officer", "/pool"))).json())["total_quantity"] == 110
    gone = await machida.delete(api("other_officer", f"/needs/{need_id}/commitment"))
    assert gone.status_code == 204
    seen = entry((await officer.get(api("officer", "/pool"))).json())
    assert (seen["total_quantity"], seen["participants"]) == (40, 1)


@pytest.fixture(scope="module", autouse=True)
async def machida_joins_without_approval(seeded: Settings, people) -> None:
    """町田市 joins directly (its admin switched approval off), so joins count at once."""
    db = Database(seeded.database_url)
    try:
        admin = Actor(
            org=people["other_officer"].org,
            person_id=people["other_officer"].person_id,
            roles=frozenset({"admin"}),
        )
        async with db.session(admin.scope) as s:
            await needs.configure(s, admin, approval_required=False)
    finally:
        await db.dispose()


# -- bad input ------------------------------------------------------------------------------

BAD_NEEDS = [
    ({}, "title"),
    (need_body(title=""), "title"),
    (need_body(title="x" * 201), "title"),
    (need_body(category="weapons"), "category"),
    (need_body(unit="u" * 21), "unit"),
    (need_body(quantity=0), "quantity"),
    (need_body(quantity=-3), "quantity"),
    (need_body(quantity=1.5), "quantity"),
    (need_body(quantity="ten"), "quantity"),
    (need_body(quantity=True), "quantity"),
    (need_body(quantity=10**13), "quantity"),
    (need_body(estimated_unit_price=0), "estimated_unit_price"),
    (need_body(estimated_unit_price=10**30), "estimated_unit_price"),
    (need_body(join_deadline="2030-01-01T09:00:00"), "join_deadline"),  # no time zone
    (need_body(join_deadline="next Friday"), "join_deadline"),
    (need_body(join_deadline="2020-01-01T09:00:00+09:00"), "join_deadline"),  # the past
    (need_body(join_deadline="9999-12-31T23:59:59-12:00"), "join_deadline"),  # 8000 years on
    (need_body(desired_delivery="soon"), "desired_delivery"),
    (need_body(specification="s" * 20_001), "specification"),
    (need_body(colour="red"), "data"),  # an unknown field: the body is named
    ([1, 2, 3], ""),
    ("just text", ""),
]


@pytest.mark.parametrize(("body", "field"), BAD_NEEDS)
async def test_bad_need_is_400_naming_the_field(client, body, field):
    response = await (await client("officer")).post(api("officer", "/needs"), json=body)
    assert response.status_code == 400, response.text
    answer = response.json()
    assert answer["detail"]
    if field:
        assert field in named(answer), answer
    assert all(e["message"] for e in answer["errors"])


def named(answer: dict) -> set[str]:
    """The fields an answer names (the kernel names a missing field `data.<field>`)."""
    return {e["field"].removeprefix("data.") for e in answer["errors"]}


async def test_broken_json_and_wrong_content_type_are_4xx(client):
    officer = await client("officer")
    broken = await officer.post(
        api("officer", "/needs"),
        content=b'{"title": ',
        headers={"content-type": "application/json"},
    )
    assert broken.status_code == 400
    form = await officer.post(api("officer", "/needs"), data={"title": "x"})
    assert form.status_code == 415


@pytest.mark.parametrize(
    ("suffix", "method", "body", "field"),
    [
        ("/commitment", "PUT", {"quantity": 0, "estimated_unit_price": 1}, "quantity"),
        ("/commitment", "PUT", {"quantity": 5}, "estimated_unit_price"),
        (
            "/commitment",
            "PUT",
            {"quantity": 5, "estimated_unit_price": "¥5"},
            "estimated_unit_price",
        ),
        ("/return", "POST", {}, "comment"),
        ("/return", "POST", {"comment": ""}, "comment"),
        ("/return", "POST", {"comment": "   "}, "comment"),
        ("/return", "POST", {"comment": "c" * 2001}, "comment"),
    ],
)
async def test_bad_decisions_and_joins_are_400(db, people, client, suffix, method, body, field):
    state = "published" if suffix == "/commitment" else "pending_approval"
    who = "other_officer" if suffix == "/commitment" else "approver"
    need_id = await need_in_state(db, people, state)
    response = await (await client(who)).request(
        method, api(who, f"/needs/{need_id}{suffix}"), json=body
    )
    assert response.status_code == 400, response.text
    assert field in named(response.json())


@pytest.mark.parametrize("query", ["?page=0", "?page=abc", "?category=weapons", "?page=99999"])
async def test_bad_pool_queries_are_400(client, query):
    response = await (await client("other_officer")).get(api("other_officer", f"/pool{query}"))
    assert response.status_code == 400, response.text


async def test_vendors_have_no_pool(client):
    response = await (await client("vendor")).get(api("vendor", "/pool"))
    assert response.status_code == 404


# -- the pool as CSV -----------------------------------------------------------------------


async def test_pool_csv_opens_in_excel_with_bom_crlf_and_no_formulas(db, people, client):
    need_id = await need_in_state(db, people, "joined")
    officer = people["officer"]
    async with db.session(officer.scope) as s:
        hostile = await needs.create_need(
            s,
            officer,
            need_input(title='=HYPERLINK("https://evil.example","開く")', category="other"),
            utcnow(),
        )
        await needs.submit_need(s, officer, hostile.id, utcnow())
    approver = people["approver"]
    async with db.session(approver.scope) as s:
        await needs.approve_need(s, approver, hostile.id, utcnow())

    response = await (await client("other_officer")).get(api("other_officer", "/pool.csv"))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith("attachment;")
    raw = response.content
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 byte-order mark: Excel reads it as UTF-8
    text = raw.decode("utf-8-sig")
    assert "\r\n" in text and "\n" not in text.replace("\r\n", "")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][1] == "件名"  # Japanese headers by default
    mine = next(r for r in rows if r[0] == str(need_id))
    assert mine[5] == "130" and mine[6] == "2" and mine[9] == "30"  # 100 + 30, two bodies
    evil = next(r for r in rows if r[0] == str(hostile.id))
    assert evil[1].startswith("'=")


# -- settings and subscriptions ------------------------------------------------------------


async def test_admin_switches_approval_and_others_cannot(db, seeded, client):
    # 中央区, so the approval step of the organizations other tests use stays as it is
    await member(db, seeded, "admin-needs@131024.example", "131024", ("admin",))
    await member(db, seeded, "buyer-needs@131024.example", "131024", ("procurement_officer",))
    async with signed_in(seeded, "admin-needs@131024.example") as admin:
        url = "/api/v1/o/131024/procurement/settings"
        changed = await admin.put(url, json={"approval_required": False, "min_lead_days": 3})
        assert changed.status_code == 200, changed.text
        assert (await admin.get(url)).json() == {"approval_required": False, "min_lead_days": 3}
        bad = await admin.put(url, json={"approval_required": "maybe"})
        assert bad.status_code == 400
        too_long = await admin.put(url, json={"approval_required": True, "min_lead_days": 400})
        assert too_long.status_code == 400
        assert too_long.json()["errors"][0]["field"] == "min_lead_days"
    async with signed_in(seeded, "buyer-needs@131024.example") as buyer:
        refused = await buyer.put(url, json={"approval_required": True})
        assert refused.status_code == 403
        # With 3 lead days and no approval, a need due in 2 days is refused, one in 5 published.
        soon = await buyer.post(
            "/api/v1/o/131024/procurement/needs",
            json=need_body(join_deadline=(utcnow() + 2 * DAY).isoformat()),
        )
        assert soon.status_code == 400
        later = await buyer.post(
            "/api/v1/o/131024/procurement/needs",
            json=need_body(join_deadline=(utcnow() + 5 * DAY).isoformat()),
        )
        submitted = await buyer.post(
            f"/api/v1/o/131024/procurement/needs/{later.json()['id']}/submit", json={}
        )
        assert submitted.json()["status"] == "published"
    vendor = await client("vendor")
    refused = await vendor.put(api("vendor", "/settings"), json={"approval_required": False})
    assert refused.status_code == 404  # vendors have no approval step to switch


async def test_subscriptions_replace_the_followed_categories(client):
    officer, staff = await client("other_officer"), await client("staff")
    url = api("other_officer", "/subscriptions")
    saved = await officer.put(url, json={"categories": ["cloud", "ai_ocr"]})
    assert saved.status_code == 200 and saved.json() == {"categories": ["ai_ocr", "cloud"]}
    assert (await officer.put(url, json={"categories": ["cloud"]})).json()["categories"] == [
        "cloud"
    ]
    assert (await officer.get(url)).json() == {"categories": ["cloud"]}
    assert (await officer.put(url, json={"categories": ["guns"]})).status_code == 400
    refused = await staff.put(api("staff", "/subscriptions"), json={"categories": []})
    assert refused.status_code == 403


# -- concurrency -----------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_twenty_municipalities_joining_at_once_lose_nothing(db, seeded, people):
    """20 municipalities join at once, then change their quantities while others withdraw and
    new ones join, each in its own transaction: the pooled demand is exactly the sum."""
    async with db.session(Scope.anonymous()) as s:
        slugs = list(
            await s.scalars(
                select(Organization.slug)
                .where(Organization.kind == "municipality", Organization.slug.notin_(["131016"]))
                .order_by(Organization.slug)
                .limit(30)
            )
        )
    joiners = []
    for slug in slugs:
        officer = await member(
            db, seeded, f"buyer-rush@{slug}.example", slug, ("procurement_officer", "admin")
        )
        async with db.session(officer.scope) as s:
            await needs.configure(s, officer, approval_required=False)
        joiners.append(officer)
    first, later = joiners[:20], joiners[20:]
    need_id = await need_in_state(db, people, "published")
    now = utcnow()

    async def join(officer: Actor, quantity: int) -> None:
        async with db.session(officer.scope) as s:
            await needs.join(s, officer, need_id, quantity, 100_000, now)

    async def withdraw(officer: Actor) -> None:
        async with db.session(officer.scope) as s:
            await needs.withdraw(s, officer, need_id, now)

    await asyncio.gather(*(join(o, 10 + i) for i, o in enumerate(first)))
    expected = {o.org.id: 10 + i for i, o in enumerate(first)}
    assert await totals(db, need_id) == (100 + sum(expected.values()), 21)

    changes = [join(o, 100 + i) for i, o in enumerate(first[:12])]
    leaving = [withdraw(o) for o in first[12:16]]
    arriving = [join(o, 7) for o in later]
    await asyncio.gather(*changes, *leaving, *arriving)
    expected.update({o.org.id: 100 + i for i, o in enumerate(first[:12])})
    for o in first[12:16]:
        expected.pop(o.org.id)
    expected.update({o.org.id: 7 for o in later})
    assert await totals(db, need_id) == (100 + sum(expected.values()), 1 + len(expected))


async def totals(db: Database, need_id: uuid.UUID) -> tuple[int, int]:
    async with db.session(Scope.anonymous()) as s:
        row = await s.get(Demand, need_id)
        return row.total_quantity, row.participants
