"""Every write of invoicing: delivered lines, the customer's confirmation, invoices and credit
notes. Each opens its transaction and locks the order row (`orders.services.lock_order`), as
the order's transitions do; the timeline event and its webhook go out in that transaction."""

from __future__ import annotations

import base64
import binascii
import io
from collections.abc import Sequence
from typing import Any

from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Max, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from accounts.models import Organization
from accounts.zones import zone_of
from dispatch import services as dispatch_services
from installer.errors import Conflict, InvalidInput, NotFound
from invoicing import basis as basis_module
from invoicing.models import (
    ApprovalStatus,
    Completion,
    DeliveredLine,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    LineSource,
    Payer,
)
from orders import policy
from orders.actors import Actor
from orders.files import file_delete, file_upload
from orders.models import Order, OrderStatus
from orders.services import PendingEvents, finish_change, lock_order
from pricing import selectors as pricing_selectors

EXTRA_POSITION_BASE = 1000  # extras sort after the quoted lines
MAX_SIGNATURE_BYTES = 512 * 1024
MAX_SIGNATURE_SIDE = 4000
SIGNATURE_PREFIX = "data:image/png;base64,"


# --------------------------------------------------------------------------------------------
# Completion: the hook and the confirmation
# --------------------------------------------------------------------------------------------


def _quoted_lines(order: Order) -> list[DeliveredLine]:
    return [
        DeliveredLine(
            order=order,
            position=index,
            source=LineSource.QUOTE,
            approval=ApprovalStatus.APPROVED,
            description=line.description,
            unit=line.unit,
            quantity=line.quantity,
            unit_amount=line.unit_amount,
            discount_percent=line.discount_percent,
            vat_rate=line.vat_rate,
            prices_include_vat=line.prices_include_vat,
            payout_percent=line.payout_percent,
            payout_amount=line.payout_amount,
            created_by="quote",
        )
        for index, line in enumerate(pricing_selectors.accepted_quote_lines(order), start=1)
        if line.quantity > 0
    ]


def on_order_completing(*, order: Order, actor: Actor, pending: PendingEvents) -> None:
    """`orders.hooks.order_completing`: records when the order completed and the accepted
    quote's chosen lines as the delivered ones (extras added while in progress stay beside
    them). An order completes once (completed is final), so both are inserted, never merged:
    two queries without a quote, three with one. Precondition: the caller holds the order's
    lock."""
    Completion.objects.create(
        order=order,
        organization_id=order.organization_id,
        installer_id=order.installer_id,
        completed_at=timezone.now(),
    )
    lines = _quoted_lines(order)
    if lines:
        DeliveredLine.objects.bulk_create(lines)
        pending.add(
            "order.lines_recorded",
            actor,
            data={"lines": len(lines)},
            from_status=order.status,
            to_status=order.status,
        )


def signature_file(data_url: str) -> ContentFile:
    """A PNG data URL (the canvas' `toDataURL()`) as a file; InvalidInput unless it is a PNG
    image of at most MAX_SIGNATURE_BYTES and MAX_SIGNATURE_SIDE pixels a side."""
    if not data_url.startswith(SIGNATURE_PREFIX):
        raise InvalidInput(_("The signature must be a PNG image."), details={"signature": ["Not a PNG data URL."]})
    encoded = data_url[len(SIGNATURE_PREFIX) :]
    if len(encoded) > MAX_SIGNATURE_BYTES * 4 // 3 + 4:
        raise InvalidInput(_("The signature is too large."), details={"signature": ["Too large."]})
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(_("The signature is not valid base64."), details={"signature": ["Not base64."]}) from None
    try:
        with Image.open(io.BytesIO(raw)) as image:
            if image.format != "PNG":
                raise InvalidInput(_("The signature must be a PNG image."), details={"signature": ["Not a PNG."]})
            width, height = image.size
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError):
        raise InvalidInput(
            _("The signature is not a readable image."), details={"signature": ["Unreadable."]}
        ) from None
    if not (0 < width <= MAX_SIGNATURE_SIDE and 0 < height <= MAX_SIGNATURE_SIDE):
        raise InvalidInput(_("The signature image is too large."), details={"signature": ["Too many pixels."]})
    return ContentFile(raw, name="signature.png")


def order_complete_documented(
    *,
    order_id: Any,
    organization: Organization,
    actor: Actor,
    comment: str = "",
    file_ids: Sequence[Any] = (),
    technician_id: Any = None,
    customer_name: str = "",
    signature: str = "",
) -> Order:
    """Completes the order (`dispatch.services.order_complete`: the delivered lines are recorded
    by the hook) and, in the same transaction, the customer's confirmation: a name and,
    optionally, a drawn signature (a PNG data URL) stored as one of the order's files. A
    signature needs a name (InvalidInput)."""
    customer_name = customer_name.strip()
    if signature and not customer_name:
        raise InvalidInput(
            _("Give the name of the customer who signed."), details={"customerName": ["Required with a signature."]}
        )
    upload = signature_file(signature) if signature else None
    stored = (
        file_upload(organization=organization, content=upload, actor=actor, name="signature.png") if upload else None
    )
    ids = [*file_ids, *([stored.pk] if stored else [])]
    try:
        with transaction.atomic():
            order = dispatch_services.order_complete(
                order_id=order_id,
                organization=organization,
                actor=actor,
                comment=comment,
                file_ids=ids,
                technician_id=technician_id,
            )
            if customer_name:
                Completion.objects.filter(order=order).update(
                    customer_name=customer_name[:200],
                    signature=stored,
                    signed_at=timezone.now() if stored else None,
                )
    except Exception:
        if stored is not None:
            file_delete(file=stored)
        raise
    return order


# --------------------------------------------------------------------------------------------
# Delivered lines
# --------------------------------------------------------------------------------------------


def _is_invoiced(order: Order) -> bool:
    return Invoice.objects.filter(order=order, kind=InvoiceKind.INVOICE).exists()


def _lock_for_lines(order_id: Any, organization: Organization, technician_id: Any) -> tuple[Order, bool]:
    """The order locked, for its router or its assigned installer (else NotFound); True when
    the caller is the router. Lines change only while in progress or completed and not
    invoiced (Conflict)."""
    order = lock_order(order_id)
    is_router = order.organization_id == organization.pk
    if not is_router and order.installer_id != organization.pk:
        raise NotFound("Order not found.")
    if not is_router and not policy.technician_may_act(order, technician_id):
        raise NotFound("Order not found.")
    if order.status not in (OrderStatus.IN_PROGRESS, OrderStatus.COMPLETED):
        raise Conflict(f"The delivered lines of a {order.status_name} order cannot change.")
    if _is_invoiced(order):
        raise Conflict("The order is invoiced: its lines are frozen. Issue a credit note to correct it.")
    return order, is_router


LINE_FIELDS = (
    "description",
    "unit",
    "quantity",
    "unit_amount",
    "discount_percent",
    "vat_rate",
    "prices_include_vat",
    "payout_percent",
    "payout_amount",
)


def _check_line(values: dict[str, Any]) -> None:
    if values.get("payout_percent") is not None and values.get("payout_amount") is not None:
        raise InvalidInput(
            "Give payoutPercent or payoutAmount, not both.",
            details={"payoutAmount": ["Only one kind of payout per line."]},
        )


def delivered_line_add(
    *, order_id: Any, organization: Organization, actor: Actor, values: dict[str, Any], technician_id: Any = None
) -> DeliveredLine:
    """Adds an extra line. The router's is approved at once; the installer's waits for the
    router's approval (`pending_approval`) and is not billed until then."""
    _check_line(values)
    with transaction.atomic():
        order, is_router = _lock_for_lines(order_id, organization, technician_id)
        last = DeliveredLine.objects.filter(order=order).aggregate(top=Max("position"))["top"] or 0
        line = DeliveredLine.objects.create(
            order=order,
            position=max(last + 1, EXTRA_POSITION_BASE),
            source=LineSource.EXTRA,
            approval=ApprovalStatus.APPROVED if is_router else ApprovalStatus.PENDING,
            approved_by=actor.label if is_router else "",
            approved_at=timezone.now() if is_router else None,
            created_by=actor.label,
            **{name: values[name] for name in LINE_FIELDS if name in values},
        )
        pending = PendingEvents(order)
        pending.add(
            "order.line_added",
            actor,
            data={"lineId": str(line.pk), "description": line.description, "approval": line.approval},
            from_status=order.status,
            to_status=order.status,
        )
        finish_change(order, pending)
    return line


def delivered_line_update(
    *,
    order_id: Any,
    line_id: Any,
    organization: Organization,
    actor: Actor,
    values: dict[str, Any],
    technician_id: Any = None,
) -> DeliveredLine:
    """Changes a delivered line: the router any line; the installer only its extras still
    pending approval (Conflict otherwise)."""
    with transaction.atomic():
        order, is_router = _lock_for_lines(order_id, organization, technician_id)
        line = DeliveredLine.objects.filter(order=order, pk=line_id).first()
        if line is None:
            raise NotFound("Line not found.")
        if not is_router and not (line.source == LineSource.EXTRA and line.approval == ApprovalStatus.PENDING):
            raise Conflict("Only extras that are still pending approval can be changed by the installer.")
        merged = {name: getattr(line, name) for name in LINE_FIELDS}
        merged.update(values)
        if "payout_percent" in values and values["payout_percent"] is not None:
            merged["payout_amount"] = None
        if "payout_amount" in values and values["payout_amount"] is not None:
            merged["payout_percent"] = None
        _check_line(merged)
        for name in LINE_FIELDS:
            setattr(line, name, merged[name])
        line.save(update_fields=list(LINE_FIELDS))
        pending = PendingEvents(order)
        pending.add(
            "order.line_changed",
            actor,
            data={"lineId": str(line.pk), "fields": sorted(values)},
            from_status=order.status,
            to_status=order.status,
        )
        finish_change(order, pending)
    return line


def delivered_line_approve(*, order_id: Any, line_id: Any, organization: Organization, actor: Actor) -> DeliveredLine:
    """The router approves an installer's extra: it is billed from now on. NotFound for anyone
    but the order's router; Conflict when the line is approved already or the order invoiced."""
    with transaction.atomic():
        order, is_router = _lock_for_lines(order_id, organization, None)
        if not is_router:
            raise NotFound("Order not found.")
        line = DeliveredLine.objects.filter(order=order, pk=line_id).first()
        if line is None:
            raise NotFound("Line not found.")
        if line.approval != ApprovalStatus.PENDING:
            raise Conflict("This line is approved already.")
        line.approval = ApprovalStatus.APPROVED
        line.approved_by = actor.label
        line.approved_at = timezone.now()
        line.save(update_fields=["approval", "approved_by", "approved_at"])
        pending = PendingEvents(order)
        pending.add(
            "order.line_approved",
            actor,
            data={"lineId": str(line.pk), "description": line.description},
            from_status=order.status,
            to_status=order.status,
        )
        finish_change(order, pending)
    return line


# --------------------------------------------------------------------------------------------
# Invoices and credit notes
# --------------------------------------------------------------------------------------------


def payer_and_currency(order: Order) -> tuple[str, str]:
    """The accepted quote's payer and currency; without one the router pays, in NOK."""
    quote = pricing_selectors.accepted_quote(order)
    if quote is None:
        return Payer.ROUTER, basis_module.DEFAULT_CURRENCY
    return quote.payer, quote.currency


def order_basis(order: Order) -> basis_module.InvoiceBasis:
    """The order's invoice basis as it stands (not issued)."""
    payer, currency = payer_and_currency(order)
    completion = Completion.objects.filter(order=order).first()
    delivered_on = completion.completed_at.astimezone(zone_of(order.organization)).date() if completion else None
    return basis_module.basis_for_order(
        order,
        payer=payer,
        currency=currency,
        delivered=DeliveredLine.objects.filter(order=order).order_by("position", "created_at"),
        delivered_on=delivered_on,
    )


def _next_number(organization_id: Any) -> int:
    """The next document number of the organization, under its row lock (held to commit)."""
    Organization.objects.select_for_update().filter(pk=organization_id).values_list("pk", flat=True).first()
    top = Invoice.objects.filter(organization_id=organization_id).aggregate(top=Max("number"))["top"]
    return (top or 0) + 1


def _freeze(
    order: Order, doc: basis_module.InvoiceBasis, *, kind: str, actor: Actor, credited: Invoice | None = None
) -> Invoice:
    now = timezone.now()
    issue_date = now.astimezone(zone_of(order.organization)).date()
    number = _next_number(order.organization_id)
    doc = basis_module.issued(doc, number=number, issue_date=issue_date)
    assert doc.due_date is not None
    invoice = Invoice.objects.create(
        organization_id=order.organization_id,
        order=order,
        kind=kind,
        number=number,
        credited_invoice=credited,
        payer=doc.payer,
        currency=doc.currency,
        installer_id=order.installer_id,
        seller=doc.seller.as_dict(),
        buyer=doc.buyer.as_dict(),
        note=doc.note,
        net=doc.net,
        vat=doc.vat,
        gross=doc.gross,
        payout=doc.payout,
        issued_at=now,
        issue_date=issue_date,
        due_date=doc.due_date,
        delivered_on=doc.delivered_on,
        actor_label=actor.label,
    )
    InvoiceLine.objects.bulk_create(
        InvoiceLine(
            invoice=invoice,
            position=line.position,
            description=line.description,
            unit=line.unit,
            quantity=line.quantity,
            unit_amount=line.unit_amount,
            discount_percent=line.discount_percent,
            vat_rate=line.vat_rate,
            prices_include_vat=line.prices_include_vat,
            net=line.net,
            vat=line.vat,
            gross=line.gross,
            payout=line.payout,
            extra=line.extra,
        )
        for line in doc.lines
    )
    return invoice


def order_invoice(*, order_id: Any, organization: Organization, actor: Actor) -> Invoice:
    """Marks a completed order invoiced: freezes its basis as an `Invoice` with its own lines
    and the next number of the organization, and records `order.invoiced` (timeline and
    webhooks) in the same transaction, the order row locked. Conflict for an order that is
    not completed or is invoiced already (two at the same instant: one wins)."""
    try:
        with transaction.atomic():
            order = lock_order(order_id, organization=organization)
            if order.status != OrderStatus.COMPLETED:
                raise Conflict(f"Only completed orders can be invoiced; this one is {order.status_name}.")
            if _is_invoiced(order):
                raise Conflict("The order is invoiced already.")
            doc = order_basis(order)
            invoice = _freeze(order, doc, kind=InvoiceKind.INVOICE, actor=actor)
            pending = PendingEvents(order)
            pending.add(
                "order.invoiced",
                actor,
                data={
                    "invoiceId": str(invoice.pk),
                    "number": invoice.number,
                    "currency": invoice.currency,
                    "net": invoice.net,
                    "vat": invoice.vat,
                    "gross": invoice.gross,
                    "payout": invoice.payout,
                },
                from_status=order.status,
                to_status=order.status,
            )
            order.invoice_status = "invoiced"
            finish_change(order, pending, fields=["invoice_status"])
    except IntegrityError:
        raise Conflict("The order is invoiced already.") from None
    return invoice


def order_credit(
    *,
    order_id: Any,
    organization: Organization,
    actor: Actor,
    lines: Sequence[dict[str, Any]] = (),
    full: bool = False,
    reason: str = "",
) -> Invoice:
    """Issues a credit note against the order's invoice: either `full` (every invoice line
    negated) or `lines` (each with a negative quantity or unit amount: its gross must be
    negative or zero, at least one not zero). The credit notes of an invoice together never
    exceed it (InvalidInput). Records `order.credited`. Conflict when the order has no invoice."""
    if full == bool(lines):
        raise InvalidInput(
            "Give either lines or full: true.", details={"lines": ["Give the lines to credit, or full: true."]}
        )
    with transaction.atomic():
        order = lock_order(order_id, organization=organization)
        invoice = Invoice.objects.filter(order=order, kind=InvoiceKind.INVOICE).first()
        if invoice is None:
            raise Conflict("The order is not invoiced: there is nothing to credit.")
        if full:
            priced = [
                basis_module.BasisLine(
                    position=row.position,
                    description=row.description,
                    unit=row.unit,
                    quantity=-row.quantity,
                    unit_amount=row.unit_amount,
                    discount_percent=row.discount_percent,
                    vat_rate=row.vat_rate,
                    prices_include_vat=row.prices_include_vat,
                    net=-row.net,
                    vat=-row.vat,
                    gross=-row.gross,
                    payout=-row.payout,
                    extra=row.extra,
                )
                for row in invoice.lines.order_by("position")
            ]
        else:
            priced = []
            for index, raw in enumerate(lines, start=1):
                line = basis_module.price_line(position=index, **raw)
                if line.gross > 0 or line.net > 0:
                    raise InvalidInput(
                        "A credit note's lines must be negative: give a negative quantity or unit amount.",
                        details={f"lines[{index - 1}]": ["The line's amount must be negative or zero."]},
                    )
                priced.append(line)
            if all(line.gross == 0 and line.payout == 0 for line in priced):
                raise InvalidInput("The credit note credits nothing.", details={"lines": ["Every line is zero."]})
        credited = Invoice.objects.filter(credited_invoice=invoice).aggregate(total=Sum("gross"))["total"] or 0
        new_total = sum(line.gross for line in priced)
        if invoice.gross + credited + new_total < 0:
            raise InvalidInput(
                "The credit notes would exceed the invoice.",
                details={"lines": [f"At most {invoice.gross + credited} can still be credited."]},
            )
        net, vat, gross, payout, by_rate = basis_module.sums(priced)
        doc = basis_module.InvoiceBasis(
            language=basis_module.reader_language(order, invoice.payer),
            kind=InvoiceKind.CREDIT_NOTE,
            order_id=order.pk,
            display_id=order.display_id or "",
            payer=invoice.payer,
            currency=invoice.currency,
            seller=basis_module.Party.from_dict(invoice.seller),
            buyer=basis_module.Party.from_dict(invoice.buyer),
            installer_name=order.installer.name if order.installer is not None else "",
            lines=tuple(priced),
            net=net,
            vat=vat,
            gross=gross,
            payout=payout,
            by_rate=by_rate,
            delivered_on=invoice.delivered_on,
            note=reason.strip(),
        )
        note = _freeze(order, doc, kind=InvoiceKind.CREDIT_NOTE, actor=actor, credited=invoice)
        pending = PendingEvents(order)
        pending.add(
            "order.credited",
            actor,
            data={
                "creditNoteId": str(note.pk),
                "number": note.number,
                "invoiceNumber": invoice.number,
                "currency": note.currency,
                "net": note.net,
                "vat": note.vat,
                "gross": note.gross,
                "payout": note.payout,
            },
            from_status=order.status,
            to_status=order.status,
        )
        order.invoice_status = "credited"
        finish_change(order, pending, fields=["invoice_status"])
    return note
