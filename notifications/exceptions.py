"""Domain errors raised by notifications' services; the API's exception handler maps them to HTTP."""

from installer.errors import InvalidInput, NotFound


class InvalidNotification(InvalidInput):
    """A notification cannot be saved (400): a template that does not compile or reaches outside
    its context, a trigger, timing or channel that does not fit; `details` names the field."""

    default_message = "Invalid notification."


__all__ = ["InvalidNotification", "NotFound"]
