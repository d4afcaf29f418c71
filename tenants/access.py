"""Who may use the admin pages and endpoints (shared by the API and the pages)."""

from __future__ import annotations

from litestar.exceptions import NotFoundException

from kyodo.auth.context import OrgContext
from kyodo.web.i18n import _


def require_admin(ctx: OrgContext) -> None:
    """403 for members without `admin` (non-members never get here: 404)."""
    ctx.require("admin")


def require_operator_admin(ctx: OrgContext) -> None:
    """Organizations are managed from the operator's own organization only; elsewhere the
    address does not exist (404), and inside the operator it needs `admin` (403)."""
    if ctx.org.kind != "operator":
        raise NotFoundException(_("The page or item was not found."))
    ctx.require("admin")
