"""Server-side sessions (Redis in production) whose id changes at sign-in.

Litestar keeps a session's id for its whole life; we issue a new id when a person signs in, so a
session id planted before sign-in (session fixation) never becomes an authenticated one.
"""

from __future__ import annotations

from dataclasses import dataclass

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.middleware.session.server_side import (
    ServerSideSessionBackend,
    ServerSideSessionConfig,
)

COOKIE = "kyodo_session"
_ROTATE = "kyodo_rotate_session"


class RotatingSessionBackend(ServerSideSessionBackend):
    def get_session_id(self, connection: ASGIConnection) -> str:
        if connection.scope.get(_ROTATE):
            state = connection.scope  # one new id per request, however often it is asked for
            if "kyodo_new_session_id" not in state:
                state["kyodo_new_session_id"] = self.generate_session_id()  # type: ignore[typeddict-unknown-key]
            return state["kyodo_new_session_id"]  # type: ignore[typeddict-item]
        return super().get_session_id(connection)


@dataclass
class SessionConfig(ServerSideSessionConfig):
    _backend_class = RotatingSessionBackend


async def rotate(request: Request) -> None:
    """Forget the current session's stored data and answer with a fresh session id."""
    old = request.cookies.get(COOKIE)
    if old:
        config: SessionConfig = request.app.state.session_config
        await config.get_store_from_app(request.app).delete(old)
    request.scope[_ROTATE] = True  # type: ignore[typeddict-unknown-key]
