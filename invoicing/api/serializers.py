"""Input shapes of the invoicing API (camelCase on the wire)."""

from __future__ import annotations

from decimal import Decimal

from rest_framework import serializers

from pricing.models import Unit

MAX_AMOUNT = 10**13  # minor units; far beyond any line, well inside 64 bits


class LineInput(serializers.Serializer):
    description = serializers.CharField(max_length=500)
    unit = serializers.ChoiceField(choices=Unit.choices, required=False, default=Unit.PIECE)
    quantity = serializers.DecimalField(max_digits=12, decimal_places=3, min_value=Decimal("0.001"))
    unitAmount = serializers.IntegerField(source="unit_amount", min_value=-MAX_AMOUNT, max_value=MAX_AMOUNT)
    discountPercent = serializers.DecimalField(
        source="discount_percent",
        max_digits=5,
        decimal_places=2,
        min_value=Decimal(0),
        max_value=Decimal(100),
        required=False,
    )
    vatRate = serializers.DecimalField(
        source="vat_rate",
        max_digits=5,
        decimal_places=2,
        min_value=Decimal(0),
        max_value=Decimal("99.99"),
        required=False,
        default=Decimal(25),
    )
    pricesIncludeVat = serializers.BooleanField(source="prices_include_vat", required=False, default=False)
    payoutPercent = serializers.DecimalField(
        source="payout_percent",
        max_digits=5,
        decimal_places=2,
        min_value=Decimal(0),
        max_value=Decimal(100),
        required=False,
        allow_null=True,
    )
    payoutAmount = serializers.IntegerField(
        source="payout_amount", min_value=-MAX_AMOUNT, max_value=MAX_AMOUNT, required=False, allow_null=True
    )

    def validate(self, attrs):
        if attrs.get("payout_percent") is not None and attrs.get("payout_amount") is not None:
            raise serializers.ValidationError({"payoutAmount": ["Give payoutPercent or payoutAmount, not both."]})
        return attrs


class LinePatchInput(LineInput):
    def __init__(self, *args, **kwargs):
        kwargs["partial"] = True
        super().__init__(*args, **kwargs)


class CreditLineInput(LineInput):
    """A credit note's line: the quantity or the unit amount negative (checked by the service)."""

    quantity = serializers.DecimalField(max_digits=12, decimal_places=3)


class CreditNoteInput(serializers.Serializer):
    lines = serializers.ListField(child=CreditLineInput(), required=False, max_length=200)
    full = serializers.BooleanField(required=False, default=False)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=1000, default="")
