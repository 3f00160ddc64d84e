"""Serializer behaviour shared by the apps' API inputs."""

from __future__ import annotations

from rest_framework import serializers


class RejectUnknownFields(serializers.Serializer):
    """An input whose unknown keys are a 400 naming them, for partial updates: a PATCH that
    answered 200 while ignoring a field (`status`, a misspelt name) would tell the client that
    it had been saved."""

    def validate(self, attrs):
        attrs = super().validate(attrs)
        data = self.initial_data
        unknown = [key for key in data if key not in self.fields] if isinstance(data, dict) else []
        if unknown:
            known = ", ".join(self.fields)
            raise serializers.ValidationError({key: [f"Unknown field; this request takes {known}."] for key in unknown})
        return attrs


class TextField(serializers.CharField):
    """A CharField that takes only a JSON string: 0 or true is a 400, not the text "0"."""

    default_error_messages = {"not_text": "Must be a string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_text")
        return super().to_internal_value(data)
