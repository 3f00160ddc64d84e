"""The exports read back: UBL parsed with an XML library (totals equal to the basis), the PDF
opened and its text extracted, the CSV parsed."""

from __future__ import annotations

import csv
import io
from decimal import Decimal as D
from xml.etree import ElementTree as ET

import pypdf
import pytest

from invoicing.exports.ubl import CUSTOMIZATION_ID, PROFILE_ID, unit_code
from invoicing.tests.conftest import complete, quote, started
from orders.models import Order

NS = {
    "inv": "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2",
    "cn": "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2",
    "cac": "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2",
    "cbc": "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2",
}
MIXED = (
    {"description": "Wallbox", "unit": "piece", "unit_amount": 999999, "vat_rate": D(25), "payout_percent": D(15)},
    {
        "description": "Labour",
        "unit": "hour",
        "quantity": D("1.333"),
        "unit_amount": 77777,
        "vat_rate": D(25),
        "discount_percent": D("12.5"),
    },
    {"description": "Grant paperwork", "unit": "set", "unit_amount": 15001, "vat_rate": D(15)},
    {
        "description": "Cable",
        "unit": "metre",
        "quantity": D("7.5"),
        "unit_amount": 3999,
        "vat_rate": D(0),
        "prices_include_vat": True,
    },
)


@pytest.fixture
def invoiced(router, company, router_api):
    order = started(router, company)
    quote(order, *MIXED)
    complete(order, company)
    body = router_api.post(f"/api/v1/order/{order.pk}/invoice").json()
    return order, body


def amount(element, path) -> int:
    """A UBL amount (major units) back in minor units, exactly."""
    value = D(element.find(path, NS).text)
    assert value == value.quantize(D("0.01"))
    return int(value * 100)


def test_ubl_invoice_parses_and_its_totals_equal_the_basis(invoiced, router_api):
    order, body = invoiced
    response = router_api.get(f"/api/v1/order/{order.pk}/invoice", HTTP_ACCEPT="application/xml")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/xml")
    root = ET.fromstring(response.content)
    assert root.tag == f"{{{NS['inv']}}}Invoice"
    assert root.find("cbc:CustomizationID", NS).text == CUSTOMIZATION_ID
    assert root.find("cbc:ProfileID", NS).text == PROFILE_ID
    assert root.find("cbc:ID", NS).text == str(body["number"])
    assert root.find("cbc:InvoiceTypeCode", NS).text == "380"
    assert root.find("cbc:DocumentCurrencyCode", NS).text == "NOK"
    assert root.find("cbc:BuyerReference", NS).text == order.display_id
    seller = root.find("cac:AccountingSupplierParty/cac:Party", NS)
    endpoint = seller.find("cbc:EndpointID", NS)
    assert (endpoint.text, endpoint.get("schemeID")) == ("987654321", "0192")
    schemes = {
        ts.find("cac:TaxScheme/cbc:ID", NS).text: ts.find("cbc:CompanyID", NS).text
        for ts in seller.findall("cac:PartyTaxScheme", NS)
    }
    assert schemes == {"VAT": "NO987654321MVA", "TAX": "Foretaksregisteret"}
    buyer = root.find("cac:AccountingCustomerParty/cac:Party", NS)
    assert buyer.find("cac:PartyLegalEntity/cbc:RegistrationName", NS).text == "Ola Nordmann"
    assert buyer.find("cbc:EndpointID", NS).get("schemeID") == "EM"

    totals = body["totals"]
    monetary = root.find("cac:LegalMonetaryTotal", NS)
    assert amount(monetary, "cbc:LineExtensionAmount") == totals["net"]
    assert amount(monetary, "cbc:TaxExclusiveAmount") == totals["net"]
    assert amount(monetary, "cbc:TaxInclusiveAmount") == totals["gross"]
    assert amount(monetary, "cbc:PayableAmount") == totals["gross"]
    tax_total = root.find("cac:TaxTotal", NS)
    assert amount(tax_total, "cbc:TaxAmount") == totals["vat"]
    subtotals = {
        (s.find("cac:TaxCategory/cbc:ID", NS).text, s.find("cac:TaxCategory/cbc:Percent", NS).text): (
            amount(s, "cbc:TaxableAmount"),
            amount(s, "cbc:TaxAmount"),
        )
        for s in tax_total.findall("cac:TaxSubtotal", NS)
    }
    expected = {("Z" if r["vatRate"] == "0" else "S", r["vatRate"]): (r["net"], r["vat"]) for r in totals["byRate"]}
    assert subtotals == expected
    assert set(subtotals) == {("Z", "0"), ("S", "15"), ("S", "25")}

    lines = root.findall("cac:InvoiceLine", NS)
    assert len(lines) == len(body["lines"]) == 4
    for element, line in zip(lines, body["lines"], strict=True):
        quantity = element.find("cbc:InvoicedQuantity", NS)
        assert D(quantity.text) == D(line["quantity"])
        assert quantity.get("unitCode") == unit_code(line["unit"])
        assert amount(element, "cbc:LineExtensionAmount") == line["net"]
        # PEPPOL-EN16931-R120: quantity × price / base quantity = the line's net, exactly.
        price = D(element.find("cac:Price/cbc:PriceAmount", NS).text)
        base = element.find("cac:Price/cbc:BaseQuantity", NS)
        base_quantity = D(base.text) if base is not None else D(1)
        assert D(quantity.text) * price / base_quantity == D(line["net"]) / 100
    assert [e.find("cbc:InvoicedQuantity", NS).get("unitCode") for e in lines] == ["H87", "HUR", "SET", "MTR"]
    assert sum(amount(e, "cbc:LineExtensionAmount") for e in lines) == totals["net"]


def test_ubl_credit_note(invoiced, router_api):
    order, body = invoiced
    note = router_api.post(f"/api/v1/order/{order.pk}/credit-note", {"full": True}, format="json").json()
    response = router_api.get(f"/api/v1/order/{order.pk}/credit-notes/{note['id']}", HTTP_ACCEPT="application/xml")
    root = ET.fromstring(response.content)
    assert root.tag == f"{{{NS['cn']}}}CreditNote"
    assert root.find("cbc:CreditNoteTypeCode", NS).text == "381"
    assert root.find("cac:BillingReference/cac:InvoiceDocumentReference/cbc:ID", NS).text == str(body["number"])
    monetary = root.find("cac:LegalMonetaryTotal", NS)
    # A CreditNote's amounts are positive: the document type says they are credited.
    assert amount(monetary, "cbc:PayableAmount") == -note["totals"]["gross"] == body["totals"]["gross"]
    lines = root.findall("cac:CreditNoteLine", NS)
    assert [D(e.find("cbc:CreditedQuantity", NS).text) for e in lines] == [D(x["quantity"]) for x in body["lines"]]


def test_pdf_invoice_text(invoiced, router_api):
    order, body = invoiced
    response = router_api.get(f"/api/v1/order/{order.pk}/invoice", HTTP_ACCEPT="application/pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(response.content)).pages)
    assert f"Invoice {body['number']}" in text
    assert "Alpha Energy AS" in text and "987654321" in text and "Storgata 1" in text
    assert "Ola Nordmann" in text and order.display_id in text
    gross = body["totals"]["gross"]
    whole, cents = divmod(gross, 100)
    assert f"{whole:,}".replace(",", " ") + f".{cents:02d} NOK" in text
    assert "Wallbox" in text and "Grant paperwork" in text
    # Units as people read them ("pcs", "h"), never the stored codes.
    assert " pcs " in f" {text} ".replace("\n", " ") and "piece" not in text and "hour" not in text


def test_csv_invoice_rows(invoiced, router_api):
    order, body = invoiced
    note = router_api.post(f"/api/v1/order/{order.pk}/credit-note", {"full": True}, format="json").json()
    response = router_api.get(f"/api/v1/order/{order.pk}/invoice", HTTP_ACCEPT="text/csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 8  # the invoice's 4 lines and the credit note's 4
    invoice_rows = [r for r in rows if r["document_type"] == "invoice"]
    assert sum(int(r["gross"]) for r in invoice_rows) == body["totals"]["gross"]
    assert sum(int(r["vat"]) for r in invoice_rows) == body["totals"]["vat"]
    credit_rows = [r for r in rows if r["document_type"] == "credit_note"]
    assert {r["credited_number"] for r in credit_rows} == {str(body["number"])}
    assert sum(int(r["gross"]) for r in credit_rows) == note["totals"]["gross"]
    assert invoice_rows[1]["quantity"] == "1.333" and invoice_rows[1]["discount_percent"] == "12.5"


def test_not_invoiced_has_a_csv_basis_but_no_pdf_or_ubl(router, company, router_api):
    order = complete(started(router, company), company)
    assert router_api.get(f"/api/v1/order/{order.pk}/invoice", HTTP_ACCEPT="application/pdf").status_code == 409
    response = router_api.get(f"/api/v1/order/{order.pk}/invoice", HTTP_ACCEPT="application/xml")
    assert response.status_code == 409
    assert response.json()["statusCode"] == 409  # errors stay JSON whatever was asked
    assert router_api.get(f"/api/v1/order/{order.pk}/invoice", HTTP_ACCEPT="text/csv").status_code == 200
    assert router_api.get(f"/api/v1/order/{order.pk}/invoice", HTTP_ACCEPT="image/png").status_code == 406


def test_pdf_invoice_speaks_its_readers_language(invoiced, router_api):
    """The customer pays and reads Norwegian: the invoice's words are Norwegian, its figures
    the same; the statement follows the partner's language."""
    order, body = invoiced
    Order.objects.filter(pk=order.pk).update(language="nb")
    response = router_api.get(f"/api/v1/order/{order.pk}/invoice", HTTP_ACCEPT="application/pdf")
    text = "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(response.content)).pages)
    assert f"Faktura {body['number']}" in text and "Forfallsdato" in text and "Å betale" in text
    assert "Due date" not in text and "Total to pay" not in text
    assert "Wallbox" in text and " stk " in f" {text} ".replace("\n", " ")
