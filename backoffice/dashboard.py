"""The back-office dashboard at /admin/dashboard/: orders per status, orders created per day (a
server-rendered SVG chart), the orders waiting longest per open status, each installer
partner's load today and this week, the oldest orders waiting in dispatching, dispatch's offers
about to expire and webhooks' failed deliveries and failing endpoints, all of the user's
organizations.
Test orders and deleted orders are not counted or listed.

Every query here is bounded: counts per status use the (organization, status, ...) index,
orders per day read only the last 30 days through (organization, created_at, id), lists are
LIMITed. The number of queries does not depend on the number of rows.
"""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

from django.contrib import admin
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import TruncDate
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils import timezone

from accounts.admin_base import readable_org_ids, scope
from accounts.models import Organization
from accounts.zones import local_text, zone_of
from dispatch import selectors as dispatch_selectors
from dispatch.models import Booking, Partnership
from invoicing import selectors as invoicing_selectors
from invoicing.exports.pdf import money_text
from orders.admin.orders import STATUS_COLORS
from orders.models import STATUS_NAMES, Order, OrderEvent, OrderStatus
from webhooks import selectors as webhook_selectors

DAYS = 30
OLDEST_LIMIT = 10
OPEN_JOB_STATUSES = (OrderStatus.DISPATCHING, OrderStatus.SCHEDULED, OrderStatus.IN_PROGRESS)


def age_text(since: datetime.datetime, now: datetime.datetime) -> str:
    """`25 min`, `5 h`, `3 d`: short enough for a list column."""
    seconds = max((now - since).total_seconds(), 0)
    if seconds < 3600:
        return f"{int(seconds // 60)} min"
    if seconds < 48 * 3600:
        return f"{int(seconds // 3600)} h"
    return f"{int(seconds // 86400)} d"


def status_counts(org_ids: list | None) -> list[dict]:
    rows = dict(
        scope(Order.objects.without_test(), "organization", org_ids)
        .order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    return [
        {"status": s.value, "name": STATUS_NAMES[s.value], "count": rows.get(s.value, 0), "color": STATUS_COLORS[s]}
        for s in OrderStatus
    ]


def orders_per_day(org_ids: list | None, *, days: int = DAYS) -> list[dict]:
    today = timezone.localdate()
    first = today - datetime.timedelta(days=days - 1)
    since = timezone.make_aware(datetime.datetime.combine(first, datetime.time.min))
    rows = (
        scope(Order.objects.without_test().filter(created_at__gte=since), "organization", org_ids)
        .order_by()
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(n=Count("pk"))
        .values_list("day", "n")
    )
    by_day: dict[datetime.date, int] = {}
    for day, n in rows:
        if isinstance(day, datetime.datetime):
            day = day.date()
        elif isinstance(day, str):
            day = datetime.date.fromisoformat(day[:10])
        by_day[day] = by_day.get(day, 0) + n
    return [
        {"day": first + datetime.timedelta(days=i), "count": by_day.get(first + datetime.timedelta(days=i), 0)}
        for i in range(days)
    ]


CHART_PAD_X = 24  # room beside the first and last bars for their day labels (about 30 units wide)


def bar_chart(series: list[dict], *, width: int = 720, height: int = 180) -> dict:
    """Geometry of a server-rendered SVG bar chart (no JavaScript, no external assets). The
    bars sit between CHART_PAD_X margins, so the first and last day labels, centred under their
    bars, stay inside the drawing."""
    top = max((p["count"] for p in series), default=0) or 1
    pad_bottom, pad_top = 20, 14
    slot = (width - 2 * CHART_PAD_X) / max(len(series), 1)
    bars = []
    for index, point in enumerate(series):
        h = (height - pad_bottom - pad_top) * point["count"] / top
        bars.append(
            {
                "x": round(CHART_PAD_X + index * slot + 2, 1),
                "y": round(height - pad_bottom - h, 1),
                "w": round(slot - 4, 1),
                "h": round(h, 1),
                "count": point["count"],
                "label": point["day"].strftime("%d.%m"),
                "iso": point["day"].isoformat(),
                "show_label": index % 5 == 0 or index == len(series) - 1,
                "tx": round(CHART_PAD_X + index * slot + slot / 2, 1),
            }
        )
    return {"width": width, "height": height, "bars": bars, "max": top, "baseline": height - pad_bottom}


def oldest_dispatching(org_ids: list | None, *, limit: int = OLDEST_LIMIT) -> list[Order]:
    qs = scope(Order.objects.without_test().filter(status=OrderStatus.DISPATCHING), "organization", org_ids)
    return list(
        qs.select_related("organization")
        .only("id", "display_id", "contact_person_name", "city", "postal_code", "created_at", "organization__name")
        .order_by("created_at", "id")[:limit]
    )


WAITING_STATUSES = (
    OrderStatus.CREATED,
    OrderStatus.DISPATCHING,
    OrderStatus.DECLINED,
    OrderStatus.SCHEDULED,
    OrderStatus.IN_PROGRESS,
)
WAITING_LIMIT = 5


def waiting_longest(org_ids: list | None, *, limit: int = WAITING_LIMIT, now=None) -> list[dict]:
    """Per open status, the orders that have existed longest (oldest first, at most `limit`),
    each with its age and how long it has been in that status (from the timeline event that
    moved it there; a created order: since it was created). One query per status, on the
    (organization, status, created_at, id) index."""
    now = now or timezone.now()
    panels = []
    for status in WAITING_STATUSES:
        entered = (
            OrderEvent.objects.filter(order=OuterRef("pk"), to_status=status)
            .exclude(from_status=status)
            .order_by("-sequence")
            .values("created_at")[:1]
        )
        orders = list(
            scope(Order.objects.without_test().filter(status=status), "organization", org_ids)
            .select_related("organization")
            .only(
                "id",
                "display_id",
                "contact_person_name",
                "city",
                "postal_code",
                "created_at",
                "organization__name",
                "organization__time_zone",
            )
            .annotate(entered_at=Subquery(entered))
            .order_by("created_at", "id")[:limit]
        )
        panels.append(
            {
                "status": status.value,
                "name": STATUS_NAMES[status.value],
                "color": STATUS_COLORS[status],
                "orders": [
                    {
                        "order": o,
                        "age": age_text(o.created_at, now),
                        "in_status": age_text(o.entered_at or o.created_at, now),
                        "created": local_text(o.created_at, zone_of(o.organization)),
                    }
                    for o in orders
                ],
            }
        )
    return panels


def request_zone(org_ids: list | None) -> ZoneInfo:
    """The zone "today" and "this week" mean for these organizations: the first one's by name
    (the server's zone for a superuser or a user of none)."""
    if org_ids:
        organization = Organization.objects.filter(pk__in=org_ids).order_by("name").only("time_zone").first()
        if organization is not None:
            return zone_of(organization)
    return ZoneInfo(timezone.get_default_timezone_name())


def partner_load(org_ids: list | None, *, now=None) -> dict:
    """Per installer partner of the user's organizations: bookings starting today, bookings
    starting this week (Monday to Sunday) and open jobs (assigned, not yet completed), in the
    zone of `request_zone`. Active partnerships without any load are listed with zeros. Three
    queries whatever the number of partners or bookings."""
    now = now or timezone.now()
    zone = request_zone(org_ids)
    local = now.astimezone(zone)
    day_start = datetime.datetime.combine(local.date(), datetime.time.min, tzinfo=zone)
    week_start = day_start - datetime.timedelta(days=local.weekday())
    week_end = week_start + datetime.timedelta(days=7)
    day_end = day_start + datetime.timedelta(days=1)
    live_orders = scope(Order.objects.without_test(), "organization", org_ids)
    bookings = (
        Booking.objects.filter(
            order__in=live_orders.values("pk"),
            start_at__lt=max(week_end, day_end),
            start_at__gte=min(week_start, day_start),
        )
        .order_by()
        .values("installer_id")
        .annotate(
            today=Count("pk", filter=Q(start_at__gte=day_start, start_at__lt=day_end)),
            week=Count("pk", filter=Q(start_at__gte=week_start, start_at__lt=week_end)),
        )
    )
    jobs = (
        live_orders.filter(installer__isnull=False, status__in=OPEN_JOB_STATUSES)
        .order_by()
        .values("installer_id")
        .annotate(n=Count("pk"))
    )
    rows: dict = {}
    for row in bookings:
        rows.setdefault(row["installer_id"], {"today": 0, "week": 0, "jobs": 0}).update(
            today=row["today"], week=row["week"]
        )
    for row in jobs:
        rows.setdefault(row["installer_id"], {"today": 0, "week": 0, "jobs": 0})["jobs"] = row["n"]
    partners = scope(Partnership.objects.filter(active=True), "router", org_ids).values_list("installer_id", flat=True)
    for installer_id in partners:
        rows.setdefault(installer_id, {"today": 0, "week": 0, "jobs": 0})
    names = dict(Organization.objects.filter(pk__in=list(rows)).values_list("pk", "name")) if rows else {}
    partners_load = sorted(
        ({"installer_id": pk, "name": names.get(pk, "?"), **load} for pk, load in rows.items()),
        key=lambda r: (-r["week"], -r["jobs"], r["name"].lower()),
    )
    return {
        "rows": partners_load,
        "zone": zone.key,
        "week_label": f"{week_start:%d.%m}–{(week_end - datetime.timedelta(days=1)):%d.%m}",
        "today_label": f"{day_start:%a %d.%m}",
    }


def month_money(org_ids: list | None) -> dict:
    """This month's invoiced and not yet invoiced totals (per currency), the month as in
    `orders_per_day` (the server's zone)."""
    today = timezone.localdate()
    first = today.replace(day=1)
    following = (first + datetime.timedelta(days=32)).replace(day=1)
    start = timezone.make_aware(datetime.datetime.combine(first, datetime.time.min))
    end = timezone.make_aware(datetime.datetime.combine(following, datetime.time.min))
    money = invoicing_selectors.month_money(org_ids, start, end)
    return {
        "month": first,
        "invoiced": [money_text(r["gross"], r["currency"]) for r in money["invoiced"]],
        "not_invoiced": [
            f"{money_text(r['gross'], r['currency'])} ({r['orders']} orders)" for r in money["not_invoiced"]
        ],
    }


def dashboard_view(request: HttpRequest) -> TemplateResponse:
    org_ids = readable_org_ids(request)
    statuses = status_counts(org_ids)
    per_day = orders_per_day(org_ids)
    context = {
        **admin.site.each_context(request),
        "title": "Dashboard",
        "statuses": statuses,
        "total": sum(s["count"] for s in statuses),
        "chart": bar_chart(per_day),
        "created_30d": sum(p["count"] for p in per_day),
        "money": month_money(org_ids),
        "oldest_dispatching": oldest_dispatching(org_ids),
        "waiting_longest": waiting_longest(org_ids),
        "partner_load": partner_load(org_ids),
        "expiring_offers": dispatch_selectors.expiring_offers(org_ids),
        "expiring_limit": dispatch_selectors.EXPIRING_LIMIT,
        "webhook_deliveries": webhook_selectors.failed_deliveries(org_ids),
        "webhook_endpoints": webhook_selectors.troubled_endpoints(org_ids),
        "webhook_limit": webhook_selectors.DASHBOARD_LIMIT,
        "show_org": org_ids is None or len(org_ids) > 1,
        "no_organizations": org_ids == [],
    }
    return TemplateResponse(request, "backoffice/dashboard.html", context)
