"""The webhooks panel of the back-office dashboard: failed deliveries (newest 20) and disabled or
failing endpoints with their reason, of the user's organizations only, in a bounded number of
queries."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from backoffice.tests.conftest import staff_client
from orders.tests.factories import create_order
from webhooks import selectors
from webhooks.models import DeliveryStatus, WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db

DASHBOARD = reverse("backoffice-dashboard")


def fail_all(endpoint, *, code=500, error="HTTP 500") -> None:
    WebhookDelivery.objects.filter(endpoint=endpoint).update(
        status=DeliveryStatus.FAILED, attempts=17, last_status_code=code, last_error=error
    )


def panel(response) -> str:
    body = response.content.decode()
    start = body.index('id="panel-webhook_failures"')
    return body[start : body.index("</div>", start)]


@pytest.fixture
def staff_a(org_a):
    return staff_client(org_a)


@pytest.fixture
def superuser_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.com", "pw"))
    return client


@pytest.fixture
def a_failures(org_a, make_endpoint):
    """Org A: a disabled endpoint with two failed deliveries, a failing one, a healthy one."""
    dead, _ = make_endpoint(org_a, "https://dead.alpha.example.com/hooks", events=["order.created"])
    flaky, _ = make_endpoint(org_a, "https://flaky.alpha.example.com/hooks", events=["order.cancelled"])
    make_endpoint(org_a, "https://fine.alpha.example.com/hooks", events=["order.updated"])
    orders = [create_order(org_a), create_order(org_a)]
    fail_all(dead)
    WebhookEndpoint.objects.filter(pk=dead.pk).update(
        active=False,
        failing_since=timezone.now() - datetime.timedelta(days=4),
        disabled_reason="Disabled automatically: every attempt failed for 72 hours.",
    )
    WebhookEndpoint.objects.filter(pk=flaky.pk).update(failing_since=timezone.now() - datetime.timedelta(hours=2))
    return {"dead": dead, "flaky": flaky, "orders": orders}


def test_owner_sees_failed_deliveries_and_troubled_endpoints(staff_a, a_failures):
    response = staff_a.get(DASHBOARD)
    assert response.status_code == 200
    html = panel(response)
    # Endpoints: the disabled one with its reason, the failing one with its time; not the healthy one.
    assert "dead.alpha.example.com" in html and "Disabled automatically: every attempt failed for 72 hours." in html
    assert "flaky.alpha.example.com" in html and "Failing since" in html
    assert "fine.alpha.example.com" not in html
    assert html.count("<tr data-endpoint=") == 2
    assert html.index("dead.alpha") < html.index("flaky.alpha")  # disabled first
    # Deliveries: both failed order.created deliveries, newest first, with the order and the answer.
    rows = html.count("<tr data-delivery=")
    assert rows == 2
    newest, oldest = a_failures["orders"][1], a_failures["orders"][0]
    assert html.index(newest.display_id) < html.index(oldest.display_id)
    assert "order.created" in html and "HTTP 500" in html and ">17<" in html
    # The last error shows beside the endpoint too, and every row links to the back office.
    assert "Last error: HTTP 500" in html
    assert f"/admin/webhooks/webhookendpoint/{a_failures['dead'].pk}/change/" in html
    delivery = WebhookDelivery.objects.filter(endpoint=a_failures["dead"]).first()
    assert f"/admin/webhooks/webhookdelivery/{delivery.pk}/change/" in html
    assert f"/admin/orders/order/{newest.pk}/change/" in html


def test_other_organization_sees_nothing_of_a(org_b, a_failures, make_endpoint):
    staff_b = staff_client(org_b)
    html = panel(staff_b.get(DASHBOARD))
    assert "alpha.example.com" not in html
    assert "Disabled automatically" not in html
    for order in a_failures["orders"]:
        assert order.display_id not in html and str(order.pk) not in html
    assert "No failed webhook delivery." in html and "Every endpoint is active and answering." in html

    # B's own failure shows, still nothing of A.
    endpoint, _ = make_endpoint(org_b, "https://beta.example.com/hooks", events=["order.created"])
    b_order = create_order(org_b)
    fail_all(endpoint, code=None, error="ConnectionRefusedError: [Errno 111] Connection refused")
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=timezone.now())
    html = panel(staff_b.get(DASHBOARD))
    assert b_order.display_id in html and "Connection refused" in html and "beta.example.com" in html
    assert "alpha.example.com" not in html and a_failures["orders"][0].display_id not in html


def test_superuser_sees_every_organization_with_its_name(superuser_client, org_b, a_failures, make_endpoint):
    endpoint, _ = make_endpoint(org_b, "https://beta.example.com/hooks", events=["order.created"])
    create_order(org_b)
    fail_all(endpoint)
    html = panel(superuser_client.get(DASHBOARD))
    assert "alpha.example.com" in html and "beta.example.com" in html
    assert "Alpha Energy" in html and "Beta Retail" in html


def test_queries_bounded_and_list_capped(staff_a, org_a, a_failures, make_endpoint):
    def count() -> tuple[int, str]:
        with CaptureQueriesContext(connection) as ctx:
            response = staff_a.get(DASHBOARD)
        assert response.status_code == 200
        return len(ctx.captured_queries), panel(response)

    few, _ = count()
    more = [make_endpoint(org_a, f"https://more{i}.alpha.example.com/", events=["order.created"])[0] for i in range(4)]
    for _ in range(25):
        create_order(org_a)
    for endpoint in WebhookEndpoint.objects.filter(organization=org_a):
        fail_all(endpoint)
    WebhookEndpoint.objects.filter(pk__in=[e.pk for e in more]).update(active=False, disabled_reason="Gone.")
    assert WebhookDelivery.objects.filter(status=DeliveryStatus.FAILED).count() > selectors.DASHBOARD_LIMIT
    many, html = count()
    assert many == few
    assert html.count("<tr data-delivery=") == selectors.DASHBOARD_LIMIT
    assert "The 20 newest are shown" in html
    assert html.count("<tr data-endpoint=") == 6 and html.count("Gone.") == 4
