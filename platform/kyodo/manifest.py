"""What a module gives the kernel. Modules register through the `kyodo.modules` entry point."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kyodo.db import Database
    from kyodo.models import Person
    from kyodo.settings import Settings


@dataclass(frozen=True)
class NavEntry:
    """A link in an organization's navigation. `path` is relative to /o/{slug}/."""

    path: str
    label_ja: str
    label_en: str
    kinds: tuple[str, ...] = ("municipality", "prefecture", "operator", "vendor")
    roles: tuple[str, ...] = ()  # any of these; empty means every member

    def label(self, locale: str) -> str:
        return self.label_en if locale == "en" else self.label_ja


@dataclass(frozen=True)
class Manifest:
    name: str
    route_handlers: Sequence[Any] = ()
    templates: Path | None = None
    locale: Path | None = None  # gettext catalogs: locale/<lang>/LC_MESSAGES/*.po
    migrations: Path | None = None  # alembic version files
    nav: Sequence[NavEntry] = ()
    actor_modules: Sequence[str] = ()  # imported at start-up so their dramatiq actors register
    # Run right after a person signs in (e.g. to claim invitations).
    on_sign_in: Callable[[Database, Person], Awaitable[None]] | None = None
    seed: Callable[[Database, Settings], Awaitable[None]] | None = None  # demo data (`kyodo dev`)
    tick: Callable[[Database, datetime], Awaitable[None]] | None = None  # deadline transitions
    demo_accounts: Sequence[str] = field(default_factory=tuple)


def load_manifests() -> list[Manifest]:
    found = [ep.load() for ep in entry_points(group="kyodo.modules")]
    return sorted(found, key=lambda m: m.name)
