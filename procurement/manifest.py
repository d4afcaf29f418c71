"""Joint procurement (共同調達): pooled demand, one sealed tender, a fair split, open data."""

from pathlib import Path

import procurement.models  # noqa: F401 - registers the tables
from kyodo.manifest import Manifest, NavEntry
from procurement import api_open_data
from procurement.seed import seed_demo

HERE = Path(__file__).parent

manifest = Manifest(
    name="procurement",
    route_handlers=[api_open_data.router],
    templates=HERE / "templates",
    locale=HERE / "locale",
    migrations=HERE / "migrations",
    seed=seed_demo,
    nav=[
        NavEntry(
            "procurement/pool",
            "共同調達",
            "Joint procurement",
            kinds=("municipality", "prefecture", "operator"),
        ),
        NavEntry("procurement/tenders", "入札案件", "Tenders", kinds=("operator", "vendor")),
    ],
)
