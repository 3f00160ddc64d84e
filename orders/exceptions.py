"""Domain errors raised by order services. Each is one of installer.errors' categories; the
API's exception handler maps the category to its status code."""

from installer.errors import Conflict, InvalidInput, NotFound, Unprocessable


class InvalidTransition(Conflict):
    """The state machine forbids the move."""


class StepRequired(Conflict):
    """A required workflow step of the current status is still open."""


class QuoteRequired(Conflict):
    """A workflow step of the current status requires an accepted quote, and there is none."""


class DuplicateIdempotencyKey(Conflict):
    default_message = "An order with this idempotency key already exists."


class OrderValidationError(InvalidInput):
    default_message = "Invalid order data."


__all__ = [
    "Conflict",
    "DuplicateIdempotencyKey",
    "InvalidInput",
    "InvalidTransition",
    "NotFound",
    "OrderValidationError",
    "QuoteRequired",
    "StepRequired",
    "Unprocessable",
]
