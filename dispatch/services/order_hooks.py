"""What dispatch does when orders tells it something (orders.hooks, orders.signals)."""

from __future__ import annotations

import logging
from typing import Any

from accounts.models import RoutingStrategy
from dispatch import strategies
from dispatch.exceptions import (
    Conflict,
    InvalidInput,
    NotFound,
    Unprocessable,
)
from dispatch.models import Booking
from dispatch.services.booking import forget_booking
from dispatch.services.offers import withdraw_open_offers
from orders.actors import Actor
from orders.models import Order, OrderStatus
from orders.services import PendingEvents

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------------------------
# Hooks into orders
# --------------------------------------------------------------------------------------------


def on_order_cancel(*, order: Order, actor: Actor, pending: PendingEvents) -> None:
    """`orders.hooks.order_cancelling`, inside order_cancel's transaction with the order locked: withdraws open
    offers and removes the booking (`booking.cancelled`)."""
    # Open offers exist only while an order is dispatching; the booking was joined by lock_order
    # (`order_reads`), or, not joined, the delete finds it.
    cancelled_from = next((e.from_status for e in pending.events if e.type == "order.cancelled"), None)
    if cancelled_from in (None, OrderStatus.DISPATCHING):
        withdraw_open_offers(order, pending, actor, reason="order cancelled")
    if Order.booking.related.is_cached(order) and Order.booking.related.get_cached_value(order) is None:
        deleted = 0
    else:
        deleted, _ = Booking.objects.filter(order=order).delete()
        forget_booking(order)
    if deleted:
        pending.add("booking.cancelled", actor, data={"reason": "order cancelled"}, to_status=order.status)


def on_order_delete(*, order: Order, actor: Actor, pending: PendingEvents) -> None:
    """`orders.hooks.order_deleting`, inside order_delete's transaction with the order locked:
    withdraws open offers and removes the booking (`booking.cancelled`), so that no installer
    is left holding an offer for, or a booking of, an order that no longer exists."""
    withdraw_open_offers(order, pending, actor, reason="order deleted")
    deleted, _ = Booking.objects.filter(order=order).delete()
    forget_booking(order)
    if deleted:
        pending.add("booking.cancelled", actor, data={"reason": "order deleted"}, to_status=order.status)


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
        from dispatch import services  # the public verb, as every caller sees it

        services.order_dispatch(order_id=order.pk, organization=order.organization, actor=Actor.system("auto-dispatch"))
    except (Conflict, Unprocessable, InvalidInput, NotFound) as exc:
        logger.info("auto-dispatch of order %s did not send offers: %s", order_id, exc)
    except Exception:
        logger.exception("auto-dispatch of order %s failed", order_id)
