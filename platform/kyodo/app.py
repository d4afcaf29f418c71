"""create_app(settings) -> Litestar: the kernel plus every module's manifest."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar, Request, Response
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import State
from litestar.middleware import ASGIMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.stores.file import FileStore
from litestar.stores.redis import RedisStore
from litestar.template import TemplateConfig
from litestar.types import ASGIApp, Receive, Scope, Send

from kyodo.auth.oidc import OIDCClient
from kyodo.auth.routes import router as auth_router
from kyodo.auth.sessions import COOKIE, SessionConfig
from kyodo.db import Database
from kyodo.jobs.runtime import JobsRuntime
from kyodo.manifest import Manifest, load_manifests
from kyodo.settings import Settings
from kyodo.web import i18n, notification_pages, pages
from kyodo.web.errors import exception_handlers
from kyodo.web.templating import STATIC, create_environment


class RequestLocale(ASGIMiddleware):
    """Pick the language for this request: the person's choice, else the browser's, else ja."""

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        session = scope.get("session") or {}
        locale = session.get("locale") if isinstance(session, dict) else None
        if not locale:
            headers = dict(scope.get("headers", []))
            accept = headers.get(b"accept-language", b"").decode("latin-1").lower()
            locale = "en" if accept.startswith("en") else i18n.DEFAULT_LOCALE
        i18n.set_locale(locale)
        await next_app(scope, receive, send)


class ApiJsonOnly(ASGIMiddleware):
    """API writes must be JSON. A cross-site form can't send application/json without a CORS
    preflight (which we never grant), so this is the API's CSRF defence; pages use tokens."""

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and scope["path"].startswith("/api/")
        ):
            headers = dict(scope.get("headers", []))
            content_type = headers.get(b"content-type", b"").split(b";")[0].strip()
            if content_type != b"application/json":
                response = Response(
                    {"detail": i18n._("Send the request as application/json.")}, status_code=415
                )
                await response.to_asgi_response(app=None, request=Request(scope))(
                    scope, receive, send
                )  # type: ignore[arg-type]
                return
        await next_app(scope, receive, send)


def create_app(settings: Settings, manifests: list[Manifest] | None = None) -> Litestar:
    manifests = load_manifests() if manifests is None else manifests
    i18n.load_catalogs([i18n.KERNEL_LOCALE_DIR, *(m.locale for m in manifests if m.locale)])
    db = Database(settings.database_url)
    oidc = OIDCClient(
        settings.oidc_issuer,
        settings.oidc_client_id,
        settings.oidc_client_secret,
        f"{settings.base_url}/auth/callback",
    )
    jobs = JobsRuntime(settings, manifests)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await jobs.start()
        try:
            yield
        finally:
            await jobs.stop()
            await oidc.aclose()
            await db.dispose()

    if settings.redis_url:
        session_store: Any = RedisStore.with_client(
            url=settings.redis_url, namespace="kyodo-sessions"
        )
    else:
        session_store = FileStore(settings.var_dir / "sessions")

    session_config = SessionConfig(
        key=COOKIE,
        store="sessions",
        max_age=8 * 3600,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        # Probes and assets need no session, and must answer even while Redis is down.
        exclude=["^/healthz", "^/readyz", "^/static/"],
    )
    env = create_environment([m.templates for m in manifests if m.templates])
    handlers: list[Any] = [
        auth_router,
        *pages.route_handlers,
        *notification_pages.route_handlers,
        create_static_files_router(path="/static", directories=[STATIC], name="static"),
    ]
    for manifest in manifests:
        handlers.extend(manifest.route_handlers)

    return Litestar(
        route_handlers=handlers,
        state=State(
            {
                "settings": settings,
                "db": db,
                "oidc": oidc,
                "jobs": jobs,
                "manifests": manifests,
                "session_config": session_config,
            }
        ),
        lifespan=[lifespan],
        stores={"sessions": session_store},
        middleware=[
            session_config.middleware,
            RequestLocale(),
            ApiJsonOnly(),
        ],
        csrf_config=CSRFConfig(
            secret=settings.secret_key,
            cookie_name="kyodo_csrf",
            cookie_secure=settings.secure_cookies,
            cookie_samesite="lax",
            header_name="x-csrftoken",
            exclude=["^/api/"],
        ),
        template_config=TemplateConfig(engine=JinjaTemplateEngine.from_environment(env)),
        openapi_config=OpenAPIConfig(title="Kyodo", version="1", path="/schema"),
        exception_handlers=exception_handlers,  # type: ignore[arg-type]
        request_max_body_size=settings.max_upload_bytes,
        debug=False,
    )
