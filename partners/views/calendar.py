"""The calendar: the current organization's bookings in a week or a month, per technician
(a colour and a name per assignee, "unassigned" too), in the organization's zone; and each
member's private iCalendar feed (RFC 5545), which needs no sign-in: its secret is the
credential, rotatable from the calendar page."""

from __future__ import annotations

import datetime
from typing import Any

import icalendar
from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from accounts import calendar_grid
from accounts.zones import zone_of
from orders.selectors import Viewer
from partners import presenters, selectors
from partners import services as partner_services
from partners.workspace import Workspace, partner_view

COLOURS = 8  # colour classes in partners.css (.who-0 … .who-7), the unassigned has its own
FEED_PAST_DAYS = 60
FEED_FUTURE_DAYS = 400
FEED_LIMIT = 2000
SESSION_NEW_LINK = "partner_calendar_link"


@require_GET
@partner_view
def calendar(request: HttpRequest) -> HttpResponse:
    ws: Workspace = request.workspace  # type: ignore[attr-defined]
    zone = ws.zone
    today = timezone.now().astimezone(zone).date()
    view = "month" if request.GET.get("view") == "month" else "week"
    status, error = 200, ""
    day = today
    if request.GET.get("date"):
        try:
            day = datetime.date.fromisoformat(str(request.GET["date"]))
            calendar_grid.midnight(day, zone)
        except (ValueError, OverflowError):
            status, error, day = 400, _("That date could not be read; showing today."), today
    period = calendar_grid.period_of(view, day)
    start, stop = period.bounds(zone)
    bookings = list(selectors.bookings_between(ws.viewer, start, stop))
    members = [] if ws.only_assigned else selectors.assignable_members(ws.organization)
    colour: dict[Any, int] = {m.user_id: index % COLOURS for index, m in enumerate(members)}
    legend = [{"name": presenters.person_name(m.user), "colour": colour[m.user_id]} for m in members]
    entries: list[tuple[datetime.datetime, dict[str, Any]]] = []
    for booking in bookings:
        order = booking.order
        begins, ends = booking.start_at.astimezone(zone), booking.end_at.astimezone(zone)
        assignee = order.assignee if order.assignee_id else None
        if assignee is not None and assignee.pk not in colour:  # a former member
            colour[assignee.pk] = len(colour) % COLOURS
            legend.append({"name": presenters.person_name(assignee), "colour": colour[assignee.pk]})
        entries.append(
            (
                booking.start_at,
                {
                    "order": order,
                    "time": _("All day") if booking.all_day else f"{begins:%H:%M}–{ends:%H:%M}",
                    "status": presenters.status_label(order.status),
                    "who": presenters.person_name(assignee) if assignee else _("Unassigned"),
                    "colour": f"who-{colour[assignee.pk]}" if assignee else "who-none",
                },
            )
        )
    days = calendar_grid.day_cells(period, calendar_grid.by_day(entries, zone, period), today)
    # The Week and Month links open the other view on today when it is shown, else on the
    # week's Thursday (the month most of the week is in) or on the month's first day.
    if period.first <= today <= period.last:
        switch_day = today
    else:
        switch_day = period.first + datetime.timedelta(days=3) if view == "week" else period.first
    context = {
        "ws": ws,
        "view": view,
        "days": days,
        "legend": legend,
        "first": period.first,
        "last": period.last,
        "previous": period.previous.isoformat(),
        "next": period.following.isoformat(),
        "today": today.isoformat(),
        "switch_day": switch_day.isoformat(),
        "zone": zone.key,
        "error": error,
        "has_feed": selectors.has_calendar_feed(ws.membership),
        "new_link": request.session.pop(SESSION_NEW_LINK, None),
        "nav": "calendar",
    }
    return render(request, "partners/calendar.html", context, status=status)


@require_POST
@partner_view
def rotate(request: HttpRequest) -> HttpResponse:
    """A new feed link for the user's membership; the old one stops working. The link is shown
    once, on the next page (kept in the session until then)."""
    ws: Workspace = request.workspace  # type: ignore[attr-defined]
    secret = partner_services.calendar_feed_rotate(membership=ws.membership)
    request.session[SESSION_NEW_LINK] = settings.PUBLIC_BASE_URL + reverse(
        "partners:calendar_feed", kwargs={"secret": secret}
    )
    return redirect("partners:calendar")


@require_GET
@never_cache
def feed(request: HttpRequest, secret: str) -> HttpResponse:
    """The member's bookings as iCalendar: a technician's own jobs, an admin's or dispatcher's
    every job of the organization. No sign-in; 404 for an unknown or rotated secret. Events
    carry the job number, the workflow and the city, never the customer's name, phone, email
    or street: a calendar app may sync them anywhere; the job page behind sign-in has those."""
    found = selectors.calendar_feed_for_secret(secret)
    if found is None or not found.membership.organization.is_installer:
        raise Http404("No such calendar.")
    membership = found.membership
    viewer = Viewer.for_membership(membership)
    now = timezone.now()
    bookings = selectors.bookings_between(
        viewer,
        now - datetime.timedelta(days=FEED_PAST_DAYS),
        now + datetime.timedelta(days=FEED_FUTURE_DAYS),
        limit=FEED_LIMIT,
    )
    body = calendar_ics(membership.organization, bookings, now=now)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="installer.ics"'
    response["X-Robots-Tag"] = "noindex"
    return response


def calendar_ics(organization, bookings, *, now: datetime.datetime) -> bytes:
    """RFC 5545: one VEVENT per booking, times in UTC, UID stable per job (a moved booking
    updates the same event)."""
    zone = zone_of(organization)
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Installer//Partner workspace//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", f"{organization.name}")
    cal.add("x-wr-timezone", zone.key)
    for booking in bookings:
        order = booking.order
        event = icalendar.Event()
        event.add("uid", f"order-{order.pk}@installer")
        event.add("dtstamp", now.astimezone(datetime.UTC))
        if booking.all_day:
            event.add("dtstart", booking.start_at.astimezone(zone).date())
            event.add("dtend", booking.end_at.astimezone(zone).date() + datetime.timedelta(days=1))
        else:
            event.add("dtstart", booking.start_at.astimezone(datetime.UTC))
            event.add("dtend", booking.end_at.astimezone(datetime.UTC))
        place = " ".join(part for part in (order.postal_code, order.city) if part)
        summary = " – ".join(part for part in (order.display_id, order.name, order.city) if part)
        event.add("summary", summary)
        if place:
            event.add("location", place)
        event.add("url", settings.PUBLIC_BASE_URL + reverse("partners:job", kwargs={"order_id": order.pk}))
        event.add("last-modified", booking.updated_at.astimezone(datetime.UTC))
        cal.add_component(event)
    return cal.to_ical()
