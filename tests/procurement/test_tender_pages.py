"""The tender pages as people use them, in Japanese: the operator prepares, publishes, answers,
evaluates and awards; vendors ask and bid; each sees the result and the allocation. Forms are
POSTs with the CSRF token; errors come back next to their fields."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from kyodo.db import utcnow
from procurement import opening
from tests import support
from tests.procurement.tender_http import (
    DAY,
    OPERATOR,
    VENDOR_A,
    VENDOR_B,
    Builder,
    Clients,
)


@pytest.fixture
def clients(new_client) -> Clients:
    return Clients(new_client)


@pytest.fixture
def builder(db, actor, without_approval) -> Builder:
    return Builder(db, actor, without_approval)


async def post_form(client, url: str, data: dict, **kwargs):
    """A form submitted from a page: the page first (for the CSRF cookie), then the POST."""
    page = "/" + "/".join(url.split("/")[1:4])  # the organization's home
    await client.get(page)
    return await client.post(
        url,
        data=data,
        headers={"x-csrftoken": support.csrf_token(client)},
        follow_redirects=False,
        **kwargs,
    )


def local(moment) -> str:
    """A datetime-local value in Japan time."""
    return (moment + timedelta(hours=9)).strftime("%Y-%m-%dT%H:%M")


def field_error(html: str, field: str) -> str:
    found = re.search(rf'id="{field}-error"[^>]*>([^<]+)<', html)
    return found[1] if found else ""


async def test_the_tender_pages_from_need_to_allocation(db, builder, clients):
    built = await builder.build("closed")
    operator = await clients(OPERATOR)
    base = "/o/govtech/procurement"

    listed = await operator.get(f"{base}/tenders")
    assert listed.status_code == 200
    assert (
        f"{base}/needs/{built.need_id}/tender" in listed.text
        and "入札手続を待つ案件" in listed.text
    )
    form = await operator.get(f"{base}/needs/{built.need_id}/tender")
    assert form.status_code == 200 and 'for="ceiling_unit_price"' in form.text

    deadline = utcnow() + 10 * DAY
    fields = {
        "method": "open",
        "criteria": "lowest_price",
        "price_weight": "100",
        "technical_weight": "0",
        "ceiling_unit_price": "",
        "minimum_unit_price": "90,000",
        "band_thresholds": "1, 100",
        "question_deadline": "",
        "bid_deadline": local(utcnow() - DAY),
        "max_rounds": "3",
    }
    bad = await post_form(operator, f"{base}/needs/{built.need_id}/tender", fields)
    assert bad.status_code == 400
    assert field_error(bad.text, "ceiling_unit_price") == "整数を入力してください。"
    assert 'aria-invalid="true"' in bad.text
    fields.update(ceiling_unit_price="140,000", bid_deadline=local(deadline))
    bad = await post_form(operator, f"{base}/needs/{built.need_id}/tender", fields)
    assert bad.status_code == 303, bad.text
    tender_url = bad.headers["location"]
    tid = tender_url.rsplit("/", 1)[1]

    page = await operator.get(tender_url)
    assert "設定済み（開札まで非公開）" in page.text and "140,000" not in page.text
    assert "下書き" in page.text
    published = await post_form(operator, f"{tender_url}/publish", {})
    assert published.status_code == 303
    assert "公告しました" in (await operator.get(tender_url)).text

    # vendor A asks; the operator answers; vendor B reads the answer
    a, b = await clients(VENDOR_A), await clients(VENDOR_B)
    vendor_list = await a.get("/o/vendor-a/procurement/tenders")
    assert f"/o/vendor-a/procurement/tenders/{tid}" in vendor_list.text
    asked = await post_form(a, f"/o/vendor-a/procurement/tenders/{tid}/questions", {"text": ""})
    assert asked.status_code == 400 and field_error(asked.text, "ask-text")
    asked = await post_form(
        a, f"/o/vendor-a/procurement/tenders/{tid}/questions", {"text": "保守期間は？"}
    )
    assert asked.status_code == 303
    inbox = await operator.get(tender_url)
    question_id = re.search(r"/questions/([0-9a-f-]{36})/answer", inbox.text)[1]
    answered = await post_form(
        operator, f"{base}/questions/{question_id}/answer", {"answer": "5年間です。"}
    )
    assert answered.status_code == 303
    seen = await b.get(f"/o/vendor-b/procurement/tenders/{tid}")
    assert "保守期間は？" in seen.text and "5年間です。" in seen.text
    assert "エー" not in seen.text  # not the asker's name

    # bids through the form
    bid_url = f"/o/vendor-a/procurement/tenders/{tid}/bid"
    assert "まだ入札していません。" in (await a.get(bid_url)).text
    wrong = await post_form(a, bid_url, {"band_price_0": "13万", "band_price_1": "118000"})
    assert wrong.status_code == 400 and field_error(wrong.text, "bid-band_price_0")
    for client, url, prices in (
        (a, bid_url, ("130,000", "118,000")),
        (b, f"/o/vendor-b/procurement/tenders/{tid}/bid", ("135000", "125000")),
    ):
        done = await post_form(
            client, url, {"band_price_0": prices[0], "band_price_1": prices[1], "one_off_fee": "0"}
        )
        assert done.status_code == 303, done.text
    mine = await a.get(bid_url)
    assert "¥118,000" in mine.text and "¥125,000" not in mine.text
    early = await operator.get(f"{tender_url}/evaluation")
    assert early.status_code == 409 and "まだ開札されていません。" in early.text

    # opening by the tick, then the evaluation and the award
    await opening.open_due(db, deadline + timedelta(minutes=1))
    evaluation = await operator.get(f"{tender_url}/evaluation")
    assert evaluation.status_code == 200
    assert "¥140,000" in evaluation.text and "1位の入札者を落札者に決定" in evaluation.text
    awarded = await post_form(operator, f"{tender_url}/award", {})
    assert awarded.status_code == 303
    assert "落札者を決定しました" in (await operator.get(f"{tender_url}/evaluation")).text

    won = await a.get(f"/o/vendor-a/procurement/tenders/{tid}/result")
    lost = await b.get(f"/o/vendor-b/procurement/tenders/{tid}/result")
    assert '<h2 id="mine-heading">落札</h2>' in won.text
    assert '<h2 id="mine-heading">不落札</h2>' in lost.text and "¥125,000" in lost.text

    toshima = await clients("buyer@133621.example")
    allocation = await toshima.get(f"/o/133621/procurement/needs/{built.need_id}/allocation")
    assert allocation.status_code == 200
    assert "自団体の契約明細" in allocation.text and "単独で調達した場合の単価" in allocation.text
    assert "¥130,000" in allocation.text  # 5 units alone fall in the first band
    everything = await operator.get(f"{base}/needs/{built.need_id}/allocation")
    assert everything.text.count('<th scope="row">') == 4  # three lines and the total


async def test_weighted_scores_and_undoing_an_award_on_the_evaluation_page(builder, clients):
    built = await builder.build(
        "opened",
        criteria="weighted",
        weights={"price": 70, "technical": 30},
    )
    operator = await clients(OPERATOR)
    url = f"/o/govtech/procurement/tenders/{built.tender_id}"
    page = await operator.get(f"{url}/evaluation")
    assert "技術点未入力" in page.text and 'id="score-vendor-a-score"' in page.text
    bad = await post_form(operator, f"{url}/scores/vendor-a", {"score": "120"})
    assert bad.status_code == 400 and field_error(bad.text, "score-vendor-a-score")
    for vendor, score in (("vendor-a", "80"), ("vendor-b", "60")):
        done = await post_form(operator, f"{url}/scores/{vendor}", {"score": score})
        assert done.status_code == 303, done.text
    assert (await post_form(operator, f"{url}/award", {})).status_code == 303
    empty = await post_form(operator, f"{url}/undo-award", {"reason": " "})
    assert empty.status_code == 400 and field_error(empty.text, "undo-reason")
    undone = await post_form(operator, f"{url}/undo-award", {"reason": "資格確認の誤り"})
    assert undone.status_code == 303
    assert "開札済み" in (await operator.get(url)).text


async def test_forms_need_the_csrf_token_and_the_right_person(builder, clients):
    built = await builder.build("published")
    vendor = await clients(VENDOR_A)
    url = f"/o/vendor-a/procurement/tenders/{built.tender_id}/bid"
    await vendor.get(url)
    forged = await vendor.post(url, data={"band_price_0": "1", "band_price_1": "1"})
    assert forged.status_code == 403
    buyer = await clients("buyer@131016.example")
    refused = await post_form(buyer, f"/o/131016/procurement/tenders/{built.tender_id}/bid", {})
    assert refused.status_code == 404  # municipalities have no bids
    other = await post_form(vendor, f"/o/govtech/procurement/tenders/{built.tender_id}/publish", {})
    assert other.status_code == 404
