"""The offers inbox: open offers with the job summary the API gives an installer before it
accepts, Accept and Decline (the API's services, the user as the timeline actor), and past
offers with their outcome."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from dispatch import services as dispatch_services
from dispatch.api.presenters import offer_to_dict
from dispatch.exceptions import OfferNotOpen
from dispatch.models import Offer
from installer.errors import DomainError, NotFound
from orders.api.presenters import order_to_dict
from orders.selectors import parse_uuid
from partners import presenters, selectors
from partners.forms import DeclineForm
from partners.views.common import error_status, error_text
from partners.workspace import Workspace, forbidden, partner_view

OPEN_LIMIT = 100
PAST_PAGE_SIZE = 20


@require_GET
@partner_view
def home(request: HttpRequest) -> HttpResponse:
    """A technician starts at its jobs (it has no offers), everyone else at the offers."""
    ws: Workspace = request.workspace  # type: ignore[attr-defined]
    return redirect("partners:jobs" if ws.only_assigned else "partners:offers")


def _no_offers(request: HttpRequest) -> HttpResponse | None:
    """A technician neither sees nor answers offers: 403, nothing listed."""
    ws: Workspace = request.workspace  # type: ignore[attr-defined]
    if ws.only_assigned:
        return forbidden(request, _("Offers are answered by your company's admin or dispatcher."))
    return None


def _inbox(
    request: HttpRequest, *, status: int = 200, error: str = "", error_offer: str = "", forms: dict | None = None
) -> HttpResponse:
    ws: Workspace = request.workspace  # type: ignore[attr-defined]
    refused = _no_offers(request)
    if refused is not None:
        return refused
    now = timezone.now()
    viewer = ws.viewer
    offers = list(selectors.open_offers(ws.organization, now)[:OPEN_LIMIT])
    orders = selectors.offer_orders(viewer, offers)
    rows: list[dict[str, Any]] = []
    for offer in offers:
        order = orders.get(offer.order_id)
        if order is None:
            continue
        # The API's order object for this viewer: no customer data before acceptance.
        data = order_to_dict(order, viewer)
        rows.append(
            {
                "offer": offer,
                "order": data,
                "fields": presenters.custom_fields(data, skip_empty=True),
                "time_left": presenters.time_left(offer.expires_at, now),
                "deadline": presenters.local_html(offer.expires_at, ws.zone),
                "decline_form": (forms or {}).get(str(offer.pk)) or DeclineForm(auto_id=f"decline-{offer.pk}-%s"),
                "error": error if str(offer.pk) == error_offer else "",
            }
        )
    page = Paginator(selectors.past_offers(ws.organization, now), PAST_PAGE_SIZE).get_page(request.GET.get("page"))
    past = []
    for offer in page.object_list:
        outcome = presenters.offer_outcome(offer, now)
        past.append(
            {
                "offer": offer,
                "summary": offer_to_dict(offer, with_order=True)["order"],
                "outcome": outcome,
                "outcome_label": presenters.outcome_label(outcome),
                "sent": presenters.local_html(offer.sent_at, ws.zone),
                "is_job": offer.order.installer_id == ws.organization.pk,
            }
        )
    context = {
        "ws": ws,
        "rows": rows,
        "past": past,
        "page": page,
        "error": error if not error_offer or not any(r["error"] for r in rows) else "",
        "zone": ws.zone.key,
        "nav": "offers",
    }
    return render(request, "partners/offers.html", context, status=status)


@require_GET
@partner_view
def inbox(request: HttpRequest) -> HttpResponse:
    return _inbox(request)


def _refused(request: HttpRequest, offer_id: str, error: DomainError) -> HttpResponse:
    if isinstance(error, NotFound):
        raise Http404("No such offer.")
    ws: Workspace = request.workspace  # type: ignore[attr-defined]
    taken = False
    if isinstance(error, OfferNotOpen):
        order_installer = (
            Offer.objects.filter(pk=str(offer_id), installer=ws.organization)
            .values_list("order__installer", flat=True)
            .first()
        )
        taken = order_installer is not None and order_installer != ws.organization.pk
    return _inbox(request, status=error_status(error), error=error_text(error, offer_taken=taken), error_offer=offer_id)


def _may_answer(request: HttpRequest) -> HttpResponse | None:
    ws: Workspace = request.workspace  # type: ignore[attr-defined]
    if ws.can_write:
        return None
    return _inbox(request, status=403, error=_("Your role may not answer offers."))


@require_POST
@partner_view
def accept(request: HttpRequest, offer_id: str) -> HttpResponse:
    ws: Workspace = request.workspace  # type: ignore[attr-defined]
    refused = _may_answer(request)
    if refused is not None:
        return refused
    try:
        offer = dispatch_services.offer_accept(offer_id=offer_id, installer=ws.organization, actor=ws.actor)
    except DomainError as error:
        return _refused(request, offer_id, error)
    messages.success(request, _("Offer accepted. The job is yours: book a date with the customer."))
    return redirect("partners:job", order_id=offer.order_id)


@require_POST
@partner_view
def decline(request: HttpRequest, offer_id: str) -> HttpResponse:
    ws: Workspace = request.workspace  # type: ignore[attr-defined]
    refused = _may_answer(request)
    if refused is not None:
        return refused
    if not _is_own(ws, offer_id):
        raise Http404("No such offer.")
    form = DeclineForm(request.POST, auto_id=f"decline-{offer_id}-%s")
    if not form.is_valid():
        return _inbox(request, status=400, forms={offer_id: form})
    try:
        dispatch_services.offer_decline(
            offer_id=offer_id, installer=ws.organization, actor=ws.actor, reason=form.cleaned_data["reason"]
        )
    except DomainError as error:
        return _refused(request, offer_id, error)
    messages.success(request, _("Offer declined."))
    return redirect("partners:offers")


def _is_own(ws: Workspace, offer_id: str) -> bool:
    pk = parse_uuid(offer_id)
    return pk is not None and Offer.objects.filter(pk=pk, installer=ws.organization).exists()
