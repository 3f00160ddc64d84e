"""Real worker processes against PostgreSQL, on each task backend (`task_backend`: `manage.py
db_worker` on the database, `manage.py rqworker --with-scheduler` on Redis): one killed with
SIGKILL in the middle of a batch loses nothing; two at once never send the same attempt twice;
a worker killed mid-delivery or mid-sweep is recovered by the next one alone, in order."""

from __future__ import annotations

import signal
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from installer.tests.task_backends import database_url
from orders import services as order_services
from orders.actors import Actor
from orders.models import OrderEvent
from orders.tests.factories import OrganizationFactory, create_order
from webhooks import services
from webhooks.models import DeliveryStatus, WebhookDelivery

pytestmark = [pytest.mark.ops, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (SKIP LOCKED, several worker processes)")


def wait_until(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.05)


def make_orders(org, count: int) -> list[str]:
    for index in range(count):
        order = create_order(org, name=f"Order {index}")
        order_services.order_update(order_id=order.pk, organization=org, actor=Actor.system(), data={"name": "x"})
    return [
        str(pk)
        for pk in OrderEvent.objects.filter(type__in=["order.created", "order.updated"]).values_list("id", flat=True)
    ]


def test_worker_killed_mid_batch_loses_nothing(task_backend, receiver, make_endpoint, settings):
    settings.WEBHOOK_SWEEP_GRACE_SECONDS = 0
    receiver.delay = 0.05
    org = OrganizationFactory(name="Alpha", slug="alpha")
    make_endpoint(org, receiver.url, events=["order.created", "order.updated"])
    event_ids = make_orders(org, 10)
    assert WebhookDelivery.objects.count() == 20

    worker = task_backend.start_worker(WEBHOOK_LEASE_SECONDS="2")
    try:
        wait_until(lambda: len(receiver.hits) >= 4)
    finally:
        task_backend.kill(worker)
    assert worker.returncode == -signal.SIGKILL
    delivered_before_kill = {h.msg_id for h in receiver.hits}
    assert 4 <= len(delivered_before_kill) < 20  # killed in the middle of the batch

    time.sleep(2.1)  # let the killed worker's lease run out
    services.deliveries_sweep()  # the delivery rows, not the tasks, say what is still owed
    second = task_backend.start_worker(batch=True)
    second.wait(timeout=120)
    assert second.returncode == 0

    received = {h.msg_id for h in receiver.ok_hits()}
    assert received == set(event_ids)  # every event, none lost
    assert not WebhookDelivery.objects.exclude(status=DeliveryStatus.SUCCEEDED).exists()
    # duplicates are allowed, and carry the same event id; nothing unknown arrives
    assert {h.msg_id for h in receiver.hits} <= set(event_ids)
    for hit in receiver.hits:
        assert hit.json()["id"] == hit.msg_id


def test_two_workers_send_each_attempt_once(task_backend, receiver, make_endpoint, tmp_path):
    receiver.delay = 0.02
    # every event fails on its first hit and succeeds on its second: two attempts each
    receiver.respond = lambda n, body: (500, "first") if n == 1 else (200, "second")
    org = OrganizationFactory(name="Alpha", slug="alpha")
    make_endpoint(org, receiver.url, events=["order.created", "order.updated"])
    logs = [tmp_path / "worker-1.log", tmp_path / "worker-2.log"]
    workers = [task_backend.start_worker(log=logs[0].open("wb")), task_backend.start_worker(log=logs[1].open("wb"))]
    try:
        # both workers are polling before the first event is written, so they race for every task
        wait_until(lambda: all(task_backend.ready_line() in log.read_text() for log in logs), 60)
        event_ids = make_orders(org, 10)
        wait_until(lambda: WebhookDelivery.objects.filter(status=DeliveryStatus.SUCCEEDED).count() == 20, 120)
    finally:
        for worker in workers:
            task_backend.kill(worker, signal.SIGTERM)

    hits_per_event = Counter(h.msg_id for h in receiver.hits)
    assert hits_per_event == Counter(dict.fromkeys(event_ids, 2))  # no double send
    for delivery in WebhookDelivery.objects.all():
        assert delivery.attempts == 2
        assert list(delivery.attempts_log.values_list("number", "status_code")) == [(1, 500), (2, 200)]
    from webhooks import tasks

    ran = [r for r in task_backend.results(tasks.deliver) if r.status == "SUCCESSFUL"]
    assert len({r.worker_ids[-1] for r in ran}) == 2  # both workers did part of the work


def sweep_tasks(backend, status: str) -> int:
    from webhooks import tasks

    return backend.count(tasks.sweep, status)


RECOVERY_ENV = {
    "WEBHOOK_LEASE_SECONDS": "2",
    "WEBHOOK_SWEEP_INTERVAL_SECONDS": "1",
    "WEBHOOK_SWEEP_GRACE_SECONDS": "0",
}


def test_worker_killed_mid_delivery_recovers_with_no_extra_step(task_backend, receiver, make_endpoint):
    """SIGKILL while the receiver holds the first POST: the next worker alone (no cron, no
    `webhooks_sweep`) reclaims the row when its lease runs out and delivers every event of the
    order, in order."""
    import threading

    release = threading.Event()

    def respond(n, body):
        if n == 1 and not release.is_set():
            release.wait(30)  # the first attempt hangs until the worker is dead
        return 200, "ok"

    receiver.respond = respond
    org = OrganizationFactory(name="Alpha", slug="alpha")
    make_endpoint(org, receiver.url, events=["order.created", "order.updated"])
    make_orders(org, 1)  # created (sent first) and updated (waits behind it)
    events = OrderEvent.objects.filter(type__in=["order.created", "order.updated"]).order_by("sequence")
    event_ids = [str(pk) for pk in events.values_list("id", flat=True)]
    worker = task_backend.start_worker(**RECOVERY_ENV)
    try:
        wait_until(lambda: WebhookDelivery.objects.filter(status=DeliveryStatus.DELIVERING).exists(), 60)
        time.sleep(0.3)  # the POST is on its way and held by the receiver
    finally:
        task_backend.kill(worker)
        release.set()
    assert WebhookDelivery.objects.filter(status=DeliveryStatus.DELIVERING).count() == 1
    assert WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING).count() == 1
    time.sleep(0.3)
    before = len(receiver.hits)  # the held POST, answered to a dead worker

    second = task_backend.start_worker(**RECOVERY_ENV)
    try:
        wait_until(lambda: WebhookDelivery.objects.filter(status=DeliveryStatus.SUCCEEDED).count() == 2, 60)
    finally:
        task_backend.kill(second, signal.SIGTERM)
    assert [h.msg_id for h in receiver.hits[before:] if 200 <= h.status < 300] == event_ids


def test_worker_killed_mid_sweep_recovers_with_no_extra_step(task_backend, receiver, make_endpoint):
    """SIGKILL while the sweep task runs (held on a table lock): it stays RUNNING and queued no
    successor; the next worker queues the sweep again and the reclaimed delivery goes out."""
    import psycopg

    org = OrganizationFactory(name="Alpha", slug="alpha")
    make_endpoint(org, receiver.url, events=["order.created"])
    create_order(org)
    delivery = WebhookDelivery.objects.get()
    worker = task_backend.start_worker(**RECOVERY_ENV)
    lock = psycopg.connect(database_url())
    try:
        wait_until(lambda: WebhookDelivery.objects.filter(status=DeliveryStatus.SUCCEEDED).exists(), 60)
        # The sweep's reclaim writes a DeliveryAttempt: hold that table so the sweep blocks there.
        lock.execute("LOCK TABLE webhooks_deliveryattempt IN EXCLUSIVE MODE")
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.DELIVERING, locked_until=timezone.now() - timedelta(seconds=5)
        )
        wait_until(lambda: sweep_tasks(task_backend, "RUNNING") >= 1, 30)
        time.sleep(0.5)
        assert sweep_tasks(task_backend, "READY") == 0  # the running sweep is the only one
    finally:
        task_backend.kill(worker)
        lock.rollback()
        lock.close()
    assert sweep_tasks(task_backend, "RUNNING") >= 1 and sweep_tasks(task_backend, "READY") == 0
    assert WebhookDelivery.objects.get(pk=delivery.pk).status == DeliveryStatus.DELIVERING

    second = task_backend.start_worker(**RECOVERY_ENV)
    try:
        wait_until(lambda: WebhookDelivery.objects.get(pk=delivery.pk).status == DeliveryStatus.SUCCEEDED, 60)
        wait_until(lambda: sweep_tasks(task_backend, "READY") == 1, 10)
    finally:
        task_backend.kill(second, signal.SIGTERM)
    assert len(receiver.ok_hits()) == 2  # delivered again after the reclaim (at least once)
