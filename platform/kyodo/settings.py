"""One typed settings object, read from KYODO_* environment variables.

Production refuses to start on a missing or malformed setting and names it; `kyodo dev` fills
in embedded defaults (SQLite file, in-process jobs, the local mock OIDC provider).
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names it."""


DEV_OIDC_PORT = 9400


@dataclass(frozen=True)
class Settings:
    env: str  # "dev" | "production" | "test"
    database_url: str
    migrate_database_url: str
    redis_url: str | None
    oidc_issuer: str
    oidc_client_id: str
    oidc_client_secret: str
    base_url: str
    secret_key: str
    port: int = 8000
    host: str = "127.0.0.1"
    smtp_url: str | None = None
    # Seconds between deadline ticks where jobs run; 0 switches the periodic tick off (the test
    # suite does, and drives time itself through `tick(now=...)`).
    tick_seconds: float = 30.0
    mail_from: str = "kyodo@localhost"
    var_dir: Path = field(default_factory=lambda: Path("var"))
    max_upload_bytes: int = 10 * 1024 * 1024

    @property
    def dev(self) -> bool:
        return self.env != "production"

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith("postgresql")

    @property
    def secure_cookies(self) -> bool:
        return self.base_url.startswith("https://")

    @classmethod
    def from_env(cls, env: str | None = None, environ: dict[str, str] | None = None) -> Settings:
        e = os.environ if environ is None else environ
        mode = env or e.get("KYODO_ENV", "production")
        if mode not in {"dev", "production", "test"}:
            raise SettingsError("KYODO_ENV must be 'dev', 'test' or 'production'")
        dev = mode != "production"
        port = _int(e, "KYODO_PORT", 8000)
        var_dir = Path(e.get("KYODO_VAR_DIR", "var"))

        def need(name: str, dev_default: str) -> str:
            value = e.get(name, "").strip()
            if value:
                return value
            if dev:
                return dev_default
            raise SettingsError(f"{name} is required in production")

        database_url = _database_url(
            need("KYODO_DATABASE_URL", f"sqlite+aiosqlite:///{var_dir / 'kyodo.sqlite3'}"),
            "KYODO_DATABASE_URL",
        )
        migrate_url = _database_url(
            e.get("KYODO_MIGRATE_DATABASE_URL") or database_url, "KYODO_MIGRATE_DATABASE_URL"
        )
        redis_url = e.get("KYODO_REDIS_URL", "").strip() or None
        if not dev and redis_url is None:
            raise SettingsError("KYODO_REDIS_URL is required in production")
        if redis_url and urlsplit(redis_url).scheme not in {"redis", "rediss", "unix"}:
            raise SettingsError("KYODO_REDIS_URL must be a redis:// or rediss:// URL")
        smtp_url = e.get("KYODO_SMTP_URL", "").strip() or None
        if smtp_url and urlsplit(smtp_url).scheme not in {"smtp", "smtp+starttls", "smtps"}:
            raise SettingsError(
                "KYODO_SMTP_URL must be an smtp://, smtp+starttls:// or smtps:// URL"
            )
        base_url = _http_url("KYODO_BASE_URL", need("KYODO_BASE_URL", f"http://127.0.0.1:{port}"))
        issuer = _http_url(
            "KYODO_OIDC_ISSUER", need("KYODO_OIDC_ISSUER", f"http://127.0.0.1:{DEV_OIDC_PORT}")
        )
        secret = need("KYODO_SECRET_KEY", secrets.token_urlsafe(32) if dev else "")
        if len(secret) < 32:
            raise SettingsError("KYODO_SECRET_KEY must be at least 32 characters")
        return cls(
            env=mode,
            database_url=database_url,
            migrate_database_url=migrate_url,
            redis_url=redis_url,
            oidc_issuer=issuer.rstrip("/"),
            oidc_client_id=need("KYODO_OIDC_CLIENT_ID", "kyodo-dev"),
            oidc_client_secret=need("KYODO_OIDC_CLIENT_SECRET", "kyodo-dev-secret"),
            base_url=base_url.rstrip("/"),
            secret_key=secret,
            port=port,
            host=e.get("KYODO_HOST", "127.0.0.1" if dev else "0.0.0.0"),  # noqa: S104
            smtp_url=smtp_url,
            mail_from=e.get("KYODO_MAIL_FROM", "kyodo@localhost"),
            var_dir=var_dir,
        )


def _int(e: dict[str, str] | os._Environ[str], name: str, default: int) -> int:
    raw = e.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None
    if not 0 < value < 65536:
        raise SettingsError(f"{name} must be a port number between 1 and 65535")
    return value


def _http_url(name: str, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise SettingsError(f"{name} must be an http(s) URL, got {value!r}")
    return value


def _database_url(value: str, name: str) -> str:
    """Accept plain postgres:// URLs and pick the async drivers we ship."""
    for prefix in ("postgres://", "postgresql://"):
        if value.startswith(prefix):
            return "postgresql+asyncpg://" + value[len(prefix) :]
    if value.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + value[len("sqlite:///") :]
    if value.startswith(("postgresql+asyncpg://", "sqlite+aiosqlite://")):
        return value
    raise SettingsError(f"{name} must be a postgresql:// or sqlite:/// URL")
