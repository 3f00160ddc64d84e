"""Reads of the customer's portal: the order behind a client token, the workflow steps the
customer sees and their state, what the customer may do now, the installer's free slots and the
messages sent to the customer.

Every function here reads only what the order's read loaded, except `free_slots` (two queries:
the installer's working hours and its bookings in the window) and `messages_for` (one query when
the notifications app is installed)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from accounts.zones import zone_of
from dispatch.models import Booking
from dispatch.selectors import booking_of
from notifications.models import CUSTOMER_CHANNELS, Message, MessageStatus
from orders import transitions, workflow_cache
from orders.models import Order, OrderStatus, StepActor, WorkflowStep
from portal.models import DEFAULT_HOURS, WorkingHours
from webforms.selectors import TOKEN_CHARS

# The statuses a customer follows, in order. `declined` is shown as `dispatching` (from the
# customer's side we are still finding an installer); `cancelled` only on a cancelled order.
PATH = transitions.PATH
# The statuses whose customer step lets the customer book.
BOOKING_STATUSES = (OrderStatus.DISPATCHING, OrderStatus.SCHEDULED)

# The client API's and the page's action names.
BOOK, RESCHEDULE, CANCEL, NOTE, FILES = "book", "requestReschedule", "requestCancel", "addNote", "addFiles"


def order_for_portal(token: str) -> Order | None:
    """The live order behind a client token with its organization, installer, booking and
    workflow, in one query; None for an unknown, rotated or malformed token."""
    if not token or len(token) > 64 or not TOKEN_CHARS.fullmatch(token):
        return None
    return (
        Order.objects.select_related("organization", "installer", "booking", "workflow")
        .filter(client_token=token)
        .first()
    )


def customer_status(order: Order) -> int:
    """The status as the customer sees it: `declined` reads as `dispatching`."""
    return OrderStatus.DISPATCHING if order.status == OrderStatus.DECLINED else order.status


def is_finished(order: Order) -> bool:
    return order.status in transitions.TERMINAL


@dataclass(frozen=True)
class ClientStep:
    id: int
    key: str
    title: str
    description: str
    status: int
    actor: str
    state: str  # "completed" | "current" | "upcoming" | "skipped"
    bookable: bool


def _visible(step: WorkflowStep, order: Order) -> bool:
    if step.status in PATH:
        return True
    return step.status == OrderStatus.CANCELLED and order.status == OrderStatus.CANCELLED


def booking_step(order: Order) -> WorkflowStep | None:
    """The step through which the customer books: the workflow's first step with actor
    `customer` in `dispatching` or `scheduled`. None: this workflow does not let the customer
    book (the customer may still ask to reschedule)."""
    return next(
        (
            s
            for s in workflow_cache.steps(order.workflow)
            if s.actor == StepActor.CUSTOMER and s.status in BOOKING_STATUSES
        ),
        None,
    )


def client_steps(order: Order) -> list[ClientStep]:
    """The workflow's steps the customer sees, in order, each with its state.

    A step is `completed` when it was completed, or when the order is past its status on the
    customer's path; `current` when it is the order's current step (or, with no current step,
    the first open step of the order's status); `skipped` when the order was cancelled before
    reaching it; `upcoming` otherwise. The customer's description of a step is
    `descriptions["customer"]` when the workflow has one."""
    steps = [s for s in workflow_cache.steps(order.workflow) if _visible(s, order)]
    done = set(order.completed_steps or [])
    status = customer_status(order)
    rank = PATH.index(status) if status in PATH else None
    bookable_id = getattr(booking_step(order), "pk", None)
    current_id = order.current_step_id
    if current_id is None or not any(s.pk == current_id for s in steps):
        first_open = next((s for s in steps if s.status == status and s.key not in done), None)
        current_id = first_open.pk if first_open is not None else None
    result = []
    for step in steps:
        if step.key in done or (rank is not None and step.status in PATH and PATH.index(step.status) < rank):
            state = "completed"
        elif step.pk == current_id:
            state = "completed" if order.status == OrderStatus.COMPLETED else "current"
        elif order.status == OrderStatus.CANCELLED:
            state = "skipped"
        elif order.status == OrderStatus.COMPLETED:
            state = "completed"
        else:
            state = "upcoming"
        descriptions = step.descriptions if isinstance(step.descriptions, dict) else {}
        description = descriptions.get("customer")
        result.append(
            ClientStep(
                id=step.pk,
                key=step.key,
                title=step.title,
                description=description if isinstance(description, str) else "",
                status=step.status,
                actor=step.actor,
                state=state,
                bookable=step.pk == bookable_id,
            )
        )
    return result


def client_may_book(order: Order) -> bool:
    """Whether the customer may choose an appointment now: the workflow has a booking step, an
    installer is assigned and the order is dispatching or scheduled."""
    if order.installer_id is None or order.status not in BOOKING_STATUSES:
        return False
    return booking_step(order) is not None


def allowed_actions(order: Order) -> list[str]:
    """What the customer may do now; nothing on a completed or cancelled order."""
    if is_finished(order):
        return []
    actions = []
    if client_may_book(order):
        actions.append(BOOK)
    if order.status == OrderStatus.SCHEDULED:
        actions.append(RESCHEDULE)
    actions.extend([CANCEL, NOTE, FILES])
    return actions


# --------------------------------------------------------------------------------------------
# Free slots
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    start: datetime.datetime  # aware, UTC
    end: datetime.datetime


def slot_minutes() -> int:
    return int(getattr(settings, "PORTAL_SLOT_MINUTES", 120))


def slot_days() -> int:
    return int(getattr(settings, "PORTAL_SLOT_DAYS", 14))


def week_of(installer_id: Any) -> dict[int, tuple[datetime.time, datetime.time]]:
    """The installer's working week (weekday -> start, end); DEFAULT_HOURS when it set none."""
    rows = WorkingHours.objects.filter(installer_id=installer_id).values_list("weekday", "start", "end")
    week = {weekday: (start, end) for weekday, start, end in rows}
    return week or dict(DEFAULT_HOURS)


def _aware(day: datetime.date, at: datetime.time, zone: ZoneInfo) -> datetime.datetime | None:
    """`day` at `at` on the wall clock of `zone`, in UTC; None when that wall-clock time does
    not exist there (the hour skipped when summer time starts)."""
    local = datetime.datetime.combine(day, at, tzinfo=zone)
    utc = local.astimezone(datetime.UTC)
    if utc.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        return None
    return utc


def working_slots(
    week: dict[int, tuple[datetime.time, datetime.time]],
    zone: ZoneInfo,
    *,
    start: datetime.datetime,
    days: int,
    minutes: int,
) -> list[Slot]:
    """Slots of `minutes` on the wall clock of `zone` inside the working hours of each day from
    `start`'s local date for `days` days, starting after `start`. A slot whose start or end does
    not exist on the wall clock (summer time) is left out; one across the autumn change lasts its
    real length."""
    step = datetime.timedelta(minutes=minutes)
    first_day = start.astimezone(zone).date()
    slots: list[Slot] = []
    for offset in range(days):
        day = first_day + datetime.timedelta(days=offset)
        hours = week.get(day.weekday())
        if hours is None:
            continue
        begin = datetime.datetime.combine(day, hours[0])
        close = datetime.datetime.combine(day, hours[1])
        wall = begin
        while wall + step <= close:
            slot_start = _aware(day, wall.time(), zone)
            slot_end = _aware((wall + step).date(), (wall + step).time(), zone)
            wall += step
            if slot_start is None or slot_end is None or slot_end <= slot_start or slot_start <= start:
                continue
            slots.append(Slot(slot_start, slot_end))
    return slots


def free_slots(order: Order, *, now: datetime.datetime | None = None) -> list[Slot]:
    """The assigned installer's free slots for this order: its working hours (in the
    installer's zone) for the next PORTAL_SLOT_DAYS days, from now on, less every slot that
    overlaps one of its bookings of another order. Empty without an installer. Two queries."""
    installer = order.installer
    if installer is None:
        return []
    now = now or timezone.now()
    slots = working_slots(
        week_of(installer.pk), zone_of(installer), start=now, days=slot_days(), minutes=slot_minutes()
    )
    if not slots:
        return []
    busy = list(
        Booking.objects.filter(installer_id=installer.pk, start_at__lt=slots[-1].end, end_at__gt=slots[0].start)
        .exclude(order_id=order.pk)
        .values_list("start_at", "end_at")
    )
    return [s for s in slots if not any(b_start < s.end and b_end > s.start for b_start, b_end in busy)]


def within_working_hours(order: Order, start: datetime.datetime, end: datetime.datetime) -> bool:
    """Whether [start, end) lies inside one working day of the assigned installer (its zone)."""
    installer = order.installer
    if installer is None:
        return False
    zone = zone_of(installer)
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    if local_start.date() != local_end.date() and local_end.time() != datetime.time(0):
        return False
    hours = week_of(installer.pk).get(local_start.weekday())
    if hours is None:
        return False
    return hours[0] <= local_start.time() and local_end.time() <= hours[1] and local_start.date() == local_end.date()


def booking_for(order: Order) -> Booking | None:
    """The order's booking while it means an appointment (scheduled, in progress, completed)."""
    booking = booking_of(order)
    if booking is None or order.status not in (OrderStatus.SCHEDULED, OrderStatus.IN_PROGRESS, OrderStatus.COMPLETED):
        return None
    return booking


# --------------------------------------------------------------------------------------------
# Messages sent to the customer
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SentMessage:
    channel: str
    subject: str
    sent_at: datetime.datetime | None


def messages_for(order: Order) -> list[SentMessage]:
    """The messages sent to the customer of this order (email and SMS), oldest first. One query."""
    rows = Message.objects.filter(order_id=order.pk, status=MessageStatus.SENT, channel__in=CUSTOMER_CHANNELS)
    return [
        SentMessage(channel=row.channel, subject=row.subject or "", sent_at=row.sent_at or row.created_at)
        for row in rows.order_by("sent_at", "pk")
    ]
