"""CSV exports that Excel opens as they are: UTF-8 with a byte-order mark, CRLF line ends, one
header row in the person's language.

- A tender's results (開札結果), per round and bid: for the operator and the participants (the
  municipalities that joined, the vendors that bid), and only once bids are opened — while a
  round takes bids (the first one or a rebid) there is nothing to export: 409.
- An organization's allocations: the contract lines it may read — a municipality its own, the
  operator every one, a vendor those awarded to it. Lines of an undone award are left out.

Text people typed (titles, names) that starts like a formula gets a leading apostrophe, so a
spreadsheet shows it instead of running it (CSV injection).
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterable, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from kyodo.errors import Conflict, Forbidden, NotFound
from kyodo.models import Organization
from kyodo.web.i18n import _
from procurement.models import Bid, Commitment, ContractLine, Result, Tender

TOKYO = ZoneInfo("Asia/Tokyo")
BOM = "\ufeff"  # Excel reads UTF-8 only with it; without it Japanese text turns to mojibake
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PUBLIC_BODIES = ("municipality", "prefecture")


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def to_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([_cell(v) for v in row] for row in rows)
    return (BOM + buffer.getvalue()).encode("utf-8")


def _local(moment: Any) -> str:
    return moment.astimezone(TOKYO).strftime("%Y-%m-%d %H:%M") if moment else ""


# --- a tender's results ----------------------------------------------------------------------


async def results(session: AsyncSession, org: Organization, tender_id: uuid.UUID) -> bytes:
    tender = await session.scalar(select(Tender).where(Tender.id == tender_id))
    if tender is None:
        raise NotFound
    if not await _takes_part(session, org, tender):
        raise Forbidden(_("Only the operator and the participants can download the results."))
    opened = []
    if tender.status not in ("draft", "published"):
        opened = list(
            await session.scalars(
                select(Result).where(Result.tender_id == tender.id).order_by(Result.round)
            )
        )
    if not opened:
        raise Conflict(_("The results are published when the bids are opened."))
    vendor_ids = {uuid.UUID(e["vendor_id"]) for r in opened for e in r.ranking}
    names = {
        str(o.id): o.name_ja
        for o in await session.scalars(select(Organization).where(Organization.id.in_(vendor_ids)))
    }
    weighted = tender.criteria == "weighted"
    header = [
        _("Round"),
        _("Opened at"),
        _("Outcome"),
        _("Ceiling unit price (yen)"),
        _("Minimum unit price (yen)"),
        _("Rank"),
        _("Vendor"),
        _("Unit price (yen)"),
        _("Total (yen)"),
        _("Valid"),
        _("Reason"),
        _("Price points"),
        _("Technical points"),
        _("Score"),
        _("Lottery"),
    ]
    rows = []
    for r in opened:
        head = [
            r.round,
            _local(r.opened_at),
            _outcome(r.outcome),
            r.ceiling_unit_price,
            r.minimum_unit_price,
        ]
        if not r.ranking:
            rows.append([*head, *[""] * 10])
        for e in r.ranking:
            rows.append(
                [
                    *head,
                    e["rank"],
                    names.get(e["vendor_id"], e.get("vendor", "")),
                    e["unit_price"],
                    e["total"],
                    _("Valid") if e["valid"] else _("Invalid"),
                    _reason(e["invalid_reason"]),
                    *_points(e, weighted),
                    _lottery(r.draw, e["vendor_id"]),
                ]
            )
    return to_csv(header, rows)


async def _takes_part(session: AsyncSession, org: Organization, tender: Tender) -> bool:
    if org.kind == "operator":
        return tender.tenant_id == org.id
    if org.kind in PUBLIC_BODIES:
        joined = exists().where(
            Commitment.tenant_id == org.id,
            Commitment.need_id == tender.need_id,
            Commitment.status == "active",
        )
        return bool(await session.scalar(select(joined)))
    bid = exists().where(Bid.tenant_id == org.id, Bid.tender_id == tender.id)
    return bool(await session.scalar(select(bid)))


def _outcome(code: str) -> str:
    labels = {
        "winner": _("A winner was found"),
        "all_over_ceiling": _("Every bid was over the ceiling"),
        "no_valid_bid": _("No valid bid"),
        "awaiting_scores": _("Awaiting technical scores"),
    }
    return labels.get(code, code)


def _reason(code: str | None) -> str:
    labels = {
        "over_ceiling": _("Over the ceiling price"),
        "below_minimum": _("Below the minimum price"),
        "no_technical_score": _("No technical score"),
    }
    return labels.get(code, code) if code else ""


def _points(entry: dict[str, Any], weighted: bool) -> list[str]:
    if not weighted or not entry["valid"]:
        return ["", "", ""]
    price, technical = entry["price_points"], entry["technical_points"]
    return [f"{price:.2f}", f"{technical:.2f}", f"{price + technical:.2f}"]


def _lottery(draw: dict[str, Any] | None, vendor_id: str) -> str:
    if not draw or vendor_id not in draw["tied"]:
        return ""
    return _("Won the lottery") if draw["winner"] == vendor_id else _("Lost the lottery")


# --- an organization's allocations -------------------------------------------------------------


async def allocations(session: AsyncSession, fy: int | None = None) -> bytes:
    buyer, vendor = aliased(Organization), aliased(Organization)
    query = (
        select(ContractLine, Tender.title, Tender.unit, buyer, vendor.name_ja)
        .join(Tender, Tender.id == ContractLine.tender_id)
        .join(buyer, buyer.id == ContractLine.tenant_id)
        .join(vendor, vendor.id == ContractLine.vendor_id)
        .where(ContractLine.void.is_(False))
        .order_by(ContractLine.fiscal_year, ContractLine.created_at, buyer.slug)
    )
    if fy is not None:
        query = query.where(ContractLine.fiscal_year == fy)
    header = [
        _("Fiscal year"),
        _("Code"),
        _("Buyer"),
        _("Procurement"),
        _("Vendor"),
        _("Quantity"),
        _("Unit"),
        _("Unit price (yen)"),
        _("Goods amount (yen)"),
        _("Share of the one-off fee (yen)"),
        _("Total (yen)"),
        _("Own estimate (yen)"),
        _("Saving (yen)"),
        _("Unit price alone (yen)"),
        _("Total alone (yen)"),
        _("Allocated at"),
    ]
    rows = [
        [
            line.fiscal_year,
            org.slug,
            org.name_ja,
            title,
            vendor_name,
            line.quantity,
            unit,
            line.unit_price,
            line.goods_amount,
            line.fee_share,
            line.total,
            line.estimated_total,
            line.saving,
            line.alone_unit_price,
            line.alone_total,
            _local(line.created_at),
        ]
        for line, title, unit, org, vendor_name in await session.execute(query)
    ]
    return to_csv(header, rows)
