"""The back office and test or deleted orders: the delete button (admins, deletable orders),
the list's test-order filter, the dashboard without them, test-mode tokens in the admin and on
the command line."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken, hash_token
from orders.models import Order, OrderEvent, OrderStatus
from orders.tests.factories import create_order, order_payload
from orders.tests.helpers import move_to

pytestmark = pytest.mark.django_db


def changelist_ids(client, **params) -> set:
    response = client.get(reverse("admin:orders_order_changelist"), params)
    assert response.status_code == 200
    return {o.pk for o in response.context["cl"].result_list}


def test_admin_deletes_an_order_from_its_page(org_a, staff_admin_a):
    order = create_order(org_a)
    delete_url = reverse("admin:orders_order_action", args=[order.pk, "delete"])
    assert delete_url in staff_admin_a.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert staff_admin_a.get(delete_url).status_code == 200  # the confirmation page

    response = staff_admin_a.post(delete_url)

    assert response.status_code == 302 and response.url == reverse("admin:orders_order_changelist")
    assert Order.all_objects.get(pk=order.pk).deleted_at is not None
    event = OrderEvent.objects.filter(order_id=order.pk).order_by("sequence").last()
    assert event is not None and event.type == "order.deleted"
    assert (event.actor_type, event.actor_label) == ("user", staff_admin_a.user.username)
    assert staff_admin_a.get(reverse("admin:orders_order_change", args=[order.pk])).status_code == 404
    assert order.pk not in changelist_ids(staff_admin_a, test="all")


def test_only_admins_get_the_delete_button_and_only_for_deletable_orders(org_a, staff_a, staff_admin_a):
    created = create_order(org_a)
    dispatching = move_to(create_order(org_a), OrderStatus.DISPATCHING)
    completed_test = move_to(create_order(org_a, test=True), OrderStatus.COMPLETED)
    for client, order, shown in (
        (staff_a, created, False),
        (staff_admin_a, dispatching, False),
        (staff_admin_a, completed_test, True),
    ):
        url = reverse("admin:orders_order_action", args=[order.pk, "delete"])
        page = client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
        assert (url in page) is shown
        if not shown:
            assert client.post(url).status_code == 404
            assert Order.objects.filter(pk=order.pk).exists()
    assert (
        staff_admin_a.post(reverse("admin:orders_order_action", args=[completed_test.pk, "delete"])).status_code == 302
    )
    assert not Order.objects.filter(pk=completed_test.pk).exists()


def test_order_list_shows_real_orders_unless_test_ones_are_asked_for(org_a, staff_a):
    real, test = create_order(org_a), create_order(org_a, test=True)
    assert changelist_ids(staff_a) == {real.pk}
    assert changelist_ids(staff_a, test="yes") == {test.pk}
    assert changelist_ids(staff_a, test="all") == {real.pk, test.pk}
    assert staff_a.get(reverse("admin:orders_order_change", args=[test.pk])).status_code == 200


def test_dashboard_counts_neither_test_nor_deleted_orders(org_a, staff_a):
    from orders import services
    from orders.actors import Actor

    create_order(org_a)
    move_to(create_order(org_a, test=True), OrderStatus.DISPATCHING)
    deleted = create_order(org_a)
    services.order_delete(order_id=deleted.pk, organization=org_a, actor=Actor.system("test"))

    response = staff_a.get(reverse("backoffice-dashboard"))

    counts = {s["name"]: s["count"] for s in response.context["statuses"]}
    assert counts["created"] == 1 and sum(counts.values()) == 1
    assert response.context["created_30d"] == 1
    assert response.context["oldest_dispatching"] == []


def test_test_mode_token_from_the_admin(org_a, staff_admin_a):
    staff_admin_a.post(
        reverse("admin:accounts_apitoken_add"),
        {
            "membership": staff_admin_a.membership.pk,
            "name": "sandbox",
            "expires_at_0": "",
            "expires_at_1": "",
            "test": "on",
        },
    )
    staff_admin_a.post(
        reverse("admin:accounts_apitoken_add"),
        {"membership": staff_admin_a.membership.pk, "name": "live", "expires_at_0": "", "expires_at_1": ""},
    )
    assert dict(ApiToken.objects.values_list("name", "test")) == {"sandbox": True, "live": False}


def test_create_api_token_test_flag(org_a, staff_admin_a):
    out = io.StringIO()
    call_command("create_api_token", org_a.slug, "--user", staff_admin_a.user.username, "--test", stdout=out)
    raw = out.getvalue().strip()
    assert ApiToken.objects.get(key_hash=hash_token(raw)).test is True
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    created = client.post("/api/v1/order", order_payload(), format="json")
    assert created.status_code == 201 and created.json()["test"] is True

    out = io.StringIO()
    call_command("create_api_token", org_a.slug, "--user", staff_admin_a.user.username, stdout=out)
    assert ApiToken.objects.get(key_hash=hash_token(out.getvalue().strip())).test is False


def test_a_deleted_orders_offers_leave_the_offer_list(org_a, staff_admin_a):
    from dispatch.models import Offer, OfferStatus
    from orders import services
    from orders.actors import Actor
    from orders.tests.factories import OrganizationFactory

    installer = OrganizationFactory(is_installer=True, name="Installer One")
    kept = move_to(create_order(org_a, test=True), OrderStatus.DISPATCHING)
    gone = move_to(create_order(org_a, test=True), OrderStatus.DISPATCHING)
    now = timezone.now()
    for order in (kept, gone):
        Offer.objects.create(order=order, installer=installer, status=OfferStatus.SENT, sent_at=now)
    services.order_delete(order_id=gone.pk, organization=org_a, actor=Actor.system("test"))

    response = staff_admin_a.get(reverse("admin:dispatch_offer_changelist"))

    assert response.status_code == 200
    assert [o.order_id for o in response.context["cl"].result_list] == [kept.pk]
