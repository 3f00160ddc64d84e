"""Pricing fixtures: router A with products, an order assigned to an installer partner (whose
token is `installer_client`), and helpers to write quotes through the services."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from dispatch import services as dispatch_services
from dispatch.models import Offer
from dispatch.tests.conftest import make_partner
from orders.actors import Actor
from orders.models import Order
from orders.tests.factories import create_order
from pricing import services
from pricing.models import Product

SYSTEM = Actor.system("test")


def assign(order: Order, installer) -> Order:
    """Dispatches the order to `installer` (made a partner of the order's router) and accepts."""
    if not installer.router_partnerships.filter(router=order.organization).exists():
        make_partner(order.organization, installer)
    dispatch_services.order_dispatch(order_id=order.pk, organization=order.organization, actor=SYSTEM)
    offer = Offer.objects.get(order=order, installer=installer)
    dispatch_services.offer_accept(offer_id=offer.pk, installer=installer, actor=SYSTEM)
    return Order.objects.get(pk=order.pk)


@pytest.fixture
def order(org_a):
    return create_order(org_a)


@pytest.fixture
def assigned(org_a, installer_org):
    return assign(create_order(org_a), installer_org)


@pytest.fixture
def charger(org_a):
    return Product.objects.create(
        organization=org_a,
        name="Charger 11 kW",
        unit="piece",
        unit_amount=1299000,
        payout_percent=D("60"),
        shared_with_partners=True,
        external_id="CH-11",
    )


@pytest.fixture
def cable(org_a):
    return Product.objects.create(organization=org_a, name="Cable", unit="metre", unit_amount=15000, payout_amount=5000)


def router_author(org) -> services.Author:
    return services.Author(organization=org, actor=Actor.system("operator"))


def make_quote(order, *, lines=None, send=False, author=None, **data):
    """A quote on the order through the services (by the router unless `author`)."""
    author = author or router_author(order.organization)
    lines = (
        lines
        if lines is not None
        else [
            {"description": "Installation", "unit": "hour", "quantity": D("3"), "unit_amount": 90000},
            {"description": "Extra socket", "quantity": D("1"), "unit_amount": 40000, "optional": True},
        ]
    )
    quote = services.quote_create(order_id=order.pk, author=author, data={"lines": lines, **data})
    if send:
        quote = services.quote_act(quote_id=quote.pk, action="send", author=author)
    return quote
