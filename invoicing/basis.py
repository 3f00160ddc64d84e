"""The invoice basis: what the exports (CSV, PDF, UBL) and the API render.

An `InvoiceBasis` is plain data. `basis_for_order` prices an order's approved delivered lines
now, with `pricing.money` (rounded per line to the øre, half away from zero; totals are sums of
the lines: docs/money.md); `basis_of_invoice` reads an issued invoice or credit note's frozen
lines and totals. The renderers never compute an amount: they format the ones here.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from accounts.models import Organization
from invoicing.models import DeliveredLine, Invoice, InvoiceKind, InvoiceLine, Payer
from orders.models import Order
from pricing import money

PAYMENT_TERMS_DAYS = 14
DEFAULT_CURRENCY = "NOK"


def decimal_text(value: Decimal) -> str:
    """A quantity or a rate as plain text without trailing zeros: 20.00 -> "20", 2.50 -> "2.5"."""
    return format(Decimal(value).normalize(), "f")


@dataclass(frozen=True)
class Party:
    name: str
    org_number: str = ""
    vat_registered: bool = False
    address: str = ""
    postal_code: str = ""
    city: str = ""
    country_code: str = ""
    email: str = ""
    phone: str = ""
    bank_account: str = ""

    @property
    def is_business(self) -> bool:
        return bool(self.org_number)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "orgNumber": self.org_number,
            "vatRegistered": self.vat_registered,
            "address": self.address,
            "postalCode": self.postal_code,
            "city": self.city,
            "countryCode": self.country_code,
            "email": self.email,
            "phone": self.phone,
            "bankAccount": self.bank_account,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Party:
        return cls(
            name=data.get("name", ""),
            org_number=data.get("orgNumber", ""),
            vat_registered=bool(data.get("vatRegistered", False)),
            address=data.get("address", ""),
            postal_code=data.get("postalCode", ""),
            city=data.get("city", ""),
            country_code=data.get("countryCode", ""),
            email=data.get("email", ""),
            phone=data.get("phone", ""),
            bank_account=data.get("bankAccount", ""),
        )

    @classmethod
    def of_organization(cls, organization: Organization) -> Party:
        return cls(
            name=organization.name,
            org_number=organization.org_number,
            vat_registered=organization.vat_registered,
            address=organization.street_address,
            postal_code=organization.postal_code,
            city=organization.city,
            country_code=organization.country_code,
            email=organization.email,
            phone=organization.phone_number,
            bank_account=organization.bank_account,
        )

    @classmethod
    def of_customer(cls, order: Order) -> Party:
        return cls(
            name=order.contact_person_name,
            address=order.address,
            postal_code=order.postal_code,
            city=order.city,
            country_code=order.country_code,
            email=order.email,
            phone=order.phone_number,
        )


@dataclass(frozen=True)
class BasisLine:
    position: int
    description: str
    unit: str
    quantity: Decimal
    unit_amount: int
    discount_percent: Decimal
    vat_rate: Decimal
    prices_include_vat: bool
    net: int
    vat: int
    gross: int
    payout: int
    extra: bool = False


@dataclass(frozen=True)
class InvoiceBasis:
    """One document's data. For an invoice the amounts are positive (or zero); for a credit
    note they are negative, as stored (UBL writes a CreditNote's amounts positive)."""

    kind: str  # InvoiceKind
    order_id: Any
    display_id: str
    payer: str  # Payer
    currency: str
    seller: Party
    buyer: Party
    installer_name: str
    lines: tuple[BasisLine, ...]
    net: int
    vat: int
    gross: int
    payout: int
    by_rate: dict[Decimal, tuple[int, int]] = field(default_factory=dict)
    number: int | None = None
    issue_date: datetime.date | None = None
    due_date: datetime.date | None = None
    delivered_on: datetime.date | None = None
    note: str = ""
    credited_number: int | None = None
    credited_issue_date: datetime.date | None = None
    pending_extras: int = 0  # delivered extras not approved (not billed)
    language: str = "en"  # what the PDF's words are in: its reader's (`reader_language`)

    @property
    def is_credit_note(self) -> bool:
        return self.kind == InvoiceKind.CREDIT_NOTE


def price_line(
    *,
    position: int,
    description: str,
    unit: str = "piece",
    quantity: Decimal,
    unit_amount: int,
    discount_percent: Decimal = Decimal(0),
    vat_rate: Decimal,
    prices_include_vat: bool = False,
    payout_percent: Decimal | None = None,
    payout_amount: int | None = None,
    extra: bool = False,
) -> BasisLine:
    amounts = money.line_amounts(
        quantity=Decimal(quantity),
        unit_amount=int(unit_amount),
        discount_percent=Decimal(discount_percent or 0),
        vat_rate=Decimal(vat_rate),
        prices_include_vat=prices_include_vat,
        payout_percent=payout_percent,
        payout_amount=payout_amount,
    )
    return BasisLine(
        position=position,
        description=description,
        unit=unit,
        quantity=Decimal(quantity),
        unit_amount=int(unit_amount),
        discount_percent=Decimal(discount_percent or 0),
        vat_rate=Decimal(vat_rate),
        prices_include_vat=prices_include_vat,
        net=amounts.net,
        vat=amounts.vat,
        gross=amounts.gross,
        payout=amounts.payout,
        extra=extra,
    )


def sums(lines: Sequence[BasisLine]) -> tuple[int, int, int, int, dict[Decimal, tuple[int, int]]]:
    """Net, VAT, gross, payout and (net, VAT) per rate: the sums of the rounded lines
    (`pricing.money.totals`)."""
    result = money.totals(
        (line.vat_rate, money.LineAmounts(net=line.net, vat=line.vat, gross=line.gross, payout=line.payout))
        for line in lines
    )
    return result.net, result.vat, result.gross, result.payout, result.by_rate


def priced_lines(delivered: Iterable[DeliveredLine]) -> tuple[list[BasisLine], int]:
    """The billable (approved) delivered lines priced, and the number left out (pending)."""
    lines: list[BasisLine] = []
    pending = 0
    for row in delivered:
        if not row.billable:
            pending += 1
            continue
        lines.append(
            price_line(
                position=len(lines) + 1,
                description=row.description,
                unit=row.unit,
                quantity=row.quantity,
                unit_amount=row.unit_amount,
                discount_percent=row.discount_percent,
                vat_rate=row.vat_rate,
                prices_include_vat=row.prices_include_vat,
                payout_percent=row.payout_percent,
                payout_amount=row.payout_amount,
                extra=row.source == "extra",
            )
        )
    return lines, pending


def parties(order: Order, payer: str) -> tuple[Party, Party]:
    """(seller, buyer). The customer pays: the router invoices the customer. The router pays:
    the installer that did the job invoices the router (docs/invoicing.md "Parties")."""
    router = Party.of_organization(order.organization)
    if payer == Payer.CUSTOMER:
        return router, Party.of_customer(order)
    installer = Party.of_organization(order.installer) if order.installer is not None else router
    return installer, router


def reader_language(order: Order, payer: str) -> str:
    """The language of the document's reader: the customer's (the order's) when the customer
    pays, else the router's (its organization's)."""
    return order.language if payer == Payer.CUSTOMER else order.organization.language


def basis_for_order(
    order: Order,
    *,
    payer: str,
    currency: str,
    delivered: Iterable[DeliveredLine],
    delivered_on: datetime.date | None = None,
    note: str = "",
) -> InvoiceBasis:
    """The order's basis now (not issued: no number, no dates)."""
    lines, pending = priced_lines(delivered)
    net, vat, gross, payout, by_rate = sums(lines)
    seller, buyer = parties(order, payer)
    return InvoiceBasis(
        kind=InvoiceKind.INVOICE,
        order_id=order.pk,
        display_id=order.display_id or "",
        payer=payer,
        currency=currency,
        seller=seller,
        buyer=buyer,
        installer_name=order.installer.name if order.installer is not None else "",
        lines=tuple(lines),
        net=net,
        vat=vat,
        gross=gross,
        payout=payout,
        by_rate=by_rate,
        delivered_on=delivered_on,
        note=note,
        language=reader_language(order, payer),
        pending_extras=pending,
    )


def issued(basis: InvoiceBasis, *, number: int, issue_date: datetime.date) -> InvoiceBasis:
    return replace(
        basis, number=number, issue_date=issue_date, due_date=issue_date + datetime.timedelta(days=PAYMENT_TERMS_DAYS)
    )


def basis_of_invoice(invoice: Invoice, lines: Sequence[InvoiceLine] | None = None) -> InvoiceBasis:
    """An issued document's basis from its frozen rows (`invoice.order` and, for a credit note,
    `invoice.credited_invoice` joined by the caller; `lines` prefetched or read here)."""
    rows = list(lines if lines is not None else invoice.lines.all())
    basis_lines = [
        BasisLine(
            position=row.position,
            description=row.description,
            unit=row.unit,
            quantity=row.quantity,
            unit_amount=row.unit_amount,
            discount_percent=row.discount_percent,
            vat_rate=row.vat_rate,
            prices_include_vat=row.prices_include_vat,
            net=row.net,
            vat=row.vat,
            gross=row.gross,
            payout=row.payout,
            extra=row.extra,
        )
        for row in rows
    ]
    _, _, _, _, by_rate = sums(basis_lines)
    credited = invoice.credited_invoice if invoice.credited_invoice_id else None
    return InvoiceBasis(
        kind=invoice.kind,
        order_id=invoice.order_id,
        display_id=invoice.order.display_id or "",
        payer=invoice.payer,
        currency=invoice.currency,
        seller=Party.from_dict(invoice.seller),
        buyer=Party.from_dict(invoice.buyer),
        installer_name=invoice.installer.name if invoice.installer is not None else "",
        lines=tuple(basis_lines),
        net=invoice.net,
        vat=invoice.vat,
        gross=invoice.gross,
        payout=invoice.payout,
        by_rate=by_rate,
        number=invoice.number,
        issue_date=invoice.issue_date,
        due_date=invoice.due_date,
        delivered_on=invoice.delivered_on,
        note=invoice.note,
        credited_number=credited.number if credited else None,
        credited_issue_date=credited.issue_date if credited else None,
        language=reader_language(invoice.order, invoice.payer),
    )


def basis_to_dict(basis: InvoiceBasis, *, with_payout: bool = True) -> dict[str, Any]:
    """The JSON shape (docs/api.md "Invoices"): amounts in minor units, rates as strings."""
    data: dict[str, Any] = {
        "kind": basis.kind,
        "number": basis.number,
        "orderId": str(basis.order_id),
        "displayId": basis.display_id,
        "payer": basis.payer,
        "currency": basis.currency,
        "issueDate": basis.issue_date.isoformat() if basis.issue_date else None,
        "dueDate": basis.due_date.isoformat() if basis.due_date else None,
        "deliveredOn": basis.delivered_on.isoformat() if basis.delivered_on else None,
        "seller": basis.seller.as_dict(),
        "buyer": basis.buyer.as_dict(),
        "installer": basis.installer_name or None,
        "note": basis.note,
        "creditedNumber": basis.credited_number,
        "lines": [
            {
                "position": line.position,
                "description": line.description,
                "unit": line.unit,
                "quantity": decimal_text(line.quantity),
                "unitAmount": line.unit_amount,
                "discountPercent": decimal_text(line.discount_percent),
                "vatRate": decimal_text(line.vat_rate),
                "pricesIncludeVat": line.prices_include_vat,
                "net": line.net,
                "vat": line.vat,
                "gross": line.gross,
                **({"payout": line.payout} if with_payout else {}),
                "extra": line.extra,
            }
            for line in basis.lines
        ],
        "totals": {
            "net": basis.net,
            "vat": basis.vat,
            "gross": basis.gross,
            **({"payout": basis.payout} if with_payout else {}),
            "byRate": [
                {"vatRate": decimal_text(rate), "net": net, "vat": vat} for rate, (net, vat) in basis.by_rate.items()
            ],
        },
        "pendingExtras": basis.pending_extras,
    }
    return data
