"""The order admin as operators use it all day: the order page read top-down (a header with
status, customer, place, installer, booking and the allowed actions; the timeline as sentences;
then fields, files with thumbnails, offers and messages) and an order list that fits a 1280 px
screen, with saved filters per user.

`OrderAdmin` here subclasses the order admin that notifications registers (orders' admin with
dispatch's buttons and sections, and the messages section) and registers itself in its place,
the way dispatch and notifications do. It adds presentation only: every button is still one of
orders' `order_buttons`, offered when `orders.policy.allowed_actions` allows it.
"""

from __future__ import annotations

import datetime
from typing import Any, cast
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import admin, messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_POST

from accounts.admin_base import readable_org_ids
from accounts.zones import local_text, zone_of
from backoffice import timeline
from backoffice.dashboard import age_text, request_zone
from backoffice.models import SavedFilter
from dispatch import selectors as dispatch_selectors
from notifications.admin import OrderAdmin as NotificationsOrderAdmin
from orders.admin import orders as order_admin
from orders.models import Order, OrderEvent, OrderStatus

TIMELINE_LIMIT = 300
FILES_LIMIT = 100
SAVED_FILTERS_LIMIT = 50

# Query parameters that are the list's position or the admin's plumbing, not a filter.
NOT_FILTERS = frozenset({"p", "all", "e", "_changelist_filters", "_popup", "_to_field"})

OPEN_UNASSIGNED = (OrderStatus.CREATED, OrderStatus.DISPATCHING, OrderStatus.DECLINED)


# --------------------------------------------------------------------------------------------
# List filters behind the built-in saved filters
# --------------------------------------------------------------------------------------------


class AssignmentFilter(admin.SimpleListFilter):
    """Open orders without an installer (created, dispatching without an accepted offer,
    declined): the dispatcher's inbox. Uses the (organization, status, ...) index."""

    title = "assignment"
    parameter_name = "assigned"

    def lookups(self, request, model_admin):
        return [("no", "Open, no installer yet"), ("yes", "Installer assigned")]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(status__in=OPEN_UNASSIGNED, installer__isnull=True)
        if self.value() == "yes":
            return queryset.filter(installer__isnull=False)
        return queryset


def week_start(now: datetime.datetime, zone: ZoneInfo) -> datetime.datetime:
    local = now.astimezone(zone)
    monday = local.date() - datetime.timedelta(days=local.weekday())
    return datetime.datetime.combine(monday, datetime.time.min, tzinfo=zone)


class StartsFilter(admin.SimpleListFilter):
    """Orders whose booking starts today, this week or next week (Monday to Sunday in the
    organization's zone); the booking's start index (`booking_start_idx`)."""

    title = "booking starts"
    parameter_name = "starts"

    def lookups(self, request, model_admin):
        return [("today", "Today"), ("this_week", "This week"), ("next_week", "Next week")]

    def queryset(self, request, queryset):
        value = self.value()
        if value not in ("today", "this_week", "next_week"):
            return queryset
        zone, now = request_zone(readable_org_ids(request)), timezone.now()
        if value == "today":
            start = datetime.datetime.combine(now.astimezone(zone).date(), datetime.time.min, tzinfo=zone)
            end = start + datetime.timedelta(days=1)
        else:
            start = week_start(now, zone) + datetime.timedelta(days=7 if value == "next_week" else 0)
            end = start + datetime.timedelta(days=7)
        return queryset.filter(booking__start_at__gte=start, booking__start_at__lt=end)


# Every user has these; the user's own saved filters follow them.
BUILT_IN_FILTERS = (
    ("My unassigned", "assigned=no"),
    ("Starting this week", "starts=this_week"),
)


def filter_query(query: QueryDict | dict) -> str:
    """The filter part of a list query string: paging and admin plumbing dropped, keys sorted."""
    if not isinstance(query, QueryDict):
        query = QueryDict(urlencode(query, doseq=True))
    pairs = sorted((key, value) for key, values in query.lists() if key not in NOT_FILTERS for value in values)
    return urlencode(pairs)


class SavedFilterForm(forms.Form):
    name = forms.CharField(max_length=80, strip=True)
    query_string = forms.CharField(max_length=1000, required=False)

    def clean_query_string(self):
        return filter_query(QueryDict(self.cleaned_data.get("query_string") or ""))


# --------------------------------------------------------------------------------------------
# The order page
# --------------------------------------------------------------------------------------------


class OrderPageForm(order_admin.OrderForm):
    """The order's title is its `name` (a webform order's: the form's title); the customer is
    the contact person."""

    class Meta(order_admin.OrderForm.Meta):
        labels = {"name": "Title", "contact_person_name": "Name", "workplace": "Workplace / company"}
        help_texts = {"name": "What the order is for; a webform order gets the form's title."}


def booking_text(booking: Any, zone: ZoneInfo) -> str:
    """`Thu 10 Dec 2026 08:00–12:00 (Europe/Oslo)`, or "" without a booking."""
    if booking is None:
        return ""
    span = timeline.booking_span(
        {"startAt": booking.start_at.isoformat(), "endAt": booking.end_at.isoformat(), "allDay": booking.all_day}, zone
    )
    return f"{span} ({zone.key})"


class OrderAdmin(NotificationsOrderAdmin):
    """The final order admin (see the module's docstring)."""

    form = OrderPageForm
    list_display = (  # type: ignore[assignment]  # dispatch's admin typed it as its own 9 columns
        "display_id",
        "status_badge",
        "customer",
        "place",
        "installer",
        "booked_short",
        "tag_list",
        "age",
    )
    list_filter = (AssignmentFilter, StartsFilter, *NotificationsOrderAdmin.list_filter)  # type: ignore[assignment]
    change_list_template = "admin/orders/order/change_list.html"

    # -- the list
    @admin.display(description="Customer", ordering="contact_person_name")
    def customer(self, obj: Order) -> str:
        return obj.contact_person_name

    @admin.display(description="City", ordering="city")
    def place(self, obj: Order) -> str:
        """`5003 Bergen`: the city with its postal code, as operators dispatch by it."""
        return f"{obj.postal_code} {obj.city}".strip()

    @admin.display(description="Booked", ordering="booking__start_at")
    def booked_short(self, obj: Order):
        booking = dispatch_selectors.booking_of(obj)
        if booking is None:
            return "-"
        zone = zone_of(obj.organization)
        local = booking.start_at.astimezone(zone)
        text = timeline.day(booking.start_at, zone)
        if local.year == timezone.now().astimezone(zone).year:
            text = text.rsplit(" ", 1)[0]
        return format_html(
            '<span title="{}">{}{} <abbr title="{}">{}</abbr></span>',
            booking_text(booking, zone),
            text,
            "" if booking.all_day else f" {local:%H:%M}",
            zone.key,
            local.tzname(),
        )

    @admin.display(description="Age", ordering="-created_at")
    def age(self, obj: Order):
        zone = zone_of(obj.organization)
        return format_html(
            '<span title="Created {}">{}</span>',
            local_text(obj.created_at, zone),
            age_text(obj.created_at, timezone.now()),
        )

    def changelist_view(self, request, extra_context=None):
        extra_context = dict(extra_context or {})
        current = filter_query(request.GET)
        own = SavedFilter.objects.filter(user=request.user).order_by("name")[:SAVED_FILTERS_LIMIT]
        base = reverse("admin:orders_order_changelist")
        extra_context["saved_filters"] = [
            {"name": name, "url": f"{base}?{query}", "active": query == current, "built_in": True}
            for name, query in BUILT_IN_FILTERS
        ] + [
            {
                "name": saved.name,
                "url": f"{base}?{saved.query_string}",
                "active": saved.query_string == current,
                "built_in": False,
                "delete_url": reverse("admin:orders_order_saved_filter_delete", args=[saved.pk]),
            }
            for saved in own
        ]
        extra_context["current_filter_query"] = current
        # The list needs the width of a laptop screen; the app list stays one click away (Home).
        extra_context["is_nav_sidebar_enabled"] = False
        extra_context["save_filter_url"] = reverse("admin:orders_order_saved_filter_add")
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        return [
            path(
                "saved-filters/",
                self.admin_site.admin_view(require_POST(self.saved_filter_add_view)),
                name="orders_order_saved_filter_add",
            ),
            path(
                "saved-filters/<int:pk>/delete/",
                self.admin_site.admin_view(require_POST(self.saved_filter_delete_view)),
                name="orders_order_saved_filter_delete",
            ),
            *super().get_urls(),
        ]

    def saved_filter_add_view(self, request: HttpRequest) -> HttpResponse:
        """Saves the posted filter set under its name for this user (the same name again
        replaces it). Bad input changes nothing and says why."""
        if not self.has_view_permission(request):
            raise Http404
        form = SavedFilterForm(request.POST)
        changelist = reverse("admin:orders_order_changelist")
        if not form.is_valid():
            problems = "; ".join(f"{field}: {' '.join(str(e) for e in errs)}" for field, errs in form.errors.items())
            messages.error(request, f"The filter was not saved ({problems}).")
            query = filter_query(QueryDict(request.POST.get("query_string", "")[:1000]))
            return HttpResponseRedirect(f"{changelist}?{query}" if query else changelist)
        name, query = form.cleaned_data["name"], form.cleaned_data["query_string"]
        SavedFilter.objects.update_or_create(user=cast(Any, request.user), name=name, defaults={"query_string": query})
        messages.success(request, f"Filter “{name}” saved.")
        return HttpResponseRedirect(f"{changelist}?{query}" if query else changelist)

    def saved_filter_delete_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Deletes one of the user's own saved filters; anyone else's is a 404."""
        saved = get_object_or_404(SavedFilter, pk=pk, user=request.user)
        saved.delete()
        messages.success(request, f"Filter “{saved.name}” deleted.")
        return HttpResponseRedirect(reverse("admin:orders_order_changelist"))

    # -- the order page
    def get_fieldsets(self, request, obj=None):
        """Title first; the customer; the address; the order's settings; custom fields; files.
        Installer, booking and status are in the header; the timeline is above the fields."""
        return [
            ("Order", {"fields": ("name", "display_id", "workflow", "current_step", "tag_list", "source", "test")}),
            ("Customer", {"fields": ("contact_person_name", "workplace", "email", "phone_number")}),
            ("Address", {"fields": ("address", "postal_code", "city", "country_code", "latitude", "longitude")}),
            ("Custom fields", {"fields": ("custom_fields_display",)}),
            ("Files", {"fields": ("files_display",)}),
            (
                "Other",
                {
                    "classes": ("collapse",),
                    "fields": (
                        "organization",
                        "installer",
                        "metadata",
                        "cancel_reason",
                        "cancel_comment",
                        "created",
                        "updated",
                    ),
                },
            ),
        ]

    @admin.display(description="Tags")
    def tag_list(self, obj: Order):
        """Each tag in the body's text colour (readable on any tag colour) with a dot of its own."""
        tagged = getattr(obj, "tagged_list", None)
        tags = [t.tag for t in tagged] if tagged is not None else list(obj.tags.all())
        return format_html_join(
            " ",
            '<span class="tag-chip" style="border-color:{}"><span class="tag-dot" style="background:{}"'
            ' aria-hidden="true"></span>{}</span>',
            ((t.color, t.color, t.name) for t in sorted(tags, key=lambda t: t.name.lower())),
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "is_nav_sidebar_enabled": False}
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.display(description="Files")
    def files_display(self, obj: Order):
        """Images as thumbnails (the files admin's thumbnail view, which checks the user's
        membership), every file linking to its bytes. One query."""
        files = list(obj.files.order_by("created_at", "id")[:FILES_LIMIT])
        if not files:
            return "-"
        items = []
        for f in files:
            content = reverse("admin:orders_file_content", args=[f.pk])
            if (f.content_type or "").startswith("image/"):
                thumb = format_html(
                    '<img src="{}" alt="" width="96" height="96" loading="lazy">',
                    reverse("admin:orders_file_thumbnail", args=[f.pk]),
                )
            else:
                thumb = format_html('<span class="file-icon" aria-hidden="true">{}</span>', _extension(f.name))
            items.append((content, thumb, f.name, f.content_type, _size(f.size)))
        return format_html(
            '<ul class="order-files">{}</ul>',
            format_html_join(
                "",
                '<li><a href="{}">{}<span class="file-name">{}</span></a><span class="file-meta">{}, {}</span></li>',
                items,
            ),
        )

    def order_header(self, request: HttpRequest, order: Order) -> dict[str, Any]:
        zone = zone_of(order.organization)
        booking = dispatch_selectors.booking_of(order)
        assignee = order.assignee
        return {
            "status": order_admin.status_badge(order.status),
            "title": order.name,
            "display_id": order.display_id,
            "customer": order.contact_person_name,
            "workplace": order.workplace,
            "email": order.email,
            "phone": order.phone_number,
            "place": ", ".join(p for p in (order.address, f"{order.postal_code} {order.city}".strip()) if p),
            "installer": order.installer.name if order.installer is not None else "",
            "technician": (assignee.get_full_name() or assignee.get_username()) if assignee else "",
            "booking": booking_text(booking, zone),
            "zone": zone.key,
            "step": order.current_step.title if order.current_step is not None else "",
            "money": {
                "quote": order.quote_status or "no quote",
                "invoice": order.invoice_status.replace("_", " "),
            },
            "source": order.get_source_display(),
            "test": order.test,
        }

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and change:
            order = (
                Order.objects.select_related("organization", "installer", "assignee", "current_step")
                .filter(pk=obj.pk)
                .first()
            )
            if order is not None:
                zone = zone_of(order.organization)
                events = list(OrderEvent.objects.filter(order=order).order_by("-sequence")[:TIMELINE_LIMIT])
                context["order_header"] = self.order_header(request, order)
                context["timeline_rows"] = timeline.timeline_rows(events, zone)
                context["timeline_zone"] = zone.key
                context["timeline_truncated"] = len(events) == TIMELINE_LIMIT
        return super().render_change_form(request, context, add, change, form_url, obj)


def _extension(name: str) -> str:
    ext = name.rsplit(".", 1)[-1] if "." in name else ""
    return (ext[:4] or "file").upper()


def _size(size: int | None) -> str:
    size = size or 0
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.0f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


admin.site.unregister(Order)
admin.site.register(Order, OrderAdmin)
