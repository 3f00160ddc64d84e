"""Input and output shapes of `/workflows/{id}/notifications` (inputs are checked again by
services: templates in the sandbox, the step of the workflow, the webhook URL's host)."""

from rest_framework import serializers

from installer.api.serializers import RejectUnknownFields
from notifications.models import TRIGGER_EVENTS, Channel, OffsetUnit, Timing, WebhookMethod


class NotificationWebhookInput(serializers.Serializer):
    url = serializers.CharField(max_length=2000)
    method = serializers.ChoiceField(choices=WebhookMethod.values, required=False, default=WebhookMethod.POST)
    headers = serializers.DictField(child=serializers.CharField(allow_blank=True, max_length=2000), required=False)


class NotificationTemplateInput(serializers.Serializer):
    subject = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)
    body = serializers.CharField(allow_blank=False, max_length=20000, trim_whitespace=False)


class NotificationFields(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    active = serializers.BooleanField(required=False, default=True)
    trigger = serializers.ChoiceField(choices=TRIGGER_EVENTS, source="trigger_event")
    stepKey = serializers.CharField(required=False, allow_null=True, max_length=64, default=None)
    timing = serializers.ChoiceField(choices=Timing.values, required=False, default=Timing.ON_CHANGE)
    offset = serializers.IntegerField(
        required=False, default=0, min_value=0, max_value=8760, source="offset_value", help_text="N of the timing."
    )
    offsetUnit = serializers.ChoiceField(
        choices=OffsetUnit.values, required=False, default=OffsetUnit.HOURS, source="offset_unit"
    )
    channel = serializers.ChoiceField(choices=Channel.values)
    webhook = NotificationWebhookInput(required=False, allow_null=True, default=None)
    templates = serializers.DictField(
        child=NotificationTemplateInput(), help_text='Per language (en, nb): {"en": {"subject": "...", "body": "..."}}.'
    )
    attachIcs = serializers.BooleanField(required=False, default=False, source="attach_ics")


class NotificationCreateInput(NotificationFields):
    pass


class NotificationUpdateInput(RejectUnknownFields, NotificationFields):
    pass


class NotificationWebhookOutput(serializers.Serializer):
    url = serializers.CharField()
    method = serializers.CharField()
    headers = serializers.DictField(child=serializers.CharField())


class NotificationOutput(serializers.Serializer):
    id = serializers.UUIDField()
    workflowId = serializers.UUIDField()
    name = serializers.CharField()
    active = serializers.BooleanField()
    trigger = serializers.CharField()
    stepKey = serializers.CharField(allow_null=True)
    timing = serializers.CharField()
    offset = serializers.IntegerField()
    offsetUnit = serializers.CharField()
    channel = serializers.CharField()
    webhook = NotificationWebhookOutput(allow_null=True)
    templates = serializers.DictField()
    attachIcs = serializers.BooleanField()
    createdAt = serializers.DateTimeField()
    updatedAt = serializers.DateTimeField()


class NotificationListOutput(serializers.Serializer):
    values = NotificationOutput(many=True)
    count = serializers.IntegerField(required=False)
    nextCursor = serializers.CharField(required=False, allow_null=True)
