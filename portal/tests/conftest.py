"""Portal fixtures: a router in Oslo's zone, an installer partner in the same zone, and orders
at each point of their life (created, assigned, booked, finished)."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache

from dispatch import services as dispatch_services
from dispatch.models import Offer
from dispatch.tests.conftest import make_installer, make_partner
from orders.actors import Actor
from orders.models import Order, StepActor, WorkflowStep
from orders.tests.factories import create_order

OSLO = ZoneInfo("Europe/Oslo")
SYSTEM = Actor.system("test")


@pytest.fixture(autouse=True)
def _fresh_rate_limit():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def router(org_a):
    org_a.time_zone = "Europe/Oslo"
    org_a.save(update_fields=["time_zone"])
    return org_a


@pytest.fixture
def installer(db):
    return make_installer("Fjord Elektro", time_zone="Europe/Oslo", phone_number="+4791234567")


def let_customer_book(order: Order) -> WorkflowStep:
    """Makes the workflow's `appointment` step (scheduled) the customer's: the customer books."""
    WorkflowStep.objects.filter(workflow=order.workflow_id, key="appointment").update(actor=StepActor.CUSTOMER)
    return WorkflowStep.objects.get(workflow=order.workflow_id, key="appointment")


def assign(order: Order, router, installer) -> Order:
    make_partner(router, installer) if not installer.router_partnerships.filter(router=router).exists() else None
    dispatch_services.order_dispatch(order_id=order.pk, organization=router, actor=SYSTEM)
    offer = Offer.objects.get(order=order, installer=installer)
    dispatch_services.offer_accept(offer_id=offer.pk, installer=installer, actor=SYSTEM)
    return Order.objects.get(pk=order.pk)


def next_weekday(at: datetime.time, *, weekday: int = 1, weeks: int = 1) -> datetime.datetime:
    """A future weekday (default Tuesday) at `at` Oslo time, as an aware datetime."""
    today = datetime.datetime.now(OSLO).date()
    day = today + datetime.timedelta(days=(weekday - today.weekday()) % 7 + 7 * (weeks - 1))
    if day <= today:
        day += datetime.timedelta(days=7)
    return datetime.datetime.combine(day, at, tzinfo=OSLO)


@pytest.fixture
def assigned(router, installer):
    """An order with an installer, not booked, whose workflow lets the customer book."""
    order = create_order(router, contact_person_name="Kari Nordmann", address="Storgata 1")
    let_customer_book(order)
    return assign(order, router, installer)


def book(order: Order, start: datetime.datetime, hours: int = 2) -> Order:
    return dispatch_services.order_book(
        order_id=order.pk,
        organization=order.organization,
        actor=SYSTEM,
        start_at=start,
        end_at=start + datetime.timedelta(hours=hours),
    )
