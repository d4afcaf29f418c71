"""The 見える化 page: a fiscal year of joint procurement, for one municipality or (for the
operator) across Tokyo, with a bar chart drawn on the server as inline SVG — no script, no CDN —
and the same figures in a table beside it.

A municipality sees its own procurements and Tokyo's totals; the operator sees every
municipality. Both read as the open-data endpoints do: nothing here is more than open data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from litestar import Request, get
from litestar.di import NamedDependency, Provide
from litestar.response import Template

from kyodo.auth.context import OrgContext, provide_org
from kyodo.errors import Forbidden
from kyodo.web.i18n import _, current_locale
from kyodo.web.pages import nav_for, page
from procurement import stats
from procurement.api_open_data import FiscalYear, public_session
from procurement.opening import fiscal_year

# Chart geometry, in SVG user units: labels | bars around the zero line | values.
WIDTH, LABEL_WIDTH, VALUE_WIDTH = 720, 190, 130
BAR_HEIGHT, GAP, MARGIN = 22, 10, 8
LABEL_CHARS = 12  # about what fits in LABEL_WIDTH at 14px, Japanese or not; the table has it all


@dataclass(frozen=True)
class Bar:
    label: str
    full_label: str
    value: int
    x: float
    y: float
    width: float

    @property
    def negative(self) -> bool:
        return self.value < 0


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    width: int
    height: int
    zero_x: float
    label_x: int
    value_x: int
    bar_height: int = BAR_HEIGHT


def bar_chart(items: Sequence[tuple[str, int]]) -> Chart:
    """Horizontal bars for (label, value) pairs; negative values extend left of zero."""
    left, right = LABEL_WIDTH + MARGIN, WIDTH - VALUE_WIDTH - MARGIN
    values = [v for _label, v in items]
    low, high = min([0, *values]), max([0, *values])
    scale = (right - left) / ((high - low) or 1)
    zero = left - low * scale
    bars = [
        Bar(
            label=label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…",
            full_label=label,
            value=value,
            x=round(zero + min(value, 0) * scale, 1),
            y=MARGIN + i * (BAR_HEIGHT + GAP),
            width=round(abs(value) * scale, 1),
        )
        for i, (label, value) in enumerate(items)
    ]
    return Chart(
        bars=bars,
        width=WIDTH,
        height=2 * MARGIN + len(bars) * (BAR_HEIGHT + GAP),
        zero_x=round(zero, 1),
        label_x=LABEL_WIDTH,
        value_x=WIDTH - MARGIN,
    )


@get(
    "/o/{org:str}/procurement/dashboard",
    dependencies={"ctx": Provide(provide_org)},
    name="procurement:dashboard",
)
async def dashboard(
    request: Request, ctx: NamedDependency[OrgContext], fy: FiscalYear = None
) -> Template:
    if ctx.org.kind == "vendor":
        raise Forbidden(_("The dashboard is for municipalities and the operator."))
    current = fiscal_year(datetime.now(UTC))
    year = fy or current
    tokyo_wide = ctx.org.kind == "operator"
    async with public_session(request.app.state.db) as session:
        tokyo = await stats.totals(session, year)
        years = sorted({current, year, *await stats.years(session)}, reverse=True)
        if tokyo_wide:
            mine, rows = None, await stats.by_municipality(session, year)
        else:
            mine = await stats.totals(session, year, ctx.org.id)
            rows = await stats.by_procurement(session, year, ctx.org.id)
    locale = current_locale()
    return page(
        "procurement/dashboard.html",
        ctx.viewer,
        ctx,
        nav=nav_for(request, ctx),
        year=year,
        years=years,
        tokyo_wide=tokyo_wide,
        tokyo=tokyo,
        mine=mine,
        rows=rows,
        chart=bar_chart([(r.label(locale), r.figures.savings) for r in rows]),
    )


route_handlers = [dashboard]
