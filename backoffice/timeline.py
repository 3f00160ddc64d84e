"""The order timeline as an operator reads it: one English sentence per event, newest first,
with the time in the organization's zone, and `workflow.step.activated` folded into the row of
the step it belongs to.

Every event type the project writes has a sentence here (`SENTENCES`); a type without one (a
future one) reads "<Type words> by <actor>" (`generic_sentence`), so nothing is ever blank. The
sentences read only the event (its type, data and actor label): no query per event.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from invoicing.exports.pdf import money_text
from orders.models import STATUS_NAMES, OrderEvent

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

STEP_ACTIVATED = "workflow.step.activated"

CANCEL_REASONS = {
    "customer_not_responding": "the customer did not respond",
    "customer_rejected_offer": "the customer rejected the offer",
    "no_capacity": "no capacity",
    "other": "other",
}

SOURCES = {"api": "through the API", "webform": "from the webform", "admin": "in the back office"}


def _parse_time(value: Any) -> datetime.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=datetime.UTC)


def day(value: datetime.datetime, zone: ZoneInfo) -> str:
    """`Thu 10 Dec 2026` in `zone`."""
    local = value.astimezone(zone)
    return f"{_WEEKDAYS[local.weekday()]} {local.day} {_MONTHS[local.month - 1]} {local.year}"


def booking_span(data: dict, zone: ZoneInfo) -> str:
    """`Thu 10 Dec 2026 08:00–12:00`, `Thu 10 Dec 2026 (all day)`, or the two days when the
    booking ends on another day; empty when the data has no readable start."""
    start, end = _parse_time(data.get("startAt")), _parse_time(data.get("endAt"))
    if start is None:
        return ""
    if data.get("allDay"):
        return f"{day(start, zone)} (all day)"
    local_start = start.astimezone(zone)
    if end is None:
        return f"{day(start, zone)} {local_start:%H:%M}"
    local_end = end.astimezone(zone)
    if local_end.date() == local_start.date():
        return f"{day(start, zone)} {local_start:%H:%M}–{local_end:%H:%M}"
    return f"{day(start, zone)} {local_start:%H:%M} – {day(end, zone)} {local_end:%H:%M}"


def _name(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("name") or "").strip()
    return ""


def _actor(event: OrderEvent) -> str:
    if event.actor_label:
        return event.actor_label
    if event.actor_type == "system":
        return "the system"
    return event.actor_type or "someone"


def _by(event: OrderEvent) -> str:
    return f" by {_actor(event)}"


def _installer(event: OrderEvent) -> str:
    return _name(event.data.get("installer")) or "The installer"


def _step(event: OrderEvent) -> str:
    step = event.data.get("step")
    if isinstance(step, dict):
        return str(step.get("title") or step.get("key") or "a step")
    return "a step"


def _quoted(text: Any, limit: int = 140) -> str:
    text = " ".join(str(text or "").split())
    if not text:
        return ""
    return f": “{text if len(text) <= limit else text[: limit - 1] + '…'}”"


def _created(event: OrderEvent, zone: ZoneInfo) -> str:
    source = SOURCES.get(str(event.data.get("source") or ""), "")
    return f"Order created{' ' + source if source else ''}{_by(event)}"


def _updated(event: OrderEvent, zone: ZoneInfo) -> str:
    fields = [str(f) for f in event.data.get("fields") or []]
    if fields == ["files"]:
        count = len(event.data.get("fileIds") or [])
        return f"{count or 'A'} file{'s' if count > 1 else ''} added{_by(event)}"
    if fields == ["clientUrl"]:
        return f"The customer's order-page link was replaced{_by(event)}"
    if not fields:
        return f"Order updated{_by(event)}"
    return f"{', '.join(fields)} updated{_by(event)}".capitalize()


def _dispatched(event: OrderEvent, zone: ZoneInfo) -> str:
    strategy = str(event.data.get("strategy") or "")
    if strategy == "preassigned":
        return f"Dispatched to the pre-assigned installer{_by(event)}"
    at_once = event.data.get("offersAtOnce")
    detail = f" ({strategy}" + (f", {at_once} offer{'s' if at_once != 1 else ''} at once" if at_once else "") + ")"
    return f"Dispatched{detail if strategy else ''}{_by(event)}"


def _offer_sent(event: OrderEvent, zone: ZoneInfo) -> str:
    expires = _parse_time(event.data.get("expiresAt"))
    until = f", answer by {day(expires, zone)} {expires.astimezone(zone):%H:%M}" if expires else ""
    return f"Offer sent to {_name(event.data.get('installer')) or 'an installer'}{until}"


def _offer_declined(event: OrderEvent, zone: ZoneInfo) -> str:
    reason = event.data.get("reason")
    return f"{_installer(event)} declined the offer{_quoted(reason) if reason else ''}"


def _offer_withdrawn(event: OrderEvent, zone: ZoneInfo) -> str:
    count = event.data.get("count") or 1
    reason = str(event.data.get("reason") or "")
    return f"{count} open offer{'s' if count != 1 else ''} withdrawn{' (' + reason + ')' if reason else ''}"


def _assignee(event: OrderEvent, zone: ZoneInfo) -> str:
    name = _name(event.data.get("assignee"))
    if not name:
        return f"Technician unassigned{_by(event)}"
    return f"Assigned to technician {name}{_by(event)}"


def _booking(verb: str) -> Callable[[OrderEvent, ZoneInfo], str]:
    def sentence(event: OrderEvent, zone: ZoneInfo) -> str:
        span = booking_span(event.data, zone)
        return f"{verb}{' ' + span if span else ''}{_by(event)}"

    return sentence


def _booking_cancelled(event: OrderEvent, zone: ZoneInfo) -> str:
    reason = str(event.data.get("reason") or "")
    span = booking_span(event.data, zone)
    text = f"Booking{' of ' + span if span else ''} removed{_by(event)}"
    return f"{text} ({reason})" if reason else text


def _started(event: OrderEvent, zone: ZoneInfo) -> str:
    text = f"Work started{_by(event)}"
    booked = _parse_time(event.data.get("bookedStartAt"))
    if event.data.get("startedBeforeBooking") and booked is not None:
        text += f", before the booked day ({day(booked, zone)})"
    return text


def _completed(event: OrderEvent, zone: ZoneInfo) -> str:
    files = len(event.data.get("fileIds") or [])
    with_files = f" with {files} file{'s' if files != 1 else ''}" if files else ""
    return f"Completed{_by(event)}{with_files}{_quoted(event.data.get('comment'))}"


def _cancelled(event: OrderEvent, zone: ZoneInfo) -> str:
    code = str(event.data.get("reason") or "")
    reason = CANCEL_REASONS.get(code, code)
    return f"Cancelled{_by(event)}{' — ' + reason if reason else ''}{_quoted(event.data.get('comment'))}"


def _tag(verb: str) -> Callable[[OrderEvent, ZoneInfo], str]:
    def sentence(event: OrderEvent, zone: ZoneInfo) -> str:
        return f"Tag “{_name(event.data.get('tag')) or '?'}” {verb}{_by(event)}"

    return sentence


def _fixed(text: str, *, by: bool = True) -> Callable[[OrderEvent, ZoneInfo], str]:
    def sentence(event: OrderEvent, zone: ZoneInfo) -> str:
        return f"{text}{_by(event) if by else ''}"

    return sentence


def _amount(data: Any, key: str = "gross") -> str:
    """ " — 12 500.00 NOK" from a money figure in minor units and its currency, else ""."""
    if not isinstance(data, dict) or not isinstance(data.get(key), int) or isinstance(data.get(key), bool):
        return ""
    return f" — {money_text(data[key], str(data.get('currency') or ''))}"


QUOTE_VIA = {"customer": " by the customer", "client_api": " through the client API"}


def _quote(verb: str) -> Callable[[OrderEvent, ZoneInfo], str]:
    def sentence(event: OrderEvent, zone: ZoneInfo) -> str:
        quote = event.data.get("quote")
        via = event.data.get("decidedVia")
        if via == "operator_on_behalf":
            who = f" by {_actor(event)} on the customer's word"
        else:
            who = QUOTE_VIA[via] if isinstance(via, str) and via in QUOTE_VIA else _by(event)
        reason = event.data.get("reason")
        because = f" ({reason})" if isinstance(reason, str) and reason else ""
        return f"Quote {verb}{who}{because}{_amount(quote)}"

    return sentence


def _invoiced(event: OrderEvent, zone: ZoneInfo) -> str:
    number = event.data.get("number")
    as_number = f" as no. {number}" if isinstance(number, int | str) and number != "" else ""
    return f"Invoiced{as_number}{_by(event)}{_amount(event.data)}"


def _credited(event: OrderEvent, zone: ZoneInfo) -> str:
    number, invoice = event.data.get("number"), event.data.get("invoiceNumber")
    return f"Credit note no. {number} for invoice no. {invoice}{_by(event)}{_amount(event.data)}"


def _line(verb: str) -> Callable[[OrderEvent, ZoneInfo], str]:
    def sentence(event: OrderEvent, zone: ZoneInfo) -> str:
        pending = " (an extra, waiting for approval)" if event.data.get("approval") == "pending_approval" else ""
        return f"{verb}{_quoted(event.data.get('description'))}{pending}{_by(event)}"

    return sentence


def _lines_recorded(event: OrderEvent, zone: ZoneInfo) -> str:
    count = event.data.get("lines")
    what = f"{count} delivered line{'s' if count != 1 else ''}" if isinstance(count, int) else "Delivered lines"
    return f"{what[0].upper()}{what[1:]} recorded from the accepted quote"


SENTENCES: dict[str, Callable[[OrderEvent, ZoneInfo], str]] = {
    # orders
    "order.created": _created,
    "order.updated": _updated,
    "order.cancelled": _cancelled,
    "order.deleted": _fixed("Order deleted"),
    "order.tag_added": _tag("added"),
    "order.tag_removed": _tag("removed"),
    "workflow.step.activated": lambda e, z: f"Step “{_step(e)}” is now current",
    "workflow.step.completed": lambda e, z: f"Step “{_step(e)}” completed{_by(e)}",
    # dispatch
    "order.dispatched": _dispatched,
    "offer.sent": _offer_sent,
    "offer.declined": _offer_declined,
    "offer.expired": lambda e, z: (
        f"The offer to {_name(e.data.get('installer')) or 'the installer'} expired unanswered"
    ),
    "offer.withdrawn": _offer_withdrawn,
    "order.assigned": lambda e, z: f"{_installer(e)} accepted the offer",
    "order.declined": _fixed("Every offered installer declined or let the offer expire", by=False),
    "order.assignee_changed": _assignee,
    "booking.created": _booking("Booked"),
    "booking.updated": _booking("Rebooked to"),
    "booking.cancelled": _booking_cancelled,
    "order.started": _started,
    "order.completed": _completed,
    # portal (the customer's page)
    "customer.reschedule_requested": lambda e, z: f"The customer asked to reschedule{_quoted(e.data.get('message'))}",
    "customer.cancel_requested": lambda e, z: f"The customer asked to cancel{_quoted(e.data.get('message'))}",
    "customer.note_added": lambda e, z: f"The customer added a note{_quoted(e.data.get('note'))}",
    # pricing (quotes)
    "quote.created": _quote("drafted"),
    "quote.updated": _quote("changed"),
    "quote.sent": _quote("sent to the customer"),
    "quote.accepted": _quote("accepted"),
    "quote.rejected": _quote("rejected"),
    "quote.withdrawn": _quote("withdrawn"),
    # invoicing
    "order.lines_recorded": _lines_recorded,
    "order.line_added": _line("Line added"),
    "order.line_changed": _line("Line changed"),
    "order.line_approved": _line("Extra approved"),
    "order.invoiced": _invoiced,
    "order.credited": _credited,
}


def generic_sentence(event: OrderEvent) -> str:
    """`Invoice sent by erp` for `invoice.sent`: the type's words, then the actor."""
    words = " ".join(event.type.replace("_", " ").replace(".", " ").split()) or "Event"
    return f"{words[0].upper()}{words[1:]}{_by(event)}"


def sentence(event: OrderEvent, zone: ZoneInfo) -> str:
    """The event as one sentence (times in `zone`); never raises on odd data."""
    render = SENTENCES.get(event.type)
    if render is None or not isinstance(event.data, dict):
        return generic_sentence(event)
    try:
        return render(event, zone)
    except (AttributeError, KeyError, TypeError, ValueError):
        return generic_sentence(event)


def status_change(event: OrderEvent) -> str:
    """`created → dispatching`, or "" when the event does not move the order."""
    if event.to_status is None or event.from_status == event.to_status:
        return ""
    if event.from_status is None:
        return str(STATUS_NAMES.get(event.to_status, ""))
    return f"{STATUS_NAMES.get(event.from_status)} → {STATUS_NAMES.get(event.to_status)}"


@dataclass
class TimelineRow:
    """One row of the timeline: an event and the step activations folded into it."""

    event: OrderEvent
    text: str
    time: str  # `14:02` in the organization's zone
    day: str  # `Thu 10 Dec 2026`
    when: str  # full local time with the zone, for the title attribute
    status: str
    folded: list[tuple[OrderEvent, str]] = field(default_factory=list)  # (event, sentence)

    @property
    def raw(self) -> str:
        return _raw(self.event)

    @property
    def folded_raw(self) -> list[dict[str, str]]:
        return [{"text": text, "raw": _raw(event)} for event, text in self.folded]


def _raw(event: OrderEvent) -> str:
    return json.dumps(
        {
            "type": event.type,
            "sequence": event.sequence,
            "actor": {"type": event.actor_type, "id": event.actor_id or None, "label": event.actor_label},
            "fromStatus": event.from_status,
            "toStatus": event.to_status,
            "data": event.data,
            "createdAt": event.created_at.isoformat() if event.created_at else None,
        },
        ensure_ascii=False,
        indent=2,
        default=str,
    )


def timeline_rows(events: Iterable[OrderEvent], zone: ZoneInfo) -> list[TimelineRow]:
    """Rows newest first. A `workflow.step.activated` event belongs to the change that entered
    the status (the event just before it, in the same change) and is folded into that row as
    "Step “…” is now current"; one with nothing before it stands alone."""
    ordered = sorted(events, key=lambda e: e.sequence)
    rows: list[TimelineRow] = []
    for event in ordered:
        text = sentence(event, zone)
        if event.type == STEP_ACTIVATED and rows:
            rows[-1].folded.append((event, text))
            continue
        local = event.created_at.astimezone(zone)
        rows.append(
            TimelineRow(
                event=event,
                text=text,
                time=f"{local:%H:%M}",
                day=day(event.created_at, zone),
                when=f"{local:%Y-%m-%d %H:%M:%S} {local.tzname()} ({zone.key})",
                status=status_change(event),
            )
        )
    rows.reverse()
    return rows
