"""Inputs of the products and quotes API (camelCase on the wire, snake_case inside), and
documentation-only outputs for the schema (the answers are built by `pricing.api.presenters`).

Amounts in minor units are JSON integers: a string ("100") or a number with a fraction (100.0,
100.5) is a 400. Quantities and percentages are JSON numbers or decimal strings ("1.5"),
within their places (three for a quantity, two for a percentage)."""

from __future__ import annotations

from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from installer.api.serializers import RejectUnknownFields, TextField
from pricing.models import Payer, Unit

MAX_AMOUNT = 10**12  # 10 000 000 000,00 kr: far above any line, far below 2**63


@extend_schema_field({"type": "integer", "minimum": 0, "maximum": MAX_AMOUNT})
class AmountField(serializers.Field):
    """An integer in minor units, as a JSON integer only; not negative unless `allow_negative`
    (`SignedAmountField`)."""

    default_error_messages = {
        "not_integer": "Must be an integer in minor units (øre), e.g. 129900 for 1 299,00; not a string or a fraction.",
        "range": f"Must be between -{MAX_AMOUNT} and {MAX_AMOUNT}.",
        "negative": "Must not be negative.",
    }

    def __init__(self, *, allow_negative: bool = False, **kwargs):
        self.allow_negative = allow_negative
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("not_integer")
        if abs(data) > MAX_AMOUNT:
            self.fail("range")
        if data < 0 and not self.allow_negative:
            self.fail("negative")
        return data

    def to_representation(self, value):
        return value


@extend_schema_field({"type": "integer", "minimum": -MAX_AMOUNT, "maximum": MAX_AMOUNT})
class SignedAmountField(AmountField):
    """An amount that may be negative (a discount line's unit amount)."""

    def __init__(self, **kwargs):
        super().__init__(allow_negative=True, **kwargs)


class DecimalInput(serializers.DecimalField):
    """A JSON number or a decimal string; booleans are refused."""

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("invalid")
        return super().to_internal_value(data)


def _percent(**kwargs) -> DecimalInput:
    return DecimalInput(max_digits=5, decimal_places=2, min_value=Decimal(0), max_value=Decimal(100), **kwargs)


class CurrencyField(TextField):
    def to_internal_value(self, data):
        value = super().to_internal_value(data).strip().upper()
        if len(value) != 3 or not value.isascii() or not value.isalpha():
            raise serializers.ValidationError("A currency is three letters (ISO 4217), e.g. NOK.")
        return value


class ProductInput(serializers.Serializer):
    name = TextField(max_length=200)
    description = TextField(required=False, allow_blank=True, max_length=5000)
    unit = serializers.ChoiceField(choices=Unit.choices, required=False)
    externalId = TextField(source="external_id", required=False, allow_null=True, allow_blank=True, max_length=100)
    currency = CurrencyField(required=False)
    vatRate = _percent(source="vat_rate", required=False)
    pricesIncludeVat = serializers.BooleanField(source="prices_include_vat", required=False)
    unitAmount = AmountField(source="unit_amount")
    payoutPercent = _percent(source="payout_percent", required=False, allow_null=True)
    payoutAmount = AmountField(source="payout_amount", required=False, allow_null=True)
    sharedWithPartners = serializers.BooleanField(source="shared_with_partners", required=False)
    active = serializers.BooleanField(required=False)
    tags = serializers.ListField(child=TextField(max_length=100), required=False, max_length=50)


class QuoteLineInput(serializers.Serializer):
    productId = serializers.UUIDField(source="product_id", required=False, allow_null=True)
    description = TextField(required=False, allow_blank=True, max_length=500)
    unit = serializers.ChoiceField(choices=Unit.choices, required=False)
    quantity = DecimalInput(
        max_digits=12,
        decimal_places=3,
        required=False,
        min_value=Decimal("0.001"),
        error_messages={"min_value": "Must be more than 0 (a quote line is never a credit)."},
    )
    unitAmount = SignedAmountField(source="unit_amount", required=False)
    discountPercent = _percent(source="discount_percent", required=False)
    vatRate = _percent(source="vat_rate", required=False)
    pricesIncludeVat = serializers.BooleanField(source="prices_include_vat", required=False)
    payoutPercent = _percent(source="payout_percent", required=False, allow_null=True)
    payoutAmount = AmountField(source="payout_amount", required=False, allow_null=True)
    optional = serializers.BooleanField(required=False)


class QuoteInput(serializers.Serializer):
    payer = serializers.ChoiceField(choices=Payer.choices, required=False)
    currency = CurrencyField(required=False)
    validUntil = serializers.DateField(source="valid_until", required=False, allow_null=True)
    note = TextField(required=False, allow_blank=True, max_length=5000)
    stepKey = TextField(source="step_key", required=False, allow_null=True, allow_blank=True, max_length=64)
    lines = serializers.ListField(child=QuoteLineInput(), required=False, max_length=200)
    version = serializers.IntegerField(required=False, min_value=1)


class ProductUpdateInput(RejectUnknownFields, ProductInput):
    """A PATCH: only the fields given change; an unknown field is a 400 (not silently ignored)."""


class QuoteUpdateInput(RejectUnknownFields, QuoteInput):
    """A PATCH of a draft: `lines`, when given, replace every line."""


class DecisionInput(serializers.Serializer):
    lineIds = serializers.ListField(child=TextField(max_length=64), required=False, max_length=200)


# -- outputs, for the schema only ---------------------------------------------------------------


class ProductOutput(serializers.Serializer):
    id = serializers.UUIDField()
    organizationId = serializers.UUIDField()
    name = serializers.CharField()
    description = serializers.CharField()
    unit = serializers.ChoiceField(choices=Unit.choices)
    externalId = serializers.CharField(allow_null=True)
    currency = serializers.CharField()
    vatRate = serializers.CharField()
    pricesIncludeVat = serializers.BooleanField()
    unitAmount = serializers.IntegerField()
    payoutPercent = serializers.CharField(allow_null=True)
    payoutAmount = serializers.IntegerField(allow_null=True)
    sharedWithPartners = serializers.BooleanField()
    active = serializers.BooleanField()
    tags = serializers.ListField(child=serializers.CharField())
    createdAt = serializers.DateTimeField()
    updatedAt = serializers.DateTimeField()


class ProductListOutput(serializers.Serializer):
    values = ProductOutput(many=True)
    count = serializers.IntegerField(required=False)
    nextCursor = serializers.CharField(required=False, allow_null=True)


class QuoteLineOutput(serializers.Serializer):
    id = serializers.UUIDField()
    position = serializers.IntegerField()
    productId = serializers.UUIDField(allow_null=True)
    description = serializers.CharField()
    unit = serializers.CharField()
    quantity = serializers.CharField()
    unitAmount = serializers.IntegerField()
    discountPercent = serializers.CharField()
    vatRate = serializers.CharField()
    pricesIncludeVat = serializers.BooleanField()
    optional = serializers.BooleanField()
    chosen = serializers.BooleanField()
    net = serializers.IntegerField()
    vat = serializers.IntegerField()
    gross = serializers.IntegerField()
    payoutPercent = serializers.CharField(allow_null=True, required=False)
    payoutAmount = serializers.IntegerField(allow_null=True, required=False)
    installerPayout = serializers.IntegerField(required=False, help_text="Router and partner only.")


class RateTotalOutput(serializers.Serializer):
    vatRate = serializers.CharField()
    net = serializers.IntegerField()
    vat = serializers.IntegerField()


class TotalsOutput(serializers.Serializer):
    net = serializers.IntegerField()
    vat = serializers.IntegerField()
    gross = serializers.IntegerField()
    byRate = RateTotalOutput(many=True)
    installerPayout = serializers.IntegerField(required=False, help_text="Router and partner only.")


class QuoteOutput(serializers.Serializer):
    id = serializers.UUIDField()
    orderId = serializers.UUIDField()
    stepKey = serializers.CharField(allow_null=True, required=False)
    status = serializers.CharField()
    payer = serializers.CharField()
    currency = serializers.CharField()
    validUntil = serializers.DateField(allow_null=True)
    note = serializers.CharField()
    version = serializers.IntegerField(required=False)
    lines = QuoteLineOutput(many=True)
    totals = TotalsOutput()
    sentAt = serializers.DateTimeField(allow_null=True)
    decidedAt = serializers.DateTimeField(allow_null=True)
    decidedVia = serializers.CharField(allow_null=True)
    decidedBy = serializers.CharField(allow_null=True, required=False)
    createdBy = serializers.DictField(required=False)
    createdAt = serializers.DateTimeField()
    updatedAt = serializers.DateTimeField()


class QuoteListOutput(serializers.Serializer):
    values = QuoteOutput(many=True)
    count = serializers.IntegerField()
