"""The appointment as an iCalendar file (RFC 5545), for the customer's calendar."""

from __future__ import annotations

import datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from dispatch.models import Booking
from orders.models import Order


def booking_ics(order: Order, booking: Booking) -> bytes:
    """One VEVENT: the booking's start and end (UTC; an all-day booking as dates), the
    installer's name, the order's address once an installer is assigned, and the tracking
    link. The UID is stable per booking, so a moved appointment replaces the old one."""
    calendar = Calendar()
    calendar.add("prodid", "-//Installer//Customer portal//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"booking-{booking.pk}@installer")
    event.add("dtstamp", timezone.now().astimezone(datetime.UTC))
    if booking.all_day:
        event.add("dtstart", booking.start_at.date())
        event.add(
            "dtend",
            booking.end_at.date()
            if booking.end_at.date() > booking.start_at.date()
            else booking.start_at.date() + datetime.timedelta(days=1),
        )
    else:
        event.add("dtstart", booking.start_at.astimezone(datetime.UTC))
        event.add("dtend", booking.end_at.astimezone(datetime.UTC))
    installer = order.installer.name if order.installer is not None else ""
    summary = _("Installation %(id)s") % {"id": order.display_id}
    event.add("summary", f"{summary} – {installer}" if installer else summary)
    event.add("location", f"{order.address}, {order.postal_code} {order.city}")
    event.add("url", order.client_url)
    event.add("description", _("Your appointment. Follow your request: %(url)s") % {"url": order.client_url})
    calendar.add_component(event)
    return calendar.to_ical()


def ics_filename(order: Order) -> str:
    return f"appointment-{order.display_id}.ics".replace("/", "-")
