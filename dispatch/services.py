"""Every dispatch write: dispatch, offers (send, accept, decline, expire, withdraw), booking,
start and complete.

Each verb runs in its own transaction on the order's row lock (`orders.services.lock_order`),
moves the order with `orders.services.transition` and writes its timeline events with
`PendingEvents` / `finish_change`. Offer rows change only while their order is locked, so the
order lock serializes every decision about one order: two accepts never both win, an expiry
racing an accept loses cleanly. Background work (offer expiry) is enqueued after commit.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import IntegrityError, connection, transaction
from django.db.models import Case, Exists, Value, When
from django.utils import timezone

from dispatch import selectors, strategies
from dispatch.models import BOOKING_NO_OVERLAP, Booking, DispatchRun, Offer, OfferStatus
from installer.api.exceptions import BadRequest, Conflict, NotFound, Unprocessable
from installer.tasks import enqueues_in_transaction, task_row
from orders.actors import Actor
from orders.exceptions import InvalidTransition
from orders.models import Order, OrderStatus, Organization, RoutingStrategy
from orders.selectors import parse_uuid
from orders.services import PendingEvents, files_attach, files_check, finish_change, lock_order, transition

logger = logging.getLogger(__name__)

UTC = datetime.UTC

# --------------------------------------------------------------------------------------------
# Routing settings and deadlines
# --------------------------------------------------------------------------------------------


def offer_deadline(
    start: datetime.datetime, hours: int, *, skip_weekends: bool = False, time_zone: str = "UTC"
) -> datetime.datetime | None:
    """`hours` after `start`; with `skip_weekends`, hours falling on Saturday or Sunday (in the
    organization's time zone) do not count. 0 hours = the offer never expires."""
    if not hours:
        return None
    if not skip_weekends:
        return start + datetime.timedelta(hours=hours)
    try:
        tz = ZoneInfo(time_zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo("UTC")
    remaining = datetime.timedelta(hours=hours)
    t = start.astimezone(UTC)
    while True:
        local = t.astimezone(tz)
        weekday = local.weekday()
        if weekday >= 5:  # on a weekend: the clock starts again on Monday 00:00
            monday = local.date() + datetime.timedelta(days=7 - weekday)
            t = datetime.datetime.combine(monday, datetime.time(0), tzinfo=tz).astimezone(UTC)
            continue
        saturday = local.date() + datetime.timedelta(days=5 - weekday)
        weekend = datetime.datetime.combine(saturday, datetime.time(0), tzinfo=tz).astimezone(UTC)
        if t + remaining <= weekend:
            return t + remaining
        remaining -= weekend - t
        t = weekend


# --------------------------------------------------------------------------------------------
# Offers: sending, withdrawing, falling back
# --------------------------------------------------------------------------------------------


def _installer_ref(org: Organization) -> dict:
    return {"id": str(org.pk), "name": org.name}


def _schedule_expiry(offers: Sequence[Offer], pending: PendingEvents) -> None:
    """One expiry task per offer for its deadline. With the database task backend on the
    orders' database, the task rows are inserted with the offers (`PendingEvents.insert_with`):
    they commit with the offer or not at all, in the change's one statement. With any other
    backend (a broker), after commit: a rolled-back offer must not leave a task behind, and a
    task lost after commit is caught by `expire_offers`."""
    due = [(str(o.pk), o.expires_at) for o in offers if o.expires_at is not None]
    if not due:
        return
    from dispatch.tasks import expire_offer

    if enqueues_in_transaction(expire_offer, Offer):
        pending.insert_with(
            [task_row(expire_offer.using(run_after=expires_at), offer_id) for offer_id, expires_at in due]
        )
        return

    def enqueue() -> None:
        for offer_id, expires_at in due:
            try:
                expire_offer.using(run_after=expires_at).enqueue(offer_id)
            except Exception:  # the sweep (`manage.py expire_offers`) catches it later
                logger.exception("could not enqueue the expiry of offer %s", offer_id)

    transaction.on_commit(enqueue)


def _send_offers(
    order: Order,
    run: DispatchRun,
    ranked: Sequence[strategies.Candidate],
    routing: strategies.Routing,
    pending: PendingEvents,
    actor: Actor,
    now: datetime.datetime,
) -> list[Offer]:
    """One offer per candidate with its timeline event; the offers are inserted with the events
    by `finish_change` (`PendingEvents.insert_with`). Caller holds the lock."""
    if not ranked:
        return []
    expires_at = offer_deadline(
        now, routing.deadline_hours, skip_weekends=routing.skip_weekends, time_zone=order.organization.time_zone
    )
    offers = [
        Offer(
            order=order,
            installer=c.partnership.installer,
            dispatch_run=run,
            rank=c.rank or 1,
            score=c.score,
            reason=c.reason[:300],
            sent_at=now,
            expires_at=expires_at,
        )
        for c in ranked
    ]
    pending.insert_with(offers)
    for offer in offers:
        pending.add(
            "offer.sent",
            actor,
            data={
                "offerId": str(offer.pk),
                "installer": _installer_ref(offer.installer),
                "rank": offer.rank,
                "expiresAt": expires_at.isoformat() if expires_at else None,
            },
            from_status=order.status,
            to_status=order.status,
        )
    _schedule_expiry(offers, pending)
    return offers


def _withdraw_open_offers(order: Order, pending: PendingEvents, actor: Actor, *, reason: str, now=None) -> int:
    """Withdraws every open offer of the locked order with one UPDATE and one event."""
    count = Offer.objects.filter(order=order, status=OfferStatus.SENT).update(
        status=OfferStatus.WITHDRAWN, responded_at=now or timezone.now()
    )
    if count:
        pending.add(
            "offer.withdrawn",
            actor,
            data={"count": count, "reason": reason},
            from_status=order.status,
            to_status=order.status,
        )
    return count


def _fall_back(order: Order, pending: PendingEvents, actor: Actor, now: datetime.datetime) -> list[Offer]:
    """After a decline or expiry: offer the next candidates of the latest dispatch so that its
    `offers_at_once` stay open; when none is open and nobody is left, the order is declined.
    Caller holds the order lock and has already closed the answered offer."""
    if order.status != OrderStatus.DISPATCHING or order.installer_id is not None:
        return []
    open_count = Offer.objects.filter(order=order, status=OfferStatus.SENT).count()
    routing = strategies.routing_for(order)
    run = selectors.latest_run(order.pk)
    sent: list[Offer] = []
    if run is not None and run.strategy != RoutingStrategy.MANUAL and routing.fallback:
        need = run.offers_at_once - open_count
        if need > 0:
            offered = dict(Offer.objects.filter(dispatch_run=run).values_list("installer_id", "status"))
            candidates = strategies.evaluate(
                order,
                selectors.partnerships_for_dispatch(order.organization),
                required_skills=order.workflow.required_skills or [],
                excluded=offered,
            )
            ranked = strategies.rank(run.strategy, candidates)
            sent = _send_offers(order, run, ranked[:need], routing, pending, actor, now)
    if open_count == 0 and not sent:
        transition(
            order,
            OrderStatus.DECLINED,
            actor=actor,
            event_type="order.declined",
            pending=pending,
            data={"reason": "Every offered installer declined or let the offer expire."},
            enforce_steps=False,  # nobody is left to do the dispatching steps
        )
    return sent


# --------------------------------------------------------------------------------------------
# Dispatch
# --------------------------------------------------------------------------------------------


def _check_dispatchable(order: Order) -> None:
    if order.status in (OrderStatus.CREATED, OrderStatus.DECLINED):
        return
    if order.status == OrderStatus.DISPATCHING and order.installer_id is None:
        return
    if order.status == OrderStatus.DISPATCHING:
        raise InvalidTransition("The order already has an installer; unassigned orders only can be dispatched.")
    raise InvalidTransition(f"An order in status '{order.status_name}' cannot be dispatched.")


def order_dispatch(*, order_id: Any, organization: Organization, actor: Actor, installer_id: Any = None) -> Order:
    """Sends the order's offers: created / declined / dispatching-without-installer -> dispatching.

    Without `installer_id` the routing strategy ranks the candidates and `offers_at_once` of them
    get an offer; with it, only that installer (it must be a covering, active partner). A
    re-dispatch withdraws the open offers first. An order pre-assigned at create
    (`actorAssignments`) moves to dispatching with its installer and no offers.
    Raises InvalidTransition (409) from other statuses, Unprocessable (422) when no installer
    covers the order (nothing changes), BadRequest (400) for an unknown installer or a `manual`
    strategy without `installer_id`.
    """
    with transaction.atomic():
        order = lock_order(order_id, organization=organization)
        _check_dispatchable(order)
        pending = PendingEvents(order)
        now = timezone.now()
        if order.status == OrderStatus.CREATED and order.installer_id is not None and installer_id in (None, ""):
            transition(
                order,
                OrderStatus.DISPATCHING,
                actor=actor,
                event_type="order.dispatched",
                pending=pending,
                data={"strategy": "preassigned", "installer": {"id": str(order.installer_id)}},
            )
            finish_change(order, pending)
            order.offer_list = []  # a created order has no offers
            return order
        strategy, routing, ranked, candidates = selectors.dispatch_plan(order, installer_id=installer_id)
        if strategy == RoutingStrategy.MANUAL and not ranked:
            raise BadRequest(
                "installerId: the manual routing strategy needs the installer to dispatch to.",
                details={"installerId": ["Required by the manual routing strategy."]},
            )
        if not ranked:
            raise Unprocessable(
                f"No installer partner covers this order ({order.country_code} {order.postal_code}).",
                extra={"candidates": strategies.explanation(candidates)},
            )
        at_once = 1 if strategy == RoutingStrategy.MANUAL else routing.offers_at_once
        if order.status == OrderStatus.DISPATCHING:
            _withdraw_open_offers(order, pending, actor, reason="redispatched", now=now)
        # The run, its offers and the events are inserted by finish_change below, in one
        # statement on PostgreSQL (a data-modifying CTE).
        run = DispatchRun(
            order=order,
            strategy=strategy,
            offers_at_once=at_once,
            actor_label=actor.label[:200],
            candidates=strategies.explanation(candidates),
        )
        pending.insert_with([run])
        first_dispatch = order.status == OrderStatus.CREATED  # before transition() below
        transition(
            order,
            OrderStatus.DISPATCHING,
            actor=actor,
            event_type="order.dispatched",
            pending=pending,
            data={"strategy": strategy, "offersAtOnce": at_once, "dispatchRunId": str(run.pk)},
        )
        sent = _send_offers(order, run, ranked[:at_once], routing, pending, actor, now)
        finish_change(order, pending)
    if first_dispatch:
        # Offers exist only from a dispatch on: a created order's offers are the ones just sent.
        order.offer_list = sent
    return order


# --------------------------------------------------------------------------------------------
# Answering offers
# --------------------------------------------------------------------------------------------


def _offer_of(installer: Organization, offer_id: Any) -> Offer:
    offer = selectors.offer_for_installer(installer, offer_id)
    if offer is None:
        raise NotFound("Offer not found.")
    return offer


def _not_open(offer: Offer) -> Conflict:
    current = Offer.objects.filter(pk=offer.pk).values_list("status", flat=True).first() or offer.status
    return Conflict(f"The offer is {current}; only a sent offer can be answered.", extra={"offerStatus": current})


def _close_offer(offer: Offer, status: str, now: datetime.datetime, **fields: Any) -> bool:
    """Closes an open offer with one conditional UPDATE; False if it was no longer open."""
    updated = Offer.objects.filter(pk=offer.pk, status=OfferStatus.SENT).update(
        status=status, responded_at=now, **fields
    )
    if updated:
        offer.status, offer.responded_at = status, now
        for name, value in fields.items():
            setattr(offer, name, value)
    return bool(updated)


def offer_accept(*, offer_id: Any, installer: Organization, actor: Actor) -> Offer:
    """The installer takes the order: it becomes the order's installer (`order.assigned`), the
    order stays dispatching until booked, and every other open offer is withdrawn.

    Locks the order row first, so of two accepts at the same instant exactly one wins; the other
    finds its offer withdrawn (409). An offer past its deadline cannot be accepted (409) even if
    the expiry task has not run yet. The partial unique index on accepted offers backs this up.
    """
    with transaction.atomic():
        offer = _lock_offer_and_order(installer, offer_id)
        order = offer.order
        now = timezone.now()
        if offer.status == OfferStatus.SENT and offer.expires_at is not None and offer.expires_at <= now:
            raise Conflict("The offer has expired.", extra={"offerStatus": OfferStatus.EXPIRED})
        if order.status != OrderStatus.DISPATCHING or order.installer_id is not None:
            error = _not_open(offer)
            if error.extra["offerStatus"] == OfferStatus.SENT:
                error = Conflict(f"The order is no longer open for offers ({order.status_name}).")
            raise error
        # One UPDATE accepts this offer and withdraws the order's other open ones, and changes
        # nothing unless this offer is still open (read now, under the order lock).
        changed = (
            Offer.objects.filter(order=order, status=OfferStatus.SENT)
            .filter(Exists(Offer.objects.filter(pk=offer.pk, status=OfferStatus.SENT)))
            .update(
                status=Case(When(pk=offer.pk, then=Value(OfferStatus.ACCEPTED)), default=Value(OfferStatus.WITHDRAWN)),
                responded_at=now,
            )
        )
        if not changed:
            raise _not_open(offer)
        offer.status, offer.responded_at = OfferStatus.ACCEPTED, now
        order.installer = installer
        pending = PendingEvents(order)
        transition(
            order,
            OrderStatus.DISPATCHING,
            actor=actor,
            event_type="order.assigned",
            pending=pending,
            data={"offerId": str(offer.pk), "installer": _installer_ref(installer)},
        )
        if changed > 1:
            pending.add(
                "offer.withdrawn",
                actor,
                data={"count": changed - 1, "reason": "accepted by another installer"},
                from_status=order.status,
                to_status=order.status,
            )
        finish_change(order, pending, ["installer"])
    offer.installer = installer
    return offer


def _lock_offer_and_order(installer: Organization, offer_id: Any) -> Offer:
    """The installer's offer with its order locked and loaded as `lock_order` loads it, in one
    query. Precondition: inside `transaction.atomic()`. 404 for another installer's offer."""
    from orders.selectors import EXTRA_SELECT_RELATED, relation_annotations, relations_from

    pk = parse_uuid(offer_id)
    offer = None
    if pk is not None:
        related = ("workflow", "organization", "installer", *EXTRA_SELECT_RELATED)
        offer = (
            Offer.objects.select_for_update(of=("order",))
            .select_related(*(f"order__{name}" for name in related))
            .annotate(**relation_annotations())  # the order's tags and files, for the answer
            .filter(pk=pk, installer=installer)
            .first()
        )
    if offer is None:
        raise NotFound("Offer not found.")
    relations_from(offer, offer.order)
    return offer


def offer_decline(*, offer_id: Any, installer: Organization, actor: Actor, reason: str = "") -> Offer:
    """The installer says no; the next candidate gets an offer, or the order is declined."""
    offer = _offer_of(installer, offer_id)
    with transaction.atomic():
        order = lock_order(offer.order_id)
        now = timezone.now()
        if not _close_offer(offer, OfferStatus.DECLINED, now, decline_reason=(reason or "")[:300]):
            raise _not_open(offer)
        pending = PendingEvents(order)
        pending.add(
            "offer.declined",
            actor,
            data={"offerId": str(offer.pk), "installer": _installer_ref(installer), "reason": reason or None},
            from_status=order.status,
            to_status=order.status,
        )
        _fall_back(order, pending, Actor.system("dispatch fall-back"), now)
        finish_change(order, pending)
    offer.installer = installer
    offer.order = order
    return offer


def offer_expire(*, offer_id: Any, actor: Actor | None = None) -> Offer | None:
    """Expires an offer past its deadline and falls back to the next candidate.

    Idempotent and harmless when late or repeated: an offer that is no longer open, not yet due,
    or gone is left alone (returns it, or None)."""
    pk = parse_uuid(offer_id)
    offer = Offer.objects.select_related("installer").filter(pk=pk).first() if pk else None
    now = timezone.now()
    if offer is None or offer.status != OfferStatus.SENT or offer.expires_at is None or offer.expires_at > now:
        return offer
    actor = actor or Actor.system("offer expiry")
    with transaction.atomic():
        order = lock_order(offer.order_id)
        if not _close_offer(offer, OfferStatus.EXPIRED, now):
            return offer
        pending = PendingEvents(order)
        pending.add(
            "offer.expired",
            actor,
            data={"offerId": str(offer.pk), "installer": _installer_ref(offer.installer)},
            from_status=order.status,
            to_status=order.status,
        )
        _fall_back(order, pending, actor, now)
        finish_change(order, pending)
    return offer


def offers_expire_due(*, now: datetime.datetime | None = None, limit: int = 500) -> int:
    """The safety sweep: expires every open offer past its deadline. Returns how many."""
    now = now or timezone.now()
    ids = list(
        Offer.objects.filter(status=OfferStatus.SENT, expires_at__lte=now)
        .order_by("expires_at")
        .values_list("pk", flat=True)[:limit]
    )
    expired = 0
    for pk in ids:
        offer = offer_expire(offer_id=pk)
        if offer is not None and offer.status == OfferStatus.EXPIRED:
            expired += 1
    return expired


# --------------------------------------------------------------------------------------------
# Booking, start, complete
# --------------------------------------------------------------------------------------------


def _lock_for_party(order_id: Any, organization: Organization) -> Order:
    """Locks the order if the caller is its router or its assigned installer; 404 otherwise."""
    order = lock_order(order_id)
    if organization.pk not in (order.organization_id, order.installer_id):
        raise NotFound("Order not found.")
    return order


def _booking_of(order: Order) -> Booking | None:
    """The booking joined by `lock_order` (EXTRA_SELECT_RELATED), else read."""
    if Order.booking.related.is_cached(order):
        return Order.booking.related.get_cached_value(order)
    return selectors.booking_of(order)


def _forget_booking(order: Order) -> None:
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
        raise Conflict(
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
) -> Order:
    """Books (dispatching with an installer -> scheduled, `booking.created`) or reschedules
    (scheduled stays scheduled, `booking.updated`). Router or assigned installer only.
    409 without an installer, from other statuses, or when the installer is booked then."""
    if end_at <= start_at:
        raise BadRequest("endAt must be after startAt.", details={"endAt": ["Must be after startAt."]})
    with transaction.atomic():
        order = _lock_for_party(order_id, organization)
        if order.status == OrderStatus.DISPATCHING and order.installer_id is None:
            raise InvalidTransition("The order has no installer yet: an installer must accept an offer first.")
        if order.status not in (OrderStatus.DISPATCHING, OrderStatus.SCHEDULED):
            raise InvalidTransition(f"An order in status '{order.status_name}' cannot be booked.")
        booking = _booking_of(order)
        previous = _booking_data(booking) if booking else None
        if booking is None:
            booking = Booking(order=order, installer_id=order.installer_id)
        booking.installer_id = order.installer_id
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
                raise Conflict("The installer already has a booking at that time.") from None
            raise
        finish_change(order, pending)
    order.booking = booking
    return order


def order_unbook(*, order_id: Any, organization: Organization, actor: Actor) -> Order:
    """scheduled -> dispatching: removes the booking (`booking.cancelled`); the installer stays."""
    with transaction.atomic():
        order = _lock_for_party(order_id, organization)
        if order.status != OrderStatus.SCHEDULED:
            raise InvalidTransition(f"An order in status '{order.status_name}' has no booking to remove.")
        booking = _booking_of(order)
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
            _forget_booking(order)
        finish_change(order, pending)
    return order


def order_start(*, order_id: Any, organization: Organization, actor: Actor) -> Order:
    """scheduled -> in_progress (`order.started`). Router or assigned installer only."""
    with transaction.atomic():
        order = _lock_for_party(order_id, organization)
        if order.status != OrderStatus.SCHEDULED:
            raise InvalidTransition(f"An order in status '{order.status_name}' cannot be started; book it first.")
        pending = PendingEvents(order)
        transition(order, OrderStatus.IN_PROGRESS, actor=actor, event_type="order.started", pending=pending)
        finish_change(order, pending)
    return order


def order_complete(
    *,
    order_id: Any,
    organization: Organization,
    actor: Actor,
    comment: str = "",
    file_ids: Sequence[Any] = (),
) -> Order:
    """in_progress -> completed (`order.completed`), once every required step of in_progress is
    done (409 naming the step). `file_ids` (the caller's uploads) are attached to the order."""
    with transaction.atomic():
        order = _lock_for_party(order_id, organization)
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
        finish_change(order, pending)
    return order


# --------------------------------------------------------------------------------------------
# Hooks into orders
# --------------------------------------------------------------------------------------------


def on_order_cancel(*, order: Order, actor: Actor, pending: PendingEvents) -> None:
    """CANCEL_HOOKS entry, inside order_cancel's transaction with the order locked: withdraws open
    offers and removes the booking (`booking.cancelled`)."""
    # Open offers exist only while an order is dispatching; a booking only when one was joined
    # by lock_order (or, not joined, when the delete finds one).
    cancelled_from = next((e.from_status for e in pending.events if e.type == "order.cancelled"), None)
    if cancelled_from in (None, OrderStatus.DISPATCHING):
        _withdraw_open_offers(order, pending, actor, reason="order cancelled")
    if Order.booking.related.is_cached(order) and Order.booking.related.get_cached_value(order) is None:
        deleted = 0
    else:
        deleted, _ = Booking.objects.filter(order=order).delete()
        _forget_booking(order)
    if deleted:
        pending.add("booking.cancelled", actor, data={"reason": "order cancelled"}, to_status=order.status)


def on_order_created(sender, *, order_id: Any, organization_id: Any, **kwargs) -> None:
    """`orders.signals.order_created` receiver (sent after the create committed): auto-dispatch
    when the routing settings say so. Runs in its own transaction; whatever goes wrong here is
    logged and never reaches the caller that created the order."""
    try:
        created = kwargs.get("order")
        if created is not None and not strategies.routing_for(created).auto_dispatch:
            return  # decided from the instance the create wrote: no query on the hot path
        order = Order.objects.select_related("workflow", "organization").filter(pk=order_id).first()
        if order is None or order.status != OrderStatus.CREATED or not strategies.routing_for(order).auto_dispatch:
            return
        if strategies.routing_for(order).strategy == RoutingStrategy.MANUAL and order.installer_id is None:
            return
        order_dispatch(order_id=order.pk, organization=order.organization, actor=Actor.system("auto-dispatch"))
    except (Conflict, Unprocessable, BadRequest, NotFound) as exc:
        logger.info("auto-dispatch of order %s did not send offers: %s", order_id, exc)
    except Exception:
        logger.exception("auto-dispatch of order %s failed", order_id)
