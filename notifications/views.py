"""The opt-out page behind every customer email's link: GET asks, POST records (both in the
order's language). The token is signed (notifications.context.opt_out_token)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.views.decorators.http import require_http_methods

from notifications import services
from notifications.context import opt_out_order_id
from orders.models import Order
from orders.selectors import parse_uuid


def _private(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex"
    return response


@require_http_methods(["GET", "POST"])
def opt_out(request: HttpRequest, token: str) -> HttpResponse:
    order_id = parse_uuid(opt_out_order_id(token))
    order = Order.objects.select_related("organization").filter(pk=order_id).first() if order_id else None
    if order is None:
        return _private(render(request, "notifications/opt_out.html", {"invalid": True}, status=404))
    done = False
    with translation.override(order.language):
        if request.method == "POST":
            services.opt_out(order=order)
            done = True
        else:
            done = services.opted_out(order=order)
        context = {
            "organization": order.organization.name,
            "display_id": order.display_id,
            "done": done,
            "language": order.language,
        }
        response = render(request, "notifications/opt_out.html", context)
    return _private(response)
