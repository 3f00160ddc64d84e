"""The client API /api/clients/{token}/...: the contract of docs/api.md "Client API"."""

from __future__ import annotations

import datetime
import io

import pytest
from PIL import Image
from rest_framework.test import APIClient

from dispatch.models import Booking
from orders.models import File, Order, OrderEvent, OrderStatus
from orders.services import order_cancel
from orders.tests.factories import create_order
from portal.services import client_token_rotate
from portal.tests.conftest import SYSTEM, assign, book, let_customer_book, next_weekday

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return APIClient()


def base(order) -> str:
    return f"/api/clients/{order.client_token}"


def test_order_as_the_customer_sees_it(api, assigned):
    body = api.get(base(assigned)).json()
    assert body["displayId"] == assigned.display_id and body["statusName"] == "dispatching"
    assert body["installer"] == {"name": "Fjord Elektro", "phoneNumber": "+4791234567"}
    assert body["contactPersonName"] == "Kari Nordmann" and body["address"] == "Storgata 1, 0154 Oslo"
    assert body["booking"] is None and body["messages"] == []
    assert body["allowedActions"] == ["book", "requestCancel", "addNote", "addFiles"]
    assert body["timeZone"] == "Europe/Oslo" and body["createdAt"].endswith(("+01:00", "+02:00"))
    for hidden in ("email", "phoneNumber", "metadata", "clientUrl", "id"):
        assert hidden not in body


def test_workflows_list_the_steps_with_state(api, assigned):
    body = api.get(f"{base(assigned)}/workflows").json()
    assert body["count"] == 1
    steps = body["values"][0]["steps"]
    assert [(s["key"], s["state"], s["bookable"]) for s in steps] == [
        ("received", "completed", False),
        ("find-installer", "current", False),
        ("appointment", "upcoming", True),
        ("installation", "upcoming", False),
        ("done", "upcoming", False),
    ]
    assert body["values"][0]["currentStepId"] == steps[1]["id"]


def test_slots_then_put_booking_then_conflicts(api, router, installer, assigned):
    slots = api.get(f"{base(assigned)}/slots").json()
    assert slots["count"] > 0 and slots["timeZone"] == "Europe/Oslo"
    step_id = slots["workflowStepId"]
    first = slots["values"][0]
    response = api.put(f"{base(assigned)}/workflow-steps/{step_id}/bookings", first, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["statusName"] == "scheduled" and body["booking"]["startAt"] == first["startAt"]
    assert body["booking"]["icsUrl"].endswith("/appointment.ics")
    assert OrderEvent.objects.get(order=assigned, type="booking.created").actor_type == "customer"

    # Another order of the same installer cannot take that time: 409.
    other = assign(create_order(router), router, installer)
    let_customer_book(other)
    clash = api.put(f"/api/clients/{other.client_token}/workflow-steps/{step_id}/bookings", first, format="json")
    assert clash.status_code == 409 and clash.json()["statusCode"] == 409
    # The step key works as the id too; rescheduling moves the booking.
    later = api.get(f"{base(assigned)}/slots").json()["values"][3]
    moved = api.put(f"{base(assigned)}/workflow-steps/appointment/bookings", later, format="json")
    assert moved.status_code == 200 and Booking.objects.get(order=assigned).start_at.isoformat() != first["startAt"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"startAt": "2030-06-03T10:00:00", "endAt": "2030-06-03T12:00:00+02:00"}, "startAt"),
        ({"startAt": "2020-06-02T10:00:00+02:00", "endAt": "2020-06-02T12:00:00+02:00"}, "startAt"),
        ({"startAt": "2030-06-04T12:00:00+02:00", "endAt": "2030-06-04T10:00:00+02:00"}, "endAt"),
        ({"startAt": "2030-06-04T22:00:00+02:00", "endAt": "2030-06-04T23:00:00+02:00"}, "startAt"),
        ({"startAt": "2030-06-04T10:00:00+02:00"}, "endAt"),
        ({"startAt": "2030-06-04T10:00:00+02:00", "endAt": "2030-06-04T12:00:00+02:00", "status": 4}, "status"),
    ],
)
def test_bad_booking_is_400_naming_the_field(api, assigned, body, field):
    response = api.put(f"{base(assigned)}/workflow-steps/appointment/bookings", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["details"]
    assert not Booking.objects.filter(order=assigned).exists()


def test_unknown_step_and_a_workflow_without_customer_booking_are_404(api, router, installer):
    order = assign(create_order(router), router, installer)
    good = {
        "startAt": next_weekday(datetime.time(8, 0)).isoformat(),
        "endAt": next_weekday(datetime.time(10, 0)).isoformat(),
    }
    for step in ("appointment", "999999", "nope"):
        response = api.put(f"/api/clients/{order.client_token}/workflow-steps/{step}/bookings", good, format="json")
        assert response.status_code == 404 and response.json()["error"] == "Not Found"


def test_booking_before_an_installer_is_409(api, router):
    order = create_order(router)
    let_customer_book(order)
    good = {
        "startAt": next_weekday(datetime.time(8, 0)).isoformat(),
        "endAt": next_weekday(datetime.time(10, 0)).isoformat(),
    }
    response = api.put(f"/api/clients/{order.client_token}/workflow-steps/appointment/bookings", good, format="json")
    assert response.status_code == 409
    assert api.get(f"/api/clients/{order.client_token}/slots").json()["values"] == []


def test_requests_notes_and_files(api, assigned):
    order = book(assigned, next_weekday(datetime.time(8, 0)))
    response = api.post(f"{base(order)}/requests", {"kind": "reschedule", "message": "Later please"}, format="json")
    assert response.status_code == 201 and "requestReschedule" in response.json()["allowedActions"]
    assert api.post(f"{base(order)}/requests", {"kind": "move"}, format="json").status_code == 400
    assert api.post(f"{base(order)}/notes", {"note": "Gate code 1234"}, format="json").status_code == 201
    assert api.post(f"{base(order)}/notes", {"note": ""}, format="json").status_code == 400
    types = list(OrderEvent.objects.filter(order=order, actor_type="customer").values_list("type", flat=True))
    assert "customer.reschedule_requested" in types and "customer.note_added" in types

    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, format="JPEG")
    buffer.seek(0)
    buffer.name = "meter.jpg"
    uploaded = api.post(f"{base(order)}/files", {"file": buffer}, format="multipart")
    assert uploaded.status_code == 201 and uploaded.json()["contentType"] == "image/jpeg"
    text = io.BytesIO(b"just some text")
    text.name = "notes.txt"
    refused = api.post(f"{base(order)}/files", {"file": text}, format="multipart")
    assert refused.status_code == 415 and refused.json()["statusCode"] == 415
    assert api.post(f"{base(order)}/files", {}, format="multipart").status_code == 400
    assert File.objects.filter(order=order).count() == 1


def test_finished_order_is_readable_and_every_action_is_409(api, assigned):
    order_cancel(order_id=assigned.pk, organization=assigned.organization, actor=SYSTEM)
    body = api.get(base(assigned)).json()
    assert body["statusName"] == "cancelled" and body["allowedActions"] == []
    good = {
        "startAt": next_weekday(datetime.time(8, 0)).isoformat(),
        "endAt": next_weekday(datetime.time(10, 0)).isoformat(),
    }
    assert api.put(f"{base(assigned)}/workflow-steps/appointment/bookings", good, format="json").status_code == 409
    assert api.post(f"{base(assigned)}/requests", {"kind": "cancel"}, format="json").status_code == 409
    assert api.post(f"{base(assigned)}/notes", {"note": "hi"}, format="json").status_code == 409
    assert Order.objects.get(pk=assigned.pk).status == OrderStatus.CANCELLED


@pytest.mark.parametrize("suffix", ["", "/workflows", "/slots"])
def test_unknown_and_rotated_tokens_are_404_in_the_error_shape(api, assigned, suffix):
    old = assigned.client_token
    client_token_rotate(order_id=assigned.pk, organization_id=assigned.organization_id, actor=SYSTEM)
    for token in (old, "x" * 80, "nope"):
        response = api.get(f"/api/clients/{token}{suffix}")
        assert response.status_code == 404
        assert response.json() == {"error": "Not Found", "message": "Not found.", "statusCode": 404}


def test_writes_are_rate_limited_per_client_address(api, assigned, settings):
    settings.PORTAL_RATE_LIMIT = 1
    assert api.post(f"{base(assigned)}/notes", {"note": "one"}, format="json").status_code == 201
    response = api.post(f"{base(assigned)}/notes", {"note": "two"}, format="json")
    assert response.status_code == 429 and response.json()["retryAfter"] >= 1
    assert api.get(base(assigned)).status_code == 200  # reads have their own budget


def test_bearer_tokens_are_not_needed_nor_used(api, operator_a, assigned):
    response = operator_a.get(base(assigned))
    assert response.status_code == 200 and response.json()["displayId"] == assigned.display_id


def test_api_answers_stay_english_whatever_accept_language(api, assigned):
    body = api.get(base(assigned), HTTP_ACCEPT_LANGUAGE="nb").json()
    assert body["statusTitle"] == "Installer found"
