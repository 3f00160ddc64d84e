"""The outbox rows: written with the event, only for webhook events an active endpoint wants."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from orders import services as order_services
from orders.actors import Actor
from orders.models import OrderEvent
from orders.tests.factories import OrganizationFactory, create_order
from webhooks import services
from webhooks.models import DeliveryStatus, WebhookDelivery

pytestmark = pytest.mark.django_db


@pytest.fixture
def org():
    return OrganizationFactory(name="Alpha", slug="alpha")


def test_deliveries_follow_subscriptions(org, make_endpoint, django_capture_on_commit_callbacks):
    everything, _ = make_endpoint(org, "https://a.example.com/")
    created_only, _ = make_endpoint(org, "https://b.example.com/", events=["order.created"])
    make_endpoint(org, "https://c.example.com/", active=False)
    other, _ = make_endpoint(OrganizationFactory(name="Beta", slug="beta"), "https://d.example.com/")
    with django_capture_on_commit_callbacks(execute=True):
        order = create_order(org)
    rows = sorted(WebhookDelivery.objects.values_list("endpoint__url", "event_type", "event__order"))
    assert rows == [
        ("https://a.example.com/", "order.created", order.pk),
        ("https://a.example.com/", "workflow.step.activated", order.pk),
        ("https://b.example.com/", "order.created", order.pk),
    ]
    # after commit, one task per (endpoint, order): the later event waits for the earlier one
    tasks = DBTaskResult.objects.filter(task_path="webhooks.tasks.deliver")
    first_ids = set(WebhookDelivery.objects.filter(event_type="order.created").values_list("pk", flat=True))
    assert {t.args_kwargs["args"][0] for t in tasks} == {str(pk) for pk in first_ids}
    delivery = WebhookDelivery.objects.get(endpoint=created_only)
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 0
    assert delivery.event.type == "order.created" and delivery.message_id == str(delivery.event_id)

    # timeline-only event types make no deliveries
    tag = order_services.order_tags_create(organization=org, names=["vip"])[0]
    order_services.order_tag_assign(order_id=order.pk, organization=org, tag_id=tag.pk, actor=Actor.system())
    assert OrderEvent.objects.filter(type="order.tag_added").exists()
    assert not WebhookDelivery.objects.filter(event__type="order.tag_added").exists()
    assert not WebhookDelivery.objects.filter(endpoint=other).exists()


def queries_of(function) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        function()
    return [q["sql"] for q in captured.captured_queries]


def test_a_change_builds_one_snapshot_whatever_its_events_and_endpoints(org, make_endpoint):
    order = create_order(org)
    events = list(OrderEvent.objects.filter(order=order))  # order.created, workflow.step.activated
    make_endpoint(org, "https://a.example.com/", events=["order.created"])
    one = queries_of(lambda: services.deliveries_queue_for_events(events[:1]))
    WebhookDelivery.objects.all().delete()
    make_endpoint(org, "https://b.example.com/")
    make_endpoint(org, "https://c.example.com/")
    many = queries_of(lambda: services.deliveries_queue_for_events(events))
    assert WebhookDelivery.objects.count() == 5
    assert len(many) == len(one)  # endpoints, one snapshot of the order, one bulk insert
    assert sum('FROM "orders_order"' in sql for sql in many) == 1
    assert len({str(d) for d in WebhookDelivery.objects.values_list("data", flat=True)}) == 1


def test_no_snapshot_without_a_subscribed_endpoint(org, make_endpoint, django_assert_num_queries):
    order = create_order(org)
    make_endpoint(org, "https://a.example.com/", events=["order.cancelled"])
    event = OrderEvent.objects.filter(order=order, type="order.created").get()
    with django_assert_num_queries(1):  # the endpoints; nobody wants order.created
        assert services.deliveries_queue_for_events([event]) == []
    with django_assert_num_queries(0):
        services.deliveries_queue_for_events([OrderEvent(type="order.tag_added", organization=org, order=order)])


def test_the_endpoint_flag_follows_create_and_delete_and_skips_the_query(org, make_endpoint, django_assert_num_queries):
    org.refresh_from_db()
    assert not org.has_webhook_endpoints
    order = create_order(org)
    order.organization = org  # loaded in the change's transaction, as lock_order does
    event = OrderEvent(type="order.updated", organization=org, order=order)
    with django_assert_num_queries(0):  # no endpoint: no query at all
        assert services.deliveries_queue_for_events([event]) == []
    first, _ = make_endpoint(org, "https://a.example.com/")
    second, _ = make_endpoint(org, "https://b.example.com/")
    org.refresh_from_db()
    assert org.has_webhook_endpoints
    first.delete()
    org.refresh_from_db()
    assert org.has_webhook_endpoints  # one is left
    services.endpoint_delete(endpoint=second)
    org.refresh_from_db()
    assert not org.has_webhook_endpoints


def test_backoff_starts_near_a_minute_doubles_and_tries_for_at_least_a_day(settings):
    random.seed(7)
    delays = [services.retry_delay(n) for n in range(1, 15)]
    assert 51 <= delays[0] <= 69
    assert 102 <= delays[1] <= 138 and 204 <= delays[2] <= 276
    assert max(delays) <= settings.WEBHOOK_RETRY_MAX_DELAY_SECONDS * 1.15
    # the schedule _record follows: keep retrying until a failure lands past the 24 h window
    elapsed, attempts = 0.0, 1
    while elapsed < settings.WEBHOOK_RETRY_WINDOW_SECONDS:
        elapsed += services.retry_delay(attempts)
        attempts += 1
    assert timedelta(seconds=elapsed) >= timedelta(hours=24) and 10 <= attempts <= 16


def test_sweep_task_reschedules_itself_once(capsys):
    from django.core.management import call_command

    from webhooks import tasks

    sweeps = DBTaskResult.objects.filter(task_path="webhooks.tasks.sweep", status="READY")
    call_command("webhooks_sweep", "--schedule")
    call_command("webhooks_sweep", "--schedule")
    assert "already waiting" in capsys.readouterr().out
    assert sweeps.count() == 1 and sweeps.get().run_after > timezone.now()
    sweeps.delete()
    assert tasks.sweep.call() == {"reclaimed": 0, "enqueued": 0}  # one pass, then the next is queued
    assert sweeps.count() == 1
    assert tasks.sweep.call() == {"reclaimed": 0, "enqueued": 0}
    assert sweeps.count() == 1  # not a second chain
    call_command("webhooks_sweep")
    assert capsys.readouterr().out.strip() == "reclaimed 0, enqueued 0"
