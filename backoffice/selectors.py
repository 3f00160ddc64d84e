"""Reads of the back office's calendar (/admin/calendar/): one organization's installer
partners, their bookings in a period and the orders waiting for a date, each in one query
whatever the number of rows."""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import DateTimeField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from accounts.models import Organization
from dispatch.models import Booking, Offer, OfferStatus, Partnership
from orders.models import Order, OrderStatus, OrderTag, Workflow

UNBOOKED_LIMIT = 50


def calendar_partners(organization: Organization) -> list[Partnership]:
    """The organization's installer partners, active or paused, by priority then name (one
    query; the test installer has no partnership)."""
    return list(
        Partnership.objects.filter(router=organization)
        .select_related("installer")
        .only("id", "active", "priority", "installer__id", "installer__name")
        .order_by("priority", "installer__name", "id")
    )


def _filtered(qs: QuerySet, prefix: str, workflow: Workflow | None, tag: OrderTag | None) -> QuerySet:
    if workflow is not None:
        qs = qs.filter(**{f"{prefix}workflow": workflow})
    if tag is not None:
        qs = qs.filter(**{f"{prefix}tagged_items__tag": tag})
    return qs


def calendar_bookings(
    organization: Organization,
    installer_ids: list[Any],
    start: datetime.datetime,
    end: datetime.datetime,
    *,
    workflow: Workflow | None = None,
    tag: OrderTag | None = None,
) -> list[Booking]:
    """The bookings of the organization's real orders by these installers (its partners) that
    overlap [start, end), soonest first, with the order and its assignee (one query). The scan
    runs on booking_installer_start_idx (installer, start_at) per partner; the tag filter joins
    tagged_order_unique (order, tag). Cancelled, deleted and test orders are left out."""
    if not installer_ids:
        return []
    qs = Booking.objects.filter(
        installer_id__in=installer_ids,
        start_at__lt=end,
        end_at__gt=start,
        order__organization=organization,
        order__deleted_at__isnull=True,
        order__test=False,
    ).exclude(order__status=OrderStatus.CANCELLED)
    qs = _filtered(qs, "order__", workflow, tag)
    return list(
        qs.select_related("order", "order__assignee")
        .only(
            "id",
            "installer_id",
            "start_at",
            "end_at",
            "all_day",
            "order__id",
            "order__display_id",
            "order__name",
            "order__city",
            "order__postal_code",
            "order__status",
            "order__assignee__id",
            "order__assignee__username",
            "order__assignee__first_name",
            "order__assignee__last_name",
        )
        .order_by("start_at", "id")
    )


def _unbooked(organization: Organization, workflow: Workflow | None, tag: OrderTag | None) -> QuerySet[Order]:
    """Orders accepted by an installer (dispatching with an installer; `order_book` moves them to
    scheduled) that have no booking: index order_org_status_idx (organization, status, ...)."""
    qs = Order.objects.filter(
        organization=organization,
        status=OrderStatus.DISPATCHING,
        installer__isnull=False,
        booking__isnull=True,
        test=False,
    )
    return _filtered(qs, "", workflow, tag)


def unbooked_orders(
    organization: Organization,
    *,
    workflow: Workflow | None = None,
    tag: OrderTag | None = None,
    limit: int = UNBOOKED_LIMIT,
) -> tuple[list[Any], int]:
    """The orders waiting for a date, longest waiting first (at most `limit`), and how many
    there are (two queries). `waiting_since` is when the installer accepted the offer (the
    accepted offer's answer, index offer_one_accepted_per_order), or the order's creation when it
    was pre-assigned without an offer."""
    accepted_at = Offer.objects.filter(order=OuterRef("pk"), status=OfferStatus.ACCEPTED).values("responded_at")[:1]
    qs = _unbooked(organization, workflow, tag)
    rows = list(
        qs.select_related("installer", "assignee")
        .annotate(
            waiting_since=Coalesce(Subquery(accepted_at, output_field=DateTimeField()), "created_at"),
        )
        .only(
            "id",
            "display_id",
            "name",
            "city",
            "postal_code",
            "created_at",
            "installer__id",
            "installer__name",
            "assignee__id",
            "assignee__username",
            "assignee__first_name",
            "assignee__last_name",
        )
        .order_by("waiting_since", "id")[:limit]
    )
    return rows, qs.count()
