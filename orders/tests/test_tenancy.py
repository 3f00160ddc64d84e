"""Another organization's objects are 404 on every route and absent from every list."""

from __future__ import annotations

import pytest

from orders import services
from orders.models import Order, OrderEvent, OrderTag, TaggedOrder
from orders.tests.factories import create_order, make_installer_partner
from orders.tests.helpers import move_to
from orders.tests.routes import ROUTES

pytestmark = pytest.mark.django_db

NOT_FOUND = {"error": "Not Found", "statusCode": 404}


def snapshot():
    return (
        list(Order.objects.order_by("id").values()),
        OrderEvent.objects.count(),
        OrderTag.objects.count(),
        TaggedOrder.objects.count(),
    )


@pytest.fixture
def a_objects(operator_a):
    order = create_order(operator_a.org, name="Secret A")
    tag = services.order_tags_create(organization=operator_a.org, names=["A-tag"])[0]
    services.order_tag_assign(order_id=order.pk, organization=operator_a.org, tag_id=tag.pk, actor=_actor())
    return {"order": order.pk, "tag": tag.pk}


def _actor():
    from orders.actors import Actor

    return Actor.system("t")


@pytest.mark.parametrize("route", [r for r in ROUTES if r.on_order], ids=str)
def test_other_org_gets_404_on_every_order_route(operator_b, a_objects, route):
    before = snapshot()
    response = route.call(operator_b, **a_objects)
    assert response.status_code == 404, response.content
    body = response.json()
    assert {k: body[k] for k in NOT_FOUND} == NOT_FOUND
    assert "Secret" not in response.content.decode()
    assert snapshot() == before


@pytest.mark.parametrize("route", [r for r in ROUTES if "{tag}" in r.path], ids=str)
def test_own_order_with_other_orgs_tag_is_404(operator_b, a_objects, route):
    b_order = create_order(operator_b.org)
    before = snapshot()
    response = route.call(operator_b, order=b_order.pk, tag=a_objects["tag"])
    assert response.status_code == 404
    assert response.json()["message"] == "Tag not found."
    assert snapshot() == before


@pytest.mark.parametrize("route", [r for r in ROUTES if "{tag}" in r.path], ids=str)
def test_other_orgs_order_with_own_tag_is_404(operator_b, a_objects, route):
    b_tag = services.order_tags_create(organization=operator_b.org, names=["B-tag"])[0]
    before = snapshot()
    response = route.call(operator_b, order=a_objects["order"], tag=b_tag.pk)
    assert response.status_code == 404
    assert snapshot() == before


@pytest.mark.parametrize("route", [r for r in ROUTES if r.on_order], ids=str)
def test_malformed_and_unknown_ids_are_404(operator_a, a_objects, route):
    for order_id in ("not-a-uuid", "00000000-0000-0000-0000-000000000000"):
        response = route.call(operator_a, order=order_id, tag=a_objects["tag"])
        assert response.status_code == 404, (order_id, response.content)
        assert response.json()["statusCode"] == 404


def test_lists_leak_nothing(operator_a, operator_b, a_objects):
    services.workflow_create(organization=operator_a.org, custom_id="a-secret-flow", name="A flow")
    b_order = create_order(operator_b.org, name="Mine")
    orders = operator_b.get("/api/v1/order").json()
    assert orders["count"] == 1 and [o["id"] for o in orders["values"]] == [str(b_order.pk)]
    assert operator_b.get("/api/v1/order", {"cursor": ""}).json()["values"][0]["id"] == str(b_order.pk)
    # Filters naming A's objects find nothing either.
    assert operator_b.get("/api/v1/order", {"tagId": str(a_objects["tag"])}).json()["count"] == 0
    assert operator_b.get("/api/v1/order", {"q": "Secret"}).json()["count"] == 0
    a_workflow = Order.objects.get(pk=a_objects["order"]).workflow_id
    assert operator_b.get("/api/v1/order", {"workflowId": str(a_workflow)}).json()["count"] == 0
    tags = operator_b.get("/api/v1/order-tags").json()
    assert tags == {"values": [], "count": 0}
    workflows = operator_b.get("/api/v1/workflows").json()
    assert [w["customId"] for w in workflows["values"]] == ["default"]
    assert str(a_workflow) not in str(workflows)


def test_tag_create_with_other_orgs_name_makes_own_tag(operator_a, operator_b, a_objects):
    response = operator_b.post("/api/v1/order-tags", {"name": "A-tag"}, format="json")
    assert response.status_code == 201
    assert response.json()["values"][0]["id"] != str(a_objects["tag"])


class TestInstallerPartner:
    """An installer company reads the orders assigned to it, and writes nothing of the router's."""

    @pytest.fixture
    def assigned(self, operator_a, installer_org):
        make_installer_partner(operator_a.org, installer_org)
        return create_order(
            operator_a.org,
            name="Assigned",
            actor_assignments=[{"actorSlug": "installer", "organizationId": str(installer_org.pk)}],
        )

    def test_reads_assigned_order_only(self, installer_client, assigned, operator_a):
        create_order(operator_a.org, name="Not assigned")
        listed = installer_client.get("/api/v1/order").json()
        assert [o["id"] for o in listed["values"]] == [str(assigned.pk)]
        got = installer_client.get(f"/api/v1/order/{assigned.pk}").json()
        assert got["email"] == "ola@example.com"  # assigned: contact details shown
        assert "update" not in got["allowedActions"] and "cancel" not in got["allowedActions"]

    @pytest.mark.parametrize("route", [r for r in ROUTES if r.on_order and r.writes and "steps" not in r.path], ids=str)
    def test_cannot_write_routers_order(self, installer_client, assigned, operator_a, route):
        tag = services.order_tags_create(organization=operator_a.org, names=["x"])[0]
        before = snapshot()
        assert route.call(installer_client, order=assigned.pk, tag=tag.pk).status_code == 404
        assert snapshot() == before

    def test_completes_steps_of_assigned_order(self, installer_client, assigned):
        order = move_to(assigned, 1)
        response = installer_client.post(f"/api/v1/order/{order.pk}/steps/find-installer/complete")
        assert response.status_code == 200, response.content
        assert response.json()["currentStep"] is None


class TestVisibilityRules:
    """`orders.hooks.installer_visibility` (set by dispatch for open offers): the installer reads the order,
    without the customer's name, email, phone and street address, and cannot write it."""

    @pytest.fixture
    def offered(self, operator_a, monkeypatch):
        from django.db.models import Q

        from orders import hooks

        order = create_order(operator_a.org, name="Offered", postal_code="0154")
        create_order(operator_a.org, name="Elsewhere", postal_code="9999")
        monkeypatch.setattr(hooks.installer_visibility, "function", lambda viewer: Q(postal_code="0154"))
        return order

    def test_open_offer_hides_contact(self, installer_client, offered):
        body = installer_client.get(f"/api/v1/order/{offered.pk}").json()
        assert body["name"] == "Offered" and body["postalCode"] == "0154" and body["city"] == "Oslo"
        assert body["contactPersonName"] is body["email"] is body["phoneNumber"] is body["address"] is None
        assert body["allowedActions"] == []
        listed = installer_client.get("/api/v1/order").json()
        assert [o["id"] for o in listed["values"]] == [str(offered.pk)] and listed["count"] == 1
        assert listed["values"][0]["email"] is None

    def test_rules_do_not_apply_to_routers(self, operator_b, offered):
        assert operator_b.get(f"/api/v1/order/{offered.pk}").status_code == 404

    def test_open_offer_gives_no_write(self, installer_client, offered):
        before = snapshot()
        assert installer_client.patch(f"/api/v1/order/{offered.pk}", {"name": "x"}, format="json").status_code == 404
        assert installer_client.post(f"/api/v1/order/{offered.pk}/cancel").status_code == 404
        assert installer_client.post(f"/api/v1/order/{offered.pk}/steps/received/complete").status_code == 404
        assert snapshot() == before
