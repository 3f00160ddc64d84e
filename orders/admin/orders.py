"""The order back office: the list (filters, search, CSV export, bulk cancel) and the order page
(customer and address fields saved through `services.order_update`, timeline, custom fields,
files, and buttons whose pages call the API's services).

`OrderAdmin` here knows only what `orders` owns. dispatch.admin.orders subclasses it with the
dispatch buttons, list action, booking column and order-page section, and registers the subclass
in its place (the same way a project replaces the User admin).
"""

from __future__ import annotations

import csv
import json
from typing import Any, ClassVar

from django import forms
from django.contrib import admin, messages
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from accounts.admin_base import TenantScopedAdmin, readable_org_ids, scope
from accounts.models import Organization
from accounts.zones import local_html, zone_of
from orders import selectors, services
from orders.actors import Actor
from orders.admin.actions import OrderButton, allowed_actions_for, cancel_orders, cancel_view, delete_view
from orders.exceptions import Conflict, NotFound, OrderValidationError
from orders.models import (
    STATUS_NAMES,
    CustomFieldDefinition,
    Order,
    OrderStatus,
    OrderTag,
    TaggedOrder,
    Workflow,
)
from orders.validation import normalize_country, normalize_phone

# White text on each colour has a contrast of at least 4.5:1 (WCAG AA).
STATUS_COLORS: dict[int, str] = {
    OrderStatus.CREATED: "#64748b",
    OrderStatus.DISPATCHING: "#b45309",
    OrderStatus.SCHEDULED: "#2563eb",
    OrderStatus.IN_PROGRESS: "#7c3aed",
    OrderStatus.COMPLETED: "#15803d",
    OrderStatus.DECLINED: "#dc2626",
    OrderStatus.CANCELLED: "#334155",
}


def status_badge(status: int) -> SafeString:
    return format_html(
        '<span class="status-badge" style="background:{};color:#fff;padding:2px 8px;border-radius:10px;'
        'font-size:11px;white-space:nowrap">{}</span>',
        STATUS_COLORS.get(status, "#64748b"),
        STATUS_NAMES.get(status, status),
    )


class EstimatedCountPaginator(Paginator):
    """Exact counts for small tables; on PostgreSQL above ESTIMATE_ABOVE rows the planner's
    estimate of the filtered query (EXPLAIN), so a page view never counts a million rows."""

    ESTIMATE_ABOVE = 100_000

    @cached_property
    def count(self):
        qs = self.object_list
        if connection.vendor == "postgresql" and hasattr(qs, "query"):
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)", [qs.model._meta.db_table]
                )
                row = cursor.fetchone()
                if row and row[0] and row[0] > self.ESTIMATE_ABOVE:
                    sql, params = qs.order_by().values("pk").query.sql_with_params()
                    cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
                    plan = cursor.fetchone()[0]
                    if isinstance(plan, str):
                        plan = json.loads(plan)
                    return int(plan[0]["Plan"]["Plan Rows"])
        return super().count


class ScopedOrderFilter(admin.SimpleListFilter):
    """Base for order filters whose choices come from the user's organizations."""

    lookup = ""

    def queryset(self, request, queryset):
        value = self.value()
        if value:
            pk = selectors.parse_uuid(value)
            return queryset.filter(**{self.lookup: pk}) if pk is not None else queryset.none()
        return queryset


class OrgObjectFilter(ScopedOrderFilter):
    """Choices are the named objects (`model`) of the user's organizations, by name."""

    model: type

    def lookups(self, request, model_admin):
        qs = scope(self.model.objects.order_by("name"), "organization", readable_org_ids(request))
        return [(str(pk), name) for pk, name in qs.values_list("pk", "name")[:200]]


class WorkflowFilter(OrgObjectFilter):
    title = "workflow"
    parameter_name = "workflow"
    lookup = "workflow_id"
    model = Workflow


class TagFilter(OrgObjectFilter):
    title = "tag"
    parameter_name = "tag"
    lookup = "tagged_items__tag_id"
    model = OrderTag


class InstallerFilter(ScopedOrderFilter):
    """Installers that have orders of the user's organizations (an index-only scan per org)."""

    title = "installer"
    parameter_name = "installer"
    lookup = "installer_id"

    def lookups(self, request, model_admin):
        orders = scope(Order.objects.filter(installer__isnull=False), "organization", readable_org_ids(request))
        installer_ids = orders.order_by().values("installer_id").distinct()
        qs = Organization.objects.filter(pk__in=installer_ids).order_by("name")
        return [(str(pk), name) for pk, name in qs.values_list("pk", "name")[:200]]


class TestOrderFilter(admin.SimpleListFilter):
    """Real orders unless asked: test orders (made with test-mode tokens) only when chosen."""

    title = "test orders"
    parameter_name = "test"

    def lookups(self, request, model_admin):
        return [("yes", "Test orders"), ("all", "Real and test orders")]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "all":
            return queryset
        return queryset.filter(test=value == "yes")

    def choices(self, changelist):
        yield {
            "selected": self.value() not in ("yes", "all"),
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "Real orders",
        }
        for lookup, title in self.lookup_choices:
            yield {
                "selected": self.value() == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }


class OrderForm(forms.ModelForm):
    """The editable customer and address fields; saved through services.order_update."""

    class Meta:
        model = Order
        labels = {"name": "Title", "contact_person_name": "Customer name"}
        fields = (
            "name",
            "workplace",
            "contact_person_name",
            "email",
            "phone_number",
            "address",
            "city",
            "postal_code",
            "country_code",
            "latitude",
            "longitude",
        )

    def clean_country_code(self):
        try:
            return normalize_country(self.cleaned_data["country_code"])
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean(self):
        data = super().clean()
        if "phone_number" in data and data.get("phone_number"):
            try:
                data["phone_number"] = normalize_phone(data["phone_number"], data.get("country_code"))
            except ValueError as exc:
                self.add_error("phone_number", str(exc))
        return data


@admin.action(description="Export selected orders to CSV", permissions=["view"])
def export_csv(modeladmin, request, queryset):
    return modeladmin.export_csv_response(request, queryset)


class _Echo:
    def write(self, value):
        return value


CSV_COLUMNS = (
    ("display_id", "Display id"),
    ("status", "Status"),
    ("contact_person_name", "Customer"),
    ("email", "Email"),
    ("phone_number", "Phone"),
    ("address", "Address"),
    ("postal_code", "Postal code"),
    ("city", "City"),
    ("country_code", "Country"),
    ("installer", "Installer"),
    ("workflow", "Workflow"),
    ("source", "Source"),
    ("created_at", "Created"),
)


@admin.register(Order)
class OrderAdmin(TenantScopedAdmin):
    """Orders are created by the API and the webforms; every write goes through an order service.
    Deleting is the `delete` button (soft, through `services.order_delete`), never Django's delete
    view; a deleted order is absent from `Order.objects` and so from every page. Buttons:
    `order_buttons` (see orders.admin.actions); sections after the fieldsets:
    `get_order_sections()`."""

    form = OrderForm
    list_display: tuple[str, ...] = (
        "display_id",
        "status_badge",
        "contact_person_name",
        "city",
        "postal_code",
        "installer",
        "tag_list",
        "created",
    )
    list_display_links = ("display_id",)
    list_select_related: ClassVar[tuple[str, ...]] = ("installer", "organization")
    list_filter = (
        "status",
        WorkflowFilter,
        TagFilter,
        InstallerFilter,
        ("created_at", admin.DateFieldListFilter),
        "source",
        TestOrderFilter,
    )
    search_fields = ("=display_id", "contact_person_name", "email", "phone_number", "address")
    search_help_text = "Display id (exact), customer name, email, phone or address."
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    list_per_page = 50
    actions = [export_csv, cancel_orders]
    order_buttons: tuple[OrderButton, ...] = (
        OrderButton("cancel", "Cancel order…", cancel_view, style="danger"),
        OrderButton("delete", "Delete order…", delete_view, style="danger"),
    )
    change_form_template = "admin/orders/order/change_form.html"
    readonly_fields: ClassVar[tuple[str, ...]] = (
        "display_id",
        "status_badge",
        "organization",
        "workflow",
        "current_step",
        "installer",
        "source",
        "test",
        "tag_list",
        "custom_fields_display",
        "files_display",
        "metadata",
        "cancel_reason",
        "cancel_comment",
        "created",
        "updated",
    )
    fieldsets = (
        (
            None,
            {
                "fields": (
                    "name",
                    "display_id",
                    "status_badge",
                    "organization",
                    "workflow",
                    "current_step",
                    "source",
                    "test",
                )
            },
        ),
        ("Customer", {"fields": ("contact_person_name", "workplace", "email", "phone_number")}),
        ("Address", {"fields": ("address", "postal_code", "city", "country_code", "latitude", "longitude")}),
        ("Installation", {"fields": ("installer", "tag_list")}),
        ("Custom fields", {"fields": ("custom_fields_display",)}),
        ("Files", {"fields": ("files_display",)}),
        ("Other", {"fields": ("metadata", "cancel_reason", "cancel_comment", "created", "updated")}),
    )

    # -- querysets
    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs.prefetch_related(
            Prefetch(
                "tagged_items",
                queryset=TaggedOrder.objects.select_related("tag").only(
                    "content_object_id", "tag__id", "tag__name", "tag__color"
                ),
                to_attr="tagged_list",
            )
        )

    def has_add_permission(self, request):
        return False  # orders come from the API and the webforms

    def has_delete_permission(self, request, obj=None):
        return False  # the `delete` button soft-deletes; no row is ever removed

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.status in (OrderStatus.COMPLETED, OrderStatus.CANCELLED):
            return False
        return super().has_change_permission(request, obj)

    # -- columns
    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj):
        return status_badge(obj.status)

    @admin.display(description="Created", ordering="created_at")
    def created(self, obj):
        """In the order's organization's zone, named (the list, the change page)."""
        return local_html(obj.created_at, zone_of(obj.organization))

    @admin.display(description="Updated", ordering="updated_at")
    def updated(self, obj):
        return local_html(obj.updated_at, zone_of(obj.organization))

    @admin.display(description="Tags")
    def tag_list(self, obj):
        tagged = getattr(obj, "tagged_list", None)
        tags = [t.tag for t in tagged] if tagged is not None else list(obj.tags.all())
        return format_html_join(
            " ",
            '<span style="border:1px solid {};color:{};padding:0 6px;border-radius:8px;font-size:11px">{}</span>',
            ((t.color, t.color, t.name) for t in sorted(tags, key=lambda t: t.name.lower())),
        )

    @admin.display(description="Custom fields")
    def custom_fields_display(self, obj):
        definitions = CustomFieldDefinition.objects.filter(workflow_id=obj.workflow_id).order_by(
            "position", "custom_id"
        )
        values = obj.custom_fields or {}  # keyed by the definition's id
        rows = [(d.label, _format_value(values.get(str(d.pk)))) for d in definitions]
        if not rows:
            return "-"
        return format_html(
            '<table class="custom-fields">{}</table>',
            format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows),
        )

    @admin.display(description="Files")
    def files_display(self, obj):
        files = list(obj.files.order_by("created_at", "id")[:100])
        if not files:
            return "-"
        return format_html(
            "<ul class='order-files'>{}</ul>",
            format_html_join(
                "",
                '<li><a href="{}">{}</a> ({}, {} bytes)</li>',
                ((reverse("admin:orders_file_content", args=[f.pk]), f.name, f.content_type, f.size) for f in files),
            ),
        )

    # -- saving: through the service, like the API
    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in form.changed_data if name in services.UPDATABLE_FIELDS}
        if not data:
            return
        try:
            services.order_update(
                order_id=obj.pk, organization=obj.organization, actor=Actor.for_user(request.user), data=data
            )
        except (Conflict, OrderValidationError, NotFound) as exc:
            messages.error(request, str(exc))

    def save_related(self, request, form, formsets, change):
        pass  # tags, files and events are changed through their own services

    # -- the buttons of the order page and the sections after its fieldsets
    def get_urls(self):
        return [
            path(
                "<path:object_id>/do/<slug:action>/",
                self.admin_site.admin_view(self.order_action_view),
                name="orders_order_action",
            ),
            *super().get_urls(),
        ]

    def get_order_buttons(self, request: HttpRequest, order: Order) -> list[OrderButton]:
        """The buttons this user may use on this order now (see orders.admin.actions)."""
        # The model permission and a writing role; which actions the order's status allows (a
        # completed test order may still be deleted) is `allowed_actions_for`'s to say.
        if not TenantScopedAdmin.has_change_permission(self, request, order):
            return []
        allowed = allowed_actions_for(request, order)
        return [button for button in self.order_buttons if button.name in allowed]

    def get_order_sections(self, request: HttpRequest, order: Order) -> list[dict[str, Any]]:
        """[{key, title, html}] shown after the fieldsets of the order page, for an order the user
        may see. Subclasses extend the list; each keeps to a bounded number of queries."""
        return []

    def order_action_view(self, request: HttpRequest, object_id: str, action: str) -> HttpResponse:
        order = self.get_object(request, object_id)  # 404 for another organization's order
        button = next((b for b in self.get_order_buttons(request, order) if b.name == action), None)
        if button is None:
            raise Http404("This action is not available for this order.")
        return button.view(self, request, order)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        try:
            order = self.get_object(request, object_id)
        except Http404:
            order = None
        if order is not None:
            extra_context["order_actions"] = [
                {
                    "label": button.label,
                    "url": reverse("admin:orders_order_action", args=[order.pk, button.name]),
                    "style": button.style,
                }
                for button in self.get_order_buttons(request, order)
            ]
            extra_context["order_sections"] = self.get_order_sections(request, order)
        return super().change_view(request, object_id, form_url, extra_context)

    # -- CSV export (streaming, bounded memory)
    def export_csv_response(self, request, queryset):
        rows = queryset.select_related("installer", "workflow").order_by("-created_at", "-id")
        writer = csv.writer(_Echo())

        def generate():
            yield writer.writerow([label for _, label in CSV_COLUMNS])
            for order in rows.iterator(chunk_size=2000):
                yield writer.writerow(_csv_row(order))

        response = StreamingHttpResponse(generate(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="orders-{timezone.now():%Y%m%d-%H%M}.csv"'
        return response


def _csv_row(order: Order) -> list:
    values = []
    for name, _ in CSV_COLUMNS:
        if name == "status":
            values.append(STATUS_NAMES[order.status])
        elif name == "installer":
            values.append(order.installer.name if order.installer else "")
        elif name == "workflow":
            values.append(order.workflow.custom_id)
        elif name == "created_at":
            values.append(order.created_at.isoformat())
        else:
            value = str(getattr(order, name) or "")
            # Keep spreadsheet programs from evaluating customer input as formulas.
            values.append("'" + value if value[:1] in ("=", "+", "-", "@") else value)
    return values


def _format_value(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)
