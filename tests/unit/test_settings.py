"""Production settings: a missing or malformed KYODO_* setting stops start-up, naming it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kyodo.settings import Settings, SettingsError

PRODUCTION = {
    "KYODO_ENV": "production",
    "KYODO_DATABASE_URL": "postgresql://kyodo_app:pw@db:5432/kyodo",
    "KYODO_REDIS_URL": "redis://redis:6379/0",
    "KYODO_OIDC_ISSUER": "https://id.example.jp/realms/kyodo",
    "KYODO_OIDC_CLIENT_ID": "kyodo",
    "KYODO_OIDC_CLIENT_SECRET": "client-secret",
    "KYODO_BASE_URL": "https://kyodo.example.jp",
    "KYODO_SECRET_KEY": "k" * 40,
}
REQUIRED = [name for name in PRODUCTION if name != "KYODO_ENV"]

MALFORMED = [
    ("KYODO_ENV", "staging"),
    ("KYODO_DATABASE_URL", "mysql://db/kyodo"),
    ("KYODO_DATABASE_URL", "kyodo.sqlite3"),
    ("KYODO_MIGRATE_DATABASE_URL", "mysql://db/kyodo"),
    ("KYODO_REDIS_URL", "http://redis:6379"),
    ("KYODO_OIDC_ISSUER", "id.example.jp/realms/kyodo"),
    ("KYODO_OIDC_ISSUER", "https://"),
    ("KYODO_BASE_URL", "ftp://kyodo.example.jp"),
    ("KYODO_BASE_URL", "kyodo.example.jp"),
    ("KYODO_SECRET_KEY", "too-short"),
    ("KYODO_PORT", "eighty"),
    ("KYODO_PORT", "70000"),
    ("KYODO_PORT", "0"),
    ("KYODO_SMTP_URL", "mail.example.jp:25"),
]


def production(**changes: str | None) -> dict[str, str]:
    env = {**PRODUCTION, **changes}
    return {k: v for k, v in env.items() if v is not None}


def test_a_complete_production_environment_is_accepted():
    settings = Settings.from_env(environ=production())
    assert settings.env == "production" and not settings.dev
    assert settings.database_url == "postgresql+asyncpg://kyodo_app:pw@db:5432/kyodo"
    assert settings.migrate_database_url == settings.database_url
    assert settings.secure_cookies


@pytest.mark.parametrize("name", REQUIRED)
@pytest.mark.parametrize("value", [None, "", "   "], ids=["unset", "empty", "blank"])
def test_production_refuses_a_missing_setting_and_names_it(name, value):
    with pytest.raises(SettingsError, match=name):
        Settings.from_env(environ=production(**{name: value}))


@pytest.mark.parametrize(("name", "value"), MALFORMED)
def test_production_refuses_a_malformed_setting_and_names_it(name, value):
    with pytest.raises(SettingsError) as failure:
        Settings.from_env(environ=production(**{name: value}))
    message = str(failure.value)
    assert message.startswith(name), message  # the setting to fix, not a neighbour


def test_dev_fills_in_the_embedded_defaults(tmp_path):
    settings = Settings.from_env("dev", environ={"KYODO_VAR_DIR": str(tmp_path)})
    assert settings.database_url.startswith("sqlite+aiosqlite:///")
    assert settings.oidc_issuer == "http://127.0.0.1:9400"
    assert settings.redis_url is None


KYODO = Path(sys.executable).with_name("kyodo")


@pytest.mark.parametrize(
    ("command", "changes", "named"),
    [
        ("serve", {"KYODO_SECRET_KEY": None}, "KYODO_SECRET_KEY"),
        ("serve", {"KYODO_DATABASE_URL": "mysql://db/kyodo"}, "KYODO_DATABASE_URL"),
        ("worker", {"KYODO_REDIS_URL": None}, "KYODO_REDIS_URL"),
        ("migrate", {"KYODO_OIDC_ISSUER": "not a url"}, "KYODO_OIDC_ISSUER"),
    ],
)
def test_the_cli_stops_with_a_message_naming_the_setting(tmp_path, command, changes, named):
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(tmp_path), **production(**changes)}
    done = subprocess.run(
        [str(KYODO), command],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert named in done.stderr, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
