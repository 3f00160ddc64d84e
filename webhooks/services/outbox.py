"""The outbox: delivery rows written with the change whose events they send, and their tasks."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import Organization, Role
from installer.api.renderers import dumps
from orders import selectors as order_selectors
from orders.api.presenters import order_to_dict
from orders.models import Order, OrderEvent
from webhooks.models import TEST_EVENT, WEBHOOK_EVENTS, DeliveryStatus, WebhookDelivery, WebhookEndpoint

# A delivery in these states is owed: it waits for an attempt or one is in flight.
WAITING = (DeliveryStatus.PENDING, DeliveryStatus.DELIVERING)


def order_snapshot(order_id: Any, organization: Organization) -> dict[str, Any] | None:
    """The order object (API.md) as a viewer of `organization` sees it now, as plain JSON
    values (what the body's `data` holds), or None when the order is gone. A deleted order still
    reads (`all_objects`): `order.deleted` carries the order it deleted."""
    order = order_selectors.with_order_relations(Order.all_objects.filter(pk=order_id)).first()
    if order is None:
        return None
    viewer = order_selectors.Viewer(organization=organization, role=Role.VIEWER)
    return json.loads(dumps(order_to_dict(order, viewer)))


def deliveries_queue_for_events(events: Sequence[OrderEvent]) -> list[WebhookDelivery]:
    """`orders.hooks.events_recorded`: one delivery per (event, subscribed active
    endpoint), written in the caller's transaction; their first tasks go out on commit.

    Each row keeps the order as the change leaves it (`order_snapshot`), so a late delivery
    still tells what happened then: built once per order and organization of the change (not
    per event or endpoint), and only when some endpoint is subscribed.
    No query when the organization has no endpoint (`Organization.has_webhook_endpoints`, read in
    the change's transaction by `lock_order` / `order_create`), one when none is subscribed."""
    sendable = [e for e in events if e.type in WEBHOOK_EVENTS]
    if not sendable:
        return []
    if not _may_have_endpoints(sendable):
        return []
    org_ids = {e.organization_id for e in sendable}
    endpoints = list(
        WebhookEndpoint.objects.filter(organization_id__in=org_ids, active=True).select_related("organization")
    )
    if not endpoints:
        return []
    now = timezone.now()
    deliveries = [
        WebhookDelivery(
            endpoint=endpoint,
            event=event,
            event_type=event.type,
            next_attempt_at=now,
            window_started_at=now,
        )
        for event in sendable
        for endpoint in endpoints
        if endpoint.organization_id == event.organization_id and endpoint.subscribes_to(event.type)
    ]
    if not deliveries:
        return []
    snapshots: dict[tuple[Any, Any], dict[str, Any] | None] = {}
    for delivery in deliveries:
        assert delivery.event is not None  # every delivery above has its event
        key = (delivery.event.order_id, delivery.endpoint.organization_id)
        if key not in snapshots:
            snapshots[key] = order_snapshot(delivery.event.order_id, delivery.endpoint.organization)
        delivery.data = snapshots[key]
    WebhookDelivery.objects.bulk_create(deliveries)
    # Only the first delivery per (endpoint, order) gets a task now; each completed delivery
    # enqueues the next one of its order, which keeps per-order order without idle tasks.
    first: dict[tuple[Any, Any], tuple[int, WebhookDelivery]] = {}
    for delivery in deliveries:
        event = delivery.event
        assert event is not None  # every delivery above has its event
        key = (delivery.endpoint_id, event.order_id)
        if key not in first or event.sequence < first[key][0]:
            first[key] = (event.sequence, delivery)
    ids = [d.pk for _, d in first.values()]
    transaction.on_commit(lambda: _enqueue_many(ids), robust=True)
    return deliveries


def _may_have_endpoints(events: Sequence[OrderEvent]) -> bool:
    """False only when every event's organization is loaded on its order (by `lock_order` or
    `order_create`, inside the change's transaction) and has no webhook endpoint."""
    for event in events:
        if not OrderEvent.order.is_cached(event):
            return True
        order = event.order
        if not Order.organization.is_cached(order) or order.organization.pk != event.organization_id:
            return True
        if order.organization.has_webhook_endpoints:
            return True
    return False


def delivery_send_test(*, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """Queues a `webhook.test` delivery to the endpoint (like every delivery, it waits while the
    endpoint is disabled)."""
    now = timezone.now()
    with transaction.atomic():
        delivery = WebhookDelivery.objects.create(
            endpoint=endpoint, event=None, event_type=TEST_EVENT, next_attempt_at=now, window_started_at=now
        )
        transaction.on_commit(lambda: _enqueue_many([delivery.pk]), robust=True)
    return delivery


def delivery_send_again(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Sends a finished (succeeded or failed) delivery again, with a fresh retry window and the
    same `webhook-id`. A delivery still pending or in flight is left alone."""
    now = timezone.now()
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
        if delivery.status in WAITING:
            return delivery
        delivery.status = DeliveryStatus.PENDING
        delivery.next_attempt_at = now
        delivery.window_started_at = now
        delivery.save(update_fields=["status", "next_attempt_at", "window_started_at"])
        transaction.on_commit(lambda: _enqueue_many([delivery.pk]), robust=True)
    return delivery


def _enqueue_many(delivery_ids: Iterable[uuid.UUID], run_after: datetime | None = None) -> int:
    """Enqueues one attempt task per delivery (not before `run_after`); returns how many. Without
    a backend that can defer, a later attempt is left to the sweep."""
    from webhooks import tasks  # tasks imports this package

    task = tasks.deliver
    if run_after is not None:
        if not task.get_backend().supports_defer:
            return 0  # the sweep sends it when it is due
        task = task.using(run_after=run_after)
    count = 0
    for pk in delivery_ids:
        task.enqueue(str(pk))
        count += 1
    return count
