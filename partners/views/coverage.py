"""Coverage and capacity, read-only: each router the partner works for, and what it set."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from dispatch.models import CoverageKind
from partners import selectors
from partners.workspace import Workspace, partner_view


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
    return render(request, "partners/coverage.html", {"ws": ws, "rows": rows, "nav": "coverage"})
