"""The role catalog. Roles are data granted by each organization's admins; these are the names
the platform knows, with labels for the people who grant them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Role:
    name: str
    label_ja: str
    label_en: str
    kinds: tuple[str, ...]  # organization kinds where the role can be granted

    def label(self, locale: str) -> str:
        return self.label_en if locale == "en" else self.label_ja


PUBLIC = ("municipality", "prefecture")
ALL = ("municipality", "prefecture", "operator", "vendor")

ROLES: dict[str, Role] = {
    r.name: r
    for r in (
        Role("admin", "組織管理者", "Organization admin", ALL),
        Role("procurement_officer", "調達担当", "Procurement officer", (*PUBLIC, "operator")),
        Role("approver", "決裁者", "Approver", (*PUBLIC, "operator")),
        Role("hr", "人事・デジタル人材担当", "HR / digital talent", (*PUBLIC, "operator")),
        Role("staff", "職員", "Staff", (*PUBLIC, "operator")),
        Role("evaluator", "評価者", "Evaluator", ("operator",)),
        Role("vendor_sales", "営業担当", "Vendor sales", ("vendor",)),
    )
}


def grantable(kind: str) -> list[Role]:
    return [r for r in ROLES.values() if kind in r.kinds]
