"""Japanese first, English second. Catalogs are gettext .po files compiled in memory at start-up,
so a fresh clone needs no build step; msgids are English."""

from __future__ import annotations

import io
from collections.abc import Iterable
from contextvars import ContextVar
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALES = ("ja", "en")
DEFAULT_LOCALE = "ja"
TOKYO = ZoneInfo("Asia/Tokyo")
KERNEL_LOCALE_DIR = Path(__file__).parent / "locale"

_current: ContextVar[str] = ContextVar("kyodo_locale", default=DEFAULT_LOCALE)
_catalogs: dict[str, NullTranslations] = {}


def load_catalogs(dirs: Iterable[Path]) -> None:
    """Merge every catalog (`<dir>/<locale>/LC_MESSAGES/*.po`) of the kernel and the modules."""
    dirs = list(dirs)
    for locale in LOCALES:
        merged: NullTranslations = NullTranslations()
        for po in catalog_files(dirs, locale):
            with po.open("rb") as f:
                catalog = read_po(f, locale=locale)
            buf = io.BytesIO()
            write_mo(buf, catalog)
            buf.seek(0)
            translations = Translations(fp=buf)
            if isinstance(merged, Translations):
                merged.merge(translations)
            else:
                merged = translations
        _catalogs[locale] = merged


def catalog_files(dirs: Iterable[Path], locale: str) -> list[Path]:
    return [po for base in dirs for po in sorted((base / locale / "LC_MESSAGES").glob("*.po"))]


def pick_locale(value: str | None) -> str:
    return value if value in LOCALES else DEFAULT_LOCALE


def set_locale(locale: str) -> None:
    _current.set(pick_locale(locale))


def current_locale() -> str:
    return _current.get()


def gettext(message: str) -> str:
    return _catalogs.get(current_locale(), NullTranslations()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _catalogs.get(current_locale(), NullTranslations()).ngettext(singular, plural, n)


_ = gettext


def local_time(value: datetime | None, fmt: str = "medium") -> str:
    """A UTC datetime shown in Asia/Tokyo, in the person's language."""
    if value is None:
        return ""
    return format_datetime(value, format=fmt, tzinfo=TOKYO, locale=current_locale())
