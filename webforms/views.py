"""Public pages: the webform (/f/<slug>/) and its confirmation (the customer's order page
/t/<token>/ is the portal's: portal.views). They parse the request, call a selector or service, and answer; they work
without JavaScript and never answer 500 for anything a visitor can send."""

from __future__ import annotations

import logging

from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from orders.exceptions import Conflict, DuplicateIdempotencyKey
from orders.models import Order
from orders.validation import language_from_accept
from webforms import presenters, selectors, services, throttle
from webforms.forms import WebformOrderForm
from webforms.models import Webform

logger = logging.getLogger("installer.webforms")

DEMO_SLUG = "demo-ev-charger"

DEFAULT_SUCCESS_TEXT = _(
    "We will now find an installer near you. The installer will contact you to agree a date. "
    "You can follow your request at any time with the link below."
)


def _private(response, *, secret_url: bool = True):
    """Pages with a customer's data or a one-time form are never stored by browsers or proxies.
    Pages whose address is a secret (confirmation, tracking) are never indexed and never leak
    their address through the Referer header. The form itself keeps the default referrer policy:
    with `no-referrer` browsers send `Origin: null` on its POST, which CSRF checking refuses."""
    response["Cache-Control"] = "private, no-store"
    if secret_url:
        response["Referrer-Policy"] = "no-referrer"
        response["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _unavailable(request, webform: Webform | None, status: int):
    return _private(render(request, "webforms/unavailable.html", {"webform": webform}, status=status), secret_url=False)


@require_GET
def landing(request):
    """A tiny landing page: where the back office, the API docs and the demo form are."""
    demo = Webform.objects.filter(slug=DEMO_SLUG, active=True).values("slug", "title").first()
    return render(request, "webforms/landing.html", {"demo": demo})


@require_http_methods(["GET", "HEAD", "POST"])
def webform_page(request, slug: str):
    # Showing the form reads only what the page needs; a submission reads the rows in full.
    webform = selectors.webform_by_slug(slug) if request.method == "POST" else selectors.webform_for_page(slug)
    if webform is None:
        return _unavailable(request, None, 404)
    if not webform.active:
        return _unavailable(request, webform, 410)
    specs = selectors.webform_fields(webform)
    status = 200
    if request.method == "POST":
        allowed, retry_after = throttle.submission_allowed(request)
        if not allowed:
            response = render(request, "webforms/too_many.html", {"webform": webform, "wait": retry_after}, status=429)
            response["Retry-After"] = str(retry_after)
            return _private(response, secret_url=False)
        form = WebformOrderForm(request.POST, request.FILES, specs=specs, allow_photo=webform.allow_photo)
        if form.is_spam:
            logger.info("webform %s: honeypot filled by %s; nothing created", slug, throttle.client_address(request))
            return _private(render(request, "webforms/received.html", {"webform": webform}), secret_url=False)
        form_ok = form.is_valid()
        body = form.to_body()
        if form_ok:
            nonce = form.nonce
            try:
                order = services.webform_order_create(
                    webform=webform,
                    body=body,
                    photo=form.cleaned_data.get("photo"),
                    idempotency_key=f"webform:{nonce}" if nonce else None,
                    language=language_from_accept(request.headers.get("Accept-Language", "")),
                )
                return redirect("webforms:done", slug=webform.slug, token=order.client_token)
            except services.SubmissionInvalid as exc:
                form.add_service_errors(exc.details or {})
            except DuplicateIdempotencyKey as exc:
                # The same page sent twice: show what the first submit made.
                first_id = exc.extra.get("orderId")
                first = Order.objects.filter(pk=first_id, webform_id=webform.pk).first() if first_id else None
                if first is not None:
                    return redirect("webforms:done", slug=webform.slug, token=first.client_token)
                form.add_error(None, _("This form was already sent. Reload the page to send a new request."))
            except Conflict:
                return _unavailable(request, webform, 410)
        else:
            # Also run the order rules on what did parse, so every error shows at once.
            try:
                services.webform_prepare(webform=webform, body=body)
            except services.SubmissionInvalid as exc:
                form.add_service_errors(exc.details or {}, only_where_clean=True)
        status = 400
    else:
        initial = {"country_code": webform.default_country_code} if webform.default_country_code else {}
        form = WebformOrderForm(initial=initial, specs=specs, allow_photo=webform.allow_photo)
    context = {"webform": webform, "form": form, "fields": presenters.form_fields_html(form)}
    return _private(render(request, "webforms/form.html", context, status=status), secret_url=False)


@require_GET
def webform_done(request, slug: str, token: str):
    """The confirmation after a submission: display id, what happens next, the tracking link."""
    order = selectors.order_for_tracking(token)
    webform = Webform.objects.filter(slug=slug).only("id", "slug", "title", "success_text").first()
    if order is None or webform is None or order.webform_id != webform.pk:
        return _unavailable(request, None, 404)
    context = {
        "webform": webform,
        "order": order,
        "success_text": webform.success_text or DEFAULT_SUCCESS_TEXT,
        "tracking_url": order.client_url,
    }
    return _private(render(request, "webforms/done.html", context))
