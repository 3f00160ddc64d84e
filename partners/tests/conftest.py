"""Partner workspace fixtures: a router, an installer company (Europe/Oslo) that partners with it,
its admin signed in through the Django test client, and orders walked through the API's
services to an open offer, an assigned job or a booking."""

from __future__ import annotations

import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import Role
from dispatch import services as dispatch_services
from dispatch.models import Offer
from dispatch.tests.conftest import Clock, make_partner
from orders.actors import Actor
from orders.tests.factories import MembershipFactory, OrganizationFactory, UserFactory, create_order

PASSWORD = "correct horse battery staple"
OSLO = ZoneInfo("Europe/Oslo")


@pytest.fixture
def clock(monkeypatch):
    return Clock(monkeypatch)


@pytest.fixture
def router(db):
    return OrganizationFactory(name="Alpha Energy", slug="alpha", display_id_prefix="A", time_zone="Europe/Oslo")


def make_company(router, name: str):
    installer = OrganizationFactory(
        name=name, slug=name.lower().replace(" ", "-"), is_installer=True, time_zone="Europe/Oslo"
    )
    make_partner(router, installer, skills=["ev-charger"])
    return installer


@pytest.fixture
def company(router):
    return make_company(router, "Fix It")


@pytest.fixture
def rival(router):
    return make_company(router, "Rival Elektro")


def member(organization, username: str, role: str = Role.ADMIN):
    user: Any = UserFactory(username=username, is_staff=False)
    user.set_password(PASSWORD)
    user.save()
    MembershipFactory(user=user, organization=organization, role=role)
    return user


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def partner_user(company):
    return member(company, "fixit-admin")


@pytest.fixture
def partner(partner_user) -> Client:
    return signed_in(partner_user)


def offered(router, installer, **data) -> tuple:
    """A new order of the router with an open offer to `installer` (manual dispatch)."""
    order = create_order(router, **data)
    dispatch_services.order_dispatch(
        order_id=order.pk, organization=router, actor=Actor.system("test"), installer_id=installer.pk
    )
    offer = Offer.objects.get(order=order, installer=installer)
    order.refresh_from_db()
    return order, offer


def assigned(router, installer, **data):
    order, offer = offered(router, installer, **data)
    dispatch_services.offer_accept(offer_id=offer.pk, installer=installer, actor=Actor.system("test"))
    order.refresh_from_db()
    return order


def booked(router, installer, start: datetime.datetime | None = None, **data):
    order = assigned(router, installer, **data)
    start = start or timezone.now().astimezone(OSLO).replace(hour=9, minute=0, second=0, microsecond=0)
    dispatch_services.order_book(
        order_id=order.pk,
        organization=installer,
        actor=Actor.system("test"),
        start_at=start,
        end_at=start + datetime.timedelta(hours=2),
    )
    order.refresh_from_db()
    return order


def started(router, installer, **data):
    order = booked(router, installer, **data)
    dispatch_services.order_start(order_id=order.pk, organization=installer, actor=Actor.system("test"))
    order.refresh_from_db()
    return order
