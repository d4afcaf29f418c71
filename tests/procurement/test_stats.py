"""見える化: a fiscal year's joint procurements, municipalities, contract value and savings, in
the public JSON and on the dashboard pages with their server-drawn chart."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from procurement.dashboard import LABEL_CHARS, bar_chart
from procurement.models import ContractLine
from procurement.opening import fiscal_year
from procurement.stats import Figures, fiscal_year_dates
from tests import support
from tests.procurement.stages import Stages

ONLY_MACHIDA = (("132098", 50, 160_000),)


@pytest.fixture
def stages(db, actor, published_need, without_approval, now) -> Stages:
    return Stages(db, actor, published_need, without_approval, now)


def in_fy(fy: int) -> datetime:
    """A moment inside fiscal year `fy` (tests each use their own year, so figures are exact)."""
    return datetime(fy, 6, 1, 3, 0, tzinfo=UTC)


# --- pure parts ----------------------------------------------------------------------------------


def test_fiscal_years_run_april_to_march_in_tokyo():
    assert fiscal_year_dates(2026) == (date(2026, 4, 1), date(2027, 3, 31))
    assert fiscal_year(datetime(2027, 3, 31, 14, 59, tzinfo=UTC)) == 2026  # 23:59 in Tokyo
    assert fiscal_year(datetime(2027, 3, 31, 15, 0, tzinfo=UTC)) == 2027  # 1 April 00:00


def test_savings_rate_is_against_the_estimates():
    assert Figures(1, 2, 900, 1000, 100).savings_rate == pytest.approx(0.1)
    assert Figures(0, 0, 0, 0, 0).savings_rate is None


def test_bar_chart_puts_negative_values_left_of_zero_in_proportion():
    chart = bar_chart([("千代田区", 300), ("とても長い名前の調達案件その二", -100), ("ゼロ", 0)])
    plus, minus, zero = chart.bars
    assert minus.x + minus.width == pytest.approx(chart.zero_x)
    assert plus.x == pytest.approx(chart.zero_x)
    assert plus.width == pytest.approx(3 * minus.width, abs=0.2)
    assert zero.width == 0 and not zero.negative and minus.negative
    assert len(minus.label) == LABEL_CHARS and minus.label.endswith("…")
    assert minus.full_label == "とても長い名前の調達案件その二"
    assert plus.y < minus.y < zero.y < chart.height
    assert bar_chart([]).bars == []


# --- figures ---------------------------------------------------------------------------------


async def live_lines(db, actor, fy: int) -> list[ContractLine]:
    operator = await actor("admin@govtech.example")
    async with db.session(operator.scope) as s:
        return list(
            await s.scalars(
                select(ContractLine).where(
                    ContractLine.fiscal_year == fy, ContractLine.void.is_(False)
                )
            )
        )


async def test_public_figures_of_a_fiscal_year_count_only_live_contracts(
    app_client, stages, db, actor
):
    fy = 2031
    await stages.build("awarded", award_at=in_fy(fy))
    await stages.build("awarded", award_at=in_fy(fy), joiners=ONLY_MACHIDA, title="複合機")
    await stages.build("undone", award_at=in_fy(fy))  # an undone award counts for nothing
    lines = await live_lines(db, actor, fy)
    assert len(lines) == 5
    value = sum(line.total for line in lines)
    assert value == (119_393 * 155 + 31_007) + (119_393 * 150 + 31_007)
    estimated = 100 * 150_000 + 50 * 160_000 + 5 * 200_000 + 100 * 150_000 + 50 * 160_000

    response = await app_client.get(f"/api/v1/open-data/procurement-stats?fy={fy}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["fiscal_year"] == fy and body["currency"] == "JPY"
    assert body["period"] == {"start": "2031-04-01", "end": "2032-03-31"}
    assert body["totals"] == {
        "procurements": 2,
        "municipalities": 3,
        "contract_value": value,
        "estimated_value": estimated,
        "savings": estimated - value,
        "savings_rate": round((estimated - value) / estimated, 4),
    }
    rows = {r["code"]: r for r in body["municipalities"]}
    assert list(rows) == ["131016", "132098", "133621"]  # largest savings first
    assert rows["131016"]["procurements"] == 2 and rows["133621"]["procurements"] == 1
    assert {r["municipalities"] for r in rows.values()} == {3}  # each pooled with all three
    assert rows["133621"]["name_ja"] == "利島村" and rows["133621"]["name_en"]
    assert sum(r["contract_value"] for r in rows.values()) == value


async def test_the_fiscal_year_defaults_to_the_current_one_and_is_checked(app_client):
    body = (await app_client.get("/api/v1/open-data/procurement-stats")).json()
    assert body["fiscal_year"] == fiscal_year(datetime.now(UTC))
    for bad in ("1999", "2101", "abc"):
        response = await app_client.get(f"/api/v1/open-data/procurement-stats?fy={bad}")
        assert response.status_code == 400, bad
        assert re.search(r"[ぁ-んァ-ン一-龥]", response.json()["errors"][0]["message"])
        assert "set-cookie" not in response.headers


# --- the dashboard pages ---------------------------------------------------------------------


async def dashboard(new_client, email: str, slug: str, fy: int) -> str:
    client = await new_client()
    await support.sign_in(client, email)
    response = await client.get(f"/o/{slug}/procurement/dashboard?fy={fy}")
    assert response.status_code == 200, response.text
    return response.text


def assert_accessible_chart(html: str) -> None:
    svg = re.search(r"<svg[^>]*>.*?</svg>", html, re.S)
    assert svg, "a chart"
    assert 'role="img"' in svg[0] and 'aria-labelledby="savings-chart-title"' in svg[0]
    assert re.search(r'<title id="savings-chart-title">[^<]+</title>', svg[0])
    assert "<script" not in svg[0]
    assert re.search(r"<table>\s*<caption", html), "the figures as a table next to the chart"
    # nothing loaded from elsewhere: no CDN, no chart library
    assert not re.search(r'(src|href)="(https?:)?//', html)


async def test_a_municipality_sees_its_procurements_and_tokyo(new_client, stages):
    fy = 2032
    await stages.build("awarded", award_at=in_fy(fy), title="業務用タブレット")
    # 町田市 budgeted below the pooled price here: a negative saving, drawn left of zero
    below_budget = (("132098", 50, 100_000),)
    await stages.build(
        "awarded",
        award_at=in_fy(fy),
        title="会議用ディスプレイ",
        joiners=below_budget,
    )
    html = await dashboard(new_client, "buyer@132098.example", "132098", fy)
    assert "2032年度" in html and "共同調達の見える化" in html
    assert "業務用タブレット" in html and "会議用ディスプレイ" in html
    assert "案件別の削減額" in html and "都内全体" in html
    assert_accessible_chart(html)
    assert 'fill="#a4161a"' in html  # the negative bar
    assert "利島村" not in html  # a municipality's page lists its own procurements only


async def test_the_operator_sees_every_municipality(new_client, stages):
    fy = 2033
    await stages.build("awarded", award_at=in_fy(fy))
    html = await dashboard(new_client, "admin@govtech.example", "govtech", fy)
    assert "団体別の削減額" in html
    for name in ("千代田区", "町田市", "利島村"):
        assert f'<th scope="row">{name}</th>' in html
    assert_accessible_chart(html)


async def test_a_year_without_contracts_says_so_without_a_chart(new_client):
    html = await dashboard(new_client, "buyer@131016.example", "131016", 2090)
    assert "この年度に落札決定した共同調達はまだありません。" in html
    assert "<svg" not in html


async def test_vendors_have_no_dashboard(new_client):
    client = await new_client()
    await support.sign_in(client, "sales@vendor-a.example")
    response = await client.get("/o/vendor-a/procurement/dashboard")
    assert response.status_code == 403
