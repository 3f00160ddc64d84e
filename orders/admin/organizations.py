"""Organizations in the back office. Only an organization's admins change one
(`tenant_write_roles = (Role.ADMIN,)`); a superuser creates organizations, through the same service
as everywhere else, so a new organization comes with its default workflow. Memberships and tokens
are in `accounts.admin`.
"""

from __future__ import annotations

from django.contrib import admin

from accounts.admin_base import TenantScopedAdmin, is_unrestricted
from accounts.models import Organization, Role
from orders import services


@admin.register(Organization)
class OrganizationAdmin(TenantScopedAdmin):
    tenant_field = "pk"
    tenant_write_roles = (Role.ADMIN,)
    list_display = ("name", "slug", "is_installer", "routing_strategy", "offers_at_once", "auto_dispatch")
    search_fields = ("name", "slug")
    fieldsets = (
        (None, {"fields": ("name", "slug", "is_installer", "email", "phone_number", "display_id_prefix", "time_zone")}),
        (
            "Invoicing details",
            {
                "fields": (
                    "org_number",
                    "vat_registered",
                    "street_address",
                    "postal_code",
                    "city",
                    "country_code",
                    "bank_account",
                )
            },
        ),
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

    def get_inlines(self, request, obj=None):
        """Inlines marked `installers_only` (an installer's working hours) only on installer pages."""
        is_installer = obj is not None and obj.is_installer
        return [inline for inline in self.inlines if is_installer or not getattr(inline, "installers_only", False)]

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
        obj.refresh_from_db()
