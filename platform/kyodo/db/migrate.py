"""Alembic, configured in code: the kernel's versions plus every module's `migrations` folder."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

from kyodo.manifest import Manifest, load_manifests

HERE = Path(__file__).parent / "migrations"


def alembic_config(url: str, manifests: list[Manifest] | None = None) -> Config:
    manifests = load_manifests() if manifests is None else manifests
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    locations = [HERE / "versions", *(m.migrations for m in manifests if m.migrations)]
    cfg.set_main_option("version_locations", " ".join(str(p) for p in locations))
    cfg.set_main_option("path_separator", "space")
    cfg.attributes["url"] = url
    return cfg


def upgrade(url: str, revision: str = "heads") -> None:
    command.upgrade(alembic_config(url), revision)


async def upgrade_async(url: str, revision: str = "heads") -> None:
    """For callers already inside an event loop (the dev server, tests)."""
    await asyncio.to_thread(upgrade, url, revision)
