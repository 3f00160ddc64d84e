"""The back office's part of the customer's page: an action on the order list that gives the
selected orders' customers new links (the old page and client API links stop working), and an
installer company's working hours (the week the customer's appointment slots come from) on its
organization page. Working hours are the installer's own: only its admins change them."""

from __future__ import annotations

from django.contrib import admin, messages

from accounts.admin_base import TenantScopedInline
from accounts.models import Role
from orders.actors import Actor
from orders.admin.organizations import OrganizationAdmin
from orders.models import Order
from portal import services
from portal.models import WorkingHours


@admin.action(description="Give the customers new order-page links (the old ones stop working)", permissions=["change"])
def rotate_client_links(modeladmin, request, queryset):
    """The queryset is the order list's: only orders of the organizations the user may change."""
    actor = Actor.for_user(request.user)
    orders = list(queryset.values_list("pk", "organization_id"))
    for order_id, organization_id in orders:
        services.client_token_rotate(order_id=order_id, organization_id=organization_id, actor=actor)
    modeladmin.message_user(
        request, f"{len(orders)} customer link(s) replaced: the old links no longer open the order.", messages.SUCCESS
    )


order_admin = admin.site.get_model_admin(Order)
order_admin.actions = [*(order_admin.actions or ()), rotate_client_links]


class WorkingHoursInline(TenantScopedInline, admin.TabularInline):
    """One row per working day; none at all means Monday to Friday 08:00-16:00 (portal.models)."""

    model = WorkingHours
    parent_tenant_field = "pk"
    tenant_write_roles = (Role.ADMIN,)
    fields = ("weekday", "start", "end")
    extra = 0
    max_num = 7
    installers_only = True  # OrganizationAdmin shows it on installer companies only
    verbose_name = "working day"
    verbose_name_plural = "Working hours (customers choose appointments within them; none: Mon-Fri 08:00-16:00)"


OrganizationAdmin.inlines = [*OrganizationAdmin.inlines, WorkingHoursInline]
