"""Demo data for `kyodo dev`: Tokyo and its 62 municipalities, the operator, two vendors, people.

Demo people's OIDC subject is their e-mail, so the local provider signs them in as themselves.
"""

from __future__ import annotations

import csv
from pathlib import Path

from sqlalchemy import func, select

from kyodo import audit
from kyodo.db import Database, Scope
from kyodo.models import Organization, Person
from kyodo.settings import Settings
from tenants.services import ensure_membership, grant_role

MUNICIPALITIES_CSV = Path(__file__).parent / "data" / "tokyo-municipalities.csv"

OPERATOR = ("govtech", "operator", "GovTech東京", "GovTech Tokyo")
VENDORS = [
    ("vendor-a", "vendor", "株式会社エー・システムズ", "A Systems Co., Ltd."),
    ("vendor-b", "vendor", "ビー・クラウド株式会社", "B Cloud K.K."),
]

# (e-mail = OIDC subject, display name, organization slug, roles)
DEMO_PEOPLE: list[tuple[str, str, str, tuple[str, ...]]] = [
    (
        "admin@govtech.example",
        "運営 管理者",
        "govtech",
        ("admin", "procurement_officer", "evaluator"),
    ),
    ("buyer@131016.example", "千代田 調達", "131016", ("procurement_officer",)),
    ("buyer@132098.example", "町田 調達", "132098", ("procurement_officer",)),
    ("buyer@133621.example", "利島 調達", "133621", ("procurement_officer",)),
    # Two more buyers, so the demo joint procurement has five municipalities
    ("buyer@131130.example", "渋谷 調達", "131130", ("procurement_officer",)),
    ("buyer@132012.example", "八王子 調達", "132012", ("procurement_officer",)),
    ("approver@131016.example", "千代田 決裁", "131016", ("approver",)),
    ("admin@131016.example", "千代田 管理者", "131016", ("admin",)),
    ("hr@131016.example", "千代田 人事", "131016", ("hr",)),
    *[(f"staff{i}@131016.example", f"千代田 職員{i}", "131016", ("staff",)) for i in range(1, 6)],
    ("sales@vendor-a.example", "エー 営業", "vendor-a", ("vendor_sales",)),
    ("sales@vendor-b.example", "ビー 営業", "vendor-b", ("vendor_sales",)),
]


def municipalities() -> list[tuple[str, str, str, str]]:
    """(slug, kind, name_ja, name_en) for Tokyo Metropolis and its 62 municipalities."""
    with MUNICIPALITIES_CSV.open(encoding="utf-8") as f:
        return [
            (
                row["lg_code"],
                "prefecture" if row["kind"] == "prefecture" else "municipality",
                row["name_ja"],
                row["name_en"],
            )
            for row in csv.DictReader(f)
        ]


async def seed_organizations(db: Database) -> dict[str, Organization]:
    async with db.session(Scope.anonymous()) as session:
        existing = {o.slug: o for o in await session.scalars(select(Organization))}
        for slug, kind, name_ja, name_en in [*municipalities(), OPERATOR, *VENDORS]:
            if slug not in existing:
                org = Organization(slug=slug, kind=kind, name_ja=name_ja, name_en=name_en)
                session.add(org)
                existing[slug] = org
    return existing


async def seed_demo(db: Database, settings: Settings) -> None:
    async with db.session(Scope.anonymous()) as session:
        if await session.scalar(select(func.count()).select_from(Person)):
            return  # already seeded
    orgs = await seed_organizations(db)
    for email, name, slug, roles in DEMO_PEOPLE:
        async with db.session(Scope.anonymous()) as session:
            person = Person(
                issuer=settings.oidc_issuer,
                subject=email,
                email=email,
                email_verified=True,
                display_name=name,
            )
            session.add(person)
        org = orgs[slug]
        async with db.session(Scope(tenant_id=org.id, person_id=person.id)) as session:
            membership = await ensure_membership(session, person.id)
            for role in roles:
                await grant_role(session, membership, role)
            await audit.record(
                session, "member.seeded", "person", person.id, f"{email} {' '.join(roles)}"
            )
