"""What every partner page shares: domain errors as messages people read in their language."""

from __future__ import annotations

from django.utils.translation import gettext as _

from dispatch.exceptions import BookingConflict, OfferNotOpen
from dispatch.models import OfferStatus
from installer.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound, TooLarge, UnsupportedType
from orders.exceptions import InvalidTransition, StepRequired

# A domain error's category -> the HTTP status of the page that shows it (as the API maps them).
STATUS = (
    (NotFound, 404),
    (Forbidden, 403),
    (Conflict, 409),
    (TooLarge, 413),
    (UnsupportedType, 415),
    (InvalidInput, 400),
)


def error_status(error: DomainError) -> int:
    return next((code for kind, code in STATUS if isinstance(error, kind)), 400)


def error_text(error: DomainError, *, offer_taken: bool = False) -> str:
    """The error as a sentence in the reader's language; the service's own message (English)
    for errors without a sentence of their own."""
    if isinstance(error, OfferNotOpen):
        status = error.extra.get("offerStatus")
        if status == OfferStatus.EXPIRED:
            return _("This offer has expired and can no longer be answered.")
        if offer_taken:
            return _("This job has been taken.")
        if status == OfferStatus.WITHDRAWN:
            return _("This offer was withdrawn.")
        return _("This offer has already been answered.")
    if isinstance(error, BookingConflict):
        return _("You already have a booking at that time. Choose another time.")
    if isinstance(error, StepRequired):
        return _("A required step is not done yet: %(message)s") % {"message": error.message}
    if isinstance(error, InvalidTransition):
        return _("The job's status does not allow this now: %(message)s") % {"message": error.message}
    if isinstance(error, TooLarge):
        return _("The file is too large.")
    if isinstance(error, UnsupportedType):
        return _("This type of file is not accepted. Upload a photo (JPEG, PNG, HEIC, WebP) or a PDF.")
    if isinstance(error, InvalidInput) and error.message == "The file is empty.":
        return _("The file is empty.")
    return error.message
