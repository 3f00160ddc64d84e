"""Public webforms: a router's form that customers fill in to request an installation.

A webform belongs to a router organization and one of its workflows. Which standard order
fields it shows, and which custom fields of the workflow, are plain JSON on the row; the rules
that make a submission valid are the order rules (orders.validation, orders.services), the
same ones the API applies.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization
from orders.models import OrderTag, Workflow


class FieldMode(models.TextChoices):
    HIDDEN = "hidden", "Hidden"
    OPTIONAL = "optional", "Optional"
    REQUIRED = "required", "Required"


# Standard order fields a webform may show, by wire name: (label, input type, can be hidden,
# can be optional, default mode). The order itself requires the customer, address and contact
# fields, so they are always shown and required; the country may be hidden when the webform
# has a default country.
STANDARD_FIELDS: dict[str, dict] = {
    "contactPersonName": {"label": _("Your name"), "type": "text", "fixed": True, "autocomplete": "name"},
    "email": {"label": _("Email"), "type": "email", "fixed": True, "autocomplete": "email"},
    "phoneNumber": {"label": _("Phone number"), "type": "phone", "fixed": True, "autocomplete": "tel"},
    "address": {"label": _("Street address"), "type": "text", "fixed": True, "autocomplete": "street-address"},
    "postalCode": {"label": _("Postal code"), "type": "text", "fixed": True, "autocomplete": "postal-code"},
    "city": {"label": _("City"), "type": "text", "fixed": True, "autocomplete": "address-level2"},
    "countryCode": {"label": _("Country"), "type": "country", "fixed": False, "default": FieldMode.REQUIRED},
    "workplace": {"label": _("Company or site name"), "type": "text", "fixed": False, "default": FieldMode.HIDDEN},
    "description": {
        "label": _("What should be done?"),
        "type": "textarea",
        "fixed": False,
        "default": FieldMode.OPTIONAL,
    },
}

# Wire name -> the snake_case name used inside (order fields and the HTML form's input names).
SNAKE = {
    "contactPersonName": "contact_person_name",
    "email": "email",
    "phoneNumber": "phone_number",
    "address": "address",
    "postalCode": "postal_code",
    "city": "city",
    "countryCode": "country_code",
    "workplace": "workplace",
    "description": "description",
}


def default_standard_fields() -> dict:
    return {key: str(spec["default"]) for key, spec in STANDARD_FIELDS.items() if not spec["fixed"]}


class WebformQuerySet(models.QuerySet):
    def for_organization(self, organization: Organization) -> WebformQuerySet:
        return self.filter(organization=organization)


class Webform(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="webforms")
    workflow = models.ForeignKey(Workflow, on_delete=models.PROTECT, related_name="webforms")
    slug = models.SlugField(max_length=80, unique=True, help_text="Part of the public address /f/<slug>/.")
    name = models.CharField(max_length=200, help_text="Internal name, for operators.")
    title = models.CharField(max_length=200, help_text="Heading customers see.")
    intro = models.TextField(blank=True, help_text="Text above the form.")
    standard_fields = models.JSONField(
        default=default_standard_fields,
        blank=True,
        help_text='Optional standard fields: {"countryCode": "required", "workplace": "hidden", '
        '"description": "optional"}; each "hidden", "optional" or "required".',
    )
    default_country_code = models.CharField(
        max_length=2, blank=True, help_text="Pre-selected country; used when the country field is hidden."
    )
    custom_fields_shown = models.JSONField(
        null=True, blank=True, help_text="customIds of the workflow's custom fields to show; empty = all of them."
    )
    custom_fields_required = models.JSONField(
        default=list,
        blank=True,
        help_text="customIds required on this form, besides those the workflow already requires.",
    )
    multiline_fields = models.JSONField(
        default=list, blank=True, help_text="customIds of text fields shown as a multi-line box."
    )
    allow_photo = models.BooleanField(default=False, help_text="Offer an optional photo upload (images, 10 MB).")
    default_tags = models.ManyToManyField(OrderTag, blank=True, related_name="webforms")
    success_text = models.TextField(
        blank=True, help_text="Shown after a submission: what happens next. A sensible default is used when empty."
    )
    active = models.BooleanField(default=True, help_text="Inactive forms answer 'not accepting requests'.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = WebformQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["organization", "name"], name="webform_org_name_idx")]

    def __str__(self) -> str:
        return self.name or self.title

    @property
    def public_url(self) -> str:
        return f"{settings.PUBLIC_BASE_URL}/f/{self.slug}/"

    def standard_mode(self, key: str) -> str:
        spec = STANDARD_FIELDS[key]
        if spec["fixed"]:
            return FieldMode.REQUIRED
        mode = (self.standard_fields or {}).get(key, spec["default"])
        return mode if mode in FieldMode.values else str(spec["default"])

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        if self.workflow_id and self.organization_id and self.workflow.organization_id != self.organization_id:
            errors.setdefault("workflow", []).append("The workflow belongs to another organization.")
        config = self.standard_fields or {}
        if not isinstance(config, dict):
            errors.setdefault("standard_fields", []).append("Must be an object of field name to mode.")
        else:
            for key, mode in config.items():
                if key not in STANDARD_FIELDS:
                    errors.setdefault("standard_fields", []).append(f"Unknown field '{key}'.")
                elif STANDARD_FIELDS[key]["fixed"] and mode != FieldMode.REQUIRED:
                    errors.setdefault("standard_fields", []).append(f"'{key}' is always shown and required.")
                elif mode not in FieldMode.values:
                    errors.setdefault("standard_fields", []).append(f"'{key}': use hidden, optional or required.")
        if self.default_country_code:
            from orders.validation import normalize_country

            try:
                self.default_country_code = normalize_country(self.default_country_code)
            except ValueError as exc:
                errors.setdefault("default_country_code", []).append(str(exc))
        if isinstance(config, dict) and config.get("countryCode") == FieldMode.HIDDEN and not self.default_country_code:
            errors.setdefault("default_country_code", []).append("Needed when the country field is hidden.")
        if self.workflow_id:
            definitions = {d.custom_id: d for d in self.workflow.custom_fields.all()}
            for name in ("custom_fields_shown", "custom_fields_required", "multiline_fields"):
                value = getattr(self, name)
                if value is None and name == "custom_fields_shown":
                    continue
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    errors.setdefault(name, []).append("Must be a list of custom field ids.")
                    continue
                unknown = [v for v in value if v not in definitions]
                if unknown:
                    errors.setdefault(name, []).append(f"Not fields of the workflow: {', '.join(unknown)}.")
            shown = self.custom_fields_shown
            if isinstance(shown, list):
                hidden_required = [cid for cid, d in definitions.items() if d.required and cid not in shown]
                if hidden_required:
                    errors.setdefault("custom_fields_shown", []).append(
                        f"The workflow requires these, so they must be shown: {', '.join(hidden_required)}."
                    )
                not_shown = [cid for cid in self.custom_fields_required or [] if cid not in shown]
                if not_shown:
                    errors.setdefault("custom_fields_required", []).append(
                        f"Required but not shown: {', '.join(not_shown)}."
                    )
        if errors:
            raise ValidationError(errors)
