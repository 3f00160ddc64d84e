"""The dashboard: the user's organizations only, a server-rendered chart, bounded queries, panels."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from backoffice import dashboard
from orders.models import Order, OrderStatus
from orders.tests.factories import create_order

pytestmark = pytest.mark.django_db


def _queries(client):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("backoffice-dashboard"))
    assert response.status_code == 200
    return response, len(ctx.captured_queries)


def test_dashboard_counts_only_own_orders(org_a, org_b, staff_a):
    mine = [create_order(org_a) for _ in range(3)]
    create_order(org_b)
    Order.objects.filter(pk=mine[0].pk).update(status=OrderStatus.DISPATCHING)
    Order.objects.filter(pk=mine[1].pk).update(created_at=timezone.now() - datetime.timedelta(days=3))
    response, _ = _queries(staff_a)
    counts = {s["name"]: s["count"] for s in response.context["statuses"]}
    assert counts["created"] == 2 and counts["dispatching"] == 1 and sum(counts.values()) == 3
    bars = response.context["chart"]["bars"]
    assert len(bars) == 30
    assert bars[-1]["count"] == 2 and bars[-4]["count"] == 1
    assert [o.pk for o in response.context["oldest_dispatching"]] == [mine[0].pk]
    body = response.content.decode()
    assert "<svg" in body and 'data-count="2"' in body and mine[0].display_id in body
    assert "Offers about to expire" in body and "Failed webhook deliveries" in body


def test_dashboard_queries_are_bounded(org_a, staff_a):
    create_order(org_a)
    _, few = _queries(staff_a)
    for _ in range(20):
        create_order(org_a)
    Order.objects.filter(organization=org_a).update(status=OrderStatus.DISPATCHING)
    response, many = _queries(staff_a)
    assert few == many
    assert len(response.context["oldest_dispatching"]) == dashboard.OLDEST_LIMIT


def test_admin_index_links_to_dashboard(staff_a):
    assert reverse("backoffice-dashboard") in staff_a.get("/admin/").content.decode()
