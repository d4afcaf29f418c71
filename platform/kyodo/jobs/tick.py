"""The periodic tick: every module's deadline transitions, as of a given time.

The worker runs it every 30 seconds (the dev server in-process); tests call `tick(db, now=...)`
to travel in time instead of sleeping. Several workers may tick at once, so each module's
transitions must check state before changing it (a second run finds nothing to do)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from kyodo.db import Database
from kyodo.manifest import Manifest, load_manifests


async def tick(db: Database, now: datetime, manifests: Sequence[Manifest] | None = None) -> None:
    for manifest in load_manifests() if manifests is None else manifests:
        if manifest.tick:
            await manifest.tick(db, now)
