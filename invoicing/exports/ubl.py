"""UBL 2.1 Invoice and CreditNote in the PEPPOL BIS Billing 3.0 shape (EHF 3 in Norway).

The rules followed are listed in docs/invoicing.md "UBL". Amounts come from the basis (minor
units) and are written in major units with two decimals; a credit note's amounts are written
positive, as UBL's CreditNote means them (the basis stores them negative).
"""

from __future__ import annotations

from decimal import Decimal
from xml.etree import ElementTree as ET

from invoicing.basis import BasisLine, InvoiceBasis, Party

CUSTOMIZATION_ID = "urn:cen.eu:en16931:2017#compliant#urn:fdc:peppol.eu:2017:poacc:billing:3.0"
PROFILE_ID = "urn:fdc:peppol.eu:2017:poacc:billing:01:1.0"
NS_INVOICE = "urn:oasis:names:specification:ubl:schema:xsd:Invoice-2"
NS_CREDIT_NOTE = "urn:oasis:names:specification:ubl:schema:xsd:CreditNote-2"
NS_CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
NS_CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
NORWEGIAN_ORG_SCHEME = "0192"  # ISO 6523 ICD: Enhetsregisteret ved Brønnøysundregisterne
EMAIL_SCHEME = "EM"

# UN/ECE Recommendation 20 unit codes for the units products use; anything else is C62 ("one").
UNIT_CODES = {
    "piece": "H87",
    "pcs": "H87",
    "pc": "H87",
    "stk": "H87",
    "each": "H87",
    "hour": "HUR",
    "hours": "HUR",
    "h": "HUR",
    "time": "HUR",
    "metre": "MTR",
    "meter": "MTR",
    "m": "MTR",
    "square_metre": "MTK",
    "square_meter": "MTK",
    "sqm": "MTK",
    "m2": "MTK",
    "kg": "KGM",
    "kilogram": "KGM",
    "set": "SET",
    "sett": "SET",
    "day": "DAY",
    "km": "KMT",
    "kilometre": "KMT",
    "litre": "LTR",
    "liter": "LTR",
}

ET.register_namespace("cac", NS_CAC)
ET.register_namespace("cbc", NS_CBC)


def unit_code(unit: str) -> str:
    return UNIT_CODES.get((unit or "").strip().lower().replace(" ", "_").replace("²", "2"), "C62")


def amount_text(minor: int) -> str:
    """Minor units as major units with two decimals: 123456 -> "1234.56", -5 -> "-0.05"."""
    return str((Decimal(minor) / 100).quantize(Decimal("0.01")))


def decimal_text(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text


def tax_category(rate: Decimal) -> str:
    """S (standard) for a positive rate, Z (zero rated) for 0 %."""
    return "S" if rate > 0 else "Z"


def _cbc(parent: ET.Element, name: str, text: str, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{NS_CBC}}}{name}", attributes)
    element.text = text
    return element


def _cac(parent: ET.Element, name: str) -> ET.Element:
    return ET.SubElement(parent, f"{{{NS_CAC}}}{name}")


def _party(parent: ET.Element, role: str, party: Party, *, seller: bool) -> None:
    wrapper = _cac(parent, role)
    element = _cac(wrapper, "Party")
    org = "".join(ch for ch in party.org_number if ch.isdigit())
    if org:
        _cbc(element, "EndpointID", org, schemeID=NORWEGIAN_ORG_SCHEME)
    elif party.email:
        _cbc(element, "EndpointID", party.email, schemeID=EMAIL_SCHEME)
    if org:
        identification = _cac(element, "PartyIdentification")
        _cbc(identification, "ID", org, schemeID=NORWEGIAN_ORG_SCHEME)
    name = _cac(element, "PartyName")
    _cbc(name, "Name", party.name)
    address = _cac(element, "PostalAddress")
    if party.address:
        _cbc(address, "StreetName", party.address)
    if party.city:
        _cbc(address, "CityName", party.city)
    if party.postal_code:
        _cbc(address, "PostalZone", party.postal_code)
    country = _cac(address, "Country")
    _cbc(country, "IdentificationCode", (party.country_code or "NO").upper())
    if org and party.vat_registered:
        tax_scheme = _cac(element, "PartyTaxScheme")
        _cbc(tax_scheme, "CompanyID", f"{(party.country_code or 'NO').upper()}{org}MVA")
        _cbc(_cac(tax_scheme, "TaxScheme"), "ID", "VAT")
    if seller and org and (party.country_code or "NO").upper() == "NO":
        # Norwegian rule: a seller registered in the Register of Business Enterprises says so.
        register = _cac(element, "PartyTaxScheme")
        _cbc(register, "CompanyID", "Foretaksregisteret")
        _cbc(_cac(register, "TaxScheme"), "ID", "TAX")
    legal = _cac(element, "PartyLegalEntity")
    _cbc(legal, "RegistrationName", party.name)
    if org:
        _cbc(legal, "CompanyID", org, schemeID=NORWEGIAN_ORG_SCHEME)
    if party.email or party.phone:
        contact = _cac(element, "Contact")
        if party.phone:
            _cbc(contact, "Telephone", party.phone)
        if party.email:
            _cbc(contact, "ElectronicMail", party.email)


def _price(line: BasisLine, sign: int) -> tuple[str, str | None]:
    """(PriceAmount, BaseQuantity or None) such that quantity × price / base = the line's net
    exactly (PEPPOL-EN16931-R120): the net unit price when it has at most four decimals, else
    the price of the whole quantity."""
    net = Decimal(line.net * sign) / 100
    quantity = abs(line.quantity)
    if quantity == 0:
        return amount_text(0), None
    unit_price = net / quantity
    if unit_price == unit_price.quantize(Decimal("0.0001")):
        return decimal_text(unit_price.quantize(Decimal("0.0001"))) if unit_price else "0", None
    return amount_text(line.net * sign), decimal_text(quantity)


def render_ubl(basis: InvoiceBasis) -> bytes:
    """The basis as UBL 2.1 XML (UTF-8, with declaration). Precondition: issued (a number and
    an issue date)."""
    credit = basis.is_credit_note
    sign = -1 if credit else 1
    root_ns = NS_CREDIT_NOTE if credit else NS_INVOICE
    # The root's namespace is the default one (the way UBL documents are written); cac and cbc
    # get their usual prefixes.
    root = ET.Element("CreditNote" if credit else "Invoice", {"xmlns": root_ns})
    currency = basis.currency
    _cbc(root, "CustomizationID", CUSTOMIZATION_ID)
    _cbc(root, "ProfileID", PROFILE_ID)
    _cbc(root, "ID", str(basis.number))
    _cbc(root, "IssueDate", basis.issue_date.isoformat() if basis.issue_date else "")
    if not credit and basis.due_date:
        _cbc(root, "DueDate", basis.due_date.isoformat())
    _cbc(root, "CreditNoteTypeCode" if credit else "InvoiceTypeCode", "381" if credit else "380")
    if basis.note:
        _cbc(root, "Note", basis.note)
    _cbc(root, "DocumentCurrencyCode", currency)
    _cbc(root, "BuyerReference", basis.display_id)
    order_reference = _cac(root, "OrderReference")
    _cbc(order_reference, "ID", basis.display_id)
    if credit and basis.credited_number is not None:
        billing = _cac(root, "BillingReference")
        reference = _cac(billing, "InvoiceDocumentReference")
        _cbc(reference, "ID", str(basis.credited_number))
        if basis.credited_issue_date:
            _cbc(reference, "IssueDate", basis.credited_issue_date.isoformat())
    _party(root, "AccountingSupplierParty", basis.seller, seller=True)
    _party(root, "AccountingCustomerParty", basis.buyer, seller=False)
    if basis.delivered_on:
        delivery = _cac(root, "Delivery")
        _cbc(delivery, "ActualDeliveryDate", basis.delivered_on.isoformat())
    if basis.seller.bank_account and not credit:
        means = _cac(root, "PaymentMeans")
        _cbc(means, "PaymentMeansCode", "30")
        _cbc(means, "PaymentID", str(basis.number))
        account = _cac(means, "PayeeFinancialAccount")
        _cbc(account, "ID", basis.seller.bank_account.replace(" ", ""))
    if not credit and basis.due_date:
        terms = _cac(root, "PaymentTerms")
        _cbc(terms, "Note", f"Due {basis.due_date.isoformat()}")

    tax_total = _cac(root, "TaxTotal")
    _cbc(tax_total, "TaxAmount", amount_text(basis.vat * sign), currencyID=currency)
    for rate, (net, vat) in basis.by_rate.items():
        subtotal = _cac(tax_total, "TaxSubtotal")
        _cbc(subtotal, "TaxableAmount", amount_text(net * sign), currencyID=currency)
        _cbc(subtotal, "TaxAmount", amount_text(vat * sign), currencyID=currency)
        category = _cac(subtotal, "TaxCategory")
        _cbc(category, "ID", tax_category(rate))
        _cbc(category, "Percent", decimal_text(rate))
        _cbc(_cac(category, "TaxScheme"), "ID", "VAT")

    totals = _cac(root, "LegalMonetaryTotal")
    _cbc(totals, "LineExtensionAmount", amount_text(basis.net * sign), currencyID=currency)
    _cbc(totals, "TaxExclusiveAmount", amount_text(basis.net * sign), currencyID=currency)
    _cbc(totals, "TaxInclusiveAmount", amount_text(basis.gross * sign), currencyID=currency)
    _cbc(totals, "PayableAmount", amount_text(basis.gross * sign), currencyID=currency)

    for line in basis.lines:
        element = _cac(root, "CreditNoteLine" if credit else "InvoiceLine")
        _cbc(element, "ID", str(line.position))
        _cbc(
            element,
            "CreditedQuantity" if credit else "InvoicedQuantity",
            decimal_text(line.quantity * sign),
            unitCode=unit_code(line.unit),
        )
        _cbc(element, "LineExtensionAmount", amount_text(line.net * sign), currencyID=currency)
        item = _cac(element, "Item")
        if line.discount_percent:
            _cbc(item, "Description", f"Discount {decimal_text(line.discount_percent)} % included in the price")
        _cbc(item, "Name", line.description[:200] or "-")
        classified = _cac(item, "ClassifiedTaxCategory")
        _cbc(classified, "ID", tax_category(line.vat_rate))
        _cbc(classified, "Percent", decimal_text(line.vat_rate))
        _cbc(_cac(classified, "TaxScheme"), "ID", "VAT")
        price = _cac(element, "Price")
        price_amount, base_quantity = _price(line, sign)
        _cbc(price, "PriceAmount", price_amount, currencyID=currency)
        if base_quantity is not None:
            _cbc(price, "BaseQuantity", base_quantity, unitCode=unit_code(line.unit))

    xml = ET.tostring(root, encoding="unicode")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + xml).encode()
