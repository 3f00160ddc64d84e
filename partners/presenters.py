"""What the partner pages show: times in the partner's zone with the zone named, the time left on
an offer, an offer's outcome, and the timeline as sentences in the reader's language. Built from
the API's dicts (orders.api.presenters), so the masking is the API's."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from dispatch.models import Offer, OfferStatus
from orders.models import OrderStatus

STATUS_LABELS = {
    OrderStatus.CREATED: lambda: pgettext("order status", "Created"),
    OrderStatus.DISPATCHING: lambda: pgettext("order status", "Awaiting booking"),
    OrderStatus.SCHEDULED: lambda: pgettext("order status", "Scheduled"),
    OrderStatus.IN_PROGRESS: lambda: pgettext("order status", "In progress"),
    OrderStatus.COMPLETED: lambda: pgettext("order status", "Completed"),
    OrderStatus.DECLINED: lambda: pgettext("order status", "Declined"),
    OrderStatus.CANCELLED: lambda: pgettext("order status", "Cancelled"),
}


def status_label(status: int) -> str:
    label = STATUS_LABELS.get(status)  # type: ignore[call-overload]
    return label() if label else str(status)


def local_html(value: datetime.datetime | None, zone: ZoneInfo) -> SafeString | str:
    """`2030-06-03 10:00 CEST` with the zone's full name in an `<abbr>`; "–" for none."""
    if value is None:
        return "–"
    local = value.astimezone(zone)
    return format_html(
        '<time datetime="{}">{}</time> <abbr title="{}">{}</abbr>',
        value.isoformat(),
        local.strftime("%Y-%m-%d %H:%M"),
        zone.key,
        local.tzname(),
    )


def time_left(deadline: datetime.datetime | None, now: datetime.datetime) -> str:
    """ "2 days 3 hours", "45 minutes", "no deadline"."""
    if deadline is None:
        return _("no deadline")
    seconds = int((deadline - now).total_seconds())
    if seconds <= 0:
        return _("expired")
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = max(1, rest // 60) if not days and not hours else rest // 60
    parts = []
    if days:
        parts.append(ngettext("%(n)d day", "%(n)d days", days) % {"n": days})
    if hours:
        parts.append(ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours})
    if not days and minutes:
        parts.append(ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes})
    return " ".join(parts)


OUTCOME_LABELS = {
    "open": lambda: pgettext("offer outcome", "Open"),
    OfferStatus.ACCEPTED: lambda: pgettext("offer outcome", "Accepted"),
    OfferStatus.DECLINED: lambda: pgettext("offer outcome", "Declined"),
    OfferStatus.EXPIRED: lambda: pgettext("offer outcome", "Expired"),
    OfferStatus.WITHDRAWN: lambda: pgettext("offer outcome", "Withdrawn"),
    "taken": lambda: pgettext("offer outcome", "Taken"),
}


def offer_outcome(offer: Offer, now: datetime.datetime) -> str:
    """accepted, declined, expired, withdrawn, or taken (withdrawn because another installer
    accepted: the order has an installer that is not this one; who it is is never said). An
    open offer past its deadline is expired, whether or not the expiry task has run."""
    if offer.status == OfferStatus.SENT:
        return OfferStatus.EXPIRED if offer.expires_at is not None and offer.expires_at <= now else "open"
    if offer.status == OfferStatus.WITHDRAWN:
        installer_id = offer.order.installer_id
        if installer_id is not None and installer_id != offer.installer_id:
            return "taken"
    return offer.status


def outcome_label(outcome: str) -> str:
    label = OUTCOME_LABELS.get(outcome)
    return label() if label else outcome


def _actor(row: dict[str, Any]) -> str:
    actor = row.get("actor") or {}
    kind = actor.get("type")
    if kind == "router":
        return _("The customer's company")
    if kind == "system":
        return _("The system")
    if kind == "customer":
        return _("The customer")
    if kind == "webform":
        return _("The web form")
    return str(actor.get("label") or _("Someone"))


def event_sentence(row: dict[str, Any], zone: ZoneInfo) -> SafeString | str:
    """One timeline row (orders.api.presenters.timeline_to_dicts) as a sentence."""
    who = _actor(row)
    raw = row.get("data")
    data: dict[str, Any] = raw if isinstance(raw, dict) else {}
    kind = row.get("type")
    if kind == "order.created":
        return _("%(who)s created the order.") % {"who": who}
    if kind == "order.updated":
        return _("%(who)s updated the order.") % {"who": who}
    if kind == "order.dispatched":
        return _("%(who)s sent the order to installers.") % {"who": who}
    if kind == "offer.sent":
        return _("Your company received an offer.")
    if kind == "offer.declined":
        reason = data.get("reason")
        if reason:
            return _("%(who)s declined the offer: %(reason)s") % {"who": who, "reason": reason}
        return _("%(who)s declined the offer.") % {"who": who}
    if kind == "offer.expired":
        return _("The offer expired.")
    if kind == "offer.withdrawn":
        return _("The offer was withdrawn.")
    if kind == "order.assigned":
        return _("%(who)s accepted the offer; the job is yours.") % {"who": who}
    if kind == "order.declined":
        return _("No installer took the order.")
    if kind in ("booking.created", "booking.updated"):
        start = _parse(data.get("startAt"))
        when = local_html(start, zone) if start else "–"
        text = (
            _("%(who)s booked the job for %(when)s.")
            if kind == "booking.created"
            else _("%(who)s moved the booking to %(when)s.")
        )
        return mark_safe(conditional_escape(text) % {"who": conditional_escape(who), "when": when})  # noqa: S308
    if kind == "booking.cancelled":
        return _("%(who)s removed the booking.") % {"who": who}
    if kind == "order.started":
        return _("%(who)s started the work.") % {"who": who}
    if kind == "order.completed":
        comment = data.get("comment")
        if comment:
            return _("%(who)s completed the job: %(comment)s") % {"who": who, "comment": comment}
        return _("%(who)s completed the job.") % {"who": who}
    if kind == "order.cancelled":
        return _("%(who)s cancelled the order.") % {"who": who}
    if kind == "workflow.step.completed":
        step = (data.get("step") or {}).get("title") or ""
        return _("%(who)s completed the step “%(step)s”.") % {"who": who, "step": step}
    if kind == "workflow.step.activated":
        step = (data.get("step") or {}).get("title") or ""
        return _("Next step: “%(step)s”.") % {"step": step}
    if kind in ("order.tag_added", "order.tag_removed"):
        return _("%(who)s changed the tags.") % {"who": who}
    if kind == "order.assignee_changed":
        return _("%(who)s changed who does the job.") % {"who": who}
    if kind in FIXED_SENTENCES:
        return FIXED_SENTENCES[kind]() % {"who": who}
    if kind in ("order.line_added", "order.line_approved"):
        line = str(data.get("description") or "")
        text = (
            _("%(who)s added a line: %(line)s")
            if kind == "order.line_added"
            else _("%(who)s approved an extra: %(line)s")
        )
        return text % {"who": who, "line": line}
    return _("%(who)s: %(event)s") % {"who": who, "event": kind}


# Events told in one sentence that may name who did it (`%(who)s`), read in the reader's language.
FIXED_SENTENCES: dict[str, Callable[[], str]] = {
    "order.deleted": lambda: _("%(who)s deleted the order."),
    "quote.created": lambda: _("%(who)s drafted a quote."),
    "quote.updated": lambda: _("%(who)s changed a quote."),
    "quote.sent": lambda: _("%(who)s sent a quote to the customer."),
    "quote.accepted": lambda: _("The quote was accepted."),
    "quote.rejected": lambda: _("The quote was rejected."),
    "quote.withdrawn": lambda: _("%(who)s withdrew a quote."),
    "order.lines_recorded": lambda: _("The delivered lines were recorded."),
    "order.line_changed": lambda: _("%(who)s changed a line."),
    "order.invoiced": lambda: _("The job was invoiced."),
    "order.credited": lambda: _("A credit note was issued."),
    "customer.reschedule_requested": lambda: _("The customer asked to move the appointment."),
    "customer.cancel_requested": lambda: _("The customer asked to cancel."),
    "customer.note_added": lambda: _("The customer added a note."),
}


def _parse(value: Any) -> datetime.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.datetime.fromisoformat(value)
    except ValueError:
        return None


def field_value(value: Any) -> str:
    if value is None or value == "" or value == []:
        return "–"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)


def custom_fields(order_data: dict[str, Any], *, skip_empty: bool = False) -> list[dict[str, str]]:
    """The custom fields of an order object (orders.api.presenters) as label and text."""
    return [
        {"label": row["label"], "value": field_value(row.get("value"))}
        for row in order_data.get("customFields") or []
        if not (skip_empty and row.get("value") in (None, "", []))
    ]


def person_name(user) -> str:
    """A person as the pages name them: the full name, else the username."""
    return user.get_full_name() or user.get_username()
