"""Delete Order (DELETE /api/v1/order/{id}): admin tokens only, test orders or orders still
created, soft-deleted and then absent from every read and list, `order.deleted` recorded."""

from __future__ import annotations

import pytest
from django.test import Client

from orders.models import Order, OrderEvent, OrderStatus
from orders.tests.factories import create_order, order_payload
from orders.tests.helpers import move_to

pytestmark = pytest.mark.django_db


def list_ids(client, **params) -> list[str]:
    response = client.get("/api/v1/order", params)
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["values"]]


def test_admin_deletes_a_created_order_and_it_is_gone_everywhere(org_a, admin_a, operator_a):
    order = create_order(org_a)
    kept = create_order(org_a)
    assert "delete" in admin_a.get(f"/api/v1/order/{order.pk}").json()["allowedActions"]
    assert "delete" not in operator_a.get(f"/api/v1/order/{order.pk}").json()["allowedActions"]

    response = admin_a.delete(f"/api/v1/order/{order.pk}")

    assert response.status_code == 204, response.content
    row = Order.all_objects.get(pk=order.pk)
    assert row.deleted_at is not None and row.status == OrderStatus.CREATED
    deleted = OrderEvent.objects.filter(order_id=order.pk).order_by("sequence").last()
    assert deleted is not None and deleted.type == "order.deleted"
    assert (deleted.actor_type, deleted.actor_label) == ("api_token", "admin-a")
    # Gone from every read and list, for every token of the organization.
    for client in (admin_a, operator_a):
        for path in ("", "/events", "/dispatch/preview"):
            missing = client.get(f"/api/v1/order/{order.pk}{path}")
            assert missing.status_code == 404, (path, missing.content)
            assert missing.json()["statusCode"] == 404
        assert list_ids(client) == [str(kept.pk)]
        assert list_ids(client, q=order.display_id) == []
    assert operator_a.patch(f"/api/v1/order/{order.pk}", {"name": "x"}, format="json").status_code == 404
    assert operator_a.post(f"/api/v1/order/{order.pk}/cancel", {}, format="json").status_code == 404
    assert operator_a.post(f"/api/v1/order/{order.pk}/dispatch", {}, format="json").status_code == 404
    assert Client().get(f"/t/{order.client_token}/").status_code == 404  # the customer's page
    # A second delete is a 404 and records nothing more.
    again = admin_a.delete(f"/api/v1/order/{order.pk}")
    assert again.status_code == 404
    assert OrderEvent.objects.filter(order_id=order.pk, type="order.deleted").count() == 1


@pytest.mark.parametrize(
    "status",
    [OrderStatus.DISPATCHING, OrderStatus.SCHEDULED, OrderStatus.COMPLETED, OrderStatus.CANCELLED],
)
def test_a_real_order_past_created_is_a_409_and_unchanged(org_a, admin_a, status):
    order = move_to(create_order(org_a), status)
    events = OrderEvent.objects.filter(order=order).count()

    response = admin_a.delete(f"/api/v1/order/{order.pk}")

    assert response.status_code == 409, response.content
    body = response.json()
    assert body["statusCode"] == 409 and "only test orders" in body["message"]
    order.refresh_from_db()
    assert order.deleted_at is None and order.status == status
    assert OrderEvent.objects.filter(order=order).count() == events
    assert admin_a.get(f"/api/v1/order/{order.pk}").status_code == 200
    assert "delete" not in admin_a.get(f"/api/v1/order/{order.pk}").json()["allowedActions"]


def test_a_test_order_is_deletable_in_any_status(org_a, admin_a):
    order = move_to(create_order(org_a, test=True), OrderStatus.COMPLETED)
    assert "delete" in admin_a.get(f"/api/v1/order/{order.pk}").json()["allowedActions"]
    assert admin_a.delete(f"/api/v1/order/{order.pk}").status_code == 204
    assert admin_a.get(f"/api/v1/order/{order.pk}").status_code == 404
    assert OrderEvent.objects.filter(order_id=order.pk, type="order.deleted").get().data == {"test": True}


def test_operator_and_viewer_tokens_may_not_delete(org_a, operator_a, viewer_a):
    order = create_order(org_a)
    for client in (operator_a, viewer_a):
        response = client.delete(f"/api/v1/order/{order.pk}")
        assert response.status_code == 403, response.content
        assert response.json()["statusCode"] == 403
    assert Order.objects.filter(pk=order.pk).exists()
    assert not OrderEvent.objects.filter(order=order, type="order.deleted").exists()


def test_another_organizations_order_is_a_404(org_b, admin_a):
    order = create_order(org_b)
    assert admin_a.delete(f"/api/v1/order/{order.pk}").status_code == 404
    assert admin_a.delete("/api/v1/order/not-a-uuid").status_code == 404
    assert Order.objects.filter(pk=order.pk).exists()


def test_the_idempotency_key_of_a_deleted_order_stays_taken(org_a, admin_a):
    created = admin_a.post("/api/v1/order", order_payload(idempotencyKey="erp-1"), format="json")
    assert created.status_code == 201
    assert admin_a.delete(f"/api/v1/order/{created.json()['id']}").status_code == 204

    repeat = admin_a.post("/api/v1/order", order_payload(idempotencyKey="erp-1"), format="json")

    assert repeat.status_code == 409, repeat.content
    assert repeat.json()["orderId"] == created.json()["id"]
    assert Order.all_objects.filter(organization=org_a).count() == 1


def test_delete_replays_with_an_idempotency_key(org_a, admin_a):
    order = create_order(org_a)
    first = admin_a.delete(f"/api/v1/order/{order.pk}", HTTP_IDEMPOTENCY_KEY="del-1")
    second = admin_a.delete(f"/api/v1/order/{order.pk}", HTTP_IDEMPOTENCY_KEY="del-1")
    assert (first.status_code, second.status_code) == (204, 204)
    assert second.headers["Idempotent-Replayed"] == "true"
    assert OrderEvent.objects.filter(order_id=order.pk, type="order.deleted").count() == 1
