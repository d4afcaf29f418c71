"""Errors that domain services raise, each with a message already in the person's language.

Services know nothing of HTTP; kyodo.web.errors turns these into 400 / 403 / 404 / 409 responses
(JSON on the API, a page otherwise).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class InvalidInput(ValueError):
    """Input a person can correct: messages per field."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


class Checks:
    """Run several field checks and report every failure at once."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def __call__(self, check: Callable[..., Any], *args: Any) -> Any:
        try:
            return check(*args)
        except InvalidInput as exc:
            self.errors.update(exc.errors)
            return None

    def fail(self, field: str, message: str) -> None:
        self.errors.setdefault(field, message)

    def raise_any(self) -> None:
        if self.errors:
            raise InvalidInput(self.errors)


class Conflict(Exception):
    """The action contradicts the current state (wrong state, deadline passed, last admin)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class Forbidden(PermissionError):
    """The person lacks the role this action needs in this organization."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(LookupError):
    """No such row in this organization (other organizations' rows are 'not found' too)."""
