"""Reads of products and quotes. Presentation lives with the API and the pages."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Prefetch

from orders.models import Order
from pricing import money
from pricing.models import Quote, QuoteLine, QuoteStatus


def accepted_quote(order: Order) -> Quote | None:
    """The order's accepted quote (an order has at most one), with its lines prefetched, or None."""
    return (
        Quote.objects.filter(order=order, status=QuoteStatus.ACCEPTED)
        .prefetch_related(Prefetch("lines", queryset=QuoteLine.objects.select_related("product")))
        .first()
    )


def accepted_quote_lines(order: Order) -> list[QuoteLine]:
    """The chosen lines of the order's accepted quote, by position (empty without one): what
    the customer agreed to buy."""
    return list(
        QuoteLine.objects.filter(quote__order=order, quote__status=QuoteStatus.ACCEPTED, chosen=True)
        .select_related("product", "quote")
        .order_by("position", "id")
    )


def lines_totals(lines: Iterable[QuoteLine]) -> money.Totals:
    """The totals of these lines (all of them, chosen or not)."""
    return money.totals((line.vat_rate, line.amounts) for line in lines)


def quote_totals(quote: Quote) -> money.Totals:
    """The totals of the quote's chosen lines (`money.totals`), from its lines as loaded
    (prefetch `lines` to keep it to no query). An accepted quote's stored totals equal these:
    its lines are frozen once it is accepted."""
    return lines_totals(line for line in quote.lines.all() if line.chosen)
