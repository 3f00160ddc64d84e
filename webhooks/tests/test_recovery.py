"""Recovery needs no extra step: a worker that starts (or reconnects) reclaims expired leases
and queues the sweep, and delivery tasks keep the sweep queued. The state a SIGKILL leaves is
built here by hand; webhooks/tests/test_workers_postgres.py kills real workers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from installer.management.commands.db_worker import Worker
from orders.actors import Actor
from orders.services import order_update
from orders.tests.factories import OrganizationFactory, create_order
from webhooks import tasks
from webhooks.models import DeliveryStatus, WebhookDelivery

pytestmark = pytest.mark.django_db(transaction=True)


def run_worker_batch() -> None:
    """`manage.py db_worker --batch` in this process: announce, then every ready task."""
    Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=500,
        worker_id="restarted",
        excluded_queue_names=[],
    ).run()


def sweeps(status: str) -> int:
    return DBTaskResult.objects.filter(task_path=tasks.sweep.module_path, status=status).count()


def test_worker_start_recovers_a_delivery_and_a_sweep_killed_midway(receiver, make_endpoint, settings):
    settings.WEBHOOK_LEASE_SECONDS = 60
    org = OrganizationFactory(name="Alpha", slug="alpha")
    make_endpoint(org, receiver.url, events=["order.created", "order.updated"])
    order = create_order(org)
    order_update(order_id=order.pk, organization=org, actor=Actor.system(), data={"name": "Later"})
    first, second = WebhookDelivery.objects.order_by("event__sequence")

    # What a worker SIGKILLed during the first POST leaves: the row in flight with a lease that
    # has run out, its task RUNNING; the second event waits behind it (its task was a no-op).
    WebhookDelivery.objects.filter(pk=first.pk).update(
        status=DeliveryStatus.DELIVERING, attempts=1, locked_until=timezone.now() - timedelta(seconds=1)
    )
    DBTaskResult.objects.filter(task_path=tasks.deliver.module_path).update(status=TaskResultStatus.SUCCESSFUL)
    # ... and a worker SIGKILLed while it ran the sweep: RUNNING, and no successor queued.
    tasks.sweep.enqueue()
    DBTaskResult.objects.filter(task_path=tasks.sweep.module_path).update(status=TaskResultStatus.RUNNING)
    assert sweeps("READY") == 0

    run_worker_batch()  # nothing else: no cron, no `webhooks_sweep`

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == second.status == DeliveryStatus.SUCCEEDED
    assert [h.msg_id for h in receiver.ok_hits()] == [str(first.event_id), str(second.event_id)]
    assert "lease ran out" in first.attempts_log.order_by("created_at").first().error
    assert sweeps("READY") == 1  # the periodic sweep is queued again


def test_a_delivery_task_queues_the_sweep_when_none_waits(receiver, make_endpoint):
    org = OrganizationFactory(name="Alpha", slug="alpha")
    make_endpoint(org, receiver.url, events=["order.created"])
    create_order(org)
    tasks.sweep.enqueue()
    DBTaskResult.objects.filter(task_path=tasks.sweep.module_path).update(status=TaskResultStatus.RUNNING)
    delivery = WebhookDelivery.objects.get()

    tasks.deliver.call(str(delivery.pk))
    assert sweeps("READY") == 1
    tasks.deliver.call(str(delivery.pk))  # a no-op attempt; the sweep is not queued twice
    assert sweeps("READY") == 1
