"""Reads of invoicing: delivered lines, invoices and credit notes, invoice state."""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from typing import Any

from django.db.models import Prefetch, QuerySet, Sum

from accounts.models import Organization
from dispatch.models import Partnership
from invoicing.models import DeliveredLine, Invoice, InvoiceKind, InvoiceLine
from orders.models import Order
from orders.selectors import parse_uuid


def router_order(organization: Organization, order_id: Any) -> Order | None:
    """The organization's own order (the router's), else None."""
    pk = parse_uuid(order_id)
    if pk is None:
        return None
    return Order.objects.select_related("organization", "installer").filter(organization=organization, pk=pk).first()


def line_order(organization: Organization, order_id: Any, technician_id: Any = None) -> tuple[Order, bool] | None:
    """The order if the organization is its router or its assigned installer (a technician:
    only when assigned to it), with True for the router; else None."""
    pk = parse_uuid(order_id)
    if pk is None:
        return None
    order = Order.objects.select_related("organization", "installer").filter(pk=pk).first()
    if order is None:
        return None
    if order.organization_id == organization.pk:
        return order, True
    if order.installer_id == organization.pk and (technician_id is None or order.assignee_id == technician_id):
        return order, False
    return None


def delivered_lines(order: Order) -> QuerySet[DeliveredLine]:
    return DeliveredLine.objects.filter(order=order).order_by("position", "created_at")


def documents(order: Order) -> list[Invoice]:
    """The order's invoice and credit notes, by number, with their lines and the credited
    invoice: two queries."""
    return list(
        Invoice.objects.filter(order=order)
        .select_related("order__organization", "installer", "credited_invoice")
        .prefetch_related(Prefetch("lines", queryset=InvoiceLine.objects.order_by("position")))
        .order_by("number")
    )


def credit_note_get(order: Order, note_id: Any) -> Invoice | None:
    pk = parse_uuid(note_id)
    if pk is None:
        return None
    return (
        Invoice.objects.filter(order=order, kind=InvoiceKind.CREDIT_NOTE, pk=pk)
        .select_related("order__organization", "installer", "credited_invoice")
        .first()
    )


def invoice_state(invoice: Invoice | None) -> dict[str, Any]:
    """The compact state the order pages show: `{status, invoicedAt, number}`."""
    if invoice is None:
        return {"status": "not_invoiced", "invoicedAt": None, "number": None}
    return {"status": "invoiced", "invoicedAt": invoice.issued_at.isoformat(), "number": invoice.number}


def invoices_by_order(order_ids: Iterable[Any]) -> dict[Any, Invoice]:
    """The invoices (not credit notes) of these orders, by order id: one query."""
    return {
        invoice.order_id: invoice
        for invoice in Invoice.objects.filter(order_id__in=list(order_ids), kind=InvoiceKind.INVOICE)
    }


def installer_of_router(router: Organization, installer_id: Any) -> Organization | None:
    """The installer organization if it is one of the router's partners, else None."""
    pk = parse_uuid(installer_id)
    if pk is None:
        return None
    partnership = Partnership.objects.select_related("installer").filter(router=router, installer_id=pk).first()
    return partnership.installer if partnership else None


def routers_of_installer(installer: Organization) -> list[Organization]:
    """The routers the installer works for (its partnerships), by name."""
    return [
        p.router
        for p in Partnership.objects.filter(installer=installer).select_related("router").order_by("router__name")
    ]


def month_money(org_ids: list | None, start: datetime.datetime, end: datetime.datetime) -> dict[str, list[dict]]:
    """The dashboard's money from `start` to `end`, per currency: `invoiced`, the gross of the
    invoices and credit notes issued (credit notes subtract); `not_invoiced`, the gross of the
    orders completed in the period that are not invoiced yet, priced now from their approved
    delivered lines. Test orders are left out. Four queries whatever the number of orders."""
    from accounts.admin_base import scope
    from invoicing.basis import DEFAULT_CURRENCY, priced_lines, sums
    from invoicing.models import Completion
    from pricing.models import Quote, QuoteStatus

    invoiced = (
        scope(
            Invoice.objects.filter(issued_at__gte=start, issued_at__lt=end, order__test=False), "organization", org_ids
        )
        .order_by("currency")
        .values("currency")
        .annotate(gross=Sum("gross"))
    )
    open_orders = (
        scope(Completion.objects.filter(completed_at__gte=start, completed_at__lt=end), "organization", org_ids)
        .filter(order__test=False, order__deleted_at__isnull=True)
        .exclude(order__invoices__kind=InvoiceKind.INVOICE)
        .select_related("order")
        .prefetch_related(
            Prefetch("order__delivered_lines", queryset=DeliveredLine.objects.order_by("position", "created_at")),
            Prefetch("order__quotes", queryset=Quote.objects.filter(status=QuoteStatus.ACCEPTED), to_attr="accepted"),
        )
    )
    pending: dict[str, dict[str, int]] = {}
    for completion in open_orders:
        order = completion.order
        currency = order.accepted[0].currency if order.accepted else DEFAULT_CURRENCY
        _, _, gross, _, _ = sums(priced_lines(order.delivered_lines.all())[0])
        row = pending.setdefault(currency, {"gross": 0, "orders": 0})
        row["gross"] += gross
        row["orders"] += 1
    return {
        "invoiced": [{"currency": r["currency"], "gross": r["gross"]} for r in invoiced],
        "not_invoiced": [{"currency": c, **v} for c, v in sorted(pending.items())],
    }
