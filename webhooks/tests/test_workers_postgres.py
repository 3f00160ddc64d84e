"""Real `manage.py db_worker` processes against PostgreSQL: one killed with SIGKILL in the middle
of a batch loses nothing; two at once never send the same attempt twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from django.db import connection

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
