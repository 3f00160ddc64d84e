"""Back office registrations. The full tenant-scoped back office is built on top of these."""

from django.contrib import admin

from orders.models import ApiToken, Membership, Order, OrderEvent, OrderTag, Organization, Workflow


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
