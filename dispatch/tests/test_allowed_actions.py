"""`allowedActions` of an installer token: "accept" and "decline" while it holds an open offer on
the order (sent, before its deadline), on Get Order and List Orders alike, with the installer's
open offers prefetched once per page (no query per order)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from dispatch.tests.conftest import api_client_for, make_installer, make_partner
from orders.tests.factories import order_payload

pytestmark = pytest.mark.django_db

ANSWER = ["accept", "decline"]


def dispatched_order(operator) -> str:
    order_id = operator.post("/api/v1/order", order_payload(), format="json").json()["id"]
    response = operator.post(f"/api/v1/order/{order_id}/dispatch", {}, format="json")
    assert response.status_code == 200, response.content
    return order_id


def actions(client, order_id) -> list[str]:
    response = client.get(f"/api/v1/order/{order_id}")
    assert response.status_code == 200, response.content
    return response.json()["allowedActions"]


def test_open_offer_gives_accept_and_decline_until_answered(operator_a, installer_client, installer_org, org_a):
    make_partner(org_a, installer_org)
    order_id = dispatched_order(operator_a)
    assert actions(installer_client, order_id) == ANSWER
    listed = installer_client.get("/api/v1/order").json()["values"]
    assert [(o["id"], o["allowedActions"]) for o in listed] == [(order_id, ANSWER)]
    # The router never gets them.
    assert not set(ANSWER) & set(actions(operator_a, order_id))

    offer_id = installer_client.get("/api/v1/offers").json()["values"][0]["id"]
    accepted = installer_client.post(f"/api/v1/offers/{offer_id}/accept").json()
    assert not set(ANSWER) & set(accepted["order"]["allowedActions"])
    assert "book" in accepted["order"]["allowedActions"]
    assert not set(ANSWER) & set(actions(installer_client, order_id))


def test_broadcast_each_offered_installer_sees_them_until_one_accepts(
    operator_a, installer_client, installer_org, org_a
):
    org_a.offers_at_once = 2
    org_a.save(update_fields=["offers_at_once"])
    make_partner(org_a, installer_org, priority=1)
    rival = make_installer("Rival AS")
    make_partner(org_a, rival, priority=2)
    rival_client = api_client_for(rival, "rival-app")
    order_id = dispatched_order(operator_a)
    assert actions(installer_client, order_id) == ANSWER
    assert actions(rival_client, order_id) == ANSWER

    rival_offer = rival_client.get("/api/v1/offers").json()["values"][0]["id"]
    assert rival_client.post(f"/api/v1/offers/{rival_offer}/accept").status_code == 200
    # The other offer is withdrawn: that installer no longer reads the order at all.
    assert installer_client.get(f"/api/v1/order/{order_id}").status_code == 404
    assert not set(ANSWER) & set(actions(rival_client, order_id))


def test_expired_offer_gives_nothing_before_the_expiry_task_runs(operator_a, installer_client, installer_org, clock):
    make_partner(operator_a.org, installer_org)
    order_id = dispatched_order(operator_a)
    assert actions(installer_client, order_id) == ANSWER
    clock.advance(days=30)  # past the deadline; the expiry task has not run
    assert actions(installer_client, order_id) == []


def test_viewer_token_of_the_installer_gets_none(operator_a, installer_org):
    make_partner(operator_a.org, installer_org)
    order_id = dispatched_order(operator_a)
    viewer = api_client_for(installer_org, "installer-viewer", role=Role.VIEWER)
    assert actions(viewer, order_id) == []


def test_installer_list_query_count_is_constant(operator_a, installer_client, installer_org):
    make_partner(operator_a.org, installer_org)

    def list_queries() -> tuple[int, list]:
        with CaptureQueriesContext(connection) as ctx:
            response = installer_client.get("/api/v1/order?pageSize=500")
        assert response.status_code == 200
        return len(ctx.captured_queries), response.json()["values"]

    dispatched_order(operator_a)
    installer_client.get("/api/v1/workflows")  # records last_used_at, so that later requests only read
    one, values = list_queries()
    assert [o["allowedActions"] for o in values] == [ANSWER]
    for _ in range(12):
        dispatched_order(operator_a)
    many, values = list_queries()
    assert len(values) == 13 and all(o["allowedActions"] == ANSWER for o in values)
    assert many == one


def test_router_list_query_count_unchanged_by_the_prefetch(operator_a, installer_org):
    """A router's list has no offer prefetch at all (the hook returns nothing for routers)."""
    make_partner(operator_a.org, installer_org)
    dispatched_order(operator_a)
    with CaptureQueriesContext(connection) as ctx:
        operator_a.get("/api/v1/order")
    assert not [q for q in ctx.captured_queries if "dispatch_offer" in q["sql"]]
