"""Writes of the customer's portal. Each is one transaction with the order row locked; the
timeline event (actor `customer`) and the webhook outbox rows are written in it, through the
orders services (`PendingEvents`, `finish_change`) and dispatch's `order_book`, the same paths the
API and the partner workspace use. Booking goes through `dispatch.services.order_book`, so its
rules hold for the customer too (an overlap is a BookingConflict, 409)."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from dispatch import services as dispatch_services
from installer.errors import Conflict, InvalidInput, UnsupportedType
from orders import files as order_files
from orders import services as order_services
from orders.actors import Actor
from orders.models import ActorType, File, Order, OrderStatus, new_client_token
from portal import selectors
from portal.exceptions import ActionNotOffered, OrderFinished, PortalInvalid, PortalNotFound

# Timeline (and webhook) event types a customer's action records.
RESCHEDULE_REQUESTED = "customer.reschedule_requested"
CANCEL_REQUESTED = "customer.cancel_requested"
NOTE_ADDED = "customer.note_added"
REQUEST_EVENTS = {"reschedule": RESCHEDULE_REQUESTED, "cancel": CANCEL_REQUESTED}
MESSAGE_MAX = 2000

# The customer on the timeline. The label names no person: installers with an open offer read
# the timeline too, and must not learn the customer's name from it.
CUSTOMER = Actor(ActorType.CUSTOMER, "", "customer")


def _lock_live(order_id: Any) -> Order:
    """The order under its row lock; OrderFinished when it is completed or cancelled.
    Precondition: inside `transaction.atomic()`."""
    order = order_services.lock_order(order_id)
    if selectors.is_finished(order):
        raise OrderFinished()
    return order


def _clean_text(value: Any, field: str, *, required: bool) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise PortalInvalid(f"{field}: must be text.", details={field: ["Must be text."]})
    value = value.strip()
    if "\x00" in value:
        raise PortalInvalid(
            f"{field}: must not contain NUL characters.", details={field: ["Must not contain NUL characters."]}
        )
    if required and not value:
        raise PortalInvalid(f"{field}: write a few words.", details={field: ["This field is required."]})
    if len(value) > MESSAGE_MAX:
        raise PortalInvalid(
            f"{field}: at most {MESSAGE_MAX} characters.", details={field: [f"At most {MESSAGE_MAX} characters."]}
        )
    return value


def client_book(
    *,
    order_id: Any,
    step_id: Any,
    start_at: datetime.datetime,
    end_at: datetime.datetime,
    now: datetime.datetime | None = None,
) -> Order:
    """Books (or moves) the order's appointment for the customer through the workflow's booking
    step (`selectors.booking_step`, by id or key). PortalNotFound for another step;
    OrderFinished / ActionNotOffered (409) when the order or workflow does not offer booking
    now; PortalInvalid (400) for a time in the past, an end before the start or a time outside
    the installer's working hours; BookingConflict (409) when the installer is booked then."""
    now = now or timezone.now()
    if start_at.tzinfo is None or end_at.tzinfo is None:
        raise PortalInvalid("startAt: a time needs a UTC offset.", details={"startAt": ["Give a UTC offset."]})
    if end_at <= start_at:
        raise PortalInvalid("endAt: must be after startAt.", details={"endAt": ["Must be after startAt."]})
    if start_at < now:
        raise PortalInvalid("startAt: must not be in the past.", details={"startAt": ["Must not be in the past."]})
    with transaction.atomic():
        order = _lock_live(order_id)
        step = selectors.booking_step(order)
        if step is None or str(step_id) not in (str(step.pk), step.key):
            raise PortalNotFound("This workflow has no such step for you to book.")
        if not selectors.client_may_book(order):
            raise ActionNotOffered("An appointment cannot be chosen now.")
        if not selectors.within_working_hours(order, start_at, end_at):
            raise PortalInvalid(
                "startAt: the installer does not work then; choose one of the free slots.",
                details={"startAt": ["Outside the installer's working hours."]},
            )
        return dispatch_services.order_book(
            order_id=order.pk, organization=order.organization, actor=CUSTOMER, start_at=start_at, end_at=end_at
        )


def customer_request(*, order_id: Any, kind: str, message: str) -> Order:
    """Records the customer's request to reschedule or cancel (`customer.reschedule_requested`,
    `customer.cancel_requested`, data `{"message": ...}`) for the operator and the installer to act
    on: the order itself does not change. Rescheduling needs a booked (scheduled) order."""
    event_type = REQUEST_EVENTS.get(kind) if isinstance(kind, str) else None
    if event_type is None:
        raise PortalInvalid("kind: use reschedule or cancel.", details={"kind": ["Use reschedule or cancel."]})
    text = _clean_text(message, "message", required=False)
    with transaction.atomic():
        order = _lock_live(order_id)
        if kind == "reschedule" and order.status != OrderStatus.SCHEDULED:
            raise ActionNotOffered("There is no appointment to move yet.")
        pending = order_services.PendingEvents(order)
        pending.add(event_type, CUSTOMER, data={"message": text}, from_status=order.status, to_status=order.status)
        order_services.finish_change(order, pending)
    return order


def customer_note(*, order_id: Any, text: str) -> Order:
    """Adds the customer's note to the timeline (`customer.note_added`, data `{"note": ...}`)."""
    note = _clean_text(text, "note", required=True)
    with transaction.atomic():
        order = _lock_live(order_id)
        pending = order_services.PendingEvents(order)
        pending.add(NOTE_ADDED, CUSTOMER, data={"note": note}, from_status=order.status, to_status=order.status)
        order_services.finish_change(order, pending)
    return order


def customer_photo(*, order: Order, content) -> File:
    """Stores a photo from the customer on the order through the file service
    (`orders.files.file_upload`: sniffed, size-checked, `order.updated` naming `files`). Only
    images are taken here (UnsupportedType, 415, otherwise); OrderFinished on a finished order."""
    if selectors.is_finished(order):
        raise OrderFinished()
    info = order_files.inspect(content, name=getattr(content, "name", "") or "")
    if not info.content_type.startswith("image/"):
        raise UnsupportedType("Upload a photo (JPEG, PNG, GIF, WebP or HEIC).", extra={"allowedTypes": ["image/*"]})
    content.seek(0)
    try:
        return order_files.file_upload(
            organization=order.organization,
            content=content,
            actor=CUSTOMER,
            name=getattr(content, "name", "") or "photo",
            order_id=order.pk,
        )
    except Conflict:
        raise OrderFinished() from None


def client_token_rotate(*, order_id: Any, organization_id: Any, actor: Actor) -> Order:
    """Replaces the order's client token: the old link (page and client API) answers 404 from
    now on, the new one works. Recorded as `order.updated` naming `clientUrl`."""
    with transaction.atomic():
        order = order_services.lock_order(order_id)
        if str(order.organization_id) != str(organization_id):
            raise PortalNotFound("Order not found.")
        order.client_token = new_client_token()
        pending = order_services.PendingEvents(order)
        pending.add(
            "order.updated", actor, data={"fields": ["clientUrl"]}, from_status=order.status, to_status=order.status
        )
        order_services.finish_change(order, pending, ["client_token"])
    return order


def working_hours_set(*, installer_id: Any, week: dict[int, tuple[datetime.time, datetime.time]]) -> None:
    """Replaces an installer's working week (weekday -> start, end) in one transaction, under the
    installer organization's row lock so two editors never interleave. At least one day: a week
    without rows means the default week (portal.models.DEFAULT_HOURS), not "never"."""
    from accounts.models import Organization
    from portal.models import WorkingHours

    if not week:
        raise InvalidInput("Choose at least one working day.", details={"week": ["Choose at least one working day."]})
    for weekday, (start, end) in week.items():
        if not 0 <= weekday <= 6 or end <= start:
            raise InvalidInput(
                "Each day must end after it starts.", details={str(weekday): ["Must end after it starts."]}
            )
    with transaction.atomic():
        Organization.objects.select_for_update().filter(pk=installer_id, is_installer=True).get()
        WorkingHours.objects.filter(installer_id=installer_id).delete()
        WorkingHours.objects.bulk_create(
            WorkingHours(installer_id=installer_id, weekday=weekday, start=start, end=end)
            for weekday, (start, end) in sorted(week.items())
        )
