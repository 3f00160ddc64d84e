"""What an installer's token may see: only orders it has an offer for, without the customer's
contact details until it accepts; offers and partners lists are scoped to the caller."""

import pytest

from dispatch.tests.conftest import api_client_for, make_installer, make_partner
from orders.tests.factories import order_payload

pytestmark = pytest.mark.django_db

CONTACT = ("contactPersonName", "email", "phoneNumber", "address")


def test_installer_sees_only_orders_with_its_offers(operator_a, installer_client, installer_org, org_a):
    make_partner(org_a, installer_org, coverage=[("range", "NO", "0100", "0199")])
    rival = make_installer("Rival AS")
    make_partner(org_a, rival, coverage=[("range", "NO", "0100", "0199")], priority=200)
    rival_client = api_client_for(rival, "rival-app")

    offered = operator_a.post("/api/v1/order", order_payload(), format="json").json()["id"]
    untouched = operator_a.post("/api/v1/order", order_payload(), format="json").json()["id"]
    offer = operator_a.post(f"/api/v1/order/{offered}/dispatch", {}, format="json").json()["offers"][0]

    assert installer_client.get(f"/api/v1/order/{untouched}").status_code == 404
    assert rival_client.get(f"/api/v1/order/{offered}").status_code == 404
    listed = installer_client.get("/api/v1/order").json()
    assert [o["id"] for o in listed["values"]] == [offered] and listed["count"] == 1
    seen = listed["values"][0]
    assert all(seen[key] is None for key in CONTACT)
    assert seen["allowedActions"] == ["accept", "decline"]  # its open offer; nothing of the order's yet
    assert installer_client.get(f"/api/v1/order/{offered}/events").status_code == 200

    installer_client.post(f"/api/v1/offers/{offer['id']}/accept")
    seen = installer_client.get(f"/api/v1/order/{offered}").json()
    assert [seen[key] for key in CONTACT] == ["Ola Nordmann", "ola@example.com", "+4722123456", "Karl Johans gate 1"]
    assert "book" in seen["allowedActions"] and "dispatch" not in seen["allowedActions"]
    assert "accept" not in seen["allowedActions"] and "decline" not in seen["allowedActions"]
    assert rival_client.get("/api/v1/order").json()["count"] == 0


def test_offers_list_is_scoped_and_filtered(operator_a, operator_b, installer_client, installer_org, org_a, org_b):
    make_partner(org_a, installer_org)
    make_partner(org_b, installer_org)
    a1 = operator_a.post("/api/v1/order", order_payload(), format="json").json()["id"]
    a2 = operator_a.post("/api/v1/order", order_payload(), format="json").json()["id"]
    b1 = operator_b.post("/api/v1/order", order_payload(), format="json").json()["id"]
    for client, order_id in ((operator_a, a1), (operator_a, a2), (operator_b, b1)):
        client.post(f"/api/v1/order/{order_id}/dispatch", {}, format="json")
    declined = installer_client.get(f"/api/v1/offers?orderId={a2}").json()["values"][0]
    installer_client.post(f"/api/v1/offers/{declined['id']}/decline", {"reason": "too far"}, format="json")

    mine = installer_client.get("/api/v1/offers").json()
    assert mine["count"] == 3 and {o["orderId"] for o in mine["values"]} == {a1, a2, b1}
    assert all("contactPersonName" not in o["order"] for o in mine["values"])
    sent = installer_client.get("/api/v1/offers?status=sent").json()
    assert {o["orderId"] for o in sent["values"]} == {a1, b1}
    both = installer_client.get("/api/v1/offers?status=sent&status=declined&pageSize=2&page=1").json()
    assert both["count"] == 3 and len(both["values"]) == 1
    # A router sees the offers about its own orders only.
    assert {o["orderId"] for o in operator_a.get("/api/v1/offers").json()["values"]} == {a1, a2}
    assert {o["orderId"] for o in operator_b.get("/api/v1/offers").json()["values"]} == {b1}
    bad = installer_client.get("/api/v1/offers?status=maybe")
    assert bad.status_code == 400 and "status" in str(bad.json()["details"])


def test_partner_installers_list(operator_a, operator_b, org_a):
    installer = make_installer("Listed AS", email="jobs@listed.example", phone_number="+4722000000")
    make_partner(
        org_a,
        installer,
        coverage=[("range", "NO", "0150", "0599"), ("prefix", "NO", "03*"), ("radius", 12.5)],
        priority=5,
        capacity=3,
        skills=["ev"],
    )
    make_partner(org_a, make_installer("Paused AS"), active=False, priority=9)
    body = operator_a.get("/api/v1/partners/installers").json()
    assert body["count"] == 2
    assert body["values"][0].pop("scorecard")["windowDays"] == 90  # scorecards/tests/test_api.py
    assert body["values"][0] == {
        "id": str(installer.pk),
        "name": "Listed AS",
        "email": "jobs@listed.example",
        "phoneNumber": "+4722000000",
        "active": True,
        "priority": 5,
        "capacity": 3,
        "skills": ["ev"],
        "coverage": [
            {"kind": "range", "countryCode": "NO", "value": "0150", "valueTo": "0599", "radiusKm": None},
            {"kind": "prefix", "countryCode": "NO", "value": "03", "valueTo": None, "radiusKm": None},
            {"kind": "radius", "countryCode": None, "value": None, "valueTo": None, "radiusKm": 12.5},
        ],
    }
    assert body["values"][1]["name"] == "Paused AS" and body["values"][1]["active"] is False
    assert operator_b.get("/api/v1/partners/installers").json() == {"values": [], "count": 0}
