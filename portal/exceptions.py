"""Domain errors of the customer's portal, in installer.errors' categories (the API maps them)."""

from installer.errors import Conflict, InvalidInput, NotFound


class PortalNotFound(NotFound):
    """Unknown, rotated or malformed client token: the same answer for each."""

    default_message = "Not found."


class OrderFinished(Conflict):
    """A completed or cancelled order is read-only for the customer."""

    default_message = "This order is finished: nothing can be changed any more."


class ActionNotOffered(Conflict):
    """The order's state or workflow does not offer this action to the customer now."""


class PortalInvalid(InvalidInput):
    """Bad input to a customer action."""


__all__ = ["ActionNotOffered", "OrderFinished", "PortalInvalid", "PortalNotFound"]
