"""Back office registrations: partners and coverage are edited here; offers, dispatch runs and
bookings are read-only (they change only through services)."""

from django.contrib import admin

from dispatch.models import Booking, CoverageArea, DispatchRun, Offer, Partnership


class CoverageAreaInline(admin.TabularInline):
    model = CoverageArea
    extra = 1
    fields = ("kind", "country_code", "value", "value_to", "radius_km")


@admin.register(Partnership)
class PartnershipAdmin(admin.ModelAdmin):
    list_display = ("router", "installer", "active", "priority", "capacity")
    list_filter = ("active",)
    list_select_related = ("router", "installer")
    search_fields = ("router__name", "installer__name")
    inlines = [CoverageAreaInline]


class ReadOnlyAdmin(admin.ModelAdmin):
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
    show_full_result_count = False


@admin.register(DispatchRun)
class DispatchRunAdmin(ReadOnlyAdmin):
    list_display = ("order", "strategy", "offers_at_once", "actor_label", "created_at")
    list_select_related = ("order",)
    show_full_result_count = False


@admin.register(Booking)
class BookingAdmin(ReadOnlyAdmin):
    list_display = ("order", "installer", "start_at", "end_at", "all_day")
    list_select_related = ("order", "installer")
    show_full_result_count = False
