"""CSV for accounting imports: one row per line (docs/invoicing.md "CSV"). Amounts are integers
in minor units, rates and quantities plain decimals with a point, dates ISO 8601."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from invoicing.basis import InvoiceBasis

INVOICE_COLUMNS = (
    "document_type",
    "number",
    "credited_number",
    "issue_date",
    "due_date",
    "order_display_id",
    "order_id",
    "payer",
    "seller_name",
    "seller_org_number",
    "buyer_name",
    "buyer_org_number",
    "installer_name",
    "currency",
    "line",
    "description",
    "unit",
    "quantity",
    "unit_amount",
    "discount_percent",
    "vat_rate",
    "prices_include_vat",
    "net",
    "vat",
    "gross",
    "payout",
)


def _decimal(value) -> str:
    return format(value.normalize(), "f")


def invoice_rows(basis: InvoiceBasis) -> list[list[str]]:
    rows = []
    for line in basis.lines:
        rows.append(
            [
                basis.kind,
                "" if basis.number is None else str(basis.number),
                "" if basis.credited_number is None else str(basis.credited_number),
                basis.issue_date.isoformat() if basis.issue_date else "",
                basis.due_date.isoformat() if basis.due_date else "",
                basis.display_id,
                str(basis.order_id),
                basis.payer,
                basis.seller.name,
                basis.seller.org_number,
                basis.buyer.name,
                basis.buyer.org_number,
                basis.installer_name,
                basis.currency,
                str(line.position),
                line.description,
                line.unit,
                _decimal(line.quantity),
                str(line.unit_amount),
                _decimal(line.discount_percent),
                _decimal(line.vat_rate),
                "true" if line.prices_include_vat else "false",
                str(line.net),
                str(line.vat),
                str(line.gross),
                str(line.payout),
            ]
        )
    return rows


def render_csv(bases: Iterable[InvoiceBasis]) -> bytes:
    """The documents' lines under one header row (UTF-8 with a BOM, so spreadsheets read the
    letters right)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(INVOICE_COLUMNS)
    for basis in bases:
        writer.writerows(invoice_rows(basis))
    return ("\ufeff" + out.getvalue()).encode()
