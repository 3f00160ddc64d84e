"""Files in the back office: list with thumbnails, the bytes for members only, delete through
`orders.files.file_delete` (which removes the stored bytes). Uploads go through the API and the
webforms, never through the admin."""

from __future__ import annotations

import io
import mimetypes

from django.contrib import admin
from django.http import FileResponse, Http404, HttpResponse
from django.urls import path, reverse
from django.utils.html import format_html
from PIL import Image

from accounts.admin_base import TenantScopedAdmin
from orders.files import file_delete, file_storage
from orders.models import File

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
