"""The operator and vendor side over HTTP: tender, Q&A, sealed bids, opening, award and each
organization's allocation, as the people using it see it; then every action in every state for
every kind of person (201/200/403/404/409)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from kyodo.db import utcnow
from procurement import opening
from tests.procurement.tender_http import (
    DAY,
    OPERATOR,
    OWNER,
    QUANTITY,
    VENDOR_A,
    VENDOR_B,
    Builder,
    Clients,
    api,
    member,
    terms,
)

GOVTECH = api("govtech")


@pytest.fixture
def clients(new_client) -> Clients:
    return Clients(new_client)


@pytest.fixture
def builder(db, actor, without_approval) -> Builder:
    return Builder(db, actor, without_approval)


async def test_the_whole_tender_over_http(db, builder, clients):
    built = await builder.build("closed")
    operator = await clients(OPERATOR)
    body = terms()

    made = await operator.post(f"{GOVTECH}/needs/{built.need_id}/tender", json=body)
    assert made.status_code == 201, made.text
    tender = made.json()
    assert (tender["status"], tender["quantity"], tender["ceiling_set"]) == (
        "draft",
        QUANTITY,
        True,
    )
    assert "140000" not in made.text and "90000" not in made.text  # the secret prices
    tid = tender["id"]
    published = await operator.post(f"{GOVTECH}/tenders/{tid}/publish", json={})
    assert published.json()["status"] == "published"

    # vendors see it, without the operator's own fields
    a, b = await clients(VENDOR_A), await clients(VENDOR_B)
    listed = await a.get(f"{api('vendor-a')}/tenders")
    assert tid in [t["id"] for t in listed.json()]
    seen = (await a.get(f"{api('vendor-a')}/tenders/{tid}")).json()
    assert "ceiling_set" not in seen and "invited_vendors" not in seen

    # a question, answered to all without the asker
    asked = await a.post(f"{api('vendor-a')}/tenders/{tid}/questions", json={"text": "納期は？"})
    assert asked.status_code == 201, asked.text
    inbox = (await operator.get(f"{GOVTECH}/tenders/{tid}/questions")).json()
    assert [(q["text"], q["answered"]) for q in inbox] == [("納期は？", False)]
    answered = await operator.post(
        f"{GOVTECH}/questions/{inbox[0]['id']}/answer", json={"answer": "3月末です。"}
    )
    assert answered.status_code == 201, answered.text
    public = await b.get(f"{api('vendor-b')}/tenders/{tid}/answers")
    assert [(x["question"], x["answer"]) for x in public.json()] == [("納期は？", "3月末です。")]
    assert "vendor-a" not in public.text and "asked_by" not in public.text
    assert (await b.get(f"{api('vendor-b')}/tenders/{tid}/questions")).json() == []

    # sealed bids, one replaced
    for client, slug, bid in (
        (a, "vendor-a", {"band_prices": [130_000, 120_000], "one_off_fee": 31_000}),
        (b, "vendor-b", {"band_prices": [135_000, 125_000]}),
        (a, "vendor-a", {"band_prices": [130_000, 118_000], "one_off_fee": 31_000}),
    ):
        put = await client.put(f"{api(slug)}/tenders/{tid}/bid", json=bid)
        assert put.status_code == 200, put.text
    own = (await a.get(f"{api('vendor-a')}/tenders/{tid}/bid")).json()
    assert (own["band_prices"], own["replaced_count"]) == ([130_000, 118_000], 1)
    early = await operator.get(f"{GOVTECH}/tenders/{tid}/evaluation")
    assert early.status_code == 409
    assert (await a.get(f"{api('vendor-a')}/tenders/{tid}/result")).status_code == 409

    # the tick opens the bids at the deadline
    built.body = body
    assert await opening.open_due(db, built.open_at - timedelta(minutes=2)) >= 0
    assert (await operator.get(f"{GOVTECH}/tenders/{tid}/evaluation")).status_code == 409
    assert await opening.open_due(db, built.open_at) >= 1
    evaluation = (await operator.get(f"{GOVTECH}/tenders/{tid}/evaluation")).json()
    assert [(r["vendor"]["slug"], r["unit_price"], r["rank"]) for r in evaluation["rows"]] == [
        ("vendor-a", 118_000, 1),
        ("vendor-b", 125_000, 2),
    ]
    assert (evaluation["ceiling_unit_price"], evaluation["can_award"]) == (140_000, True)

    awarded = await operator.post(f"{GOVTECH}/tenders/{tid}/award", json={})
    assert awarded.status_code == 200, awarded.text
    assert (awarded.json()["vendor"]["slug"], awarded.json()["unit_price"]) == ("vendor-a", 118_000)

    # each municipality: its own line at the pooled price, its saving, the price alone
    toshima = await clients("buyer@133621.example")
    mine = (await toshima.get(f"{api('133621')}/needs/{built.need_id}/allocation")).json()
    [line] = mine["lines"]
    assert (line["quantity"], line["unit_price"], line["alone_unit_price"]) == (5, 118_000, 130_000)
    assert line["saving"] == 5 * 200_000 - line["total"]
    assert line["alone_total"] == 5 * 130_000 + 31_000
    everything = (await operator.get(f"{GOVTECH}/needs/{built.need_id}/allocation")).json()
    assert sorted(x["quantity"] for x in everything["lines"]) == [5, 50, 100]
    assert sum(x["fee_share"] for x in everything["lines"]) == 31_000
    assert sum(x["total"] for x in everything["lines"]) == QUANTITY * 118_000 + 31_000

    # vendors: awarded / not awarded and their own bid
    lost = (await b.get(f"{api('vendor-b')}/needs/{built.need_id}/allocation")).json()
    assert (lost["outcome"], lost["my_bid"]["band_prices"], lost["lines"]) == (
        "not awarded",
        [135_000, 125_000],
        [],
    )
    won = (await a.get(f"{api('vendor-a')}/needs/{built.need_id}/allocation")).json()
    assert (won["outcome"], len(won["lines"])) == ("awarded", 3)

    # the result is public to everyone who may see the tender
    result = (await (await clients(OWNER)).get(f"{api('131016')}/tenders/{tid}/result")).json()
    [first] = result["rounds"]
    assert (first["ceiling_unit_price"], first["minimum_unit_price"]) == (140_000, 90_000)
    assert [e["vendor"] for e in first["ranking"]] == ["vendor-a", "vendor-b"]
    assert result["award"]["vendor"]["slug"] == "vendor-a" and "outcome" not in result
    assert (await b.get(f"{api('vendor-b')}/tenders/{tid}/result")).json()["outcome"] == (
        "not awarded"
    )


async def test_editing_a_published_tender_keeps_each_version(builder, clients):
    built = await builder.build("published")
    operator = await clients(OPERATOR)
    changed = terms(bid_deadline=(utcnow() + 12 * DAY).isoformat(), ceiling_unit_price=139_000)
    edited = await operator.put(f"{GOVTECH}/tenders/{built.tender_id}", json=changed)
    assert edited.status_code == 200, edited.text
    assert (edited.json()["version"], edited.json()["status"]) == (2, "published")
    history = (
        await (await clients(VENDOR_B)).get(
            f"{api('vendor-b')}/tenders/{built.tender_id}/revisions"
        )
    ).json()
    assert [r["version"] for r in history] == [1, 2]
    assert history[0]["terms"]["bid_deadline"] != history[1]["terms"]["bid_deadline"]
    assert "139000" not in str(history) and "140000" not in str(history)


async def test_bands_of_a_published_tender_stay_as_the_sealed_bids_priced_them(
    db, builder, clients
):
    """Bids hold one price per band: new bands would leave them unreadable at opening."""
    built = await builder.build("published")
    await builder.bid(built, VENDOR_A, [130_000, 120_000])
    operator = await clients(OPERATOR)
    url = f"{GOVTECH}/tenders/{built.tender_id}"
    refused = await operator.put(url, json=terms(band_thresholds=[1, 50, 100]))
    assert refused.status_code == 400
    assert [e["field"] for e in refused.json()["errors"]] == ["band_thresholds"]
    assert (await operator.put(url, json=terms(max_rounds=2))).status_code == 200
    assert await opening.open_due(db, built.open_at) >= 1
    evaluation = await operator.get(f"{url}/evaluation")
    assert evaluation.json()["rows"][0]["unit_price"] == 120_000


async def test_every_bid_over_the_ceiling_leads_to_a_rebid_then_unsuccessful(db, builder, clients):
    over = {VENDOR_A: ([150_000, 145_000], 0), VENDOR_B: ([155_000, 149_000], 0)}
    built = await builder.build("opened", bids=over, max_rounds=2)
    operator, vendor = await clients(OPERATOR), await clients(VENDOR_A)
    url = f"{GOVTECH}/tenders/{built.tender_id}"
    evaluation = (await operator.get(f"{url}/evaluation")).json()
    assert (evaluation["outcome"], evaluation["can_award"], evaluation["can_rebid"]) == (
        "all_over_ceiling",
        False,
        True,
    )
    assert {r["invalid_reason"] for r in evaluation["rows"]} == {"over_ceiling"}
    assert (await operator.post(f"{url}/award", json={})).status_code == 409
    past = await operator.post(f"{url}/rebid", json={"bid_deadline": utcnow().isoformat()})
    assert past.status_code == 400
    deadline = utcnow() + 5 * DAY
    rebid = await operator.post(f"{url}/rebid", json={"bid_deadline": deadline.isoformat()})
    assert (rebid.json()["status"], rebid.json()["round"]) == ("published", 2)
    # while the second round takes sealed bids, the first opening (with the disclosed ceiling)
    # is held back from bidders, or it would tell them where to aim
    vendor_url = f"{api('vendor-a')}/tenders/{built.tender_id}"
    assert (await vendor.get(f"{vendor_url}/result")).status_code == 409
    again = await vendor.put(f"{vendor_url}/bid", json={"band_prices": [150_000, 141_000]})
    assert (again.json()["round"], again.json()["replaced_count"]) == (2, 0)
    await opening.open_due(db, deadline + timedelta(minutes=1))
    assert (
        await operator.post(f"{url}/rebid", json={"bid_deadline": deadline.isoformat()})
    ).status_code == 409  # no rounds left
    done = await operator.post(f"{url}/unsuccessful", json={})
    assert done.json()["status"] == "unsuccessful"
    lost = (await vendor.get(f"{api('vendor-a')}/needs/{built.need_id}/allocation")).json()
    assert (lost["outcome"], lost["my_bid"]["round"]) == ("not awarded", 2)
    buyer = await clients(OWNER)
    assert (await buyer.get(f"{api('131016')}/needs/{built.need_id}/allocation")).status_code == 409


async def test_technical_scores_decide_a_weighted_tender(builder, clients):
    built = await builder.build(
        "opened", criteria="weighted", weights={"price": 50, "technical": 50}
    )
    operator = await clients(OPERATOR)
    url = f"{GOVTECH}/tenders/{built.tender_id}"
    assert (await operator.post(f"{url}/award", json={})).status_code == 409  # no scores yet
    for vendor, score in (("vendor-a", 10), ("vendor-b", 100)):
        entered = await operator.put(f"{url}/scores/{vendor}", json={"score": score})
        assert entered.json() == {"vendor": vendor, "score": score}
    assert (await operator.put(f"{url}/scores/vendor-a", json={"score": 101})).status_code == 400
    assert (await operator.put(f"{url}/scores/nobody", json={"score": 1})).status_code == 404
    awarded = await operator.post(f"{url}/award", json={})
    assert awarded.json()["vendor"]["slug"] == "vendor-b"  # dearer, but far better proposal


async def test_a_selective_tender_is_seen_and_bid_only_by_invited_vendors(builder, clients):
    built = await builder.build("published", method="selective", invited_vendors=["vendor-a"])
    operator = await clients(OPERATOR)
    seen = (await operator.get(f"{GOVTECH}/tenders/{built.tender_id}")).json()
    assert seen["invited_vendors"] == ["vendor-a"]
    a, b = await clients(VENDOR_A), await clients(VENDOR_B)
    invited = await a.get(f"{api('vendor-a')}/tenders/{built.tender_id}")
    assert invited.status_code == 200 and "invited_vendors" not in invited.json()
    assert (await b.get(f"{api('vendor-b')}/tenders/{built.tender_id}")).status_code == 404
    assert str(built.tender_id) not in [
        t["id"] for t in (await b.get(f"{api('vendor-b')}/tenders")).json()
    ]
    bid = {"band_prices": [130_000, 120_000]}
    assert (
        await b.put(f"{api('vendor-b')}/tenders/{built.tender_id}/bid", json=bid)
    ).status_code == 404
    assert (
        await a.put(f"{api('vendor-a')}/tenders/{built.tender_id}/bid", json=bid)
    ).status_code == 200


async def test_bad_input_is_400_with_the_fields_named(builder, clients):
    built = await builder.build("closed")
    operator = await clients(OPERATOR)
    url = f"{GOVTECH}/needs/{built.need_id}/tender"
    cases = [
        (terms(ceiling_unit_price=0), "ceiling_unit_price"),
        (terms(ceiling_unit_price="安い"), "ceiling_unit_price"),
        (terms(method="auction"), "method"),
        (terms(bid_deadline="2030-01-01T00:00:00"), "bid_deadline"),  # no time zone
        (terms(bid_deadline=(utcnow() - DAY).isoformat()), "bid_deadline"),
        (terms(minimum_unit_price=150_000), "minimum_unit_price"),
        (terms(band_thresholds=[100, 1]), "band_thresholds"),
        (terms(criteria="weighted"), "weights"),
        (terms(criteria="weighted", weights={"price": 70, "technical": 40}), "technical_weight"),
        (terms(method="selective"), "invited_vendors"),
        (terms(method="selective", invited_vendors=["131016"]), "invited_vendors"),
        ({**terms(), "secret": 1}, "data"),  # an unknown field: the body is refused
    ]
    for body, field in cases:
        response = await operator.post(url, json=body)
        assert response.status_code == 400, (field, response.text)
        assert field in [e["field"] for e in response.json()["errors"]], (field, response.text)

    published = await builder.build("published")
    vendor = await clients(VENDOR_A)
    bid_url = f"{api('vendor-a')}/tenders/{published.tender_id}/bid"
    for bid, field in (
        ({"band_prices": [130_000]}, "band_prices"),  # one price per band
        ({"band_prices": [0, 1]}, "band_prices"),
        ({"band_prices": [1, 1], "one_off_fee": -1}, "one_off_fee"),
        ({"band_prices": [1.5, 1]}, "band_prices"),
    ):
        response = await vendor.put(bid_url, json=bid)
        assert response.status_code == 400, (field, response.text)
        assert any(e["field"].startswith(field) for e in response.json()["errors"]), response.text


# --- state × action × role × organization -------------------------------------------------------

# Who acts, in which organization's URL. `outsider` is vendor A's salesperson calling the
# operator's URL: not a member there.
PEOPLE = {
    "operator": (OPERATOR, "govtech"),
    "staff": ("tender-staff@govtech.example", "govtech"),  # operator member without the roles
    "vendor": (VENDOR_A, "vendor-a"),
    "buyer": (OWNER, "131016"),
    "outsider": (VENDOR_A, "govtech"),
}
# Actions: (method, path under the organization's API with {t} the tender, a body or None).
ACTIONS = {
    "read": ("GET", "/tenders/{t}", None),
    "publish": ("POST", "/tenders/{t}/publish", None),
    "edit": ("PUT", "/tenders/{t}", "terms"),
    "ask": ("POST", "/tenders/{t}/questions", {"text": "仕様書の第3項について"}),
    "bid": ("PUT", "/tenders/{t}/bid", {"band_prices": [129_000, 119_000]}),
    "evaluation": ("GET", "/tenders/{t}/evaluation", None),
    "award": ("POST", "/tenders/{t}/award", None),
    "cancel": ("POST", "/tenders/{t}/cancel", {"reason": "budget"}),
    "undo-award": ("POST", "/tenders/{t}/undo-award", {"reason": "資格確認の誤り"}),
    "result": ("GET", "/tenders/{t}/result", None),
}
# Expected status per state: {action: {who: status}}; who is missing -> the action's default.
# outsider is always 404 (not a member of the organization in the URL). An organization of the
# wrong kind has no such action at all (404); the right kind without the role is refused (403).
ROLE_DENIED = {"staff": 403, "vendor": 404, "buyer": 404}
EXPECTED = {
    "draft": {
        "read": {"operator": 200, "staff": 200, "vendor": 404, "buyer": 404},
        "publish": {"operator": 200, **ROLE_DENIED},
        "edit": {"operator": 200, **ROLE_DENIED},
        "ask": {"operator": 404, "staff": 404, "vendor": 404, "buyer": 404},
        "bid": {"operator": 404, "staff": 404, "vendor": 404, "buyer": 404},
        "evaluation": {"operator": 409, **ROLE_DENIED},
        "award": {"operator": 409, **ROLE_DENIED},
        "cancel": {"operator": 200, **ROLE_DENIED},
        "undo-award": {"operator": 409, **ROLE_DENIED},
        "result": {"operator": 409, "staff": 409, "vendor": 404, "buyer": 404},
    },
    "published": {
        "read": {"operator": 200, "staff": 200, "vendor": 200, "buyer": 200},
        "publish": {"operator": 409, **ROLE_DENIED},
        "edit": {"operator": 200, **ROLE_DENIED},
        "ask": {"operator": 404, "staff": 404, "vendor": 201, "buyer": 404},
        "bid": {"operator": 404, "staff": 404, "vendor": 200, "buyer": 404},
        "evaluation": {"operator": 409, **ROLE_DENIED},
        "award": {"operator": 409, **ROLE_DENIED},
        "cancel": {"operator": 200, **ROLE_DENIED},
        "undo-award": {"operator": 409, **ROLE_DENIED},
        "result": {"operator": 409, "staff": 409, "vendor": 409, "buyer": 409},
    },
    "opened": {
        "read": {"operator": 200, "staff": 200, "vendor": 200, "buyer": 200},
        "publish": {"operator": 409, **ROLE_DENIED},
        "edit": {"operator": 409, **ROLE_DENIED},
        "ask": {"operator": 404, "staff": 404, "vendor": 409, "buyer": 404},
        "bid": {"operator": 404, "staff": 404, "vendor": 409, "buyer": 404},
        "evaluation": {"operator": 200, **ROLE_DENIED},
        "award": {"operator": 200, **ROLE_DENIED},
        "cancel": {"operator": 200, **ROLE_DENIED},
        "undo-award": {"operator": 409, **ROLE_DENIED},
        "result": {"operator": 200, "staff": 200, "vendor": 200, "buyer": 200},
    },
    "awarded": {
        "read": {"operator": 200, "staff": 200, "vendor": 200, "buyer": 200},
        "publish": {"operator": 409, **ROLE_DENIED},
        "edit": {"operator": 409, **ROLE_DENIED},
        "ask": {"operator": 404, "staff": 404, "vendor": 409, "buyer": 404},
        "bid": {"operator": 404, "staff": 404, "vendor": 409, "buyer": 404},
        "evaluation": {"operator": 200, **ROLE_DENIED},
        "award": {"operator": 409, **ROLE_DENIED},
        "cancel": {"operator": 409, **ROLE_DENIED},
        "undo-award": {"operator": 200, **ROLE_DENIED},
        "result": {"operator": 200, "staff": 200, "vendor": 200, "buyer": 200},
    },
    "cancelled": {
        "read": {"operator": 200, "staff": 200, "vendor": 200, "buyer": 200},
        "publish": {"operator": 409, **ROLE_DENIED},
        "edit": {"operator": 409, **ROLE_DENIED},
        "ask": {"operator": 404, "staff": 404, "vendor": 409, "buyer": 404},
        "bid": {"operator": 404, "staff": 404, "vendor": 409, "buyer": 404},
        "evaluation": {"operator": 409, **ROLE_DENIED},
        "award": {"operator": 409, **ROLE_DENIED},
        "cancel": {"operator": 409, **ROLE_DENIED},
        "undo-award": {"operator": 409, **ROLE_DENIED},
        "result": {"operator": 409, "staff": 409, "vendor": 409, "buyer": 409},
    },
}


@pytest.mark.parametrize("state", list(EXPECTED))
async def test_every_action_in_every_state_for_every_person(state, db, seeded, builder, clients):
    await member(db, seeded, PEOPLE["staff"][0], "govtech", ("staff",))
    problems = []
    for action, (method, path, body) in ACTIONS.items():
        built = await builder.build(state)
        # The operator goes last: the others must fail without changing anything.
        for who in ("outsider", "staff", "vendor", "buyer", "operator"):
            email, org = PEOPLE[who]
            expected = 404 if who == "outsider" else EXPECTED[state][action][who]
            client = await clients(email)
            url = api(org) + path.format(t=built.tender_id)
            payload = terms() if body == "terms" else body
            kwargs = {"json": payload} if payload is not None else {}
            if method == "POST" and payload is None:
                kwargs = {"json": {}}
            response = await client.request(method, url, **kwargs)
            if response.status_code != expected:
                problems.append(
                    f"{state} {action} as {who}: {response.status_code} (expected {expected})"
                    f" {response.text[:160]}"
                )
            elif response.status_code >= 400:
                assert response.json()["detail"], response.text  # a reason people can read
    assert not problems, "\n".join(problems)
