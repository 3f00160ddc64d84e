"""The sweep: puts rows whose worker died back to pending and re-enqueues rows whose task was
lost, so a delivery is late at worst, never lost."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from installer.tasks import schedule_once
from webhooks.models import DeliveryAttempt, DeliveryStatus, WebhookDelivery
from webhooks.services.outbox import _enqueue_many


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
    grace = timedelta(seconds=settings.WEBHOOK_SWEEP_GRACE_SECONDS)
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
    """Enqueues the self-rescheduling sweep task unless one is already waiting (READY). Returns
    whether it enqueued one. A sweep task left RUNNING by a killed worker is not waiting: it
    never runs again and never queues its successor, so it does not count. Needs a backend that
    can defer (django-tasks-db; RQ with its scheduler): installer.tasks.schedule_once."""
    from webhooks import tasks  # tasks imports this package

    run_after = timezone.now() + timedelta(seconds=settings.WEBHOOK_SWEEP_INTERVAL_SECONDS)
    return schedule_once(tasks.sweep, run_after=run_after)


def sweep_on_worker_start(**kwargs) -> None:
    """Receiver of `installer.tasks.worker_started`: a worker starting (or back after losing the
    database) reclaims the leases that ran out meanwhile and makes sure the periodic sweep is
    queued. This is what recovers from a worker killed mid-delivery (its row waits for its
    lease, then the next sweep) or mid-sweep (the sweep task stays RUNNING and queued no
    successor) without any scheduler or manual step."""
    deliveries_sweep()
    sweep_schedule()
