"""Cancel's `reason` and `comment` lengths count what the client sent (the schema's maxLength):
surrounding whitespace does not sneak an over-long value through, and is dropped after."""

import pytest

from orders.models import Order, OrderEvent
from orders.tests.factories import order_payload

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("field,limit", [("comment", 2000), ("reason", 500)])
def test_an_over_long_value_is_refused_even_with_surrounding_whitespace(operator_a, field, limit):
    order_id = operator_a.post("/api/v1/order", order_payload(), format="json").json()["id"]
    response = operator_a.post(f"/api/v1/order/{order_id}/cancel", {field: "\xa0" + "x" * limit}, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["details"]
    assert Order.objects.get(pk=order_id).status == 0


def test_surrounding_whitespace_is_dropped_and_a_blank_reason_refused(operator_a):
    order_id = operator_a.post("/api/v1/order", order_payload(), format="json").json()["id"]
    blank = operator_a.post(f"/api/v1/order/{order_id}/cancel", {"reason": "   "}, format="json")
    assert blank.status_code == 400 and "reason" in blank.json()["details"]
    body = {"reason": " no_capacity ", "comment": "  " + "y" * 1998}
    response = operator_a.post(f"/api/v1/order/{order_id}/cancel", body, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["cancelReason"] is not None
    event = OrderEvent.objects.get(order_id=order_id, type="order.cancelled")
    assert "y" * 1998 in str(event.data) and "  y" not in str(event.data)
