"""Partner statements: one installer partner's completed orders of one router in a period, with
the payout of each (excluding VAT), the VAT on it and the totals (docs/invoicing.md)."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db.models import Prefetch

from accounts.models import Organization
from invoicing.basis import DEFAULT_CURRENCY, priced_lines
from invoicing.models import Completion, DeliveredLine, Invoice, InvoiceLine
from pricing import money

MAX_DAYS = 366


@dataclass(frozen=True)
class StatementRow:
    order_id: object
    display_id: str
    completed_at: datetime.datetime
    completed_on: datetime.date
    invoice_number: int | None
    payout: int
    payout_vat: int


@dataclass(frozen=True)
class Statement:
    router: Organization
    installer: Organization
    date_from: datetime.date
    date_to: datetime.date
    zone_name: str
    currency: str
    rows: tuple[StatementRow, ...]

    @property
    def payout(self) -> int:
        return sum(row.payout for row in self.rows)

    @property
    def payout_vat(self) -> int:
        return sum(row.payout_vat for row in self.rows)


def payout_vat(payout: int, rate: Decimal, *, vat_registered: bool) -> int:
    """The VAT the installer adds to a payout at the line's rate (`pricing.money`, one line of
    quantity 1); none when the installer is not registered for VAT."""
    if not vat_registered or not payout:
        return 0
    return money.line_amounts(
        quantity=Decimal(1), unit_amount=payout, vat_rate=Decimal(rate), prices_include_vat=False
    ).vat


def _local_midnight(day: datetime.date, zone: ZoneInfo) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(0), tzinfo=zone).astimezone(datetime.UTC)


def statement_build(
    *, router: Organization, installer: Organization, date_from: datetime.date, date_to: datetime.date, zone: ZoneInfo
) -> Statement:
    """The orders of `router` that `installer` completed from `date_from` to `date_to`, both
    days included, in `zone`. Three queries whatever the number of orders (index
    completion_statement_idx). An invoiced order's payout is its invoice's frozen lines and its
    credit notes'; an order not invoiced yet is priced now from its approved delivered lines."""
    start, end = _local_midnight(date_from, zone), _local_midnight(date_to + datetime.timedelta(days=1), zone)
    completions = (
        Completion.objects.filter(
            organization=router, installer=installer, completed_at__gte=start, completed_at__lt=end
        )
        .select_related("order")
        .prefetch_related(
            Prefetch("order__delivered_lines", queryset=DeliveredLine.objects.order_by("position", "created_at")),
            Prefetch(
                "order__invoices",
                queryset=Invoice.objects.order_by("number").prefetch_related(
                    Prefetch("lines", queryset=InvoiceLine.objects.order_by("position"))
                ),
            ),
        )
        .order_by("completed_at", "order_id")
    )
    rows = []
    currency = DEFAULT_CURRENCY
    registered = installer.vat_registered
    for completion in completions:
        order = completion.order
        invoices = list(order.invoices.all())
        lines: Sequence[tuple[int, Decimal]]
        if invoices:
            currency = invoices[0].currency
            lines = [(line.payout, line.vat_rate) for invoice in invoices for line in invoice.lines.all()]
            number = next((i.number for i in invoices if i.kind == "invoice"), None)
        else:
            priced, _ = priced_lines(order.delivered_lines.all())
            lines = [(line.payout, line.vat_rate) for line in priced]
            number = None
        rows.append(
            StatementRow(
                order_id=order.pk,
                display_id=order.display_id or "",
                completed_at=completion.completed_at,
                completed_on=completion.completed_at.astimezone(zone).date(),
                invoice_number=number,
                payout=sum(payout for payout, _ in lines),
                payout_vat=sum(payout_vat(payout, rate, vat_registered=registered) for payout, rate in lines),
            )
        )
    return Statement(
        router=router,
        installer=installer,
        date_from=date_from,
        date_to=date_to,
        zone_name=zone.key,
        currency=currency,
        rows=tuple(rows),
    )


STATEMENT_COLUMNS = (
    "router",
    "installer",
    "installer_org_number",
    "order_display_id",
    "order_id",
    "completed_on",
    "invoice_number",
    "currency",
    "payout",
    "payout_vat",
    "payout_gross",
)


def statement_csv(statement: Statement) -> bytes:
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(STATEMENT_COLUMNS)
    for row in statement.rows:
        writer.writerow(
            [
                statement.router.name,
                statement.installer.name,
                statement.installer.org_number,
                row.display_id,
                str(row.order_id),
                row.completed_on.isoformat(),
                "" if row.invoice_number is None else row.invoice_number,
                statement.currency,
                row.payout,
                row.payout_vat,
                row.payout + row.payout_vat,
            ]
        )
    return ("\ufeff" + out.getvalue()).encode()


def statement_to_dict(statement: Statement) -> dict:
    return {
        "installer": {"id": str(statement.installer.pk), "name": statement.installer.name},
        "from": statement.date_from.isoformat(),
        "to": statement.date_to.isoformat(),
        "timeZone": statement.zone_name,
        "currency": statement.currency,
        "orders": [
            {
                "orderId": str(row.order_id),
                "displayId": row.display_id,
                "completedAt": row.completed_at.isoformat(),
                "invoiceNumber": row.invoice_number,
                "payout": row.payout,
                "payoutVat": row.payout_vat,
            }
            for row in statement.rows
        ],
        "totals": {
            "orders": len(statement.rows),
            "payout": statement.payout,
            "payoutVat": statement.payout_vat,
            "payoutGross": statement.payout + statement.payout_vat,
        },
    }
