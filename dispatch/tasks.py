"""Background work on Django's Tasks API (django-tasks with the django-tasks-db backend; the
worker is `manage.py db_worker`). Tasks take ids, never model instances, and are idempotent:
the worker may run them late, twice, or after the thing they were for has changed."""

from __future__ import annotations

from django_tasks import task


@task()
def expire_offer(offer_id: str) -> str | None:
    """Enqueued for an offer's deadline (rounded up to the second, `installer.tasks.run_after_for`):
    expires it if still open and offers the next candidate. A task that starts before the
    deadline (a worker whose clock runs ahead of the one that queued it) queues itself again for
    it, so the offer expires on time rather than at the next sweep. Returns the offer's status
    afterwards (None if it is gone)."""
    from django.utils import timezone

    from dispatch import services
    from dispatch.models import OfferStatus

    offer = services.offer_expire(offer_id=offer_id)
    if offer is None:
        return None
    if offer.status == OfferStatus.SENT and offer.expires_at is not None and offer.expires_at > timezone.now():
        services.offers_schedule_expiry([offer])
    return offer.status


@task()
def sweep(reschedule: bool = True) -> int:
    """Expires every open offer past its deadline whose own task was lost or is late; then
    queues the next pass OFFER_SWEEP_INTERVAL_SECONDS later (once). Returns how many expired."""
    from dispatch import services

    expired = services.offers_expire_due()
    if reschedule:
        services.offers_sweep_schedule()
    return expired
