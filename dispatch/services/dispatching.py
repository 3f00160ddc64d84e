"""Dispatch: sending an order's offers to the candidates its routing strategy ranks."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts import services as account_services
from accounts.models import Organization, RoutingStrategy
from dispatch import selectors, strategies
from dispatch.exceptions import (
    InvalidInput,
    NoInstallerCovers,
)
from dispatch.models import DispatchRun
from dispatch.services.assignment import record_assignee_change
from dispatch.services.offers import send_offers, withdraw_open_offers
from orders.actors import Actor
from orders.exceptions import InvalidTransition
from orders.models import Order, OrderStatus
from orders.services import PendingEvents, finish_change, lock_order, transition

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
    re-dispatch withdraws the open offers first and clears the assignee (`order.assignee_changed`,
    same transaction). An order pre-assigned at create
    (`actorAssignments`) moves to dispatching with its installer and no offers.
    Raises InvalidTransition (409) from other statuses, Unprocessable (422) when no installer
    covers the order (nothing changes), InvalidInput (400) for an unknown installer or a `manual`
    strategy without `installer_id`. A test order goes to the router's test installer only
    (made here on first use); naming a real partner for it is InvalidInput.
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
            order.offer_list = []  # type: ignore[attr-defined]  # a created order has no offers
            return order
        if order.test:
            account_services.test_installer_ensure(router=order.organization)
        strategy, routing, ranked, candidates = selectors.dispatch_plan(order, installer_id=installer_id)
        if strategy == RoutingStrategy.MANUAL and not ranked:
            raise InvalidInput(
                "installerId: the manual routing strategy needs the installer to dispatch to.",
                details={"installerId": ["Required by the manual routing strategy."]},
            )
        if not ranked:
            raise NoInstallerCovers(
                f"No installer partner covers this order ({order.country_code} {order.postal_code}).",
                extra={"candidates": strategies.explanation(candidates)},
            )
        at_once = 1 if strategy == RoutingStrategy.MANUAL else routing.offers_at_once
        if order.status == OrderStatus.DISPATCHING:
            withdraw_open_offers(order, pending, actor, reason="redispatched", now=now)
        # Offers go out: whoever the installer had put on the job no longer has it.
        assignee_cleared = record_assignee_change(order, None, pending, actor)
        run = DispatchRun.objects.create(
            order=order,
            strategy=strategy,
            offers_at_once=at_once,
            actor_label=actor.label[:200],
            candidates=strategies.explanation(candidates),
        )
        first_dispatch = order.status == OrderStatus.CREATED  # before transition() below
        transition(
            order,
            OrderStatus.DISPATCHING,
            actor=actor,
            event_type="order.dispatched",
            pending=pending,
            data={"strategy": strategy, "offersAtOnce": at_once, "dispatchRunId": str(run.pk)},
        )
        sent = send_offers(order, run, ranked[:at_once], routing, pending, actor, now)
        finish_change(order, pending, ["assignee"] if assignee_cleared else ())
    if first_dispatch:
        # Offers exist only from a dispatch on: a created order's offers are the ones just sent.
        order.offer_list = sent  # type: ignore[attr-defined]
    return order
