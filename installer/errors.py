"""The categories of error that domain code raises. They know nothing of HTTP: the API's
exception handler (installer.api.exceptions) maps each category to its status code, the admin
and the pages show the message.

Each carries a message, optional `details` ({field: [messages]}) and `extra` (more keys of the
error body, e.g. the id of a conflicting order).
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    default_message = "Invalid request."

    def __init__(
        self, message: str | None = None, *, details: dict[str, Any] | None = None, extra: dict[str, Any] | None = None
    ) -> None:
        self.message = message or self.default_message
        self.details = details
        self.extra = extra or {}
        super().__init__(self.message)


class InvalidInput(DomainError):
    """The input is wrong (a field, a reference to something unknown)."""

    default_message = "Bad request."


class NotFound(DomainError):
    """The object does not exist for this caller."""

    default_message = "Not found."


class Forbidden(DomainError):
    """The caller's role does not allow the change (a technician assigning, a dispatcher inviting)."""

    default_message = "Your role does not allow this."


class Conflict(DomainError):
    """The object's current state does not allow the change."""

    default_message = "The order's state does not allow this action."


class Unprocessable(DomainError):
    """The input is valid but the change cannot be made (e.g. nobody can take the order)."""

    default_message = "The request cannot be processed."


class TooLarge(DomainError):
    """The input is larger than allowed (an upload past its limit)."""

    default_message = "The upload is too large."


class UnsupportedType(DomainError):
    """The input is of a kind that is not accepted (a file type off the allowlist)."""

    default_message = "Unsupported media type."
