"""Every illegal move answers 409 (or 404/422 where the contract says) and changes nothing."""

import pytest

from dispatch.models import Booking, Offer
from dispatch.tests.conftest import api_client_for, make_installer, make_partner
from orders.models import Order, OrderEvent, WorkflowStep
from orders.tests.factories import order_payload

pytestmark = pytest.mark.django_db

SLOT = {"startAt": "2030-06-03T08:00:00+00:00", "endAt": "2030-06-03T10:00:00+00:00"}


@pytest.fixture
def setup(operator_a, installer_client, installer_org, org_a):
    make_partner(org_a, installer_org, priority=1)
    return operator_a, installer_client


def snapshot(order_id):
    order = Order.objects.get(pk=order_id)
    return (
        order.status,
        order.installer_id,
        order.event_seq,
        OrderEvent.objects.filter(order=order).count(),
        sorted(Offer.objects.filter(order=order).values_list("status", flat=True)),
        list(Booking.objects.filter(order=order).values_list("start_at", "end_at")),
        order.completed_steps,
    )


def new_order(operator, **overrides):
    return operator.post("/api/v1/order", order_payload(**overrides), format="json").json()["id"]


def to_assigned(operator, installer, order_id):
    offer = operator.post(f"/api/v1/order/{order_id}/dispatch", {}, format="json").json()["offers"][0]
    assert installer.post(f"/api/v1/offers/{offer['id']}/accept").status_code == 200
    return offer["id"]


def assert_refused(client, method, url, order_id, status=409, body=None, message=None):
    before = snapshot(order_id)
    response = getattr(client, method)(url, body or {}, format="json")
    assert response.status_code == status, response.content
    payload = response.json()
    assert payload["statusCode"] == status and payload["error"]
    if message:
        assert message in payload["message"]
    assert snapshot(order_id) == before
    return payload


def test_start_before_booking(setup):
    operator, installer = setup
    order_id = new_order(operator)
    to_assigned(operator, installer, order_id)
    assert_refused(installer, "post", f"/api/v1/order/{order_id}/start", order_id, message="book it first")
    assert_refused(installer, "post", f"/api/v1/order/{order_id}/complete", order_id, message="cannot be completed")
    assert_refused(installer, "delete", f"/api/v1/order/{order_id}/booking", order_id, message="no booking")


def test_book_without_installer_and_dispatch_twice(setup):
    operator, installer = setup
    order_id = new_order(operator)
    operator.post(f"/api/v1/order/{order_id}/dispatch", {}, format="json")
    assert_refused(operator, "put", f"/api/v1/order/{order_id}/booking", order_id, body=SLOT, message="no installer")
    to_assigned_offer = Offer.objects.get(order_id=order_id)
    installer.post(f"/api/v1/offers/{to_assigned_offer.pk}/accept")
    assert_refused(operator, "post", f"/api/v1/order/{order_id}/dispatch", order_id, message="already has an installer")
    # accepting twice / declining an accepted offer
    assert_refused(installer, "post", f"/api/v1/offers/{to_assigned_offer.pk}/accept", order_id, message="accepted")
    assert_refused(installer, "post", f"/api/v1/offers/{to_assigned_offer.pk}/decline", order_id, message="accepted")


def test_book_a_cancelled_order_and_dispatch_it(setup):
    operator, installer = setup
    order_id = new_order(operator)
    to_assigned(operator, installer, order_id)
    assert operator.post(f"/api/v1/order/{order_id}/cancel", {"reason": "other"}, format="json").status_code == 200
    assert_refused(installer, "put", f"/api/v1/order/{order_id}/booking", order_id, body=SLOT, message="cancelled")
    assert_refused(operator, "post", f"/api/v1/order/{order_id}/dispatch", order_id, message="cancelled")
    assert_refused(operator, "post", f"/api/v1/order/{order_id}/start", order_id, message="cancelled")


def test_complete_with_required_step_open_then_after_completing_it(setup, org_a):
    operator, installer = setup
    WorkflowStep.objects.filter(workflow__organization=org_a, key="installation").update(required=True)
    order_id = new_order(operator)
    to_assigned(operator, installer, order_id)
    installer.put(f"/api/v1/order/{order_id}/booking", SLOT, format="json")
    assert installer.post(f"/api/v1/order/{order_id}/start").status_code == 200
    payload = assert_refused(
        installer, "post", f"/api/v1/order/{order_id}/complete", order_id, message="'Installation' (installation)"
    )
    assert payload["stepKey"] == "installation"
    response = installer.post(f"/api/v1/order/{order_id}/steps/installation/complete")
    assert response.status_code == 200, response.content
    response = installer.post(f"/api/v1/order/{order_id}/complete", {}, format="json")
    assert response.status_code == 200 and response.json()["statusName"] == "completed"
    # Completed is final.
    assert_refused(installer, "put", f"/api/v1/order/{order_id}/booking", order_id, body=SLOT, message="completed")
    assert_refused(operator, "post", f"/api/v1/order/{order_id}/cancel", order_id)


def test_required_step_gates_start(setup, org_a):
    operator, installer = setup
    WorkflowStep.objects.filter(workflow__organization=org_a, key="appointment").update(required=True)
    order_id = new_order(operator)
    to_assigned(operator, installer, order_id)
    installer.put(f"/api/v1/order/{order_id}/booking", SLOT, format="json")
    payload = assert_refused(installer, "post", f"/api/v1/order/{order_id}/start", order_id)
    assert payload["stepKey"] == "appointment"


def test_accept_an_expired_offer(setup, clock):
    operator, installer = setup
    order_id = new_order(operator)
    offer = operator.post(f"/api/v1/order/{order_id}/dispatch", {}, format="json").json()["offers"][0]
    clock.advance(hours=25)  # past the deadline; the worker has not run yet
    response = installer.post(f"/api/v1/offers/{offer['id']}/accept", {}, format="json")
    assert response.status_code == 409, response.content
    assert response.json()["offerStatus"] == "expired" and "expired" in response.json()["message"]
    # The refusal expired it (test_offers.py covers the fall-back); nobody was assigned.
    order = Order.objects.get(pk=order_id)
    assert order.installer_id is None and Offer.objects.get(pk=offer["id"]).status == "expired"


def test_no_covering_installer_is_422_and_unchanged(setup):
    operator, _ = setup
    order_id = new_order(operator, postalCode="9170")
    payload = assert_refused(operator, "post", f"/api/v1/order/{order_id}/dispatch", order_id, status=422)
    assert payload["message"] == "No installer partner covers this order (NO 9170)."
    assert [(c["installer"]["name"], c["kept"], c["reason"]) for c in payload["candidates"]] == [
        ("Fix-It Installers", False, "Does not cover NO 9170.")
    ]


def test_bad_booking_input_is_400(setup):
    operator, installer = setup
    order_id = new_order(operator)
    to_assigned(operator, installer, order_id)
    payload = assert_refused(
        installer,
        "put",
        f"/api/v1/order/{order_id}/booking",
        order_id,
        status=400,
        body={"startAt": "2030-06-03T10:00:00Z", "endAt": "2030-06-03T09:00:00Z"},
    )
    assert payload["details"] == {"endAt": ["Must be after startAt."]}
    payload = assert_refused(
        installer, "put", f"/api/v1/order/{order_id}/booking", order_id, status=400, body={"startAt": "tomorrow"}
    )
    assert "startAt" in payload["details"]


def test_overlapping_booking_of_one_installer_is_409(setup):
    operator, installer = setup
    first, second = new_order(operator), new_order(operator)
    to_assigned(operator, installer, first)
    to_assigned(operator, installer, second)
    assert installer.put(f"/api/v1/order/{first}/booking", SLOT, format="json").status_code == 200
    overlapping = {"startAt": "2030-06-03T09:00:00+00:00", "endAt": "2030-06-03T11:00:00+00:00"}
    payload = assert_refused(installer, "put", f"/api/v1/order/{second}/booking", second, body=overlapping)
    assert "already" in payload["message"]
    # Back to back is fine; rescheduling onto the first booking's slot is not.
    adjacent = {"startAt": "2030-06-03T10:00:00+00:00", "endAt": "2030-06-03T12:00:00+00:00"}
    assert installer.put(f"/api/v1/order/{second}/booking", adjacent, format="json").status_code == 200
    assert_refused(operator, "put", f"/api/v1/order/{second}/booking", second, body=SLOT)
    # Rebooking the same order over its own old slot is allowed (booking.updated).
    later = {"startAt": "2030-06-03T09:30:00+00:00", "endAt": "2030-06-03T10:30:00+00:00"}
    assert installer.put(f"/api/v1/order/{first}/booking", later, format="json").status_code == 409
    same_order = {"startAt": "2030-06-03T07:00:00+00:00", "endAt": "2030-06-03T09:00:00+00:00"}
    response = installer.put(f"/api/v1/order/{first}/booking", same_order, format="json")
    assert response.status_code == 200
    assert response.json()["booking"]["startAt"] == "2030-06-03T07:00:00+00:00"
    assert OrderEvent.objects.filter(order_id=first, type="booking.updated").count() == 1


def test_unbook_keeps_installer_and_rebook(setup, installer_org):
    operator, installer = setup
    order_id = new_order(operator)
    to_assigned(operator, installer, order_id)
    installer.put(f"/api/v1/order/{order_id}/booking", SLOT, format="json")
    response = operator.delete(f"/api/v1/order/{order_id}/booking")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["statusName"] == "dispatching" and body["booking"] is None
    assert body["installer"]["id"] == str(installer_org.pk)
    assert not Booking.objects.filter(order_id=order_id).exists()
    response = operator.put(
        f"/api/v1/order/{order_id}/booking", {"startAt": "2030-06-04T00:00:00Z", "allDay": True}, format="json"
    )
    assert response.json()["booking"] == {
        "startAt": "2030-06-04T00:00:00+00:00",
        "endAt": "2030-06-05T00:00:00+00:00",
        "allDay": True,
    }
    types = list(
        OrderEvent.objects.filter(order_id=order_id, type__startswith="booking.").values_list("type", flat=True)
    )
    assert types == ["booking.created", "booking.cancelled", "booking.created"]


def test_cancel_withdraws_offers_and_removes_booking(setup, org_a):
    operator, installer = setup
    org_a.offers_at_once = 2
    org_a.save()
    make_partner(org_a, make_installer("Second Co"), priority=2)
    open_id = new_order(operator)
    operator.post(f"/api/v1/order/{open_id}/dispatch", {}, format="json")
    operator.post(f"/api/v1/order/{open_id}/cancel", {}, format="json")
    assert sorted(Offer.objects.filter(order_id=open_id).values_list("status", flat=True)) == ["withdrawn", "withdrawn"]
    event = OrderEvent.objects.get(order_id=open_id, type="offer.withdrawn")
    assert event.data == {"count": 2, "reason": "order cancelled"}

    booked_id = new_order(operator)
    offer = Offer.objects.none()
    offers = operator.post(f"/api/v1/order/{booked_id}/dispatch", {}, format="json").json()["offers"]
    offer = next(o for o in offers if o["installer"]["name"] == "Fix-It Installers")
    installer.post(f"/api/v1/offers/{offer['id']}/accept")
    installer.put(f"/api/v1/order/{booked_id}/booking", SLOT, format="json")
    response = operator.post(f"/api/v1/order/{booked_id}/cancel", {"reason": "no_capacity"}, format="json")
    assert response.json()["statusName"] == "cancelled" and response.json()["booking"] is None
    assert not Booking.objects.filter(order_id=booked_id).exists()
    assert OrderEvent.objects.filter(order_id=booked_id, type="booking.cancelled").count() == 1
    # The slot is free again for another order of the installer.
    other = new_order(operator)
    offers = operator.post(f"/api/v1/order/{other}/dispatch", {}, format="json").json()["offers"]
    offer = next(o for o in offers if o["installer"]["name"] == "Fix-It Installers")
    installer.post(f"/api/v1/offers/{offer['id']}/accept")
    assert installer.put(f"/api/v1/order/{other}/booking", SLOT, format="json").status_code == 200


def test_other_parties_get_404(setup, operator_b, org_a):
    operator, installer = setup
    order_id = new_order(operator)
    stranger = api_client_for(make_installer("Stranger Co"), "stranger")
    for client in (operator_b, stranger, installer):
        assert_refused(client, "post", f"/api/v1/order/{order_id}/dispatch", order_id, status=404)
        assert_refused(client, "get", f"/api/v1/order/{order_id}/dispatch/preview", order_id, status=404)
    offer = operator.post(f"/api/v1/order/{order_id}/dispatch", {}, format="json").json()["offers"][0]
    # An installer with an open offer may read the order, not book it; strangers nothing.
    assert_refused(installer, "put", f"/api/v1/order/{order_id}/booking", order_id, status=404, body=SLOT)
    for client in (operator_b, stranger, operator):
        assert_refused(client, "post", f"/api/v1/offers/{offer['id']}/accept", order_id, status=404)
    to_assigned_ok = installer.post(f"/api/v1/offers/{offer['id']}/accept")
    assert to_assigned_ok.status_code == 200
    for client in (operator_b, stranger):
        assert_refused(client, "put", f"/api/v1/order/{order_id}/booking", order_id, status=404, body=SLOT)


def test_viewer_role_cannot_dispatch(setup, viewer_a):
    operator, _ = setup
    order_id = new_order(operator)
    assert_refused(viewer_a, "post", f"/api/v1/order/{order_id}/dispatch", order_id, status=403)


def test_complete_attaches_the_installers_files(setup, installer_org, org_b):
    from orders.models import File

    operator, installer = setup
    order_id = new_order(operator)
    to_assigned(operator, installer, order_id)
    installer.put(f"/api/v1/order/{order_id}/booking", SLOT, format="json")
    installer.post(f"/api/v1/order/{order_id}/start")
    photo = File.objects.create(
        organization=installer_org,
        storage_key="k/photo",
        name="photo.jpg",
        content_type="image/jpeg",
        size=3,
        sha256="x",
    )
    foreign = File.objects.create(
        organization=org_b, storage_key="k/foreign", name="f.jpg", content_type="image/jpeg", size=3, sha256="y"
    )
    payload = assert_refused(
        installer,
        "post",
        f"/api/v1/order/{order_id}/complete",
        order_id,
        status=400,
        body={"fileIds": [str(foreign.pk)]},
    )
    assert "fileIds" in payload["details"]
    response = installer.post(
        f"/api/v1/order/{order_id}/complete", {"comment": "Done", "fileIds": [str(photo.pk)]}, format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["statusName"] == "completed"
    assert [f["name"] for f in body["files"]] == ["photo.jpg"]
    event = OrderEvent.objects.get(order_id=order_id, type="order.completed")
    assert event.data == {"comment": "Done", "fileIds": [str(photo.pk)]}
