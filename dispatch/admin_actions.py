"""Dispatch in the order back office, through the registries of `orders.admin_actions` and
`backoffice.dashboard` (orders and backoffice never import dispatch).

Buttons on the order page, each calling the same service as the API with the staff user as actor:
- "Dispatch…": the dispatch preview (every candidate, kept or dropped and why) and a choice
  between the routing strategy and one covering installer -> `services.order_dispatch`.
- "Book / rebook…": start, end (the organization's local time), all day -> `services.order_book`.
- "Unbook…", "Start…", "Complete…" -> `order_unbook`, `order_start`, `order_complete`.
A refused call (409, 422, 400) is an error message on the page, never a 500.

Also: the list action "Dispatch selected orders", the "Dispatch" section of the order page
(offers with their state, booking, latest dispatch run) and the dashboard panel "Offers about to
expire". Imported by `dispatch.admin`, so everything is registered when the admin loads.
"""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django import forms
from django.contrib import admin, messages
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.utils import timezone

from backoffice.dashboard import DashboardPanel, register_dashboard_panel
from dispatch import selectors, services
from dispatch.models import Offer, OfferStatus
from installer.admin_tenancy import scope
from installer.api.exceptions import ApiError, Conflict
from orders.actors import Actor
from orders.admin_actions import (
    OrderAdminAction,
    OrderSection,
    allowed_actions_for,
    register_bulk_action,
    register_order_action,
    register_order_section,
    render_action_form,
)
from orders.models import Order, RoutingStrategy

EXPIRING_WITHIN = datetime.timedelta(hours=24)
EXPIRING_LIMIT = 20
BULK_DISPATCH_LIMIT = 200
MAX_BOOKING = datetime.timedelta(days=31)


def _error_text(exc: ApiError) -> str:
    return f"{exc.message} (HTTP {exc.status_code})"


def _posted(request):
    """The POST data for a bound form (a confirmation may post nothing but the CSRF token)."""
    return request.POST if request.method == "POST" else None


def _back_to(order: Order):
    return redirect("admin:orders_order_change", order.pk)


def _booking_text(booking, zone: ZoneInfo) -> str:
    if booking is None:
        return ""
    fmt = "%Y-%m-%d %H:%M"
    start, end = booking.start_at.astimezone(zone), booking.end_at.astimezone(zone)
    return f"{start:{fmt}} – {end:{fmt}}{' (all day)' if booking.all_day else ''} ({zone.key})"


def _org_zone(order: Order) -> ZoneInfo:
    try:
        return ZoneInfo(order.organization.time_zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


# --------------------------------------------------------------------------------------------
# Dispatch with the preview
# --------------------------------------------------------------------------------------------

BY_STRATEGY, MANUAL = "strategy", "manual"


class DispatchForm(forms.Form):
    mode = forms.ChoiceField(label="Send offers", widget=forms.RadioSelect)
    installer = forms.ChoiceField(
        label="Installer",
        required=False,
        help_text="Only partners that cover this order can be chosen.",
    )

    def __init__(self, *args, strategy: str, covering: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        modes = []
        if strategy != RoutingStrategy.MANUAL:
            modes.append((BY_STRATEGY, f"By the routing strategy ({strategy})"))
        modes.append((MANUAL, "Only to the installer chosen below"))
        self.fields["mode"].choices = modes
        self.fields["mode"].initial = modes[0][0]
        self.fields["installer"].choices = [("", "---------"), *covering]

    def clean(self):
        data = super().clean()
        if data.get("mode") == MANUAL and not data.get("installer"):
            self.add_error("installer", "Choose the installer to send the offer to.")
        return data


def _preview_html(request, order: Order, preview: dict) -> str:
    return render_to_string("dispatch/admin/dispatch_preview.html", {"order": order, "p": preview}, request=request)


def dispatch_view(request, order: Order, model_admin):
    preview = selectors.dispatch_preview(order)
    covering = [(c["installer"]["id"], c["installer"]["name"]) for c in preview["candidates"] if c["kept"]]
    form = DispatchForm(_posted(request), strategy=preview["strategy"], covering=covering)
    if request.method == "POST" and form.is_valid():
        installer_id = form.cleaned_data["installer"] if form.cleaned_data["mode"] == MANUAL else None
        try:
            services.order_dispatch(
                order_id=order.pk,
                organization=order.organization,
                actor=Actor.for_user(request.user),
                installer_id=installer_id or None,
            )
        except ApiError as exc:
            messages.error(request, _error_text(exc))
            order.refresh_from_db()
            if "dispatch" not in allowed_actions_for(request, order):
                return _back_to(order)
            preview = selectors.dispatch_preview(order)  # what changed since the page was shown
        else:
            sent = [o.installer.name for o in selectors.order_offers(order.pk) if o.status == OfferStatus.SENT] or [
                "(pre-assigned installer)"
            ]
            messages.success(request, f"Order {order.display_id} dispatched; offer sent to {', '.join(sent)}.")
            return _back_to(order)
    return render_action_form(
        request,
        model_admin,
        title=f"Dispatch order {order.display_id}",
        form=form,
        orders=[order],
        submit="Dispatch",
        preview=_preview_html(request, order, preview),
    )


@admin.action(description="Dispatch selected orders (routing strategy)", permissions=["change"])
def dispatch_orders(modeladmin, request, queryset):
    """Dispatches each selected order by its routing strategy. The queryset is already narrowed
    to the organizations the user may write to; refusals are listed, the others go on."""
    actor = Actor.for_user(request.user)
    done, failed = 0, []
    for order in queryset.select_related("organization").order_by("created_at", "id")[:BULK_DISPATCH_LIMIT]:
        try:
            services.order_dispatch(order_id=order.pk, organization=order.organization, actor=actor)
            done += 1
        except ApiError as exc:
            failed.append(f"{order.display_id}: {_error_text(exc)}")
    modeladmin.message_user(request, f"{done} order(s) dispatched.", messages.SUCCESS)
    for line in failed[:20]:
        modeladmin.message_user(request, line, messages.WARNING)


# --------------------------------------------------------------------------------------------
# Booking, unbooking, start, complete
# --------------------------------------------------------------------------------------------

LOCAL_INPUT = "%Y-%m-%dT%H:%M"


def _local_input(**attrs):
    return forms.DateTimeInput(attrs={"type": "datetime-local", **attrs}, format=LOCAL_INPUT)


class BookForm(forms.Form):
    start_at = forms.DateTimeField(
        label="Start", widget=_local_input(), input_formats=[LOCAL_INPUT, "%Y-%m-%dT%H:%M:%S"]
    )
    end_at = forms.DateTimeField(
        label="End",
        required=False,
        widget=_local_input(),
        input_formats=[LOCAL_INPUT, "%Y-%m-%dT%H:%M:%S"],
        help_text="May be left empty for an all-day booking (then 24 hours).",
    )
    all_day = forms.BooleanField(label="All day", required=False)

    def clean(self):
        data = super().clean()
        start, end = data.get("start_at"), data.get("end_at")
        if start is None:
            return data
        if end is None:
            if not data.get("all_day"):
                self.add_error("end_at", "Required unless the booking is all day.")
                return data
            data["end_at"] = end = start + datetime.timedelta(days=1)
        if end <= start:
            self.add_error("end_at", "Must be after the start.")
        elif end - start > MAX_BOOKING:
            self.add_error("end_at", "A booking lasts at most 31 days.")
        return data


def book_view(request, order: Order, model_admin):
    zone = _org_zone(order)
    booking = selectors.booking_of(order)
    # The inputs are the organization's local time (the admin runs in the server's zone).
    with timezone.override(zone):
        initial = {}
        if booking is not None:
            initial = {
                "start_at": timezone.localtime(booking.start_at),
                "end_at": timezone.localtime(booking.end_at),
                "all_day": booking.all_day,
            }
        form = BookForm(_posted(request), initial=initial)
        if request.method == "POST" and form.is_valid():
            try:
                services.order_book(
                    order_id=order.pk,
                    organization=order.organization,
                    actor=Actor.for_user(request.user),
                    # in the server's zone, as the API passes them (the same event data)
                    start_at=form.cleaned_data["start_at"].astimezone(timezone.get_default_timezone()),
                    end_at=form.cleaned_data["end_at"].astimezone(timezone.get_default_timezone()),
                    all_day=form.cleaned_data["all_day"],
                )
            except Conflict as exc:  # the installer is booked then (or the order moved on)
                form.add_error(None, _error_text(exc))
            except ApiError as exc:
                form.add_error(None, _error_text(exc))
            else:
                verb = "rebooked" if booking is not None else "booked"
                start = timezone.localtime(form.cleaned_data["start_at"]).strftime("%Y-%m-%d %H:%M")
                messages.success(request, f"Order {order.display_id} {verb} from {start} ({zone.key}).")
                return _back_to(order)
        return render_action_form(
            request,
            model_admin,
            title=f"{'Rebook' if booking else 'Book'} order {order.display_id}",
            form=form,
            orders=[order],
            submit="Save booking",
            preview=render_to_string(
                "dispatch/admin/book_intro.html",
                {"order": order, "booking": booking, "booking_text": _booking_text(booking, zone), "zone": zone.key},
                request=request,
            ),
        )


class ConfirmForm(forms.Form):
    pass


class CompleteForm(forms.Form):
    comment = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=5000)


def _simple_action(verb: str, service, form_class=ConfirmForm):
    """A confirmation page that calls one service (unbook, start, complete)."""

    def view(request, order: Order, model_admin):
        form = form_class(_posted(request))
        if request.method == "POST" and form.is_valid():
            try:
                service(
                    order_id=order.pk,
                    organization=order.organization,
                    actor=Actor.for_user(request.user),
                    **form.cleaned_data,
                )
            except ApiError as exc:
                messages.error(request, _error_text(exc))
            else:
                messages.success(request, f"Order {order.display_id}: {verb.lower()} done.")
            return _back_to(order)
        return render_action_form(
            request, model_admin, title=f"{verb} order {order.display_id}", form=form, orders=[order], submit=verb
        )

    return view


def _allows(name: str):
    return lambda request, order: name in allowed_actions_for(request, order)


# --------------------------------------------------------------------------------------------
# The order page section and the dashboard panel
# --------------------------------------------------------------------------------------------


def order_section_context(request, order: Order) -> dict:
    """Three queries whatever the number of offers: offers (with installers), booking, latest run."""
    booking = selectors.booking_of(order)
    return {
        "offers": selectors.order_offers(order.pk),
        "booking": booking,
        "booking_text": _booking_text(booking, _org_zone(order)),
        "run": selectors.latest_run(order.pk),
    }


def expiring_offers(org_ids: list | None, *, now: datetime.datetime | None = None) -> list[Offer]:
    """Open offers of the organizations' orders that expire in the next 24 hours, soonest
    first, at most 20 (one query on the (status, expires_at) index)."""
    now = now or timezone.now()
    qs = Offer.objects.filter(status=OfferStatus.SENT, expires_at__gt=now, expires_at__lte=now + EXPIRING_WITHIN)
    qs = scope(qs, "order__organization", org_ids)
    return list(
        qs.select_related("order", "installer")
        .only(
            "id",
            "expires_at",
            "sent_at",
            "rank",
            "order__id",
            "order__display_id",
            "order__postal_code",
            "order__city",
            "installer__id",
            "installer__name",
        )
        .order_by("expires_at", "id")[:EXPIRING_LIMIT]
    )


def _panel_context(request, org_ids) -> dict:
    return {"offers": expiring_offers(org_ids), "limit": EXPIRING_LIMIT}


# --------------------------------------------------------------------------------------------
# Registration (at admin import)
# --------------------------------------------------------------------------------------------


def register() -> None:
    register_order_action(
        OrderAdminAction(name="dispatch", label="Dispatch…", view=dispatch_view, available=_allows("dispatch"))
    )
    register_order_action(
        OrderAdminAction(name="book", label="Book / rebook…", view=book_view, available=_allows("book"))
    )
    register_order_action(
        OrderAdminAction(
            name="unbook",
            label="Unbook…",
            view=_simple_action("Unbook", services.order_unbook),
            available=_allows("unbook"),
        )
    )
    register_order_action(
        OrderAdminAction(
            name="start", label="Start…", view=_simple_action("Start", services.order_start), available=_allows("start")
        )
    )
    register_order_action(
        OrderAdminAction(
            name="complete",
            label="Complete…",
            view=_simple_action("Complete", services.order_complete, CompleteForm),
            available=_allows("complete"),
        )
    )
    register_bulk_action(dispatch_orders)
    register_order_section(
        OrderSection(
            key="dispatch",
            title="Dispatch: offers and booking",
            template="dispatch/admin/order_section.html",
            context=order_section_context,
            position=10,
        )
    )
    register_dashboard_panel(
        DashboardPanel(
            key="offers_expiring",
            title="Offers about to expire (next 24 hours)",
            template="dispatch/admin/dashboard_offers.html",
            context=_panel_context,
            position=20,
        )
    )
