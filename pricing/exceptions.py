"""Domain errors of priced work, in installer.errors' categories (the API maps them)."""

from installer.errors import Conflict, Forbidden, InvalidInput, NotFound


class PricingInvalid(InvalidInput):
    """Bad input to a product or quote (400, with `details` per field)."""


class ProductNotFound(NotFound):
    default_message = "Product not found."


class QuoteNotFound(NotFound):
    default_message = "Quote not found."


class QuoteConflict(Conflict):
    """The quote's (or order's) state does not allow the action (409)."""

    default_message = "The quote's state does not allow this action."


class QuotingNotAllowed(Forbidden):
    """The caller may read the order but not write its quotes (403)."""

    default_message = "Your organization may not write quotes on this order."


__all__ = ["PricingInvalid", "ProductNotFound", "QuoteConflict", "QuoteNotFound", "QuotingNotAllowed"]
