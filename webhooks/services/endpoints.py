"""Endpoints: create, update, delete, rotate the signing secret."""

from __future__ import annotations

import ipaddress
import re
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

# A host name as a delivery resolves it: dot-separated labels of letters, digits, hyphens and
# underscores, at most 63 characters each.
_LABEL = re.compile(r"[A-Za-z0-9_-]{1,63}")


def _invalid_url(message: str) -> InvalidEndpoint:
    return InvalidEndpoint(f"url: {message}", details={"url": [message]})


def _valid_host(hostname: str) -> bool:
    """Whether a delivery can connect to `hostname` (urlsplit's: lower-cased, ASCII, without
    brackets): an IP address, or a name of valid labels whose last label is not all digits."""
    try:
        ipaddress.ip_address(hostname)
        return True
    except ValueError:
        pass
    name = hostname[:-1] if hostname.endswith(".") else hostname
    labels = name.split(".")
    if len(name) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        return False
    return not labels[-1].isdigit()  # "999.1.1.1" is neither an address nor a name


def _non_ascii_message(hostname: str) -> str:
    try:
        idna = hostname.encode("idna").decode("ascii")
    except UnicodeError:
        return "Must be ASCII: the host has no IDNA form, and other parts must be percent-encoded."
    if idna != hostname:
        return f"Must be ASCII: give the host in its IDNA form ({idna}) and percent-encode other parts."
    return "Must be ASCII: percent-encode the path and query."


def clean_url(url: Any) -> str:
    """The endpoint URL, stripped, if a delivery can be made to it: http(s), at most 2000
    characters, ASCII (an internationalized host in its IDNA form), a valid host and a port of
    1-65535, no user name or password (a delivery sends none), and a host that may be reached
    (`webhooks.egress.check_url_host`). Raises InvalidEndpoint otherwise."""
    if not isinstance(url, str) or not url.strip():
        raise _invalid_url("This field is required.")
    url = url.strip()
    if len(url) > 2000:
        raise _invalid_url("At most 2000 characters.")
    try:
        parts = urllib.parse.urlsplit(url)
        hostname = parts.hostname
        port = parts.port
    except ValueError:  # an unclosed or invalid [IPv6] host, a port that is not 0-65535
        raise _invalid_url("Must be a valid http:// or https:// URL with a valid host and port.") from None
    if parts.scheme not in ("http", "https") or not hostname:
        raise _invalid_url("Must be an http:// or https:// URL.")
    if not url.isascii():
        raise _invalid_url(_non_ascii_message(hostname))
    if any(ch.isspace() or not ch.isprintable() for ch in url):
        raise _invalid_url("Must not contain spaces or control characters.")
    if parts.username is not None or parts.password is not None:
        raise _invalid_url("Must not contain a user name or password.")
    if port == 0:
        raise _invalid_url("The port must be between 1 and 65535.")
    if not _valid_host(hostname):
        raise _invalid_url("The host is not a valid host name or IP address.")
    refused = egress.check_url_host(hostname)
    if refused:
        raise _invalid_url(refused)
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
    """Deletes the endpoint and its delivery log, also while a worker is attempting one of its
    deliveries. The delivery rows are locked first, in the order a worker takes its locks (its
    delivery, then the endpoint): an attempt being recorded finishes before the log is
    collected, and one recorded later finds its row gone (`webhooks.services.delivery`)."""
    with transaction.atomic():
        list(WebhookDelivery.objects.select_for_update().filter(endpoint_id=endpoint.pk).values_list("pk", flat=True))
        current = WebhookEndpoint.objects.filter(pk=endpoint.pk).first()
        if current is not None:
            current.delete()


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
