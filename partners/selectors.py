"""Reads of the partner workspace. The order objects and their masking come from the API's
selectors and presenters (orders.selectors, orders.api.presenters); this module only chooses
which rows a page lists, each list in a constant number of queries."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import Invitation, Membership, Organization, Role, hash_token, role_may_work_jobs
from dispatch.models import Booking, Offer, OfferStatus, Partnership
from orders import selectors as order_selectors
from orders.models import Order, OrderStatus
from orders.selectors import Viewer
from partners.models import CalendarFeed


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
    """The orders whose installer is the viewer's organization, newest first, with what the order
    object reads; for a technician only those assigned to its user (index
    order_installer_assignee_idx)."""
    qs = Order.objects.filter(installer=viewer.organization)
    if viewer.only_assigned:
        qs = qs.filter(assignee_id=viewer.technician_id)
    return order_selectors.with_order_relations(qs.order_by("-created_at", "-id"), viewer)


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


def team_members(organization: Organization) -> QuerySet[Membership]:
    """The organization's memberships with their users, by name (one query)."""
    return (
        Membership.objects.filter(organization=organization)
        .select_related("user")
        .order_by("user__first_name", "user__last_name", "user__username", "id")
    )


def assignable_members(organization: Organization) -> list[Membership]:
    """The members a job may be assigned to: active users whose role works jobs (as
    dispatch.services.order_assign checks), by name."""
    roles = [role for role in Role.values if role_may_work_jobs(role)]
    return list(team_members(organization).filter(role__in=roles, user__is_active=True))


def open_invitations(organization: Organization, now: datetime.datetime | None = None) -> QuerySet[Invitation]:
    """The organization's invitations not yet accepted, revoked or expired, newest first (index
    invitation_org_created_idx)."""
    now = now or timezone.now()
    return Invitation.objects.filter(
        organization=organization, accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=now
    ).order_by("-created_at", "-id")


def bookings_between(
    viewer: Viewer, start: datetime.datetime, end: datetime.datetime, limit: int | None = None
) -> QuerySet[Booking]:
    """The bookings of the viewer's organization that overlap [start, end), soonest first, with
    their order and its assignee (one query; index booking_installer_start_idx); a technician's
    only those of jobs assigned to it. Cancelled orders are left out."""
    qs = (
        Booking.objects.filter(
            installer=viewer.organization, start_at__lt=end, end_at__gt=start, order__deleted_at__isnull=True
        )
        .exclude(order__status=OrderStatus.CANCELLED)
        .select_related("order", "order__assignee")
        .order_by("start_at", "id")
    )
    if viewer.only_assigned:
        qs = qs.filter(order__assignee_id=viewer.technician_id)
    return qs[:limit] if limit else qs


def calendar_feed_for_secret(raw: str) -> CalendarFeed | None:
    """The feed of a secret, with its membership, organization and user; None for an unknown
    secret (or one too long to be ours). The lookup is by the secret's SHA-256, so no
    comparison of the secret itself can leak its bytes through timing."""
    if not raw or len(raw) > 100:
        return None
    return (
        CalendarFeed.objects.select_related("membership__organization", "membership__user")
        .filter(secret_hash=hash_token(raw))
        .first()
    )


def has_calendar_feed(membership: Membership) -> bool:
    return CalendarFeed.objects.filter(membership=membership).exists()
