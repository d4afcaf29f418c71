"""The periodic tick: every module's deadline transitions, as of a given time.

The worker runs it every 30 seconds (the dev server in-process); tests call `tick(db, now=...)`
to travel in time instead of sleeping."""

from __future__ import annotations

from datetime import datetime

from kyodo.db import Database
from kyodo.manifest import load_manifests


async def tick(db: Database, now: datetime) -> None:
    for manifest in load_manifests():
        if manifest.tick:
            await manifest.tick(db, now)
