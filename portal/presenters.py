"""What the customer sees of an order, for the page and the client API: the tracking page's
rules (webforms.presenters.tracking_context: the customer's name and street only once an
installer is assigned, never more than that installer may read) plus the steps, the installer's
phone, the messages sent to the customer and the actions open to them."""

from __future__ import annotations

import datetime
from typing import Any

from django.utils.translation import gettext_lazy as _

from accounts.zones import zone_of
from orders.models import STATUS_NAMES, Order
from portal import selectors
from webforms.presenters import tracking_context

STATE_TEXT = {
    "completed": _("Done"),
    "current": _("Now"),
    "upcoming": _("Later"),
    "skipped": _("Not done"),
}

CHANNEL_TEXT = {
    "customer_email": _("Email"),
    "email": _("Email"),
    "customer_sms": _("SMS"),
    "sms": _("SMS"),
}


def _iso(value: datetime.datetime | None, zone) -> str | None:
    return value.astimezone(zone).isoformat() if value is not None else None


def portal_context(order: Order, *, with_slots: bool = True) -> dict[str, Any]:
    """The page's data. Slots are read (two queries) only when the customer may book."""
    t = tracking_context(order)
    steps = selectors.client_steps(order)
    done = sum(1 for s in steps if s.state == "completed")
    actions = selectors.allowed_actions(order)
    zone = zone_of(order.organization)
    slots = selectors.free_slots(order) if with_slots and selectors.BOOK in actions else []
    booking = selectors.booking_for(order)
    step = selectors.booking_step(order)
    return {
        "t": t,
        "steps": [{"step": s, "state_text": STATE_TEXT[s.state]} for s in steps],
        "progress": {"done": done, "total": len(steps)},
        "actions": actions,
        "finished": selectors.is_finished(order),
        "slots": [
            {
                "value": f"{s.start.isoformat()}|{s.end.isoformat()}",
                "start": s.start.astimezone(zone),
                "end": s.end.astimezone(zone),
            }
            for s in slots
        ],
        "booking_step": step,
        "has_booking": booking is not None,
        "messages": [
            {"channel": CHANNEL_TEXT.get(m.channel, m.channel), "subject": m.subject, "sent_at": m.sent_at}
            for m in selectors.messages_for(order)
        ],
        "zone": zone.key,
        "token": order.client_token,
    }


def step_to_dict(step: selectors.ClientStep) -> dict[str, Any]:
    return {
        "id": str(step.id),
        "key": step.key,
        "title": step.title,
        "description": step.description or None,
        "status": step.status,
        "statusName": STATUS_NAMES[step.status],
        "actor": step.actor,
        "state": step.state,
        "bookable": step.bookable,
    }


def workflows_to_dict(order: Order) -> dict[str, Any]:
    """`GET /api/clients/{token}/workflows`: the order's workflow with the steps the customer sees."""
    steps = selectors.client_steps(order)
    workflow = {
        "id": str(order.workflow_id),
        "steps": [step_to_dict(s) for s in steps],
        "currentStepId": next((str(s.id) for s in steps if s.state == "current"), None),
    }
    return {"values": [workflow], "count": 1}


def booking_to_dict(order: Order) -> dict[str, Any] | None:
    booking = selectors.booking_for(order)
    if booking is None:
        return None
    zone = zone_of(order.organization)
    return {
        "startAt": _iso(booking.start_at, zone),
        "endAt": _iso(booking.end_at, zone),
        "allDay": booking.all_day,
        "timeZone": zone.key,
        "icsUrl": f"{order.client_url}appointment.ics",
    }


def customer_order_to_dict(order: Order) -> dict[str, Any]:
    """`GET /api/clients/{token}`: the order as the customer sees it."""
    t = tracking_context(order)
    zone = zone_of(order.organization)
    steps = selectors.client_steps(order)
    status = selectors.customer_status(order)
    return {
        "displayId": order.display_id,
        "status": status,
        "statusName": STATUS_NAMES[status],
        "statusTitle": str(t["status_title"]),
        "statusText": str(t["status_sentence"]),
        "workflowId": str(order.workflow_id),
        "steps": [step_to_dict(s) for s in steps],
        "progress": {"completed": sum(1 for s in steps if s.state == "completed"), "total": len(steps)},
        "booking": booking_to_dict(order),
        "installer": {"name": t["installer"], "phoneNumber": t["installer_phone"]} if t["installer"] else None,
        "contactPersonName": t["customer"],
        "address": t["address"],
        "messages": [
            {"channel": m.channel, "subject": m.subject, "sentAt": _iso(m.sent_at, zone)}
            for m in selectors.messages_for(order)
        ],
        "allowedActions": selectors.allowed_actions(order),
        # Drafts are the router's own: the customer reads a quote state once one is sent.
        "quoteStatus": None if order.quote_status in ("", "draft") else order.quote_status,
        "invoiceStatus": order.invoice_status,
        "timeZone": zone.key,
        "createdAt": _iso(order.created_at, zone),
    }


def slots_to_dict(order: Order) -> dict[str, Any]:
    """`GET /api/clients/{token}/slots`: free slots when the customer may book, else none."""
    zone = zone_of(order.organization)
    slots = selectors.free_slots(order) if selectors.BOOK in selectors.allowed_actions(order) else []
    step = selectors.booking_step(order)
    values = [{"startAt": _iso(s.start, zone), "endAt": _iso(s.end, zone)} for s in slots]
    return {
        "values": values,
        "count": len(values),
        "workflowStepId": str(step.pk) if step is not None and slots else None,
        "timeZone": zone.key,
    }
