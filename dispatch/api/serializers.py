"""Input serializers (camelCase on the wire) and documentation-only output shapes."""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from rest_framework import serializers

from dispatch import coverage
from dispatch.models import OfferStatus
from installer.api.fields import AwareDateTimeField
from orders.api.serializers import IdNameOutput, OrderOutput
from scorecards.api.serializers import ScorecardOutput, ScoreOutput


class DispatchInput(serializers.Serializer):
    installerId = serializers.UUIDField(required=False, allow_null=True, source="installer_id")


class AssigneeInput(serializers.Serializer):
    """`{"userId": "<id>"}` sets the job's assignee, `{"userId": null}` clears it."""

    userId = serializers.CharField(allow_null=True, max_length=64, source="user_id")

    def validate_userId(self, value):
        if value is None:
            return None
        pk = get_user_model()._meta.pk
        try:
            user_id = pk.to_python(value.strip())
        except DjangoValidationError:
            raise serializers.ValidationError("Not a user id.") from None
        if isinstance(user_id, int) and not 0 < user_id < 2**63:
            raise serializers.ValidationError("Not a user id.")
        return user_id


class DeclineInput(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=300)


class BookingInput(serializers.Serializer):
    """`endAt` may be left out for an all-day booking (then it ends 24 hours after `startAt`)."""

    startAt = AwareDateTimeField(source="start_at")
    endAt = AwareDateTimeField(source="end_at", required=False, allow_null=True)
    allDay = serializers.BooleanField(source="all_day", required=False, default=False)

    def validate(self, attrs):
        if attrs.get("end_at") is None:
            if not attrs.get("all_day"):
                raise serializers.ValidationError({"endAt": ["Required unless allDay is true."]})
            attrs["end_at"] = attrs["start_at"] + timedelta(days=1)
        if attrs["end_at"] <= attrs["start_at"]:
            raise serializers.ValidationError({"endAt": ["Must be after startAt."]})
        if attrs["end_at"] - attrs["start_at"] > timedelta(days=31):
            raise serializers.ValidationError({"endAt": ["A booking lasts at most 31 days."]})
        if attrs["start_at"] < timezone.now():
            # An operator may record one that already happened in the admin, with a confirmation.
            raise serializers.ValidationError({"startAt": ["Must not be in the past."]})
        return attrs


class CompleteInput(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    fileIds = serializers.ListField(child=serializers.UUIDField(), required=False, source="file_ids", max_length=100)


class OfferListQuery(serializers.Serializer):
    status = serializers.ListField(child=serializers.ChoiceField(choices=OfferStatus.values), required=False)
    orderId = serializers.UUIDField(required=False, source="order_id")


# ---- Output shapes, for the schema ------------------------------------------------------------


class OfferOrderSummaryOutput(serializers.Serializer):
    id = serializers.UUIDField()
    displayId = serializers.CharField()
    name = serializers.CharField()
    city = serializers.CharField()
    postalCode = serializers.CharField()
    countryCode = serializers.CharField()
    status = serializers.IntegerField()
    statusName = serializers.CharField()


class OfferOutput(serializers.Serializer):
    id = serializers.UUIDField()
    orderId = serializers.UUIDField()
    installer = IdNameOutput()
    status = serializers.ChoiceField(choices=OfferStatus.values)
    rank = serializers.IntegerField()
    score = serializers.FloatField(allow_null=True)
    reason = serializers.CharField()
    declineReason = serializers.CharField(allow_null=True)
    sentAt = serializers.DateTimeField()
    expiresAt = serializers.DateTimeField(allow_null=True)
    respondedAt = serializers.DateTimeField(allow_null=True)


class OfferListItemOutput(OfferOutput):
    order = OfferOrderSummaryOutput()


class OfferListOutput(serializers.Serializer):
    values = OfferListItemOutput(many=True)
    count = serializers.IntegerField(required=False, help_text="Absent when paging with `cursor`.")
    nextCursor = serializers.CharField(required=False, allow_null=True)


class OfferAnswerOutput(OfferOutput):
    order = OrderOutput()


class OrderWithOffersOutput(OrderOutput):
    offers = OfferOutput(many=True)


class CandidateOutput(serializers.Serializer):
    installer = IdNameOutput()
    partnershipId = serializers.IntegerField()
    kept = serializers.BooleanField()
    reason = serializers.CharField()
    rank = serializers.IntegerField(allow_null=True)
    score = serializers.FloatField(allow_null=True)
    priority = serializers.IntegerField()
    load = serializers.IntegerField()
    capacity = serializers.IntegerField(allow_null=True)
    distanceKm = serializers.FloatField(allow_null=True)
    performance = ScoreOutput(allow_null=True, help_text="The kept candidate's performance score and its parts.")


class PreviewOutput(serializers.Serializer):
    orderId = serializers.UUIDField()
    dispatchable = serializers.BooleanField()
    strategy = serializers.CharField()
    offersAtOnce = serializers.IntegerField()
    wouldOffer = IdNameOutput(many=True)
    candidates = CandidateOutput(many=True)


class SubjectPreviewQuery(serializers.Serializer):
    """`GET dispatch/preview`: where an order would be. The workflow defaults to the
    organization's default one, the country to the one most of its coverage rules name."""

    workflowId = serializers.UUIDField(required=False, source="workflow_id")
    countryCode = serializers.CharField(required=False, min_length=2, max_length=2, source="country_code")
    postalCode = serializers.CharField(required=True, allow_blank=True, trim_whitespace=True, source="postal_code")
    lat = serializers.FloatField(required=False, min_value=-90, max_value=90)
    lng = serializers.FloatField(required=False, min_value=-180, max_value=180)

    def validate_countryCode(self, value: str) -> str:
        if not value.isalpha():
            raise serializers.ValidationError("Two letters (ISO 3166-1 alpha-2).")
        return value.upper()

    def validate_postalCode(self, value: str) -> str:
        error = coverage.postal_code_error(value)
        if error:
            raise serializers.ValidationError(error)
        return value

    def validate(self, attrs):
        if ("lat" in attrs) != ("lng" in attrs):
            raise serializers.ValidationError(
                {"lng" if "lat" in attrs else "lat": ["Give both lat and lng, or neither."]}
            )
        return attrs


class SubjectPreviewOutput(serializers.Serializer):
    strategy = serializers.CharField()
    offersAtOnce = serializers.IntegerField()
    wouldOffer = IdNameOutput(many=True)
    candidates = CandidateOutput(many=True)


class CoverageOutput(serializers.Serializer):
    kind = serializers.CharField()
    countryCode = serializers.CharField(allow_null=True)
    value = serializers.CharField(allow_null=True)
    valueTo = serializers.CharField(allow_null=True)
    radiusKm = serializers.FloatField(allow_null=True)


class InstallerPartnerOutput(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    email = serializers.CharField(allow_null=True)
    phoneNumber = serializers.CharField(allow_null=True)
    active = serializers.BooleanField()
    priority = serializers.IntegerField()
    capacity = serializers.IntegerField(allow_null=True)
    skills = serializers.ListField(child=serializers.CharField())
    coverage = CoverageOutput(many=True)
    scorecard = ScorecardOutput(
        help_text="How the partner performs for this organization (docs/api.md#partner-scorecards)."
    )


class InstallerPartnerListOutput(serializers.Serializer):
    values = InstallerPartnerOutput(many=True)
    count = serializers.IntegerField(required=False, help_text="Absent when paging with `cursor`.")
    nextCursor = serializers.CharField(required=False, allow_null=True)
