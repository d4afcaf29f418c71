"""Errors as people and API clients should see them: in their language, never a stack trace.

API requests get JSON (`detail`, and `errors` per field for bad input). Pages get a page; a page
request without a session goes to sign-in, and an htmx request gets `HX-Redirect` instead.
"""

from __future__ import annotations

import logging
import re
from http import HTTPStatus
from typing import Any
from urllib.parse import quote

from litestar import MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    ValidationException,
)
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from kyodo.errors import Conflict, Forbidden, InvalidInput, NotFound
from kyodo.web.i18n import _

log = logging.getLogger(__name__)

# msgspec's messages, turned into sentences a person can act on, in their language.
_FIELD_MESSAGES: list[tuple[re.Pattern[str], Any]] = [
    (
        re.compile(r"Object missing required field `(?P<f>[^`]+)`"),
        lambda m: _("This field is required."),
    ),
    (
        re.compile(r"Expected `str` of length <= (?P<n>\d+)"),
        lambda m: _("Must be at most {n} characters.").format(n=m["n"]),
    ),
    (
        re.compile(r"Expected `str` of length >= (?P<n>\d+)"),
        lambda m: _("Must be at least {n} characters.").format(n=m["n"]),
    ),
    (
        re.compile(r"Expected `int` >= (?P<n>-?\d+)"),
        lambda m: _("Must be at least {n}.").format(n=m["n"]),
    ),
    (
        re.compile(r"Expected `int` <= (?P<n>-?\d+)"),
        lambda m: _("Must be at most {n}.").format(n=m["n"]),
    ),
    (re.compile(r"Expected `int`"), lambda m: _("Must be a whole number.")),
    (re.compile(r"Expected `str` matching regex"), lambda m: _("The format is not valid.")),
    (re.compile(r"Expected `str`"), lambda m: _("Must be text.")),
    (re.compile(r"Invalid enum value"), lambda m: _("Choose one of the listed values.")),
    (re.compile(r"Object contains unknown field `(?P<f>[^`]+)`"), lambda m: _("Unknown field.")),
]
_PATH = re.compile(r"- at `\$\.(?P<path>[^`]+)`")


def field_message(raw: str) -> str:
    for pattern, render in _FIELD_MESSAGES:
        match = pattern.search(raw)
        if match:
            return render(match)
    return _("The value is not valid.")


def _field_errors(exc: ValidationException) -> list[dict[str, str]]:
    errors = []
    extra = exc.extra if isinstance(exc.extra, list) else []
    for item in extra:
        if not isinstance(item, dict):
            continue
        raw = str(item.get("message", ""))
        key = item.get("key") or ""
        missing = re.search(r"required field `([^`]+)`", raw)
        if missing:
            key = f"{key}.{missing[1]}" if key else missing[1]
        match = _PATH.search(raw)
        if match and not key:
            key = match["path"]
        errors.append({"field": str(key), "message": field_message(raw)})
    if not errors and exc.detail and "JSON" in str(exc.detail):
        errors.append({"field": "", "message": _("The request body is not valid JSON.")})
    return errors


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _page_or_json(request: Request, status: int, detail: str, **extra: Any) -> Response[Any]:
    if is_api(request):
        return Response({"detail": detail, **extra}, status_code=status, media_type=MediaType.JSON)
    return Template(
        "error.html", context={"status": status, "detail": detail, **extra}, status_code=status
    )


def on_not_authorized(request: Request, exc: NotAuthorizedException) -> Response[Any]:
    if is_api(request):
        return _page_or_json(request, 401, _("Please sign in."))
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if request.headers.get("hx-request"):
        current = request.headers.get("hx-current-url", "")
        path = "/" + current.split("/", 3)[3] if current.count("/") >= 3 else "/"
        target = path
    login = f"/auth/login?next={quote(target, safe='')}"
    if request.headers.get("hx-request"):
        return Response(None, status_code=204, headers={"HX-Redirect": login})
    return Redirect(login, status_code=303)


def on_validation(request: Request, exc: ValidationException) -> Response[Any]:
    return _page_or_json(
        request, 400, _("Some of the input is not valid."), errors=_field_errors(exc)
    )


_DETAILS = {
    403: lambda: _("You do not have permission to do this."),
    404: lambda: _("The page or item was not found."),
    405: lambda: _("This method is not allowed here."),
    409: lambda: _("This cannot be done in the current state."),
    413: lambda: _("The request is too large."),
    415: lambda: _("Send the request as application/json."),
    429: lambda: _("Too many requests. Please wait and try again."),
}


def on_http_error(request: Request, exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    if status == 400:  # Litestar's own 400s (e.g. unparsable JSON) carry English details
        problem = (
            _("The request body is not valid JSON.")
            if "JSON" in str(exc.detail)
            else _("The value is not valid.")
        )
        errors = [{"field": "", "message": problem}]
        return _page_or_json(request, 400, _("Some of the input is not valid."), errors=errors)
    # Our own exceptions carry a translated detail; Litestar's carry the English status phrase.
    detail = exc.detail
    if not detail or detail == HTTPStatus(status).phrase:
        detail = _DETAILS.get(status, lambda: exc.detail)()
    return _page_or_json(request, status, detail)


def on_unexpected(request: Request, exc: Exception) -> Response[Any]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _page_or_json(
        request,
        HTTP_500_INTERNAL_SERVER_ERROR,
        _("Something went wrong on our side. Nothing was saved."),
    )


def on_invalid(request: Request, exc: InvalidInput) -> Response[Any]:
    errors = [{"field": f, "message": m} for f, m in exc.errors.items()]
    return _page_or_json(request, 400, _("Some of the input is not valid."), errors=errors)


def on_conflict(request: Request, exc: Conflict) -> Response[Any]:
    return _page_or_json(request, 409, exc.message)


def on_forbidden(request: Request, exc: Forbidden) -> Response[Any]:
    return _page_or_json(request, 403, exc.message)


def on_not_found(request: Request, exc: NotFound) -> Response[Any]:
    return _page_or_json(request, 404, _("The page or item was not found."))


exception_handlers = {
    InvalidInput: on_invalid,
    Conflict: on_conflict,
    Forbidden: on_forbidden,
    NotFound: on_not_found,
    NotAuthorizedException: on_not_authorized,
    ValidationException: on_validation,
    HTTPException: on_http_error,
    Exception: on_unexpected,
}
