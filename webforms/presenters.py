"""What the customer's tracking page shows of an order: its status in words, the booked date in
the organization's zone, the installer's name, and what the customer entered themselves."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dispatch.selectors import booking_of
from orders.models import Order, OrderStatus

# The status as the customer reads it: a title and a sentence.
STATUS_TEXT: dict[OrderStatus, tuple[str, str]] = {
    OrderStatus.CREATED: ("Received", "We have received your request and will find an installer for you."),
    OrderStatus.DISPATCHING: ("Finding an installer", "We are finding an installer for your job."),
    OrderStatus.SCHEDULED: ("Appointment booked", "Your installation has a date."),
    OrderStatus.IN_PROGRESS: ("Installation under way", "The installer is working on your job."),
    OrderStatus.COMPLETED: ("Completed", "The installation is done. Thank you!"),
    # The customer does not need to know that installers declined: from their side we are still looking.
    OrderStatus.DECLINED: ("Finding an installer", "We are still finding an installer for your job."),
    OrderStatus.CANCELLED: ("Cancelled", "This request has been cancelled."),
}


def _zone(name: str) -> ZoneInfo:
    """The organization's zone; UTC when it has none or the name is unknown."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def tracking_context(order: Order) -> dict[str, Any]:
    """What the customer may see: status in words, booked date, installer name, and what the
    customer entered themselves (name and address). Nothing else of the order."""
    title, sentence = STATUS_TEXT[OrderStatus(order.status)]
    if order.status == OrderStatus.DISPATCHING and order.installer_id:
        title, sentence = "Installer found", "An installer has taken your job and will agree a date with you."
    booking = booking_of(order)
    booked = None
    if booking is not None and order.status in (OrderStatus.SCHEDULED, OrderStatus.IN_PROGRESS, OrderStatus.COMPLETED):
        zone = _zone(order.organization.time_zone)
        booked = {
            "start": booking.start_at.astimezone(zone),
            "end": booking.end_at.astimezone(zone),
            "all_day": booking.all_day,
            "zone": str(zone),
        }
    installer = order.installer.name if order.installer_id and order.installer else None
    return {
        "display_id": order.display_id,
        "status_title": title,
        "status_sentence": sentence,
        "status": order.status,
        "booked": booked,
        "installer": installer,
        "customer": order.contact_person_name,
        "address": f"{order.address}, {order.postal_code} {order.city}",
        "received": order.created_at,
    }
