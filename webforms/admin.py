"""Back office for webforms: tenant-scoped, with a link to the live form."""

from django.contrib import admin
from django.utils.html import format_html

from accounts.admin_base import TenantScopedAdmin
from installer.forms import JSON_FORMFIELD_OVERRIDES
from webforms.models import Webform


@admin.register(Webform)
class WebformAdmin(TenantScopedAdmin):
    tenant_field = "organization"
    list_display = ("name", "slug", "organization", "workflow", "active", "public_link")
    list_filter = ("active",)
    list_select_related = ("organization", "workflow")
    search_fields = ("name", "slug", "title")
    prepopulated_fields = {"slug": ("name",)}
    filter_horizontal = ("default_tags",)
    readonly_fields = ("created_at", "updated_at")
    formfield_overrides = JSON_FORMFIELD_OVERRIDES

    @admin.display(description="Public page")
    def public_link(self, obj: Webform):
        return format_html('<a href="{}" target="_blank" rel="noopener">{}</a>', obj.public_url, obj.public_url)
