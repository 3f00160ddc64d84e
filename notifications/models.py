"""Notification rules of a workflow, and the messages they send.

A `Notification` says when (trigger + timing), how (channel) and what (a template per
language). Each time its trigger fires for an order, one `Message` row is planned in the
transaction of the change; the row, not the task that sends it, is the source of truth.
`(notification, order, occurrence_key)` is unique, so a trigger that fires again for the same
occurrence (the same event replayed, a retry, a worker crash) never plans a second message.
"""

from __future__ import annotations

import uuid

from django.db import models

from accounts.models import Language, Organization
from orders.models import Order, OrderEvent, Workflow, WorkflowStep

# The order events a notification may be triggered by (docs/notifications.md). The two step
# events need a step: the rule fires when that step is activated or completed.
STEP_EVENTS = ("workflow.step.activated", "workflow.step.completed")
BOOKING_EVENTS = ("booking.created", "booking.updated")
OFFER_EVENTS = ("offer.sent", "offer.expired", "offer.declined")
# What the customer asks on their order page: each request fires its rules once.
CUSTOMER_EVENTS = ("customer.reschedule_requested", "customer.cancel_requested", "customer.note_added")
# Priced work (pricing): a quote sent to the customer, accepted or rejected; each fires its rules
# once per quote.
QUOTE_EVENTS = ("quote.sent", "quote.accepted", "quote.rejected")
TRIGGER_EVENTS: tuple[str, ...] = (
    "order.created",
    "order.dispatched",
    "order.assigned",
    "order.declined",
    "order.started",
    "order.completed",
    "order.cancelled",
    "booking.created",
    "booking.updated",
    "booking.cancelled",
    "offer.sent",
    "offer.expired",
    "offer.declined",
    *STEP_EVENTS,
    *CUSTOMER_EVENTS,
    *QUOTE_EVENTS,
)


class Channel(models.TextChoices):
    CUSTOMER_EMAIL = "customer_email", "Email to the customer"
    CUSTOMER_SMS = "customer_sms", "SMS to the customer"
    PARTNER_EMAIL = "partner_email", "Email to the partner"
    ROUTER_EMAIL = "router_email", "Email to the organization (its address)"
    WEBHOOK = "webhook", "Webhook"


CUSTOMER_CHANNELS = (Channel.CUSTOMER_EMAIL, Channel.CUSTOMER_SMS)


class Timing(models.TextChoices):
    ON_CHANGE = "on_change", "On the change"
    AFTER = "after", "N hours/days after the change"
    BEFORE_BOOKING = "before_booking", "N hours/days before the booking's start"


class OffsetUnit(models.TextChoices):
    HOURS = "hours", "Hours"
    DAYS = "days", "Days"


class WebhookMethod(models.TextChoices):
    POST = "POST", "POST"
    PUT = "PUT", "PUT"
    PATCH = "PATCH", "PATCH"


class Notification(models.Model):
    """One rule of a workflow. `templates` is {"en": {"subject", "body"}, "nb": {...}}; a
    message goes out in the order's language, else English, else the first one given."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="notifications")
    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="notifications")
    name = models.CharField(max_length=200)
    active = models.BooleanField(default=True)
    trigger_event = models.CharField(max_length=64, choices=[(e, e) for e in TRIGGER_EVENTS])
    step = models.ForeignKey(
        WorkflowStep,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
        help_text="For the step events: the step whose activation or completion fires the rule.",
    )
    timing = models.CharField(max_length=16, choices=Timing.choices, default=Timing.ON_CHANGE)
    offset_value = models.PositiveIntegerField(default=0, help_text="N of 'N hours/days after' or 'before'.")
    offset_unit = models.CharField(max_length=8, choices=OffsetUnit.choices, default=OffsetUnit.HOURS)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    webhook_url = models.URLField(max_length=2000, blank=True)
    webhook_method = models.CharField(max_length=8, choices=WebhookMethod.choices, default=WebhookMethod.POST)
    webhook_headers = models.JSONField(default=dict, blank=True, help_text='{"Header-Name": "value"}')
    templates = models.JSONField(default=dict, blank=True, help_text='{"en": {"subject": "", "body": ""}, "nb": ...}')
    attach_ics = models.BooleanField(default=False, help_text="Attach the booking as an .ics file (email).")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["workflow", "name", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(channel__in=Channel.values), name="notification_channel_valid"),
            models.CheckConstraint(condition=models.Q(timing__in=Timing.values), name="notification_timing_valid"),
        ]
        indexes = [
            models.Index(fields=["workflow", "trigger_event"], name="notif_workflow_event_idx"),
            models.Index(fields=["organization", "workflow", "created_at"], name="notif_org_wf_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class MessageStatus(models.TextChoices):
    PLANNED = "planned", "Planned"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    SKIPPED = "skipped", "Skipped"
    FAILED = "failed", "Failed"
    # A send was cut off (the worker died) on a channel that cannot tell a repeat from a new
    # message: it may or may not have gone out, and is not sent again (docs/notifications.md).
    FAILED_UNKNOWN = "failed_unknown", "Failed (outcome unknown)"


class Message(models.Model):
    """One message of an order: planned with its due time, then sent, skipped or failed."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="messages")
    notification = models.ForeignKey(
        Notification, on_delete=models.SET_NULL, null=True, blank=True, related_name="messages"
    )
    event = models.ForeignKey(OrderEvent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # What makes this firing of the rule one occurrence (docs/notifications.md).
    occurrence_key = models.CharField(max_length=200)
    # What the send re-checks: {"bookingStart": iso, "stepKey": ..., "offerId": ..., "status": n}.
    condition = models.JSONField(default=dict, blank=True)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    recipient = models.CharField(max_length=2000, blank=True)
    language = models.CharField(max_length=8, choices=Language.choices, default=Language.EN)
    subject = models.CharField(max_length=500, blank=True)
    body = models.TextField(blank=True)
    status = models.CharField(max_length=16, choices=MessageStatus.choices, default=MessageStatus.PLANNED)
    due_at = models.DateTimeField()
    locked_until = models.DateTimeField(null=True, blank=True)
    provider_id = models.CharField(max_length=200, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["order", "created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["notification", "order", "occurrence_key"],
                condition=models.Q(notification__isnull=False),
                name="message_one_per_occurrence",
            ),
            models.CheckConstraint(condition=models.Q(status__in=MessageStatus.values), name="message_status_valid"),
        ]
        indexes = [
            # The sweep: planned rows past due, and sending rows whose lease ran out.
            models.Index(fields=["status", "due_at"], name="message_status_due_idx"),
            models.Index(fields=["order", "created_at"], name="message_order_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} to {self.recipient or '-'} ({self.status})"


class OptOut(models.Model):
    """A customer's address (email or phone) that asked for no more messages from an
    organization. Customer email and SMS to it are skipped afterwards."""

    id = models.BigAutoField(primary_key=True)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    address = models.CharField(max_length=254, help_text="An email address (lower case) or an E.164 number.")
    order = models.ForeignKey(Order, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organization", "address"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "address"], name="opt_out_unique_per_org"),
        ]

    def __str__(self) -> str:
        return self.address
