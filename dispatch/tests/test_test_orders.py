"""Test orders: made with test-mode tokens, offered only to the organization's own test
installer (made on first use), never to a real partner; hidden from the default lists;
deletable in any status, which withdraws their offers and removes their booking."""

from __future__ import annotations

from typing import cast

import pytest
from rest_framework.test import APIClient

from accounts.models import Membership, Organization, Role
from dispatch.models import Booking, Offer, OfferStatus
from dispatch.tests.conftest import api_client_for, make_installer, make_partner
from orders.models import Order, OrderStatus
from orders.tests.factories import MembershipFactory, create_order, make_token, order_payload

pytestmark = pytest.mark.django_db


def sandbox_client(organization, role: str = Role.ADMIN) -> APIClient:
    client = APIClient()
    membership = cast(Membership, MembershipFactory(organization=organization, role=role))
    raw = make_token(membership, name="sandbox", test=True)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def real_partner(org_a):
    installer = make_installer("Real Installers")
    make_partner(org_a, installer)  # covers 0100-0999, the order's 0154 too
    return installer


def test_a_test_token_creates_test_orders_and_a_live_token_real_ones(org_a, operator_a):
    sandbox = sandbox_client(org_a)
    made = sandbox.post("/api/v1/order", order_payload(), format="json")
    real = operator_a.post("/api/v1/order", order_payload(), format="json")
    assert made.status_code == 201 and real.status_code == 201
    assert made.json()["test"] is True and real.json()["test"] is False
    assert Order.objects.get(pk=made.json()["id"]).test is True
    assert Order.objects.get(pk=real.json()["id"]).test is False


def test_test_orders_are_left_out_of_the_default_list(org_a, operator_a):
    real = create_order(org_a)
    test = create_order(org_a, test=True)

    def ids(**params):
        response = operator_a.get("/api/v1/order", params)
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["values"]], response.json().get("count")

    assert ids() == ([str(real.pk)], 1)
    assert ids(test="true") == ([str(test.pk)], 1)
    assert ids(test="false") == ([str(real.pk)], 1)
    assert operator_a.get(f"/api/v1/order/{test.pk}").json()["test"] is True  # readable by id
    for bad in ("maybe", ""):
        response = operator_a.get("/api/v1/order", {"test": bad})
        assert response.status_code == 400 and "test" in response.json()["details"]


def test_a_test_order_goes_to_the_test_installer_only(org_a, operator_a, real_partner):
    order = create_order(org_a, test=True)
    assert not Organization.objects.filter(test_installer_for=org_a).exists()  # made on demand

    response = operator_a.post(f"/api/v1/order/{order.pk}/dispatch", {}, format="json")

    assert response.status_code == 200, response.content
    test_installer = Organization.objects.get(test_installer_for=org_a)
    assert test_installer.is_installer and test_installer.pk != real_partner.pk
    assert list(Offer.objects.filter(order=order).values_list("installer_id", flat=True)) == [test_installer.pk]
    assert not Offer.objects.filter(installer=real_partner).exists()
    # A second test order reuses the same test installer.
    second = create_order(org_a, test=True)
    operator_a.post(f"/api/v1/order/{second.pk}/dispatch", {}, format="json")
    assert Organization.objects.filter(test_installer_for=org_a).count() == 1
    assert Offer.objects.get(order=second).installer_id == test_installer.pk


def test_a_real_order_never_goes_to_the_test_installer(org_a, operator_a, real_partner):
    operator_a.post(f"/api/v1/order/{create_order(org_a, test=True).pk}/dispatch", {}, format="json")
    test_installer = Organization.objects.get(test_installer_for=org_a)
    # Even a partnership with the test installer does not make it a candidate for real orders.
    make_partner(org_a, test_installer, priority=1)
    order = create_order(org_a)

    response = operator_a.post(f"/api/v1/order/{order.pk}/dispatch", {}, format="json")

    assert response.status_code == 200, response.content
    assert [o.installer_id for o in Offer.objects.filter(order=order)] == [real_partner.pk]
    preview = operator_a.get(f"/api/v1/order/{create_order(org_a).pk}/dispatch/preview").json()
    assert str(test_installer.pk) not in {c["installer"]["id"] for c in preview["candidates"]}


def test_naming_a_real_partner_for_a_test_order_is_a_400(org_a, operator_a, real_partner):
    order = create_order(org_a, test=True)
    response = operator_a.post(
        f"/api/v1/order/{order.pk}/dispatch", {"installerId": str(real_partner.pk)}, format="json"
    )
    assert response.status_code == 400, response.content
    assert "installerId" in response.json()["details"]
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CREATED
    assert not Offer.objects.filter(order=order).exists()


def test_a_test_order_cannot_be_preassigned_to_a_real_partner(org_a, real_partner):
    sandbox = sandbox_client(org_a)
    body = order_payload(actorAssignments=[{"actorSlug": "installer", "organizationId": str(real_partner.pk)}])
    response = sandbox.post("/api/v1/order", body, format="json")
    assert response.status_code == 400, response.content
    assert "actorAssignments[0].organizationId" in response.json()["details"]
    assert not Order.all_objects.exists()


def test_when_the_test_installer_declines_no_real_partner_is_offered(org_a, operator_a, real_partner):
    order = create_order(org_a, test=True)
    operator_a.post(f"/api/v1/order/{order.pk}/dispatch", {}, format="json")
    test_installer = Organization.objects.get(test_installer_for=org_a)
    offer = Offer.objects.get(order=order)
    installer_app = api_client_for(test_installer, "test-installer-app")

    response = installer_app.post(f"/api/v1/offers/{offer.pk}/decline", {"reason": "testing"}, format="json")

    assert response.status_code == 200, response.content
    assert Order.objects.get(pk=order.pk).status == OrderStatus.DECLINED
    assert not Offer.objects.filter(installer=real_partner).exists()


def test_deleting_a_dispatched_test_order_withdraws_its_offers(org_a, operator_a, admin_a, real_partner):
    order = create_order(org_a, test=True)
    operator_a.post(f"/api/v1/order/{order.pk}/dispatch", {}, format="json")
    offer = Offer.objects.get(order=order)
    installer_app = api_client_for(offer.installer, "test-installer-app")
    assert installer_app.get(f"/api/v1/order/{order.pk}").status_code == 200

    assert admin_a.delete(f"/api/v1/order/{order.pk}").status_code == 204

    offer.refresh_from_db()
    assert offer.status == OfferStatus.WITHDRAWN
    assert installer_app.get(f"/api/v1/order/{order.pk}").status_code == 404
    assert installer_app.get("/api/v1/offers").json()["values"] == []
    assert operator_a.get("/api/v1/offers").json()["values"] == []
    assert installer_app.post(f"/api/v1/offers/{offer.pk}/accept", {}, format="json").status_code == 404


def test_deleting_a_booked_test_order_removes_its_booking(org_a, operator_a, admin_a):
    order = create_order(org_a, test=True)
    operator_a.post(f"/api/v1/order/{order.pk}/dispatch", {}, format="json")
    offer = Offer.objects.get(order=order)
    installer_app = api_client_for(offer.installer, "test-installer-app")
    assert installer_app.post(f"/api/v1/offers/{offer.pk}/accept", {}, format="json").status_code == 200
    booking = {"startAt": "2030-01-07T09:00:00+01:00", "endAt": "2030-01-07T12:00:00+01:00"}
    assert operator_a.put(f"/api/v1/order/{order.pk}/booking", booking, format="json").status_code == 200
    assert Booking.objects.filter(order_id=order.pk).exists()

    assert admin_a.delete(f"/api/v1/order/{order.pk}").status_code == 204

    assert not Booking.objects.filter(order_id=order.pk).exists()
    assert installer_app.get(f"/api/v1/order/{order.pk}").status_code == 404
