"""The wire shape of a scorecard (docs/api.md#partner-scorecards), for the OpenAPI schema."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from scorecards.selectors import DEFAULT_WINDOW, WINDOWS, Scorecard, parse_window

WINDOW_PARAMETER = OpenApiParameter(
    "window",
    OpenApiTypes.INT,
    enum=list(WINDOWS),
    description=f"Days the `scorecard` figures cover: {' or '.join(map(str, WINDOWS))} (default {DEFAULT_WINDOW}).",
)


def window_param(request) -> int:
    """The `window` query parameter; anything but 30 or 90 is a 400."""
    raw = request.query_params.get("window")
    if raw is None:
        return DEFAULT_WINDOW
    days = parse_window(raw)
    if days is None:
        raise ValidationError({"window": [f"Must be one of {', '.join(map(str, WINDOWS))}."]})
    return days


def scorecard_to_dict(card: Scorecard, days: int) -> dict:
    return {**card.window(days).as_dict(), "score": card.score.as_dict()}


class DeclineReasonOutput(serializers.Serializer):
    reason = serializers.CharField()
    count = serializers.IntegerField()


class ScoreOutput(serializers.Serializer):
    score = serializers.FloatField(help_text="0-100, higher is better (docs/dispatch.md#performance-score).")
    belowFloor = serializers.BooleanField(help_text="Too few offers in 90 days: the neutral score.")
    offers = serializers.IntegerField(help_text="Offers received in the 90 days the score reads.")
    parts = serializers.DictField(child=serializers.FloatField(allow_null=True))
    expiryRate = serializers.FloatField(allow_null=True)


class ScorecardOutput(serializers.Serializer):
    windowDays = serializers.IntegerField()
    offersReceived = serializers.IntegerField()
    accepted = serializers.IntegerField()
    declined = serializers.IntegerField()
    expired = serializers.IntegerField()
    withdrawn = serializers.IntegerField()
    acceptRate = serializers.FloatField(allow_null=True)
    medianSecondsToAccept = serializers.FloatField(allow_null=True)
    declinesByReason = DeclineReasonOutput(many=True)
    starts = serializers.IntegerField()
    onTimeStarts = serializers.IntegerField()
    onTimeStartRate = serializers.FloatField(allow_null=True)
    completed = serializers.IntegerField()
    cancelled = serializers.IntegerField()
    completionRate = serializers.FloatField(allow_null=True)
    medianSecondsBookedToCompleted = serializers.FloatField(allow_null=True)
    customerCancellations = serializers.IntegerField()
    score = ScoreOutput()
