"""The back office's calendar at /admin/calendar/: one organization's bookings per installer
partner (and per technician, where the partner assigned one) by day, week or month, in the
organization's time zone, filtered by workflow and tag; beside it the orders an installer
accepted that still wait for a date.

GET parameters: `organization` (one the user may read; a superuser any), `view` (`day`,
`week`, `month`; anything else is a week), `date` (ISO; unreadable: 400 showing today),
`workflow`, `tag` (the organization's; another organization's or an unknown id: 404).
The query count does not depend on the number of bookings: partners, bookings, waiting
orders and their count are one query each.
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any
from urllib.parse import urlencode

from django.contrib import admin
from django.http import Http404, HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from accounts import calendar_grid
from accounts.admin_base import readable_org_ids
from accounts.models import Organization
from accounts.zones import local_text, zone_of
from backoffice import selectors
from orders.admin.orders import STATUS_COLORS
from orders.models import STATUS_NAMES, OrderStatus, OrderTag, Workflow

CHOICES_LIMIT = 500
# Statuses a booked order can have (a cancelled order loses its booking).
BOOKED_STATUSES = (OrderStatus.SCHEDULED, OrderStatus.IN_PROGRESS, OrderStatus.COMPLETED)
NO_TECHNICIAN = "No technician assigned"


def person_name(user) -> str:
    return user.get_full_name() or user.get_username()


def _uuid(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise Http404("No such object.") from None


def calendar_organizations(request: HttpRequest) -> list[Organization]:
    """The organizations whose calendar the user may open, by name: their memberships' (not a
    technician's); a superuser's, every organization but the test installers."""
    org_ids = readable_org_ids(request)
    qs = Organization.objects.filter(test_installer_for__isnull=True)
    if org_ids is not None:
        qs = qs.filter(pk__in=org_ids)
    return list(qs.only("id", "name", "time_zone", "is_installer").order_by("name", "id")[:CHOICES_LIMIT])


def chosen_organization(request: HttpRequest, organizations: list[Organization]) -> Organization | None:
    """The organization named by `?organization=`, else the user's first; 404 for one the user
    may not read. A superuser without a membership starts at the first router by name."""
    wanted = request.GET.get("organization")
    if wanted:
        pk = _uuid(wanted)
        found = next((o for o in organizations if o.pk == pk), None)
        if found is None:
            raise Http404("No such organization.")
        return found
    routers = [o for o in organizations if not o.is_installer]
    return (routers or organizations)[0] if organizations else None


def _pick(objects: list, wanted: str | None, what: str):
    if not wanted:
        return None
    pk = _uuid(wanted)
    found = next((o for o in objects if o.pk == pk), None)
    if found is None:
        raise Http404(f"No such {what}.")
    return found


def _time_text(booking, zone) -> str:
    if booking.all_day:
        return "All day"
    start, end = booking.start_at.astimezone(zone), booking.end_at.astimezone(zone)
    if start.date() != end.date():
        return f"{start:%H:%M}–{end:%a %H:%M}"
    return f"{start:%H:%M}–{end:%H:%M}"


def _entry(booking, zone, partner_name: str) -> dict[str, Any]:
    order = booking.order
    return {
        "booking": booking,
        "order": order,
        "url": reverse("admin:orders_order_change", args=[order.pk]),
        "time": _time_text(booking, zone),
        "start": booking.start_at.astimezone(zone).isoformat(),
        "status": STATUS_NAMES.get(order.status, str(order.status)),
        "status_key": OrderStatus(order.status).name.lower(),
        "partner": partner_name,
        "technician": person_name(order.assignee) if order.assignee_id else "",
    }


def lanes(partners, bookings, zone, period: calendar_grid.Period) -> list[dict[str, Any]]:
    """One row per partner and technician: the partner's bookings without a technician first
    (or an empty row for a partner with no booking in the period), then one row per technician
    with bookings, by name. Each row has a cell per grid day."""
    names = {p.installer_id: p.installer.name for p in partners}
    by_lane: dict[tuple[Any, Any], list[tuple[datetime.datetime, dict]]] = {}
    technicians: dict[Any, str] = {}
    for booking in bookings:
        assignee_id = booking.order.assignee_id
        if assignee_id is not None:
            technicians[assignee_id] = person_name(booking.order.assignee)
        entry = _entry(booking, zone, names.get(booking.installer_id, ""))
        by_lane.setdefault((booking.installer_id, assignee_id), []).append((booking.start_at, entry))
    rows: list[dict[str, Any]] = []
    for partner in partners:
        keys = [key for key in by_lane if key[0] == partner.installer_id]
        people = sorted((k for k in keys if k[1] is not None), key=lambda k: (technicians[k[1]].lower(), str(k[1])))
        unassigned = (partner.installer_id, None)
        ordered = ([unassigned] if unassigned in by_lane or not people else []) + people
        for index, key in enumerate(ordered):
            grouped = calendar_grid.by_day(by_lane.get(key, []), zone, period)
            rows.append(
                {
                    "partner": partner,
                    "first": index == 0,
                    "technician": technicians[key[1]] if key[1] is not None else "",
                    "cells": [{"date": day, "entries": grouped.get(day, [])} for day in period.grid_days()],
                    "count": len(by_lane.get(key, [])),
                }
            )
    return rows


def _query(**params: Any) -> str:
    return "?" + urlencode({k: v for k, v in params.items() if v not in (None, "")})


def calendar_view(request: HttpRequest) -> TemplateResponse:
    organizations = calendar_organizations(request)
    organization = chosen_organization(request, organizations)
    context: dict[str, Any] = {**admin.site.each_context(request), "title": "Calendar", "organizations": organizations}
    if organization is None:
        context["no_organizations"] = True
        return TemplateResponse(request, "backoffice/calendar.html", context)
    zone = zone_of(organization)
    now = timezone.now()
    today = now.astimezone(zone).date()
    view = str(request.GET.get("view") or "week")
    view = view if view in calendar_grid.VIEWS else "week"
    status, error, day = 200, "", today
    if request.GET.get("date"):
        try:
            day = datetime.date.fromisoformat(str(request.GET["date"]))
            calendar_grid.midnight(day - datetime.timedelta(days=7), zone)
            calendar_grid.midnight(day + datetime.timedelta(days=45), zone)
        except (ValueError, OverflowError):
            status, error, day = 400, "That date could not be read (use YYYY-MM-DD); showing today.", today
    workflows = list(
        Workflow.objects.filter(organization=organization).only("id", "name").order_by("name", "id")[:CHOICES_LIMIT]
    )
    tags = list(
        OrderTag.objects.filter(organization=organization).only("id", "name").order_by("name", "id")[:CHOICES_LIMIT]
    )
    workflow = _pick(workflows, request.GET.get("workflow"), "workflow")
    tag = _pick(tags, request.GET.get("tag"), "tag")

    period = calendar_grid.period_of(view, day)
    start, end = period.bounds(zone)
    partners = selectors.calendar_partners(organization)
    bookings = selectors.calendar_bookings(
        organization, [p.installer_id for p in partners], start, end, workflow=workflow, tag=tag
    )
    waiting, waiting_count = selectors.unbooked_orders(organization, workflow=workflow, tag=tag)

    filters = {
        "organization": organization.pk if len(organizations) > 1 or request.GET.get("organization") else "",
        "workflow": workflow.pk if workflow else "",
        "tag": tag.pk if tag else "",
    }
    names = {p.installer_id: p.installer.name for p in partners}
    month_days = []
    if view == "month":
        entries = [(b.start_at, _entry(b, zone, names.get(b.installer_id, ""))) for b in bookings]
        month_days = calendar_grid.day_cells(period, calendar_grid.by_day(entries, zone, period), today)
    start_local, end_local = start.astimezone(zone), end.astimezone(zone)
    abbreviations = sorted({start_local.tzname() or "", end_local.tzname() or ""} - {""})
    context.update(
        {
            "organization": organization,
            "show_organizations": len(organizations) > 1,
            "view": view,
            "period": period,
            "day": day,
            "days": period.grid_days(),
            "today": today,
            "lanes": lanes(partners, bookings, zone, period) if view != "month" else [],
            "month_days": month_days,
            "booking_count": len(bookings),
            "zone": zone.key,
            "zone_abbreviations": "/".join(abbreviations),
            "workflows": workflows,
            "tags": tags,
            "workflow": workflow,
            "tag": tag,
            "error": error,
            "waiting": [
                {
                    "order": order,
                    "url": reverse("admin:orders_order_change", args=[order.pk]),
                    "since": order.waiting_since,
                    "since_text": local_text(order.waiting_since, zone),
                }
                for order in waiting
            ],
            "waiting_count": waiting_count,
            "waiting_limit": selectors.UNBOOKED_LIMIT,
            "now": now,
            "legend": [
                {"key": s.name.lower(), "name": STATUS_NAMES[s.value], "color": STATUS_COLORS[s]}
                for s in BOOKED_STATUSES
            ],
            "views": [
                {
                    "name": name,
                    "label": name.title(),
                    "url": _query(view=name, date=day.isoformat(), **filters),
                }
                for name in calendar_grid.VIEWS
            ],
            "previous_url": _query(view=view, date=period.previous.isoformat(), **filters),
            "today_url": _query(view=view, date=today.isoformat(), **filters),
            "next_url": _query(view=view, date=period.following.isoformat(), **filters),
            "has_partners": bool(partners),
        }
    )
    return TemplateResponse(request, "backoffice/calendar.html", context, status=status)
