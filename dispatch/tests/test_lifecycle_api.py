"""The whole lifecycle through the API alone: an operator token and an installer token."""

import pytest

from dispatch.tests.conftest import make_partner
from orders.tests.factories import order_payload

pytestmark = pytest.mark.django_db


def test_full_walk_created_to_completed_with_timeline(operator_a, installer_client, installer_org):
    make_partner(operator_a.org, installer_org, coverage=[("range", "NO", "0150", "0599")])
    order = operator_a.post("/api/v1/order", order_payload(), format="json").json()
    order_id = order["id"]
    assert order["statusName"] == "created" and "dispatch" in order["allowedActions"]

    # The installer cannot see the order before it has an offer.
    assert installer_client.get(f"/api/v1/order/{order_id}").status_code == 404

    response = operator_a.post(f"/api/v1/order/{order_id}/dispatch", {}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == 1 and body["statusName"] == "dispatching" and body["installer"] is None
    assert [(o["installer"]["name"], o["status"], o["rank"]) for o in body["offers"]] == [
        ("Fix-It Installers", "sent", 1)
    ]
    offer_id = body["offers"][0]["id"]
    assert body["offers"][0]["expiresAt"] is not None

    # The installer sees the offer and the job summary, but no customer contact details yet.
    offers = installer_client.get("/api/v1/offers").json()
    assert offers["count"] == 1
    assert offers["values"][0]["order"] == {
        "id": order_id,
        "displayId": "A-1",
        "name": "Heat pump installation",
        "city": "Oslo",
        "postalCode": "0154",
        "countryCode": "NO",
        "status": 1,
        "statusName": "dispatching",
    }
    seen = installer_client.get(f"/api/v1/order/{order_id}").json()
    assert (seen["contactPersonName"], seen["email"], seen["phoneNumber"], seen["address"]) == (None,) * 4
    assert (seen["city"], seen["postalCode"]) == ("Oslo", "0154")

    response = installer_client.post(f"/api/v1/offers/{offer_id}/accept")
    assert response.status_code == 200, response.content
    accepted = response.json()
    assert accepted["status"] == "accepted" and accepted["respondedAt"] is not None
    assert accepted["order"]["installer"] == {"id": str(installer_org.pk), "name": "Fix-It Installers"}
    assert accepted["order"]["contactPersonName"] == "Ola Nordmann"
    assert accepted["order"]["statusName"] == "dispatching"
    assert "book" in accepted["order"]["allowedActions"]

    booking = {"startAt": "2030-05-06T08:00:00+02:00", "endAt": "2030-05-06T12:00:00+02:00"}
    response = installer_client.put(f"/api/v1/order/{order_id}/booking", booking, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["statusName"] == "scheduled"
    assert body["booking"] == {
        "startAt": "2030-05-06T06:00:00+00:00",
        "endAt": "2030-05-06T10:00:00+00:00",
        "allDay": False,
    }
    assert {"unbook", "start", "book"} <= set(body["allowedActions"])

    response = installer_client.post(f"/api/v1/order/{order_id}/start")
    assert response.status_code == 200, response.content
    assert response.json()["statusName"] == "in_progress"

    response = installer_client.post(f"/api/v1/order/{order_id}/complete", {"comment": "All done."}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["statusName"] == "completed"
    assert response.json()["allowedActions"] == []

    events = operator_a.get(f"/api/v1/order/{order_id}/events").json()["values"]
    walk = [
        (e["type"], e["fromStatus"], e["toStatus"], e["actor"]["type"], e["actor"]["label"])
        for e in events
        if e["type"] != "workflow.step.activated"
    ]
    assert walk == [
        ("order.created", None, 0, "api_token", "erp-a"),
        ("order.dispatched", 0, 1, "api_token", "erp-a"),
        ("offer.sent", 1, 1, "api_token", "erp-a"),
        ("order.assigned", 1, 1, "api_token", "installer-app"),
        ("booking.created", 1, 2, "api_token", "installer-app"),
        ("order.started", 2, 3, "api_token", "installer-app"),
        ("order.completed", 3, 4, "api_token", "installer-app"),
    ]
    completed = next(e for e in events if e["type"] == "order.completed")
    assert completed["data"] == {"comment": "All done.", "fileIds": []}
    # Every status entered activated its step.
    steps = [e["data"]["step"]["key"] for e in events if e["type"] == "workflow.step.activated"]
    assert steps == ["received", "find-installer", "appointment", "installation", "done"]
