"""Client API bodies (input) and answers (output, for the schema)."""

from __future__ import annotations

from rest_framework import serializers

from installer.api.fields import AwareDateTimeField
from installer.api.serializers import RejectUnknownFields


class ClientBookingInput(RejectUnknownFields, serializers.Serializer):
    startAt = AwareDateTimeField(source="start_at")
    endAt = AwareDateTimeField(source="end_at")


class ClientRequestInput(RejectUnknownFields, serializers.Serializer):
    kind = serializers.ChoiceField(choices=["reschedule", "cancel"])
    message = serializers.CharField(required=False, allow_blank=True, max_length=2000, trim_whitespace=True)


class ClientNoteInput(RejectUnknownFields, serializers.Serializer):
    note = serializers.CharField(max_length=2000)


class ClientFileInput(serializers.Serializer):
    file = serializers.FileField(help_text="A photo (JPEG, PNG, GIF, WebP or HEIC).")


class ClientStepOutput(serializers.Serializer):
    id = serializers.CharField()
    key = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField(allow_null=True)
    status = serializers.IntegerField()
    statusName = serializers.CharField()
    actor = serializers.CharField()
    state = serializers.ChoiceField(choices=["completed", "current", "upcoming", "skipped"])
    bookable = serializers.BooleanField(help_text="The step through which the customer books.")


class ClientWorkflowOutput(serializers.Serializer):
    id = serializers.CharField()
    steps = ClientStepOutput(many=True)
    currentStepId = serializers.CharField(allow_null=True)


class ClientWorkflowListOutput(serializers.Serializer):
    values = ClientWorkflowOutput(many=True)
    count = serializers.IntegerField()


class ClientBookingOutput(serializers.Serializer):
    startAt = serializers.CharField()
    endAt = serializers.CharField()
    allDay = serializers.BooleanField()
    timeZone = serializers.CharField()
    icsUrl = serializers.CharField()


class ClientInstallerOutput(serializers.Serializer):
    name = serializers.CharField()
    phoneNumber = serializers.CharField(allow_null=True)


class ClientMessageOutput(serializers.Serializer):
    channel = serializers.CharField()
    subject = serializers.CharField()
    sentAt = serializers.CharField(allow_null=True)


class ClientProgressOutput(serializers.Serializer):
    completed = serializers.IntegerField()
    total = serializers.IntegerField()


class ClientOrderOutput(serializers.Serializer):
    displayId = serializers.CharField()
    status = serializers.IntegerField()
    statusName = serializers.CharField()
    statusTitle = serializers.CharField()
    statusText = serializers.CharField()
    workflowId = serializers.CharField()
    steps = ClientStepOutput(many=True)
    progress = ClientProgressOutput()
    booking = ClientBookingOutput(allow_null=True)
    installer = ClientInstallerOutput(allow_null=True)
    contactPersonName = serializers.CharField(allow_null=True)
    address = serializers.CharField()
    messages = ClientMessageOutput(many=True)
    allowedActions = serializers.ListField(child=serializers.CharField())
    timeZone = serializers.CharField()
    createdAt = serializers.CharField()


class ClientSlotOutput(serializers.Serializer):
    startAt = serializers.CharField()
    endAt = serializers.CharField()


class ClientSlotListOutput(serializers.Serializer):
    values = ClientSlotOutput(many=True)
    count = serializers.IntegerField()
    workflowStepId = serializers.CharField(allow_null=True)
    timeZone = serializers.CharField()


class ClientFileOutput(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    contentType = serializers.CharField()
    size = serializers.IntegerField()
