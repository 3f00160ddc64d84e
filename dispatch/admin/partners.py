"""Dispatch's own models in the back office, tenant-scoped (accounts.admin_base): a router's
staff see their own partnerships and the offers, dispatch runs and bookings of their own orders.
Partners and coverage are edited here; offers, dispatch runs and bookings are read-only (they
change only through services)."""

from django.contrib import admin

from accounts.admin_base import TenantScopedAdmin, TenantScopedInline
from accounts.models import Organization
from dispatch.models import Booking, CoverageArea, DispatchRun, Offer, Partnership
from installer.forms import JSON_FORMFIELD_OVERRIDES
from scorecards.admin import scorecard_panel


class CoverageAreaInline(TenantScopedInline, admin.TabularInline):
    model = CoverageArea
    parent_tenant_field = "router"
    extra = 1
    fields = ("kind", "country_code", "value", "value_to", "radius_km")


@admin.register(Partnership)
class PartnershipAdmin(TenantScopedAdmin):
    tenant_field = "router"
    list_display = ("router", "installer", "active", "priority", "capacity")
    list_filter = ("active",)
    list_select_related = ("router", "installer")
    search_fields = ("installer__name",)
    inlines = [CoverageAreaInline]
    formfield_overrides = JSON_FORMFIELD_OVERRIDES
    readonly_fields = ("scorecard",)

    @admin.display(description="Scorecard")
    def scorecard(self, obj):
        return scorecard_panel(obj)  # one query; see scorecards.admin

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # Partners are other organizations: any installer company may be chosen.
        if db_field.name == "installer":
            kwargs["queryset"] = Organization.objects.filter(is_installer=True).order_by("name")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ReadOnlyAdmin(TenantScopedAdmin):
    tenant_field = "order__organization"
    show_full_result_count = False

    def get_queryset(self, request):
        # A deleted order's offers, dispatch runs and booking are gone with it.
        return super().get_queryset(request).filter(order__deleted_at__isnull=True)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Offer)
class OfferAdmin(ReadOnlyAdmin):
    list_display = ("order", "installer", "status", "rank", "sent_at", "expires_at", "responded_at")
    list_filter = ("status",)
    list_select_related = ("order", "installer")


@admin.register(DispatchRun)
class DispatchRunAdmin(ReadOnlyAdmin):
    list_display = ("order", "strategy", "offers_at_once", "actor_label", "created_at")
    list_select_related = ("order",)


@admin.register(Booking)
class BookingAdmin(ReadOnlyAdmin):
    list_display = ("order", "installer", "start_at", "end_at", "all_day")
    list_select_related = ("order", "installer")
