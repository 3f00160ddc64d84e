"""Quotes in the partner workspace (`/partner/jobs/<id>/`): the job page shows the job's quotes
(the payer's amounts and the partner's payout) and, where the router lets partners quote
(`Workflow.partners_may_quote`), a small form to draft a quote from the router's shared
products or free lines, then send or withdraw it. Every write calls `pricing.services` with the
user as the actor."""

from __future__ import annotations

import decimal
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from installer.errors import DomainError
from orders.models import Order
from partners import selectors as partner_selectors
from partners.views.common import error_status, error_text
from partners.workspace import partner_view
from pricing import selectors, services
from pricing.api.presenters import quote_totals
from pricing.customer import STATUS_TEXT, format_amount
from pricing.models import Product, Quote, QuoteStatus

FORM_ROWS = 3
PARTNER_STATUS_TEXT: dict[str, Any] = {
    **STATUS_TEXT,
    QuoteStatus.DRAFT: gettext_lazy("Draft"),
    QuoteStatus.WITHDRAWN: gettext_lazy("Withdrawn"),
}


def parse_money(text: str) -> int:
    """`1 299,50`, `1299.50` or `1299` (kroner) as minor units; ValueError otherwise."""
    cleaned = text.replace("\u00a0", "").replace(" ", "").replace(",", ".").removesuffix("kr")
    try:
        value = Decimal(cleaned)
    except decimal.InvalidOperation:
        raise ValueError(text) from None
    if not value.is_finite() or value.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValueError(text)
    return int(value * 100)


class QuoteLineForm(forms.Form):
    product = forms.ChoiceField(required=False, label=gettext_lazy("Product"))
    description = forms.CharField(required=False, max_length=500, label=gettext_lazy("Description"))
    quantity = forms.DecimalField(
        required=False, min_value=Decimal("0.001"), max_digits=12, decimal_places=3, label=gettext_lazy("Quantity")
    )
    price = forms.CharField(required=False, max_length=20, label=gettext_lazy("Price per unit, excl. VAT (kr)"))
    optional = forms.BooleanField(required=False, label=gettext_lazy("Optional for the customer"))

    def __init__(self, *args, products: list[Product], **kwargs):
        super().__init__(*args, **kwargs)
        product_field = self.fields["product"]
        assert isinstance(product_field, forms.ChoiceField)
        product_field.choices = [("", _("Free text line")), *[(str(p.pk), p.name) for p in products]]

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("product") and not cleaned.get("description") and not cleaned.get("price"):
            return cleaned  # an empty row
        line: dict[str, Any] = {"quantity": cleaned.get("quantity") or Decimal(1), "optional": cleaned.get("optional")}
        if cleaned.get("product"):
            line["product_id"] = cleaned["product"]
        elif not cleaned.get("description"):
            self.add_error("description", _("Describe the line or choose a product."))
        if cleaned.get("description"):
            line["description"] = cleaned["description"]
        if cleaned.get("price"):
            try:
                line["unit_amount"] = parse_money(cleaned["price"])
            except ValueError:
                self.add_error("price", _("Write the price in kroner, e.g. 1299,50."))
        elif not cleaned.get("product"):
            self.add_error("price", _("A free text line needs a price."))
        cleaned["line"] = line
        return cleaned


def line_forms(products: list[Product], data=None) -> list[QuoteLineForm]:
    return [QuoteLineForm(data, products=products, prefix=f"line{i}") for i in range(FORM_ROWS)]


def _quote_row(quote: Quote, organization_id) -> dict[str, Any]:
    totals = quote_totals(quote)
    money = lambda minor: format_amount(minor, quote.currency)  # noqa: E731
    return {
        "quote": quote,
        "status_text": PARTNER_STATUS_TEXT.get(quote.status, quote.status),
        "lines": [
            {
                "line": line,
                "quantity": format(line.quantity.normalize(), "f"),
                "unit_price": money(line.unit_amount),
                "gross": money(line.amounts.gross),
                "payout": money(line.amounts.payout),
            }
            for line in quote.lines.all()
        ],
        "net": money(totals.net),
        "vat": money(totals.vat),
        "gross": money(totals.gross),
        "payout": money(totals.payout),
        "own": quote.created_by_organization_id == organization_id,
    }


def job_quotes(ws, order: Order, line_form_list: list[QuoteLineForm] | None = None) -> dict[str, Any]:
    """The job page's quotes section: the quotes the partner reads, and the form where allowed."""
    quotes = selectors.quotes_of_order(ws.organization, order)
    may_quote = bool(order.workflow.partners_may_quote) and ws.can_work_jobs and order.status not in (4, 6)
    products = (
        list(selectors.products_visible_to(ws.organization).filter(organization_id=order.organization_id))
        if may_quote
        else []
    )
    return {
        "quotes": [_quote_row(q, ws.organization.pk) for q in quotes],
        "may_quote": may_quote and not any(q.status == QuoteStatus.ACCEPTED for q in quotes),
        "line_forms": line_form_list or (line_forms(products) if may_quote else []),
    }


def _job(request: HttpRequest, order_id: str) -> Order:
    ws = request.workspace  # type: ignore[attr-defined]
    order = partner_selectors.job_get(ws.viewer, order_id)
    if order is None:
        raise Http404("No such job.")
    return order


def _job_page(
    request: HttpRequest, order_id: str, *, status: int, error: str = "", line_form_list=None
) -> HttpResponse:
    from partners.views import jobs

    return jobs._job_page(request, order_id, status=status, error=error, forms={"quote": line_form_list})


@require_POST
@partner_view
def quote_create(request: HttpRequest, order_id: str) -> HttpResponse:
    ws = request.workspace  # type: ignore[attr-defined]
    order = _job(request, order_id)
    if not ws.can_work_jobs:
        return _job_page(request, order_id, status=403, error=_("Your role may not change jobs."))
    products = list(selectors.products_visible_to(ws.organization).filter(organization_id=order.organization_id))
    forms_ = line_forms(products, request.POST)
    if not all(f.is_valid() for f in forms_):
        return _job_page(request, order_id, status=400, error=_("Check the quote's lines."), line_form_list=forms_)
    lines = [f.cleaned_data["line"] for f in forms_ if f.cleaned_data.get("line")]
    if not lines:
        return _job_page(request, order_id, status=400, error=_("Add at least one line."), line_form_list=forms_)
    try:
        services.quote_create(
            order_id=order.pk,
            author=services.Author(organization=ws.organization, actor=ws.actor),
            data={"lines": lines},
        )
    except DomainError as exc:
        return _job_page(request, order_id, status=error_status(exc), error=error_text(exc), line_form_list=forms_)
    messages.success(request, _("Quote drafted. Check it, then send it to the customer."))
    return redirect("partners:job", order_id=order.pk)


def _quote_action(request: HttpRequest, order_id: str, quote_id: str, action: str, done: str) -> HttpResponse:
    ws = request.workspace  # type: ignore[attr-defined]
    order = _job(request, order_id)
    if not ws.can_work_jobs:
        return _job_page(request, order_id, status=403, error=_("Your role may not change jobs."))
    quote = selectors.quote_get(ws.organization, quote_id)
    if quote is None or quote.order_id != order.pk:
        raise Http404("No such quote.")
    try:
        services.quote_act(
            quote_id=quote.pk, action=action, author=services.Author(organization=ws.organization, actor=ws.actor)
        )
    except DomainError as exc:
        return _job_page(request, order_id, status=error_status(exc), error=error_text(exc))
    messages.success(request, done)
    return redirect("partners:job", order_id=order.pk)


@require_POST
@partner_view
def quote_send(request: HttpRequest, order_id: str, quote_id: str) -> HttpResponse:
    return _quote_action(request, order_id, quote_id, "send", _("Quote sent to the customer."))


@require_POST
@partner_view
def quote_withdraw(request: HttpRequest, order_id: str, quote_id: str) -> HttpResponse:
    return _quote_action(request, order_id, quote_id, "withdraw", _("Quote withdrawn."))
