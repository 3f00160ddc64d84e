"""Buttons on the order page and their intermediate pages.

An order button is declared on the order ModelAdmin, in `order_buttons`, the way Django's
`actions` are declared:

    order_buttons = (OrderButton("cancel", "Cancel order…", cancel_view, style="danger"),)

`view(modeladmin, request, order)` answers GET (the form) and POST (call the service, then back
to the order). It is reached at /admin/orders/order/<id>/do/<name>/ (URL name
`admin:orders_order_action`, args [order.pk, name]) only when the order is one of the user's
organizations' (404 otherwise), the user may change it (model permission and a writing
membership role), and `name` is one of the order's allowed actions for this user (the API's
`allowedActions`). A subclass of the order admin adds buttons by extending the tuple
(dispatch.admin.orders does).

Bulk actions on the order list are ordinary Django admin actions in `actions`; their queryset is
already narrowed to the organizations the user may write to (accounts.admin_base).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse

from accounts.admin_base import role_in
from accounts.models import Role
from orders import policy, selectors, services
from orders.actors import Actor
from orders.exceptions import Conflict, NotFound, OrderValidationError
from orders.models import CancelReason, Order


@dataclass(frozen=True)
class OrderButton:
    name: str  # URL slug and allowed action name, unique per admin
    label: str  # button text
    view: Callable[[Any, HttpRequest, Order], HttpResponse]  # view(modeladmin, request, order)
    style: str = ""  # "" or "danger"


def allowed_actions_for(request: HttpRequest, order: Order) -> list[str]:
    """The API's allowedActions of this order for the staff user: the role comes from the user's
    membership of the order's organization (superusers act as admin)."""
    viewer = selectors.Viewer(
        organization=order.organization, role=role_in(request, order.organization_id) or Role.VIEWER
    )
    return policy.allowed_actions(order, viewer)


def render_action_form(
    request: HttpRequest,
    model_admin: admin.ModelAdmin,
    *,
    title: str,
    form: forms.Form,
    orders: list[Order],
    submit: str,
    bulk_action: str | None = None,
    preview: str = "",
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
    }
    return TemplateResponse(request, "admin/orders/order/action_form.html", context)


def back_to(order: Order) -> HttpResponse:
    return redirect("admin:orders_order_change", order.pk)


class CancelForm(forms.Form):
    reason = forms.ChoiceField(choices=CancelReason.choices, initial=CancelReason.OTHER)
    comment = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=2000)


def cancel_view(model_admin: admin.ModelAdmin, request: HttpRequest, order: Order) -> HttpResponse:
    """One order: the form, then services.order_cancel (the API's service) and back to the order."""
    form = CancelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.order_cancel(
                order_id=order.pk,
                organization=order.organization,
                actor=Actor.for_user(request.user),
                reason=form.cleaned_data["reason"],
                comment=form.cleaned_data["comment"],
            )
        except (Conflict, OrderValidationError, NotFound) as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, f"Order {order.display_id} cancelled.")
        return back_to(order)
    return render_action_form(
        request, model_admin, title=f"Cancel order {order.display_id}", form=form, orders=[order], submit="Cancel order"
    )


def delete_view(model_admin: admin.ModelAdmin, request: HttpRequest, order: Order) -> HttpResponse:
    """One order: a confirmation page, then services.order_delete (the API's service). The order
    is gone afterwards, so the page returns to the order list."""
    form = forms.Form(request.POST if request.method == "POST" else None)
    if form.is_bound and form.is_valid():
        try:
            services.order_delete(
                order_id=order.pk, organization=order.organization, actor=Actor.for_user(request.user)
            )
        except (Conflict, NotFound) as exc:
            messages.error(request, str(exc))
            return back_to(order)
        messages.success(request, f"Order {order.display_id} deleted.")
        return redirect("admin:orders_order_changelist")
    return render_action_form(
        request,
        model_admin,
        title=f"Delete order {order.display_id}",
        form=form,
        orders=[order],
        submit="Delete order",
        preview="The order disappears from every list and read; its webhooks receive order.deleted.",
    )


@admin.action(description="Cancel selected orders…", permissions=["change"])
def cancel_orders(modeladmin, request, queryset):
    """Bulk cancel with one reason. The queryset is already narrowed to writable organizations."""
    form = CancelForm(request.POST if "apply" in request.POST else None)
    if "apply" in request.POST and form.is_valid():
        done, failed = 0, []
        actor = Actor.for_user(request.user)
        for order in queryset.select_related("organization"):
            try:
                services.order_cancel(
                    order_id=order.pk,
                    organization=order.organization,
                    actor=actor,
                    reason=form.cleaned_data["reason"],
                    comment=form.cleaned_data["comment"],
                )
                done += 1
            except (Conflict, OrderValidationError, NotFound) as exc:
                failed.append(f"{order.display_id}: {exc}")
        modeladmin.message_user(request, f"{done} order(s) cancelled.", messages.SUCCESS)
        for line in failed[:20]:
            modeladmin.message_user(request, line, messages.WARNING)
        return None
    return render_action_form(
        request,
        modeladmin,
        title="Cancel orders",
        form=form,
        orders=list(queryset[:500]),
        submit="Cancel orders",
        bulk_action="cancel_orders",
    )
