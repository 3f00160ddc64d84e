"""What a completed order delivered, its invoice and credit notes (docs/invoicing.md).

Amounts are integers in minor units (øre). A `DeliveredLine` carries the prices it was quoted
with; an `InvoiceLine` is frozen: its amounts were computed once, by `pricing.money`, when the
invoice or credit note was issued, and never change.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.db import models
from django.db.models import Q

from accounts.models import Organization
from orders.models import File, Order


class Payer(models.TextChoices):
    CUSTOMER = "customer", "Customer"
    ROUTER = "router", "Router"


class LineSource(models.TextChoices):
    QUOTE = "quote", "Quoted"
    EXTRA = "extra", "Extra"


class ApprovalStatus(models.TextChoices):
    APPROVED = "approved", "Approved"
    PENDING = "pending_approval", "Pending approval"


class Completion(models.Model):
    """One per completed order: when it completed (statements select on it) and the customer's
    optional confirmation, a name and a drawn signature stored as a PNG `File`."""

    order = models.OneToOneField(Order, on_delete=models.CASCADE, related_name="completion", primary_key=True)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    installer = models.ForeignKey(Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    completed_at = models.DateTimeField()
    customer_name = models.CharField(max_length=200, blank=True)
    signature = models.ForeignKey(File, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    signed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # Partner statements: one router's orders of one installer completed in a period.
            models.Index(fields=["organization", "installer", "completed_at"], name="completion_statement_idx"),
            models.Index(fields=["installer", "completed_at"], name="completion_installer_idx"),
        ]

    def __str__(self) -> str:
        return f"Completion of {self.order_id}"


class DeliveredLine(models.Model):
    """A line of what was done on the order: a quoted line (the accepted quote's chosen line,
    recorded at completion) or an extra the installer added, billed only once approved."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="delivered_lines")
    position = models.PositiveIntegerField(default=0)
    source = models.CharField(max_length=8, choices=LineSource.choices, default=LineSource.QUOTE)
    approval = models.CharField(max_length=16, choices=ApprovalStatus.choices, default=ApprovalStatus.APPROVED)
    description = models.CharField(max_length=500)
    unit = models.CharField(max_length=32, blank=True, default="piece")
    quantity = models.DecimalField(max_digits=12, decimal_places=3)
    unit_amount = models.BigIntegerField()
    discount_percent = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal(0))
    vat_rate = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal(25))
    prices_include_vat = models.BooleanField(default=False)
    payout_percent = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    payout_amount = models.BigIntegerField(null=True, blank=True)
    created_by = models.CharField(max_length=200, blank=True)
    approved_by = models.CharField(max_length=200, blank=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "created_at"]
        indexes = [models.Index(fields=["order", "position"], name="deliveredline_order_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="deliveredline_quantity_positive"),
            models.CheckConstraint(
                condition=Q(discount_percent__gte=0, discount_percent__lte=100), name="deliveredline_discount_range"
            ),
            models.CheckConstraint(condition=Q(vat_rate__gte=0, vat_rate__lt=100), name="deliveredline_vat_range"),
            models.CheckConstraint(
                condition=Q(approval__in=ApprovalStatus.values), name="deliveredline_approval_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} {self.unit} {self.description}"

    @property
    def billable(self) -> bool:
        return self.approval == ApprovalStatus.APPROVED


class InvoiceKind(models.TextChoices):
    INVOICE = "invoice", "Invoice"
    CREDIT_NOTE = "credit_note", "Credit note"


class Invoice(models.Model):
    """An issued invoice or credit note of one order; the parties and the totals as they were
    when it was issued. `number` is unique per issuing organization (the router), invoices and
    credit notes sharing one sequence."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="invoices")
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="invoices")
    kind = models.CharField(max_length=16, choices=InvoiceKind.choices, default=InvoiceKind.INVOICE)
    number = models.PositiveBigIntegerField()
    credited_invoice = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="credit_notes"
    )
    payer = models.CharField(max_length=16, choices=Payer.choices)
    currency = models.CharField(max_length=3, default="NOK")
    installer = models.ForeignKey(Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    # The parties as printed: {"name", "orgNumber", "vatRegistered", "address", "postalCode",
    # "city", "countryCode", "email", "phone", "bankAccount"}.
    seller = models.JSONField(default=dict)
    buyer = models.JSONField(default=dict)
    note = models.TextField(blank=True)
    net = models.BigIntegerField()
    vat = models.BigIntegerField()
    gross = models.BigIntegerField()
    payout = models.BigIntegerField()
    issued_at = models.DateTimeField()
    issue_date = models.DateField()
    due_date = models.DateField()
    delivered_on = models.DateField(null=True, blank=True)
    actor_label = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["organization", "number"]
        indexes = [
            models.Index(fields=["organization", "issued_at"], name="invoice_org_issued_idx"),
            models.Index(fields=["order", "kind"], name="invoice_order_kind_idx"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["organization", "number"], name="invoice_number_unique"),
            # One invoice per order: invoicing twice is a conflict, even at the same instant.
            models.UniqueConstraint(fields=["order"], condition=Q(kind="invoice"), name="invoice_one_per_order"),
            models.CheckConstraint(condition=Q(kind__in=InvoiceKind.values), name="invoice_kind_valid"),
            models.CheckConstraint(
                condition=Q(kind="invoice", credited_invoice__isnull=True)
                | Q(kind="credit_note", credited_invoice__isnull=False),
                name="invoice_credit_note_refers",
            ),
        ]

    def __str__(self) -> str:
        label = "Credit note" if self.kind == InvoiceKind.CREDIT_NOTE else "Invoice"
        return f"{label} {self.number}"


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField()
    description = models.CharField(max_length=500)
    unit = models.CharField(max_length=32, blank=True)
    quantity = models.DecimalField(max_digits=12, decimal_places=3)
    unit_amount = models.BigIntegerField()
    discount_percent = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal(0))
    vat_rate = models.DecimalField(max_digits=5, decimal_places=2)
    prices_include_vat = models.BooleanField(default=False)
    net = models.BigIntegerField()
    vat = models.BigIntegerField()
    gross = models.BigIntegerField()
    payout = models.BigIntegerField()
    extra = models.BooleanField(default=False)

    class Meta:
        ordering = ["invoice", "position"]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "position"], name="invoiceline_position_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.description}"
