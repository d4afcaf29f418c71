"""The Jinja environment: kernel templates first, then each module's, with i18n and htmx helpers."""

from __future__ import annotations

from pathlib import Path

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, select_autoescape

from kyodo.roles import ROLES
from kyodo.web import i18n

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
HTMX = "htmx-2.0.11.min.js"


def create_environment(module_dirs: list[Path]) -> Environment:
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(str(d)) for d in [TEMPLATES, *module_dirs]]),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(
        current_locale=i18n.current_locale,
        locales=i18n.LOCALES,
        htmx_js=HTMX,
        role_label=lambda name: ROLES[name].label(i18n.current_locale()) if name in ROLES else name,
    )
    env.filters["local_time"] = i18n.local_time
    env.filters["yen"] = lambda v: f"¥{v:,}" if v is not None else ""
    return env
