"""What the public pages show: the form's fields, and on the customer's tracking page an order's
status in words, the booked date in the organization's zone, the installer's name and what the
customer entered themselves."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from django.template.loader import render_to_string
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise as StrOrPromise
else:
    StrOrPromise = str

from accounts.zones import zone_of
from dispatch.selectors import booking_of
from orders.models import Order, OrderStatus
from webforms.forms import NONCE, WebformOrderForm
from webforms.selectors import FieldSpec

FIELDS_TEMPLATE = "webforms/fields.html"


def form_fields_html(form: WebformOrderForm) -> str:
    """The form's visible fields (label, help text, errors, input) as FIELDS_TEMPLATE writes them.

    A blank form writes the same HTML for the same fields, initial values and language, so its
    HTML is rendered once per process for each of them (`_blank_fields_html`) and reused: Django's
    widget templates cost most of the page otherwise (docs/performance.md). A submitted form,
    with what the visitor typed and its errors, is rendered every time."""
    if form.is_bound:
        return render_to_string(FIELDS_TEMPLATE, {"form": form})
    initial = tuple(sorted((k, v) for k, v in form.initial.items() if k != NONCE))
    return _blank_fields_html(tuple(form.specs), "photo" in form.fields, initial, get_language())


@lru_cache(maxsize=64)
def _blank_fields_html(
    specs: tuple[FieldSpec, ...], allow_photo: bool, initial: tuple[tuple[str, Any], ...], language: str
) -> str:
    """FIELDS_TEMPLATE for a blank form. The key holds everything the HTML depends on: each
    field's label, type, options and required flag (a changed definition is a new key), the photo
    input, the initial values and the active language (`language` is part of the key only)."""
    form = WebformOrderForm(initial=dict(initial), specs=list(specs), allow_photo=allow_photo)
    return render_to_string(FIELDS_TEMPLATE, {"form": form})


# The status as the customer reads it: a title and a sentence.
STATUS_TEXT: dict[OrderStatus, tuple[StrOrPromise, StrOrPromise]] = {
    OrderStatus.CREATED: (_("Received"), _("We have received your request and will find an installer for you.")),
    OrderStatus.DISPATCHING: (_("Finding an installer"), _("We are finding an installer for your job.")),
    OrderStatus.SCHEDULED: (_("Appointment booked"), _("Your installation has a date.")),
    OrderStatus.IN_PROGRESS: (_("Installation under way"), _("The installer is working on your job.")),
    OrderStatus.COMPLETED: (_("Completed"), _("The installation is done. Thank you!")),
    # The customer does not need to know that installers declined: from their side we are still looking.
    OrderStatus.DECLINED: (_("Finding an installer"), _("We are still finding an installer for your job.")),
    OrderStatus.CANCELLED: (_("Cancelled"), _("This request has been cancelled.")),
}


def tracking_context(order: Order) -> dict[str, Any]:
    """What the customer may see: status in words, booked date, installer name, and what the
    customer entered themselves. Nothing else of the order.

    The page needs no login, so it never shows more than the order's current installer may see
    in the API: the customer's name and street only once an installer is assigned; before that
    (no installer, or offers not accepted yet) the area (postal code and city) only."""
    title: StrOrPromise
    sentence: StrOrPromise
    title, sentence = STATUS_TEXT[OrderStatus(order.status)]
    if order.status == OrderStatus.DISPATCHING and order.installer_id:
        title = _("Installer found")
        sentence = _("An installer has taken your job and will agree a date with you.")
    booking = booking_of(order)
    booked = None
    # Every time on the page is shown in this zone (the template's {% timezone %}) and named.
    zone = zone_of(order.organization)
    if booking is not None and order.status in (OrderStatus.SCHEDULED, OrderStatus.IN_PROGRESS, OrderStatus.COMPLETED):
        booked = {
            "start": booking.start_at.astimezone(zone),
            "end": booking.end_at.astimezone(zone),
            "all_day": booking.all_day,
            "zone": zone.key,
        }
    installer = order.installer.name if order.installer_id and order.installer else None
    installer_phone = order.installer.phone_number if order.installer_id and order.installer else None
    area = f"{order.postal_code} {order.city}"
    assigned = order.installer_id is not None
    return {
        "display_id": order.display_id,
        "status_title": title,
        "status_sentence": sentence,
        "status": order.status,
        "booked": booked,
        "installer": installer,
        "installer_phone": installer_phone or None,
        "customer": order.contact_person_name if assigned else None,
        "address": f"{order.address}, {area}" if assigned else area,
        "received": order.created_at,
        "zone": zone.key,
    }
