"""Invoicing the same order four times at the same instant: one invoice, one number, three
409s; invoicing two orders at once: distinct numbers (the organization row is locked)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from invoicing.models import Invoice
from invoicing.tests.conftest import CHARGER, complete, quote, started
from orders.models import OrderEvent


def race(calls):
    barrier = threading.Barrier(len(calls))
    results: list[int] = []

    def run(call):
        try:
            barrier.wait(timeout=10)
            results.append(call().status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return sorted(results)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_simultaneous_invoicing_one_winner(router, company, router_api):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks")
    order = started(router, company)
    quote(order, CHARGER)
    complete(order, company)
    url = f"/api/v1/order/{order.pk}/invoice"
    assert race([lambda: router_api.post(url)] * 4) == [201, 409, 409, 409]
    assert Invoice.objects.filter(order=order).count() == 1
    assert OrderEvent.objects.filter(order=order, type="order.invoiced").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_simultaneous_orders_get_distinct_numbers(router, company, router_api):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks")
    orders = [complete(started(router, company), company) for _ in range(4)]
    calls = [lambda order=order: router_api.post(f"/api/v1/order/{order.pk}/invoice") for order in orders]
    assert race(calls) == [201] * 4
    assert sorted(Invoice.objects.values_list("number", flat=True)) == [1, 2, 3, 4]
