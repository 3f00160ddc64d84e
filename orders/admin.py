"""Back office registrations. The full tenant-scoped back office is built on top of these."""

import io

from django.contrib import admin
from django.http import Http404, HttpResponse
from django.urls import path, reverse
from django.utils.html import format_html
from PIL import Image

from orders.files import file_delete, file_storage
from orders.models import ApiToken, File, Membership, Order, OrderEvent, OrderTag, Organization, Workflow


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "is_installer", "routing_strategy")
    search_fields = ("name", "slug")


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "organization", "role")
    list_select_related = ("user", "organization")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "prefix", "membership", "created_at", "last_used_at", "revoked_at")
    list_select_related = ("membership__user", "membership__organization")
    readonly_fields = ("prefix", "created_at", "last_used_at")


@admin.register(Workflow)
class WorkflowAdmin(admin.ModelAdmin):
    list_display = ("name", "custom_id", "organization", "is_default", "active")
    list_select_related = ("organization",)


@admin.register(OrderTag)
class OrderTagAdmin(admin.ModelAdmin):
    list_display = ("name", "organization", "color")
    list_select_related = ("organization",)


class OrderEventInline(admin.TabularInline):
    model = OrderEvent
    extra = 0
    can_delete = False
    fields = ("sequence", "type", "from_status", "to_status", "actor_type", "actor_label", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ("display_id", "contact_person_name", "city", "postal_code", "status", "created_at")
    list_select_related = ("organization", "workflow", "installer")
    readonly_fields = ("display_id", "status", "installer", "created_at", "updated_at")
    search_fields = ("display_id", "contact_person_name", "email")
    inlines = [OrderEventInline]
    show_full_result_count = False


# --- Files: read-only, with thumbnails of images ---------------------------------------------------

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
class FileAdmin(admin.ModelAdmin):
    list_display = ("thumbnail", "name", "organization", "order", "content_type", "size", "created_at")
    list_select_related = ("organization", "order")
    list_filter = ("content_type",)
    search_fields = ("name", "sha256", "storage_key")
    fields = (
        "preview",
        "name",
        "organization",
        "order",
        "content_type",
        "size",
        "sha256",
        "storage_key",
        "uploaded_by",
        "created_at",
    )
    readonly_fields = fields
    show_full_result_count = False

    def has_add_permission(self, request):
        return False  # files come in through the API, where their content is checked

    def delete_model(self, request, obj):
        file_delete(file=obj)

    def delete_queryset(self, request, queryset):
        for file in queryset:
            file_delete(file=file)

    def get_urls(self):
        own = [
            path(
                "<uuid:file_id>/thumbnail/",
                self.admin_site.admin_view(self.thumbnail_view),
                name="orders_file_thumbnail",
            )
        ]
        return own + super().get_urls()

    def thumbnail_view(self, request, file_id):
        file = File.objects.filter(pk=file_id).first()
        if file is None or not self.has_view_permission(request, file):
            raise Http404
        data = file_thumbnail_bytes(file)
        if data is None:
            raise Http404
        response = HttpResponse(data, content_type="image/jpeg")
        response["Cache-Control"] = "private, max-age=3600"
        return response

    def _img(self, obj, size):
        if obj is None or obj.content_type not in THUMBNAIL_TYPES:
            return "—"
        url = reverse("admin:orders_file_thumbnail", args=[obj.pk])
        return format_html(
            '<img src="{}" alt="" loading="lazy" style="max-width:{}px;max-height:{}px">', url, size, size
        )

    @admin.display(description="")
    def thumbnail(self, obj):
        return self._img(obj, 64)

    @admin.display(description="Preview")
    def preview(self, obj):
        return self._img(obj, 160)
