"""見える化: what joint procurement achieved in a fiscal year, across Tokyo and per municipality.

Every figure comes from live contract lines (an undone award's lines are void and drop out),
counted in the fiscal year of their award (April–March, Asia/Tokyo):

- procurements: joint procurements awarded;
- municipalities: public bodies with a contract line — for one municipality, every body it
  pooled with in its procurements, itself included;
- contract value: what they pay (goods and fee shares), in yen;
- savings: their own estimates minus what they pay (negative when the pooled price came out
  above a budget), and the rate against the estimates.

The functions read whatever the session's scope may read; the pages and the public JSON call
them in the open-data session, so they show only what open data shows anyway.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from kyodo.models import Organization
from procurement.models import ContractLine, Tender


@dataclass(frozen=True)
class Figures:
    procurements: int
    municipalities: int
    contract_value: int
    estimated_value: int
    savings: int

    @property
    def savings_rate(self) -> float | None:
        """Savings as a share of the estimates (0.12 = 12 %), None without estimates."""
        return self.savings / self.estimated_value if self.estimated_value else None


@dataclass(frozen=True)
class Row:
    """One bar of a breakdown: a municipality, or one procurement."""

    key: str
    label_ja: str
    label_en: str
    figures: Figures

    def label(self, locale: str) -> str:
        return self.label_en if locale == "en" else self.label_ja


def fiscal_year_dates(fy: int) -> tuple[date, date]:
    """First and last day of a Japanese fiscal year: FY2026 is 2026-04-01 to 2027-03-31."""
    return date(fy, 4, 1), date(fy + 1, 3, 31)


def as_dict(f: Figures) -> dict[str, Any]:
    rate = f.savings_rate
    return {
        "procurements": f.procurements,
        "municipalities": f.municipalities,
        "contract_value": f.contract_value,
        "estimated_value": f.estimated_value,
        "savings": f.savings,
        "savings_rate": round(rate, 4) if rate is not None else None,
    }


def _live(fy: int) -> tuple[Any, ...]:
    return (ContractLine.fiscal_year == fy, ContractLine.void.is_(False))


_SUMS = (
    func.count(distinct(ContractLine.tender_id)),
    func.count(distinct(ContractLine.tenant_id)),
    func.coalesce(func.sum(ContractLine.total), 0),
    func.coalesce(func.sum(ContractLine.estimated_total), 0),
    func.coalesce(func.sum(ContractLine.saving), 0),
)


def _figures(row: Any, municipalities: int | None = None) -> Figures:
    # int(): PostgreSQL sums bigint columns as numeric, which arrives as Decimal.
    procurements, bodies, value, estimated, savings = (int(v) for v in row)
    return Figures(
        procurements=procurements,
        municipalities=bodies if municipalities is None else municipalities,
        contract_value=value,
        estimated_value=estimated,
        savings=savings,
    )


async def _participants(session: AsyncSession, fy: int) -> dict[uuid.UUID, set[uuid.UUID]]:
    """Tender id -> the public bodies with a live contract line in it."""
    rows = await session.execute(
        select(ContractLine.tender_id, ContractLine.tenant_id).where(*_live(fy)).distinct()
    )
    by_tender: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    for tender_id, tenant_id in rows:
        by_tender[tender_id].add(tenant_id)
    return by_tender


def _pooled_with(participants: dict[uuid.UUID, set[uuid.UUID]], tenant_id: uuid.UUID) -> int:
    together = [bodies for bodies in participants.values() if tenant_id in bodies]
    return len(set().union(*together))


async def totals(session: AsyncSession, fy: int, org_id: uuid.UUID | None = None) -> Figures:
    """Across Tokyo, or for one municipality's own contract lines."""
    where = [*_live(fy)]
    if org_id is not None:
        where.append(ContractLine.tenant_id == org_id)
    row = (await session.execute(select(*_SUMS).where(*where))).one()
    if org_id is None:
        return _figures(row)
    return _figures(row, _pooled_with(await _participants(session, fy), org_id))


async def by_municipality(session: AsyncSession, fy: int) -> list[Row]:
    """One row per public body with a contract line, largest savings first."""
    participants = await _participants(session, fy)
    rows = await session.execute(
        select(Organization.id, Organization.slug, Organization.name_ja, Organization.name_en)
        .add_columns(*_SUMS)
        .select_from(ContractLine)
        .join(Organization, Organization.id == ContractLine.tenant_id)
        .where(*_live(fy))
        .group_by(Organization.id, Organization.slug, Organization.name_ja, Organization.name_en)
    )
    found = [
        Row(slug, name_ja, name_en, _figures(sums, _pooled_with(participants, org_id)))
        for org_id, slug, name_ja, name_en, *sums in rows
    ]
    return sorted(found, key=lambda r: (-r.figures.savings, r.key))


async def by_procurement(session: AsyncSession, fy: int, org_id: uuid.UUID) -> list[Row]:
    """One municipality's procurements of the year, in the order they were awarded."""
    participants = await _participants(session, fy)
    rows = await session.execute(
        select(Tender.id, Tender.title)
        .add_columns(*_SUMS, func.min(ContractLine.created_at))
        .select_from(ContractLine)
        .join(Tender, Tender.id == ContractLine.tender_id)
        .where(*_live(fy), ContractLine.tenant_id == org_id)
        .group_by(Tender.id, Tender.title)
    )
    found = [
        (awarded, Row(str(tender_id), title, title, _figures(sums, len(participants[tender_id]))))
        for tender_id, title, *sums, awarded in rows
    ]
    return [row for _awarded, row in sorted(found, key=lambda item: (item[0], item[1].key))]


async def years(session: AsyncSession) -> list[int]:
    """Fiscal years with at least one live contract line, latest first."""
    return list(
        await session.scalars(
            select(ContractLine.fiscal_year)
            .where(ContractLine.void.is_(False))
            .distinct()
            .order_by(ContractLine.fiscal_year.desc())
        )
    )
