"""Background tasks on Django's Tasks API (run by `manage.py db_worker`). Tasks take ids and
are idempotent: the message row decides whether anything is sent."""

from __future__ import annotations

from django_tasks import task


@task()
def send_message(message_id: str) -> str:
    """Sends one message if it is planned and due; then makes sure the sweep is queued. A task
    that starts before the message is due (a worker whose clock runs ahead of the one that
    queued it) queues itself again for the due time, so the message goes out on time rather
    than at the next sweep."""
    from notifications import services

    result = services.message_send(message_id=message_id)
    if result == "not sent":
        services.message_requeue_early(message_id=message_id)
    services.sweep_schedule()
    return result


@task()
def sweep(reschedule: bool = True) -> dict:
    """One sweep pass; then queues the next one NOTIFY_SWEEP_INTERVAL_SECONDS later."""
    from notifications import services

    result = services.messages_sweep()
    if reschedule:
        services.sweep_schedule()
    return result
