"""Webhook endpoints and the delivery outbox.

A WebhookDelivery row is written in the transaction of the change whose OrderEvent it sends
(orders.hooks.events_recorded), so a rolled-back change sends nothing. The row, not the task
that carries it, is the source of truth: a lost task is re-enqueued by the sweep.
"""

from __future__ import annotations

import base64
import secrets
import uuid

from django.db import models, transaction

from accounts.models import Organization
from orders.models import OrderEvent

SECRET_PREFIX = "whsec_"

# API.md "Webhooks": the events an endpoint may subscribe to. Timeline events of other types
# (tags added, ...) stay in the timeline only.
WEBHOOK_EVENTS: tuple[str, ...] = (
    "order.created",
    "order.updated",
    "order.dispatched",
    "order.assigned",
    "order.assignee_changed",
    "order.declined",
    "order.started",
    "order.completed",
    "order.cancelled",
    "order.deleted",
    "booking.created",
    "booking.updated",
    "booking.cancelled",
    "workflow.step.activated",
    "workflow.step.completed",
    # The customer's portal (docs/customers.md): requests and notes for the operator and installer.
    "customer.reschedule_requested",
    "customer.cancel_requested",
    "customer.note_added",
    # Invoicing (docs/invoicing.md): an order marked invoiced, a credit note issued.
    "order.invoiced",
    "order.credited",
    # Priced work (docs/money.md): the body carries the quote (`quote`) beside the order.
    "quote.sent",
    "quote.accepted",
    "quote.rejected",
)
TEST_EVENT = "webhook.test"


def generate_secret() -> str:
    """`whsec_` + base64 of 24 random bytes (Standard Webhooks secret format)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode()


class WebhookEndpoint(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="webhook_endpoints")
    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=200, blank=True)
    events = models.JSONField(default=list, blank=True, help_text="Event types to send; empty = all.")
    secret = models.CharField(max_length=100, editable=False)
    # During a rotation the previous secret signs too, until rotated_at + the rotation window.
    previous_secret = models.CharField(max_length=100, blank=True, editable=False)
    rotated_at = models.DateTimeField(null=True, blank=True, editable=False)
    active = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    failing_since = models.DateTimeField(
        null=True, blank=True, help_text="First failed attempt since the last success."
    )
    deferred_until = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="An attempt timed out: the endpoint's deliveries wait until then, so a slow "
        "receiver holds a worker for one attempt at a time, not one per queued delivery.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["organization", "created_at"], name="webhook_endpoint_org_idx")]

    def __str__(self) -> str:
        return self.url

    # `Organization.has_webhook_endpoints` is kept here, in the transaction of the change, for
    # every way an endpoint is saved or deleted one by one (services, admin, tests). A bulk
    # queryset delete leaves the flag set, which only costs the outbox hook its query.
    def save(self, *args, **kwargs):
        with transaction.atomic(savepoint=False):
            super().save(*args, **kwargs)
            # A saved endpoint exists, so the flag is true. Always written: it takes the
            # organization row lock that the recount in delete() waits for.
            Organization.objects.filter(pk=self.organization_id).update(has_webhook_endpoints=True)

    def delete(self, *args, **kwargs):
        organization_id = self.organization_id
        with transaction.atomic(savepoint=False):
            result = super().delete(*args, **kwargs)
            # Under the organization's row lock: a concurrent create is seen, or flags after us.
            Organization.objects.select_for_update().filter(pk=organization_id).values_list("pk").first()
            exists = WebhookEndpoint.objects.filter(organization_id=organization_id).exists()
            Organization.objects.filter(pk=organization_id).update(has_webhook_endpoints=exists)
        return result

    def subscribes_to(self, event_type: str) -> bool:
        return not self.events or event_type in self.events


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERING = "delivering", "Delivering"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"


class WebhookDelivery(models.Model):
    """One event for one endpoint. `event` is null only for `webhook.test` deliveries."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(OrderEvent, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    event_type = models.CharField(max_length=64)
    # The body's `data`: the order object as the endpoint's organization saw it when the event
    # was written (in the change's transaction), the same on every attempt. Null for a test
    # delivery, and for a row written without one: its attempts send the order as it is then.
    data = models.JSONField(null=True, blank=True, editable=False)
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # While an attempt is in flight: a worker that dies leaves the row `delivering` until this
    # passes, then the sweep puts it back to pending.
    locked_until = models.DateTimeField(null=True, blank=True)
    # Retries continue until this + WEBHOOK_RETRY_WINDOW_SECONDS; "send again" restarts it.
    window_started_at = models.DateTimeField()
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "event"], condition=models.Q(event__isnull=False), name="webhook_delivery_once"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=DeliveryStatus.values), name="webhook_delivery_status_valid"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due_idx"),
            models.Index(fields=["endpoint", "status"], name="webhook_delivery_endpoint_idx"),
            models.Index(fields=["endpoint", "created_at"], name="webhook_delivery_log_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.endpoint_id} ({self.status})"

    @property
    def message_id(self) -> str:
        """The `webhook-id`: the event id (the same on every retry); a test delivery's own id."""
        return str(self.event_id or self.id)


class DeliveryAttempt(models.Model):
    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="attempts_log")
    number = models.PositiveSmallIntegerField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_excerpt = models.TextField(blank=True, help_text="The first 2 KB of the response body.")
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["delivery", "number", "id"]

    def __str__(self) -> str:
        return f"attempt {self.number}: {self.status_code or self.error[:40]}"

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300
