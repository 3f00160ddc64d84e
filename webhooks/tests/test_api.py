"""`/api/v1/webhooks`: manage endpoints per organization; the secret is shown once."""

from __future__ import annotations

import base64

import pytest

from webhooks.models import WebhookEndpoint

pytestmark = pytest.mark.django_db

URL = "https://erp.example.com/hooks"


def create(client, **body):
    return client.post("/api/v1/webhooks", {"url": URL, **body}, format="json")


def test_create_shows_the_secret_once(admin_a):
    response = create(admin_a, events=["order.created", "order.completed", "order.created"], description="ERP")
    assert response.status_code == 201, response.content
    body = response.json()
    secret = body.pop("secret")
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) >= 24
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.secret == secret and endpoint.organization == admin_a.org
    assert body == {
        "id": str(endpoint.pk),
        "url": URL,
        "description": "ERP",
        "events": ["order.created", "order.completed"],
        "active": True,
        "disabledReason": None,
        "failingSince": None,
        "secretRotatedAt": None,
        "createdAt": body["createdAt"],
        "updatedAt": body["updatedAt"],
    }
    assert "secret" not in admin_a.get(f"/api/v1/webhooks/{endpoint.pk}").json()
    listed = admin_a.get("/api/v1/webhooks").json()
    assert listed["count"] == 1 and "secret" not in listed["values"][0]
    assert secret not in str(listed)


@pytest.mark.parametrize(
    "body, field",
    [
        ({"url": "ftp://example.com/x"}, "url"),
        ({"url": "javascript:alert(1)"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"url": "https:///nohost"}, "url"),
        ({"url": ""}, "url"),
        ({"events": ["order.exploded"]}, "events[0]"),
        ({"events": "order.created"}, "events"),
    ],
)
def test_bad_input_is_400_naming_the_field(admin_a, body, field):
    response = admin_a.post("/api/v1/webhooks", {"url": URL, **body}, format="json")
    assert response.status_code == 400, response.content
    data = response.json()
    assert data["statusCode"] == 400 and data["error"] == "Bad Request"
    assert field in data["details"], data
    assert not WebhookEndpoint.objects.exists()


def test_patch_rotate_test_and_delete(operator_a):
    endpoint_id = create(operator_a).json()["id"]
    response = operator_a.patch(
        f"/api/v1/webhooks/{endpoint_id}", {"events": ["order.cancelled"], "active": False}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["events"] == ["order.cancelled"] and response.json()["active"] is False
    assert response.json()["disabledReason"] == "Disabled by a user."
    old = WebhookEndpoint.objects.get().secret
    rotated = operator_a.post(f"/api/v1/webhooks/{endpoint_id}/rotate-secret").json()
    endpoint = WebhookEndpoint.objects.get()
    assert rotated["secret"] == endpoint.secret != old and endpoint.previous_secret == old
    assert rotated["secretRotatedAt"] is not None
    test = operator_a.post(f"/api/v1/webhooks/{endpoint_id}/test")
    assert test.status_code == 202 and test.json()["event"] == "webhook.test" and test.json()["status"] == "pending"
    deliveries = operator_a.get(f"/api/v1/webhooks/{endpoint_id}/deliveries").json()
    assert deliveries["count"] == 1 and deliveries["values"][0]["id"] == test.json()["id"]
    assert operator_a.delete(f"/api/v1/webhooks/{endpoint_id}").status_code == 204
    assert not WebhookEndpoint.objects.exists()
    assert operator_a.get(f"/api/v1/webhooks/{endpoint_id}").status_code == 404


def test_viewer_reads_but_cannot_manage(admin_a, viewer_a):
    endpoint_id = create(admin_a).json()["id"]
    assert viewer_a.get("/api/v1/webhooks").json()["count"] == 1
    for response in (
        create(viewer_a),
        viewer_a.patch(f"/api/v1/webhooks/{endpoint_id}", {"active": False}, format="json"),
        viewer_a.delete(f"/api/v1/webhooks/{endpoint_id}"),
        viewer_a.post(f"/api/v1/webhooks/{endpoint_id}/rotate-secret"),
    ):
        assert response.status_code == 403 and response.json()["statusCode"] == 403
    assert WebhookEndpoint.objects.get().active


def test_another_organizations_endpoint_is_404(admin_a, operator_b, anon):
    endpoint_id = create(admin_a).json()["id"]
    assert operator_b.get("/api/v1/webhooks").json() == {"values": [], "count": 0}
    for response in (
        operator_b.get(f"/api/v1/webhooks/{endpoint_id}"),
        operator_b.patch(f"/api/v1/webhooks/{endpoint_id}", {"active": False}, format="json"),
        operator_b.delete(f"/api/v1/webhooks/{endpoint_id}"),
        operator_b.post(f"/api/v1/webhooks/{endpoint_id}/rotate-secret"),
        operator_b.get(f"/api/v1/webhooks/{endpoint_id}/deliveries"),
        operator_b.get("/api/v1/webhooks/not-a-uuid"),
    ):
        assert response.status_code == 404
        assert response.json() == {"error": "Not Found", "message": "Webhook endpoint not found.", "statusCode": 404}
    assert WebhookEndpoint.objects.get().active
    assert anon.get("/api/v1/webhooks").status_code == 401


def test_list_query_count_is_constant(admin_a, django_assert_max_num_queries):
    create(admin_a)
    with django_assert_max_num_queries(4):
        assert admin_a.get("/api/v1/webhooks").json()["count"] == 1
    for _ in range(30):
        create(admin_a)
    with django_assert_max_num_queries(4):
        assert admin_a.get("/api/v1/webhooks?pageSize=50").json()["count"] == 31
