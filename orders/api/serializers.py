"""Input serializers (camelCase on the wire, snake_case inside) and documentation-only output
serializers for the schema. Output is built by `orders.api.presenters.order_to_dict`."""

from __future__ import annotations

from rest_framework import serializers

from accounts.models import Language
from installer.api.serializers import RejectUnknownFields, TextField
from orders.models import CancelReason
from orders.validation import normalize_country, normalize_phone


class DescriptionField(serializers.JSONField):
    """Plain text, or a rich-text document {"type": "doc", "content": [...]}."""

    def to_internal_value(self, data):
        if data is None or isinstance(data, str):
            if isinstance(data, str) and len(data) > 20000:
                raise serializers.ValidationError("At most 20000 characters.")
            return data
        if isinstance(data, dict) and data.get("type") == "doc" and isinstance(data.get("content", []), list):
            return data
        raise serializers.ValidationError('Must be text or a rich-text document {"type": "doc", "content": [...]}.')


class CustomFieldValueInput(serializers.Serializer):
    customId = serializers.CharField(required=False, max_length=100)
    id = serializers.CharField(required=False, max_length=100)
    value = serializers.JSONField(allow_null=True)

    def validate(self, attrs):
        if not attrs.get("customId") and not attrs.get("id"):
            raise serializers.ValidationError({"customId": ["Give customId or id."]})
        return attrs


class ActorAssignmentInput(serializers.Serializer):
    actorSlug = serializers.CharField(max_length=64)
    organizationId = serializers.UUIDField()


def _required_text(max_length: int, **kwargs):
    return serializers.CharField(max_length=max_length, trim_whitespace=True, **kwargs)


class OrderFieldsInput(serializers.Serializer):
    """The standard order fields and their rules, shared by create, update and webforms."""

    name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    description = DescriptionField(required=False, allow_null=True)
    workplace = serializers.CharField(max_length=200, required=False, allow_blank=True)
    address = _required_text(300)
    city = _required_text(120)
    postalCode = _required_text(20, source="postal_code")
    countryCode = serializers.CharField(max_length=64, source="country_code")
    latitude = serializers.FloatField(required=False, allow_null=True, min_value=-90, max_value=90)
    longitude = serializers.FloatField(required=False, allow_null=True, min_value=-180, max_value=180)
    email = serializers.EmailField(max_length=254)
    phoneNumber = serializers.CharField(max_length=64, source="phone_number")
    contactPersonName = _required_text(200, source="contact_person_name")
    metadata = serializers.DictField(required=False)
    customFields = CustomFieldValueInput(many=True, required=False, source="custom_fields")

    def validate_countryCode(self, value):
        try:
            return normalize_country(value)
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from None

    def validate(self, attrs):
        if "phone_number" in attrs:
            country = attrs.get("country_code") or self.context.get("country_code")
            try:
                attrs["phone_number"] = normalize_phone(attrs["phone_number"], country)
            except ValueError as exc:
                raise serializers.ValidationError({"phoneNumber": [str(exc)]}) from None
        return attrs


class OrderCreateInput(OrderFieldsInput):
    fileIds = serializers.ListField(child=serializers.UUIDField(), required=False, source="file_ids", max_length=100)
    orderTagIds = serializers.ListField(
        child=serializers.UUIDField(), required=False, source="order_tag_ids", max_length=100
    )
    workflowId = serializers.UUIDField(required=False, allow_null=True, source="workflow_id")
    workflowCustomId = serializers.CharField(
        required=False, allow_null=True, max_length=100, source="workflow_custom_id"
    )
    idempotencyKey = serializers.CharField(required=False, allow_null=True, max_length=255, source="idempotency_key")
    actorAssignments = ActorAssignmentInput(many=True, required=False, source="actor_assignments")
    language = serializers.ChoiceField(
        choices=Language.values,
        required=False,
        allow_null=True,
        help_text="The customer's language for messages and pages: en or nb. Absent: the organization's.",
    )

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if attrs.get("actor_assignments"):
            attrs["actor_assignments"] = [
                {"actorSlug": a["actorSlug"], "organizationId": str(a["organizationId"])}
                for a in attrs["actor_assignments"]
            ]
        return attrs


class OrderUpdateInput(RejectUnknownFields, OrderFieldsInput):
    fileIds = serializers.ListField(child=serializers.UUIDField(), required=False, source="file_ids", max_length=100)


class FileUploadInput(serializers.Serializer):
    file = serializers.FileField(help_text="The file (multipart). Its type is judged by its content.")
    orderId = serializers.UUIDField(required=False, source="order_id", help_text="Attach to this order of yours.")

    def validate(self, attrs):
        # DRF reads an empty form value of an optional field as absent; it is no uuid.
        if self.initial_data.get("orderId") == "":
            raise serializers.ValidationError({"orderId": ["Must not be empty: give an order id or leave it out."]})
        return attrs


class CancelInput(serializers.Serializer):
    # Lengths count what the client sent, as the schema's maxLength does; surrounding
    # whitespace is dropped after that check (trimming first let 2001 characters through).
    reason = serializers.CharField(
        required=False,
        allow_null=True,
        max_length=500,
        trim_whitespace=False,
        help_text=f"One of {', '.join(CancelReason.values)}, or a sentence (kept as the comment).",
    )
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000, trim_whitespace=False)

    def validate_reason(self, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise serializers.ValidationError("This field may not be blank.")
        return value.strip() if value is not None else None

    def validate_comment(self, value: str) -> str:
        return value.strip()


_TAG_NAME = {"type": "string", "minLength": 1, "maxLength": 100, "pattern": r"\S"}
# The one body of Create Order Tags, as `TagCreateInput` takes it: `name`, `names` or both.
TAG_CREATE_BODY = {
    "type": "object",
    "properties": {
        "name": _TAG_NAME,
        "names": {"type": "array", "items": _TAG_NAME, "minItems": 1, "maxItems": 100},
    },
    "anyOf": [{"required": ["name"]}, {"required": ["names"]}],
}


class TagCreateInput(serializers.Serializer):
    name = TextField(required=False, max_length=100)
    names = serializers.ListField(child=TextField(max_length=100), required=False, min_length=1, max_length=100)

    def validate(self, attrs):
        names = list(attrs.get("names") or [])
        if attrs.get("name"):
            names.insert(0, attrs["name"])
        names = [n.strip() for n in names if n and n.strip()]
        if not names:
            raise serializers.ValidationError({"names": ['Give "name" or a non-empty list "names".']})
        attrs["all_names"] = list(dict.fromkeys(names))
        return attrs


# ---- Output shapes, for the schema ------------------------------------------------------------


class IdNameOutput(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()


class AssigneeOutput(serializers.Serializer):
    id = serializers.CharField(help_text="The user's id.")
    name = serializers.CharField(help_text="The user's full name, else the username.")


class TagOutput(IdNameOutput):
    color = serializers.CharField()


class FileRefOutput(IdNameOutput):
    contentType = serializers.CharField()
    size = serializers.IntegerField()


class FileOutput(serializers.Serializer):
    id = serializers.UUIDField()
    fileId = serializers.UUIDField()
    name = serializers.CharField()
    contentType = serializers.CharField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField()
    orderId = serializers.UUIDField(allow_null=True)
    createdAt = serializers.DateTimeField()


class StepRefOutput(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    required = serializers.BooleanField()  # type: ignore[assignment]  # a wire name that DRF uses too


class CustomFieldOutput(serializers.Serializer):
    id = serializers.UUIDField()
    customId = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a wire name that DRF uses too
    type = serializers.CharField()
    value = serializers.JSONField(allow_null=True)


class BookingOutput(serializers.Serializer):
    startAt = serializers.DateTimeField()
    endAt = serializers.DateTimeField()
    allDay = serializers.BooleanField()


class OrderOutput(serializers.Serializer):
    id = serializers.UUIDField()
    displayId = serializers.CharField()
    name = serializers.CharField()
    description = serializers.JSONField(allow_null=True)
    workplace = serializers.CharField()
    address = serializers.CharField(allow_null=True)
    city = serializers.CharField()
    postalCode = serializers.CharField()
    countryCode = serializers.CharField()
    latitude = serializers.FloatField(allow_null=True)
    longitude = serializers.FloatField(allow_null=True)
    email = serializers.CharField(allow_null=True)
    phoneNumber = serializers.CharField(allow_null=True)
    contactPersonName = serializers.CharField(allow_null=True)
    status = serializers.IntegerField()
    statusName = serializers.CharField()
    workflowId = serializers.UUIDField()
    workflowCustomId = serializers.CharField()
    currentStep = StepRefOutput(allow_null=True)
    customFields = CustomFieldOutput(many=True)
    metadata = serializers.DictField()
    tags = IdNameOutput(many=True)
    files = FileRefOutput(many=True)
    installer = IdNameOutput(allow_null=True)
    assignee = AssigneeOutput(
        allow_null=True,
        help_text="The installer's person on the job; null for an installer that is not the order's installer.",
    )
    booking = BookingOutput(allow_null=True)
    source = serializers.CharField()  # type: ignore[assignment]  # a wire name that DRF uses too
    language = serializers.CharField(help_text="en or nb: the language of the customer's messages.")
    quoteStatus = serializers.ChoiceField(
        choices=["accepted", "sent", "draft", "rejected", "withdrawn"],
        allow_null=True,
        help_text="Where the order's quotes stand (docs/money.md); null without quotes.",
    )
    invoiceStatus = serializers.ChoiceField(
        choices=["not_invoiced", "invoiced", "credited"], help_text="docs/invoicing.md"
    )
    webformId = serializers.UUIDField(allow_null=True)
    allowedActions = serializers.ListField(child=serializers.CharField())
    clientUrl = serializers.URLField(
        allow_null=True, help_text="The customer's tracking page; null for an installer until it is assigned."
    )
    cancelReason = serializers.CharField(allow_null=True)
    test = serializers.BooleanField(help_text="Made with a test-mode token.")
    createdAt = serializers.DateTimeField()
    updatedAt = serializers.DateTimeField()


class OrderCreatedOutput(OrderOutput):
    value = serializers.UUIDField()


class OrderListOutput(serializers.Serializer):
    values = OrderOutput(many=True)
    count = serializers.IntegerField(required=False)
    nextCursor = serializers.CharField(required=False, allow_null=True)


class ActorOutput(serializers.Serializer):
    type = serializers.CharField(help_text='An installer reads the router\'s actors as "router".')
    id = serializers.CharField(allow_null=True)
    label = serializers.CharField()  # type: ignore[assignment]  # a wire name that DRF uses too


class EventOutput(serializers.Serializer):
    id = serializers.UUIDField()
    sequence = serializers.IntegerField()
    type = serializers.CharField()
    fromStatus = serializers.IntegerField(allow_null=True)
    toStatus = serializers.IntegerField(allow_null=True)
    actor = ActorOutput()
    data = serializers.DictField()  # type: ignore[assignment]  # a wire name that DRF uses too
    requestId = serializers.CharField(allow_null=True)
    createdAt = serializers.DateTimeField()


class EventListOutput(serializers.Serializer):
    values = EventOutput(many=True)
    count = serializers.IntegerField()


class TagListOutput(serializers.Serializer):
    values = TagOutput(many=True)
    count = serializers.IntegerField()


class TagsOfOrderOutput(serializers.Serializer):
    values = IdNameOutput(many=True)
    count = serializers.IntegerField()


class WorkflowStepOutput(serializers.Serializer):
    key = serializers.CharField()
    title = serializers.CharField()
    status = serializers.IntegerField()
    statusName = serializers.CharField()
    actor = serializers.CharField()
    required = serializers.BooleanField()  # type: ignore[assignment]  # a wire name that DRF uses too
    descriptions = serializers.DictField()


class CustomFieldDefinitionOutput(serializers.Serializer):
    id = serializers.UUIDField()
    customId = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a wire name that DRF uses too
    type = serializers.CharField()
    required = serializers.BooleanField()  # type: ignore[assignment]  # a wire name that DRF uses too
    options = serializers.ListField()
    helpText = serializers.CharField()


class WorkflowOutput(serializers.Serializer):
    id = serializers.UUIDField()
    customId = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField()
    active = serializers.BooleanField()
    isDefault = serializers.BooleanField()
    steps = WorkflowStepOutput(many=True)
    customFields = CustomFieldDefinitionOutput(many=True)


class WorkflowListOutput(serializers.Serializer):
    values = WorkflowOutput(many=True)
    count = serializers.IntegerField()


class OrganizationRefOutput(IdNameOutput):
    slug = serializers.CharField()


class MeOutput(serializers.Serializer):
    organization = OrganizationRefOutput()
    role = serializers.ChoiceField(choices=["admin", "operator", "viewer"])
    tokenName = serializers.CharField()
