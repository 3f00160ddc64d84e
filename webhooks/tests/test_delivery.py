"""End to end against a real HTTP receiver on 127.0.0.1: the outbox rows written with the
change, the tasks the worker runs, the signatures receivers verify with `standardwebhooks`."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from orders import services as order_services
from orders.actors import Actor
from orders.models import Order, OrderEvent, OrderStatus
from orders.tests.factories import OrganizationFactory, create_order
from webhooks import services
from webhooks.models import TEST_EVENT, DeliveryStatus, WebhookDelivery, WebhookEndpoint, generate_secret
from webhooks.tests.conftest import change, drain, walk

pytestmark = pytest.mark.django_db(transaction=True)

WALK_EVENTS = [
    "order.created",
    "order.updated",
    "order.dispatched",
    "order.assigned",
    "booking.created",
    "order.started",
    "order.completed",
]


@pytest.fixture
def org(db):
    return OrganizationFactory(name="Alpha Energy", slug="alpha", display_id_prefix="A")


def test_walked_order_arrives_in_order_and_verifies(org, receiver, make_endpoint):
    endpoint, secret = make_endpoint(org, receiver.url, events=[*WALK_EVENTS, "order.cancelled"])
    other_org = OrganizationFactory(name="Beta", slug="beta")
    make_endpoint(other_org, receiver.url + "/beta")  # another organization's endpoint gets nothing

    order = create_order(org, name="Heat pump")
    order_services.order_update(order_id=order.pk, organization=org, actor=Actor.system(), data={"name": "Heat pump 2"})
    walk(order, org)
    cancelled = create_order(org, name="To cancel")
    order_services.order_cancel(order_id=cancelled.pk, organization=org, actor=Actor.system(), reason="no_capacity")
    drain()

    bodies = [h.json() for h in receiver.hits]
    assert all(h.status == 200 for h in receiver.hits)
    walked = [b for b in bodies if b["data"]["id"] == str(order.pk)]
    assert [b["event"] for b in walked] == WALK_EVENTS
    sequences = [b["sequence"] for b in walked]
    assert sequences == sorted(sequences) and len(set(sequences)) == len(sequences)
    assert [b["event"] for b in bodies if b["data"]["id"] == str(cancelled.pk)] == ["order.created", "order.cancelled"]
    events = {str(e.id): e for e in OrderEvent.objects.filter(order=order)}
    for hit in receiver.hits:
        body = hit.json()
        assert hit.headers["webhook-id"] == body["id"]
        assert body["organizationId"] == str(org.pk)
        assert set(body) == {"id", "event", "timestamp", "organizationId", "sequence", "test", "data"}
        if body["data"]["id"] == str(order.pk):
            assert events[body["id"]].type == body["event"] and events[body["id"]].sequence == body["sequence"]
        # The receiver's side: the spec's own library accepts it with the endpoint secret ...
        assert Webhook(secret).verify(hit.body, hit.headers) == body
        # ... and rejects it with another secret or a changed body.
        with pytest.raises(WebhookVerificationError):
            Webhook(generate_secret()).verify(hit.body, hit.headers)
        with pytest.raises(WebhookVerificationError):
            Webhook(secret).verify(hit.body.replace(b'"sequence":', b'"sequence": '), hit.headers)
    assert walked[-1]["data"]["statusName"] == "completed"
    assert walked[-1]["data"]["allowedActions"] == []  # the owning organization's viewer
    assert not any("/beta" in h.headers.get("host", "") for h in receiver.hits)
    assert WebhookDelivery.objects.filter(endpoint=endpoint, status=DeliveryStatus.SUCCEEDED).count() == len(bodies)


def test_data_is_the_order_as_it_was_when_the_event_happened(org, receiver, make_endpoint, settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 0
    # order.assigned fails on its first attempt and is retried after the order completed.
    receiver.respond = lambda n, body: (
        (500, "") if json.loads(body)["event"] == "order.assigned" and n == 1 else (200, "")
    )
    make_endpoint(org, receiver.url, events=WALK_EVENTS)
    order = create_order(org, name="Heat pump")
    order_services.order_update(order_id=order.pk, organization=org, actor=Actor.system(), data={"name": "Heat pump 2"})
    walk(order, org)  # every change is made before the first attempt
    drain()

    assert Order.objects.get(pk=order.pk).status == OrderStatus.COMPLETED
    ok = [h.json() for h in receiver.ok_hits()]
    assert [b["event"] for b in ok] == WALK_EVENTS
    data = {b["event"]: b["data"] for b in ok}
    assert (data["order.created"]["statusName"], data["order.created"]["name"]) == ("created", "Heat pump")
    assert data["order.created"]["installer"] is None
    assert (data["order.updated"]["statusName"], data["order.updated"]["name"]) == ("created", "Heat pump 2")
    assert data["order.dispatched"]["status"] == OrderStatus.DISPATCHING
    assigned = data["order.assigned"]
    assert (assigned["status"], assigned["statusName"]) == (OrderStatus.DISPATCHING, "dispatching")
    assert assigned["installer"]["name"] == "Walk Installers"
    assert data["booking.created"]["statusName"] == "scheduled"
    assert data["order.started"]["statusName"] == "in_progress"
    assert data["order.completed"]["statusName"] == "completed"
    # The retry of order.assigned, made after the order completed, sent the same body.
    assigned_hits = [h for h in receiver.hits if h.json()["event"] == "order.assigned"]
    assert [h.status for h in assigned_hits] == [500, 200]
    assert assigned_hits[0].body == assigned_hits[1].body
    # As the owning organization's viewer sees it: everything, and no actions.
    assert assigned["clientUrl"] and assigned["email"] == "ola@example.com" and assigned["allowedActions"] == []


def test_receiver_failing_three_times_gets_the_event_on_the_fourth_try(org, receiver, make_endpoint, settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 0  # retries due at once, so the test needs no clock
    receiver.respond = lambda n, body: (500, f"boom {n}") if n <= 3 else (204, "")
    endpoint, secret = make_endpoint(org, receiver.url, events=["order.created"])
    order = create_order(org)
    drain()

    assert [h.status for h in receiver.hits] == [500, 500, 500, 204]
    event = OrderEvent.objects.get(order=order, type="order.created")
    assert {h.msg_id for h in receiver.hits} == {str(event.id)}
    for hit in receiver.hits:
        Webhook(secret).verify(hit.body, hit.headers)
    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.attempts == 4
    assert delivery.last_status_code == 204 and delivery.delivered_at is not None
    log = list(delivery.attempts_log.values_list("number", "status_code", "response_excerpt"))
    assert log == [(1, 500, "boom 1"), (2, 500, "boom 2"), (3, 500, "boom 3"), (4, 204, "")]
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None and endpoint.active


def test_a_failed_attempt_is_retried_by_a_task_with_run_after(org, receiver, make_endpoint):
    receiver.respond = lambda n, body: (503, "busy")
    endpoint, _ = make_endpoint(org, receiver.url, events=["order.created"])
    create_order(org)
    before = timezone.now()
    drain()

    delivery = WebhookDelivery.objects.get(endpoint=endpoint)
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 1
    # about 1 minute (+-15 % jitter), carried by a deferred task
    assert before + timedelta(seconds=50) < delivery.next_attempt_at < before + timedelta(seconds=70)
    retry = DBTaskResult.objects.get(status="READY", task_path="webhooks.tasks.deliver")
    assert retry.args_kwargs["args"] == [str(delivery.pk)] and retry.run_after == delivery.next_attempt_at
    endpoint.refresh_from_db()
    assert endpoint.failing_since is not None and endpoint.active


def test_a_rolled_back_change_sends_nothing(org, receiver, make_endpoint):
    order = create_order(org)
    make_endpoint(org, receiver.url)
    with pytest.raises(RuntimeError), transaction.atomic():
        change(order.pk, org, "order.updated", name="never")
        event = OrderEvent.objects.get(order=order, type="order.updated")
        assert WebhookDelivery.objects.filter(event=event).exists()  # written with the change ...
        raise RuntimeError("the change fails after its event was written")
    assert not OrderEvent.objects.filter(order=order, type="order.updated").exists()
    assert not WebhookDelivery.objects.exists()  # ... and rolled back with it
    assert not DBTaskResult.objects.exists()
    services.deliveries_sweep(now=timezone.now() + timedelta(hours=1))
    drain()
    assert receiver.hits == []


def test_later_event_of_an_order_waits_for_the_earlier_one(org, receiver, make_endpoint, settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 0
    receiver.respond = lambda n, body: (
        (500, "") if json.loads(body)["event"] == "order.created" and n == 1 else (200, "")
    )
    make_endpoint(org, receiver.url, events=["order.created", "order.updated", "order.dispatched"])
    order = create_order(org)
    change(order.pk, org, "order.updated", name="x")
    change(order.pk, org, "order.dispatched", 1)
    drain()
    assert [(h.json()["event"], h.status) for h in receiver.hits] == [
        ("order.created", 500),
        ("order.created", 200),
        ("order.updated", 200),
        ("order.dispatched", 200),
    ]


def test_secret_rotation_signs_with_both_secrets_during_the_window(org, receiver, make_endpoint):
    endpoint, old = make_endpoint(org, receiver.url, events=["order.created"])
    endpoint, new = services.endpoint_rotate_secret(endpoint=endpoint)
    create_order(org)
    drain()
    hit = receiver.hits[0]
    assert len(hit.headers["webhook-signature"].split(" ")) == 2
    Webhook(new).verify(hit.body, hit.headers)
    Webhook(old).verify(hit.body, hit.headers)

    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(rotated_at=timezone.now() - timedelta(hours=25))
    create_order(org)
    drain()
    hit = receiver.hits[1]
    assert len(hit.headers["webhook-signature"].split(" ")) == 1
    Webhook(new).verify(hit.body, hit.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(hit.body, hit.headers)


def installer_com_receiver_accepts(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """What a receiver written for Installer.com checks: `X-Installer-Signature`, the hex
    HMAC-SHA256 of the raw body keyed with the secret, with or without a `sha256=` prefix."""
    given = headers.get("x-installer-signature", "").removeprefix("sha256=")
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(given, expected)


def standard_webhooks_receiver_accepts(secret: str, headers: dict[str, str], body: bytes) -> bool:
    try:
        Webhook(secret).verify(body, headers)
    except WebhookVerificationError:
        return False
    return True


@pytest.mark.parametrize("accepts", [installer_com_receiver_accepts, standard_webhooks_receiver_accepts])
def test_receivers_of_both_kinds_accept_our_deliveries(org, receiver, make_endpoint, accepts):
    endpoint, secret = make_endpoint(org, receiver.url, events=["order.created", "order.cancelled"])
    receiver.verify = lambda headers, body: accepts(secret, headers, body)
    order = create_order(org)
    order_services.order_cancel(order_id=order.pk, organization=org, actor=Actor.system())
    endpoint_test = services.delivery_send_test(endpoint=endpoint)
    drain()

    assert [h.status for h in receiver.hits] == [200, 200, 200]
    assert WebhookDelivery.objects.filter(status=DeliveryStatus.SUCCEEDED).count() == 3
    assert WebhookDelivery.objects.get(pk=endpoint_test.pk).status == DeliveryStatus.SUCCEEDED
    for hit in receiver.hits:
        assert hit.headers["x-installer-signature"].startswith("sha256=")
        assert installer_com_receiver_accepts(secret, hit.headers, hit.body)
        assert standard_webhooks_receiver_accepts(secret, hit.headers, hit.body)
        # Another secret, or a changed body, fails both ways.
        other = generate_secret()
        assert not installer_com_receiver_accepts(other, hit.headers, hit.body)
        assert not standard_webhooks_receiver_accepts(other, hit.headers, hit.body)
        changed = hit.body.replace(b'"event":', b'"event": ')
        assert not installer_com_receiver_accepts(secret, hit.headers, changed)
        assert not standard_webhooks_receiver_accepts(secret, hit.headers, changed)
    bare = {**receiver.hits[0].headers}
    bare["x-installer-signature"] = bare["x-installer-signature"].removeprefix("sha256=")
    assert installer_com_receiver_accepts(secret, bare, receiver.hits[0].body)


def test_a_receiver_with_the_wrong_secret_gets_nothing_it_accepts(org, receiver, make_endpoint, settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 3600
    endpoint, _ = make_endpoint(org, receiver.url, events=["order.created"])
    other = generate_secret()
    receiver.verify = lambda headers, body: installer_com_receiver_accepts(other, headers, body)
    create_order(org)
    drain()
    assert [h.status for h in receiver.hits] == [401]
    assert WebhookDelivery.objects.get(endpoint=endpoint).status == DeliveryStatus.PENDING


def test_installer_signature_uses_the_new_secret_during_a_rotation(org, receiver, make_endpoint):
    endpoint, old = make_endpoint(org, receiver.url, events=["order.created"])
    endpoint, new = services.endpoint_rotate_secret(endpoint=endpoint)
    create_order(org)
    drain()
    hit = receiver.hits[0]
    assert installer_com_receiver_accepts(new, hit.headers, hit.body)
    assert not installer_com_receiver_accepts(old, hit.headers, hit.body)
    assert standard_webhooks_receiver_accepts(old, hit.headers, hit.body)  # both sign there


def test_sweep_sends_deliveries_whose_task_was_lost(org, receiver, make_endpoint, settings):
    settings.WEBHOOK_SWEEP_GRACE_SECONDS = 0
    make_endpoint(org, receiver.url, events=["order.created"])
    create_order(org)
    DBTaskResult.objects.all().delete()  # the task is gone; the outbox row is still there
    drain()
    assert receiver.hits == []
    assert services.deliveries_sweep() == {"reclaimed": 0, "enqueued": 1}
    drain()
    assert [h.json()["event"] for h in receiver.hits] == ["order.created"]


def test_sweep_takes_back_an_attempt_whose_worker_died(org, receiver, make_endpoint):
    endpoint, _ = make_endpoint(org, receiver.url, events=["order.created"])
    create_order(org)
    DBTaskResult.objects.all().delete()
    past = timezone.now() - timedelta(seconds=1)
    WebhookDelivery.objects.update(status=DeliveryStatus.DELIVERING, attempts=1, locked_until=past)
    assert services.deliveries_sweep() == {"reclaimed": 1, "enqueued": 1}
    drain()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.attempts == 2
    log = list(delivery.attempts_log.values_list("number", "status_code"))
    assert log == [(1, None), (2, 200)]
    assert "lease" in delivery.attempts_log.first().error


def test_retries_end_after_the_window_and_send_again_restarts(org, receiver, make_endpoint):
    receiver.respond = lambda n, body: (500, "down") if n == 1 else (200, "back")
    endpoint, _ = make_endpoint(org, receiver.url, events=["order.created"])
    create_order(org)
    WebhookDelivery.objects.update(window_started_at=timezone.now() - timedelta(hours=24, seconds=1))
    drain()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.FAILED and delivery.next_attempt_at is None
    services.delivery_send_again(delivery=delivery)
    drain()
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED and delivery.attempts == 2
    assert receiver.hits[0].msg_id == receiver.hits[1].msg_id


def test_endpoint_failing_for_days_is_disabled_and_holds_its_deliveries(org, receiver, make_endpoint):
    receiver.respond = lambda n, body: (500, "")
    endpoint, _ = make_endpoint(org, receiver.url, events=["order.created"])
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=timezone.now() - timedelta(days=3, seconds=1))
    create_order(org)
    drain()
    endpoint.refresh_from_db()
    assert not endpoint.active and "failed" in endpoint.disabled_reason
    WebhookDelivery.objects.update(next_attempt_at=timezone.now())
    services.deliveries_sweep(now=timezone.now() + timedelta(hours=1))
    create_order(org)  # a disabled endpoint subscribes to nothing new
    drain()
    assert len(receiver.hits) == 1  # and nothing is sent to it; its pending row waits
    assert list(WebhookDelivery.objects.values_list("status", flat=True)) == [DeliveryStatus.PENDING]

    receiver.respond = lambda n, body: (200, "")
    services.endpoint_update(endpoint=endpoint, active=True)
    drain()
    endpoint.refresh_from_db()
    assert endpoint.active and endpoint.disabled_reason == "" and endpoint.failing_since is None
    assert list(WebhookDelivery.objects.values_list("status", flat=True)) == [DeliveryStatus.SUCCEEDED]


def test_test_event_and_cut_response_and_timeout(org, receiver, make_endpoint, settings):
    receiver.respond = lambda n, body: (200, "x" * 5000)
    endpoint, secret = make_endpoint(org, receiver.url, events=["order.created"])
    delivery = services.delivery_send_test(endpoint=endpoint)
    drain()
    hit = receiver.hits[0]
    body = Webhook(secret).verify(hit.body, hit.headers)
    assert body["event"] == TEST_EVENT and body["id"] == str(delivery.pk) == hit.msg_id
    assert body["data"]["endpointId"] == str(endpoint.pk) and body["sequence"] is None
    attempt = WebhookDelivery.objects.get(pk=delivery.pk).attempts_log.get()
    assert attempt.status_code == 200 and len(attempt.response_excerpt) == 2048

    settings.WEBHOOK_TIMEOUT_SECONDS = 0.3
    receiver.delay = 0.6
    slow = services.delivery_send_test(endpoint=endpoint)
    drain()
    slow.refresh_from_db()
    assert slow.status == DeliveryStatus.PENDING and slow.last_status_code is None
    assert slow.last_error == "TimeoutError: no answer within 0.3 s"


def test_unreachable_endpoint_is_an_error_not_a_crash(org, make_endpoint):
    endpoint, _ = make_endpoint(org, "http://127.0.0.1:9/nothing", events=["order.created"])
    create_order(org)
    drain()
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == DeliveryStatus.PENDING and delivery.attempts == 1
    assert "refused" in delivery.last_error.lower() or "error" in delivery.last_error.lower()
