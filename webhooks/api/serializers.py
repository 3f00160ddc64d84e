"""Input and output shapes of the webhook endpoints API (inputs are checked again by services)."""

from rest_framework import serializers

from installer.api.serializers import RejectUnknownFields
from webhooks.models import WEBHOOK_EVENTS


class WebhookCreateInput(serializers.Serializer):
    url = serializers.CharField(max_length=2000)
    events = serializers.ListField(child=serializers.ChoiceField(choices=WEBHOOK_EVENTS), required=False)
    active = serializers.BooleanField(required=False, default=True)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class WebhookUpdateInput(RejectUnknownFields):
    url = serializers.CharField(max_length=2000, required=False)
    events = serializers.ListField(child=serializers.ChoiceField(choices=WEBHOOK_EVENTS), required=False)
    active = serializers.BooleanField(required=False)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)


class WebhookOutput(serializers.Serializer):
    id = serializers.UUIDField()
    url = serializers.CharField()
    description = serializers.CharField()
    events = serializers.ListField(child=serializers.CharField(), help_text="Empty = every event.")
    active = serializers.BooleanField()
    disabledReason = serializers.CharField(allow_null=True)
    failingSince = serializers.DateTimeField(allow_null=True)
    secretRotatedAt = serializers.DateTimeField(allow_null=True)
    createdAt = serializers.DateTimeField()
    updatedAt = serializers.DateTimeField()


class WebhookWithSecretOutput(WebhookOutput):
    secret = serializers.CharField(help_text="whsec_<base64>; shown only in this answer.")


class WebhookListOutput(serializers.Serializer):
    values = WebhookOutput(many=True)
    count = serializers.IntegerField(required=False, help_text="Absent when paging with `cursor`.")
    nextCursor = serializers.CharField(required=False, allow_null=True)


class DeliveryOutput(serializers.Serializer):
    id = serializers.UUIDField()
    eventId = serializers.UUIDField(allow_null=True)
    event = serializers.CharField()
    status = serializers.CharField()
    attempts = serializers.IntegerField()
    nextAttemptAt = serializers.DateTimeField(allow_null=True)
    lastStatusCode = serializers.IntegerField(allow_null=True)
    lastError = serializers.CharField(allow_null=True)
    deliveredAt = serializers.DateTimeField(allow_null=True)
    createdAt = serializers.DateTimeField()


class DeliveryListOutput(serializers.Serializer):
    values = DeliveryOutput(many=True)
    count = serializers.IntegerField(required=False, help_text="Absent when paging with `cursor`.")
    nextCursor = serializers.CharField(required=False, allow_null=True)
