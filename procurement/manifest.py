"""Joint procurement (共同調達): pooled demand, one sealed tender, a fair split, open data."""

from pathlib import Path

import procurement.models  # noqa: F401 - registers the tables
from kyodo.manifest import Manifest, NavEntry
from procurement import (
    api_exports,
    api_needs,
    api_open_data,
    api_tenders,
    dashboard,
    tick,
    views_needs,
    views_tenders,
)
from procurement.seed import seed_demo

HERE = Path(__file__).parent

manifest = Manifest(
    name="procurement",
    route_handlers=[
        api_open_data.router,
        *api_exports.route_handlers,
        *dashboard.route_handlers,
        api_needs.NeedsApi,
        api_tenders.TendersApi,
        views_needs.NeedPages,
        views_tenders.TenderPages,
    ],
    templates=HERE / "templates",
    locale=HERE / "locale",
    migrations=HERE / "migrations",
    seed=seed_demo,
    tick=tick.tick,
    nav=[
        NavEntry(
            "procurement/pool",
            "共同調達",
            "Joint procurement",
            kinds=("municipality", "prefecture", "operator"),
        ),
        NavEntry(
            "procurement/needs",
            "自団体の調達案件",
            "Our needs",
            kinds=("municipality", "prefecture"),
        ),
        NavEntry(
            "procurement/approvals",
            "決裁",
            "Approvals",
            kinds=("municipality", "prefecture"),
            roles=("approver",),
        ),
        NavEntry(
            "procurement/settings",
            "調達の通知設定",
            "Procurement settings",
            kinds=("municipality", "prefecture", "vendor"),
        ),
        NavEntry("procurement/tenders", "入札案件", "Tenders", kinds=("operator", "vendor")),
        NavEntry(
            "procurement/dashboard",
            "見える化",
            "Dashboard",
            kinds=("municipality", "prefecture", "operator"),
        ),
    ],
)
