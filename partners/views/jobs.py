"""Jobs: the orders assigned to the partner, and one job's page with the actions the API allows
the installer (orders.policy), each calling the API's service with the user as the actor."""

from __future__ import annotations

import datetime
from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from dispatch import selectors as dispatch_selectors
from dispatch import services as dispatch_services
from installer.errors import DomainError
from invoicing import partner_views as invoicing_pages
from invoicing import services as invoicing_services
from orders import services as order_services
from orders import transitions, workflow_cache
from orders.api.presenters import order_to_dict, timeline_to_dicts
from orders.files import file_delete, file_response, file_upload
from orders.filters import OrderFilter
from orders.models import Order, StepActor
from orders.selectors import file_get, order_events
from partners import presenters, selectors
from partners.forms import AssignForm, BookingForm, CompleteForm, JobFilterForm
from partners.views.common import error_status, error_text
from partners.workspace import Workspace, partner_view
from pricing import partner as partner_quotes

PAGE_SIZE = 25


def _workspace(request: HttpRequest) -> Workspace:
    return request.workspace  # type: ignore[attr-defined]


# --------------------------------------------------------------------------------------------
# The list
# --------------------------------------------------------------------------------------------


def _local_midnight(day: datetime.date, ws: Workspace) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(0), tzinfo=ws.zone).astimezone(datetime.UTC)


def _filtered(qs: QuerySet[Order], data: dict[str, Any], ws: Workspace) -> QuerySet[Order]:
    """Status (index order_installer_status_idx; unfiltered: order_installer_created_idx),
    technician (order_installer_assignee_idx), search (orders.filters' `q`, as the API's List
    Orders searches for an installer), booked between two days in the partner's zone (index
    booking_installer_start_idx)."""
    if data.get("status"):
        qs = qs.filter(status=int(data["status"]))
    if data.get("q"):
        qs = OrderFilter(viewer=ws.viewer).filter_q(qs, "q", data["q"])
    if data.get("booked_from"):
        qs = qs.filter(
            booking__installer=ws.organization, booking__start_at__gte=_local_midnight(data["booked_from"], ws)
        )
    if data.get("booked_to"):
        end = _local_midnight(data["booked_to"] + datetime.timedelta(days=1), ws)
        qs = qs.filter(booking__installer=ws.organization, booking__start_at__lt=end)
    technician = data.get("technician")
    if technician == JobFilterForm.UNASSIGNED:
        qs = qs.filter(assignee__isnull=True)  # index order_installer_assignee_idx
    elif technician:
        qs = qs.filter(assignee_id=int(technician))
    return qs


@require_GET
@partner_view
def job_list(request: HttpRequest) -> HttpResponse:
    ws = _workspace(request)
    members = None if ws.only_assigned else selectors.assignable_members(ws.organization)
    form = JobFilterForm(request.GET, members=members)
    valid = form.is_valid()
    data = form.cleaned_data  # the fields that parsed, on an invalid form too
    qs = _filtered(selectors.assigned_jobs(ws.viewer), data, ws)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = []
    for order in page.object_list:
        booking = dispatch_selectors.booking_of(order)
        rows.append(
            {
                "order": order,
                "status": presenters.status_label(order.status),
                "booked": presenters.local_html(booking.start_at, ws.zone) if booking else None,
                "assignee": presenters.person_name(order.assignee) if order.assignee_id else "",
            }
        )
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "ws": ws,
        "form": form,
        "rows": rows,
        "page": page,
        "query": query.urlencode(),
        "current_status": data.get("status") or "",
        "zone": ws.zone.key,
        "nav": "jobs",
    }
    return render(request, "partners/jobs.html", context, status=200 if valid else 400)


# --------------------------------------------------------------------------------------------
# One job
# --------------------------------------------------------------------------------------------


def _job(ws: Workspace, order_id: str) -> Order:
    order = selectors.job_get(ws.viewer, order_id)
    if order is None:
        raise Http404("No such job.")
    return order


def map_links(order: Order) -> dict[str, str]:
    """`geo:` (RFC 5870) opens the phone's own map app (Android offers every installed map app);
    the OpenStreetMap search is for phones and computers that do not handle `geo:` (iPhone)."""
    address = ", ".join(part for part in (order.address, f"{order.postal_code} {order.city}".strip()) if part)
    if order.country_code:
        address = f"{address}, {order.country_code}"
    if order.latitude is not None and order.longitude is not None:
        geo = f"geo:{order.latitude},{order.longitude}?q={order.latitude},{order.longitude}({quote(order.address)})"
    else:
        geo = f"geo:0,0?q={quote(address)}"
    return {"geo": geo, "osm": f"https://www.openstreetmap.org/search?query={quote(address)}"}


def _job_page(
    request: HttpRequest, order_id: Any, *, status: int = 200, forms: dict[str, Any] | None = None, error: str = ""
) -> HttpResponse:
    ws = _workspace(request)
    order = _job(ws, order_id)  # read afresh: after a refused action the page shows the order as it is
    viewer = ws.viewer
    data = order_to_dict(order, viewer)
    actions = data["allowedActions"]
    booking = dispatch_selectors.booking_of(order)
    completed = set(order.completed_steps or [])
    steps = [
        {
            "key": step.key,
            "title": step.title,
            "status": presenters.status_label(step.status),
            "required": step.required,
            "done": step.key in completed or transitions.passed(step.status, order.status),
            "can_complete": (
                "completeStep" in actions
                and step.status == order.status
                and step.actor == StepActor.INSTALLER
                and step.key not in completed
            ),
        }
        for step in workflow_cache.steps(order.workflow)
    ]
    events = list(order_events(order))
    timeline = [
        {
            "sentence": presenters.event_sentence(row, ws.zone),
            "when": presenters.local_html(row["createdAt"], ws.zone),
        }
        for row in timeline_to_dicts(order, events, viewer)
    ]
    forms = forms or {}
    members = selectors.assignable_members(ws.organization) if "assign" in actions else []
    book_initial = {}
    if booking is not None:
        start, end = booking.start_at.astimezone(ws.zone), booking.end_at.astimezone(ws.zone)
        book_initial = {"date": start.date(), "start": start.time(), "end": end.time()}
    context = {
        "ws": ws,
        "order": order,
        "data": data,
        "status": presenters.status_label(order.status),
        "actions": actions,
        "booking": booking,
        "booked": presenters.local_html(booking.start_at, ws.zone) if booking else None,
        "booked_end": presenters.local_html(booking.end_at, ws.zone) if booking else None,
        "maps": map_links(order),
        "steps": steps,
        "fields": presenters.custom_fields(data),
        "timeline": timeline,
        "book_form": forms.get("book") or BookingForm(zone=ws.zone, initial=book_initial),
        "complete_form": forms.get("complete") or CompleteForm(),
        "assign_form": (
            (forms.get("assign") or AssignForm(members=members, initial={"assignee": str(order.assignee_id or "")}))
            if "assign" in actions
            else None
        ),
        "assignee": presenters.person_name(order.assignee) if order.assignee_id else "",
        "work": invoicing_pages.job_work(order),
        "error": error,
        "zone": ws.zone.key,
        "nav": "jobs",
        "quotes": partner_quotes.job_quotes(ws, order, forms.get("quote")),
    }
    return render(request, "partners/job.html", context, status=status)


@require_GET
@partner_view
def job_detail(request: HttpRequest, order_id: str) -> HttpResponse:
    return _job_page(request, order_id)


def _writer(request: HttpRequest, order_id: str) -> HttpResponse | None:
    """Checks that the job is one the user may read (the partner's; a technician's own: else
    404) and that the user's role works jobs (a viewer does not: 403)."""
    ws = _workspace(request)
    _job(ws, order_id)
    if not ws.can_work_jobs:
        return _job_page(request, order_id, status=403, error=_("Your role may not change jobs."))
    return None


@require_POST
@partner_view
def book(request: HttpRequest, order_id: str) -> HttpResponse:
    ws = _workspace(request)
    refused = _writer(request, order_id)
    if refused is not None:
        return refused
    form = BookingForm(request.POST, zone=ws.zone)
    if not form.is_valid():
        return _job_page(request, order_id, status=400, forms={"book": form})
    rebooking = dispatch_selectors.booking_of(_job(ws, order_id)) is not None
    try:
        dispatch_services.order_book(
            order_id=order_id,
            organization=ws.organization,
            actor=ws.actor,
            technician_id=ws.technician_id,
            start_at=form.cleaned_data["start_at"],
            end_at=form.cleaned_data["end_at"],
        )
    except DomainError as exc:
        form.add_error(None, error_text(exc))
        return _job_page(request, order_id, status=error_status(exc), forms={"book": form})
    messages.success(request, _("Booking moved.") if rebooking else _("Job booked."))
    return redirect("partners:job", order_id=order_id)


def _simple_action(request: HttpRequest, order_id: str, action, success: str) -> HttpResponse:
    ws = _workspace(request)
    refused = _writer(request, order_id)
    if refused is not None:
        return refused
    try:
        action(order_id=order_id, organization=ws.organization, actor=ws.actor, technician_id=ws.technician_id)
    except DomainError as exc:
        return _job_page(request, order_id, status=error_status(exc), error=error_text(exc))
    messages.success(request, success)
    return redirect("partners:job", order_id=order_id)


@require_POST
@partner_view
def unbook(request: HttpRequest, order_id: str) -> HttpResponse:
    return _simple_action(request, order_id, dispatch_services.order_unbook, _("Booking removed."))


@require_POST
@partner_view
def start(request: HttpRequest, order_id: str) -> HttpResponse:
    ws = _workspace(request)
    booking = dispatch_selectors.booking_of(_job(ws, order_id))
    response = _simple_action(request, order_id, dispatch_services.order_start, _("Work started."))
    if response.status_code == 302 and booking is not None:
        booked_day = booking.start_at.astimezone(ws.zone).date()
        if timezone.now().astimezone(ws.zone).date() < booked_day:
            messages.warning(
                request,
                _("You started before the booked day (%(day)s).") % {"day": booked_day.isoformat()},
            )
    return response


@require_POST
@partner_view
def complete(request: HttpRequest, order_id: str) -> HttpResponse:
    ws = _workspace(request)
    refused = _writer(request, order_id)
    if refused is not None:
        return refused
    form = CompleteForm(request.POST, request.FILES)
    if not form.is_valid():
        return _job_page(request, order_id, status=400, forms={"complete": form})
    uploaded = []
    try:
        for photo in form.cleaned_data["photos"]:
            # The API's upload service: the type sniffed from the bytes, the size checked.
            uploaded.append(file_upload(organization=ws.organization, content=photo, actor=ws.actor, name=photo.name))
        invoicing_services.order_complete_documented(
            order_id=order_id,
            organization=ws.organization,
            actor=ws.actor,
            comment=form.cleaned_data["comment"],
            file_ids=[file.pk for file in uploaded],
            technician_id=ws.technician_id,
            customer_name=form.cleaned_data["customer_name"],
            signature=form.cleaned_data["signature"],
        )
    except DomainError as exc:
        for file in uploaded:
            file_delete(file=file)
        field = "photos" if len(uploaded) < len(form.cleaned_data["photos"]) else None
        if exc.details and "signature" in exc.details:
            field = None
        form.add_error(field, error_text(exc))
        return _job_page(request, order_id, status=error_status(exc), forms={"complete": form})
    messages.success(request, _("Job completed."))
    return redirect("partners:job", order_id=order_id)


@require_POST
@partner_view
def complete_step(request: HttpRequest, order_id: str) -> HttpResponse:
    ws = _workspace(request)
    refused = _writer(request, order_id)
    if refused is not None:
        return refused
    order = _job(ws, order_id)
    key = str(request.POST.get("step", ""))
    step = next((s for s in workflow_cache.steps(order.workflow) if s.key == key), None)
    if step is None or step.actor != StepActor.INSTALLER:
        return _job_page(request, order_id, status=400, error=_("This step cannot be completed here."))
    try:
        order_services.workflow_step_complete(
            order_id=order.pk, organization=None, step_key=key, actor=ws.actor, technician_id=ws.technician_id
        )
    except DomainError as exc:
        return _job_page(request, order_id, status=error_status(exc), error=error_text(exc))
    messages.success(request, _("Step completed: %(step)s") % {"step": step.title})
    return redirect("partners:job", order_id=order_id)


@require_POST
@partner_view
def assign(request: HttpRequest, order_id: str) -> HttpResponse:
    """Sets or clears the job's assignee (admin, dispatcher) through the API's service."""
    ws = _workspace(request)
    order = _job(ws, order_id)
    if not ws.can_assign:
        return _job_page(request, order_id, status=403, error=_("Your role may not assign jobs."))
    form = AssignForm(request.POST, members=selectors.assignable_members(ws.organization))
    if not form.is_valid():
        return _job_page(request, order_id, status=400, forms={"assign": form})
    assignee = form.cleaned_data["assignee"]
    try:
        dispatch_services.order_assign(
            order_id=order.pk, organization=ws.organization, actor=ws.actor, role=ws.membership.role, assignee=assignee
        )
    except DomainError as exc:
        form.add_error("assignee", error_text(exc))
        return _job_page(request, order_id, status=error_status(exc), forms={"assign": form})
    if assignee is None:
        messages.success(request, _("The job is unassigned."))
    else:
        messages.success(request, _("Assigned to %(name)s.") % {"name": presenters.person_name(assignee)})
    return redirect("partners:job", order_id=order_id)


@require_GET
@partner_view
def file_download(request: HttpRequest, order_id: str, file_id: str) -> HttpResponseBase:
    """A file of the job, through the API's file access rules (orders.selectors.file_get)."""
    ws = _workspace(request)
    order = _job(ws, order_id)
    file = file_get(ws.viewer, file_id)
    if file is None or file.order_id != order.pk:
        raise Http404("No such file.")
    return file_response(file)
