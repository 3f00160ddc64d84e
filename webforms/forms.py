"""The public form: HTML inputs built from a webform's fields. It only turns what the browser
sent into a Create Order body (types: numbers, dates, lists); whether the body is valid is
decided by webforms.services with the order rules the API uses, and those errors come back
beside their fields."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from orders.models import FieldType
from webforms.selectors import FieldSpec

HONEYPOT = "website"
NONCE = "submission"


def _with_prompt(prompt: Any, options: tuple[tuple[str, str], ...]) -> list[tuple[str, str]]:
    """A select's choices: an empty "choose" option, then the options."""
    return [("", prompt), *options]


class WebformOrderForm(forms.Form):
    # A field people never see (hidden by CSS, skipped by keyboard and screen readers); bots fill it.
    website = forms.CharField(
        required=False,
        label=_("Leave this field empty"),
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )
    # One id per rendering of the form: a second submit of the same page (double click, back
    # button) finds the order already made instead of making another one.
    submission = forms.UUIDField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, specs: list[FieldSpec], allow_photo: bool = False, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.specs = specs
        if not self.is_bound:
            self.initial.setdefault(NONCE, uuid.uuid4())
        for spec in specs:
            self.fields[spec.name] = self._field(spec)
        if allow_photo:
            self.fields["photo"] = forms.FileField(
                required=False,
                label=_("Photo (optional)"),
                help_text=_(
                    "A photo of the place, for example the wall or the fuse box. Images up to 10 MB. "
                    "If the form shows an error, choose the photo again."
                ),
                widget=forms.ClearableFileInput(attrs={"accept": "image/*"}),
            )

    @staticmethod
    def _field(spec: FieldSpec) -> forms.Field:
        common: dict[str, Any] = {"label": spec.label, "required": spec.required, "help_text": spec.help_text}
        attrs: dict[str, Any] = {}
        if spec.autocomplete:
            attrs["autocomplete"] = spec.autocomplete
        kind = spec.type
        if kind == "email":
            return forms.CharField(max_length=254, widget=forms.EmailInput(attrs=attrs), **common)
        if kind == "phone":
            attrs.update({"inputmode": "tel"})
            return forms.CharField(max_length=64, widget=forms.TextInput(attrs={**attrs, "type": "tel"}), **common)
        if kind == "country":
            return forms.ChoiceField(choices=_with_prompt(_("Choose a country"), spec.options), **common)
        if kind == "textarea":
            return forms.CharField(max_length=5000, widget=forms.Textarea(attrs={"rows": 4}), **common)
        if kind == FieldType.NUMBER:
            return forms.FloatField(widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}), **common)
        if kind == FieldType.BOOLEAN:
            # A checkbox cannot say "not answered": unchecked is an answer (false), as in the API.
            common["required"] = False
            return forms.BooleanField(**common)
        if kind == FieldType.DATE:
            return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), input_formats=["%Y-%m-%d"], **common)
        if kind == FieldType.SELECT:
            return forms.ChoiceField(choices=_with_prompt(_("Choose…"), spec.options), **common)
        if kind == FieldType.MULTISELECT:
            return forms.MultipleChoiceField(choices=spec.options, widget=forms.CheckboxSelectMultiple, **common)
        if spec.multiline:
            return forms.CharField(max_length=5000, widget=forms.Textarea(attrs={"rows": 4}), **common)
        return forms.CharField(
            max_length=300 if spec.definition is None else 5000, widget=forms.TextInput(attrs), **common
        )

    @property
    def is_spam(self) -> bool:
        return bool((self.data.get(HONEYPOT) or "").strip())

    def to_body(self) -> dict[str, Any]:
        """The Create Order body (wire names) for what was typed. Precondition: is_valid()."""
        body: dict[str, Any] = {}
        custom: list[dict[str, Any]] = []
        for spec in self.specs:
            value = self.cleaned_data.get(spec.name)
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            elif isinstance(value, datetime.date):
                value = value.isoformat()
            if spec.definition is None:
                if isinstance(value, str):
                    value = value.strip()
                if value not in (None, ""):
                    body[spec.key] = value
            elif spec.type == FieldType.BOOLEAN:
                custom.append({"customId": spec.custom_id, "value": bool(value)})
            elif value not in (None, "", []):
                custom.append({"customId": spec.custom_id, "value": value})
        if custom:
            body["customFields"] = custom
        return body

    def add_service_errors(self, details: dict[str, list[str]], *, only_where_clean: bool = False) -> None:
        """Puts each error of the order rules beside its field (by wire name), others on top.
        With `only_where_clean`, fields that already have an error keep just that one."""
        by_key = {spec.key: spec.name for spec in self.specs}
        for key, messages in details.items():
            name = by_key.get(key) or ("photo" if key in ("photo", "fileIds") and "photo" in self.fields else None)
            if name is not None and only_where_clean and name in self.errors:
                continue
            if name is None and only_where_clean:
                continue
            for message in messages:
                if name is not None:
                    if name in self.errors and message in self.errors[name]:
                        continue
                    self.add_error(name, message)
                else:
                    self.add_error(None, f"{key}: {message}")

    @property
    def nonce(self) -> str | None:
        value = self.cleaned_data.get(NONCE) if hasattr(self, "cleaned_data") else None
        return str(value) if value else None
