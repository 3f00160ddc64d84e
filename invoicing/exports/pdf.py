"""PDF invoices, credit notes and partner statements with fpdf2 (pure Python, no browser).

The built-in Helvetica covers Latin-1 (Norwegian letters included); other characters are
written as "?". Amounts are formatted from the basis; nothing is computed here.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from django.utils import translation
from django.utils.translation import gettext as _
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from invoicing.basis import InvoiceBasis, Party
from pricing.models import unit_text

if TYPE_CHECKING:
    from invoicing.statements import Statement


def money_text(minor: int, currency: str = "") -> str:
    """12345678 -> "123 456.78" (a thin grouping space, a decimal point)."""
    sign = "-" if minor < 0 else ""
    whole, cents = divmod(abs(minor), 100)
    grouped = f"{whole:,}".replace(",", " ")
    text = f"{sign}{grouped}.{cents:02d}"
    return f"{text} {currency}".strip()


def _latin1(text: str) -> str:
    return str(text).replace("\u2013", "-").replace("\u2014", "-").encode("latin-1", "replace").decode("latin-1")


def _decimal(value: Decimal) -> str:
    return format(value.normalize(), "f")


class _Document(FPDF):
    def __init__(self, title: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.set_auto_page_break(auto=True, margin=18)
        self.set_title(_latin1(title))
        self.set_creator("Installer")
        self.alias_nb_pages()
        self.add_page()

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font("Helvetica", size=8)
        self.cell(0, 5, f"{self.page_no()}/{{nb}}", align="R")

    def text_line(self, text: str, *, size: float = 10, bold: bool = False, height: float = 5) -> None:
        self.set_font("Helvetica", style="B" if bold else "", size=size)
        self.multi_cell(0, height, _latin1(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def row(self, cells: Sequence[tuple[str, float, str]], *, bold: bool = False, fill: bool = False) -> None:
        """(text, width, align) cells on one line; a long first cell is cut to its width."""
        self.set_font("Helvetica", style="B" if bold else "", size=9)
        if fill:
            self.set_fill_color(235, 235, 235)
        for text, width, align in cells:
            value = _latin1(text)
            while value and self.get_string_width(value) > width - 1:
                value = value[:-1]
            self.cell(width, 6, value, border="B", align=align, fill=fill)
        self.ln(6)


def _party_lines(party: Party) -> list[str]:
    lines = [party.name]
    if party.address:
        lines.append(party.address)
    place = f"{party.postal_code} {party.city}".strip()
    if place or party.country_code:
        lines.append(", ".join(p for p in (place, party.country_code) if p))
    if party.org_number:
        lines.append(_("Org. no. %(number)s") % {"number": party.org_number} + (" MVA" if party.vat_registered else ""))
    if party.email:
        lines.append(party.email)
    if party.phone:
        lines.append(party.phone)
    return lines


def render_invoice_pdf(basis: InvoiceBasis) -> bytes:
    """The invoice or credit note in its reader's language (`basis.language`)."""
    with translation.override(basis.language):
        return _invoice_pdf(basis)


def _invoice_pdf(basis: InvoiceBasis) -> bytes:
    if basis.number is None:
        heading = _("Invoice basis %(order)s") % {"order": basis.display_id}
    elif basis.is_credit_note:
        heading = _("Credit note %(number)s") % {"number": basis.number}
    else:
        heading = _("Invoice %(number)s") % {"number": basis.number}
    pdf = _Document(heading)
    pdf.text_line(heading, size=18, bold=True, height=9)
    pdf.ln(2)
    top = pdf.get_y()
    pdf.set_font("Helvetica", size=10)
    pdf.text_line(_("From"), bold=True)
    for text in _party_lines(basis.seller):
        pdf.text_line(text)
    left_end = pdf.get_y()
    pdf.set_xy(110, top)
    pdf.set_left_margin(110)
    pdf.text_line(_("To"), bold=True)
    for text in _party_lines(basis.buyer):
        pdf.text_line(text)
    pdf.set_left_margin(10)
    pdf.set_xy(10, max(left_end, pdf.get_y()) + 4)
    facts = [(_("Order"), basis.display_id)]
    if basis.issue_date:
        facts.append((_("Issue date"), basis.issue_date.isoformat()))
    if basis.due_date and not basis.is_credit_note:
        facts.append((_("Due date"), basis.due_date.isoformat()))
    if basis.delivered_on:
        facts.append((_("Delivered"), basis.delivered_on.isoformat()))
    if basis.credited_number is not None:
        facts.append((_("Credits invoice"), str(basis.credited_number)))
    if basis.installer_name:
        facts.append((_("Installer"), basis.installer_name))
    if basis.seller.bank_account and not basis.is_credit_note:
        facts.append((_("Pay to account"), basis.seller.bank_account))
        if basis.number is not None:
            facts.append((_("Payment reference"), str(basis.number)))
    for label, value in facts:
        pdf.row([(label, 45, "L"), (value, 135, "L")])
    pdf.ln(4)
    widths = (70, 18, 16, 26, 14, 36)
    pdf.row(
        [
            (_("Description"), widths[0], "L"),
            (_("Qty"), widths[1], "R"),
            (_("Unit"), widths[2], "L"),
            (_("Net"), widths[3], "R"),
            (_("VAT %"), widths[4], "R"),
            (_("Total (%(currency)s)") % {"currency": basis.currency}, widths[5], "R"),
        ],
        bold=True,
        fill=True,
    )
    for line in basis.lines:
        description = line.description
        if line.discount_percent:
            description = f"{description} (-{_decimal(line.discount_percent)} %)"
        pdf.row(
            [
                (description, widths[0], "L"),
                (_decimal(line.quantity), widths[1], "R"),
                (unit_text(line.unit), widths[2], "L"),
                (money_text(line.net), widths[3], "R"),
                (_decimal(line.vat_rate), widths[4], "R"),
                (money_text(line.gross), widths[5], "R"),
            ]
        )
    pdf.ln(3)
    for rate, (net, vat) in basis.by_rate.items():
        pdf.row(
            [
                (_("VAT %(rate)s %% of %(net)s") % {"rate": _decimal(rate), "net": money_text(net)}, 144, "R"),
                (money_text(vat), 36, "R"),
            ]
        )
    pdf.row([(_("Total excluding VAT"), 144, "R"), (money_text(basis.net, basis.currency), 36, "R")])
    pdf.row([(_("VAT"), 144, "R"), (money_text(basis.vat, basis.currency), 36, "R")])
    label = _("Total credited") if basis.is_credit_note else _("Total to pay")
    pdf.row([(label, 144, "R"), (money_text(basis.gross, basis.currency), 36, "R")], bold=True)
    if basis.seller.org_number and (basis.seller.country_code or "NO").upper() == "NO":
        pdf.ln(4)
        pdf.text_line("Foretaksregisteret", size=8)
    if basis.note:
        pdf.ln(2)
        pdf.text_line(basis.note, size=9)
    return bytes(pdf.output())


def render_statement_pdf(statement: Statement) -> bytes:
    """The partner's statement in the partner's language (its organization's)."""
    with translation.override(statement.installer.language):
        return _statement_pdf(statement)


def _statement_pdf(statement: Statement) -> bytes:
    heading = _("Statement %(installer)s") % {"installer": statement.installer.name}
    pdf = _Document(heading)
    pdf.text_line(heading, size=16, bold=True, height=8)
    pdf.text_line(_("From %(router)s") % {"router": statement.router.name})
    pdf.text_line(
        _("Completed %(start)s to %(end)s (%(zone)s)")
        % {"start": statement.date_from.isoformat(), "end": statement.date_to.isoformat(), "zone": statement.zone_name}
    )
    pdf.ln(3)
    widths = (28, 26, 62, 32, 32)
    pdf.row(
        [
            (_("Order"), widths[0], "L"),
            (_("Completed"), widths[1], "L"),
            (_("Invoice"), widths[2], "L"),
            (_("Payout"), widths[3], "R"),
            (_("VAT"), widths[4], "R"),
        ],
        bold=True,
        fill=True,
    )
    for row in statement.rows:
        pdf.row(
            [
                (row.display_id, widths[0], "L"),
                (row.completed_on.isoformat(), widths[1], "L"),
                (f"{row.invoice_number}" if row.invoice_number is not None else _("not invoiced"), widths[2], "L"),
                (money_text(row.payout), widths[3], "R"),
                (money_text(row.payout_vat), widths[4], "R"),
            ]
        )
    pdf.ln(3)
    currency = statement.currency
    pdf.row([(_("Orders"), 148, "R"), (str(len(statement.rows)), 32, "R")])
    pdf.row([(_("Payout excluding VAT"), 148, "R"), (money_text(statement.payout, currency), 32, "R")])
    pdf.row([(_("VAT"), 148, "R"), (money_text(statement.payout_vat, currency), 32, "R")])
    pdf.row(
        [
            (_("Payout including VAT"), 148, "R"),
            (money_text(statement.payout + statement.payout_vat, currency), 32, "R"),
        ],
        bold=True,
    )
    return bytes(pdf.output())
