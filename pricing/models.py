"""Products (a router's catalogue), quotes on orders and their lines.

Amounts are integers in minor units (øre) of the row's currency; VAT rates, discounts and payout
shares are percentages with two decimals. The arithmetic is `pricing.money`'s.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _
from taggit.managers import TaggableManager
from taggit.models import TaggedItemBase

from accounts.models import Organization, OrganizationTag
from orders.models import Order, WorkflowStep
from pricing import money

currency_validator = RegexValidator(r"^[A-Z]{3}$", "A currency is three capital letters (ISO 4217), e.g. NOK.")
percent_validators = [MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))]


class Unit(models.TextChoices):
    PIECE = "piece", _("piece")
    HOUR = "hour", _("hour")
    METRE = "metre", _("metre")
    SQUARE_METRE = "square_metre", _("square metre")
    KILOGRAM = "kilogram", _("kilogram")
    SET = "set", _("set")
    OTHER = "other", _("other")


# How a line's unit is printed beside its quantity (quotes, the customer's page, the partner's
# job page, the back office, invoices).
UNIT_SYMBOLS: dict[str, Any] = {
    Unit.PIECE: _("pcs"),
    Unit.HOUR: _("h"),
    Unit.METRE: _("m"),
    Unit.SQUARE_METRE: _("m²"),
    Unit.KILOGRAM: _("kg"),
    Unit.SET: _("set"),
    Unit.OTHER: "",
}


def unit_text(unit: str) -> str:
    """A line's unit as people read it beside a quantity: the short symbol of a `Unit` code, in
    the active language ("m²" for square_metre), else the text as stored (an invoice line's own)."""
    return str(UNIT_SYMBOLS[unit]) if unit in UNIT_SYMBOLS else unit


class ProductTag(OrganizationTag):
    """A product tag of one organization; names unique per organization, case-insensitively."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="product_tags")

    class Meta(OrganizationTag.Meta):
        constraints = [
            models.UniqueConstraint(Lower("name"), "organization", name="product_tag_name_ci_unique_per_org"),
        ]


class TaggedProduct(TaggedItemBase):
    content_object = models.ForeignKey("Product", on_delete=models.CASCADE, related_name="tagged_items")
    tag = models.ForeignKey(ProductTag, on_delete=models.CASCADE, related_name="tagged_products")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["content_object", "tag"], name="tagged_product_unique")]
        indexes = [models.Index(fields=["tag", "content_object"], name="tagged_product_tag_idx")]


class PayoutFields(models.Model):
    """The installer's payout of a product or line: a share of the net in per cent, or an
    amount per unit, or neither (no payout); never both (a CheckConstraint on each table)."""

    payout_percent = models.DecimalField(
        max_digits=5, decimal_places=2, null=True, blank=True, validators=percent_validators
    )
    payout_amount = models.BigIntegerField(null=True, blank=True, help_text="Minor units per unit.")

    class Meta:
        abstract = True


def _payout_check(name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=models.Q(payout_percent__isnull=True) | models.Q(payout_amount__isnull=True), name=name
    )


class ProductQuerySet(models.QuerySet):
    def for_organization(self, organization: Organization) -> ProductQuerySet:
        return self.filter(organization=organization)


class Product(PayoutFields):  # type: ignore[django-manager-missing]  # taggit's through model
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="products", db_index=False)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    unit = models.CharField(max_length=16, choices=Unit.choices, default=Unit.PIECE)
    external_id = models.CharField(max_length=100, null=True, blank=True)
    currency = models.CharField(max_length=3, default="NOK", validators=[currency_validator])
    vat_rate = models.DecimalField(
        max_digits=5, decimal_places=2, default=Decimal("25.00"), validators=percent_validators
    )
    prices_include_vat = models.BooleanField(default=False)
    unit_amount = models.BigIntegerField(help_text="The payer's price per unit, in minor units.")
    shared_with_partners = models.BooleanField(default=False, help_text="Installer partners may see and quote it.")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    tags = TaggableManager(through=TaggedProduct, blank=True)

    objects = ProductQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "external_id"],
                condition=models.Q(external_id__isnull=False),
                name="product_external_id_unique",
            ),
            _payout_check("product_payout_one_kind"),
            models.CheckConstraint(condition=models.Q(vat_rate__gte=0, vat_rate__lte=100), name="product_vat_range"),
            models.CheckConstraint(condition=models.Q(unit__in=Unit.values), name="product_unit_valid"),
        ]
        indexes = [
            # The list (newest first, as every API list pages) and its filters: active, shared
            # (a partner's view); by name for the admin and the pickers. `tag` is served by
            # tagged_product_tag_idx; `search` scans the organization's rows (a catalogue is small).
            models.Index(fields=["organization", "created_at", "id"], name="product_org_created_idx"),
            models.Index(fields=["organization", "active", "created_at"], name="product_org_active_created_idx"),
            models.Index(
                fields=["organization", "shared_with_partners", "active", "created_at"], name="product_org_shared_idx2"
            ),
            models.Index(fields=["organization", "name", "id"], name="product_org_name_idx"),
        ]

    def __str__(self) -> str:
        return self.name


class Payer(models.TextChoices):
    CUSTOMER = "customer", _("customer")
    ROUTER = "router", _("router")


class QuoteStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    SENT = "sent", _("sent")
    ACCEPTED = "accepted", _("accepted")
    REJECTED = "rejected", _("rejected")
    WITHDRAWN = "withdrawn", _("withdrawn")


class DecisionChannel(models.TextChoices):
    """How a quote was accepted or rejected."""

    CUSTOMER = "customer", _("by the customer on their order page")
    CLIENT_API = "client_api", _("through the client API")
    OPERATOR_ON_BEHALF = "operator_on_behalf", _("by an operator on the customer's word")


class QuoteQuerySet(models.QuerySet):
    def for_organization(self, organization: Organization) -> QuoteQuerySet:
        return self.filter(organization=organization)


class Quote(models.Model):
    """A priced offer on an order. `draft → sent → accepted | rejected | withdrawn` (withdraw
    from draft or sent; `pricing.transitions`). An order has at most one accepted quote (a
    partial unique constraint); accepting one withdraws the order's other open quotes.
    The totals are computed from the chosen lines and stored (frozen) when it is accepted."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="quotes", db_index=False)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="quotes")
    step = models.ForeignKey(WorkflowStep, on_delete=models.SET_NULL, null=True, blank=True, related_name="quotes")
    payer = models.CharField(max_length=16, choices=Payer.choices, default=Payer.CUSTOMER)
    status = models.CharField(max_length=16, choices=QuoteStatus.choices, default=QuoteStatus.DRAFT, editable=False)
    currency = models.CharField(max_length=3, default="NOK", validators=[currency_validator])
    valid_until = models.DateField(null=True, blank=True)
    note = models.TextField(blank=True)
    # Who wrote it: the router's people and tokens, or the assigned installer partner's.
    created_by_organization = models.ForeignKey(
        Organization, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    created_by_type = models.CharField(max_length=16, blank=True, editable=False)
    created_by_label = models.CharField(max_length=200, blank=True, editable=False)
    # Who accepted or rejected it, and how.
    decided_by_label = models.CharField(max_length=200, blank=True, editable=False)
    decided_via = models.CharField(max_length=32, choices=DecisionChannel.choices, blank=True, editable=False)
    sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    decided_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Bumped by every change; a PATCH may send the version it read (409 when it moved on).
    version = models.PositiveIntegerField(default=1, editable=False)
    # Frozen at acceptance: the chosen lines' totals (null before).
    total_net = models.BigIntegerField(null=True, blank=True, editable=False)
    total_vat = models.BigIntegerField(null=True, blank=True, editable=False)
    total_gross = models.BigIntegerField(null=True, blank=True, editable=False)
    total_payout = models.BigIntegerField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = QuoteQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=QuoteStatus.values), name="quote_status_valid"),
            models.CheckConstraint(condition=models.Q(payer__in=Payer.values), name="quote_payer_valid"),
            models.UniqueConstraint(
                fields=["order"], condition=models.Q(status="accepted"), name="quote_one_accepted_per_order"
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "created_at"], name="quote_org_created_idx"),
            models.Index(fields=["organization", "status", "created_at"], name="quote_org_status_idx"),
        ]

    def __str__(self) -> str:
        return f"Quote {str(self.id)[:8]} ({self.status})"


class QuoteLine(PayoutFields):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField(default=0)
    product = models.ForeignKey(Product, on_delete=models.SET_NULL, null=True, blank=True, related_name="quote_lines")
    description = models.CharField(max_length=500)
    unit = models.CharField(max_length=16, choices=Unit.choices, default=Unit.PIECE)
    quantity = models.DecimalField(max_digits=12, decimal_places=3, default=Decimal(1))
    unit_amount = models.BigIntegerField(help_text="Minor units per unit.")
    discount_percent = models.DecimalField(
        max_digits=5, decimal_places=2, default=Decimal(0), validators=percent_validators
    )
    vat_rate = models.DecimalField(
        max_digits=5, decimal_places=2, default=Decimal("25.00"), validators=percent_validators
    )
    prices_include_vat = models.BooleanField(default=False)
    optional = models.BooleanField(default=False, help_text="The customer chooses whether to take it.")
    chosen = models.BooleanField(default=True, help_text="Taken: always for a required line; set at acceptance.")

    class Meta:
        ordering = ["quote", "position", "id"]
        constraints = [
            _payout_check("quote_line_payout_one_kind"),
            models.CheckConstraint(condition=models.Q(vat_rate__gte=0, vat_rate__lte=100), name="quote_line_vat_range"),
            models.CheckConstraint(
                condition=models.Q(discount_percent__gte=0, discount_percent__lte=100), name="quote_line_discount_range"
            ),
        ]

    def __str__(self) -> str:
        return self.description

    @property
    def amounts(self) -> money.LineAmounts:
        return money.line_amounts(
            quantity=self.quantity,
            unit_amount=self.unit_amount,
            discount_percent=self.discount_percent,
            vat_rate=self.vat_rate,
            prices_include_vat=self.prices_include_vat,
            payout_percent=self.payout_percent,
            payout_amount=self.payout_amount,
        )
