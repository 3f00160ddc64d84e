"""Offer expiry and notifications on real worker processes, on each task backend (`task_backend`:
`db_worker` on the database, `rqworker --with-scheduler` on Redis). The webhook scenarios
(delivery order, SIGKILL mid-batch, mid-delivery and mid-sweep) are in
webhooks/tests/test_workers_postgres.py, on both backends too."""

from __future__ import annotations

import signal
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from dispatch import services as dispatch_services
from dispatch.models import Offer, OfferStatus
from dispatch.tasks import expire_offer
from dispatch.tests.conftest import make_installer, make_partner
from orders.actors import Actor
from orders.tests.factories import OrganizationFactory, create_order

pytestmark = [pytest.mark.ops, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ACTOR = Actor.system("test")


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (worker processes share the test database)")


def wait_until(condition, timeout: float = 60.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def dispatched_offer():
    """The open offer of a new order of a router with one partner and 24-hour deadlines."""
    router = OrganizationFactory(name="Router", slug="router")
    router.offer_deadline_hours = 24
    router.save()
    make_partner(router, make_installer("Only"))
    order = create_order(router)
    dispatch_services.order_dispatch(order_id=order.pk, organization=router, actor=ACTOR)
    return Offer.objects.get(order=order)


def test_an_offer_expires_on_the_worker_at_its_deadline_and_the_next_installer_gets_one(task_backend):
    router = OrganizationFactory(name="Router", slug="router")
    router.routing_strategy = "priority"
    router.offer_deadline_hours = 24
    router.save()
    first, second = make_installer("First"), make_installer("Second")
    make_partner(router, first, priority=10)
    make_partner(router, second, priority=20)
    order = create_order(router)
    dispatch_services.order_dispatch(order_id=order.pk, organization=router, actor=ACTOR)
    offer = Offer.objects.get(order=order)
    assert offer.installer_id == first.pk
    # Dispatch queued the offer's expiry on this backend, deferred to the deadline.
    waiting = [r for r in task_backend.results(expire_offer) if r.args == [str(offer.pk)]]
    assert len(waiting) == 1 and waiting[0].status == "READY"
    assert abs(waiting[0].task.run_after - offer.expires_at) < timedelta(seconds=1)

    # The deadline comes (moved to now, with a task for it due in 2 s): the worker expires the
    # offer when the task falls due, not before, and offers the order to the next installer.
    Offer.objects.filter(pk=offer.pk).update(expires_at=timezone.now())
    due = timezone.now() + timedelta(seconds=2)
    expire_offer.using(run_after=due).enqueue(str(offer.pk))
    worker = task_backend.start_worker()
    try:
        wait_until(lambda: Offer.objects.get(pk=offer.pk).status == OfferStatus.EXPIRED, 60, "the expiry")
        expired_at = timezone.now()
        wait_until(lambda: Offer.objects.filter(order=order, installer=second).exists(), 30, "the next offer")
    finally:
        task_backend.kill(worker, signal.SIGTERM)
    # RQ keeps a deferred job's time in whole seconds (rq.registry.ScheduledJobRegistry.schedule
    # truncates it), so its task may start up to a second before `run_after`.
    assert Offer.objects.get(pk=offer.pk).responded_at >= due - timedelta(seconds=1)
    assert expired_at >= due - timedelta(seconds=1)
    # the next offer's own expiry waits on the backend for its deadline
    next_offer = Offer.objects.get(order=order, installer=second)
    assert [r.status for r in task_backend.results(expire_offer) if r.args == [str(next_offer.pk)]] == ["READY"]


def test_a_deadline_within_a_second_expires_the_offer_on_time_not_at_the_sweep(task_backend):
    """A deadline 0.9 s past a whole second: RQ keeps a deferred job's time in whole seconds, and
    a task queued for the deadline itself would start before it, leave the offer open and let
    the sweep (minutes later) expire it. The task is queued for the second after the deadline."""
    from dispatch import tasks

    offer = dispatched_offer()
    worker = task_backend.start_worker()
    try:
        # the worker is up once it has queued its periodic sweep (its start-up pass)
        wait_until(lambda: task_backend.count(tasks.sweep, "READY") == 1, 60, "the worker")
        deadline = timezone.now().replace(microsecond=900_000) + timedelta(seconds=3)
        Offer.objects.filter(pk=offer.pk).update(expires_at=deadline)
        offer.refresh_from_db()
        dispatch_services.offers_schedule_expiry([offer])
        wait_until(lambda: Offer.objects.get(pk=offer.pk).status == OfferStatus.EXPIRED, 15, "the expiry")
    finally:
        task_backend.kill(worker, signal.SIGTERM)
    assert Offer.objects.get(pk=offer.pk).responded_at >= deadline


def test_a_notification_is_sent_by_the_worker(task_backend, tmp_path, org_a):
    from notifications import services as notification_services
    from notifications.models import Channel, Message, MessageStatus, Timing
    from orders.models import Workflow

    workflow = Workflow.objects.get(organization=org_a, is_default=True)
    notification_services.notification_create(
        organization=org_a,
        workflow=workflow,
        name="Thanks",
        trigger_event="order.created",
        step=None,
        timing=Timing.ON_CHANGE,
        offset_value=0,
        offset_unit="hours",
        channel=Channel.CUSTOMER_EMAIL,
        templates={"en": {"subject": "Order {{order.displayId}}", "body": "Thanks, {{customer.name}}."}},
    )
    order = create_order(org_a, contact_person_name="Kari Nordmann", email="kari@example.com")
    message = Message.objects.get(order=order)
    assert message.status == MessageStatus.PLANNED
    mail = tmp_path / "mail"
    worker = task_backend.start_worker(EMAIL_URL=f"file://{mail}")
    try:
        wait_until(lambda: Message.objects.get(pk=message.pk).status == MessageStatus.SENT, 60, "the message")
    finally:
        task_backend.kill(worker, signal.SIGTERM)
    sent = [path.read_text() for path in mail.iterdir()]
    assert len(sent) == 1 and "Thanks, Kari Nordmann." in sent[0] and "kari@example.com" in sent[0]


def test_an_offer_whose_expiry_task_was_lost_expires_when_a_worker_starts(task_backend):
    """The expiry task is gone (a broker restarted without its data): a worker starting expires
    the overdue offer and queues the periodic expiry sweep."""
    from dispatch import tasks

    offer = dispatched_offer()
    if task_backend.name == "rq":
        task_backend.redis().flushdb()
    else:
        from django_tasks_db.models import DBTaskResult

        DBTaskResult.objects.all().delete()
    assert task_backend.results(expire_offer) == []
    Offer.objects.filter(pk=offer.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    worker = task_backend.start_worker()
    try:
        wait_until(lambda: Offer.objects.get(pk=offer.pk).status == OfferStatus.EXPIRED, 60, "the expiry")
        wait_until(lambda: task_backend.count(tasks.sweep, "READY") == 1, 30, "the periodic sweep")
    finally:
        task_backend.kill(worker, signal.SIGTERM)
    waiting = [r for r in task_backend.results(tasks.sweep) if r.status == "READY"]
    assert waiting[0].task.run_after > timezone.now()
