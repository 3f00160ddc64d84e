"""Booking, rescheduling, unbooking, start and complete."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.models import Organization
from accounts.zones import zone_of
from dispatch import selectors
from dispatch.exceptions import (
    BookingConflict,
    InvalidInput,
    NotFound,
)
from dispatch.models import BOOKING_NO_OVERLAP, Booking
from orders import hooks, policy
from orders.actors import Actor
from orders.exceptions import InvalidTransition
from orders.models import Order, OrderStatus
from orders.services import PendingEvents, files_attach, files_check, finish_change, lock_order, transition

# --------------------------------------------------------------------------------------------
# Booking, start, complete
# --------------------------------------------------------------------------------------------


def _lock_for_party(order_id: Any, organization: Organization, technician_id: Any = None) -> Order:
    """Locks the order if the caller is its router or its assigned installer, and, for a
    technician (`technician_id`, its user id), if the job is assigned to it; 404 otherwise."""
    order = lock_order(order_id)
    if organization.pk not in (order.organization_id, order.installer_id):
        raise NotFound("Order not found.")
    if not policy.technician_may_act(order, technician_id):
        raise NotFound("Order not found.")
    return order


def forget_booking(order: Order) -> None:
    """After the booking row is deleted: the order object answers without it, no re-read."""
    Order.booking.related.set_cached_value(order, None)


def _booking_data(booking: Booking) -> dict:
    return {"startAt": booking.start_at.isoformat(), "endAt": booking.end_at.isoformat(), "allDay": booking.all_day}


def _check_overlap(booking: Booking) -> None:
    """SQLite has no exclusion constraints: check under the write lock SQLite holds (IMMEDIATE)."""
    clash = (
        Booking.objects.filter(
            installer_id=booking.installer_id, start_at__lt=booking.end_at, end_at__gt=booking.start_at
        )
        .exclude(order_id=booking.order_id)
        .select_related("order")
        .first()
    )
    if clash is not None:
        raise BookingConflict(
            f"The installer is already booked from {clash.start_at.isoformat()} to {clash.end_at.isoformat()}.",
            extra={"conflictingOrderId": str(clash.order_id)},
        )


def order_book(
    *,
    order_id: Any,
    organization: Organization,
    actor: Actor,
    start_at: datetime.datetime,
    end_at: datetime.datetime,
    all_day: bool = False,
    technician_id: Any = None,
) -> Order:
    """Books (dispatching with an installer -> scheduled, `booking.created`) or reschedules
    (scheduled stays scheduled, `booking.updated`). Router or assigned installer only.
    409 without an installer, from other statuses, or when the installer is booked then.
    `technician_id` (every verb here): a technician acting, limited to the jobs assigned to it."""
    if end_at <= start_at:
        raise InvalidInput("endAt must be after startAt.", details={"endAt": ["Must be after startAt."]})
    with transaction.atomic():
        order = _lock_for_party(order_id, organization, technician_id)
        if order.status == OrderStatus.DISPATCHING and order.installer_id is None:
            raise InvalidTransition("The order has no installer yet: an installer must accept an offer first.")
        if order.status not in (OrderStatus.DISPATCHING, OrderStatus.SCHEDULED):
            raise InvalidTransition(f"An order in status '{order.status_name}' cannot be booked.")
        installer_id = order.installer_id
        assert installer_id is not None  # dispatching with an installer, or scheduled
        booking = selectors.booking_of(order)
        previous = _booking_data(booking) if booking else None
        if booking is None:
            booking = Booking(order=order, installer_id=installer_id)
        booking.installer_id = installer_id
        booking.start_at, booking.end_at, booking.all_day = start_at, end_at, all_day
        if connection.vendor != "postgresql":
            _check_overlap(booking)
        pending = PendingEvents(order)
        transition(
            order,
            OrderStatus.SCHEDULED,
            actor=actor,
            event_type="booking.updated" if previous else "booking.created",
            pending=pending,
            data={**_booking_data(booking), "previous": previous} if previous else _booking_data(booking),
        )
        try:
            booking.save()
        except IntegrityError as exc:
            if BOOKING_NO_OVERLAP in str(exc):
                raise BookingConflict("The installer already has a booking at that time.") from None
            raise
        finish_change(order, pending)
    order.booking = booking
    return order


def order_unbook(*, order_id: Any, organization: Organization, actor: Actor, technician_id: Any = None) -> Order:
    """scheduled -> dispatching: removes the booking (`booking.cancelled`); the installer stays."""
    with transaction.atomic():
        order = _lock_for_party(order_id, organization, technician_id)
        if order.status != OrderStatus.SCHEDULED:
            raise InvalidTransition(f"An order in status '{order.status_name}' has no booking to remove.")
        booking = selectors.booking_of(order)
        pending = PendingEvents(order)
        transition(
            order,
            OrderStatus.DISPATCHING,
            actor=actor,
            event_type="booking.cancelled",
            pending=pending,
            data=_booking_data(booking) if booking else {},
            enforce_steps=False,  # going back never waits for the steps of the status it leaves
        )
        if booking is not None:
            booking.delete()
            forget_booking(order)
        finish_change(order, pending)
    return order


# `order_start` sets this attribute of the order it returns: the booking when the order was
# started before its booked day, else None.
STARTED_BEFORE_BOOKING = "started_before_booking"


def order_start(
    *,
    order_id: Any,
    organization: Organization,
    actor: Actor,
    technician_id: Any = None,
    now: datetime.datetime | None = None,
) -> Order:
    """scheduled -> in_progress (`order.started`). Router or assigned installer only.

    Starting before the booked day is allowed and recorded: when the booking starts on a later
    calendar day than `now` (default: the current time), both read in the router's time zone,
    the event's data is `{"startedBeforeBooking": true, "bookedStartAt": <the booked start, ISO
    with the zone's offset>}` (else `{}`), and the returned order's `STARTED_BEFORE_BOOKING`
    attribute is the booking (else None), so that callers can warn without reading it again."""
    with transaction.atomic():
        order = _lock_for_party(order_id, organization, technician_id)
        if order.status != OrderStatus.SCHEDULED:
            raise InvalidTransition(f"An order in status '{order.status_name}' cannot be started; book it first.")
        booking = selectors.booking_of(order)  # joined by the lock's read
        zone = zone_of(order.organization)
        early = booking if booking is not None and booking.starts_on_a_later_day(zone, now or timezone.now()) else None
        data = (
            {"startedBeforeBooking": True, "bookedStartAt": early.start_at.astimezone(zone).isoformat()}
            if early
            else None
        )
        pending = PendingEvents(order)
        transition(order, OrderStatus.IN_PROGRESS, actor=actor, event_type="order.started", pending=pending, data=data)
        finish_change(order, pending)
    setattr(order, STARTED_BEFORE_BOOKING, early)
    return order


def order_complete(
    *,
    order_id: Any,
    organization: Organization,
    actor: Actor,
    comment: str = "",
    file_ids: Sequence[Any] = (),
    technician_id: Any = None,
) -> Order:
    """in_progress -> completed (`order.completed`), once every required step of in_progress is
    done (409 naming the step). `file_ids` (the caller's uploads) are attached to the order."""
    with transaction.atomic():
        order = _lock_for_party(order_id, organization, technician_id)
        if order.status != OrderStatus.IN_PROGRESS:
            raise InvalidTransition(f"An order in status '{order.status_name}' cannot be completed.")
        ids = files_check(organization=organization, file_ids=file_ids, order=order) if file_ids else []
        pending = PendingEvents(order)
        transition(
            order,
            OrderStatus.COMPLETED,
            actor=actor,
            event_type="order.completed",
            pending=pending,
            data={"comment": comment or None, "fileIds": ids},
        )
        files_attach(order=order, file_ids=ids)
        hooks.order_completing(order=order, actor=actor, pending=pending)
        finish_change(order, pending)
    return order
