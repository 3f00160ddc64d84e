"""Background tasks on Django's Tasks API (django-tasks with the django-tasks-db backend; run by
`manage.py db_worker`). One task = one delivery attempt; the delivery row decides whether it runs."""

from __future__ import annotations

from django_tasks import task

from webhooks import services


@task()
def deliver(delivery_id: str) -> str:
    """One attempt; then queues the periodic sweep if none is waiting (a worker killed while it
    ran the sweep left none), so deliveries keep the sweep alive while workers run."""
    result = services.delivery_attempt(delivery_id=delivery_id)
    services.sweep_schedule()
    return result


@task()
def sweep(reschedule: bool = True) -> dict:
    """One sweep pass; then queues the next one WEBHOOK_SWEEP_INTERVAL_SECONDS later (once:
    `sweep_schedule` does nothing while another sweep is waiting)."""
    result = services.deliveries_sweep()
    if reschedule:
        services.sweep_schedule()
    return result
