"""Reading the procurement pages' HTML forms: text as people type it, in Japan time.

Shared by the needs pages and the tender pages, so both read numbers and times the same way."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Request

from kyodo.auth.context import OrgContext
from kyodo.errors import Checks
from kyodo.web.i18n import _

TOKYO = ZoneInfo("Asia/Tokyo")


def base(ctx: OrgContext) -> str:
    return f"/o/{ctx.org.slug}/procurement"


def text(form: Any, key: str, limit: int = 2_000) -> str:
    value = form.get(key, "")
    return value[:limit] if isinstance(value, str) else ""  # a file where text belongs: empty


async def fields(request: Request, *names: str, limit: int = 2_000) -> dict[str, str]:
    form = await request.form()
    return {name: text(form, name, limit) for name in names}


def whole(raw: str, key: str, checks: Checks, required: bool = True) -> int | None:
    """A whole number as people type it (commas, full-width digits); blank is None unless
    the field is required."""
    raw = raw.strip().replace(",", "").replace("，", "")
    if not raw and not required:
        return None
    try:
        return int(raw)  # int() also reads full-width digits
    except ValueError:
        checks.fail(key, _("Enter a whole number."))
        return 0


def moment(raw: str, key: str, checks: Checks, required: bool = True) -> datetime | None:
    """A datetime-local value is Japan time; a time with an offset keeps its offset."""
    if not raw.strip():
        if required:
            checks.fail(key, _("Enter a date and time."))
        return None
    try:
        value = datetime.fromisoformat(raw.strip())
    except ValueError:
        checks.fail(key, _("Enter a date and time."))
        return None
    return value if value.tzinfo else value.replace(tzinfo=TOKYO)
