"""The order admin with dispatch in it: `OrderAdmin` here subclasses orders' OrderAdmin and is
registered for Order in its place (orders never imports dispatch).

Buttons on the order page, each calling the same service as the API with the staff user as actor:
- "Dispatch…": the dispatch preview (every candidate, kept or dropped and why) and a choice
  between the routing strategy and one covering installer -> `services.order_dispatch`.
- "Book / rebook…": start, end (the organization's local time), all day -> `services.order_book`.
- "Unbook…", "Start…", "Complete…" -> `order_unbook`, `order_start`, `order_complete`; "Start…"
  of a job booked on a later day asks "Start it now anyway?" first.
A refused call (409, 422, 400) is an error message on the page, never a 500.

Also: the list action "Dispatch selected orders", the "Booked" column, the booking beside the
installer, and the "Dispatch" section of the order page (offers with their state, booking,
latest dispatch run).
"""

from __future__ import annotations

import datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import format_html

from accounts.models import RoutingStrategy
from accounts.zones import day_text, local_html, zone_of
from dispatch import selectors, services
from dispatch.models import Booking, OfferStatus
from installer.api.exceptions import status_of
from installer.errors import DomainError
from orders.actors import Actor
from orders.admin import orders as order_admin
from orders.admin.actions import OrderButton, allowed_actions_for, back_to, render_action_form
from orders.models import Order

BULK_DISPATCH_LIMIT = 200
MAX_BOOKING = datetime.timedelta(days=31)


def _error_text(exc: DomainError) -> str:
    return f"{exc.message} (HTTP {status_of(exc)})"


def _posted(request):
    """The POST data for a bound form (a confirmation may post nothing but the CSRF token)."""
    return request.POST if request.method == "POST" else None


def _booking_text(booking: Booking | None, zone: ZoneInfo) -> str:
    if booking is None:
        return ""
    fmt = "%Y-%m-%d %H:%M"
    start, end = booking.start_at.astimezone(zone), booking.end_at.astimezone(zone)
    return f"{start:{fmt}} – {end:{fmt}}{' (all day)' if booking.all_day else ''} ({zone.key})"


def _org_zone(order: Order) -> ZoneInfo:
    return zone_of(order.organization)


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
        mode = cast(forms.ChoiceField, self.fields["mode"])
        mode.choices, mode.initial = modes, modes[0][0]
        cast(forms.ChoiceField, self.fields["installer"]).choices = [("", "---------"), *covering]

    def clean(self):
        data = super().clean()
        if data.get("mode") == MANUAL and not data.get("installer"):
            self.add_error("installer", "Choose the installer to send the offer to.")
        return data


def _preview_html(request, order: Order, preview: dict) -> str:
    return render_to_string("dispatch/admin/dispatch_preview.html", {"order": order, "p": preview}, request=request)


def dispatch_view(model_admin: admin.ModelAdmin, request: HttpRequest, order: Order) -> HttpResponse:
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
        except DomainError as exc:
            messages.error(request, _error_text(exc))
            order.refresh_from_db()
            if "dispatch" not in allowed_actions_for(request, order):
                return back_to(order)
            preview = selectors.dispatch_preview(order)  # what changed since the page was shown
        else:
            sent = [o.installer.name for o in selectors.order_offers(order.pk) if o.status == OfferStatus.SENT] or [
                "(pre-assigned installer)"
            ]
            messages.success(request, f"Order {order.display_id} dispatched; offer sent to {', '.join(sent)}.")
            return back_to(order)
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
        except DomainError as exc:
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
    confirm_past = forms.BooleanField(
        label="Record it although it starts in the past",
        required=False,
        help_text="The API refuses a booking that starts in the past; here it takes this confirmation.",
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("start_at"), data.get("end_at")
        if start is None:
            return data
        if start < timezone.now() and not data.get("confirm_past"):
            self.add_error(
                "confirm_past",
                "The start is in the past. Tick this box to record the booking anyway.",
            )
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


def book_view(model_admin: admin.ModelAdmin, request: HttpRequest, order: Order) -> HttpResponse:
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
            except DomainError as exc:  # e.g. a conflict: the installer is booked then, or the order moved on
                form.add_error(None, _error_text(exc))
            else:
                verb = "rebooked" if booking is not None else "booked"
                start = timezone.localtime(form.cleaned_data["start_at"]).strftime("%Y-%m-%d %H:%M")
                messages.success(request, f"Order {order.display_id} {verb} from {start} ({zone.key}).")
                return back_to(order)
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
    """A confirmation page that calls one service (unbook, complete)."""

    def view(model_admin: admin.ModelAdmin, request: HttpRequest, order: Order) -> HttpResponse:
        form = form_class(_posted(request))
        if request.method == "POST" and form.is_valid():
            try:
                service(
                    order_id=order.pk,
                    organization=order.organization,
                    actor=Actor.for_user(request.user),
                    **form.cleaned_data,
                )
            except DomainError as exc:
                messages.error(request, _error_text(exc))
            else:
                messages.success(request, f"Order {order.display_id}: {verb.lower()} done.")
            return back_to(order)
        return render_action_form(
            request, model_admin, title=f"{verb} order {order.display_id}", form=form, orders=[order], submit=verb
        )

    return view


class StartForm(forms.Form):
    """A confirmation; for a job booked on a later day it also takes an explicit "start now"."""

    def __init__(self, *args, booked_later: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if booked_later:
            self.fields["confirm_early"] = forms.BooleanField(
                label="Start it now anyway",
                required=False,
                help_text="The job is booked for a later day.",
            )

    def clean(self):
        data = super().clean()
        if "confirm_early" in self.fields and not data.get("confirm_early"):
            self.add_error("confirm_early", "The job is booked for a later day. Tick this box to start it now.")
        return data


def start_view(model_admin: admin.ModelAdmin, request: HttpRequest, order: Order) -> HttpResponse:
    """As the other confirmation pages; when the booking is on a later day than today (in the
    organization's zone, read when the page is shown and again when it is posted), the page
    says so and starts the order only with "Start it now anyway" ticked."""
    zone, now = _org_zone(order), timezone.now()
    booking = selectors.booking_of(order)
    booked_later = booking is not None and booking.starts_on_a_later_day(zone, now)
    form = StartForm(_posted(request), booked_later=booked_later)
    if request.method == "POST" and form.is_valid():
        try:
            services.order_start(order_id=order.pk, organization=order.organization, actor=Actor.for_user(request.user))
        except DomainError as exc:
            messages.error(request, _error_text(exc))
        else:
            messages.success(request, f"Order {order.display_id}: start done.")
        return back_to(order)
    preview = ""
    if booked_later:
        assert booking is not None
        booked = day_text(booking.start_at, zone, now=now, with_time=not booking.all_day)
        preview = format_html(
            '<p class="start-warning"><strong>This job is booked for {}. Start it now anyway?</strong></p>', booked
        )
    return render_action_form(
        request,
        model_admin,
        title=f"Start order {order.display_id}",
        form=form,
        orders=[order],
        submit="Start",
        preview=preview,
    )


# --------------------------------------------------------------------------------------------
# The order admin
# --------------------------------------------------------------------------------------------


def _booking_times(booking: Booking | None, fmt: str, zone: ZoneInfo) -> str:
    if booking is None:
        return "-"
    start, end = booking.start_at.astimezone(zone), booking.end_at.astimezone(zone)
    return f"{start.strftime(fmt)} – {end.strftime(fmt)} ({zone.key})"


class OrderAdmin(order_admin.OrderAdmin):
    list_display = (
        "display_id",
        "status_badge",
        "contact_person_name",
        "city",
        "postal_code",
        "installer",
        "booked_date",
        "tag_list",
        "created",
    )
    list_select_related = ("installer", "booking", "organization")
    actions = [*order_admin.OrderAdmin.actions, dispatch_orders]
    order_buttons = (
        *order_admin.OrderAdmin.order_buttons,
        OrderButton("dispatch", "Dispatch…", dispatch_view),
        OrderButton("book", "Book / rebook…", book_view),
        OrderButton("unbook", "Unbook…", _simple_action("Unbook", services.order_unbook)),
        OrderButton("start", "Start…", start_view),
        OrderButton("complete", "Complete…", _simple_action("Complete", services.order_complete, CompleteForm)),
    )
    readonly_fields = (*order_admin.OrderAdmin.readonly_fields, "booking_display")

    def get_fieldsets(self, request, obj=None):
        """The order's fieldsets with the booking beside the installer."""
        return [
            (name, {**options, "fields": ("installer", "booking_display", "tag_list")})
            if name == "Installation"
            else (name, options)
            for name, options in super().get_fieldsets(request, obj)
        ]

    @admin.display(description="Booked")
    def booked_date(self, obj: Order) -> str:
        booking = selectors.booking_of(obj)
        return local_html(booking.start_at, zone_of(obj.organization)) if booking else "-"

    @admin.display(description="Booking")
    def booking_display(self, obj: Order) -> str:
        booking = selectors.booking_of(obj)
        return _booking_times(
            booking, "%Y-%m-%d" if booking and booking.all_day else "%Y-%m-%d %H:%M", zone_of(obj.organization)
        )

    def get_order_sections(self, request: HttpRequest, order: Order) -> list[dict[str, Any]]:
        """Adds "Dispatch: offers and booking": three queries whatever the number of offers
        (offers with installers, booking, latest run)."""
        booking = selectors.booking_of(order)
        context = {
            "order": order,
            "offers": selectors.order_offers(order.pk),
            "booking": booking,
            "booking_text": _booking_text(booking, _org_zone(order)),
            "run": selectors.latest_run(order.pk),
        }
        with timezone.override(_org_zone(order)):  # sent, expires, responded: the organization's zone, named
            html = render_to_string("dispatch/admin/order_section.html", context, request=request)
        return [
            {"key": "dispatch", "title": "Dispatch: offers and booking", "html": html},
            *super().get_order_sections(request, order),
        ]


admin.site.unregister(Order)
admin.site.register(Order, OrderAdmin)
