"""Form fields shared by the back office's forms."""

from __future__ import annotations

from django import forms
from django.db import models
from django.forms.fields import InvalidJSONInput

from installer.api.parsers import DEPTH_MESSAGE, json_problem


class CheckedJSONField(forms.JSONField):
    """Django's JSON form field that refuses, as a form error, what the API's JSON parser
    refuses (`installer.api.parsers`): text the database cannot store (NUL, lone surrogates),
    infinite numbers, and nesting deeper than MAX_JSON_DEPTH, which could otherwise exhaust
    the recursion limit while the value is parsed, shown again or saved."""

    def to_python(self, value):
        try:
            converted = super().to_python(value)
        except RecursionError:
            raise forms.ValidationError(DEPTH_MESSAGE, code="invalid") from None
        problem = json_problem(converted)
        if problem:
            path, message = problem
            where = "" if path == "nonFieldErrors" else f"{path}: "
            raise forms.ValidationError(f"{where}{message}", code="invalid")
        return converted

    def bound_data(self, data, initial):
        """The submitted value to show again; refused text is shown as it was typed."""
        try:
            value = super().bound_data(data, initial)
        except RecursionError:
            return InvalidJSONInput(data)
        if not isinstance(value, InvalidJSONInput) and json_problem(value):
            return InvalidJSONInput(data)
        return value


# `formfield_overrides` of an admin that edits JSON model fields.
JSON_FORMFIELD_OVERRIDES: dict = {models.JSONField: {"form_class": CheckedJSONField}}
