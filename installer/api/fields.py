"""Times in the API carry their UTC offset (`Z` or `+02:00`): a time without one is a 400, in a
body (`AwareDateTimeField`) and in a query (`AwareIsoDateTimeFilter`), never read as UTC or as
the server's zone."""

from __future__ import annotations

import datetime

import django_filters
from django import forms
from django.utils.dateparse import parse_datetime
from rest_framework import serializers

OFFSET_REQUIRED = "Give the time with its UTC offset, e.g. 2030-06-03T10:00:00+02:00 or 2030-06-03T08:00:00Z."


def _is_naive(value: object) -> bool:
    """A time without an offset; a bare date (`2030-06-03`) parses as one."""
    if isinstance(value, str):
        try:
            value = parse_datetime(value.strip())
        except ValueError:
            return False  # not a time at all: the field's own error says so
    return isinstance(value, datetime.datetime) and value.tzinfo is None


class AwareDateTimeField(serializers.DateTimeField):
    """An ISO 8601 time with its offset; without one (or a bare date): "Give the time with its
    UTC offset"."""

    default_error_messages = {"naive": OFFSET_REQUIRED}

    def to_internal_value(self, value):
        if _is_naive(value):
            self.fail("naive")
        return super().to_internal_value(value)


class AwareIsoDateTimeField(django_filters.fields.IsoDateTimeField):
    def to_python(self, value):
        if value not in self.empty_values and _is_naive(value):
            raise forms.ValidationError(OFFSET_REQUIRED, code="naive")
        return super().to_python(value)


class AwareIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    """`IsoDateTimeFilter` that refuses a time without its offset."""

    field_class = AwareIsoDateTimeField
