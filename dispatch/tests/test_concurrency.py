"""Broadcast with five installers: five accepts at the same instant, exactly one wins."""

import threading
import uuid

import pytest
from django.db import connection

from dispatch.models import Offer
from dispatch.tests.conftest import api_client_for, make_installer, make_partner
from orders.models import Order, OrderEvent
from orders.tests.factories import order_payload


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_five_simultaneous_accepts_one_winner(operator_a, org_a):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks")
    org_a.offers_at_once = 5
    org_a.save()
    clients = {}
    for index in range(5):
        installer = make_installer(f"Racer {index}")
        make_partner(org_a, installer, priority=index)
        clients[installer.pk] = api_client_for(installer, f"racer-{index}")
    order_id = operator_a.post("/api/v1/order", order_payload(), format="json").json()["id"]
    offers = operator_a.post(f"/api/v1/order/{order_id}/dispatch", {}, format="json").json()["offers"]
    assert len(offers) == 5

    barrier = threading.Barrier(5)
    results: list[tuple[str, int, dict]] = []

    def accept(offer):
        try:
            client = clients[uuid.UUID(offer["installer"]["id"])]
            barrier.wait(timeout=10)
            response = client.post(f"/api/v1/offers/{offer['id']}/accept")
            results.append((offer["installer"]["id"], response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=accept, args=(offer,)) for offer in offers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    codes = sorted(code for _, code, _ in results)
    assert codes == [200, 409, 409, 409, 409], results
    winner = next(installer_id for installer_id, code, _ in results if code == 200)
    losers = [body for _, code, body in results if code == 409]
    assert all(body["offerStatus"] == "withdrawn" for body in losers), losers
    order = Order.objects.get(pk=order_id)
    assert str(order.installer_id) == winner
    statuses = sorted(Offer.objects.filter(order_id=order_id).values_list("status", flat=True))
    assert statuses == ["accepted", "withdrawn", "withdrawn", "withdrawn", "withdrawn"]
    assert OrderEvent.objects.filter(order_id=order_id, type="order.assigned").count() == 1
