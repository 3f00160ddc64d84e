"""What the customer sees of quotes on their order page (`/t/<token>/`): the payer's amounts,
formatted in the page's language, never the installer's payout; sent, accepted and rejected
quotes only (`selectors.quotes_for_customer`). The portal's views render it with
`templates/pricing/customer_quotes.html` and call `services.quote_customer_decide`."""

from __future__ import annotations

from typing import Any

from django.utils import translation
from django.utils.translation import gettext_lazy as _

from orders.models import Order
from pricing import selectors
from pricing.api.presenters import CUSTOMER, quote_to_dict, quote_totals
from pricing.models import Payer, Quote, QuoteStatus, unit_text

DONE_TEXT = {
    "quote_accepted": _("Thank you! You accepted the quote."),
    "quote_rejected": _("You rejected the quote. We will be in touch."),
}
ERROR_TEXT = {
    "quote_closed": _("This quote can no longer be accepted or rejected."),
    "quote_lines": _("Choose only among the optional items of the quote."),
}
STATUS_TEXT: dict[str, Any] = {
    QuoteStatus.SENT: _("Waiting for your answer"),
    QuoteStatus.ACCEPTED: _("Accepted"),
    QuoteStatus.REJECTED: _("Rejected"),
}


def format_amount(minor: int, currency: str, language: str | None = None) -> str:
    """An amount in minor units as people read it: `1 299,00 kr` in Norwegian (NOK), else
    `NOK 1,299.00`. The same rule as `formatAmount` in the page's script."""
    language = (language or translation.get_language() or "en")[:2]
    sign = "-" if minor < 0 else ""
    whole, cents = divmod(abs(minor), 100)
    if language == "nb":
        grouped = f"{whole:,}".replace(",", "\u00a0")
        number = f"{sign}{grouped},{cents:02d}"
        return f"{number}\u00a0kr" if currency == "NOK" else f"{number}\u00a0{currency}"
    return f"{sign}{currency}\u00a0{whole:,}.{cents:02d}"


def _quantity(value) -> str:
    text = format(value.normalize(), "f")
    language = (translation.get_language() or "en")[:2]
    return text.replace(".", ",") if language == "nb" else text


def quote_card(quote: Quote) -> dict[str, Any]:
    totals = quote_totals(quote)
    money = lambda minor: format_amount(minor, quote.currency)  # noqa: E731
    lines = []
    for line in quote.lines.all():
        amounts = line.amounts
        lines.append(
            {
                "id": str(line.pk),
                "description": line.description,
                "quantity": f"{_quantity(line.quantity)}\u00a0{unit_text(line.unit)}".strip(),
                "unit_price": money(line.unit_amount),
                "discount": line.discount_percent or None,
                "amount": money(amounts.gross),
                "net": amounts.net,
                "vat": amounts.vat,
                "gross": amounts.gross,
                "optional": line.optional,
                "chosen": line.chosen,
            }
        )
    return {
        "id": str(quote.pk),
        "status": quote.status,
        "status_text": STATUS_TEXT.get(quote.status, quote.status),
        "open": quote.status == QuoteStatus.SENT,
        "payer_is_router": quote.payer == Payer.ROUTER,
        "currency": quote.currency,
        "valid_until": quote.valid_until,
        "note": quote.note,
        "lines": lines,
        "has_optional": any(line["optional"] for line in lines),
        "required": {
            "net": sum(x["net"] for x in lines if not x["optional"]),
            "vat": sum(x["vat"] for x in lines if not x["optional"]),
            "gross": sum(x["gross"] for x in lines if not x["optional"]),
        },
        "totals": {"net": money(totals.net), "vat": money(totals.vat), "gross": money(totals.gross)},
        "decided_at": quote.decided_at,
    }


def quote_cards(order: Order) -> list[dict[str, Any]]:
    """The order's quotes as the customer's page shows them (two queries)."""
    return [quote_card(q) for q in selectors.quotes_for_customer(order)]


def quote_to_client_dict(quote: Quote) -> dict[str, Any]:
    """The client API's quote: the API's customer view (no payout, no authors)."""
    return quote_to_dict(quote, CUSTOMER)
