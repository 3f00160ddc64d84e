"""The customer's portal page /t/<token>/ and its forms. Every form works without JavaScript:
a POST either redirects back to the page with a confirmation (`?done=<what>`) or shows the page
again with the error beside the form (400 bad input, 409 not possible now, 413/415 bad photo).
An unknown or rotated token is the 404 page; nothing a visitor sends answers 500."""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from dispatch.exceptions import BookingConflict
from installer import throttling
from installer.errors import Conflict, DomainError, InvalidInput, NotFound, TooLarge, UnsupportedType
from orders.models import Order
from portal import ics, presenters, selectors, services
from portal.exceptions import OrderFinished, PortalInvalid
from pricing import customer as customer_quotes
from pricing import services as pricing_services
from pricing.exceptions import PricingInvalid, QuoteConflict
from pricing.models import DecisionChannel
from webforms.views import _private as _no_store


def _private(response):
    """Never stored, never indexed; the secret address never leaves the site in a Referer.
    `same-origin`, not `no-referrer`: with `no-referrer` browsers send `Origin: null` on the
    page's own POST forms, which CSRF checking refuses."""
    response = _no_store(response)
    response["Referrer-Policy"] = "same-origin"
    return response


logger = logging.getLogger("installer.portal")

DONE_TEXT = {
    "booked": _("Your appointment is booked."),
    "reschedule": _("We have sent your request to move the appointment. You will hear from us."),
    "cancel": _("We have sent your request to cancel. You will hear from us."),
    "note": _("Your note was sent."),
    "photo": _("Your photo was added."),
    **customer_quotes.DONE_TEXT,
}

ERROR_TEXT = {
    "finished": _("This order is finished: nothing can be changed any more."),
    "not_now": _("This is not possible for your order right now."),
    "overlap": _("That time was just taken. Please choose another one."),
    "past": _("That time has passed. Please choose another one."),
    "hours": _("The installer does not work at that time. Please choose one of the times shown."),
    "slot": _("Choose one of the times shown."),
    "kind": _("Choose what you want: move the appointment or cancel."),
    "note": _("Write a note first."),
    "long": _("The text is too long (at most 2000 characters)."),
    "photo": _("Choose a photo (JPEG, PNG, GIF, WebP or HEIC)."),
    "photo_type": _("This file is not a photo. Upload a JPEG, PNG, GIF, WebP or HEIC image."),
    "photo_size": _("The photo is too large."),
    "busy": _("Too many attempts. Please wait a minute and try again."),
    **customer_quotes.ERROR_TEXT,
}


def page_language(request, order: Order | None) -> str:
    """The page's language: the visitor's own choice (the language cookie) first, then the
    order's language when orders carry one, then what the middleware took from Accept-Language."""
    chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    codes = {code for code, _name in settings.LANGUAGES}
    if chosen in codes:
        return str(chosen)
    language = getattr(order, "language", None) if order is not None else None
    if isinstance(language, str) and language[:2] in codes:
        return language[:2]
    return translation.get_language() or settings.LANGUAGE_CODE


def _not_found(request):
    return _private(render(request, "webforms/tracking_unknown.html", status=404))


def _page(request, order: Order, *, status: int = 200, errors: dict | None = None, values: dict | None = None):
    language = page_language(request, order)
    with translation.override(language):
        context = presenters.portal_context(order)
        context["quotes"] = customer_quotes.quote_cards(order)
        context["invoiced"] = order.invoice_status != "not_invoiced"
        done = request.GET.get("done")
        context.update(
            {
                "done": DONE_TEXT.get(done) if isinstance(done, str) else None,
                "errors": errors or {},
                "values": values or {},
                "base_url": settings.PUBLIC_BASE_URL,
                "LANGUAGE": language,
            }
        )
        response = render(request, "portal/order.html", context, status=status)
    response["Content-Language"] = language
    return _private(response)


def _load(token: str) -> Order | None:
    return selectors.order_for_portal(token)


def _throttled(request) -> bool:
    limit = int(getattr(settings, "PORTAL_RATE_LIMIT", 10))
    if limit <= 0:
        return False
    allowed, _wait = throttling.hit(f"portal:{throttling.client_ip(request)}", limit, 60)
    return not allowed


@require_GET
def order_page(request, token: str):
    order = _load(token)
    if order is None:
        return _not_found(request)
    return _page(request, order)


def _error_key(exc: DomainError) -> str:
    if isinstance(exc, QuoteConflict):
        return "quote_closed"
    if isinstance(exc, PricingInvalid):
        return "quote_lines"
    if isinstance(exc, OrderFinished):
        return "finished"
    if isinstance(exc, BookingConflict):
        return "overlap"
    details = exc.details or {}
    if isinstance(exc, InvalidInput):
        if "startAt" in details:
            return "past" if "past" in exc.message else "hours"
        if "kind" in details:
            return "kind"
        if "note" in details:
            return "long" if "characters" in exc.message else "note"
        if "message" in details:
            return "long"
        return "slot"
    return "not_now"


def _status_of(exc: DomainError) -> int:
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, Conflict):
        return 409
    if isinstance(exc, TooLarge):
        return 413
    if isinstance(exc, UnsupportedType):
        return 415
    return 400


def _act(request, token: str, form: str, action):
    """Runs one form's action: throttled per client address, then the service; PRG on success."""
    order = _load(token)
    if order is None:
        return _not_found(request)
    if _throttled(request):
        response = _page(request, order, status=429, errors={form: ERROR_TEXT["busy"]})
        response["Retry-After"] = "60"
        return response
    try:
        done = action(order)
    except NotFound:
        return _page(request, order, status=404, errors={form: ERROR_TEXT["not_now"]})
    except DomainError as exc:
        key = _error_key(exc)
        if form == "photo" and isinstance(exc, UnsupportedType):
            key = "photo_type"
        elif form == "photo" and isinstance(exc, TooLarge):
            key = "photo_size"
        elif form == "photo" and isinstance(exc, InvalidInput):
            key = "photo"
        return _page(request, order, status=_status_of(exc), errors={form: ERROR_TEXT[key]}, values=request.POST.dict())
    return redirect(f"/t/{order.client_token}/?done={done}#result")


def _parse_slot(value: str) -> tuple[datetime.datetime, datetime.datetime]:
    try:
        start_text, end_text = value.split("|", 1)
        start, end = datetime.datetime.fromisoformat(start_text), datetime.datetime.fromisoformat(end_text)
    except (ValueError, AttributeError):
        raise PortalInvalid("slot: choose a time.", details={"slot": ["Choose a time."]}) from None
    if start.tzinfo is None or end.tzinfo is None:
        raise PortalInvalid("slot: choose a time.", details={"slot": ["Choose a time."]})
    return start, end


@require_POST
def book(request, token: str):
    def action(order: Order) -> str:
        start, end = _parse_slot(request.POST.get("slot", ""))
        services.client_book(order_id=order.pk, step_id=request.POST.get("step", ""), start_at=start, end_at=end)
        return "booked"

    return _act(request, token, "book", action)


@require_POST
def ask(request, token: str):
    def action(order: Order) -> str:
        kind = request.POST.get("kind", "")
        services.customer_request(order_id=order.pk, kind=kind, message=request.POST.get("message", ""))
        return kind

    return _act(request, token, "request", action)


@require_POST
def note(request, token: str):
    def action(order: Order) -> str:
        services.customer_note(order_id=order.pk, text=request.POST.get("note", ""))
        return "note"

    return _act(request, token, "note", action)


@require_POST
def photo(request, token: str):
    def action(order: Order) -> str:
        upload = request.FILES.get("photo")
        if upload is None:
            raise PortalInvalid("photo: choose a photo.", details={"photo": ["Choose a photo."]})
        services.customer_photo(order=order, content=upload)
        return "photo"

    return _act(request, token, "photo", action)


def _decide_quote(request, token: str, quote_id: str, action: str):
    """Accepts (with the optional lines ticked, `lineIds`) or rejects a sent quote."""

    def run(order: Order) -> str:
        pricing_services.quote_customer_decide(
            order_id=order.pk,
            quote_id=quote_id,
            action=action,
            actor=services.CUSTOMER,
            via=DecisionChannel.CUSTOMER,
            line_ids=request.POST.getlist("lineIds") if action == "accept" else None,
        )
        return f"quote_{action}ed"

    return _act(request, token, "quote", run)


@require_POST
def quote_accept(request, token: str, quote_id: str):
    return _decide_quote(request, token, quote_id, "accept")


@require_POST
def quote_reject(request, token: str, quote_id: str):
    return _decide_quote(request, token, quote_id, "reject")


@require_GET
def appointment_ics(request, token: str):
    """The booking as an .ics file; 404 while there is no appointment."""
    order = _load(token)
    if order is None:
        return _not_found(request)
    booking = selectors.booking_for(order)
    if booking is None:
        return _not_found(request)
    with translation.override(page_language(request, order)):
        body = ics.booking_ics(order, booking)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{ics.ics_filename(order)}"'
    return _private(response)
