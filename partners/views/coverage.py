"""Coverage and capacity, read-only: each router the partner works for, and what it set; and the
partner's own working week (the hours customers book appointments in), which its admins and
dispatchers change here."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from dispatch.models import CoverageKind
from partners import selectors
from partners.forms import WorkingWeekForm
from partners.workspace import Workspace, forbidden, partner_view
from portal import selectors as portal_selectors
from portal import services as portal_services


def area_text(area) -> str:
    if area.kind == CoverageKind.RADIUS:
        return _("%(km)s km around your base") % {"km": f"{area.radius_km:g}"}
    if area.kind == CoverageKind.RANGE:
        return f"{area.country_code} {area.value}–{area.value_to}"
    if area.kind == CoverageKind.PREFIX:
        return f"{area.country_code} {area.value.rstrip('*')}*"
    return f"{area.country_code} {area.value}"


@require_GET
@partner_view
def coverage(request: HttpRequest) -> HttpResponse:
    ws: Workspace = request.workspace  # type: ignore[attr-defined]
    rows = [
        {
            "partnership": p,
            "areas": [{"kind": a.kind, "text": area_text(a)} for a in p.coverage.all()],
        }
        for p in selectors.partnerships_of(ws.organization)
    ]
    week = portal_selectors.week_of(ws.organization.pk)
    return _page(request, ws, rows, WorkingWeekForm(week=week))


def _page(
    request: HttpRequest, ws: Workspace, rows: list | None, form: WorkingWeekForm, status: int = 200
) -> HttpResponse:
    if rows is None:
        rows = [
            {"partnership": p, "areas": [{"kind": a.kind, "text": area_text(a)} for a in p.coverage.all()]}
            for p in selectors.partnerships_of(ws.organization)
        ]
    context = {"ws": ws, "rows": rows, "nav": "coverage", "hours_form": form}
    return render(request, "partners/coverage.html", context, status=status)


@require_POST
@partner_view
def working_hours(request: HttpRequest) -> HttpResponse:
    ws: Workspace = request.workspace  # type: ignore[attr-defined]
    if not ws.can_write:
        return forbidden(request, _("Working hours are set by your company's admin or dispatcher."))
    form = WorkingWeekForm(request.POST, week=portal_selectors.week_of(ws.organization.pk))
    if not form.is_valid():
        return _page(request, ws, None, form, status=400)
    portal_services.working_hours_set(installer_id=ws.organization.pk, week=form.cleaned_data["week"])
    messages.success(request, _("Working hours saved."))
    return redirect("partners:coverage")
