"""Endpoints: create, update, delete, rotate the signing secret."""

from __future__ import annotations

import urllib.parse
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import Organization
from webhooks import egress
from webhooks.exceptions import InvalidEndpoint
from webhooks.models import WEBHOOK_EVENTS, DeliveryStatus, WebhookDelivery, WebhookEndpoint, generate_secret
from webhooks.services.outbox import _enqueue_many


def clean_url(url: Any) -> str:
    """The endpoint URL, stripped: http(s), at most 2000 characters, a host that may be reached
    (`webhooks.egress.check_url_host`). Raises InvalidEndpoint otherwise."""
    if not isinstance(url, str) or not url.strip():
        raise InvalidEndpoint("url: This field is required.", details={"url": ["This field is required."]})
    url = url.strip()
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidEndpoint("url: Must be an http(s) URL.", details={"url": ["Must be an http:// or https:// URL."]})
    refused = egress.check_url_host(parts.hostname)
    if refused:
        raise InvalidEndpoint(f"url: {refused}", details={"url": [refused]})
    if len(url) > 2000:
        raise InvalidEndpoint("url: At most 2000 characters.", details={"url": ["At most 2000 characters."]})
    return url


def clean_events(events: Any) -> list[str]:
    """A list of API.md event names, de-duplicated; empty means every event."""
    if events is None:
        return []
    if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
        raise InvalidEndpoint(
            "events: Must be a list of event names.", details={"events": ["Must be a list of strings."]}
        )
    unknown = [e for e in events if e not in WEBHOOK_EVENTS]
    if unknown:
        message = f"Unknown event(s): {', '.join(unknown)}. Known: {', '.join(WEBHOOK_EVENTS)}."
        raise InvalidEndpoint(f"events: {message}", details={"events": [message]})
    return list(dict.fromkeys(events))


def endpoint_create(
    *,
    organization: Organization,
    url: str,
    events: Sequence[str] | None = None,
    active: bool = True,
    description: str = "",
) -> tuple[WebhookEndpoint, str]:
    """Creates an endpoint; returns it with its secret, which the API shows only this once."""
    secret = generate_secret()
    endpoint = WebhookEndpoint.objects.create(
        organization=organization,
        url=clean_url(url),
        events=clean_events(list(events) if events is not None else []),
        active=bool(active),
        description=(description or "")[:200],
        secret=secret,
    )
    return endpoint, secret


def endpoint_update(*, endpoint: WebhookEndpoint, **fields: Any) -> WebhookEndpoint:
    """Partial update of url, events, description and active. Re-activating clears the failure
    state and sends what waited meanwhile."""
    reactivated = False
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        if "url" in fields:
            endpoint.url = clean_url(fields["url"])
        if "events" in fields:
            endpoint.events = clean_events(fields["events"])
        if "description" in fields:
            endpoint.description = (fields["description"] or "")[:200]
        if "active" in fields:
            active = bool(fields["active"])
            reactivated = active and not endpoint.active
            endpoint.active = active
            if active:
                endpoint.disabled_reason = ""
                endpoint.failing_since = None
            elif not endpoint.disabled_reason:
                endpoint.disabled_reason = "Disabled by a user."
        endpoint.save()
        if reactivated:
            due = list(
                WebhookDelivery.objects.filter(endpoint=endpoint, status=DeliveryStatus.PENDING).values_list(
                    "pk", flat=True
                )
            )
            transaction.on_commit(lambda: _enqueue_many(due), robust=True)
    return endpoint


def endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    """Deletes the endpoint and its delivery log."""
    endpoint.delete()


def endpoint_rotate_secret(*, endpoint: WebhookEndpoint) -> tuple[WebhookEndpoint, str]:
    """A new secret signs from now on; the previous one keeps signing beside it for
    WEBHOOK_ROTATION_WINDOW_SECONDS so receivers can switch without losing a delivery."""
    with transaction.atomic():
        endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        secret = generate_secret()
        endpoint.previous_secret = endpoint.secret
        endpoint.secret = secret
        endpoint.rotated_at = timezone.now()
        endpoint.save(update_fields=["previous_secret", "secret", "rotated_at", "updated_at"])
    return endpoint, secret
