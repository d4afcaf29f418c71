"""Open data: every joint procurement as an OCDS 1.1 release package, public and without sign-in,
valid against the vendored OCDS 1.1.5 schema with every coded value in its codelist, and never
showing a secret price or a sealed bid."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from jsonschema import Draft4Validator, FormatChecker
from referencing import Registry, Resource

import procurement
from procurement import ocds
from procurement.needs import create_need
from tests.procurement.conftest import need_input
from tests.procurement.stages import (
    CEILING,
    MINIMUM,
    OVER_CEILING,
    QUANTITY,
    Stages,
    secret_amounts,
)

SCHEMA = Path(procurement.__file__).parent / "ocds_schema"


@pytest.fixture
def stages(db, actor, published_need, without_approval, now) -> Stages:
    return Stages(db, actor, published_need, without_approval, now)


# --- the vendored schema and codelists ---------------------------------------------------------


def _load(name: str) -> dict[str, Any]:
    return json.loads((SCHEMA / name).read_text(encoding="utf-8"))


@cache
def validator() -> Draft4Validator:
    """The release package schema, resolving its release schema from the vendored copy."""
    release_schema = _load("release-schema.json")
    registry = Registry().with_resource(
        release_schema["id"], Resource.from_contents(release_schema)
    )
    # jsonschema checks formats only with optional packages; these two are all OCDS uses.
    formats = FormatChecker(formats=())
    formats.checks("date-time", raises=ValueError)(_is_date_time)
    formats.checks("uri")(lambda v: not isinstance(v, str) or bool(urlsplit(v).scheme))
    return Draft4Validator(
        _load("release-package-schema.json"), registry=registry, format_checker=formats
    )


def _is_date_time(value: Any) -> bool:
    return not isinstance(value, str) or (
        "T" in value and datetime.fromisoformat(value).tzinfo is not None
    )


@cache
def codelist(name: str) -> frozenset[str]:
    with (SCHEMA / "codelists" / name).open(encoding="utf-8") as f:
        return frozenset(row["Code"] for row in csv.DictReader(f))


def coded_values(schema: dict, instance: Any, root: dict) -> Iterator[tuple[str, bool, Any]]:
    """(codelist, closed?, value) for each value that the schema ties to a codelist."""
    if "$ref" in schema:
        schema = root["definitions"][schema["$ref"].removeprefix("#/definitions/")]
    if "codelist" in schema and instance is not None:
        for value in instance if isinstance(instance, list) else [instance]:
            yield schema["codelist"], not schema.get("openCodelist", False), value
    if isinstance(instance, dict):
        for key, value in instance.items():
            if key in schema.get("properties", {}):
                yield from coded_values(schema["properties"][key], value, root)
    elif isinstance(instance, list) and isinstance(schema.get("items"), dict):
        for item in instance:
            yield from coded_values(schema["items"], item, root)


def assert_valid(package: dict[str, Any]) -> None:
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator().iter_errors(package)]
    assert not errors, errors
    root = _load("release-schema.json")
    for release in package["releases"]:
        checked = list(coded_values(root, release, root))
        assert checked  # tag, initiationType and tender.status at least
        unknown = [(c, v) for c, _closed, v in checked if v not in codelist(c)]
        assert not unknown, unknown  # none outside its codelist, closed or open


async def published_release(client, need_id) -> dict[str, Any]:
    response = await client.get(f"/api/v1/open-data/ocds/{ocds.ocid(need_id)}")
    assert response.status_code == 200, response.text
    package = response.json()
    assert_valid(package)
    assert package["version"] == "1.1"
    assert package["uri"].endswith(f"/api/v1/open-data/ocds/{ocds.ocid(need_id)}")
    [release] = package["releases"]
    assert release["ocid"] == ocds.ocid(need_id)
    return release


def roles(release: dict[str, Any]) -> dict[str, list[str]]:
    return {p["id"]: p["roles"] for p in release["parties"]}


# --- a release in every state ------------------------------------------------------------------

EXPECTED = {  # state: (tender.status, tag)
    "published": ("planning", ["planning"]),
    "closed": ("planning", ["planning"]),
    "tendering": ("active", ["tender"]),
    "opened": ("active", ["tender"]),
    "awarded": ("complete", ["tender", "award", "contract"]),
    "unsuccessful": ("unsuccessful", ["tenderUpdate"]),
    "cancelled": ("cancelled", ["tenderCancellation"]),
    "undone": ("active", ["tender", "award", "contract"]),
}


@pytest.mark.parametrize("state", Stages.STATES)
async def test_a_release_in_every_state_is_valid_ocds(app_client, stages, state):
    p = await stages.build(state)
    release = await published_release(app_client, p.need_id)
    status, tag = EXPECTED[state]
    assert release["tender"]["status"] == status
    assert release["tag"] == tag
    assert release["buyer"] == {"id": "131016", "name": "千代田区"}
    parties = roles(release)
    assert parties["govtech"] == ["procuringEntity"]
    assert release["tender"]["procuringEntity"]["id"] == "govtech"
    assert all(v["currency"] == "JPY" for v in _values(release))
    if state == "published":
        # joins stay among the municipalities until demand closes
        assert parties == {"131016": ["buyer"], "govtech": ["procuringEntity"]}
    else:
        assert {k for k, v in parties.items() if v == ["buyer"]} == {"131016", "132098", "133621"}
        assert release["tender"]["items"][0]["quantity"] == QUANTITY
    opened = state in ("opened", "awarded", "unsuccessful", "undone")
    assert ("value" in release["tender"]) == opened
    if opened:
        assert release["tender"]["value"]["amount"] == CEILING * QUANTITY
        assert release["tender"]["minValue"]["amount"] == MINIMUM * QUANTITY
        assert release["tender"]["numberOfTenderers"] == 2
        assert {"vendor-a", "vendor-b"} <= parties.keys()
    else:
        assert "tenderers" not in release["tender"]
        assert not {"vendor-a", "vendor-b"} & parties.keys()


async def test_award_and_contracts_name_the_supplier_and_add_up(app_client, stages):
    p = await stages.build("awarded")
    release = await published_release(app_client, p.need_id)
    assert roles(release)["vendor-a"] == ["tenderer", "supplier"]
    assert roles(release)["vendor-b"] == ["tenderer"]
    [award] = release["awards"]
    assert award["status"] == "active"
    assert award["suppliers"] == [{"id": "vendor-a", "name": "株式会社エー・システムズ"}]
    assert award["items"][0]["unit"]["value"]["amount"] == 119_393
    assert award["value"]["amount"] == 119_393 * QUANTITY + 31_007
    contracts = release["contracts"]
    assert [c["items"][0]["quantity"] for c in contracts] == [100, 50, 5]
    assert all(c["awardID"] == award["id"] and c["status"] == "active" for c in contracts)
    assert sum(c["value"]["amount"] for c in contracts) == award["value"]["amount"]


async def test_a_weighted_tender_is_rated_criteria(app_client, stages):
    p = await stages.build("scored", scores={"sales@vendor-a.example": 80})
    release = await published_release(app_client, p.need_id)
    assert release["tender"]["awardCriteria"] == "ratedCriteria"
    assert release["tender"]["awardCriteriaDetails"] == "総合評価落札方式（価格70点・技術30点）"


async def test_an_undone_award_stays_listed_as_cancelled(app_client, stages):
    p = await stages.build("undone")
    release = await published_release(app_client, p.need_id)
    assert [a["status"] for a in release["awards"]] == ["cancelled"]
    assert {c["status"] for c in release["contracts"]} == {"cancelled"}


async def test_the_release_id_changes_exactly_when_the_content_does(app_client, stages):
    p = await stages.build("tendering")
    first = await published_release(app_client, p.need_id)
    assert (await published_release(app_client, p.need_id))["id"] == first["id"]
    await stages.open(p)
    assert (await published_release(app_client, p.need_id))["id"] != first["id"]


# --- secrecy --------------------------------------------------------------------------------


def _numbers_in(text: str, amounts: set[int]) -> set[int]:
    return {a for a in amounts if str(a) in text or f"{a:,}" in text}


async def _everything_public(client, need_id) -> str:
    bodies = [
        await client.get(f"/api/v1/open-data/ocds/{ocds.ocid(need_id)}"),
        await client.get("/api/v1/open-data/ocds"),
        await client.get("/api/v1/open-data/procurement-stats"),
    ]
    assert all(b.status_code == 200 for b in bodies)
    return "\n".join(b.text for b in bodies)


@pytest.mark.parametrize("state", ["tendering", "cancelled"])
async def test_before_opening_no_secret_price_or_bid_is_published(app_client, stages, state):
    p = await stages.build(state)
    text = await _everything_public(app_client, p.need_id)
    assert not _numbers_in(text, secret_amounts())


async def test_a_rebid_round_hides_the_first_opening_until_it_opens(app_client, stages):
    p = await stages.build("rebidding")
    release = await published_release(app_client, p.need_id)
    assert release["tender"]["status"] == "active"
    text = await _everything_public(app_client, p.need_id)
    assert not _numbers_in(text, secret_amounts(OVER_CEILING))
    await stages.open(p)  # the second round opens: now both rounds are public
    release = await published_release(app_client, p.need_id)
    assert release["tender"]["value"]["amount"] == CEILING * QUANTITY


# --- the list, and what is not published -----------------------------------------------------


async def _listed_ocids(client) -> set[str]:
    found, url = set(), "/api/v1/open-data/ocds"
    while url:
        response = await client.get(url)
        assert response.status_code == 200
        body = response.json()
        for item in body["ocids"]:
            assert item["url"].endswith(f"/api/v1/open-data/ocds/{item['ocid']}")
        found |= {item["ocid"] for item in body["ocids"]}
        url = body["links"].get("next", "").removeprefix("http://127.0.0.1:8000")
    return found


async def test_the_list_links_published_procurements_and_never_drafts(
    app_client, db, actor, stages, now
):
    published = await stages.build("published")
    buyer = await actor("buyer@131016.example")
    async with db.session(buyer.scope) as s:
        draft = await create_need(s, buyer, need_input(title="下書きの調達"), now)
    listed = await _listed_ocids(app_client)
    assert ocds.ocid(published.need_id) in listed
    assert ocds.ocid(draft.id) not in listed
    response = await app_client.get(f"/api/v1/open-data/ocds/{ocds.ocid(draft.id)}")
    assert response.status_code == 404
    assert "下書きの調達" not in response.text


@pytest.mark.parametrize(
    "ocid",
    ["ocds-kyodo1-not-a-uuid", "ocds-other1-00000000-0000-0000-0000-000000000000", "x"],
)
async def test_unknown_ocids_are_not_found(app_client, ocid):
    response = await app_client.get(f"/api/v1/open-data/ocds/{ocid}")
    assert response.status_code == 404
    assert response.json()["detail"]


async def test_open_data_needs_no_sign_in_and_sets_no_cookie(app_client, stages):
    p = await stages.build("published")
    for path in (
        f"/api/v1/open-data/ocds/{ocds.ocid(p.need_id)}",
        "/api/v1/open-data/ocds",
        "/api/v1/open-data/procurement-stats?fy=2026",
    ):
        response = await app_client.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith("application/json")
        assert "set-cookie" not in response.headers, path


def _values(node: Any) -> Iterator[dict[str, Any]]:
    """Every OCDS Value object (amount and currency) in a release."""
    if isinstance(node, dict):
        if "amount" in node and "currency" in node:
            yield node
        for value in node.values():
            yield from _values(value)
    elif isinstance(node, list):
        for value in node:
            yield from _values(value)
