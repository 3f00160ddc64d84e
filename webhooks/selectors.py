"""Reads: endpoints of an organization, the delivery log, and the wire shape of an endpoint."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from orders.models import Organization
from orders.selectors import parse_uuid
from webhooks.models import WebhookDelivery, WebhookEndpoint


def endpoints_of(organization: Organization) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(organization=organization)


def endpoint_get(organization: Organization, endpoint_id: Any) -> WebhookEndpoint | None:
    pk = parse_uuid(endpoint_id)
    return endpoints_of(organization).filter(pk=pk).first() if pk is not None else None


def deliveries_of(endpoint: WebhookEndpoint) -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.filter(endpoint=endpoint).select_related("event")


def endpoint_to_dict(endpoint: WebhookEndpoint, *, secret: str | None = None) -> dict:
    """The endpoint on the wire. The secret only when just created or rotated (`secret`)."""
    data = {
        "id": endpoint.id,
        "url": endpoint.url,
        "description": endpoint.description,
        "events": endpoint.events,
        "active": endpoint.active,
        "disabledReason": endpoint.disabled_reason or None,
        "failingSince": endpoint.failing_since,
        "secretRotatedAt": endpoint.rotated_at,
        "createdAt": endpoint.created_at,
        "updatedAt": endpoint.updated_at,
    }
    if secret is not None:
        data["secret"] = secret
    return data


def delivery_to_dict(delivery: WebhookDelivery) -> dict:
    return {
        "id": delivery.id,
        "eventId": delivery.event_id,
        "event": delivery.event_type,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "nextAttemptAt": delivery.next_attempt_at,
        "lastStatusCode": delivery.last_status_code,
        "lastError": delivery.last_error or None,
        "deliveredAt": delivery.delivered_at,
        "createdAt": delivery.created_at,
    }
