"""A hand-built timeline: offers, bookings and timeline events written as rows at chosen times,
so that every scorecard figure can be computed by hand."""

from __future__ import annotations

import datetime
import itertools

from django.db.models import Max
from django.utils import timezone

from dispatch.models import Booking, Offer, Partnership
from orders.models import Order, OrderEvent
from orders.tests.factories import OrganizationFactory, create_order

HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)
_names = itertools.count()


def installer(name: str):
    return OrganizationFactory(name=name, slug=f"{name.lower().replace(' ', '-')}-{next(_names)}", is_installer=True)


def partner(router, company, priority: int = 100) -> Partnership:
    return Partnership.objects.create(router=router, installer=company, priority=priority)


def job(router, company=None, *, test: bool = False) -> Order:
    """A router's order, its installer set (as an accepted offer leaves it)."""
    order = create_order(router, test=test, name="Heat pump")
    if company is not None:
        Order.objects.filter(pk=order.pk).update(installer=company)
        order.installer = company
    return order


def offer(order, company, status: str, sent_at, *, answer_after=None, reason: str = "") -> Offer:
    return Offer.objects.create(
        order=order,
        installer=company,
        status=status,
        sent_at=sent_at,
        responded_at=None if answer_after is None else sent_at + answer_after,
        decline_reason=reason,
    )


def book(order, start, hours: int = 4) -> Booking:
    return Booking.objects.create(order=order, installer=order.installer, start_at=start, end_at=start + hours * HOUR)


def event(order, kind: str, at, data=None, actor_type: str = "system") -> OrderEvent:
    """Appends a timeline event recorded at `at` (created_at is set after the insert: it is auto_now_add)."""
    last = OrderEvent.objects.filter(order=order).aggregate(m=Max("sequence"))["m"] or 0
    e = OrderEvent.objects.create(
        order=order,
        organization_id=order.organization_id,
        sequence=last + 1,
        type=kind,
        actor_type=actor_type,
        data=data or {},
    )
    OrderEvent.objects.filter(pk=e.pk).update(created_at=at)
    return e


def now() -> datetime.datetime:
    return timezone.now().replace(microsecond=0)
