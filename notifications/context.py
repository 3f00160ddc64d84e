"""What a template sees (docs/notifications.md): plain values built from an order, nothing else.
Times are in the organization's zone with the zone named; dates in the message's language."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import signing
from django.utils import formats, translation

from accounts.zones import local_text, zone_of
from orders import workflow_cache
from orders.models import STATUS_NAMES, Order

OPT_OUT_SALT = "notifications.opt-out"


def opt_out_token(order: Order) -> str:
    """A signed token naming the order; its customer's email and phone opt out with it."""
    return signing.dumps({"o": str(order.pk)}, salt=OPT_OUT_SALT, compress=True)


def opt_out_order_id(token: str) -> str | None:
    """The order id a token names, or None when it is not one of ours (no expiry: a link in an
    old email keeps working)."""
    try:
        value = signing.loads(token, salt=OPT_OUT_SALT)
    except signing.BadSignature:
        return None
    return value.get("o") if isinstance(value, dict) else None


def opt_out_url(order: Order) -> str:
    return f"{settings.PUBLIC_BASE_URL}/notifications/opt-out/{opt_out_token(order)}/"


def _booking(order: Order, language: str) -> dict[str, Any] | None:
    booking = getattr(order, "booking", None)
    if booking is None:
        return None
    zone = zone_of(order.organization)
    start, end = booking.start_at.astimezone(zone), booking.end_at.astimezone(zone)
    with translation.override(language):
        date = formats.date_format(start, "DATE_FORMAT")
    return {
        "start": local_text(booking.start_at, zone),
        "end": local_text(booking.end_at, zone),
        "date": date,
        "time": start.strftime("%H:%M"),
        "endTime": end.strftime("%H:%M"),
        "zone": str(zone.key),
        "allDay": "yes" if booking.all_day else "",
    }


def message_context(order: Order, *, language: str, condition: dict[str, Any] | None = None) -> dict[str, Any]:
    """The template context of a message about `order`. `condition` (the message's) names the
    step and offer the message is about. Reads the order's organization, installer and booking
    (joined by the caller) and, for an offer message, the offer."""
    condition = condition or {}
    step = None
    step_key = condition.get("stepKey") or (order.current_step.key if order.current_step is not None else None)
    if step_key:
        found = next((s for s in workflow_cache.steps(order.workflow) if s.key == step_key), None)
        if found is not None:
            step = {"key": found.key, "title": found.title}
    installer = order.installer
    offer = None
    if condition.get("offerId"):
        from dispatch.models import Offer

        row = Offer.objects.filter(pk=condition["offerId"], order=order).select_related("installer").first()
        if row is not None:
            if installer is None:
                installer = row.installer
            offer = {"expiresAt": local_text(row.expires_at, zone_of(order.organization)) if row.expires_at else ""}
    return {
        "order": {
            "displayId": order.display_id,
            "name": order.name,
            "address": order.address,
            "city": order.city,
            "postalCode": order.postal_code,
            "status": STATUS_NAMES.get(order.status, ""),
        },
        "customer": {"name": order.contact_person_name, "email": order.email, "phone": order.phone_number},
        "booking": _booking(order, language),
        "installer": (
            {"name": installer.name, "phone": installer.phone_number, "email": installer.email} if installer else None
        ),
        "step": step,
        "offer": offer,
        "organization": {"name": order.organization.name},
        "trackingUrl": order.client_url,
        "optOutUrl": opt_out_url(order),
        "language": language,
    }


def sample_context(language: str = "en") -> dict[str, Any]:
    """A context with every field filled: what saving a template renders it against."""
    return {
        "order": {
            "displayId": "P1-1001",
            "name": "Charger",
            "address": "Storgata 1",
            "city": "Oslo",
            "postalCode": "0155",
            "status": "scheduled",
        },
        "customer": {"name": "Kari Nordmann", "email": "kari@example.com", "phone": "+4791234567"},
        "booking": {
            "start": "2030-06-03 10:00 CEST",
            "end": "2030-06-03 12:00 CEST",
            "date": "3 June 2030",
            "time": "10:00",
            "endTime": "12:00",
            "zone": "Europe/Oslo",
            "allDay": "",
        },
        "installer": {"name": "Elektro AS", "phone": "+4722222222", "email": "post@elektro.example"},
        "step": {"key": "visit", "title": "Site visit"},
        "offer": {"expiresAt": "2030-06-01 10:00 CEST"},
        "organization": {"name": "Demo"},
        "trackingUrl": f"{settings.PUBLIC_BASE_URL}/t/example/",
        "optOutUrl": f"{settings.PUBLIC_BASE_URL}/notifications/opt-out/example/",
        "language": language,
    }
