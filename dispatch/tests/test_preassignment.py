"""Pre-assigning an installer at create (`actorAssignments` with actorSlug `installer`).

Only an active installer partner of the router may be named: anything else is a 400 naming the
entry and creates nothing, so a router cannot hand its customer's data to a stranger. A
pre-assigned order is dispatched to that installer without offers and then booked by it.
"""

import uuid

import pytest

from dispatch.models import Offer
from dispatch.tests.conftest import api_client_for, make_installer, make_partner
from orders.models import Order, OrderEvent
from orders.tests.factories import order_payload

pytestmark = pytest.mark.django_db

URL = "/api/v1/order"


def assign(installer, index_padding: int = 0) -> dict:
    entries = [{"actorSlug": "project-manager", "organizationId": str(uuid.uuid4())} for _ in range(index_padding)]
    return {"actorAssignments": [*entries, {"actorSlug": "installer", "organizationId": str(installer.pk)}]}


def assert_refused(client, body: dict, field: str) -> None:
    before = (Order.objects.count(), OrderEvent.objects.count())
    response = client.post(URL, body, format="json")
    assert response.status_code == 400, response.content
    error = response.json()
    assert error["statusCode"] == 400
    assert list(error["details"]) == [field]
    assert error["details"][field] == ["Not an active installer partner of this organization."]
    assert (Order.objects.count(), OrderEvent.objects.count()) == before


def test_installer_without_partnership_is_refused(operator_a, installer_org):
    assert_refused(operator_a, order_payload(**assign(installer_org)), "actorAssignments[0].organizationId")


def test_field_names_the_entry_index(operator_a, installer_org):
    body = order_payload(**assign(installer_org, index_padding=2))
    assert_refused(operator_a, body, "actorAssignments[2].organizationId")


def test_partner_of_another_router_is_refused(operator_a, org_b, installer_org):
    make_partner(org_b, installer_org)
    assert_refused(operator_a, order_payload(**assign(installer_org)), "actorAssignments[0].organizationId")


def test_inactive_partner_is_refused(operator_a, installer_org):
    make_partner(operator_a.org, installer_org, active=False)
    assert_refused(operator_a, order_payload(**assign(installer_org)), "actorAssignments[0].organizationId")


def test_reverse_partnership_does_not_count(operator_a, org_a, installer_org):
    """The installer being the router of a partnership with A does not make it A's partner."""
    other_installer = make_installer("Other Installers")
    make_partner(org_a, other_installer)
    assert_refused(operator_a, order_payload(**assign(installer_org)), "actorAssignments[0].organizationId")


def test_active_partner_is_assigned(operator_a, installer_org, installer_client):
    make_partner(operator_a.org, installer_org)
    response = operator_a.post(URL, order_payload(**assign(installer_org)), format="json")
    assert response.status_code == 201, response.content
    order = response.json()
    assert order["installer"] == {"id": str(installer_org.pk), "name": "Fix-It Installers"}
    # The assigned installer reads it with contact details (it is the order's installer).
    seen = installer_client.get(f"{URL}/{order['id']}").json()
    assert seen["email"] == "ola@example.com" and seen["contactPersonName"] == "Ola Nordmann"


def test_preassigned_order_walks_dispatch_book_start_complete(operator_a, installer_org, installer_client):
    """create-with-assignment -> dispatch (no offers, strategy "preassigned") -> the installer
    books, starts and completes through the API."""
    make_partner(operator_a.org, installer_org, coverage=[("range", "NO", "0150", "0599")])
    # Another covering partner, which the strategy would pick first: it must get no offer.
    rival = make_installer("Rival Installers")
    make_partner(operator_a.org, rival, priority=1)
    order_id = operator_a.post(URL, order_payload(**assign(installer_org)), format="json").json()["id"]

    response = operator_a.post(f"{URL}/{order_id}/dispatch", {}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["statusName"] == "dispatching"
    assert body["installer"] == {"id": str(installer_org.pk), "name": "Fix-It Installers"}
    assert body["offers"] == []
    assert Offer.objects.filter(order_id=order_id).count() == 0
    assert "book" in body["allowedActions"] and "dispatch" not in body["allowedActions"]
    rival_client = api_client_for(rival, "rival-app")
    assert rival_client.get(f"{URL}/{order_id}").status_code == 404
    assert rival_client.get("/api/v1/offers").json()["count"] == 0

    # A second dispatch is refused: the order already has its installer.
    again = operator_a.post(f"{URL}/{order_id}/dispatch", {}, format="json")
    assert again.status_code == 409 and Offer.objects.filter(order_id=order_id).count() == 0

    booking = {"startAt": "2030-05-06T08:00:00+00:00", "endAt": "2030-05-06T12:00:00+00:00"}
    response = installer_client.put(f"{URL}/{order_id}/booking", booking, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["statusName"] == "scheduled"
    assert response.json()["booking"]["startAt"] == "2030-05-06T08:00:00+00:00"
    assert installer_client.post(f"{URL}/{order_id}/start").json()["statusName"] == "in_progress"
    assert installer_client.post(f"{URL}/{order_id}/complete", {}, format="json").json()["statusName"] == "completed"

    events = operator_a.get(f"{URL}/{order_id}/events").json()["values"]
    transitions = [(e["type"], e["toStatus"]) for e in events if e["fromStatus"] != e["toStatus"]]
    assert transitions == [
        ("order.created", 0),
        ("order.dispatched", 1),
        ("booking.created", 2),
        ("order.started", 3),
        ("order.completed", 4),
    ]
    dispatched = next(e for e in events if e["type"] == "order.dispatched")
    assert dispatched["data"] == {"strategy": "preassigned", "installer": {"id": str(installer_org.pk)}}
    assert not [e for e in events if e["type"].startswith("offer.")]


def test_auto_dispatch_of_preassigned_order_sends_no_offers(operator_a, org_a, installer_org):
    org_a.auto_dispatch = True
    org_a.save(update_fields=["auto_dispatch"])
    make_partner(org_a, installer_org)
    rival = make_installer("Rival Installers")
    make_partner(org_a, rival, priority=1)
    order_id = operator_a.post(URL, order_payload(**assign(installer_org)), format="json").json()["id"]
    got = operator_a.get(f"{URL}/{order_id}").json()
    assert got["statusName"] == "dispatching"
    assert got["installer"]["id"] == str(installer_org.pk)
    assert Offer.objects.filter(order_id=order_id).count() == 0
