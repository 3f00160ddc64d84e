"""One delivery attempt: claim the row, POST the signed body, record the answer."""

from __future__ import annotations

import http.client
import logging
import random
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from installer.api.renderers import dumps
from webhooks import egress
from webhooks.models import DeliveryAttempt, DeliveryStatus, WebhookDelivery, WebhookEndpoint
from webhooks.services.outbox import WAITING, _enqueue_many, order_snapshot
from webhooks.services.signing import signed_headers

logger = logging.getLogger("installer.webhooks")

# How much of an answer's body is kept on the attempt and shown to the endpoint's organization.
EXCERPT_BYTES = 2048


@dataclass
class AttemptResult:
    status_code: int | None
    response_excerpt: str
    error: str
    duration_ms: int
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def retry_delay(attempts: int) -> float:
    """Seconds before the next try after `attempts` failed ones: about 1 min doubling, capped,
    with +-15 % jitter so a recovering receiver is not hit by every retry at once."""
    base = settings.WEBHOOK_RETRY_BASE_SECONDS
    delay = min(base * 2 ** max(attempts - 1, 0), settings.WEBHOOK_RETRY_MAX_DELAY_SECONDS)
    return delay * random.uniform(0.85, 1.15)


def _waits_for_earlier(delivery: WebhookDelivery, now: datetime) -> bool:
    """Per-order ordering: an event waits while an earlier event of the same order is still
    undelivered at the same endpoint, for at most WEBHOOK_ORDERING_HOLD_SECONDS."""
    event = delivery.event
    if event is None:
        return False
    if delivery.created_at < now - timedelta(seconds=settings.WEBHOOK_ORDERING_HOLD_SECONDS):
        return False
    return WebhookDelivery.objects.filter(
        endpoint_id=delivery.endpoint_id,
        event__order_id=event.order_id,
        event__sequence__lt=event.sequence,
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
        deferred_until = delivery.endpoint.deferred_until
        if deferred_until is not None and deferred_until > now:
            # The endpoint's last attempt timed out: wait for it instead of holding this worker
            # for another full timeout (one tenant's slow receiver must not starve the others).
            delivery.next_attempt_at = deferred_until
            delivery.save(update_fields=["next_attempt_at"])
            transaction.on_commit(lambda: _enqueue_many([delivery.pk], run_after=deferred_until), robust=True)
            return None
        delivery.status = DeliveryStatus.DELIVERING
        delivery.attempts += 1
        delivery.locked_until = now + timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS)
        delivery.save(update_fields=["status", "attempts", "locked_until"])
    return delivery


def delivery_body(delivery: WebhookDelivery) -> bytes:
    """The JSON body: {id, event, timestamp, organizationId, sequence, test, data}. `data` is the
    order object kept with the row when the event was written (`outbox.order_snapshot`); a row
    without one sends the order as the owning organization's viewer sees it now."""
    organization = delivery.endpoint.organization
    event = delivery.event
    if event is None:
        payload = {
            "id": delivery.message_id,
            "event": delivery.event_type,
            "timestamp": delivery.created_at,
            "organizationId": organization.pk,
            "sequence": None,
            "test": True,
            "data": {"endpointId": delivery.endpoint_id, "message": "A test event from Installer."},
        }
    else:
        data = delivery.data if delivery.data is not None else order_snapshot(event.order_id, organization)
        payload = {
            "id": delivery.message_id,
            "event": delivery.event_type,
            "timestamp": event.created_at,
            "organizationId": organization.pk,
            "sequence": event.sequence,
            "test": bool(data.get("test")) if data else False,
            "data": data,
        }
        if event.type.startswith("quote."):
            payload["quote"] = (event.data or {}).get("quote")
    return dumps(payload)


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer like any other non-2xx: it is logged and retried, not followed."""

    def redirect_request(self, *args, **kwargs):
        return None


# Public addresses only, unless WEBHOOK_ALLOW_PRIVATE_TARGETS (webhooks.egress).
_opener = urllib.request.build_opener(_NoRedirects, egress.GuardedHTTPHandler, egress.GuardedHTTPSHandler)


def post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> AttemptResult:
    """POSTs once, within `timeout` seconds in all (connect, send, answer: egress.Deadline), so a
    receiver that answers a byte at a time is cut at the timeout like one that never answers.
    Never raises for network or HTTP errors; they are the result."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310 - http(s) only
    started = time.monotonic()
    with egress.Deadline(timeout) as deadline:
        status_code, excerpt, error = _exchange(request, timeout)
    timed_out = deadline.expired.is_set() or error.startswith("TimeoutError")
    if deadline.expired.is_set():
        # Whatever arrived before the cut is incomplete: the attempt failed and is retried.
        status_code, error = None, f"TimeoutError: no answer within {timeout} s"
    duration_ms = int((time.monotonic() - started) * 1000)
    text = excerpt.decode("utf-8", errors="replace").replace("\x00", "")
    return AttemptResult(status_code, text, error[:1000], duration_ms, timed_out=timed_out)


def _exchange(request: urllib.request.Request, timeout: float) -> tuple[int | None, bytes, str]:
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
    return status_code, excerpt, error


def _record(delivery: WebhookDelivery, result: AttemptResult) -> None:
    number = delivery.attempts
    now = timezone.now()
    follow_up: tuple[str, datetime | None] | None = None
    with transaction.atomic():
        current = (
            WebhookDelivery.objects.select_for_update(of=("self",))
            .select_related("event")
            .filter(pk=delivery.pk)
            .first()
        )
        if current is None:
            return  # the endpoint was deleted meanwhile, with its delivery log
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
            endpoints.filter(deferred_until__isnull=False).update(deferred_until=None)
            follow_up = ("next", None)
        else:
            endpoints.filter(failing_since__isnull=True).update(failing_since=now)
            if result.timed_out:
                endpoints.update(deferred_until=now + timedelta(seconds=settings.WEBHOOK_RETRY_BASE_SECONDS))
            disable_before = now - timedelta(seconds=settings.WEBHOOK_DISABLE_AFTER_SECONDS)
            endpoints.filter(active=True, failing_since__lte=disable_before).update(
                active=False,
                disabled_reason=f"Disabled automatically on {now:%Y-%m-%d %H:%M} UTC: every attempt failed "
                f"for {int(settings.WEBHOOK_DISABLE_AFTER_SECONDS) // 3600} hours.",
            )
            window_end = current.window_started_at + timedelta(seconds=settings.WEBHOOK_RETRY_WINDOW_SECONDS)
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
        elif current.event is not None:
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
        result = post(delivery.endpoint.url, body, headers, settings.WEBHOOK_TIMEOUT_SECONDS)
    except Exception as exc:  # a bug building the body must not leave the row in flight
        logger.exception("webhook delivery %s failed before sending", delivery.pk)
        result = AttemptResult(None, "", f"{type(exc).__name__}: {exc}"[:1000], 0)
    _record(delivery, result)
    return f"attempt {delivery.attempts}: {result.status_code or result.error}"
