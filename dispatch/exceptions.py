"""Domain errors raised by dispatch services and selectors (installer.errors' categories)."""

from installer.errors import Conflict, Forbidden, InvalidInput, NotFound, Unprocessable


class UnknownInstaller(InvalidInput):
    """The named installer is not a partner of the router."""


class NoInstallerCovers(Unprocessable):
    """No candidate can take the order; `extra["candidates"]` explains why."""


class OfferNotOpen(Conflict):
    """The offer was answered, withdrawn or has expired."""


class BookingConflict(Conflict):
    """The installer is already booked at that time."""


__all__ = [
    "BookingConflict",
    "Conflict",
    "Forbidden",
    "InvalidInput",
    "NoInstallerCovers",
    "NotFound",
    "OfferNotOpen",
    "Unprocessable",
    "UnknownInstaller",
]
