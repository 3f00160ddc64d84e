"""The back office's part of the customer's page: an action on the order list that gives the
selected orders' customers new links (the old page and client API links stop working)."""

from __future__ import annotations

from django.contrib import admin, messages

from orders.actors import Actor
from orders.models import Order
from portal import services


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
