"""Invoicing API: delivered lines, invoices and credit notes in four formats, partner statements.
Thin views: they parse, call a service or selector, and answer (docs/api.md "Invoicing")."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status as http_status
from rest_framework.response import Response

from accounts.zones import zone_of
from installer.api.exceptions import Conflict, NotFound
from installer.api.renderers import ORJSONRenderer
from installer.api.schema import ErrorOutput
from invoicing import selectors, services, statements
from invoicing.api import serializers as s
from invoicing.api.renderers import CsvRenderer, PdfRenderer, XmlRenderer
from invoicing.basis import InvoiceBasis, basis_of_invoice, basis_to_dict, decimal_text
from invoicing.exports.csv import render_csv
from invoicing.exports.pdf import render_invoice_pdf, render_statement_pdf
from invoicing.exports.ubl import render_ubl
from invoicing.models import DeliveredLine, Invoice, InvoiceKind
from invoicing.periods import parse_period
from orders.api.viewsets import ApiViewSet
from orders.selectors import Viewer

ERRORS = dict.fromkeys((400, 401, 403, 404, 409), ErrorOutput)
# The exports also answer 406 to an Accept (or ?format=) they cannot serve.
EXPORT_ERRORS = dict.fromkeys((400, 401, 403, 404, 406, 409), ErrorOutput)
CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "pdf": "application/pdf",
    "xml": "application/xml; charset=utf-8",
}


def line_to_dict(line: DeliveredLine, *, with_prices: bool) -> dict[str, Any]:
    """A delivered line. The installer (`with_prices=False`) sees its payout and the prices of
    the extras it added, never the payer's price of the quoted lines."""
    show_price = with_prices or line.source == "extra"
    data: dict[str, Any] = {
        "id": str(line.pk),
        "position": line.position,
        "source": line.source,
        "approval": line.approval,
        "description": line.description,
        "unit": line.unit,
        "quantity": decimal_text(line.quantity),
        "payoutPercent": None if line.payout_percent is None else decimal_text(line.payout_percent),
        "payoutAmount": line.payout_amount,
        "approvedAt": line.approved_at.isoformat() if line.approved_at else None,
        "createdAt": line.created_at.isoformat(),
    }
    if show_price:
        data.update(
            {
                "unitAmount": line.unit_amount,
                "discountPercent": decimal_text(line.discount_percent),
                "vatRate": decimal_text(line.vat_rate),
                "pricesIncludeVat": line.prices_include_vat,
            }
        )
    return data


def document_to_dict(invoice: Invoice) -> dict[str, Any]:
    return {
        "id": str(invoice.pk),
        "issuedAt": invoice.issued_at.isoformat(),
        **basis_to_dict(basis_of_invoice(invoice)),
    }


class _Exports(ApiViewSet):
    """Answers in the format the Accept header asks for; errors are always JSON."""

    renderer_classes = [ORJSONRenderer, CsvRenderer, PdfRenderer, XmlRenderer]

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        json = ORJSONRenderer()
        self.request.accepted_renderer = json
        self.request.accepted_media_type = json.media_type
        return response

    @property
    def wanted(self) -> str:
        return getattr(self.request.accepted_renderer, "format", "json")

    def file(self, content: bytes, filename: str) -> Response:
        fmt = self.wanted
        response = Response(content, content_type=CONTENT_TYPES[fmt])
        disposition = "inline" if fmt == "pdf" else "attachment"
        response["Content-Disposition"] = f'{disposition}; filename="{filename}.{fmt}"'
        return response

    def document_file(self, doc: InvoiceBasis, extra: list[InvoiceBasis] | None = None) -> Response:
        name = f"{'credit-note' if doc.is_credit_note else 'invoice'}-{doc.number}"
        if self.wanted == "csv":
            return self.file(render_csv([doc, *(extra or [])]), name)
        if self.wanted == "pdf":
            return self.file(render_invoice_pdf(doc), name)
        return self.file(render_ubl(doc), name)


ACCEPT = OpenApiParameter(
    "Accept",
    OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    description="application/json (default), text/csv, application/pdf or application/xml (UBL 2.1).",
)


class OrderInvoiceViewSet(_Exports):
    """The router's invoice of an order, its credit notes; another organization's order is 404."""

    def _order(self, pk):
        order = selectors.router_order(self.organization, pk)
        if order is None:
            raise NotFound("Order not found.")
        return order

    @extend_schema(request=None, parameters=[ACCEPT], responses={200: OpenApiTypes.OBJECT, **EXPORT_ERRORS})
    def retrieve(self, request, pk=None):
        order = self._order(pk)
        docs = selectors.documents(order)
        invoice = next((d for d in docs if d.kind == InvoiceKind.INVOICE), None)
        notes = [d for d in docs if d.kind == InvoiceKind.CREDIT_NOTE]
        if self.wanted == "json":
            data: dict[str, Any] = {
                **selectors.invoice_state(invoice),
                "invoice": document_to_dict(invoice) if invoice else None,
                "creditNotes": [document_to_dict(n) for n in notes],
            }
            if invoice is None:
                data["basis"] = basis_to_dict(services.order_basis(order))
            return Response(data)
        if invoice is None:
            if self.wanted == "csv":
                return self.file(render_csv([services.order_basis(order)]), f"invoice-basis-{order.display_id}")
            raise Conflict("The order is not invoiced yet: mark it invoiced first (POST .../invoice).")
        return self.document_file(basis_of_invoice(invoice), [basis_of_invoice(n) for n in notes])

    @extend_schema(request=None, responses={201: OpenApiTypes.OBJECT, **ERRORS})
    def create(self, request, pk=None):
        self._order(pk)
        invoice = services.order_invoice(order_id=pk, organization=self.organization, actor=self.actor)
        invoice = next(d for d in selectors.documents(invoice.order) if d.pk == invoice.pk)
        return Response(document_to_dict(invoice), status=http_status.HTTP_201_CREATED)

    @extend_schema(request=s.CreditNoteInput, responses={201: OpenApiTypes.OBJECT, **ERRORS})
    def credit(self, request, pk=None):
        self._order(pk)
        body = s.CreditNoteInput(data=request.data or {})
        body.is_valid(raise_exception=True)
        note = services.order_credit(
            order_id=pk,
            organization=self.organization,
            actor=self.actor,
            lines=body.validated_data.get("lines") or [],
            full=body.validated_data["full"],
            reason=body.validated_data["reason"],
        )
        note = next(d for d in selectors.documents(note.order) if d.pk == note.pk)
        return Response(document_to_dict(note), status=http_status.HTTP_201_CREATED)

    @extend_schema(request=None, parameters=[ACCEPT], responses={200: OpenApiTypes.OBJECT, **EXPORT_ERRORS})
    def credit_note(self, request, pk=None, note_id=None):
        order = self._order(pk)
        note = selectors.credit_note_get(order, note_id)
        if note is None:
            raise NotFound("Credit note not found.")
        if self.wanted == "json":
            return Response(document_to_dict(note))
        return self.document_file(basis_of_invoice(note))


class OrderLinesViewSet(ApiViewSet):
    """The delivered lines: the router's and the assigned installer's (a technician's own jobs)."""

    technician_actions = ("list", "create", "partial_update")

    @property
    def viewer(self) -> Viewer:
        return Viewer.for_membership(self.membership)

    def _order(self, pk):
        found = selectors.line_order(self.organization, pk, self.viewer.technician_id)
        if found is None:
            raise NotFound("Order not found.")
        return found

    def _answer(self, order, is_router: bool, status: int = 200) -> Response:
        lines = list(selectors.delivered_lines(order))
        return Response(
            {"values": [line_to_dict(line, with_prices=is_router) for line in lines], "count": len(lines)},
            status=status,
        )

    @extend_schema(request=None, responses={200: OpenApiTypes.OBJECT, **ERRORS})
    def list(self, request, pk=None):
        order, is_router = self._order(pk)
        return self._answer(order, is_router)

    @extend_schema(request=s.LineInput, responses={201: OpenApiTypes.OBJECT, **ERRORS})
    def create(self, request, pk=None):
        order, is_router = self._order(pk)
        body = s.LineInput(data=request.data)
        body.is_valid(raise_exception=True)
        line = services.delivered_line_add(
            order_id=order.pk,
            organization=self.organization,
            actor=self.actor,
            values=dict(body.validated_data),
            technician_id=self.viewer.technician_id,
        )
        return Response(line_to_dict(line, with_prices=is_router), status=http_status.HTTP_201_CREATED)

    @extend_schema(request=s.LineInput, responses={200: OpenApiTypes.OBJECT, **ERRORS})
    def partial_update(self, request, pk=None, line_id=None):
        order, is_router = self._order(pk)
        body = s.LinePatchInput(data=request.data)
        body.is_valid(raise_exception=True)
        values = {k: v for k, v in body.validated_data.items() if k in request.data or _wire(k) in request.data}
        line = services.delivered_line_update(
            order_id=order.pk,
            line_id=line_id,
            organization=self.organization,
            actor=self.actor,
            values=values,
            technician_id=self.viewer.technician_id,
        )
        return Response(line_to_dict(line, with_prices=is_router))

    @extend_schema(request=None, responses={200: OpenApiTypes.OBJECT, **ERRORS})
    def approve(self, request, pk=None, line_id=None):
        order, is_router = self._order(pk)
        if not is_router:
            raise NotFound("Order not found.")
        line = services.delivered_line_approve(
            order_id=order.pk, line_id=line_id, organization=self.organization, actor=self.actor
        )
        return Response(line_to_dict(line, with_prices=True))


def _wire(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


class StatementViewSet(_Exports):
    """A router's statement of one installer partner; a non-partner is 404."""

    renderer_classes = [ORJSONRenderer, CsvRenderer, PdfRenderer]

    @extend_schema(
        request=None,
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATE, required=True),
            OpenApiParameter("to", OpenApiTypes.DATE, required=True),
            ACCEPT,
        ],
        responses={200: OpenApiTypes.OBJECT, **EXPORT_ERRORS},
    )
    def retrieve(self, request, pk=None):
        installer = selectors.installer_of_router(self.organization, pk)
        if installer is None:
            raise NotFound("Installer partner not found.")
        date_from, date_to = parse_period(request.query_params)
        statement = statements.statement_build(
            router=self.organization,
            installer=installer,
            date_from=date_from,
            date_to=date_to,
            zone=zone_of(self.organization),
        )
        name = f"statement-{installer.slug}-{date_from.isoformat()}-{date_to.isoformat()}"
        if self.wanted == "csv":
            return self.file(statements.statement_csv(statement), name)
        if self.wanted == "pdf":
            return self.file(render_statement_pdf(statement), name)
        return Response(statements.statement_to_dict(statement))
