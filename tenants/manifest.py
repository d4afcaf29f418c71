"""The tenants module: organizations, members, invitations and roles."""

from pathlib import Path

from kyodo.manifest import Manifest, NavEntry
from tenants import api, seed, services, views

HERE = Path(__file__).parent

manifest = Manifest(
    name="tenants",
    route_handlers=[api.AdminApi, views.AdminPages],
    templates=HERE / "templates",
    locale=HERE / "locale",
    nav=[
        NavEntry("members", "メンバーと権限", "Members and roles", roles=("admin",)),
        NavEntry(
            "organizations", "組織の管理", "Organizations", kinds=("operator",), roles=("admin",)
        ),
    ],
    actor_modules=("tenants.tasks",),
    on_sign_in=services.claim_invitations,
    seed=seed.seed_demo,
)
