"""OpenAPI generation tweaks that every API view gets (settings DEFAULT_SCHEMA_CLASS), so
endpoints added later are documented the same way without repeating anything."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers

# Answers any API operation may give besides its own, in the error shape.
COMMON_ERRORS = {
    "429": "Too many requests for this token (Retry-After says when to retry).",
    "503": "The database is unavailable; retry shortly (Retry-After).",
}


class ErrorOutput(serializers.Serializer):
    """The error shape of every API error (installer.api.exceptions)."""

    error = serializers.CharField()
    message = serializers.CharField()
    statusCode = serializers.IntegerField()
    details = serializers.DictField(required=False)
    retryAfter = serializers.IntegerField(required=False, help_text="429 and 503: seconds to wait before retrying.")


class ApiAutoSchema(AutoSchema):
    def _is_list_view(self, serializer=None) -> bool:
        """Our lists answer an envelope (`{"values": [...], "count": N}`), documented by their
        `...ListOutput` serializer: a `list` action's response is never wrapped in an array.
        The action name still gives list operations their `..._list` operationId."""
        if getattr(self, "_naming_operation", False):
            return getattr(self.view, "action", None) == "list"
        return False

    def get_operation_id(self) -> str:
        self._naming_operation = True
        try:
            return super().get_operation_id()
        finally:
            self._naming_operation = False

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction == "response" and self.path.startswith("/api/v1/"):
            for code, description in COMMON_ERRORS.items():
                if code not in responses:
                    responses[code] = self._get_response_for_code(ErrorOutput, code, direction=direction)
                    responses[code]["description"] = description
            if self.method in ("POST", "PUT", "PATCH", "DELETE") and "422" not in responses:
                responses["422"] = self._get_response_for_code(ErrorOutput, "422", direction=direction)
                responses["422"]["description"] = "The Idempotency-Key was used with a different request."
        return responses


class RejectUnknownFieldsExtension(OpenApiSerializerExtension):
    """Inputs that refuse unknown keys (`installer.api.serializers.RejectUnknownFields`) say so:
    `additionalProperties: false`."""

    target_class = "installer.api.serializers.RejectUnknownFields"
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        # `self.target` (not the class): a PATCH body's serializer is partial.
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        return {**schema, "additionalProperties": False}
