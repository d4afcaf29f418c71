"""CSV exports as Excel users and attackers meet them: a tender's results (only after opening,
only for the operator and the participants) and an organization's allocations."""

from __future__ import annotations

import csv
import io
import uuid

import pytest

from tests import support
from tests.procurement.stages import QUANTITY, VENDOR_A, Stages, secret_amounts

OPERATOR, CHIYODA, MACHIDA, TOSHIMA = (
    "admin@govtech.example",
    "buyer@131016.example",
    "buyer@132098.example",
    "buyer@133621.example",
)
VENDOR_B = "sales@vendor-b.example"
SLUG = {
    OPERATOR: "govtech",
    CHIYODA: "131016",
    MACHIDA: "132098",
    TOSHIMA: "133621",
    VENDOR_A: "vendor-a",
    VENDOR_B: "vendor-b",
}
ONLY_MACHIDA = (("132098", 50, 160_000),)  # 利島村 stays out: a non-participant
POOLED = 150  # 千代田区 100 + 町田市 50


@pytest.fixture
def stages(db, actor, published_need, without_approval, now) -> Stages:
    return Stages(db, actor, published_need, without_approval, now)


@pytest.fixture
def signed_in(new_client):
    """A client signed in as this demo person; one per person per test."""
    clients = {}

    async def get(email: str):
        if email not in clients:
            client = await new_client()
            await support.sign_in(client, email)
            clients[email] = client
        return clients[email]

    return get


def results_url(email: str, tender_id) -> str:
    return f"/api/v1/o/{SLUG[email]}/procurement/tenders/{tender_id}/results.csv"


def parse(response) -> list[list[str]]:
    """What Excel would read: the BOM says UTF-8, rows end in CRLF."""
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-type"].endswith("charset=utf-8")
    assert response.headers["content-disposition"].startswith('attachment; filename="')
    raw = response.content
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8").removeprefix("\ufeff")
    assert text.endswith("\r\n") and "\n" not in text.replace("\r\n", "")
    return list(csv.reader(io.StringIO(text, newline="")))


# --- results -----------------------------------------------------------------------------------


async def test_results_before_opening_are_refused_and_show_no_amount(stages, signed_in):
    p = await stages.build("tendering", joiners=ONLY_MACHIDA)
    expected = {OPERATOR: 409, CHIYODA: 409, MACHIDA: 409, VENDOR_A: 409, TOSHIMA: 403}
    for email, status in expected.items():
        response = await (await signed_in(email)).get(results_url(email, p.tender_id))
        assert response.status_code == status, (email, response.text)
        assert response.headers["content-type"].startswith("application/json")
        assert not {a for a in secret_amounts(quantity=POOLED) if str(a) in response.text}


async def test_results_after_opening_rank_every_bid_and_disclose_the_prices(stages, signed_in):
    p = await stages.build("awarded", joiners=ONLY_MACHIDA)
    response = await (await signed_in(OPERATOR)).get(results_url(OPERATOR, p.tender_id))
    assert response.status_code == 200, response.text
    header, *rows = parse(response)
    assert header[:3] == ["回", "開札日時", "結果"]  # Japanese by default
    by_vendor = {row[6]: row for row in rows}
    assert set(by_vendor) == {"株式会社エー・システムズ", "ビー・クラウド株式会社"}
    winner = by_vendor["株式会社エー・システムズ"]
    total = str(119_393 * POOLED + 31_007)
    assert winner[3:9] == ["143917", "91733", "1", "株式会社エー・システムズ", "119393", total]
    assert by_vendor["ビー・クラウド株式会社"][5] == "2"


async def test_every_participant_may_download_the_results_and_no_one_else(stages, signed_in):
    p = await stages.build("opened", joiners=ONLY_MACHIDA)
    for email, status in {CHIYODA: 200, MACHIDA: 200, VENDOR_B: 200, TOSHIMA: 403}.items():
        response = await (await signed_in(email)).get(results_url(email, p.tender_id))
        assert response.status_code == status, (email, response.text)


async def test_weighted_results_show_price_and_technical_points(stages, signed_in):
    p = await stages.build("scored", scores={VENDOR_A: 60, VENDOR_B: 90}, joiners=ONLY_MACHIDA)
    response = await (await signed_in(VENDOR_B)).get(results_url(VENDOR_B, p.tender_id))
    _header, *rows = parse(response)
    by_vendor = {row[6]: row for row in rows}
    a, b = by_vendor["株式会社エー・システムズ"], by_vendor["ビー・クラウド株式会社"]
    lowest, b_total = 119_393 * POOLED + 31_007, 127_319 * POOLED
    # price points = 70 × lowest total ÷ own total; technical = 30 × score ÷ 100
    assert a[11:14] == ["70.00", "18.00", "88.00"]
    price = 70 * lowest / b_total
    assert b[11:14] == [f"{price:.2f}", "27.00", f"{price + 27:.2f}"]
    assert (a[5], b[5]) == ("2", "1")  # the better proposal outweighs the higher price


async def test_results_headers_follow_the_language(stages, signed_in):
    p = await stages.build("opened", joiners=ONLY_MACHIDA)
    client = await signed_in(OPERATOR)
    await client.get("/")  # a page sets the CSRF cookie
    token = support.csrf_token(client)
    await client.post("/locale", data={"locale": "en"}, headers={"x-csrftoken": token})
    header, *_rows = parse(await client.get(results_url(OPERATOR, p.tender_id)))
    assert header[:3] == ["Round", "Opened at", "Outcome"]


async def test_results_of_an_unknown_tender_are_not_found(signed_in):
    client = await signed_in(CHIYODA)
    response = await client.get(results_url(CHIYODA, uuid.uuid4()))
    assert response.status_code == 404


# --- allocations -----------------------------------------------------------------------------


async def allocation_rows(email: str, signed_in, fy=2026) -> list[list[str]]:
    client = await signed_in(email)
    response = await client.get(f"/api/v1/o/{SLUG[email]}/procurement/allocations.csv?fy={fy}")
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    _header, *rows = parse(response)
    return rows


async def test_each_organization_downloads_the_contract_lines_it_may_read(stages, signed_in):
    title = f'=HYPERLINK("http://evil.example","{uuid.uuid4().hex[:8]}")'
    await stages.build("awarded", title=title)

    def mine(rows):  # this test's lines among everything of the fiscal year
        return {row[1]: row for row in rows if row[3] == "'" + title}

    chiyoda = mine(await allocation_rows(CHIYODA, signed_in))
    assert list(chiyoda) == ["131016"]
    line = chiyoda["131016"]
    # quantity, unit, unit price, goods, fee share, total, own estimate, saving
    goods = 100 * 119_393
    fee_share = 31_007 * 100 // QUANTITY + 1  # the largest remainder gets the odd yen
    assert line[5:13] == [
        "100",
        "台",
        "119393",
        str(goods),
        str(fee_share),
        str(goods + fee_share),
        str(100 * 150_000),
        str(100 * 150_000 - goods - fee_share),
    ]
    assert list(mine(await allocation_rows(MACHIDA, signed_in))) == ["132098"]
    every = mine(await allocation_rows(OPERATOR, signed_in))
    assert set(every) == {"131016", "132098", "133621"}
    assert sum(int(row[10]) for row in every.values()) == 119_393 * QUANTITY + 31_007
    assert set(mine(await allocation_rows(VENDOR_A, signed_in))) == set(every)
    assert not mine(await allocation_rows(VENDOR_B, signed_in))  # lost: no contract


async def test_an_undone_award_leaves_no_allocation(stages, signed_in):
    title = f"取消テスト {uuid.uuid4().hex[:8]}"
    await stages.build("undone", title=title)
    assert not [r for r in await allocation_rows(OPERATOR, signed_in) if r[3] == title]


async def test_allocations_reject_a_fiscal_year_out_of_range(signed_in):
    client = await signed_in(CHIYODA)
    response = await client.get("/api/v1/o/131016/procurement/allocations.csv?fy=1999")
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"]
