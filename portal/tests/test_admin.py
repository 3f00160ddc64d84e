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


def test_an_installer_companys_admin_sets_its_working_hours_on_its_organization_page(installer_org, org_a):
    from accounts.models import Role
    from portal.models import WorkingHours

    url = reverse("admin:accounts_organization_change", args=[installer_org.pk])
    partner_admin = staff_client(installer_org, Role.ADMIN)
    page = partner_admin.get(url).content.decode()
    assert "Working hours" in page and 'name="working_hours-TOTAL_FORMS"' in page
    form = {
        "name": installer_org.name,
        "email": "",
        "phone_number": "",
        "time_zone": "Europe/Oslo",
        "routing_strategy": "priority",
        "offers_at_once": 1,
        "offer_deadline_hours": 24,
        "working_hours-TOTAL_FORMS": 2,
        "working_hours-INITIAL_FORMS": 0,
        "working_hours-MIN_NUM_FORMS": 0,
        "working_hours-MAX_NUM_FORMS": 7,
        "working_hours-0-weekday": 0,
        "working_hours-0-start": "07:00",
        "working_hours-0-end": "15:00",
        "working_hours-1-weekday": 0,
        "working_hours-1-start": "08:00",
        "working_hours-1-end": "09:00",
    }
    # The same weekday twice is an error on the page, not a 500; nothing is saved.
    response = partner_admin.post(url, form)
    assert response.status_code == 200 and "errornote" in response.content.decode()
    assert not WorkingHours.objects.exists()
    form["working_hours-1-weekday"] = 5
    form["working_hours-1-start"], form["working_hours-1-end"] = "12:00", "09:00"
    response = partner_admin.post(url, form)
    assert response.status_code == 200 and "Must be after the start." in response.content.decode()
    form["working_hours-1-start"], form["working_hours-1-end"] = "09:00", "12:00"
    response = partner_admin.post(url, form)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert sorted(WorkingHours.objects.values_list("installer_id", "weekday")) == [
        (installer_org.pk, 0),
        (installer_org.pk, 5),
    ]
    # A router's organization page has no working hours; a router's staff never reach the
    # installer's page.
    router_admin = staff_client(org_a, Role.ADMIN)
    own = router_admin.get(reverse("admin:accounts_organization_change", args=[org_a.pk])).content.decode()
    assert "working_hours-TOTAL_FORMS" not in own
    assert router_admin.get(url).status_code == 404
