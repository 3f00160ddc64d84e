"""Webform API shapes. Input is the Create Order body (orders.api.serializers.OrderCreateInput),
validated by webforms.services; these serializers document the output for the schema."""

from __future__ import annotations

from rest_framework import serializers


class WebformFieldOutput(serializers.Serializer):
    key = serializers.CharField(help_text="Wire name: a Create Order field, or customFields.<customId>.")
    # Wire names that are also attributes of DRF's Field and Serializer classes.
    label = serializers.CharField()  # type: ignore[assignment]
    type = serializers.CharField(
        help_text="text, email, phone, country, textarea, or a custom field type "
        "(text, number, boolean, date, select, multiselect)."
    )
    required = serializers.BooleanField()  # type: ignore[assignment]
    options = serializers.ListField(child=serializers.CharField())


class WebformOutput(serializers.Serializer):
    id = serializers.UUIDField()
    slug = serializers.CharField()
    name = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    workflowId = serializers.UUIDField()
    fields = WebformFieldOutput(many=True)  # type: ignore[assignment]  # a wire name, as above
    defaultCountryCode = serializers.CharField(allow_null=True)
    allowPhoto = serializers.BooleanField()
    publicUrl = serializers.URLField()
    active = serializers.BooleanField()
