"""Reads of the partner workspace. The order objects and their masking come from the API's
selectors and presenters (orders.selectors, orders.api.presenters); this module only chooses
which rows a page lists, each list in a constant number of queries."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import Organization
from dispatch.models import Offer, OfferStatus, Partnership
from orders import selectors as order_selectors
from orders.models import Order
from orders.selectors import Viewer


def _still_open(now: datetime.datetime) -> Q:
    return Q(status=OfferStatus.SENT) & (Q(expires_at__isnull=True) | Q(expires_at__gt=now))


def open_offers(installer: Organization, now: datetime.datetime | None = None) -> QuerySet[Offer]:
    """The installer's offers that can still be answered, soonest deadline first. An offer past
    its deadline is not open, whether or not the expiry task has run yet."""
    now = now or timezone.now()
    return (
        Offer.objects.filter(installer=installer, order__deleted_at__isnull=True)
        .filter(_still_open(now))
        .select_related("installer", "order")
        .order_by("expires_at", "sent_at", "id")
    )


def past_offers(installer: Organization, now: datetime.datetime | None = None) -> QuerySet[Offer]:
    """The installer's answered, withdrawn and expired offers, newest first (index
    offer_installer_sent_idx)."""
    now = now or timezone.now()
    return (
        Offer.objects.filter(installer=installer, order__deleted_at__isnull=True)
        .exclude(_still_open(now))
        .select_related("installer", "order")
        .order_by("-sent_at", "-id")
    )


def offer_orders(viewer: Viewer, offers: list[Offer]) -> dict[Any, Order]:
    """The orders of the offers as the API reads them for this viewer (relations loaded, no
    query per order), by order id."""
    ids = [offer.order_id for offer in offers]
    if not ids:
        return {}
    qs = order_selectors.with_order_relations(order_selectors.orders_visible_to(viewer).filter(pk__in=ids), viewer)
    return {order.pk: order for order in qs}


def assigned_jobs(viewer: Viewer) -> QuerySet[Order]:
    """The orders whose installer is the viewer's organization (index order_installer_status_idx),
    newest first, with what the order object reads."""
    qs = Order.objects.filter(installer=viewer.organization).order_by("-created_at", "-id")
    return order_selectors.with_order_relations(qs, viewer)


def job_get(viewer: Viewer, order_id: Any) -> Order | None:
    """An order assigned to the viewer's organization, with its relations; None otherwise (an
    order it only has an offer for included)."""
    order = order_selectors.order_get(viewer, order_id)
    if order is None or order.installer_id != viewer.organization.pk:
        return None
    return order


def partnerships_of(installer: Organization) -> QuerySet[Partnership]:
    """The routers the installer works for, with the coverage each set."""
    return (
        Partnership.objects.filter(installer=installer)
        .select_related("router")
        .prefetch_related("coverage")
        .order_by("router__name", "id")
    )
