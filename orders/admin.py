"""The back office for orders, workflows, tags, files, tokens, memberships and organizations.

Every admin here is tenant-scoped (installer.admin_tenancy). Writes go through the same services
as the API. Other apps add buttons to the order page and actions to the order list through the
registries in `orders.admin_actions` (dispatch: "Dispatch", "Book / rebook").
"""

from __future__ import annotations

import csv
import io
import mimetypes

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ObjectDoesNotExist
from django.core.paginator import Paginator
from django.db import connection
from django.db.models import Prefetch
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from PIL import Image

from installer.admin_tenancy import (
    TenantScopedAdmin,
    TenantScopedInline,
    is_unrestricted,
    readable_org_ids,
    scope,
    writable_org_ids,
)
from orders import services
from orders.actors import Actor
from orders.admin_actions import (
    ORDER_ACTIONS,
    ORDER_BULK_ACTIONS,
    OrderAdminAction,
    allowed_actions_for,
    register_bulk_action,
    register_order_action,
    render_action_form,
    render_order_sections,
)
from orders.api.presenters import custom_field_rows
from orders.exceptions import Conflict, NotFound, OrderValidationError
from orders.files import file_delete, file_storage
from orders.models import (
    STATUS_NAMES,
    ApiToken,
    CancelReason,
    CustomFieldDefinition,
    File,
    Membership,
    Order,
    OrderEvent,
    OrderStatus,
    OrderTag,
    Organization,
    Role,
    TaggedOrder,
    Workflow,
    WorkflowStep,
)
from orders.validation import normalize_country, normalize_phone

STATUS_COLORS = {
    OrderStatus.CREATED: "#64748b",
    OrderStatus.DISPATCHING: "#d97706",
    OrderStatus.SCHEDULED: "#2563eb",
    OrderStatus.IN_PROGRESS: "#7c3aed",
    OrderStatus.COMPLETED: "#16a34a",
    OrderStatus.DECLINED: "#dc2626",
    OrderStatus.CANCELLED: "#334155",
}


def status_badge(status: int):
    return format_html(
        '<span class="status-badge" style="background:{};color:#fff;padding:2px 8px;border-radius:10px;'
        'font-size:11px;white-space:nowrap">{}</span>',
        STATUS_COLORS.get(status, "#64748b"),
        STATUS_NAMES.get(status, status),
    )


# --------------------------------------------------------------------------------------------
# Organizations, memberships, tokens
# --------------------------------------------------------------------------------------------


@admin.register(Organization)
class OrganizationAdmin(TenantScopedAdmin):
    tenant_field = "pk"
    tenant_write_roles = (Role.ADMIN,)
    list_display = ("name", "slug", "is_installer", "routing_strategy", "offers_at_once", "auto_dispatch")
    search_fields = ("name", "slug")
    fieldsets = (
        (None, {"fields": ("name", "slug", "is_installer", "email", "phone_number", "display_id_prefix", "time_zone")}),
        ("Base location", {"fields": ("base_latitude", "base_longitude")}),
        (
            "Routing",
            {
                "fields": (
                    "routing_strategy",
                    "offers_at_once",
                    "offer_deadline_hours",
                    "deadline_skips_weekends",
                    "fallback_enabled",
                    "auto_dispatch",
                )
            },
        ),
    )

    def has_add_permission(self, request):
        return is_unrestricted(request) and super().has_add_permission(request)

    def has_delete_permission(self, request, obj=None):
        return is_unrestricted(request) and super().has_delete_permission(request, obj)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not is_unrestricted(request):
            fields += ["slug", "is_installer", "display_id_prefix"]
        return fields

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        # A new organization comes with its default workflow, like everywhere else.
        created = services.organization_create(
            **{f: form.cleaned_data[f] for f in form.cleaned_data if f in {x.name for x in Organization._meta.fields}}
        )
        obj.pk = created.pk
        obj._state.adding = False


@admin.register(Membership)
class MembershipAdmin(TenantScopedAdmin):
    tenant_write_roles = (Role.ADMIN,)
    list_display = ("user", "organization", "role", "created_at")
    list_select_related = ("user", "organization")
    list_filter = ("role", "organization")
    search_fields = ("user__username", "user__email", "organization__name")
    fields = ("user", "organization", "role")


@admin.action(description="Revoke selected tokens", permissions=["change"])
def revoke_tokens(modeladmin, request, queryset):
    count = 0
    for token in queryset.filter(revoked_at__isnull=True):
        services.api_token_revoke(token=token)
        count += 1
    modeladmin.message_user(request, f"{count} token(s) revoked.", messages.SUCCESS)


class ApiTokenForm(forms.ModelForm):
    class Meta:
        model = ApiToken
        fields = ("membership", "name", "expires_at")


NEW_TOKEN_SESSION_KEY = "backoffice:new-token"


@admin.register(ApiToken)
class ApiTokenAdmin(TenantScopedAdmin):
    tenant_field = "membership__organization"
    tenant_write_roles = (Role.ADMIN,)
    form = ApiTokenForm
    list_display = ("name", "prefix_display", "membership", "state", "created_at", "last_used_at", "expires_at")
    list_select_related = ("membership__user", "membership__organization")
    search_fields = ("name", "prefix", "membership__user__username")
    list_filter = ("revoked_at",)
    actions = [revoke_tokens]
    readonly_fields = ("prefix_display", "state", "created_at", "last_used_at", "revoked_at")

    @admin.display(description="Token")
    def prefix_display(self, obj):
        return f"{obj.prefix}…" if obj.prefix else "-"

    @admin.display(description="State")
    def state(self, obj):
        if obj.revoked_at:
            return "revoked"
        return "active" if obj.is_active else "expired"

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("membership", "name", "expires_at")
        return (
            "name",
            "membership",
            "prefix_display",
            "state",
            "created_at",
            "last_used_at",
            "expires_at",
            "revoked_at",
        )

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return ("membership", "prefix_display", "state", "created_at", "last_used_at", "expires_at", "revoked_at")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "membership":
            qs = Membership.objects.select_related("user", "organization")
            kwargs["queryset"] = scope(qs, "organization", writable_org_ids(request, self.tenant_write_roles))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        token, raw = services.api_token_create(
            membership=form.cleaned_data["membership"],
            name=form.cleaned_data["name"],
            expires_at=form.cleaned_data.get("expires_at"),
        )
        obj.pk, obj.prefix, obj.key_hash, obj.created_at = token.pk, token.prefix, token.key_hash, token.created_at
        obj._state.adding = False
        # Kept server-side only until the next page shows it once (never in a cookie).
        request.session[NEW_TOKEN_SESSION_KEY] = {"id": str(token.pk), "raw": raw}

    def response_add(self, request, obj, post_url_continue=None):
        super().response_add(request, obj, post_url_continue)
        return redirect("admin:orders_apitoken_change", obj.pk)  # where the text is shown once

    def change_view(self, request, object_id, form_url="", extra_context=None):
        pending = request.session.get(NEW_TOKEN_SESSION_KEY)
        if pending and pending.get("id") == str(object_id):
            del request.session[NEW_TOKEN_SESSION_KEY]
            messages.warning(
                request,
                format_html(
                    "New API token: <code class='new-api-token'>{}</code> Copy it now: it is shown only this once.",
                    pending["raw"],
                ),
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def has_delete_permission(self, request, obj=None):
        return False  # revoke instead: the timeline keeps pointing at the token


# --------------------------------------------------------------------------------------------
# Workflows and tags
# --------------------------------------------------------------------------------------------


class WorkflowStepInline(TenantScopedInline, admin.TabularInline):
    model = WorkflowStep
    extra = 0
    fields = ("position", "key", "title", "status", "actor", "required", "descriptions")


class CustomFieldInline(TenantScopedInline, admin.TabularInline):
    model = CustomFieldDefinition
    extra = 0
    fields = ("position", "custom_id", "label", "type", "required", "options", "help_text")


@admin.register(Workflow)
class WorkflowAdmin(TenantScopedAdmin):
    list_display = ("name", "custom_id", "organization", "is_default", "active", "routing_strategy")
    list_select_related = ("organization",)
    list_filter = ("active", "organization")
    search_fields = ("name", "custom_id")
    inlines = [WorkflowStepInline, CustomFieldInline]
    fieldsets = (
        (None, {"fields": ("organization", "custom_id", "name", "description", "active", "is_default")}),
        ("Dispatch", {"fields": ("required_skills",)}),
        (
            "Routing overrides (empty = the organization's setting)",
            {
                "fields": (
                    "routing_strategy",
                    "offers_at_once",
                    "offer_deadline_hours",
                    "deadline_skips_weekends",
                    "fallback_enabled",
                    "auto_dispatch",
                )
            },
        ),
    )

    def has_delete_permission(self, request, obj=None):
        return False  # orders keep pointing at their workflow; deactivate it instead


@admin.register(OrderTag)
class OrderTagAdmin(TenantScopedAdmin):
    list_display = ("name", "swatch", "organization", "created_at")
    list_select_related = ("organization",)
    list_filter = ("organization",)
    search_fields = ("name",)
    fields = ("organization", "name", "color")

    @admin.display(description="Colour")
    def swatch(self, obj):
        return format_html(
            '<span style="display:inline-block;width:14px;height:14px;border-radius:3px;background:{}"></span>',
            obj.color,
        )


# --------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------

INLINE_IMAGE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}


THUMBNAIL_TYPES = {"image/jpeg", "image/png", "image/gif", "image/webp"}
THUMBNAIL_SIZE = (160, 160)
THUMBNAIL_MAX_PIXELS = 50_000_000  # larger images (or decompression bombs) get no thumbnail


def file_thumbnail_bytes(file: File) -> bytes | None:
    """A small JPEG of an image file, or None when it is not an image Pillow can safely open."""
    if file.content_type not in THUMBNAIL_TYPES:
        return None
    try:
        with file_storage().open(file.storage_key, "rb") as fh, Image.open(fh) as image:
            if image.width * image.height > THUMBNAIL_MAX_PIXELS:
                return None
            image.draft("RGB", (THUMBNAIL_SIZE[0] * 2, THUMBNAIL_SIZE[1] * 2))
            image.thumbnail(THUMBNAIL_SIZE)
            out = io.BytesIO()
            image.convert("RGB").save(out, "JPEG", quality=80)
            return out.getvalue()
    except (OSError, ValueError, Image.DecompressionBombError):
        return None


@admin.register(File)
class FileAdmin(TenantScopedAdmin):
    list_display = ("thumbnail", "name", "content_type", "size", "order", "uploaded_by", "created_at")
    list_select_related = ("order",)
    search_fields = ("name", "sha256")
    autocomplete_fields = ("order",)
    fields = ("thumbnail", "name", "organization", "order", "content_type", "size", "sha256", "uploaded_by")
    readonly_fields = ("thumbnail", "content_type", "size", "sha256", "uploaded_by")

    def has_add_permission(self, request):
        return False  # uploads go through the API and the webforms

    @admin.display(description="")
    def thumbnail(self, obj):
        url = reverse("admin:orders_file_content", args=[obj.pk])
        if obj.content_type in THUMBNAIL_TYPES:
            thumb = reverse("admin:orders_file_thumbnail", args=[obj.pk])
            return format_html(
                '<a href="{}"><img src="{}" alt="" loading="lazy" style="max-height:64px;max-width:96px"></a>',
                url,
                thumb,
            )
        return format_html('<a href="{}">download</a>', url)

    def delete_model(self, request, obj):
        file_delete(file=obj)

    def delete_queryset(self, request, queryset):
        for file in queryset:
            file_delete(file=file)

    def thumbnail_view(self, request, object_id):
        """A small JPEG of an image file, for members only."""
        if not self.has_view_permission(request):
            raise Http404("Not found.")
        obj = self.get_object(request, object_id)
        data = file_thumbnail_bytes(obj) if obj is not None else None
        if data is None:
            raise Http404("No thumbnail.")
        response = HttpResponse(data, content_type="image/jpeg")
        response["Cache-Control"] = "private, max-age=3600"
        return response

    def get_urls(self):
        return [
            path(
                "<path:object_id>/content/", self.admin_site.admin_view(self.content_view), name="orders_file_content"
            ),
            path(
                "<path:object_id>/thumbnail/",
                self.admin_site.admin_view(self.thumbnail_view),
                name="orders_file_thumbnail",
            ),
            *super().get_urls(),
        ]

    def content_view(self, request, object_id):
        """The file's bytes, for members only. Only raster images are shown inline."""
        if not self.has_view_permission(request):
            raise Http404("Not found.")
        obj = self.get_object(request, object_id)
        try:
            handle = file_storage().open(obj.storage_key, "rb")
        except (FileNotFoundError, OSError):
            raise Http404("The file's content is missing.") from None
        inline = obj.content_type in INLINE_IMAGE_TYPES
        response = FileResponse(
            handle,
            as_attachment=not inline,
            filename=obj.name,
            content_type=obj.content_type
            if inline
            else (mimetypes.guess_type(obj.name)[0] or "application/octet-stream"),
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "default-src 'none'"
        return response


# --------------------------------------------------------------------------------------------
# Orders
# --------------------------------------------------------------------------------------------


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
                        import json

                        plan = json.loads(plan)
                    return int(plan[0]["Plan"]["Plan Rows"])
        return super().count


class ScopedOrderFilter(admin.SimpleListFilter):
    """Base for order filters whose choices come from the user's organizations."""

    lookup = ""

    def queryset(self, request, queryset):
        value = self.value()
        if value:
            from orders.selectors import parse_uuid

            pk = parse_uuid(value)
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


class OrderForm(forms.ModelForm):
    """The editable customer and address fields; saved through services.order_update."""

    class Meta:
        model = Order
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
    form = OrderForm
    list_display = (
        "display_id",
        "status_badge",
        "contact_person_name",
        "city",
        "postal_code",
        "installer",
        "booked_date",
        "tag_list",
        "created_at",
    )
    list_display_links = ("display_id",)
    list_select_related = ("installer",)
    list_filter = (
        "status",
        WorkflowFilter,
        TagFilter,
        InstallerFilter,
        ("created_at", admin.DateFieldListFilter),
        "source",
    )
    search_fields = ("=display_id", "contact_person_name", "email", "phone_number", "address")
    search_help_text = "Display id (exact), customer name, email, phone or address."
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    list_per_page = 50
    actions = [export_csv]
    change_form_template = "admin/orders/order/change_form.html"
    readonly_fields = (
        "display_id",
        "status_badge",
        "organization",
        "workflow",
        "current_step",
        "installer",
        "booking_display",
        "source",
        "tag_list",
        "custom_fields_display",
        "files_display",
        "metadata",
        "cancel_reason",
        "cancel_comment",
        "created_at",
        "updated_at",
        "timeline",
    )
    fieldsets = (
        (None, {"fields": ("display_id", "status_badge", "organization", "workflow", "current_step", "source")}),
        ("Customer", {"fields": ("name", "workplace", "contact_person_name", "email", "phone_number")}),
        ("Address", {"fields": ("address", "postal_code", "city", "country_code", "latitude", "longitude")}),
        ("Installation", {"fields": ("installer", "booking_display", "tag_list")}),
        ("Custom fields", {"fields": ("custom_fields_display",)}),
        ("Files", {"fields": ("files_display",)}),
        ("Other", {"fields": ("metadata", "cancel_reason", "cancel_comment", "created_at", "updated_at")}),
        ("Timeline", {"fields": ("timeline",)}),
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

    def get_list_select_related(self, request):
        return ("installer", "booking")

    def get_search_results(self, request, queryset, search_term):
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        return queryset, may_have_duplicates

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, extra_context)

    def has_add_permission(self, request):
        return False  # orders come from the API and the webforms

    def has_delete_permission(self, request, obj=None):
        return False  # cancel instead; the timeline is kept

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.status in (OrderStatus.COMPLETED, OrderStatus.CANCELLED):
            return False
        return super().has_change_permission(request, obj)

    def get_actions(self, request):
        actions = super().get_actions(request)
        for func in ORDER_BULK_ACTIONS:
            actions[func.__name__] = self.get_action(func)
        return actions

    # -- columns
    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj):
        return status_badge(obj.status)

    @admin.display(description="Booked")
    def booked_date(self, obj):
        booking = _booking_of(obj)
        if booking is None:
            return "-"
        start = getattr(booking, "start_at", None)
        return timezone.localtime(start).strftime("%Y-%m-%d %H:%M") if start else "-"

    @admin.display(description="Booking")
    def booking_display(self, obj):
        booking = _booking_of(obj)
        if booking is None:
            return "-"
        start, end = getattr(booking, "start_at", None), getattr(booking, "end_at", None)
        fmt = "%Y-%m-%d" if getattr(booking, "all_day", False) else "%Y-%m-%d %H:%M"
        parts = [timezone.localtime(t).strftime(fmt) for t in (start, end) if t]
        return " – ".join(parts) or "-"

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
        rows = custom_field_rows(obj)
        if not rows:
            return "-"
        return format_html(
            '<table class="custom-fields">{}</table>',
            format_html_join(
                "",
                "<tr><th>{}</th><td>{}</td></tr>",
                ((row["label"], _format_value(row["value"])) for row in rows),
            ),
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

    @admin.display(description="Timeline")
    def timeline(self, obj):
        events = list(OrderEvent.objects.filter(order=obj).order_by("-sequence")[:200])
        if not events:
            return "-"
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>",
            (
                (
                    e.sequence,
                    timezone.localtime(e.created_at).strftime("%Y-%m-%d %H:%M:%S"),
                    e.type,
                    _status_change(e),
                    f"{e.actor_type}: {e.actor_label}" if e.actor_label else e.actor_type,
                    _short_json(e.data),
                )
                for e in events
            ),
        )
        return format_html(
            '<table class="order-timeline"><thead><tr><th>#</th><th>When</th><th>Event</th><th>Status</th>'
            "<th>By</th><th>Data</th></tr></thead><tbody>{}</tbody></table>",
            rows,
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

    # -- object tools: the registry of order actions
    def get_urls(self):
        return [
            path(
                "<path:object_id>/do/<slug:action>/",
                self.admin_site.admin_view(self.order_action_view),
                name="orders_order_action",
            ),
            *super().get_urls(),
        ]

    def order_action_view(self, request, object_id, action):
        order = self.get_object(request, object_id)  # 404 for another organization's order
        entry = next((a for a in ORDER_ACTIONS if a.name == action), None)
        if entry is None or not entry.is_available(request, order):
            raise Http404("This action is not available for this order.")
        return entry.view(request, order, self)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        try:
            order = self.get_object(request, object_id)
        except Http404:
            order = None
        if order is not None:
            extra_context["order_actions"] = [
                {
                    "label": a.label,
                    "url": reverse("admin:orders_order_action", args=[order.pk, a.name]),
                    "style": a.style,
                }
                for a in ORDER_ACTIONS
                if a.is_available(request, order)
            ]
            extra_context["order_sections"] = render_order_sections(request, order)
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
            values.append(order.installer.name if order.installer_id else "")
        elif name == "workflow":
            values.append(order.workflow.custom_id)
        elif name == "created_at":
            values.append(order.created_at.isoformat())
        else:
            value = str(getattr(order, name) or "")
            # Keep spreadsheet programs from evaluating customer input as formulas.
            values.append("'" + value if value[:1] in ("=", "+", "-", "@") else value)
    return values


def _booking_of(order: Order):
    """The booking dispatch adds as a reverse one-to-one, or None (never imports dispatch)."""
    try:
        return getattr(order, "booking", None)
    except ObjectDoesNotExist:
        return None


def _format_value(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def _status_change(event: OrderEvent) -> str:
    if event.from_status is None and event.to_status is None:
        return ""
    if event.from_status == event.to_status or event.from_status is None:
        return STATUS_NAMES.get(event.to_status, "")
    return f"{STATUS_NAMES.get(event.from_status)} → {STATUS_NAMES.get(event.to_status)}"


def _short_json(data) -> str:
    import json

    text = json.dumps(data or {}, ensure_ascii=False, default=str)
    return text if len(text) <= 300 else text[:300] + "…"


# --------------------------------------------------------------------------------------------
# Cancel: the example of a registered order action (button + intermediate form + bulk action)
# --------------------------------------------------------------------------------------------


class CancelForm(forms.Form):
    reason = forms.ChoiceField(choices=CancelReason.choices, initial=CancelReason.OTHER)
    comment = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=2000)


def cancel_view(request, order, model_admin):
    """One order: the form, then services.order_cancel (the API's service) and back to the order."""
    form = CancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.order_cancel(
                order_id=order.pk,
                organization=order.organization,
                actor=Actor.for_user(request.user),
                reason=form.cleaned_data["reason"],
                comment=form.cleaned_data["comment"],
            )
        except (Conflict, OrderValidationError, NotFound) as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"Order {order.display_id} cancelled.")
        return redirect("admin:orders_order_change", order.pk)
    return render_action_form(
        request, model_admin, title=f"Cancel order {order.display_id}", form=form, orders=[order], submit="Cancel order"
    )


@admin.action(description="Cancel selected orders…", permissions=["change"])
def cancel_orders(modeladmin, request, queryset):
    """Bulk cancel with one reason. The queryset is already narrowed to writable organizations."""
    form = CancelForm(request.POST if "apply" in request.POST else None)
    if "apply" in request.POST and form.is_valid():
        done, failed = 0, []
        actor = Actor.for_user(request.user)
        for order in queryset.select_related("organization"):
            try:
                services.order_cancel(
                    order_id=order.pk,
                    organization=order.organization,
                    actor=actor,
                    reason=form.cleaned_data["reason"],
                    comment=form.cleaned_data["comment"],
                )
                done += 1
            except (Conflict, OrderValidationError, NotFound) as exc:
                failed.append(f"{order.display_id}: {exc}")
        modeladmin.message_user(request, f"{done} order(s) cancelled.", messages.SUCCESS)
        for line in failed[:20]:
            modeladmin.message_user(request, line, messages.WARNING)
        return None
    orders = list(queryset[:500])
    return render_action_form(
        request,
        modeladmin,
        title="Cancel orders",
        form=form,
        orders=orders,
        submit="Cancel orders",
        bulk_action="cancel_orders",
    )


def _can_cancel(request, order) -> bool:
    return "cancel" in allowed_actions_for(request, order)


register_order_action(
    OrderAdminAction(name="cancel", label="Cancel order…", view=cancel_view, style="danger", available=_can_cancel)
)
register_bulk_action(cancel_orders)
