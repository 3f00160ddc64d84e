"""Reads of products and quotes. Presentation lives with the API and the pages."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from accounts.models import Organization
from orders.models import Order
from orders.selectors import parse_uuid
from pricing import money
from pricing.models import Product, Quote, QuoteLine, QuoteStatus, TaggedProduct


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


# The order's quote state: the furthest any of its quotes got, in this order of precedence.
QUOTE_STATE_ORDER = ("accepted", "sent", "draft", "rejected", "withdrawn")


def quote_state(order: Order) -> str:
    """The order's `quote_status`: "accepted" when a quote is accepted, else "sent" while one
    waits for the customer, else "draft", "rejected" or "withdrawn"; "" without quotes. One query."""
    statuses = set(Quote.objects.filter(order=order).values_list("status", flat=True).distinct())
    return next((state for state in QUOTE_STATE_ORDER if state in statuses), "")


def lines_totals(lines: Iterable[QuoteLine]) -> money.Totals:
    """The totals of these lines (all of them, chosen or not)."""
    return money.totals((line.vat_rate, line.amounts) for line in lines)


def quote_totals(quote: Quote) -> money.Totals:
    """The totals of the quote's chosen lines (`money.totals`), from its lines as loaded
    (prefetch `lines` to keep it to no query). An accepted quote's stored totals equal these:
    its lines are frozen once it is accepted."""
    return lines_totals(line for line in quote.lines.all() if line.chosen)


# -- the API's and pages' reads -----------------------------------------------------------------


def products_visible_to(organization: Organization) -> QuerySet[Product]:
    """The organization's own products and, for an installer partner, the active products its
    routers (active partnerships) share with partners. Tags prefetched."""
    condition = Q(organization=organization)
    if organization.is_installer:
        routers = Organization.objects.filter(
            installer_partnerships__installer=organization, installer_partnerships__active=True
        ).values("pk")
        condition |= Q(organization_id__in=routers, shared_with_partners=True, active=True)
    return Product.objects.filter(condition).prefetch_related(
        Prefetch(
            "tagged_items",
            queryset=TaggedProduct.objects.select_related("tag").order_by("tag__name"),
            to_attr="tag_links",
        )
    )


def product_get(organization: Organization, product_id: Any) -> Product | None:
    """A product the organization may read (`products_visible_to`), or None."""
    pk = parse_uuid(product_id)
    if pk is None:
        return None
    return products_visible_to(organization).filter(pk=pk).first()


def _line_prefetch() -> Prefetch:
    return Prefetch("lines", queryset=QuoteLine.objects.order_by("position", "id"))


def quote_visibility(organization: Organization) -> Q:
    """The quotes an organization reads: its own orders' quotes, and on the orders assigned to
    it (an installer partner) every quote but the router's drafts."""
    condition = Q(organization=organization)
    if organization.is_installer:
        condition |= Q(order__installer=organization) & (
            ~Q(status=QuoteStatus.DRAFT) | Q(created_by_organization=organization)
        )
    return condition


def quotes_of_order(organization: Organization, order: Order) -> list[Quote]:
    """The order's quotes that `organization` reads, oldest first, lines prefetched (two
    queries whatever the number of quotes and lines)."""
    return list(
        Quote.objects.filter(quote_visibility(organization), order=order)
        .select_related("order", "step")
        .prefetch_related(_line_prefetch())
        .order_by("created_at", "id")
    )


def quote_get(organization: Organization, quote_id: Any) -> Quote | None:
    """A quote the organization reads (`quote_visibility`), lines prefetched, or None."""
    pk = parse_uuid(quote_id)
    if pk is None:
        return None
    return (
        Quote.objects.filter(quote_visibility(organization), pk=pk)
        .select_related("order", "step")
        .prefetch_related(_line_prefetch())
        .first()
    )


def quotes_for_customer(order: Order) -> list[Quote]:
    """What the customer sees of the order's quotes: sent, accepted and rejected ones (never a
    draft or a withdrawn quote), oldest first, lines prefetched."""
    return list(
        Quote.objects.filter(order=order, status__in=(QuoteStatus.SENT, QuoteStatus.ACCEPTED, QuoteStatus.REJECTED))
        .prefetch_related(_line_prefetch())
        .order_by("created_at", "id")
    )


def quotes_of_orders(order_ids: Iterable[Any]) -> dict[Any, list[Quote]]:
    """Every quote of these orders by order id, lines prefetched (the admin's order page)."""
    grouped: dict[Any, list[Quote]] = {}
    for quote in Quote.objects.filter(order_id__in=list(order_ids)).prefetch_related(_line_prefetch()):
        grouped.setdefault(quote.order_id, []).append(quote)
    return grouped
