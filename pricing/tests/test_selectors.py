"""The foundation the invoices build on: the accepted quote, its chosen lines, its totals."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.db import IntegrityError, transaction

from orders.tests.factories import create_order
from pricing import selectors
from pricing.models import Product, Quote, QuoteLine, QuoteStatus


@pytest.fixture
def order(org_a):
    return create_order(org_a)


def make_quote(order, status=QuoteStatus.DRAFT, **kw):
    return Quote.objects.create(organization=order.organization, order=order, status=status, **kw)


def make_line(quote, position, **kw):
    base = {"description": f"Line {position}", "quantity": D(1), "unit_amount": 10000, "vat_rate": D(25)}
    base.update(kw)
    return QuoteLine.objects.create(quote=quote, position=position, **base)


def test_no_accepted_quote(order):
    make_quote(order, QuoteStatus.SENT)
    assert selectors.accepted_quote(order) is None
    assert selectors.accepted_quote_lines(order) == []


def test_accepted_quote_lines_are_the_chosen_ones_by_position(order, org_a):
    product = Product.objects.create(organization=org_a, name="Charger", unit_amount=1000000)
    make_line(make_quote(order, QuoteStatus.REJECTED), 0)
    quote = make_quote(order, QuoteStatus.ACCEPTED)
    second = make_line(quote, 2, quantity=D("2.5"), unit_amount=2000, vat_rate=D(15), payout_amount=500)
    first = make_line(quote, 1, product=product, payout_percent=D(70))
    make_line(quote, 3, optional=True, chosen=False)
    chosen_optional = make_line(quote, 4, optional=True, chosen=True, vat_rate=D(0), unit_amount=-1000)

    assert selectors.accepted_quote(order) == quote
    lines = selectors.accepted_quote_lines(order)
    assert lines == [first, second, chosen_optional]

    totals = selectors.quote_totals(selectors.accepted_quote(order))
    # 10000 + 25 % ; 2.5 × 2000 = 5000 + 15 % = 750; −1000 at 0 %.
    assert (totals.net, totals.vat, totals.gross) == (14000, 3250, 17250)
    # 70 % of 10000 + 500 × 2.5.
    assert totals.payout == 7000 + 1250
    assert totals.by_rate == {D("0.00"): (-1000, 0), D("15.00"): (5000, 750), D("25.00"): (10000, 2500)}


def test_an_order_has_at_most_one_accepted_quote(order):
    make_quote(order, QuoteStatus.ACCEPTED)
    with pytest.raises(IntegrityError), transaction.atomic():
        make_quote(order, QuoteStatus.ACCEPTED)


def test_a_line_has_one_kind_of_payout(order):
    quote = make_quote(order)
    with pytest.raises(IntegrityError), transaction.atomic():
        make_line(quote, 0, payout_percent=D(10), payout_amount=100)
