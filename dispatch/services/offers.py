"""Offers: deadlines, sending, withdrawing, falling back to the next candidate, and the
installer's answers (accept, decline) and expiry.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import transaction
from django.db.models import Case, Exists, Value, When
from django.utils import timezone

from accounts.models import Organization, RoutingStrategy
from dispatch import selectors, strategies
from dispatch.exceptions import (
    Conflict,
    NotFound,
    OfferNotOpen,
)
from dispatch.models import DispatchRun, Offer, OfferStatus
from installer.tasks import enqueues_in_transaction, run_after_for, schedule_once
from orders.actors import Actor
from orders.models import Order, OrderStatus
from orders.selectors import parse_uuid
from orders.services import PendingEvents, finish_change, lock_order, transition

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


def offers_schedule_expiry(offers: Sequence[Offer]) -> None:
    """One expiry task per offer for its deadline (`installer.tasks.run_after_for`). With the database task
    backend on the orders' database, enqueued now: the task row commits with the offer or not
    at all. With any other backend (a broker), after commit: a rolled-back offer must not leave
    a task behind, and a task lost after commit is caught by the sweep (`offers_expire_due`)."""
    due = [(str(o.pk), run_after_for(o.expires_at)) for o in offers if o.expires_at is not None]
    if not due:
        return
    from dispatch.tasks import expire_offer

    def enqueue() -> None:
        for offer_id, run_after in due:
            try:
                expire_offer.using(run_after=run_after).enqueue(offer_id)
            except Exception:  # the sweep catches it later
                logger.exception("could not enqueue the expiry of offer %s", offer_id)

    if enqueues_in_transaction(expire_offer, Offer):
        for offer_id, run_after in due:
            expire_offer.using(run_after=run_after).enqueue(offer_id)
        return
    transaction.on_commit(enqueue)


def send_offers(
    order: Order,
    run: DispatchRun,
    ranked: Sequence[strategies.Candidate],
    routing: strategies.Routing,
    pending: PendingEvents,
    actor: Actor,
    now: datetime.datetime,
) -> list[Offer]:
    """One offer per candidate (one `bulk_create`) with its timeline event. Caller holds the
    lock, and the run is saved."""
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
    Offer.objects.bulk_create(offers)
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
    offers_schedule_expiry(offers)
    return offers


def expire_due_offers(order: Order, pending: PendingEvents, now: datetime.datetime) -> list[Offer]:
    """Expires every open offer of the locked order whose deadline has passed, with one
    `offer.expired` event each, whether or not the expiry task has run: past its deadline an
    offer is expired for every action. Returns the offers it expired. Caller holds the order
    lock; falling back to the next candidate is the caller's business (`fall_back`)."""
    due = list(
        Offer.objects.filter(order=order, status=OfferStatus.SENT, expires_at__lte=now)
        .select_related("installer")
        .order_by("expires_at", "rank", "id")
    )
    if not due:
        return []
    Offer.objects.filter(pk__in=[o.pk for o in due], status=OfferStatus.SENT).update(
        status=OfferStatus.EXPIRED, responded_at=now
    )
    actor = Actor.system("offer expiry")
    for offer in due:
        offer.status, offer.responded_at = OfferStatus.EXPIRED, now
        pending.add(
            "offer.expired",
            actor,
            data={"offerId": str(offer.pk), "installer": _installer_ref(offer.installer)},
            from_status=order.status,
            to_status=order.status,
        )
    return due


def withdraw_open_offers(order: Order, pending: PendingEvents, actor: Actor, *, reason: str, now=None) -> int:
    """Withdraws every open offer of the locked order with one UPDATE and one event. An open
    offer already past its deadline is expired instead (`expire_due_offers`): past its deadline an
    offer is expired for every action, a cancel or a re-dispatch included."""
    now = now or timezone.now()
    expire_due_offers(order, pending, now)
    count = Offer.objects.filter(order=order, status=OfferStatus.SENT).update(
        status=OfferStatus.WITHDRAWN, responded_at=now
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


def fall_back(order: Order, pending: PendingEvents, actor: Actor, now: datetime.datetime) -> list[Offer]:
    """After a decline or expiry: offer the next candidates of the latest dispatch so that its
    `offers_at_once` stay open; when none is open and nobody is left, the order is declined.
    Caller holds the order lock and has already closed the answered offer. Other offers past
    their deadline are expired first, so they do not count as open."""
    if order.status != OrderStatus.DISPATCHING or order.installer_id is not None:
        return []
    expire_due_offers(order, pending, now)
    open_count = Offer.objects.filter(order=order, status=OfferStatus.SENT).count()
    routing = strategies.routing_for(order)
    run = selectors.latest_run(order.pk)
    sent: list[Offer] = []
    if run is not None and run.strategy != RoutingStrategy.MANUAL and routing.fallback:
        need = run.offers_at_once - open_count
        if need > 0:
            offered = dict(Offer.objects.filter(dispatch_run=run).values_list("installer_id", "status"))
            candidates = selectors.dispatch_candidates(order, excluded=offered)
            ranked = strategies.rank(run.strategy, candidates)
            sent = send_offers(order, run, ranked[:need], routing, pending, actor, now)
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
# Answering offers
# --------------------------------------------------------------------------------------------


def _offer_of(installer: Organization, offer_id: Any) -> Offer:
    offer = selectors.offer_for_installer(installer, offer_id)
    if offer is None:
        raise NotFound("Offer not found.")
    return offer


def _not_open(offer: Offer) -> OfferNotOpen:
    current = Offer.objects.filter(pk=offer.pk).values_list("status", flat=True).first() or offer.status
    return OfferNotOpen(f"The offer is {current}; only a sent offer can be answered.", extra={"offerStatus": current})


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
    finds its offer withdrawn (409). The partial unique index on accepted offers backs this up.
    An offer past its deadline is expired by this call, even if the expiry task has not run yet
    (`offer.expired`, the next candidate gets an offer, committed), and the answer is 409.
    """
    with transaction.atomic():
        offer = _lock_offer_and_order(installer, offer_id)
        order = offer.order
        now = timezone.now()
        pending = PendingEvents(order)
        if _expired_now(offer, order, pending, now):
            expired = _expired_error()
        else:
            expired = None
            _accept_locked(offer, order, installer, actor, pending, now)
    if expired is not None:
        raise expired
    offer.installer = installer
    return offer


def _expired_error() -> OfferNotOpen:
    return OfferNotOpen("The offer has expired.", extra={"offerStatus": OfferStatus.EXPIRED})


def _expired_now(offer: Offer, order: Order, pending: PendingEvents, now: datetime.datetime) -> bool:
    """Expires the locked order's offers that are past their deadline; when `offer` is one of
    them, falls back to the next candidate and saves the change (the caller commits it and
    answers 409). True if `offer` has expired; no query while `offer` is before its deadline."""
    if offer.expires_at is None or offer.expires_at > now:
        return False
    expired = expire_due_offers(order, pending, now)
    if offer.pk not in {o.pk for o in expired}:
        return False
    offer.status, offer.responded_at = OfferStatus.EXPIRED, now
    fall_back(order, pending, Actor.system("offer expiry"), now)
    finish_change(order, pending)
    return True


def _accept_locked(
    offer: Offer, order: Order, installer: Organization, actor: Actor, pending: PendingEvents, now: datetime.datetime
) -> None:
    if order.status != OrderStatus.DISPATCHING or order.installer_id is not None:
        error: Conflict = _not_open(offer)
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


def _lock_offer_and_order(installer: Organization, offer_id: Any) -> Offer:
    """The installer's offer with its order locked and loaded as `lock_order` loads it, in one
    query. Precondition: inside `transaction.atomic()`. NotFound for another installer's offer."""
    pk = parse_uuid(offer_id)
    offer = None
    if pk is not None:
        related = ("workflow", "organization", "installer", "booking")
        offer = (
            Offer.objects.select_for_update(of=("order",))
            .select_related(*(f"order__{name}" for name in related))
            .filter(pk=pk, installer=installer, order__deleted_at__isnull=True)
            .first()
        )
    if offer is None:
        raise NotFound("Offer not found.")
    return offer


def offer_decline(*, offer_id: Any, installer: Organization, actor: Actor, reason: str = "") -> Offer:
    """The installer says no; the next candidate gets an offer, or the order is declined. An
    offer past its deadline is expired instead, as `offer_accept` does, and the answer is 409."""
    offer = _offer_of(installer, offer_id)
    with transaction.atomic():
        order = lock_order(offer.order_id)
        now = timezone.now()
        pending = PendingEvents(order)
        if _expired_now(offer, order, pending, now):
            expired: OfferNotOpen | None = _expired_error()
        else:
            expired = None
            _decline_locked(offer, order, installer, actor, pending, now, reason)
    if expired is not None:
        raise expired
    offer.installer = installer
    offer.order = order
    return offer


def _decline_locked(
    offer: Offer,
    order: Order,
    installer: Organization,
    actor: Actor,
    pending: PendingEvents,
    now: datetime.datetime,
    reason: str,
) -> None:
    if not _close_offer(offer, OfferStatus.DECLINED, now, decline_reason=(reason or "")[:300]):
        raise _not_open(offer)
    pending.add(
        "offer.declined",
        actor,
        data={"offerId": str(offer.pk), "installer": _installer_ref(installer), "reason": reason or None},
        from_status=order.status,
        to_status=order.status,
    )
    fall_back(order, pending, Actor.system("dispatch fall-back"), now)
    finish_change(order, pending)


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
        fall_back(order, pending, actor, now)
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


def offers_sweep_schedule() -> bool:
    """Queues the periodic expiry sweep (`dispatch.tasks.sweep`, every
    OFFER_SWEEP_INTERVAL_SECONDS) unless one is waiting. With the database task backend an
    offer's expiry task commits with the offer; with a broker (RQ on Redis) it is queued after
    commit and could be lost (Redis restarted without persistence): the sweep expires such
    offers late rather than never."""
    from dispatch import tasks

    run_after = timezone.now() + datetime.timedelta(seconds=settings.OFFER_SWEEP_INTERVAL_SECONDS)
    return schedule_once(tasks.sweep, run_after=run_after)


def sweep_on_worker_start(**kwargs: Any) -> None:
    """Receiver of `installer.tasks.worker_started`: one expiry pass and the periodic sweep."""
    offers_expire_due()
    offers_sweep_schedule()
