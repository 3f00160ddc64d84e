"""The back office: endpoints (secret shown once, test event, disabled shown as such) and the
delivery log with its attempts ("send again")."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from orders.tests.factories import OrganizationFactory, create_order
from webhooks.models import TEST_EVENT, DeliveryAttempt, DeliveryStatus, WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    user = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(user)
    return client


@pytest.fixture
def org():
    return OrganizationFactory(name="Alpha", slug="alpha")


def test_add_endpoint_shows_secret_once_and_validates_url(staff, org):
    url = "/admin/webhooks/webhookendpoint/add/"
    bad = staff.post(url, {"organization": org.pk, "url": "ftp://x.example.com", "active": "on"})
    assert bad.status_code == 200 and "http:// or https://" in bad.content.decode()
    response = staff.post(
        url,
        {"organization": org.pk, "url": "https://erp.example.com/h", "events": ["order.created"], "active": "on"},
        follow=True,
    )
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.events == ["order.created"] and endpoint.secret.startswith("whsec_")
    assert endpoint.secret in response.content.decode()
    page = staff.get(f"/admin/webhooks/webhookendpoint/{endpoint.pk}/change/").content.decode()
    assert endpoint.secret not in page


def test_endpoint_list_shows_disabled_and_sends_a_test_event(staff, org, make_endpoint):
    endpoint, _ = make_endpoint(org, "https://a.example.com/")
    make_endpoint(org, "https://b.example.com/")
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(active=False, disabled_reason="Failing for 72 hours.")
    page = staff.get("/admin/webhooks/webhookendpoint/").content.decode()
    assert "disabled</strong> Failing for 72 hours." in page
    staff.post(
        "/admin/webhooks/webhookendpoint/",
        {"action": "send_test_event", "_selected_action": [str(endpoint.pk)]},
    )
    assert list(WebhookDelivery.objects.values_list("endpoint", "event_type")) == [(endpoint.pk, TEST_EVENT)]


def test_delivery_log_with_attempts_and_send_again(staff, org, make_endpoint):
    endpoint, _ = make_endpoint(org, "https://a.example.com/", events=["order.created"])
    create_order(org)
    delivery = WebhookDelivery.objects.get()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.FAILED, attempts=2, next_attempt_at=None
    )
    DeliveryAttempt.objects.create(delivery=delivery, number=1, status_code=500, response_excerpt="<b>oops</b>")
    DeliveryAttempt.objects.create(delivery=delivery, number=2, error="TimeoutError: no answer within 5 s")
    page = staff.get(f"/admin/webhooks/webhookdelivery/{delivery.pk}/change/").content.decode()
    assert "500" in page and "&lt;b&gt;oops&lt;/b&gt;" in page and "no answer within 5 s" in page
    staff.post("/admin/webhooks/webhookdelivery/", {"action": "send_again", "_selected_action": [str(delivery.pk)]})
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.PENDING and delivery.next_attempt_at is not None


def test_changelists_query_count_is_constant(staff, org, make_endpoint):
    for index in range(2):
        make_endpoint(org, f"https://{index}.example.com/", events=["order.created"])
    create_order(org)

    def count(url):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            assert staff.get(url).status_code == 200
        return len(ctx)

    small = (count("/admin/webhooks/webhookdelivery/"), count("/admin/webhooks/webhookendpoint/"))
    other = OrganizationFactory(name="Beta", slug="beta")
    for index in range(25):
        make_endpoint(other, f"https://b{index}.example.com/", events=["order.created"])
    for _ in range(2):
        create_order(other)
    assert WebhookDelivery.objects.count() > 50
    assert (count("/admin/webhooks/webhookdelivery/"), count("/admin/webhooks/webhookendpoint/")) == small
