"""Real `manage.py db_worker` processes against PostgreSQL: one killed with SIGKILL in the middle
of a batch loses nothing; two at once never send the same attempt twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from orders import services as order_services
from orders.actors import Actor
from orders.models import OrderEvent
from orders.tests.factories import OrganizationFactory, create_order
from webhooks import services
from webhooks.models import DeliveryStatus, WebhookDelivery

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (SKIP LOCKED, several worker processes)")


def start_worker(*, batch: bool = False, log=subprocess.DEVNULL, **env: str) -> subprocess.Popen:
    db = connection.settings_dict
    url = f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    environment = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "installer.test_settings",
        "DB_POOL": "0",
        "WEBHOOK_RETRY_BASE_SECONDS": "0",
        **env,
    }
    command = [sys.executable, "manage.py", "db_worker", "--no-reload", "--no-startup-delay", "--interval", "0.05"]
    if batch:
        command.append("--batch")
    return subprocess.Popen(command, cwd=ROOT, env=environment, stdout=log, stderr=log)


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


def test_worker_killed_mid_batch_loses_nothing(receiver, make_endpoint, settings):
    settings.WEBHOOK_SWEEP_GRACE_SECONDS = 0
    receiver.delay = 0.05
    org = OrganizationFactory(name="Alpha", slug="alpha")
    make_endpoint(org, receiver.url, events=["order.created", "order.updated"])
    event_ids = make_orders(org, 10)
    assert WebhookDelivery.objects.count() == 20

    worker = start_worker(WEBHOOK_LEASE_SECONDS="2")
    try:
        wait_until(lambda: len(receiver.hits) >= 4)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
    assert worker.returncode == -signal.SIGKILL
    delivered_before_kill = {h.msg_id for h in receiver.hits}
    assert 4 <= len(delivered_before_kill) < 20  # killed in the middle of the batch

    time.sleep(2.1)  # let the killed worker's lease run out
    services.deliveries_sweep()  # the delivery rows, not the tasks, say what is still owed
    second = start_worker(batch=True)
    second.wait(timeout=120)
    assert second.returncode == 0

    received = {h.msg_id for h in receiver.ok_hits()}
    assert received == set(event_ids)  # every event, none lost
    assert not WebhookDelivery.objects.exclude(status=DeliveryStatus.SUCCEEDED).exists()
    # duplicates are allowed, and carry the same event id; nothing unknown arrives
    assert {h.msg_id for h in receiver.hits} <= set(event_ids)
    for hit in receiver.hits:
        assert hit.json()["id"] == hit.msg_id


def test_two_workers_send_each_attempt_once(receiver, make_endpoint, tmp_path):
    receiver.delay = 0.02
    # every event fails on its first hit and succeeds on its second: two attempts each
    receiver.respond = lambda n, body: (500, "first") if n == 1 else (200, "second")
    org = OrganizationFactory(name="Alpha", slug="alpha")
    make_endpoint(org, receiver.url, events=["order.created", "order.updated"])
    logs = [tmp_path / "worker-1.log", tmp_path / "worker-2.log"]
    workers = [start_worker(log=logs[0].open("wb")), start_worker(log=logs[1].open("wb"))]
    try:
        # both workers are polling before the first event is written, so they race for every task
        wait_until(lambda: all("Starting worker" in log.read_text() for log in logs), 60)
        event_ids = make_orders(org, 10)
        wait_until(lambda: WebhookDelivery.objects.filter(status=DeliveryStatus.SUCCEEDED).count() == 20, 120)
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            worker.wait(timeout=20)

    hits_per_event = Counter(h.msg_id for h in receiver.hits)
    assert hits_per_event == Counter(dict.fromkeys(event_ids, 2))  # no double send
    for delivery in WebhookDelivery.objects.all():
        assert delivery.attempts == 2
        assert list(delivery.attempts_log.values_list("number", "status_code")) == [(1, 500), (2, 200)]
    from django_tasks_db.models import DBTaskResult

    ran = DBTaskResult.objects.filter(task_path="webhooks.tasks.deliver", status="SUCCESSFUL")
    assert len({tuple(r.worker_ids) for r in ran}) == 2  # both workers did part of the work


def database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def sweep_tasks(status: str) -> int:
    from django_tasks_db.models import DBTaskResult

    from webhooks import tasks

    return DBTaskResult.objects.filter(task_path=tasks.sweep.module_path, status=status).count()


RECOVERY_ENV = {
    "WEBHOOK_LEASE_SECONDS": "2",
    "WEBHOOK_SWEEP_INTERVAL_SECONDS": "1",
    "WEBHOOK_SWEEP_GRACE_SECONDS": "0",
}


def test_worker_killed_mid_delivery_recovers_with_no_extra_step(receiver, make_endpoint):
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
    worker = start_worker(**RECOVERY_ENV)
    try:
        wait_until(lambda: WebhookDelivery.objects.filter(status=DeliveryStatus.DELIVERING).exists(), 60)
        time.sleep(0.3)  # the POST is on its way and held by the receiver
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        release.set()
    assert WebhookDelivery.objects.filter(status=DeliveryStatus.DELIVERING).count() == 1
    assert WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING).count() == 1
    time.sleep(0.3)
    before = len(receiver.hits)  # the held POST, answered to a dead worker

    second = start_worker(**RECOVERY_ENV)
    try:
        wait_until(lambda: WebhookDelivery.objects.filter(status=DeliveryStatus.SUCCEEDED).count() == 2, 60)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=20)
    assert [h.msg_id for h in receiver.hits[before:] if 200 <= h.status < 300] == event_ids


def test_worker_killed_mid_sweep_recovers_with_no_extra_step(receiver, make_endpoint):
    """SIGKILL while the sweep task runs (held on a table lock): it stays RUNNING and queued no
    successor; the next worker queues the sweep again and the reclaimed delivery goes out."""
    import psycopg

    org = OrganizationFactory(name="Alpha", slug="alpha")
    make_endpoint(org, receiver.url, events=["order.created"])
    create_order(org)
    delivery = WebhookDelivery.objects.get()
    worker = start_worker(**RECOVERY_ENV)
    lock = psycopg.connect(database_url())
    try:
        wait_until(lambda: WebhookDelivery.objects.filter(status=DeliveryStatus.SUCCEEDED).exists(), 60)
        # The sweep's reclaim writes a DeliveryAttempt: hold that table so the sweep blocks there.
        lock.execute("LOCK TABLE webhooks_deliveryattempt IN EXCLUSIVE MODE")
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.DELIVERING, locked_until=timezone.now() - timedelta(seconds=5)
        )
        wait_until(lambda: sweep_tasks("RUNNING") >= 1, 30)
        time.sleep(0.5)
        assert sweep_tasks("READY") == 0  # the running sweep is the only one
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        lock.rollback()
        lock.close()
    assert sweep_tasks("RUNNING") >= 1 and sweep_tasks("READY") == 0
    assert WebhookDelivery.objects.get(pk=delivery.pk).status == DeliveryStatus.DELIVERING

    second = start_worker(**RECOVERY_ENV)
    try:
        wait_until(lambda: WebhookDelivery.objects.get(pk=delivery.pk).status == DeliveryStatus.SUCCEEDED, 60)
        wait_until(lambda: sweep_tasks("READY") == 1, 10)
    finally:
        second.send_signal(signal.SIGTERM)
        second.wait(timeout=20)
    assert len(receiver.ok_hits()) == 2  # delivered again after the reclaim (at least once)
