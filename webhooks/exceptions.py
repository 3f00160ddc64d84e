"""Domain errors raised by webhooks' services; the API's exception handler maps them to HTTP."""

from installer.errors import InvalidInput


class InvalidEndpoint(InvalidInput):
    """An endpoint's URL or event list cannot be saved (400); `details` names the field."""

    default_message = "Invalid webhook endpoint."


__all__ = ["InvalidEndpoint"]
