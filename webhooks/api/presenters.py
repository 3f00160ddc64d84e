"""The wire shape of an endpoint and of a delivery (API.md "Webhooks")."""

from __future__ import annotations

from typing import Any

from webhooks.models import WebhookDelivery, WebhookEndpoint


def endpoint_to_dict(endpoint: WebhookEndpoint, *, secret: str | None = None) -> dict[str, Any]:
    """The endpoint on the wire. The secret only when just created or rotated (`secret`)."""
    data: dict[str, Any] = {
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


def delivery_to_dict(delivery: WebhookDelivery) -> dict[str, Any]:
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
