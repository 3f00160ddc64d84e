"""The coverage checker at /admin/coverage-check/: a postal code (and optionally coordinates)
and a workflow in, the dispatch preview out: which partners a dispatch by the routing strategy
would offer such an order to, in which order, and why every other partner would not. The rules
are dispatch's own (`dispatch.selectors.subject_preview`, the function behind an order's
dispatch preview); nothing is written.

A GET form: `workflow` (one of the user's organizations' workflows), `country` (ISO alpha-2;
defaults to the country of most of the organizations' coverage rules), `postal_code`,
`latitude` and `longitude` (both or neither). Bad input is a 400 page with the errors.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from django.template.response import TemplateResponse

from accounts.admin_base import readable_org_ids
from dispatch import coverage
from dispatch import selectors as dispatch_selectors
from orders.models import Workflow

WORKFLOWS_LIMIT = 500


class WorkflowChoiceField(forms.ModelChoiceField):
    """A workflow named with its organization's name when the user has several."""

    with_organization = False

    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.organization.name} – {obj.name}" if self.with_organization else str(obj.name)


class CoverageCheckForm(forms.Form):
    workflow = WorkflowChoiceField(queryset=Workflow.objects.none(), empty_label=None)
    country = forms.CharField(max_length=2, min_length=2, label="Country (ISO code)")
    postal_code = forms.CharField(max_length=40, label="Postal code", required=False)
    latitude = forms.FloatField(required=False, min_value=-90, max_value=90)
    longitude = forms.FloatField(required=False, min_value=-180, max_value=180)

    def __init__(self, *args: Any, workflows, show_organization: bool, **kwargs: Any):
        super().__init__(*args, **kwargs)
        field = self.fields["workflow"]
        assert isinstance(field, WorkflowChoiceField)
        field.queryset = workflows
        field.with_organization = show_organization

    def clean_country(self) -> str:
        value = self.cleaned_data["country"].strip().upper()
        if not value.isalpha():
            raise forms.ValidationError("A country is two letters (NO, SE, ...).")
        return value

    def clean_postal_code(self) -> str:
        value = self.cleaned_data.get("postal_code") or ""
        error = coverage.postal_code_error(value)
        if error:
            raise forms.ValidationError(error)
        return value.strip()

    def clean(self):
        data = super().clean()
        if (data.get("latitude") is None) != (data.get("longitude") is None):
            self.add_error("longitude", "Give both latitude and longitude, or neither.")
        return data


def checker_workflows(request: HttpRequest):
    """The workflows of the organizations the user may read (a superuser: every one), active
    first, by organization and name."""
    org_ids = readable_org_ids(request)
    qs = Workflow.objects.select_related("organization").filter(organization__test_installer_for__isnull=True)
    if org_ids is not None:
        qs = qs.filter(organization__in=org_ids)
    return qs.order_by("-active", "organization__name", "name", "id")


def coverage_check_view(request: HttpRequest) -> TemplateResponse:
    org_ids = readable_org_ids(request)
    workflows = checker_workflows(request)
    workflow_list = list(workflows[:WORKFLOWS_LIMIT])
    show_organization = len({w.organization_id for w in workflow_list}) > 1
    countries = dispatch_selectors.coverage_countries(org_ids)
    submitted = bool(request.GET)
    initial = {"country": countries[0] if countries else ""}
    if workflow_list:
        initial["workflow"] = next((w.pk for w in workflow_list if w.is_default), workflow_list[0].pk)
    form = CoverageCheckForm(
        request.GET if submitted else None, initial=initial, workflows=workflows, show_organization=show_organization
    )
    preview = None
    subject = None
    status = 200
    if submitted:
        if form.is_valid():
            data = form.cleaned_data
            workflow = data["workflow"]
            subject = dispatch_selectors.DispatchSubject(
                organization=workflow.organization,
                workflow=workflow,
                country_code=data["country"],
                postal_code=data["postal_code"],
                latitude=data.get("latitude"),
                longitude=data.get("longitude"),
            )
            preview = dispatch_selectors.subject_preview(subject)
        else:
            status = 400
    context = {
        **admin.site.each_context(request),
        "title": "Coverage checker",
        "form": form,
        "preview": preview,
        "subject": subject,
        "countries": countries,
        "no_workflows": not workflow_list,
    }
    return TemplateResponse(request, "backoffice/coverage_check.html", context, status=status)
