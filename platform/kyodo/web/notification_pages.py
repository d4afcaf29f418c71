"""Notification pages: the list, marking one read (htmx or a plain form), the header badge."""

from __future__ import annotations

import uuid

from litestar import Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.response import Redirect, Template

from kyodo import notifications
from kyodo.auth.context import Viewer, provide_viewer
from kyodo.web.i18n import _
from kyodo.web.pages import page

VIEWER = {"viewer": Provide(provide_viewer)}


@get("/notifications", dependencies=VIEWER, name="notifications")
async def notification_list(request: Request, viewer: NamedDependency[Viewer]) -> Template:
    items = await notifications.for_person(request.app.state.db, viewer.scope)
    return page("notifications/list.html", viewer, items=items)


@post("/notifications/{notification_id:uuid}/read", dependencies=VIEWER, name="notifications:read")
async def mark_read(
    request: Request, viewer: NamedDependency[Viewer], notification_id: FromPath[uuid.UUID]
) -> Template | Redirect:
    db = request.app.state.db
    item = await notifications.mark_read(db, viewer.scope, notification_id)
    if item is None:
        raise NotFoundException(_("The page or item was not found."))
    if not request.headers.get("hx-request"):
        return Redirect("/notifications", status_code=303)
    # The updated row, plus the header badge swapped out-of-band.
    count = await notifications.unread_count(db, viewer.scope)
    return Template("notifications/_read.html", context={"item": item, "count": count})


@get("/notifications/count", dependencies=VIEWER, name="notifications:count")
async def unread_badge(request: Request, viewer: NamedDependency[Viewer]) -> Template:
    count = await notifications.unread_count(request.app.state.db, viewer.scope)
    return Template("notifications/_count.html", context={"count": count})


route_handlers = [notification_list, mark_read, unread_badge]
