"""Every write of the webhooks app: endpoints, the outbox, delivery attempts and the sweep.

Guarantees:
- A delivery row is written in the transaction of the change that wrote its OrderEvent
  (`deliveries_queue_for_events`, the `orders.hooks.events_recorded` hook): rolled back together.
- An attempt is claimed under the delivery's row lock (SKIP LOCKED on PostgreSQL) and moves the
  row pending -> delivering in a short transaction before the POST, so two workers never send
  the same attempt. The POST runs outside any transaction; the result is recorded in a second
  short transaction. A worker that dies in between leaves the row `delivering` until
  `locked_until`; the sweep then puts it back to pending (at least once: the receiver may see
  the same `webhook-id` twice).
- The delivery row, not the task, is the source of truth: the sweep re-enqueues any due
  pending row, so a lost task delays a delivery but never loses it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import logging
import random
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from installer.api.exceptions import BadRequest
from installer.api.renderers import dumps
from orders import selectors as order_selectors
from orders.api.presenters import order_to_dict
from orders.models import Order, OrderEvent, Organization, Role
from webhooks import egress
from webhooks.models import (
    SECRET_PREFIX,
    TEST_EVENT,
    WEBHOOK_EVENTS,
    DeliveryAttempt,
    DeliveryStatus,
    WebhookDelivery,
    WebhookEndpoint,
    generate_secret,
)

logger = logging.getLogger("installer.webhooks")

DEFAULTS: dict[str, int] = {
    "WEBHOOK_TIMEOUT_SECONDS": 5,
    "WEBHOOK_RETRY_BASE_SECONDS": 60,
    "WEBHOOK_RETRY_MAX_DELAY_SECONDS": 6 * 3600,
    "WEBHOOK_RETRY_WINDOW_SECONDS": 24 * 3600,
    "WEBHOOK_DISABLE_AFTER_SECONDS": 3 * 24 * 3600,
    "WEBHOOK_ROTATION_WINDOW_SECONDS": 24 * 3600,
    "WEBHOOK_LEASE_SECONDS": 60,
    "WEBHOOK_SWEEP_INTERVAL_SECONDS": 60,
    "WEBHOOK_SWEEP_GRACE_SECONDS": 120,
    "WEBHOOK_ORDERING_HOLD_SECONDS": 600,
}
EXCERPT_BYTES = 2048
WAITING = (DeliveryStatus.PENDING, DeliveryStatus.DELIVERING)


def setting(name: str) -> float:
    return getattr(settings, name, DEFAULTS[name])


# --------------------------------------------------------------------------------------------
# Endpoints
# --------------------------------------------------------------------------------------------


def clean_url(url: Any) -> str:
    if not isinstance(url, str) or not url.strip():
        raise BadRequest("url: This field is required.", details={"url": ["This field is required."]})
    url = url.strip()
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadRequest("url: Must be an http(s) URL.", details={"url": ["Must be an http:// or https:// URL."]})
    refused = egress.check_url_host(parts.hostname)
    if refused:
        raise BadRequest(f"url: {refused}", details={"url": [refused]})
    if len(url) > 2000:
        raise BadRequest("url: At most 2000 characters.", details={"url": ["At most 2000 characters."]})
    return url


def clean_events(events: Any) -> list[str]:
    """A list of API.md event names, de-duplicated; empty means every event."""
    if events is None:
        return []
    if not isinstance(events, list) or not all(isinstance(e, str) for e in events):
        raise BadRequest("events: Must be a list of event names.", details={"events": ["Must be a list of strings."]})
    unknown = [e for e in events if e not in WEBHOOK_EVENTS]
    if unknown:
        message = f"Unknown event(s): {', '.join(unknown)}. Known: {', '.join(WEBHOOK_EVENTS)}."
        raise BadRequest(f"events: {message}", details={"events": [message]})
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


# --------------------------------------------------------------------------------------------
# Signing (Standard Webhooks)
# --------------------------------------------------------------------------------------------


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`, keyed with the decoded secret."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signing_secrets(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    """The current secret, plus the previous one during a rotation window."""
    secrets_ = [endpoint.secret]
    window = timedelta(seconds=setting("WEBHOOK_ROTATION_WINDOW_SECONDS"))
    if endpoint.previous_secret and endpoint.rotated_at and now < endpoint.rotated_at + window:
        secrets_.append(endpoint.previous_secret)
    return secrets_


def signed_headers(endpoint: WebhookEndpoint, msg_id: str, body: bytes, now: datetime) -> dict[str, str]:
    timestamp = int(now.timestamp())
    signature = " ".join(sign(s, msg_id, timestamp, body) for s in signing_secrets(endpoint, now))
    return {
        "Content-Type": "application/json",
        "User-Agent": "Installer-Webhooks/1.0",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature,
    }


# --------------------------------------------------------------------------------------------
# The outbox
# --------------------------------------------------------------------------------------------


def deliveries_queue_for_events(events: Sequence[OrderEvent]) -> list[WebhookDelivery]:
    """`orders.hooks.events_recorded`: one delivery per (event, subscribed active
    endpoint), written in the caller's transaction; their first tasks go out on commit.
    No query when the organization has no endpoint (`Organization.has_webhook_endpoints`, read in
    the change's transaction by `lock_order` / `order_create`), two otherwise."""
    sendable = [e for e in events if e.type in WEBHOOK_EVENTS]
    if not sendable:
        return []
    if not _may_have_endpoints(sendable):
        return []
    org_ids = {e.organization_id for e in sendable}
    endpoints = list(WebhookEndpoint.objects.filter(organization_id__in=org_ids, active=True))
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
    from webhooks import tasks

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


# --------------------------------------------------------------------------------------------
# One attempt
# --------------------------------------------------------------------------------------------


@dataclass
class AttemptResult:
    status_code: int | None
    response_excerpt: str
    error: str
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def retry_delay(attempts: int) -> float:
    """Seconds before the next try after `attempts` failed ones: about 1 min doubling, capped,
    with +-15 % jitter so a recovering receiver is not hit by every retry at once."""
    base = setting("WEBHOOK_RETRY_BASE_SECONDS")
    delay = min(base * 2 ** max(attempts - 1, 0), setting("WEBHOOK_RETRY_MAX_DELAY_SECONDS"))
    return delay * random.uniform(0.85, 1.15)


def _waits_for_earlier(delivery: WebhookDelivery, now: datetime) -> bool:
    """Per-order ordering: an event waits while an earlier event of the same order is still
    undelivered at the same endpoint, for at most WEBHOOK_ORDERING_HOLD_SECONDS."""
    if delivery.event_id is None:
        return False
    if delivery.created_at < now - timedelta(seconds=setting("WEBHOOK_ORDERING_HOLD_SECONDS")):
        return False
    return WebhookDelivery.objects.filter(
        endpoint_id=delivery.endpoint_id,
        event__order_id=delivery.event.order_id,
        event__sequence__lt=delivery.event.sequence,
        status__in=WAITING,
    ).exists()


def _claim(delivery_id: Any, now: datetime) -> WebhookDelivery | None:
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("endpoint__organization", "event")
            .filter(pk=delivery_id)
            .first()
        )
        if (
            delivery is None  # unknown, or another worker holds it right now
            or delivery.status != DeliveryStatus.PENDING
            or (delivery.next_attempt_at is not None and delivery.next_attempt_at > now)
            or not delivery.endpoint.active
            or _waits_for_earlier(delivery, now)
        ):
            return None
        delivery.status = DeliveryStatus.DELIVERING
        delivery.attempts += 1
        delivery.locked_until = now + timedelta(seconds=setting("WEBHOOK_LEASE_SECONDS"))
        delivery.save(update_fields=["status", "attempts", "locked_until"])
    return delivery


def delivery_body(delivery: WebhookDelivery) -> bytes:
    """The JSON body: {id, event, timestamp, organizationId, sequence, data}. `data` is the order
    object as the owning organization's viewer sees it when the attempt is made."""
    organization = delivery.endpoint.organization
    event = delivery.event
    if event is None:
        payload = {
            "id": delivery.message_id,
            "event": delivery.event_type,
            "timestamp": delivery.created_at,
            "organizationId": organization.pk,
            "sequence": None,
            "data": {"endpointId": delivery.endpoint_id, "message": "A test event from Installer."},
        }
    else:
        order = order_selectors.with_order_relations(Order.objects.filter(pk=event.order_id)).first()
        viewer = order_selectors.Viewer(organization=organization, role=Role.VIEWER)
        payload = {
            "id": delivery.message_id,
            "event": delivery.event_type,
            "timestamp": event.created_at,
            "organizationId": organization.pk,
            "sequence": event.sequence,
            "data": order_to_dict(order, viewer) if order is not None else None,
        }
    return dumps(payload)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer like any other non-2xx: it is logged and retried, not followed."""

    def redirect_request(self, *args, **kwargs):
        return None


# Public addresses only, unless WEBHOOK_ALLOW_PRIVATE_TARGETS (webhooks.egress).
_opener = urllib.request.build_opener(_NoRedirects, egress.GuardedHTTPHandler, egress.GuardedHTTPSHandler)


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> AttemptResult:
    """POSTs once. Never raises for network or HTTP errors; they are the result."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - http(s) only
    started = time.monotonic()
    status_code: int | None = None
    excerpt = b""
    error = ""
    try:
        with _opener.open(request, timeout=timeout) as response:
            status_code = response.status
            excerpt = response.read(EXCERPT_BYTES)
    except urllib.error.HTTPError as exc:
        status_code = exc.code
        try:
            excerpt = exc.read(EXCERPT_BYTES)
        except (OSError, http.client.HTTPException):
            excerpt = b""
        finally:
            exc.close()
    except urllib.error.URLError as exc:
        error = f"{type(exc.reason).__name__}: {exc.reason}"
    except TimeoutError:
        error = f"TimeoutError: no answer within {timeout} s"
    except (OSError, http.client.HTTPException, ValueError) as exc:
        error = f"{type(exc).__name__}: {exc}"
    duration_ms = int((time.monotonic() - started) * 1000)
    text = excerpt.decode("utf-8", errors="replace").replace("\x00", "")
    return AttemptResult(status_code, text, error[:1000], duration_ms)


def _record(delivery: WebhookDelivery, result: AttemptResult) -> None:
    number = delivery.attempts
    now = timezone.now()
    follow_up: tuple[str, datetime | None] | None = None
    with transaction.atomic():
        current = WebhookDelivery.objects.select_for_update(of=("self",)).select_related("event").get(pk=delivery.pk)
        DeliveryAttempt.objects.create(
            delivery=current,
            number=number,
            status_code=result.status_code,
            response_excerpt=result.response_excerpt,
            error=result.error,
            duration_ms=result.duration_ms,
        )
        if current.status != DeliveryStatus.DELIVERING or current.attempts != number:
            return  # the lease ran out and the sweep took the row back; its state is theirs now
        current.last_status_code = result.status_code
        current.last_error = result.error or ("" if result.ok else f"HTTP {result.status_code}")
        current.locked_until = None
        endpoints = WebhookEndpoint.objects.filter(pk=current.endpoint_id)
        if result.ok:
            current.status = DeliveryStatus.SUCCEEDED
            current.delivered_at = now
            current.next_attempt_at = None
            endpoints.filter(failing_since__isnull=False).update(failing_since=None)
            follow_up = ("next", None)
        else:
            endpoints.filter(failing_since__isnull=True).update(failing_since=now)
            disable_before = now - timedelta(seconds=setting("WEBHOOK_DISABLE_AFTER_SECONDS"))
            endpoints.filter(active=True, failing_since__lte=disable_before).update(
                active=False,
                disabled_reason=f"Disabled automatically on {now:%Y-%m-%d %H:%M} UTC: every attempt failed "
                f"for {int(setting('WEBHOOK_DISABLE_AFTER_SECONDS')) // 3600} hours.",
            )
            window_end = current.window_started_at + timedelta(seconds=setting("WEBHOOK_RETRY_WINDOW_SECONDS"))
            if now >= window_end:
                current.status = DeliveryStatus.FAILED
                current.next_attempt_at = None
                follow_up = ("next", None)
            else:
                current.status = DeliveryStatus.PENDING
                current.next_attempt_at = now + timedelta(seconds=retry_delay(number))
                follow_up = ("retry", current.next_attempt_at)
        current.save(
            update_fields=[
                "status",
                "delivered_at",
                "next_attempt_at",
                "locked_until",
                "last_status_code",
                "last_error",
            ]
        )
        if follow_up[0] == "retry":
            run_after = follow_up[1]
            transaction.on_commit(lambda: _enqueue_many([current.pk], run_after=run_after), robust=True)
        elif current.event_id is not None:
            successor = (
                WebhookDelivery.objects.filter(
                    endpoint_id=current.endpoint_id,
                    event__order_id=current.event.order_id,
                    event__sequence__gt=current.event.sequence,
                    status=DeliveryStatus.PENDING,
                )
                .order_by("event__sequence")
                .values_list("pk", flat=True)
                .first()
            )
            if successor is not None:
                transaction.on_commit(lambda: _enqueue_many([successor]), robust=True)


def delivery_attempt(*, delivery_id: Any) -> str:
    """Runs one attempt of a delivery if it is pending, due, not held by another worker and not
    waiting behind an earlier event of its order. Returns what happened (for the task result)."""
    delivery = _claim(delivery_id, timezone.now())
    if delivery is None:
        return "skipped"
    try:
        body = delivery_body(delivery)
        headers = signed_headers(delivery.endpoint, delivery.message_id, body, timezone.now())
        result = post(delivery.endpoint.url, body, headers, setting("WEBHOOK_TIMEOUT_SECONDS"))
    except Exception as exc:  # a bug building the body must not leave the row in flight
        logger.exception("webhook delivery %s failed before sending", delivery.pk)
        result = AttemptResult(None, "", f"{type(exc).__name__}: {exc}"[:1000], 0)
    _record(delivery, result)
    return f"attempt {delivery.attempts}: {result.status_code or result.error}"


# --------------------------------------------------------------------------------------------
# The sweep
# --------------------------------------------------------------------------------------------


def deliveries_sweep(*, now: datetime | None = None, limit: int = 1000) -> dict[str, int]:
    """Puts in-flight rows whose worker died (lease passed) back to pending, and enqueues every
    pending row due for longer than WEBHOOK_SWEEP_GRACE_SECONDS (its task was lost or is late;
    an extra task for a row is harmless: the claim lets only one attempt through)."""
    now = now or timezone.now()
    with transaction.atomic():
        stale = list(
            WebhookDelivery.objects.select_for_update(skip_locked=True, of=("self",)).filter(
                status=DeliveryStatus.DELIVERING, locked_until__lt=now
            )[:limit]
        )
        if stale:
            DeliveryAttempt.objects.bulk_create(
                DeliveryAttempt(
                    delivery=d,
                    number=d.attempts,
                    error="The worker stopped during this attempt (its lease ran out); sending again.",
                )
                for d in stale
            )
            WebhookDelivery.objects.filter(pk__in=[d.pk for d in stale]).update(
                status=DeliveryStatus.PENDING, next_attempt_at=now, locked_until=None
            )
    grace = timedelta(seconds=setting("WEBHOOK_SWEEP_GRACE_SECONDS"))
    due = list(
        WebhookDelivery.objects.filter(
            status=DeliveryStatus.PENDING, next_attempt_at__lte=now - grace, endpoint__active=True
        )
        .exclude(pk__in=[d.pk for d in stale])
        .order_by("next_attempt_at", "created_at")
        .values_list("pk", flat=True)[:limit]
    )
    enqueued = _enqueue_many([d.pk for d in stale] + due)
    return {"reclaimed": len(stale), "enqueued": enqueued}


def sweep_schedule() -> bool:
    """Enqueues the self-rescheduling sweep task unless one is already waiting. Returns whether
    it enqueued one. Needs a backend that can defer (django-tasks-db)."""
    from webhooks import tasks

    backend = tasks.sweep.get_backend()
    if not backend.supports_defer:
        return False
    try:
        from django_tasks import TaskResultStatus
        from django_tasks_db.models import DBTaskResult
    except ImportError:  # pragma: no cover - another deferring backend
        DBTaskResult = None
    if (
        DBTaskResult is not None
        and DBTaskResult.objects.filter(task_path=tasks.sweep.module_path, status=TaskResultStatus.READY).exists()
    ):
        return False
    run_after = timezone.now() + timedelta(seconds=setting("WEBHOOK_SWEEP_INTERVAL_SECONDS"))
    tasks.sweep.using(run_after=run_after).enqueue()
    return True
