"""The JSON objects of products and quotes (docs/api.md), built from what pricing.selectors
loaded. Amounts are integers in minor units; quantities and percentages are decimal strings.

Who reads a quote decides what it shows: the router and the installer partner read the
installer's payout (per line and `totals.installerPayout`); the customer never does."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pricing import money, selectors
from pricing.models import Product, Quote, QuoteLine, QuoteStatus

ROUTER, PARTNER, CUSTOMER = "router", "partner", "customer"


def _decimal(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def product_tag_names(product: Product) -> list[str]:
    """The product's tag names by name: from `tag_links` (`selectors.products_visible_to`
    prefetches them), else one query."""
    links = getattr(product, "tag_links", None)
    if links is None:
        return sorted(product.tags.names())
    return [link.tag.name for link in links]


def product_to_dict(product: Product) -> dict[str, Any]:
    return {
        "id": product.pk,
        "organizationId": product.organization_id,
        "name": product.name,
        "description": product.description,
        "unit": product.unit,
        "externalId": product.external_id,
        "currency": product.currency,
        "vatRate": _decimal(product.vat_rate),
        "pricesIncludeVat": product.prices_include_vat,
        "unitAmount": product.unit_amount,
        "payoutPercent": _decimal(product.payout_percent),
        "payoutAmount": product.payout_amount,
        "sharedWithPartners": product.shared_with_partners,
        "active": product.active,
        "tags": product_tag_names(product),
        "createdAt": product.created_at,
        "updatedAt": product.updated_at,
    }


def _line_to_dict(line: QuoteLine, audience: str) -> dict[str, Any]:
    amounts = line.amounts
    out: dict[str, Any] = {
        "id": line.pk,
        "position": line.position,
        "productId": line.product_id,
        "description": line.description,
        "unit": line.unit,
        "quantity": _decimal(line.quantity),
        "unitAmount": line.unit_amount,
        "discountPercent": _decimal(line.discount_percent),
        "vatRate": _decimal(line.vat_rate),
        "pricesIncludeVat": line.prices_include_vat,
        "optional": line.optional,
        "chosen": line.chosen,
        "net": amounts.net,
        "vat": amounts.vat,
        "gross": amounts.gross,
    }
    if audience != CUSTOMER:
        out["payoutPercent"] = _decimal(line.payout_percent)
        out["payoutAmount"] = line.payout_amount
        out["installerPayout"] = amounts.payout
    return out


def totals_to_dict(totals: money.Totals, audience: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "net": totals.net,
        "vat": totals.vat,
        "gross": totals.gross,
        "byRate": [{"vatRate": str(rate), "net": net, "vat": vat} for rate, (net, vat) in totals.by_rate.items()],
    }
    if audience != CUSTOMER:
        out["installerPayout"] = totals.payout
    return out


def quote_totals(quote: Quote) -> money.Totals:
    """The chosen lines' totals; an accepted quote's are the frozen ones stored at acceptance
    (equal by construction: its lines no longer change)."""
    totals = selectors.quote_totals(quote)
    if quote.status == QuoteStatus.ACCEPTED and quote.total_gross is not None:
        return money.Totals(
            net=quote.total_net or 0,
            vat=quote.total_vat or 0,
            gross=quote.total_gross,
            payout=quote.total_payout or 0,
            by_rate=totals.by_rate,
        )
    return totals


def quote_to_dict(quote: Quote, audience: str) -> dict[str, Any]:
    """The quote as `audience` (ROUTER, PARTNER or CUSTOMER) reads it. Needs `lines` prefetched
    (and `step` joined) to cost no query."""
    lines = list(quote.lines.all())
    out: dict[str, Any] = {
        "id": quote.pk,
        "orderId": quote.order_id,
        "status": quote.status,
        "payer": quote.payer,
        "currency": quote.currency,
        "validUntil": quote.valid_until,
        "note": quote.note,
        "lines": [_line_to_dict(line, audience) for line in lines],
        "totals": totals_to_dict(quote_totals(quote), audience),
        "sentAt": quote.sent_at,
        "decidedAt": quote.decided_at,
        "decidedVia": quote.decided_via or None,
        "createdAt": quote.created_at,
        "updatedAt": quote.updated_at,
    }
    if audience != CUSTOMER:
        out["stepKey"] = quote.step.key if quote.step is not None else None
        out["version"] = quote.version
        out["createdBy"] = {
            "organizationId": quote.created_by_organization_id,
            "type": quote.created_by_type,
            "label": quote.created_by_label,
        }
        out["decidedBy"] = quote.decided_by_label or None
    return out
