"""The operator revokes a customer's link from the order list."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.urls import reverse

from backoffice.tests.conftest import staff_client
from orders.models import Order
from orders.tests.factories import create_order

pytestmark = pytest.mark.django_db


def test_rotating_the_link_closes_the_old_one_and_opens_a_new_one(org_a, org_b, client):
    from accounts.models import Role

    order = create_order(org_a)
    old = urlsplit(order.client_url).path
    assert client.get(old).status_code == 200
    changelist = reverse("admin:orders_order_changelist")
    # Another organization's admin selects the order: nothing changes.
    staff_client(org_b, Role.ADMIN).post(changelist, {"action": "rotate_client_links", "_selected_action": [order.pk]})
    assert Order.objects.get(pk=order.pk).client_token == order.client_token
    response = staff_client(org_a, Role.OPERATOR).post(
        changelist, {"action": "rotate_client_links", "_selected_action": [order.pk]}, follow=True
    )
    assert response.status_code == 200 and "1 customer link(s) replaced" in response.content.decode()
    order.refresh_from_db()
    new = urlsplit(order.client_url).path
    assert new != old and client.get(old).status_code == 404 and client.get(new).status_code == 200
    assert order.events.filter(type="order.updated", data__fields=["clientUrl"]).exists()
