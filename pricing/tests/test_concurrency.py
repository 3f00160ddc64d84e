"""Two accepts of one quote at the same instant (and two quotes of one order): exactly one
wins. PostgreSQL row locks; threads, each with its own connection."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from orders.actors import Actor
from orders.models import OrderEvent
from orders.tests.factories import create_order
from pricing import services
from pricing.models import Quote, QuoteStatus
from pricing.tests.conftest import make_quote


def race(targets) -> list[tuple[str, object]]:
    barrier = threading.Barrier(len(targets))
    results: list[tuple[str, object]] = []

    def run(target):
        try:
            barrier.wait(timeout=10)
            try:
                results.append(("ok", target()))
            except Exception as exc:  # noqa: BLE001 - the loser's error is the result
                results.append(("error", exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(t,)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def customer_accept(order, quote):
    return lambda: services.quote_customer_decide(
        order_id=order.pk, quote_id=quote.pk, action="accept", actor=Actor.system("customer"), via="client_api"
    )


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_accepts_of_one_quote_one_wins(org_a):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks")
    order = create_order(org_a)
    quote = make_quote(order, send=True)
    results = race([customer_accept(order, quote), customer_accept(order, quote)])
    outcomes = sorted(kind for kind, _ in results)
    assert outcomes == ["error", "ok"], results
    error = next(value for kind, value in results if kind == "error")
    assert type(error).__name__ == "QuoteConflict"
    assert Quote.objects.get(pk=quote.pk).status == QuoteStatus.ACCEPTED
    assert OrderEvent.objects.filter(order=order, type="quote.accepted").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_quotes_of_one_order_accepted_at_once_one_wins(org_a):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks")
    order = create_order(org_a)
    first, second = make_quote(order, send=True), make_quote(order, send=True)
    results = race([customer_accept(order, first), customer_accept(order, second)])
    assert sorted(kind for kind, _ in results) == ["error", "ok"], results
    statuses = sorted(Quote.objects.filter(order=order).values_list("status", flat=True))
    assert statuses == ["accepted", "withdrawn"]
