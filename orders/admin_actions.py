"""Registries through which other apps extend the order back office without `orders` importing them.

Buttons on the order page (dispatch registers "Dispatch…" and "Book / rebook…"):

    from orders.admin_actions import OrderAdminAction, register_order_action, render_action_form

    def dispatch_view(request, order, model_admin) -> HttpResponse: ...   # GET: preview form, POST: act
    register_order_action(OrderAdminAction(
        name="dispatch", label="Dispatch…", view=dispatch_view,
        available=lambda request, order: "dispatch" in allowed_actions_for(request, order)))

The view is reached at /admin/orders/order/<id>/do/<name>/ (URL name `admin:orders_order_action`,
args [order.pk, name]) only after the order was found in the user's organizations (404 otherwise),
the user may change it (model permission and a writing membership role), and `available` said yes.

Actions on the order list: `register_bulk_action(func)` with an ordinary Django admin action
(`@admin.action(description=..., permissions=["change"])`). Its queryset is already narrowed to the
organizations the user may write to.

Sections on the order page (dispatch shows its offers and the booking), rendered after the
fieldsets of the change form:

    register_order_section(OrderSection(
        key="offers", title="Offers", template="dispatch/admin/order_offers.html",
        context=lambda request, order: {"offers": ...}))

`context` is called only for an order the user may see; keep it to a bounded number of queries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.admin import helpers
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.template.response import TemplateResponse

from installer.admin_tenancy import role_in
from orders import policy, selectors
from orders.models import Order, Role


@dataclass(frozen=True)
class OrderAdminAction:
    name: str  # URL slug, unique
    label: str  # button text
    view: Callable[[HttpRequest, Order, object], HttpResponse]
    available: Callable[[HttpRequest, Order], bool] | None = None
    style: str = ""  # "" or "danger"
    requires_write: bool = True

    def is_available(self, request: HttpRequest, order: Order) -> bool:
        if self.requires_write:
            from django.contrib import admin as django_admin

            model_admin = django_admin.site._registry.get(Order)
            if model_admin is None or not model_admin.has_change_permission(request, order):
                return False
        return self.available is None or bool(self.available(request, order))


ORDER_ACTIONS: list[OrderAdminAction] = []
ORDER_BULK_ACTIONS: list[Callable] = []


def register_order_action(action: OrderAdminAction) -> None:
    """Adds (or replaces, by name) a button on the order page."""
    ORDER_ACTIONS[:] = [a for a in ORDER_ACTIONS if a.name != action.name]
    ORDER_ACTIONS.append(action)


def register_bulk_action(func: Callable) -> None:
    """Adds (or replaces, by function name) an action on the order list."""
    ORDER_BULK_ACTIONS[:] = [f for f in ORDER_BULK_ACTIONS if f.__name__ != func.__name__]
    ORDER_BULK_ACTIONS.append(func)


@dataclass(frozen=True)
class OrderSection:
    key: str  # unique; also the HTML id `order-section-<key>`
    title: str
    template: str  # rendered with `context(request, order)` plus `order` and `request`
    context: Callable[[HttpRequest, Order], dict]
    position: int = 100


ORDER_SECTIONS: list[OrderSection] = []


def register_order_section(section: OrderSection) -> None:
    """Adds (or replaces, by key) a section on the order page."""
    ORDER_SECTIONS[:] = [s for s in ORDER_SECTIONS if s.key != section.key]
    ORDER_SECTIONS.append(section)


def render_order_sections(request: HttpRequest, order: Order) -> list[dict]:
    """[{key, title, html}] of every registered section, by position."""
    return [
        {
            "key": section.key,
            "title": section.title,
            "html": render_to_string(
                section.template, {"order": order, **section.context(request, order)}, request=request
            ),
        }
        for section in sorted(ORDER_SECTIONS, key=lambda s: s.position)
    ]


def admin_viewer(request: HttpRequest, order: Order) -> selectors.Viewer:
    """The staff user as a Viewer of the order's organization (role from the membership;
    superusers act as admin), for `policy.allowed_actions`."""
    return selectors.Viewer(
        organization=order.organization, role=role_in(request, order.organization_id) or Role.VIEWER
    )


def allowed_actions_for(request: HttpRequest, order: Order) -> list[str]:
    """The API's allowedActions for this staff user and order."""
    return policy.allowed_actions(order, admin_viewer(request, order))


def render_action_form(
    request: HttpRequest,
    model_admin,
    *,
    title: str,
    form,
    orders: list[Order],
    submit: str,
    bulk_action: str | None = None,
    preview: str = "",
    extra_context: dict | None = None,
) -> TemplateResponse:
    """An intermediate admin page: the orders concerned, an optional preview (safe HTML), a form.
    With `bulk_action`, the page re-posts the changelist selection to that action with `apply`."""
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "form": form,
        "orders": orders,
        "submit": submit,
        "preview": preview,
        "bulk_action": bulk_action,
        "selected": request.POST.getlist(helpers.ACTION_CHECKBOX_NAME) if bulk_action else [],
        "opts": model_admin.model._meta,
        "app_label": model_admin.model._meta.app_label,
        **(extra_context or {}),
    }
    return TemplateResponse(request, "admin/orders/order/action_form.html", context)
