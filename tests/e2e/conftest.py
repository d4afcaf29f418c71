"""Browser fixtures: Debian's chromium driven by Playwright, the app on a live port, axe-core.

Every browser test should call `await axe_check(page)` on each page it visits.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

from kyodo.app import create_app
from kyodo.db import Database
from kyodo.manifest import load_manifests
from kyodo.settings import Settings
from tests import support

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).parent / "vendor" / "axe-4.14.1.min.js"
# `playwright install` cannot download here; these keep Debian's chromium quiet and offline.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
BLOCKING_IMPACTS = ("serious", "critical")


async def axe_check(page: Page) -> list[dict]:
    """Run axe-core on the page; fail on any serious or critical violation, printing them all.

    Returns every violation (also the minor ones) for tests that want to look closer."""
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.add_script_tag(path=str(AXE))
    result = await page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    violations = result["violations"]
    for violation in violations:  # pytest shows this output when a test fails
        print(f"axe-core on {page.url}:\n{_describe(violation)}")
    blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
    if blocking:
        report = "\n".join(_describe(v) for v in blocking)
        pytest.fail(f"{len(blocking)} serious/critical axe violation(s) on {page.url}:\n{report}")
    return violations


def _describe(violation: dict) -> str:
    lines = [f"- [{violation['impact']}] {violation['id']}: {violation['help']}"]
    for node in violation["nodes"][:10]:
        summary = " ".join(node.get("failureSummary", "").split())
        lines.append(f"    at {', '.join(map(str, node['target']))}: {summary}")
    return "\n".join(lines)


@pytest.fixture(scope="session")
def chromium() -> Path:
    if not CHROMIUM.exists():
        pytest.fail(
            f"the browser tests need Debian's chromium at {CHROMIUM} "
            "(apt-get install chromium fonts-noto-cjk; .ci/run does this)"
        )
    return CHROMIUM


@pytest.fixture(scope="session")
async def browser(chromium: Path) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(chromium), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        await launched.close()


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    """A fresh browser profile that asks for Japanese, like a city-hall PC."""
    ctx = await browser.new_context(locale="ja-JP", bypass_csp=True)  # bypass: axe is injected
    ctx.set_default_timeout(10_000)
    yield ctx
    await ctx.close()


@pytest.fixture
async def page(context: BrowserContext) -> Page:
    return await context.new_page()


@pytest.fixture(scope="module")
async def live_settings(
    issuer: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Settings]:
    """A fresh PostgreSQL database with every module's demo data, used as the app role, for one
    test module (so a module may add data without surprising another)."""
    try:
        # These helpers run their own event loop, so not on this one.
        name, _owner_url, app_url = await asyncio.to_thread(support.create_pg_database)
    except OSError as exc:
        pytest.fail(f"PostgreSQL is required for the browser tests: {exc}")
    port = support.free_port()
    settings = support.make_settings(
        app_url,
        issuer,
        base_url=f"http://127.0.0.1:{port}",
        port=port,
        var_dir=tmp_path_factory.mktemp("browser-var"),
    )
    db = Database(settings.database_url)
    try:
        for manifest in load_manifests():
            if manifest.seed:
                await manifest.seed(db, settings)
    finally:
        await db.dispose()
    yield settings
    await asyncio.to_thread(support.drop_pg_database, name)


@pytest.fixture(scope="module")
def live_server(live_settings: Settings) -> support.LiveServer:
    """Kyodo served by uvicorn at `live_settings.base_url` (= its `.url`)."""
    with support.LiveServer(create_app(live_settings), live_settings.port) as server:
        assert server.url == live_settings.base_url  # the OIDC redirect URI must match
        yield server


@pytest.fixture(scope="module")
async def live_db(live_settings: Settings) -> AsyncIterator[Database]:
    """The live server's database, to set up data the way the services would."""
    database = Database(live_settings.database_url)
    yield database
    await database.dispose()
