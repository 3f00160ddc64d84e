"""Every dispatch write: dispatch, offers (send, accept, decline, expire, withdraw), booking,
start and complete.

Each verb runs in its own transaction on the order's row lock (`orders.services.lock_order`),
moves the order with `orders.services.transition` and writes its timeline events with
`PendingEvents` / `finish_change`, and its own rows (runs, offers, bookings) with `save()`,
`bulk_create` and `update()` under that lock. Offer rows change only while their order is
locked, so the order lock serializes every decision about one order: two accepts never both
win, an expiry racing an accept loses cleanly. Offer expiry tasks are enqueued in the change's
transaction with the database task backend, after commit with any other.

Modules: `offers` (deadlines, sending, answers, expiry), `dispatching`, `booking` (book,
unbook, start, complete), `assignment` (the job's assignee), `order_hooks` (what dispatch does when orders calls on it).
"""

from dispatch.services.assignment import order_assign
from dispatch.services.booking import STARTED_BEFORE_BOOKING, order_book, order_complete, order_start, order_unbook
from dispatch.services.dispatching import order_dispatch
from dispatch.services.offers import (
    offer_accept,
    offer_deadline,
    offer_decline,
    offer_expire,
    offers_expire_due,
    offers_schedule_expiry,
    offers_sweep_schedule,
    sweep_on_worker_start,
)
from dispatch.services.order_hooks import on_order_cancel, on_order_created, on_order_delete

__all__ = [
    "STARTED_BEFORE_BOOKING",
    "offer_accept",
    "offer_deadline",
    "offer_decline",
    "offer_expire",
    "offers_expire_due",
    "offers_schedule_expiry",
    "offers_sweep_schedule",
    "sweep_on_worker_start",
    "on_order_cancel",
    "on_order_created",
    "on_order_delete",
    "order_assign",
    "order_book",
    "order_complete",
    "order_dispatch",
    "order_start",
    "order_unbook",
]
