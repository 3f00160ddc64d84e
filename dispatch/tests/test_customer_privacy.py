"""What an installer's token may learn about an order it has not been assigned: no tracking link
(`clientUrl`), no search on the fields it cannot read, and of the timeline only its own offers'
events and the order's, with the router's people and tokens as "router"."""

import json

import pytest

from dispatch.tests.conftest import api_client_for, make_installer, make_partner
from orders.tests.factories import order_payload

pytestmark = pytest.mark.django_db


@pytest.fixture
def rival():
    return make_installer("Rival Rørleggerne AS")


@pytest.fixture
def rival_client(rival):
    return api_client_for(rival, "rival-secret-app")


@pytest.fixture
def partners(org_a, installer_org, rival):
    make_partner(org_a, installer_org, priority=1)
    make_partner(org_a, rival, priority=2)


def _dispatch(client, order_id, installer=None) -> dict:
    body = {"installerId": str(installer.pk)} if installer is not None else {}
    response = client.post(f"/api/v1/order/{order_id}/dispatch", body, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def test_client_url_only_for_the_router_and_the_assigned_installer(
    operator_a, installer_client, installer_org, partners
):
    order_id = operator_a.post("/api/v1/order", order_payload(), format="json").json()["id"]
    client_url = operator_a.get(f"/api/v1/order/{order_id}").json()["clientUrl"]
    assert client_url and "/t/" in client_url
    offer = _dispatch(operator_a, order_id, installer_org)["offers"][0]

    assert installer_client.get(f"/api/v1/order/{order_id}").json()["clientUrl"] is None
    assert [o["clientUrl"] for o in installer_client.get("/api/v1/order").json()["values"]] == [None]
    assert client_url not in installer_client.get("/api/v1/offers").content.decode()
    assert operator_a.get(f"/api/v1/order/{order_id}").json()["clientUrl"] == client_url

    accepted = installer_client.post(f"/api/v1/offers/{offer['id']}/accept").json()
    assert accepted["order"]["clientUrl"] == client_url
    assert installer_client.get(f"/api/v1/order/{order_id}").json()["clientUrl"] == client_url


def test_search_as_an_installer_matches_only_what_it_may_read(
    operator_a, installer_client, installer_org, partners, org_a
):
    order = operator_a.post("/api/v1/order", order_payload(postalCode="0155"), format="json").json()
    offer = _dispatch(operator_a, order["id"], installer_org)["offers"][0]

    def found(client, q):
        body = client.get("/api/v1/order", {"q": q}).json()
        return [o["id"] for o in body["values"]]

    # Masked while the offer is open: the customer's name, email, street and the order's name.
    for hidden in ("ola@", "ola@example.com", "Nordmann", "Karl Johans", "Heat pump"):
        assert found(installer_client, hidden) == [], hidden
        assert found(operator_a, hidden) == [order["id"]], hidden
    for shown in (order["displayId"], order["displayId"].lower(), "Oslo", "osl", "0155", "015"):
        assert found(installer_client, shown) == [order["id"]], shown

    installer_client.post(f"/api/v1/offers/{offer['id']}/accept")
    for now_shown in ("ola@", "Nordmann", "Karl Johans", "Oslo"):
        assert found(installer_client, now_shown) == [order["id"]], now_shown


def test_timeline_as_an_installer_shows_its_own_offers_and_the_order(
    operator_a, installer_client, rival_client, installer_org, rival, partners, org_a
):
    org_a.offers_at_once = 2
    org_a.save(update_fields=["offers_at_once"])
    order_id = operator_a.post("/api/v1/order", order_payload(), format="json").json()["id"]
    # A manual dispatch to the rival, then a redispatch to our installer (the rival's offer is
    # withdrawn), then a broadcast to both (our installer's first offer is withdrawn); the rival
    # declines with a reason; ours accepts.
    _dispatch(operator_a, order_id, rival)
    _dispatch(operator_a, order_id, installer_org)
    _dispatch(operator_a, order_id)
    offers = {o["installer"]["id"]: o for o in installer_client.get("/api/v1/offers?status=sent").json()["values"]}
    rival_offer = rival_client.get("/api/v1/offers?status=sent").json()["values"][0]
    declined = rival_client.post(
        f"/api/v1/offers/{rival_offer['id']}/decline", {"reason": "Rival is too busy"}, format="json"
    )
    assert declined.status_code == 200
    own_offer = offers[str(installer_org.pk)]
    assert installer_client.post(f"/api/v1/offers/{own_offer['id']}/accept").status_code == 200

    router_view = operator_a.get(f"/api/v1/order/{order_id}/events").json()
    router_text = json.dumps(router_view, ensure_ascii=False)
    # The router reads everything as recorded.
    assert "Rival Rørleggerne AS" in router_text and "Rival is too busy" in router_text
    assert "erp-a" in router_text and "rival-secret-app" in router_text
    router_types = [e["type"] for e in router_view["values"]]
    assert router_types.count("offer.sent") == 4 and router_types.count("offer.withdrawn") == 2

    body = installer_client.get(f"/api/v1/order/{order_id}/events").json()
    text = json.dumps(body, ensure_ascii=False)
    for secret in ("Rival", "rival", str(rival.pk), rival_offer["id"], "too busy", "erp-a"):
        assert secret not in text, secret
    values = body["values"]
    assert body["count"] == len(values)
    own_offer_ids = {e["data"]["offerId"] for e in router_view["values"] if e["type"] == "offer.sent"} - {
        e["data"]["offerId"] for e in router_view["values"] if e["data"].get("installer", {}).get("id") == str(rival.pk)
    }
    assert len(own_offer_ids) == 2
    sent = [e for e in values if e["type"] == "offer.sent"]
    assert {e["data"]["offerId"] for e in sent} == own_offer_ids
    assert all(e["data"]["installer"]["id"] == str(installer_org.pk) for e in sent)
    assert "offer.declined" not in [e["type"] for e in values]
    # Only the withdrawal of its own first offer, counting that one.
    withdrawn = [e for e in values if e["type"] == "offer.withdrawn"]
    assert [e["data"] for e in withdrawn] == [{"count": 1, "reason": "redispatched"}]
    # The order's own events are all there.
    types = [e["type"] for e in values]
    assert types[0] == "order.created" and types.count("order.dispatched") == 3
    assert types[-1] == "order.assigned"
    # Actors: the router's token reads as "router"; its own token as itself, with its request id.
    by_type = {e["type"]: e for e in values}
    assert by_type["order.created"]["actor"] == {"type": "router", "id": None, "label": "router"}
    assert by_type["order.created"]["requestId"] is None
    assert all(e["actor"] == {"type": "router", "id": None, "label": "router"} for e in sent)
    assigned = by_type["order.assigned"]
    assert assigned["actor"]["type"] == "api_token" and assigned["actor"]["label"] == "installer-app"
    assert assigned["data"]["installer"]["id"] == str(installer_org.pk)
    assert assigned["requestId"] is not None


def test_timeline_hides_another_installers_assignment_data(operator_a, installer_client, installer_org, partners):
    """An order-level event naming another installer keeps its type but not that installer."""
    from dispatch.selectors import installer_timeline
    from orders.models import Order, OrderEvent
    from orders.selectors import Viewer

    order_id = operator_a.post("/api/v1/order", order_payload(), format="json").json()["id"]
    order = Order.objects.get(pk=order_id)
    event = OrderEvent(
        order=order,
        type="order.assigned",
        sequence=99,
        data={"offerId": "x", "installer": {"id": "someone-else", "name": "Someone Else AS"}, "note": 1},
    )
    [(shown, data)] = installer_timeline(order, [event], Viewer(organization=installer_org))
    assert shown is event and data == {"note": 1}
