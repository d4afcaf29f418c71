"""Sealed until opening: before the bid deadline no response, page, CSV or open-data release that
the operator, a municipality or the other vendor can reach shows a bid's amounts or the secret
ceiling and minimum prices; once the tick opens the bids, the result shows them all.

The routes are read from the app, so a new procurement page is searched the day it is added;
a path parameter this test has no value for fails it until one is given below.
"""

from __future__ import annotations

import re
import uuid

import pytest
from litestar.routes import HTTPRoute

from procurement import ocds, opening
from tests.procurement.tender_http import (
    OPERATOR,
    OWNER,
    QUANTITY,
    VENDOR_A,
    VENDOR_B,
    Builder,
    Clients,
    api,
    terms,
)

# Amounts that appear nowhere else in the test data, so any hit is a leak.
CEILING, MINIMUM = 123_457, 98_761
BIDS = {
    VENDOR_A: ([118_273, 109_837], 27_191, "A社の提案 構成図7731"),
    VENDOR_B: ([121_393, 113_579], 0, "B社の提案 構成図8842"),
}
VENDOR_SLUG = {VENDOR_A: "vendor-a", VENDOR_B: "vendor-b"}
# Everyone who may look, with the organization they look from.
VIEWERS = {
    OPERATOR: "govtech",
    OWNER: "131016",
    "approver@131016.example": "131016",
    "buyer@132098.example": "132098",
    "buyer@133621.example": "133621",
    VENDOR_A: "vendor-a",
    VENDOR_B: "vendor-b",
}
SCANNED = ("/procurement", "/open-data")


def bid_secrets(email: str) -> set[str]:
    prices, fee, proposal = BIDS[email]
    amounts = {*prices, *(p * QUANTITY for p in prices), *(p * QUANTITY + fee for p in prices)}
    return {str(a) for a in amounts | ({fee} if fee else set())} | {proposal}


PRICE_SECRETS = {str(a) for a in (CEILING, MINIMUM, CEILING * QUANTITY, MINIMUM * QUANTITY)}


def forbidden_for(email: str) -> set[str]:
    """What this viewer must not see before opening: the secret prices and every bid but its
    own organization's."""
    others = [v for v in BIDS if v != email]
    return PRICE_SECRETS | set().union(*(bid_secrets(v) for v in others))


def found_in(text: str, secrets: set[str]) -> set[str]:
    """Secrets in a response: amounts as digits or with thousands separators, not as part of
    a longer number or an id; text as it is."""
    hits = set()
    for secret in secrets:
        if secret.isdigit():
            plain = rf"(?<![0-9A-Za-z_.-]){secret}(?![0-9])"
            grouped = rf"(?<![0-9A-Za-z_.,-]){int(secret):,}(?![0-9]|,[0-9])"
            if re.search(plain, text) or re.search(grouped, text):
                hits.add(secret)
        elif secret in text:
            hits.add(secret)
    return hits


def procurement_pages(app) -> list[str]:
    return sorted(
        {
            route.path
            for route in app.routes
            if isinstance(route, HTTPRoute)
            and "GET" in route.methods
            and any(part in route.path for part in SCANNED)
        }
    )


def fill(path: str, values: dict[str, str]) -> str:
    for name, value in values.items():
        path = re.sub(r"\{" + name + r":[^}]+\}", value, path)
    missing = re.findall(r"\{([^:}]+)", path)
    assert not missing, f"no value for {missing} in {path}: add one to the secrecy test's values"
    return path


@pytest.fixture
def clients(new_client) -> Clients:
    return Clients(new_client)


@pytest.fixture
def builder(db, actor, without_approval) -> Builder:
    return Builder(db, actor, without_approval)


async def sweep(clients: Clients, new_client, values: dict[str, str]) -> list[str]:
    """Every procurement GET route as every viewer (and as nobody): the leaks found."""
    problems = []
    anonymous = await new_client()
    paths = procurement_pages(anonymous.app)
    assert len(paths) > 15, paths
    for email, org in [*VIEWERS.items(), (None, "131016")]:
        client = await clients(email) if email else anonymous
        secrets = (
            forbidden_for(email)
            if email
            else PRICE_SECRETS | set().union(*(bid_secrets(v) for v in BIDS))
        )
        for path in paths:
            url = fill(path, {**values, "org": org})
            response = await client.get(url, follow_redirects=False)
            if leaks := found_in(response.text, secrets):
                problems.append(f"{email or 'anonymous'} GET {url}: {sorted(leaks)}")
    return problems


async def test_nothing_shows_bids_or_secret_prices_before_opening_and_the_result_does_after(
    db, builder, clients, new_client
):
    built = await builder.build("closed")
    operator = await clients(OPERATOR)
    body = terms(ceiling_unit_price=CEILING, minimum_unit_price=MINIMUM)
    made = await operator.post(f"{api('govtech')}/needs/{built.need_id}/tender", json=body)
    assert made.status_code == 201, made.text
    tid = made.json()["id"]
    built.tender_id, built.body = uuid.UUID(tid), body
    assert (await operator.post(f"{api('govtech')}/tenders/{tid}/publish", json={})).is_success
    vendor_a = await clients(VENDOR_A)
    asked = await vendor_a.post(
        f"{api('vendor-a')}/tenders/{tid}/questions", json={"text": "保守は何年ですか"}
    )
    question_id = asked.json()["id"]
    await operator.post(
        f"{api('govtech')}/questions/{question_id}/answer", json={"answer": "5年です。"}
    )
    for email, (prices, fee, proposal) in BIDS.items():
        bid = {"band_prices": prices, "one_off_fee": fee, "technical_proposal": proposal}
        response = await (await clients(email)).put(
            f"{api(VENDOR_SLUG[email])}/tenders/{tid}/bid", json=bid
        )
        assert response.status_code == 200, response.text
        assert found_in(response.text, {str(prices[0])})  # the vendor sees its own bid

    values = {
        "id": str(built.need_id),
        "tender_id": tid,
        "question_id": question_id,
        "vendor": "vendor-a",
        "ocid": ocds.ocid(built.need_id),
        "attachment_id": str(uuid.uuid4()),
    }
    problems = await sweep(clients, new_client, values)
    assert not problems, "sealed values shown before opening:\n" + "\n".join(problems)

    # The tick opens the bids at the deadline: the result shows them to everyone.
    assert await opening.open_due(db, built.open_at) >= 1
    for email in (OPERATOR, "buyer@133621.example", VENDOR_B):
        client, org = await clients(email), VIEWERS[email]
        result = await client.get(f"{api(org)}/tenders/{tid}/result")
        assert result.status_code == 200, result.text
        shown = found_in(result.text, PRICE_SECRETS | {str(p) for v in BIDS.values() for p in v[0]})
        assert {str(CEILING), str(MINIMUM), "109837", "113579"} <= shown, result.text
        page = await client.get(f"/o/{org}/procurement/tenders/{tid}/result")
        assert page.status_code == 200 and "123,457" in page.text and "109,837" in page.text
    csv = await operator.get(f"{api('govtech')}/tenders/{tid}/results.csv")
    assert csv.status_code == 200 and found_in(csv.text, {str(CEILING), "109837", "113579"})
    # proposals stay with the operator's evaluators
    evaluation = await operator.get(f"{api('govtech')}/tenders/{tid}/evaluation")
    assert BIDS[VENDOR_B][2] in evaluation.text
    other = await (await clients(VENDOR_B)).get(f"{api('vendor-b')}/tenders/{tid}/result")
    assert BIDS[VENDOR_A][2] not in other.text
