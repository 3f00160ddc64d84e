"""Idempotency: the order's idempotencyKey (body or header) and the generic Idempotency-Key
replay on every other write."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db import connection, connections
from rest_framework.test import APIClient

from accounts.models import IdempotencyRecord
from orders.models import Order, OrderEvent
from orders.tests.factories import create_order, order_payload

URL = "/api/v1/order"


def assert_duplicate(response, order):
    assert response.status_code == 409, response.content
    body = response.json()
    assert body["error"] == "Conflict" and body["statusCode"] == 409
    assert body["orderId"] == str(order.pk)
    assert body["displayId"] == order.display_id


@pytest.mark.django_db
def test_body_key_second_create_is_409_with_order_id(operator_a):
    first = operator_a.post(URL, order_payload(idempotencyKey="k-1"), format="json")
    assert first.status_code == 201
    order = Order.objects.get(pk=first.json()["id"])
    # A later repeat, even with a different body, creates nothing.
    again = operator_a.post(URL, order_payload(idempotencyKey="k-1", name="Other"), format="json")
    assert_duplicate(again, order)
    assert Order.objects.count() == 1


@pytest.mark.django_db
def test_header_key_on_create(operator_a):
    first = operator_a.post(URL, order_payload(), format="json", HTTP_IDEMPOTENCY_KEY="hdr-1")
    assert first.status_code == 201
    order = Order.objects.get(pk=first.json()["id"])
    assert order.idempotency_key == "hdr-1"
    assert_duplicate(operator_a.post(URL, order_payload(), format="json", HTTP_IDEMPOTENCY_KEY="hdr-1"), order)
    # The header and the body share one namespace.
    assert_duplicate(operator_a.post(URL, order_payload(idempotencyKey="hdr-1"), format="json"), order)
    assert Order.objects.count() == 1


@pytest.mark.django_db
def test_header_key_too_long(operator_a):
    response = operator_a.post(URL, order_payload(), format="json", HTTP_IDEMPOTENCY_KEY="k" * 256)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()["details"]
    assert Order.objects.count() == 0


@pytest.mark.django_db
def test_same_key_in_two_organizations(operator_a, operator_b):
    assert operator_a.post(URL, order_payload(idempotencyKey="same"), format="json").status_code == 201
    assert operator_b.post(URL, order_payload(idempotencyKey="same"), format="json").status_code == 201


@pytest.mark.django_db
def test_invalid_create_does_not_burn_the_key(operator_a):
    bad = operator_a.post(URL, order_payload(idempotencyKey="k-2", countryCode="XX"), format="json")
    assert bad.status_code == 400
    assert operator_a.post(URL, order_payload(idempotencyKey="k-2"), format="json").status_code == 201


def create_at_once(token: str, keys: list[str]) -> list[tuple[int, dict]]:
    """One Create Order per idempotency key, all released at the same instant from their own
    threads (and database connections); the (status, body) answers in the order of `keys`."""
    barrier = threading.Barrier(len(keys))
    answers: list = [None] * len(keys)

    def worker(index: int) -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        try:
            barrier.wait(timeout=30)
            response = client.post(URL, order_payload(idempotencyKey=keys[index]), format="json")
            answers[index] = (response.status_code, response.json())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(keys))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_with_one_key_make_one_order(operator_a):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks and concurrent transactions")
    threads_count = 20
    answers = create_at_once(operator_a.token, ["race"] * threads_count)
    assert Order.objects.filter(organization=operator_a.org).count() == 1
    order = Order.objects.get(organization=operator_a.org)
    codes = sorted(code for code, _ in answers)
    assert codes == [201] + [409] * (threads_count - 1), answers
    for code, body in answers:
        if code == 201:
            assert body["id"] == str(order.pk)
        else:
            assert body["orderId"] == str(order.pk) and body["displayId"] == order.display_id
    assert OrderEvent.objects.filter(order=order, type="order.created").count() == 1
    assert order.display_id.endswith("-1")  # the losers' counter bumps were rolled back


# ---- generic Idempotency-Key replay on other writes ----------------------------------------


@pytest.mark.django_db
def test_cancel_replay_returns_first_answer_and_acts_once(operator_a):
    order = create_order(operator_a.org)
    url = f"{URL}/{order.pk}/cancel"
    body = {"reason": "other", "comment": "dup"}
    first = operator_a.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="c-1")
    assert first.status_code == 200
    again = operator_a.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="c-1")
    assert again.status_code == 200
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert OrderEvent.objects.filter(order=order, type="order.cancelled").count() == 1
    # Without the key the repeat acts, and the state machine refuses it.
    assert operator_a.post(url, body, format="json").status_code == 409


@pytest.mark.django_db
def test_patch_replay_and_different_body_is_422(operator_a):
    order = create_order(operator_a.org)
    url = f"{URL}/{order.pk}"
    first = operator_a.patch(url, {"name": "One"}, format="json", HTTP_IDEMPOTENCY_KEY="p-1")
    assert first.status_code == 200 and first.json()["name"] == "One"
    again = operator_a.patch(url, {"name": "One"}, format="json", HTTP_IDEMPOTENCY_KEY="p-1")
    assert again.status_code == 200 and again.json() == first.json()
    assert OrderEvent.objects.filter(order=order, type="order.updated").count() == 1
    other = operator_a.patch(url, {"name": "Two"}, format="json", HTTP_IDEMPOTENCY_KEY="p-1")
    assert other.status_code == 422
    assert other.json()["error"] == "Unprocessable Entity" and other.json()["statusCode"] == 422
    order.refresh_from_db()
    assert order.name == "One"


@pytest.mark.django_db
def test_same_key_on_another_path_is_422(operator_a):
    one, two = create_order(operator_a.org), create_order(operator_a.org)
    assert operator_a.post(f"{URL}/{one.pk}/cancel", HTTP_IDEMPOTENCY_KEY="x").status_code == 200
    response = operator_a.post(f"{URL}/{two.pk}/cancel", HTTP_IDEMPOTENCY_KEY="x")
    assert response.status_code == 422
    two.refresh_from_db()
    assert two.status == 0


@pytest.mark.django_db
def test_error_answers_are_replayed_too(operator_a):
    order = create_order(operator_a.org)
    url = f"{URL}/{order.pk}"
    first = operator_a.patch(url, {"countryCode": "XX"}, format="json", HTTP_IDEMPOTENCY_KEY="e-1")
    assert first.status_code == 400
    again = operator_a.patch(url, {"countryCode": "XX"}, format="json", HTTP_IDEMPOTENCY_KEY="e-1")
    assert again.status_code == 400 and again.json() == first.json()


@pytest.mark.django_db
def test_tag_create_replay(operator_a):
    first = operator_a.post("/api/v1/order-tags", {"name": "VIP"}, format="json", HTTP_IDEMPOTENCY_KEY="t-1")
    again = operator_a.post("/api/v1/order-tags", {"name": "VIP"}, format="json", HTTP_IDEMPOTENCY_KEY="t-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()


@pytest.mark.django_db
def test_keys_are_per_organization(operator_a, operator_b):
    a, b = create_order(operator_a.org), create_order(operator_b.org)
    assert operator_a.post(f"{URL}/{a.pk}/cancel", HTTP_IDEMPOTENCY_KEY="shared").status_code == 200
    assert operator_b.post(f"{URL}/{b.pk}/cancel", HTTP_IDEMPOTENCY_KEY="shared").status_code == 200
    assert IdempotencyRecord.objects.filter(key="shared").count() == 2


@pytest.mark.django_db
def test_unhandled_error_releases_the_key(operator_a, monkeypatch):
    """A crash (500) must not leave the key 'in progress' forever: the retry acts normally."""
    from orders import services

    order = create_order(operator_a.org)
    url = f"{URL}/{order.pk}/cancel"
    real = services.order_cancel

    def boom(**kwargs):
        raise RuntimeError("crash")

    monkeypatch.setattr(services, "order_cancel", boom)
    operator_a.raise_request_exception = False
    crashed = operator_a.post(url, HTTP_IDEMPOTENCY_KEY="crash-1")
    assert crashed.status_code == 500
    assert crashed.json()["statusCode"] == 500
    monkeypatch.setattr(services, "order_cancel", real)
    retry = operator_a.post(url, HTTP_IDEMPOTENCY_KEY="crash-1")
    assert retry.status_code == 200, retry.content
    assert retry.json()["status"] == 6


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_take_consecutive_numbers(operator_a):
    """The order's number is taken under the organization's row lock, in the create's
    transaction: concurrent creates get 1..N, each answer shows the number its row has."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks and concurrent transactions")
    threads_count = 16
    answers = create_at_once(operator_a.token, [f"n-{index}" for index in range(threads_count)])
    assert [code for code, _ in answers] == [201] * threads_count, answers
    rows = dict(Order.objects.filter(organization=operator_a.org).values_list("id", "display_id"))
    prefix = operator_a.org.display_id_prefix
    assert sorted(rows.values(), key=lambda d: int(d.rsplit("-", 1)[1])) == [
        f"{prefix}-{n}" for n in range(1, threads_count + 1)
    ]
    assert sorted(Order.objects.filter(organization=operator_a.org).values_list("number", flat=True)) == list(
        range(1, threads_count + 1)
    )
    for _, body in answers:
        assert rows[uuid.UUID(body["id"])] == body["displayId"]
    operator_a.org.refresh_from_db()
    assert operator_a.org.order_counter == threads_count


@pytest.mark.django_db
def test_key_of_a_killed_request_is_reclaimed_after_the_request_timeout(operator_a, monkeypatch, settings):
    """A worker killed while it serves a write leaves the key in progress (no answer stored).
    Within the request timeout a retry is told so (409); after it, the retry performs the write."""
    from datetime import timedelta

    from django.utils import timezone

    from orders import services

    settings.REQUEST_TIMEOUT_SECONDS = 30
    order = create_order(operator_a.org)
    url = f"{URL}/{order.pk}/cancel"
    body = {"reason": "other", "comment": "retry"}
    real = services.order_cancel

    def killed(**kwargs):
        raise SystemExit(1)  # what gunicorn's timeout does to the worker: no answer, no cleanup

    monkeypatch.setattr(services, "order_cancel", killed)
    with pytest.raises(SystemExit):
        operator_a.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="killed-1")
    monkeypatch.setattr(services, "order_cancel", real)
    record = IdempotencyRecord.objects.get(key="killed-1")
    assert record.status_code is None  # left in progress

    busy = operator_a.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="killed-1")
    assert busy.status_code == 409 and "in progress" in busy.json()["message"]
    order.refresh_from_db()
    assert order.status == 0

    IdempotencyRecord.objects.filter(pk=record.pk).update(created_at=timezone.now() - timedelta(seconds=31))
    retry = operator_a.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="killed-1")
    assert retry.status_code == 200, retry.content
    assert retry.json()["status"] == 6
    order.refresh_from_db()
    assert order.status == 6
    assert OrderEvent.objects.filter(order=order, type="order.cancelled").count() == 1
    # The retry's answer is the key's answer from now on.
    again = operator_a.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="killed-1")
    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    assert again.json() == retry.json()
    # A different body with the reclaimed key is still refused.
    other = operator_a.post(url, {"reason": "other", "comment": "x"}, format="json", HTTP_IDEMPOTENCY_KEY="killed-1")
    assert other.status_code == 422
