"""`order.deleted` as a subscription choice and a delivered event; `test` in every payload."""

from __future__ import annotations

import pytest

from orders import services as order_services
from orders.actors import Actor
from orders.tests.factories import OrganizationFactory, create_order
from webhooks.tests.conftest import drain

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def org(db):
    return OrganizationFactory(name="Alpha Energy", slug="alpha", display_id_prefix="A")


def test_order_deleted_is_a_subscription_choice(admin_a):
    response = admin_a.post(
        "/api/v1/webhooks", {"url": "https://hooks.example.com/in", "events": ["order.deleted"]}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["events"] == ["order.deleted"]


def test_deleted_order_is_delivered_with_its_test_flag(org, receiver, make_endpoint):
    make_endpoint(org, receiver.url, events=["order.created", "order.deleted"])
    real = create_order(org, name="Real")
    test = create_order(org, name="Sandbox", test=True)
    order_services.order_delete(order_id=test.pk, organization=org, actor=Actor.system("test"))
    drain()

    bodies = [hit.json() for hit in receiver.hits]
    assert all(hit.status == 200 for hit in receiver.hits)
    seen = [(b["event"], b["data"]["id"], b["test"], b["data"]["test"]) for b in bodies]
    assert sorted(seen) == sorted(
        [
            ("order.created", str(real.pk), False, False),
            ("order.created", str(test.pk), True, True),
            ("order.deleted", str(test.pk), True, True),
        ]
    )
