"""Every write of the notifications app: rules, planning, sending, the sweep and opt-outs.

Guarantees (docs/notifications.md):
- Messages are planned in the transaction of the change whose events trigger them
  (`messages_plan_for_events`, orders.hooks.events_notify): rolled back together.
- At most one message per (notification, order, occurrence key): a unique constraint, so the
  same event planned twice, a retried task or two workers never make a second message.
- A send claims the row under its lock (planned -> sending, attempts + 1, a lease) in a short
  transaction, sends outside any transaction and records the result in another. A worker that
  dies between leaves the row `sending` until its lease runs out; the sweep then retries it if
  the channel accepts an idempotency key, else marks it failed_unknown (never sent twice).
- The row, not the task, is the source of truth: the sweep re-enqueues due planned rows.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation

from accounts.models import Language, Organization
from installer.tasks import enqueues_in_transaction, run_after_for, schedule_once
from notifications import channels, templating
from notifications.context import message_context, opt_out_url
from notifications.exceptions import InvalidNotification
from notifications.models import (
    BOOKING_EVENTS,
    CUSTOMER_CHANNELS,
    CUSTOMER_EVENTS,
    OFFER_EVENTS,
    QUOTE_EVENTS,
    STEP_EVENTS,
    TRIGGER_EVENTS,
    Channel,
    Message,
    MessageStatus,
    Notification,
    OffsetUnit,
    OptOut,
    Timing,
    WebhookMethod,
)
from notifications.rules import active_rules
from notifications.sms import SendError
from orders.models import Order, OrderEvent, OrderStatus, Workflow, WorkflowStep, bump_workflow_versions

logger = logging.getLogger("installer.notifications")

FIELDS = (
    "name",
    "active",
    "trigger_event",
    "step",
    "timing",
    "offset_value",
    "offset_unit",
    "channel",
    "webhook_url",
    "webhook_method",
    "webhook_headers",
    "templates",
    "attach_ics",
)


# --- Rules ------------------------------------------------------------------------------------


def _invalid(field: str, message: str) -> InvalidNotification:
    return InvalidNotification(f"{field}: {message}", details={field: [message]})


def clean_templates(templates: Any, channel: str) -> dict[str, dict[str, str]]:
    """{"en"|"nb": {"subject": str, "body": str}}, at least one language with a body, each
    template inside the sandbox (`templating.check`) and rendering against the sample context."""
    if not isinstance(templates, dict) or not templates:
        raise _invalid("templates", 'Give at least one language: {"en": {"subject": "...", "body": "..."}}.')
    cleaned: dict[str, dict[str, str]] = {}
    for language, parts in templates.items():
        if language not in Language.values:
            raise _invalid("templates", f"'{language}' is not a language: use {' or '.join(Language.values)}.")
        if not isinstance(parts, dict) or set(parts) - {"subject", "body"}:
            raise _invalid(f"templates.{language}", "Must be an object with 'subject' and 'body'.")
        subject, body = parts.get("subject", ""), parts.get("body", "")
        if not isinstance(subject, str) or not isinstance(body, str):
            raise _invalid(f"templates.{language}", "'subject' and 'body' are text.")
        if not body.strip():
            raise _invalid(f"templates.{language}.body", "This field is required.")
        if channel in (Channel.CUSTOMER_EMAIL, Channel.PARTNER_EMAIL, Channel.ROUTER_EMAIL) and not subject.strip():
            raise _invalid(f"templates.{language}.subject", "An email needs a subject.")
        for name, text in (("subject", subject), ("body", body)):
            try:
                templating.check(text)
                mode = "json" if channel == Channel.WEBHOOK and name == "body" else "text"
                templating.render(text, sample_context(language), mode=mode)
            except templating.TemplateProblem as exc:
                raise _invalid(f"templates.{language}.{name}", str(exc)) from None
        cleaned[language] = {"subject": subject, "body": body}
    return cleaned


def sample_context(language: str) -> dict[str, Any]:
    from notifications.context import sample_context as sample

    return sample(language)


def clean_values(organization: Organization, workflow: Workflow, values: dict[str, Any]) -> dict[str, Any]:
    """Checks a whole rule (after a partial update is merged in). Raises InvalidNotification."""
    if values["trigger_event"] not in TRIGGER_EVENTS:
        raise _invalid("trigger", f"Must be one of {', '.join(TRIGGER_EVENTS)}.")
    step = values.get("step")
    if values["trigger_event"] in STEP_EVENTS:
        if step is None:
            raise _invalid("stepKey", "A step trigger needs the step's key.")
        if step.workflow_id != workflow.pk:
            raise _invalid("stepKey", "Not a step of this workflow.")
    elif step is not None:
        raise _invalid("stepKey", "Only the step triggers (workflow.step.activated, .completed) take a step.")
    if values["timing"] not in Timing.values:
        raise _invalid("timing", f"Must be one of {', '.join(Timing.values)}.")
    if values["offset_unit"] not in OffsetUnit.values:
        raise _invalid("offsetUnit", "Must be hours or days.")
    offset = values["offset_value"]
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0 or offset > 24 * 365:
        raise _invalid("offset", "A whole number from 0 to 8760.")
    if values["timing"] == Timing.ON_CHANGE:
        values["offset_value"] = 0
    elif offset == 0:
        raise _invalid("offset", "Give N (hours or days) for this timing.")
    if values["timing"] == Timing.BEFORE_BOOKING and values["trigger_event"] not in BOOKING_EVENTS:
        raise _invalid(
            "timing", "A reminder before the booking's start needs a booking.created or booking.updated trigger."
        )
    channel = values["channel"]
    if channel not in Channel.values:
        raise _invalid("channel", f"Must be one of {', '.join(Channel.values)}.")
    if channel == Channel.WEBHOOK:
        from webhooks.services import clean_url

        try:
            values["webhook_url"] = clean_url(values.get("webhook_url"))
        except Exception as exc:
            details = getattr(exc, "details", None) or {}
            message = next(iter(details.values()), [str(exc)])[0]
            raise _invalid("webhook.url", message) from None
        if values["webhook_method"] not in WebhookMethod.values:
            raise _invalid("webhook.method", "Must be POST, PUT or PATCH.")
        headers = values.get("webhook_headers") or {}
        if not isinstance(headers, dict) or len(headers) > 20:
            raise _invalid("webhook.headers", "An object of at most 20 header names and text values.")
        for name, value in headers.items():
            if (
                not isinstance(value, str)
                or not name
                or not all(c.isalnum() or c in "-_" for c in name)
                or any(c in value for c in "\r\n\x00")
                or len(value) > 2000
                or name.lower() in ("host", "content-length", "transfer-encoding", "connection")
            ):
                raise _invalid("webhook.headers", f"'{name}' is not a header we can send.")
        values["webhook_headers"] = headers
    else:
        values["webhook_url"] = ""
        values["webhook_headers"] = {}
    if not isinstance(values["name"], str) or not values["name"].strip():
        raise _invalid("name", "This field is required.")
    values["templates"] = clean_templates(values.get("templates"), channel)
    return values


def notification_create(*, organization: Organization, workflow: Workflow, **fields: Any) -> Notification:
    """Creates a rule of the organization's workflow after `clean_values`."""
    values = {f.name: f.default for f in Notification._meta.get_fields() if f.name in FIELDS and hasattr(f, "default")}
    values.update({"step": None, "webhook_headers": {}, "templates": {}, "offset_value": 0})
    values.update({k: v for k, v in fields.items() if k in FIELDS})
    values = clean_values(organization, workflow, values)
    with transaction.atomic():
        notification = Notification.objects.create(organization=organization, workflow=workflow, **values)
        bump_workflow_versions([workflow.pk])  # planning's cached rules (notifications.rules)
    return notification


def notification_update(*, notification: Notification, **fields: Any) -> Notification:
    """Changes the given fields, checking the whole rule. Planned messages keep their rule and
    render with its templates when they go out."""
    with transaction.atomic():
        notification = Notification.objects.select_for_update().select_related("workflow").get(pk=notification.pk)
        values = {name: getattr(notification, name) for name in FIELDS}
        values.update({k: v for k, v in fields.items() if k in FIELDS})
        values = clean_values(notification.organization, notification.workflow, values)
        for name, value in values.items():
            setattr(notification, name, value)
        notification.save()
        bump_workflow_versions([notification.workflow_id])
    return notification


def notification_delete(*, notification: Notification) -> None:
    """Deletes the rule; its planned messages are skipped, sent ones stay on their orders."""
    with transaction.atomic():
        Message.objects.filter(notification=notification, status=MessageStatus.PLANNED).update(
            status=MessageStatus.SKIPPED, error="The notification was deleted."
        )
        bump_workflow_versions([notification.workflow_id])
        notification.delete()


# --- Planning ---------------------------------------------------------------------------------


def _offset(notification: Notification) -> timedelta:
    unit = 24 if notification.offset_unit == OffsetUnit.DAYS else 1
    return timedelta(hours=notification.offset_value * unit)


def _booking_start(order: Order) -> datetime | None:
    booking = getattr(order, "booking", None)
    return booking.start_at if booking is not None else None


def _occurrence(notification: Notification, event: OrderEvent, order: Order) -> tuple[str, dict[str, Any]] | None:
    """(occurrence key, condition) of the rule firing on `event`, or None when it does not fire.
    Keys (docs/notifications.md): booking rules per booking start; offer rules per offer; the
    assignment per installer; a step rule per step; any other rule once per order."""
    kind = event.type
    data = event.data or {}
    if kind in STEP_EVENTS:
        key = (data.get("step") or {}).get("key")
        if notification.step is None or key != notification.step.key:
            return None
        state = "activated" if kind == "workflow.step.activated" else "completed"
        return f"{kind}:{key}", {"stepKey": key, "stepState": state}
    if notification.timing == Timing.BEFORE_BOOKING or kind in BOOKING_EVENTS:
        start = _booking_start(order)
        if start is None:
            return None
        iso = start.astimezone(UTC).isoformat()
        return f"booking:{iso}", {"bookingStart": iso}
    if kind in OFFER_EVENTS:
        offer_id = data.get("offerId")
        if not offer_id:
            return None
        return f"{kind}:{offer_id}", {"offerId": offer_id, "offerEvent": kind}
    if kind in CUSTOMER_EVENTS:
        return f"{kind}:{event.pk}", {"event": kind}
    if kind in QUOTE_EVENTS:
        quote_id = (data.get("quote") or {}).get("id")
        if not quote_id:
            return None
        return f"{kind}:{quote_id}", {"event": kind, "quoteId": quote_id}
    condition: dict[str, Any] = {"event": kind}
    if event.to_status is not None and event.to_status != event.from_status:
        condition["status"] = event.to_status
    if kind == "order.assigned":
        return f"{kind}:{order.installer_id}", condition
    return kind, condition


def _due(notification: Notification, event: OrderEvent, order: Order, now: datetime) -> datetime | None:
    if notification.timing == Timing.AFTER:
        return event.created_at + _offset(notification)
    if notification.timing == Timing.BEFORE_BOOKING:
        start = _booking_start(order)
        if start is None or start <= now:
            return None
        return max(start - _offset(notification), now)  # booked late: remind now
    return event.created_at


def messages_plan_for_events(events: Sequence[OrderEvent]) -> list[Message]:
    """`orders.hooks.events_notify`: plans the messages the change's events trigger, in the
    change's transaction (the order is locked, its rows written). A moved or removed booking
    skips the reminders planned for its old start. No query for a workflow without rules
    (`notifications.rules`)."""
    triggering = [e for e in events if e.type in TRIGGER_EVENTS]
    if not triggering:
        return []
    order = triggering[0].order
    all_rules = active_rules(order.workflow)
    if not all_rules:
        return []
    types = {e.type for e in triggering}
    # A cancel that removes the booking records `booking.cancelled`; one without a booking
    # leaves no booking messages to skip (any left over is skipped at send time).
    if types & {"booking.created", "booking.updated", "booking.cancelled"} and any(
        r.timing == Timing.BEFORE_BOOKING or r.trigger_event in BOOKING_EVENTS for r in all_rules
    ):
        _skip_stale_booking_messages(order)
    rules_list = [
        r
        for r in all_rules
        if r.trigger_event in types or (r.timing == Timing.BEFORE_BOOKING and types & set(BOOKING_EVENTS))
    ]
    if not rules_list:
        return []
    now = timezone.now()
    offer_emails = _offer_installer_emails(triggering, rules_list)
    planned: dict[tuple[Any, str], Message] = {}
    for event in triggering:
        for rule in rules_list:
            fires = rule.trigger_event == event.type or (
                rule.timing == Timing.BEFORE_BOOKING and event.type in BOOKING_EVENTS
            )
            if not fires:
                continue
            occurrence = _occurrence(rule, event, order)
            due = _due(rule, event, order, now)
            if occurrence is None or due is None:
                continue
            key, condition = occurrence
            planned.setdefault(
                (rule.pk, key),
                Message(
                    organization_id=order.organization_id,
                    order=order,
                    notification=rule,
                    event=event,
                    occurrence_key=key,
                    condition=condition,
                    channel=rule.channel,
                    recipient=_recipient(rule, order, condition, offer_emails),
                    language=_language(rule, order),
                    due_at=due,
                ),
            )
    if not planned:
        return []
    # What this change begins has no messages yet, so nothing to look up: any occurrence of an
    # order it created, and the occurrences of the offers it sent. (The unique constraint on
    # (rule, order, occurrence) stays the guarantee against a repeated plan.)
    created = any(e.type == "order.created" for e in triggering)
    to_check = {k for k in planned if not created and not k[1].startswith("offer.sent:")}
    existing = (
        set(
            Message.objects.filter(
                order=order,
                notification_id__in={rule_id for rule_id, _ in to_check},
                occurrence_key__in={key for _, key in to_check},
            ).values_list("notification_id", "occurrence_key")
        )
        if to_check
        else set()
    )
    new = [m for k, m in planned.items() if k not in existing]
    if not new:
        return []
    # ignore_conflicts: a concurrent plan of the same occurrence (which cannot happen under the
    # order lock, but the constraint is the guarantee) leaves one row.
    Message.objects.bulk_create(new, ignore_conflicts=True)
    _enqueue([(m.pk, m.due_at) for m in new])
    return new


def _skip_stale_booking_messages(order: Order) -> int:
    """Skips the order's planned booking messages whose booking start is no longer the
    booking's (moved, removed or the order cancelled). Caller holds the order lock."""
    start = _booking_start(order) if order.status != OrderStatus.CANCELLED else None
    stale = Message.objects.filter(order=order, status=MessageStatus.PLANNED, occurrence_key__startswith="booking:")
    if start is not None:
        stale = stale.exclude(occurrence_key=f"booking:{start.astimezone(UTC).isoformat()}")
    return stale.update(
        status=MessageStatus.SKIPPED, error="The booking moved or was removed.", updated_at=timezone.now()
    )


def _language(rule: Notification, order: Order) -> str:
    if rule.channel == Channel.PARTNER_EMAIL and order.installer is not None:
        return order.installer.language
    return order.language


def _offer_installer_emails(events: Sequence[OrderEvent], rules: Sequence[Notification]) -> dict[str, str]:
    """{offer id: its installer's email} of the offers the events name, for the partner rules
    among `rules`: one query for a whole plan (none without such a rule or offer)."""
    offer_ids = {str(e.data["offerId"]) for e in events if e.data and e.data.get("offerId")}
    if not offer_ids or not any(r.channel == Channel.PARTNER_EMAIL for r in rules):
        return {}
    from dispatch.models import Offer

    rows = Offer.objects.filter(pk__in=offer_ids).values_list("pk", "installer__email")
    return {str(pk): email for pk, email in rows}


def _recipient(
    rule: Notification, order: Order, condition: dict[str, Any], offer_emails: dict[str, str] | None = None
) -> str:
    """Who the message goes to now ("" when nobody: the send skips it). `offer_emails`: the
    offers' installer emails read for a whole plan (`_offer_installer_emails`); without it an
    offer's installer is read here."""
    if rule.channel == Channel.CUSTOMER_EMAIL:
        return order.email
    if rule.channel == Channel.CUSTOMER_SMS:
        return order.phone_number
    if rule.channel == Channel.WEBHOOK:
        return rule.webhook_url
    if rule.channel == Channel.ROUTER_EMAIL:
        return order.organization.email
    installer = order.installer
    offer_id = condition.get("offerId")
    if offer_id:
        if offer_emails is not None and str(offer_id) in offer_emails:
            return offer_emails[str(offer_id)]
        from dispatch.models import Offer

        offer = Offer.objects.filter(pk=offer_id).select_related("installer").first()
        installer = offer.installer if offer is not None else installer
    return installer.email if installer is not None else ""


def _enqueue(due: Iterable[tuple[Any, datetime]]) -> None:
    """One send task per message at its due time: in the transaction with the database task
    backend (the task row commits with the message or not at all), else after commit. Without
    a backend that can defer, a later message is left to the sweep."""
    from notifications.tasks import send_message

    items = list(due)

    def enqueue() -> None:
        supports_defer = send_message.get_backend().supports_defer
        for pk, due_at in items:
            try:
                if supports_defer:
                    send_message.using(run_after=run_after_for(due_at)).enqueue(str(pk))
                elif due_at <= timezone.now():
                    send_message.enqueue(str(pk))
            except Exception:  # the sweep enqueues it later
                logger.exception("could not enqueue message %s", pk)

    if enqueues_in_transaction(send_message, Message):
        enqueue()
    else:
        transaction.on_commit(enqueue, robust=True)


# --- Sending ----------------------------------------------------------------------------------


def retry_delay(attempts: int) -> float:
    """Seconds before the next try after `attempts` failed ones: NOTIFY_RETRY_BASE_SECONDS
    doubling, capped at an hour, with +-15 % jitter."""
    base = settings.NOTIFY_RETRY_BASE_SECONDS
    return min(base * 2 ** max(attempts - 1, 0), 3600) * random.uniform(0.85, 1.15)


def _still_holds(message: Message, order: Order | None) -> str | None:
    """Why the message should no longer go out, or None. On-change messages are re-checked for
    the order's cancellation and deletion only; delayed and booking messages for their
    condition too (the booking at the same start, the step in that state, the status kept, the
    offer still open)."""
    if order is None or order.deleted_at is not None:
        return "The order was deleted."
    condition = message.condition or {}
    notification = message.notification
    if order.status == OrderStatus.CANCELLED and condition.get("event") != "order.cancelled":
        return "The order was cancelled."
    if message.occurrence_key.startswith("booking:"):
        start = _booking_start(order)
        if start is None or start.astimezone(UTC).isoformat() != condition.get("bookingStart"):
            return "The booking moved or was removed."
        if notification is not None and notification.timing == Timing.BEFORE_BOOKING and start <= timezone.now():
            return "The booking has started."
    if notification is None or notification.timing == Timing.ON_CHANGE:
        return None
    step_key = condition.get("stepKey")
    if step_key:
        done = step_key in (order.completed_steps or [])
        if condition.get("stepState") == "completed" and not done:
            return "The step is no longer completed."
        if condition.get("stepState") == "activated" and (
            done or order.current_step is None or order.current_step.key != step_key
        ):
            return "The step is no longer active."
    if "status" in condition and order.status != condition["status"]:
        return "The order has moved on to another status."
    if condition.get("offerId") and condition.get("offerEvent") == "offer.sent":
        from dispatch.models import Offer, OfferStatus

        if not Offer.objects.filter(pk=condition["offerId"], status=OfferStatus.SENT).exists():
            return "The offer is no longer open."
    return None


def _opted_out(message: Message, order: Order) -> bool:
    if message.channel not in CUSTOMER_CHANNELS or not message.recipient:
        return False
    return OptOut.objects.filter(
        organization_id=order.organization_id, address=_address_key(message.recipient)
    ).exists()


def _address_key(address: str) -> str:
    return address.strip().lower()


def _order_for_send(order_id: Any) -> Order | None:
    qs = Order.all_objects.select_related("organization", "installer", "workflow", "current_step", "booking")
    return qs.filter(pk=order_id).first()


def _template(notification: Notification, language: str) -> tuple[str, dict[str, str]]:
    templates = notification.templates or {}
    for candidate in (language, "en", *templates):
        if candidate in templates:
            return candidate, templates[candidate]
    return language, {"subject": "", "body": ""}


def render_message(notification: Notification, order: Order, *, language: str, condition: dict[str, Any]):
    """(language used, subject, body) of the rule for the order, in the order's language (or
    the first one the rule has). Raises templating.TemplateProblem."""
    used, parts = _template(notification, language)
    with translation.override(used):
        context = message_context(order, language=used, condition=condition)
        mode = "json" if notification.channel == Channel.WEBHOOK else "text"
        subject = templating.render(parts.get("subject", ""), context, mode="text").strip()
        body = templating.render(parts.get("body", ""), context, mode=mode)
    return used, subject, body


def _finish(message: Message, status: str, error: str = "") -> None:
    message.status = status
    message.error = error[:2000]
    message.locked_until = None
    message.save(
        update_fields=["status", "error", "locked_until", "subject", "body", "recipient", "language", "updated_at"]
    )


def _claim(message_id: Any, now: datetime) -> tuple[Message, channels.Outgoing] | None:
    """Locks a due planned message, re-checks it, renders it and moves it to sending. Returns
    it with what to send, or None (not due, held by another worker, skipped or failed)."""
    with transaction.atomic():
        message = (
            Message.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("notification")
            .filter(pk=message_id)
            .first()
        )
        if message is None or message.status != MessageStatus.PLANNED or message.due_at > now:
            return None
        order = _order_for_send(message.order_id)
        notification = message.notification
        reason = "The notification was deleted." if notification is None else _still_holds(message, order)
        if reason is None and notification is not None and not notification.active:
            reason = "The notification is switched off."
        if reason is not None or order is None or notification is None:
            _finish(message, MessageStatus.SKIPPED, reason or "")
            return None
        message.recipient = _recipient(notification, order, message.condition or {})
        if not message.recipient:
            _finish(message, MessageStatus.SKIPPED, "Nobody to send it to (no address).")
            return None
        if _opted_out(message, order):
            _finish(message, MessageStatus.SKIPPED, "The customer opted out.")
            return None
        try:
            language, subject, body = render_message(
                notification, order, language=_language(notification, order), condition=message.condition or {}
            )
        except templating.TemplateProblem as exc:
            _finish(message, MessageStatus.FAILED, str(exc))
            return None
        message.language, message.subject, message.body = language, subject[:500], body
        message.status = MessageStatus.SENDING
        message.attempts += 1
        message.locked_until = now + timedelta(seconds=settings.NOTIFY_LEASE_SECONDS)
        message.save(
            update_fields=[
                "status",
                "attempts",
                "locked_until",
                "recipient",
                "language",
                "subject",
                "body",
                "updated_at",
            ]
        )
        out = channels.Outgoing(
            message_id=str(message.pk),
            channel=message.channel,
            recipient=message.recipient,
            subject=message.subject,
            body=body,
            opt_out_url=opt_out_url(order) if message.channel == Channel.CUSTOMER_EMAIL else "",
            reply_to=order.organization.email if message.channel == Channel.CUSTOMER_EMAIL else "",
            method=notification.webhook_method,
            headers=dict(notification.webhook_headers or {}),
        )
        if notification.attach_ics and message.channel in (
            Channel.CUSTOMER_EMAIL,
            Channel.PARTNER_EMAIL,
            Channel.ROUTER_EMAIL,
        ):
            from notifications.ics import booking_ics

            ics = booking_ics(order, language=language)
            if ics is not None:
                out.attachments.append(("booking.ics", ics, "text/calendar"))
    return message, out


def _record(message: Message, *, provider_id: str = "", error: SendError | None = None) -> str:
    now = timezone.now()
    number = message.attempts
    with transaction.atomic():
        current = Message.objects.select_for_update(of=("self",)).filter(pk=message.pk).first()
        if current is None or current.status != MessageStatus.SENDING or current.attempts != number:
            return "taken over"  # the lease ran out and the sweep decided meanwhile
        current.locked_until = None
        if error is None:
            current.status, current.sent_at, current.provider_id, current.error = (
                MessageStatus.SENT,
                now,
                provider_id[:200],
                "",
            )
        elif error.retry and number < settings.NOTIFY_MAX_ATTEMPTS:
            current.status = MessageStatus.PLANNED
            current.due_at = now + timedelta(seconds=retry_delay(number))
            current.error = str(error)[:2000]
            _enqueue([(current.pk, current.due_at)])
        else:
            current.status, current.error = MessageStatus.FAILED, str(error)[:2000]
        current.save(
            update_fields=["status", "sent_at", "provider_id", "error", "due_at", "locked_until", "updated_at"]
        )
    return current.status


def message_send(*, message_id: Any) -> str:
    """Sends one due planned message once (see the module's guarantees). Returns what happened."""
    claimed = _claim(message_id, timezone.now())
    if claimed is None:
        return "not sent"
    message, out = claimed
    try:
        with translation.override(message.language):  # the footer, the .ics
            provider_id = channels.send(out)
    except SendError as exc:
        return _record(message, error=exc)
    except Exception as exc:  # a bug in a backend must not leave the row in flight
        logger.exception("message %s failed to send", message.pk)
        return _record(message, error=SendError(f"{type(exc).__name__}: {exc}"))
    return _record(message, provider_id=provider_id)


def message_requeue_early(*, message_id: Any) -> bool:
    """Queues the send of a planned message again for its due time if that is still ahead (its
    task started early). Returns whether it did."""
    due_at = (
        Message.objects.filter(pk=message_id, status=MessageStatus.PLANNED, due_at__gt=timezone.now())
        .values_list("due_at", flat=True)
        .first()
    )
    if due_at is None:
        return False
    _enqueue([(message_id, due_at)])
    return True


# --- The sweep --------------------------------------------------------------------------------


def messages_sweep(*, now: datetime | None = None, limit: int = 1000) -> dict[str, int]:
    """Messages whose worker died mid-send (lease passed) are sent again when their channel
    accepts an idempotency key, else marked failed_unknown; planned messages due for longer
    than NOTIFY_SWEEP_GRACE_SECONDS (their task was lost) are enqueued again."""
    now = now or timezone.now()
    retried: list[Any] = []
    unknown = 0
    with transaction.atomic():
        stale = list(
            Message.objects.select_for_update(skip_locked=True, of=("self",)).filter(
                status=MessageStatus.SENDING, locked_until__lt=now
            )[:limit]
        )
        for message in stale:
            message.locked_until = None
            if channels.accepts_idempotency_key(message.channel) and message.attempts < settings.NOTIFY_MAX_ATTEMPTS:
                message.status, message.due_at = MessageStatus.PLANNED, now
                message.error = "The worker stopped during this attempt; sending again with the same idempotency key."
                retried.append(message.pk)
            else:
                message.status = MessageStatus.FAILED_UNKNOWN
                message.error = (
                    "The worker stopped during the send: it may or may not have gone out, and this channel "
                    "cannot tell a repeat from a new message, so it is not sent again."
                )
                unknown += 1
            message.save(update_fields=["status", "due_at", "error", "locked_until", "updated_at"])
    grace = timedelta(seconds=settings.NOTIFY_SWEEP_GRACE_SECONDS)
    due = list(
        Message.objects.filter(status=MessageStatus.PLANNED, due_at__lte=now - grace)
        .order_by("due_at")
        .values_list("pk", flat=True)[:limit]
    )
    from notifications.tasks import send_message

    for pk in [*retried, *due]:
        send_message.enqueue(str(pk))
    return {"retried": len(retried), "failed_unknown": unknown, "enqueued": len(retried) + len(due)}


def sweep_schedule() -> bool:
    """Enqueues the self-rescheduling sweep task unless one is waiting (as the webhooks' sweep)."""
    from notifications import tasks

    run_after = timezone.now() + timedelta(seconds=settings.NOTIFY_SWEEP_INTERVAL_SECONDS)
    return schedule_once(tasks.sweep, run_after=run_after)


def sweep_on_worker_start(**kwargs: Any) -> None:
    """Receiver of `installer.tasks.worker_started`: one sweep pass and the periodic sweep."""
    messages_sweep()
    sweep_schedule()


# --- Opt-out ----------------------------------------------------------------------------------


def opt_out(*, order: Order) -> list[str]:
    """Records that the order's customer wants no more email or SMS from its organization
    (their email and phone), and skips their planned customer messages. Idempotent. Returns
    the addresses recorded."""
    addresses = [a for a in (_address_key(order.email), _address_key(order.phone_number)) if a]
    with transaction.atomic():
        for address in addresses:
            OptOut.objects.get_or_create(
                organization_id=order.organization_id, address=address, defaults={"order": order}
            )
        Message.objects.filter(
            organization_id=order.organization_id,
            status=MessageStatus.PLANNED,
            channel__in=CUSTOMER_CHANNELS,
            recipient__in=[order.email, order.phone_number],
        ).update(status=MessageStatus.SKIPPED, error="The customer opted out.", updated_at=timezone.now())
    return addresses


def opted_out(*, order: Order) -> bool:
    addresses = [a for a in (_address_key(order.email), _address_key(order.phone_number)) if a]
    return OptOut.objects.filter(organization_id=order.organization_id, address__in=addresses).exists()


def step_of(workflow: Workflow, key: str | None) -> WorkflowStep | None:
    if not key:
        return None
    return WorkflowStep.objects.filter(workflow=workflow, key=key).first()
