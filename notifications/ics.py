"""The booking as an iCalendar file (RFC 5545), for email attachments."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from orders.models import Order


def booking_ics(order: Order, *, language: str) -> bytes | None:
    """One VEVENT for the order's booking (UTC times; the UID stays the same when the booking
    moves, so calendars update the event), or None without a booking."""
    booking = getattr(order, "booking", None)
    if booking is None:
        return None
    with translation.override(language):
        summary = _("Installation %(display_id)s") % {"display_id": order.display_id}
        installer = order.installer.name if order.installer is not None else ""
        description = _("Your order: %(url)s") % {"url": order.client_url}
    calendar = Calendar()
    calendar.add("prodid", "-//Installer//Notifications//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"booking-{order.pk}@{settings.NOTIFICATIONS_MESSAGE_ID_DOMAIN}")
    event.add("dtstamp", timezone.now())
    event.add("sequence", int(booking.updated_at.timestamp()) % 2_000_000_000 if booking.updated_at else 0)
    event.add("dtstart", booking.start_at)
    event.add("dtend", booking.end_at)
    event.add("summary", f"{summary} – {installer}" if installer else summary)
    event.add("location", ", ".join(p for p in (order.address, f"{order.postal_code} {order.city}".strip()) if p))
    event.add("description", description)
    calendar.add_component(event)
    return calendar.to_ical()
