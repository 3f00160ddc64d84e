"""Domain errors raised by order services; the API's exception handler maps them to HTTP."""

from installer.api.exceptions import BadRequest, Conflict, NotFound, Unprocessable


class InvalidTransition(Conflict):
    """The state machine forbids the move (409)."""


class StepRequired(Conflict):
    """A required workflow step of the current status is still open (409)."""


class DuplicateIdempotencyKey(Conflict):
    default_message = "An order with this idempotency key already exists."


class OrderValidationError(BadRequest):
    default_message = "Invalid order data."


__all__ = [
    "InvalidTransition",
    "StepRequired",
    "DuplicateIdempotencyKey",
    "OrderValidationError",
    "NotFound",
    "Unprocessable",
    "Conflict",
]
