import pytest

from orders.tests.factories import order_payload

pytestmark = pytest.mark.django_db


def test_healthz(client):
    assert client.get("/healthz").json() == {"status": "ok"}


def test_create_and_read_order(operator_a):
    response = operator_a.post("/api/v1/order", order_payload(), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["value"] == body["id"]
    assert body["status"] == 0 and body["statusName"] == "created"
    assert body["phoneNumber"] == "+4722123456"
    got = operator_a.get(f"/api/v1/order/{body['id']}").json()
    assert got["displayId"] == body["displayId"] == "A-1"


def test_other_org_gets_404(operator_a, operator_b):
    order_id = operator_a.post("/api/v1/order", order_payload(), format="json").json()["id"]
    response = operator_b.get(f"/api/v1/order/{order_id}")
    assert response.status_code == 404
    assert response.json() == {"error": "Not Found", "message": "Order not found.", "statusCode": 404}
