"""Our joint procurements as Open Contracting Data Standard releases (OCDS 1.1, schema 1.1.5).

Pure functions from model rows to plain dicts; procurement/api_open_data.py loads the rows (the
published ones only, in a read-only scope) and serves them. One contracting process per need:
its ocid is `OCID_PREFIX-<need id>`, and each request gets the current state as one release.

| our state | tender.status | tag | the release adds |
|---|---|---|---|
| need published (joining) | planning | planning | posting municipality (buyer), operator |
| demand closed | planning | planning | every participating municipality (buyer) |
| tender published (bidding) | active | tender | method, criteria, periods — no price at all |
| tender opened (開札) | active | tender | tenderers; value / minValue (ceiling / minimum) |
| awarded | complete | tender, award, contract | supplier, award, a contract per municipality |
| unsuccessful (不調) | unsuccessful | tenderUpdate | as opened |
| cancelled (中止) | cancelled | tenderCancellation | as far as it got |

An award the operator undid stays listed with status `cancelled`, and so do its contracts.

What is never published: the ceiling and minimum before opening (they are read only from the
opening record, `Result`, never from `TenderSecret`), bids (not read at all; tenderers come from
the opening record), anything from the opening record while a round takes bids (a rebid round),
and municipalities' own budgets (vendors would read them as a hint of the ceiling). While demand
is being gathered only the posting municipality is named: who joins stays among the
municipalities until demand closes, as in the pool.

Party ids are our organization slugs: the 6-digit local government code (全国地方公共団体コード)
for municipalities, `govtech` for the operator, the vendor's slug for vendors.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from kyodo.models import Organization
from procurement.models import Award, ContractLine, Need, Result, Tender

# "ocds-" + 6 characters, the shape of a prefix the Open Contracting Partnership assigns. This
# one is our own placeholder: register a real prefix before publishing to the OCDS registry,
# and change it only together with a redirect, since ocids are meant to be permanent.
OCID_PREFIX = "ocds-kyodo1"
OCDS_VERSION = "1.1"
CURRENCY = "JPY"
# Japan's government standard terms of use (政府標準利用規約 2.0) are compatible with CC BY 4.0.
LICENSE = "https://creativecommons.org/licenses/by/4.0/"
TOKYO = ZoneInfo("Asia/Tokyo")

OUTCOMES = {"awarded": "complete", "unsuccessful": "unsuccessful", "cancelled": "cancelled"}
MAIN_CATEGORY = {
    "devices": "goods",
    "software": "goods",
    "cloud": "services",
    "ai_ocr": "services",
    "chatbot": "services",
    "network": "services",
    "training": "services",
    "other": "services",
}
METHOD = {  # 随意契約 with invited vendors is OCDS "limited"
    "open": ("open", "一般競争入札"),
    "selective": ("selective", "指名競争入札"),
    "negotiated": ("limited", "随意契約"),
}


@dataclass(frozen=True)
class Process:
    """Everything published about one joint procurement, as loaded from the database."""

    need: Need
    operator: Organization
    buyers: Sequence[Organization]  # the posting municipality first
    pooled_quantity: int  # demand gathered so far, before there is a tender
    orgs: Mapping[uuid.UUID, Organization]  # vendors named in results, awards and contracts
    tender: Tender | None = None  # published (never a draft)
    results: Sequence[Result] = ()  # opening records by round; empty while a round takes bids
    awards: Sequence[Award] = ()
    contracts: Sequence[ContractLine] = ()


def ocid(need_id: uuid.UUID) -> str:
    return f"{OCID_PREFIX}-{need_id}"


def need_id_of(value: str) -> uuid.UUID | None:
    """The need an ocid names, or None for anything that is not one of ours."""
    prefix = f"{OCID_PREFIX}-"
    if not value.startswith(prefix):
        return None
    try:
        return uuid.UUID(value.removeprefix(prefix))
    except ValueError:
        return None


def timestamp(moment: datetime) -> str:
    return moment.astimezone(TOKYO).isoformat(timespec="seconds")


def tender_status(tender: Tender | None) -> str:
    """OCDS tenderStatus (a closed codelist) from our tender's status."""
    if tender is None or tender.status == "draft":
        return "planning"
    return OUTCOMES.get(tender.status, "active")


def last_change(p: Process) -> datetime:
    moments = [p.need.published_at, p.need.closed_at]
    if p.tender is not None:
        moments.append(p.tender.published_at)
    moments += [r.opened_at for r in p.results]
    moments += [a.awarded_at for a in p.awards] + [a.revoked_at for a in p.awards]
    moments += [c.created_at for c in p.contracts]
    return max(m for m in moments if m is not None)


def release(p: Process) -> dict[str, Any]:
    status = tender_status(p.tender)
    body: dict[str, Any] = {
        "ocid": ocid(p.need.id),
        "date": timestamp(last_change(p)),
        "tag": _tags(status, p),
        "initiationType": "tender",
        "language": "ja",
        "parties": _parties(p),
        "buyer": _ref(p.buyers[0]),
        "planning": _planning(p),
        "tender": _tender(p, status),
    }
    if p.awards:
        body["awards"] = [_award(p, a) for a in p.awards]
    if p.contracts:
        body["contracts"] = [_contract(p, c) for c in p.contracts]
    # The id changes exactly when what we publish changes, so consumers can tell releases apart.
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode())
    return {"id": f"{body['ocid']}-{digest.hexdigest()[:16]}", **body}


def package(
    releases: Sequence[dict[str, Any]], uri: str, published: datetime, publisher: Organization
) -> dict[str, Any]:
    """A release package: the envelope OCDS publishes releases in."""
    return {
        "uri": uri,
        "version": OCDS_VERSION,
        "publishedDate": timestamp(published),
        "publisher": {"name": publisher.name_ja},
        "license": LICENSE,
        "releases": list(releases),
    }


def _tags(status: str, p: Process) -> list[str]:
    if status == "planning":
        return ["planning"]
    if status == "cancelled":
        return ["tenderCancellation"]
    tags = ["tenderUpdate" if status == "unsuccessful" else "tender"]
    if p.awards:
        tags.append("award")
    if p.contracts:
        tags.append("contract")
    return tags


def _ref(org: Organization) -> dict[str, str]:
    return {"id": org.slug, "name": org.name_ja}


def _parties(p: Process) -> list[dict[str, Any]]:
    parties = [{**_ref(b), "roles": ["buyer"]} for b in p.buyers]
    parties.append({**_ref(p.operator), "roles": ["procuringEntity"]})
    suppliers = {a.vendor_id for a in p.awards}
    vendors = sorted(set(tenderer_ids(p.results)) | suppliers, key=lambda v: p.orgs[v].slug)
    for vendor in vendors:
        roles = ["tenderer", "supplier"] if vendor in suppliers else ["tenderer"]
        parties.append({**_ref(p.orgs[vendor]), "roles": roles})
    return parties


def tenderer_ids(results: Sequence[Result]) -> list[uuid.UUID]:
    """Every vendor that bid in an opened round, from the public opening record."""
    return list(dict.fromkeys(uuid.UUID(e["vendor_id"]) for r in results for e in r.ranking))


def _planning(p: Process) -> dict[str, Any]:
    need = p.need
    closed = need.closed_at is not None
    deadline: dict[str, Any] = {
        "id": "join-deadline",
        "title": "参加申込締切",
        "type": "preProcurement",
        "dueDate": timestamp(need.join_deadline),
        "status": "met" if closed else "scheduled",
    }
    if closed:
        deadline["dateMet"] = timestamp(need.closed_at)
    return {
        "rationale": (
            f"共同調達: {p.buyers[0].name_ja}が募集し、{len(p.buyers)}団体の需要を取りまとめ"
        ),
        "milestones": [deadline],
    }


def _item(p: Process, quantity: int, unit_price: int | None = None) -> dict[str, Any]:
    unit: dict[str, Any] = {"name": p.need.unit}
    if unit_price is not None:
        unit["value"] = _value(unit_price)
    return {"id": "1", "description": p.need.title, "quantity": quantity, "unit": unit}


def _value(amount: int) -> dict[str, Any]:
    return {"amount": amount, "currency": CURRENCY}


def _tender(p: Process, status: str) -> dict[str, Any]:
    t = p.tender
    quantity = t.quantity if t is not None else p.pooled_quantity
    out: dict[str, Any] = {
        "id": str(t.id if t is not None else p.need.id),
        "title": p.need.title,
        "status": status,
        "procuringEntity": _ref(p.operator),
        "items": [_item(p, quantity)],
        "mainProcurementCategory": MAIN_CATEGORY.get(p.need.category, "services"),
    }
    if p.need.specification:
        out["description"] = p.need.specification
    if t is None:
        return out
    method, method_name = METHOD[t.method]
    out |= {
        "procurementMethod": method,
        "procurementMethodDetails": method_name,
        "awardCriteria": "ratedCriteria" if t.criteria == "weighted" else "priceOnly",
        "awardCriteriaDetails": (
            f"総合評価落札方式（価格{t.price_weight}点・技術{t.technical_weight}点）"
            if t.criteria == "weighted"
            else "最低価格落札方式"
        ),
        "submissionMethod": ["electronicSubmission"],
        "tenderPeriod": _period(t.published_at, t.bid_deadline),
    }
    if t.question_deadline is not None:
        out["enquiryPeriod"] = _period(t.published_at, t.question_deadline)
    if p.results:
        opened = p.results[-1]  # prices disclosed at the latest opening
        out["value"] = _value(opened.ceiling_unit_price * quantity)
        if opened.minimum_unit_price is not None:
            out["minValue"] = _value(opened.minimum_unit_price * quantity)
        tenderers = tenderer_ids(p.results)
        out["numberOfTenderers"] = len(tenderers)
        out["tenderers"] = [_ref(p.orgs[v]) for v in tenderers]
    return out


def _period(start: datetime | None, end: datetime) -> dict[str, str]:
    period = {"endDate": timestamp(end)}
    if start is not None:
        period["startDate"] = timestamp(start)
    return period


def _award(p: Process, a: Award) -> dict[str, Any]:
    quantity = p.tender.quantity if p.tender is not None else p.pooled_quantity
    out: dict[str, Any] = {
        "id": str(a.id),
        "title": p.need.title,
        "status": "cancelled" if a.revoked_at is not None else "active",
        "date": timestamp(a.awarded_at),
        "value": _value(a.unit_price * quantity + a.one_off_fee),
        "suppliers": [_ref(p.orgs[a.vendor_id])],
        "items": [_item(p, quantity, a.unit_price)],
    }
    if a.one_off_fee:
        out["description"] = f"一括費用 {a.one_off_fee:,}円を各団体の数量に応じて按分"
    return out


def _contract(p: Process, line: ContractLine) -> dict[str, Any]:
    buyer = p.orgs[line.tenant_id]
    return {
        "id": str(line.id),
        "awardID": str(line.award_id),
        "title": f"{p.need.title}（{buyer.name_ja}）",
        "description": f"発注者: {buyer.name_ja}（{buyer.slug}）",
        "status": "cancelled" if line.void else "active",
        "value": _value(line.total),
        "items": [_item(p, line.quantity, line.unit_price)],
    }
