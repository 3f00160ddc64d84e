"""The back-office dashboard at /admin/dashboard/: orders per status, orders created per day (a
server-rendered SVG chart), the oldest orders waiting in dispatching, dispatch's offers about to
expire and webhooks' failed deliveries and failing endpoints, all of the user's organizations.
Test orders and deleted orders are not counted or listed.

Every query here is bounded: counts per status use the (organization, status, ...) index,
orders per day read only the last 30 days through (organization, created_at, id), lists are
LIMITed. The number of queries does not depend on the number of rows.
"""

from __future__ import annotations

import datetime

from django.contrib import admin
from django.db.models import Count
from django.db.models.functions import TruncDate
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils import timezone

from accounts.admin_base import readable_org_ids, scope
from dispatch import selectors as dispatch_selectors
from invoicing import selectors as invoicing_selectors
from invoicing.exports.pdf import money_text
from orders.admin.orders import STATUS_COLORS
from orders.models import STATUS_NAMES, Order, OrderStatus
from webhooks import selectors as webhook_selectors

DAYS = 30
OLDEST_LIMIT = 10


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


def bar_chart(series: list[dict], *, width: int = 720, height: int = 180) -> dict:
    """Geometry of a server-rendered SVG bar chart (no JavaScript, no external assets)."""
    top = max((p["count"] for p in series), default=0) or 1
    pad_bottom, pad_top = 20, 14
    slot = width / max(len(series), 1)
    bars = []
    for index, point in enumerate(series):
        h = (height - pad_bottom - pad_top) * point["count"] / top
        bars.append(
            {
                "x": round(index * slot + 2, 1),
                "y": round(height - pad_bottom - h, 1),
                "w": round(slot - 4, 1),
                "h": round(h, 1),
                "count": point["count"],
                "label": point["day"].strftime("%d.%m"),
                "iso": point["day"].isoformat(),
                "show_label": index % 5 == 0 or index == len(series) - 1,
                "tx": round(index * slot + slot / 2, 1),
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
        "expiring_offers": dispatch_selectors.expiring_offers(org_ids),
        "expiring_limit": dispatch_selectors.EXPIRING_LIMIT,
        "webhook_deliveries": webhook_selectors.failed_deliveries(org_ids),
        "webhook_endpoints": webhook_selectors.troubled_endpoints(org_ids),
        "webhook_limit": webhook_selectors.DASHBOARD_LIMIT,
        "show_org": org_ids is None or len(org_ids) > 1,
        "no_organizations": org_ids == [],
    }
    return TemplateResponse(request, "backoffice/dashboard.html", context)
